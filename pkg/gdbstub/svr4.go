package gdbstub

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// memReader reads process memory (Target.ReadMemory).
type memReader interface {
	ReadMemory(pid int, addr uint64, buf []byte) (int, error)
}

// Bounds for walking guest data structures.
const (
	maxPhdrs      = 256
	maxDynEntries = 4096
	maxLinkMaps   = 1024
	maxPathLen    = 4096
)

// librariesSVR4 returns the qXfer:libraries-svr4 document of a process: the
// dynamic linker's list of loaded objects (struct link_map), found through
// the program's PT_DYNAMIC DT_DEBUG entry (struct r_debug), as gdbserver
// does. A static program, or a dynamic one before the dynamic linker has
// set DT_DEBUG, has an empty list. The annex may name "start" and "prev"
// link maps to continue an earlier read.
func librariesSVR4(pid int, mem memReader, auxv []byte, annex string) ([]byte, error) {
	var start, prev uint64
	for _, kv := range strings.Split(annex, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		n, err := parseHex(v)
		if err != nil {
			return nil, fmt.Errorf("libraries-svr4 annex: %w", err)
		}
		switch k {
		case "start":
			start = n
		case "prev":
			prev = n
		}
	}
	r := svr4Reader{pid: pid, mem: mem}
	// Walking from r_map, the first entry is the program itself.
	first := start == 0
	if start == 0 {
		rdebug, err := r.rDebug(auxv)
		if err != nil {
			return nil, err
		}
		if rdebug != 0 {
			if start, err = r.u64(rdebug + 8); err != nil { // r_map
				return nil, err
			}
		}
	}
	var b strings.Builder
	b.WriteString("<library-list-svr4 version=\"1.0\"")
	if start == 0 {
		b.WriteString("/>\n")
		return []byte(b.String()), nil
	}
	seen := map[uint64]bool{}
	opened := false
	for lm, n := start, 0; lm != 0 && n < maxLinkMaps && !seen[lm]; n++ {
		seen[lm] = true
		var ent [40]byte // l_addr, l_name, l_ld, l_next, l_prev
		if err := r.read(lm, ent[:]); err != nil {
			return nil, err
		}
		lAddr := binary.LittleEndian.Uint64(ent[0:])
		lName := binary.LittleEndian.Uint64(ent[8:])
		lLd := binary.LittleEndian.Uint64(ent[16:])
		lNext := binary.LittleEndian.Uint64(ent[24:])
		lPrev := binary.LittleEndian.Uint64(ent[32:])
		if lPrev != prev {
			break // a list being changed, or not a list
		}
		if first && n == 0 {
			// The first entry is the program itself.
			fmt.Fprintf(&b, " main-lm=\"%#x\">\n", lm)
			opened = true
		} else {
			if !opened {
				b.WriteString(">\n")
				opened = true
			}
			name, err := r.cString(lName)
			if err != nil {
				return nil, err
			}
			if name != "" {
				// lmid: the default namespace (gdb 13 requires the attribute).
				fmt.Fprintf(&b, "<library name=\"%s\" lm=\"%#x\" l_addr=\"%#x\" l_ld=\"%#x\" lmid=\"0x0\"/>\n",
					xmlEscape(name), lm, lAddr, lLd)
			}
		}
		prev, lm = lm, lNext
	}
	if !opened {
		b.WriteString(">\n")
	}
	b.WriteString("</library-list-svr4>\n")
	return []byte(b.String()), nil
}

// svr4Reader reads the dynamic linker's structures from process memory.
type svr4Reader struct {
	pid int
	mem memReader
}

// read fills buf from addr or fails.
func (r svr4Reader) read(addr uint64, buf []byte) error {
	n, err := r.mem.ReadMemory(r.pid, addr, buf)
	if n < len(buf) {
		if err == nil {
			err = fmt.Errorf("short read")
		}
		return fmt.Errorf("read %d bytes at %#x: %w", len(buf), addr, err)
	}
	return nil
}

// u64 reads a little-endian uint64.
func (r svr4Reader) u64(addr uint64) (uint64, error) {
	var b [8]byte
	if err := r.read(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// cString reads a NUL-terminated string of at most maxPathLen bytes.
func (r svr4Reader) cString(addr uint64) (string, error) {
	if addr == 0 {
		return "", nil
	}
	var out []byte
	var chunk [64]byte
	for len(out) < maxPathLen {
		n, err := r.mem.ReadMemory(r.pid, addr+uint64(len(out)), chunk[:])
		if n <= 0 {
			if err == nil {
				err = fmt.Errorf("short read")
			}
			return "", fmt.Errorf("read string at %#x: %w", addr, err)
		}
		if i := bytes.IndexByte(chunk[:n], 0); i >= 0 {
			return string(append(out, chunk[:i]...)), nil
		}
		out = append(out, chunk[:n]...)
	}
	return "", fmt.Errorf("string at %#x longer than %d bytes", addr, maxPathLen)
}

// rDebug finds the address of the program's struct r_debug (the DT_DEBUG
// value), or 0 when it has none yet.
func (r svr4Reader) rDebug(auxv []byte) (uint64, error) {
	var phdr, phnum uint64
	for i := 0; i+16 <= len(auxv); i += 16 {
		k := binary.LittleEndian.Uint64(auxv[i:])
		v := binary.LittleEndian.Uint64(auxv[i+8:])
		switch k {
		case linux.AT_PHDR:
			phdr = v
		case linux.AT_PHNUM:
			phnum = v
		}
		if k == 0 {
			break
		}
	}
	if phdr == 0 || phnum == 0 || phnum > maxPhdrs {
		return 0, nil
	}
	const phentsize = 56 // Elf64_Phdr
	buf := make([]byte, phnum*phentsize)
	if err := r.read(phdr, buf); err != nil {
		return 0, err
	}
	var bias, dynamic, dynSize uint64
	hasDynamic := false
	for i := uint64(0); i < phnum; i++ {
		p := buf[i*phentsize:]
		typ := elf.ProgType(binary.LittleEndian.Uint32(p))
		vaddr := binary.LittleEndian.Uint64(p[16:])
		switch typ {
		case elf.PT_PHDR:
			bias = phdr - vaddr
		case elf.PT_DYNAMIC:
			dynamic, dynSize, hasDynamic = vaddr, binary.LittleEndian.Uint64(p[40:]), true
		}
	}
	if !hasDynamic {
		return 0, nil
	}
	dynamic += bias
	n := min(dynSize/16, maxDynEntries)
	for i := uint64(0); i < n; i++ {
		var ent [16]byte
		if err := r.read(dynamic+16*i, ent[:]); err != nil {
			return 0, err
		}
		tag := elf.DynTag(binary.LittleEndian.Uint64(ent[:]))
		val := binary.LittleEndian.Uint64(ent[8:])
		switch tag {
		case elf.DT_NULL:
			return 0, nil
		case elf.DT_DEBUG:
			return val, nil
		}
	}
	return 0, nil
}
