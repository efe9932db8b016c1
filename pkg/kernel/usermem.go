package kernel

import (
	"bytes"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Guest memory access for system calls. Every guest pointer is checked
// against the process's mappings first, so a bad pointer is EFAULT, never a
// host error.

// copyIn reads len(b) bytes at addr.
func (p *Process) copyIn(addr uint64, b []byte) error {
	if !p.as.check(addr, uint64(len(b)), cpu.ProtRead) {
		return linux.EFAULT
	}
	if err := p.eng.ReadMem(addr, b); err != nil {
		return linux.EFAULT
	}
	return nil
}

// copyOut writes b at addr.
func (p *Process) copyOut(addr uint64, b []byte) error {
	if !p.as.check(addr, uint64(len(b)), cpu.ProtWrite) {
		return linux.EFAULT
	}
	if err := p.eng.WriteMem(addr, b); err != nil {
		return linux.EFAULT
	}
	return nil
}

// readString reads a NUL-terminated string of at most max bytes
// (ENAMETOOLONG beyond).
func (p *Process) readString(addr uint64, max int) (string, error) {
	var out []byte
	var chunk [256]byte
	for len(out) <= max {
		// Read up to the end of the page so a string ending just before
		// an unmapped page is fine.
		n := pageSize - int(addr%pageSize)
		if n > len(chunk) {
			n = len(chunk)
		}
		if err := p.copyIn(addr, chunk[:n]); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(chunk[:n], 0); i >= 0 {
			out = append(out, chunk[:i]...)
			if len(out) > max {
				break
			}
			return string(out), nil
		}
		out = append(out, chunk[:n]...)
		addr += uint64(n)
	}
	return "", linux.ENAMETOOLONG
}

// readPath reads a path argument (PATH_MAX including the NUL).
func (p *Process) readPath(addr uint64) (string, error) {
	s, err := p.readString(addr, linux.PATH_MAX-1)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", linux.ENOENT
	}
	return s, nil
}
