package kernel

import (
	"bytes"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// Guest memory access for system calls. Every guest pointer goes through
// the address space's page table, faulting pages in as the CPU would, so a
// bad pointer is EFAULT, never a host error, and a write to a
// copy-on-write page copies it first.

// copyIn reads len(b) bytes at addr.
func (p *Process) copyIn(addr uint64, b []byte) error {
	return p.as.access(addr, b, cpu.AccessRead)
}

// copyOut writes b at addr.
func (p *Process) copyOut(addr uint64, b []byte) error {
	return p.as.access(addr, b, cpu.AccessWrite)
}

// pokeText writes b at addr as the kernel does into code (the signal
// trampoline, a debugger's breakpoint): the mapping's permissions are not
// checked, and a private page gets its own copy.
func (p *Process) pokeText(addr uint64, b []byte) error {
	as := p.as
	for len(b) > 0 {
		v := as.find(addr)
		if v == nil {
			return linux.EFAULT
		}
		page := pageDown(addr)
		pte := as.pt.Lookup(page)
		if pte&cpu.PTEValid == 0 {
			if r := as.populate(v, page, false); r.sig != 0 {
				return linux.EFAULT
			}
			pte = as.pt.Lookup(page)
		}
		f := cpu.PTEFrame(pte)
		if !v.shared() && !as.ownsPage(pte) {
			c, err := as.m.allocFrame(mem.Anon, f)
			if err != nil {
				return linux.ENOMEM
			}
			as.unrefPTE(pte)
			if err := as.setPTE(page, c, cpu.PTEProt(pte)); err != nil {
				return linux.ENOMEM
			}
			as.m.flushTLB(as)
			f = c
		}
		off := int(addr - page)
		n := min(len(b), pageSize-off)
		as.ram.Write(f, off, b[:n])
		addr += uint64(n)
		b = b[n:]
	}
	return nil
}

// access copies between b and guest memory at addr (a read or a write of
// the guest's memory), page by page.
func (as *addressSpace) access(addr uint64, b []byte, acc cpu.Access) error {
	if uint64(len(b)) > maxUserAddr || addr+uint64(len(b)) < addr || addr+uint64(len(b)) > maxUserAddr {
		return linux.EFAULT
	}
	for len(b) > 0 {
		f, err := as.pageFor(addr, acc)
		if err != nil {
			return err
		}
		off := int(addr & (pageSize - 1))
		n := min(len(b), pageSize-off)
		if acc == cpu.AccessWrite {
			as.ram.Write(f, off, b[:n])
		} else {
			copy(b[:n], as.ram.Page(f)[off:])
		}
		addr += uint64(n)
		b = b[n:]
	}
	return nil
}

// readString reads a NUL-terminated string of at most max bytes
// (ENAMETOOLONG beyond).
func (p *Process) readString(addr uint64, max int) (string, error) {
	var out []byte
	for len(out) <= max {
		f, err := p.as.pageFor(addr, cpu.AccessRead)
		if err != nil {
			return "", err
		}
		off := int(addr & (pageSize - 1))
		chunk := p.as.ram.Page(f)[off:]
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			out = append(out, chunk[:i]...)
			if len(out) > max {
				break
			}
			return string(out), nil
		}
		out = append(out, chunk...)
		addr += uint64(len(chunk))
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
