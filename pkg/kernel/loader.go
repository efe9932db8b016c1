package kernel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// MaxExecSize is the largest program file execve accepts.
const MaxExecSize = 16 << 20

// ExecError explains why a program cannot be loaded. Errno is what execve
// returns for it.
type ExecError struct {
	Path   string
	Reason string
	Errno  linux.Errno
}

func (e *ExecError) Error() string { return e.Path + ": " + e.Reason }

// Unwrap returns the errno, so errors.Is(err, linux.ENOEXEC) works.
func (e *ExecError) Unwrap() error { return e.Errno }

func execErr(errno linux.Errno, format string, args ...any) *ExecError {
	return &ExecError{Reason: fmt.Sprintf(format, args...), Errno: errno}
}

// image is what the loader learned about a loaded program.
type image struct {
	entry uint64
	phdr  uint64 // address of the program headers in memory
	phent uint64
	phnum uint64
	bias  uint64
	end   uint64 // highest loaded address (start of the heap)
}

// loadSeg is a validated PT_LOAD segment.
type loadSeg struct {
	vaddr, memsz, off, filesz uint64
	prot                      cpu.Prot
}

// parseELF validates data as a static AArch64 executable and returns its
// loadable segments. It never touches guest memory, so it is the part the
// fuzzer exercises.
func parseELF(data []byte) (*elf.File, []loadSeg, error) {
	if len(data) > MaxExecSize {
		return nil, nil, execErr(linux.E2BIG, "file is %d bytes; the limit is %d", len(data), MaxExecSize)
	}
	if len(data) < 4 || !bytes.Equal(data[:4], []byte(elf.ELFMAG)) {
		return nil, nil, execErr(linux.ENOEXEC, "not an ELF file")
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, nil, execErr(linux.ENOEXEC, "truncated or malformed ELF (%v)", err)
	}
	switch {
	case f.Class != elf.ELFCLASS64:
		return nil, nil, execErr(linux.ENOEXEC, "%v ELF; sissim runs 64-bit AArch64 programs", f.Class)
	case f.Data != elf.ELFDATA2LSB:
		return nil, nil, execErr(linux.ENOEXEC, "big-endian ELF; sissim runs little-endian AArch64 programs")
	case f.Machine != elf.EM_AARCH64:
		return nil, nil, execErr(linux.ENOEXEC, "ELF for %v; sissim runs AArch64 (EM_AARCH64) programs", f.Machine)
	case f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN:
		return nil, nil, execErr(linux.ENOEXEC, "ELF type %v is not executable", f.Type)
	}
	var segs []loadSeg
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			interp, _ := io.ReadAll(io.LimitReader(p.Open(), 256))
			return nil, nil, execErr(linux.ENOEXEC, "dynamically linked (interpreter %s); sissim runs static programs only",
				string(bytes.TrimRight(interp, "\x00")))
		case elf.PT_LOAD:
			if p.Memsz == 0 {
				continue
			}
			end := p.Vaddr + p.Memsz
			if p.Filesz > p.Memsz || end < p.Vaddr || end > maxUserAddr>>1 ||
				p.Off+p.Filesz < p.Off || p.Off+p.Filesz > uint64(len(data)) {
				return nil, nil, execErr(linux.ENOEXEC, "truncated or malformed ELF: bad PT_LOAD segment at %#x", p.Vaddr)
			}
			if p.Memsz > 1<<32 {
				return nil, nil, execErr(linux.ENOMEM, "PT_LOAD segment of %d bytes is too large", p.Memsz)
			}
			var prot cpu.Prot
			if p.Flags&elf.PF_R != 0 {
				prot |= cpu.ProtRead
			}
			if p.Flags&elf.PF_W != 0 {
				prot |= cpu.ProtWrite
			}
			if p.Flags&elf.PF_X != 0 {
				prot |= cpu.ProtExec
			}
			segs = append(segs, loadSeg{vaddr: p.Vaddr, memsz: p.Memsz, off: p.Off, filesz: p.Filesz, prot: prot})
		}
	}
	if len(segs) == 0 {
		return nil, nil, execErr(linux.ENOEXEC, "no loadable segments")
	}
	for i := 1; i < len(segs); i++ {
		if segs[i].vaddr < segs[i-1].vaddr+segs[i-1].memsz {
			return nil, nil, execErr(linux.ENOEXEC, "malformed ELF: PT_LOAD segments overlap or are unsorted")
		}
	}
	return f, segs, nil
}

// loadELF maps a static executable into as.
func loadELF(as *addressSpace, name string, data []byte) (*image, error) {
	f, segs, err := parseELF(data)
	if err != nil {
		return nil, err
	}
	img := &image{phent: 56, phnum: uint64(len(f.Progs))}
	if f.Type == elf.ET_DYN {
		img.bias = pieBase - pageDown(segs[0].vaddr)
	}
	for _, s := range segs {
		start := pageDown(s.vaddr + img.bias)
		end := pageUp(s.vaddr + img.bias + s.memsz)
		// A page shared with the previous segment keeps its mapping and gets
		// the union of both permissions.
		if as.overlaps(start, start+pageSize) {
			i := as.find(start)
			if err := as.protect(start, pageSize, as.vmas[i].prot|s.prot|cpu.ProtWrite); err != nil {
				return nil, err
			}
			start += pageSize
		}
		if start < end {
			if err := as.mapFixed(start, end-start, cpu.ProtRead|cpu.ProtWrite, name, pageDown(s.off)); err != nil {
				return nil, err
			}
		}
		if err := as.eng.WriteMem(s.vaddr+img.bias, data[s.off:s.off+s.filesz]); err != nil {
			return nil, err
		}
		if end > img.end {
			img.end = end
		}
	}
	for _, s := range segs {
		start := pageDown(s.vaddr + img.bias)
		end := pageUp(s.vaddr + img.bias + s.memsz)
		if err := as.protect(start, end-start, s.prot); err != nil {
			return nil, err
		}
	}
	img.entry = f.Entry + img.bias
	for _, p := range f.Progs {
		if p.Type == elf.PT_PHDR {
			img.phdr = p.Vaddr + img.bias
		}
	}
	if img.phdr == 0 {
		phoff := phdrOffset(data)
		for _, s := range segs {
			if phoff >= s.off && phoff < s.off+s.filesz {
				img.phdr = s.vaddr + (phoff - s.off) + img.bias
			}
		}
	}
	return img, nil
}

// phdrOffset returns e_phoff of an ELF64 little-endian header.
func phdrOffset(data []byte) uint64 {
	if len(data) < 0x28 {
		return 0
	}
	return binary.LittleEndian.Uint64(data[0x20:])
}

// stackImage lays out the initial process stack as Linux's
// create_elf_tables does: strings at the top, then AT_PLATFORM and
// AT_RANDOM data, then argc, argv, envp and the auxiliary vector at a
// 16-byte aligned SP.
type stackImage struct {
	argv, envp []string
	execfn     string
	random     [16]byte
	auxv       [][2]uint64 // without AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL
}

// errArgs reports an argument list too large for the stack.
var errArgs = errors.New("argument list too long")

// maxArgBytes bounds the argument and environment strings (Linux allows a
// quarter of the stack rlimit).
const maxArgBytes = stackSize / 4

// build writes the stack below top and returns the initial SP.
func (si *stackImage) build(as *addressSpace, top uint64) (uint64, error) {
	// Strings in address order: argv, envp, then the program name; the top
	// word of the stack stays zero, as on Linux.
	var block []byte
	var argAddrs, envAddrs []uint64
	add := func(s string) uint64 {
		off := uint64(len(block))
		block = append(append(block, s...), 0)
		return off
	}
	for _, a := range si.argv {
		argAddrs = append(argAddrs, add(a))
	}
	for _, e := range si.envp {
		envAddrs = append(envAddrs, add(e))
	}
	execOff := add(si.execfn)
	if len(block) > maxArgBytes {
		return 0, errArgs
	}
	strBase := top - 8 - uint64(len(block))
	for i := range argAddrs {
		argAddrs[i] += strBase
	}
	for i := range envAddrs {
		envAddrs[i] += strBase
	}
	platAddr := strBase - uint64(len("aarch64")+1)
	randAddr := (platAddr - 16) &^ 15

	auxv := append(append([][2]uint64(nil), si.auxv...),
		[2]uint64{linux.AT_RANDOM, randAddr},
		[2]uint64{linux.AT_EXECFN, strBase + execOff},
		[2]uint64{linux.AT_PLATFORM, platAddr},
		[2]uint64{linux.AT_NULL, 0})
	words := 1 + len(argAddrs) + 1 + len(envAddrs) + 1 + 2*len(auxv)
	sp := (randAddr - uint64(8*words)) &^ 15
	tbl := make([]byte, 0, 8*words)
	w := func(v uint64) { tbl = binary.LittleEndian.AppendUint64(tbl, v) }
	w(uint64(len(argAddrs)))
	for _, a := range argAddrs {
		w(a)
	}
	w(0)
	for _, a := range envAddrs {
		w(a)
	}
	w(0)
	for _, a := range auxv {
		w(a[0])
		w(a[1])
	}
	for _, c := range []struct {
		addr uint64
		data []byte
	}{{strBase, block}, {platAddr, []byte("aarch64\x00")}, {randAddr, si.random[:]}, {sp, tbl}} {
		if err := as.eng.WriteMem(c.addr, c.data); err != nil {
			return 0, err
		}
	}
	return sp, nil
}
