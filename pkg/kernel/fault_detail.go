package kernel

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/sis-kernel/sissim/pkg/backtrace"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Fault reports: a process a synchronous signal kills (SIGSEGV, SIGBUS,
// SIGILL, SIGTRAP) gets, besides its one-line report, the registers of
// the faulting thread and a backtrace from its frame records, named with
// the symbol tables of the program and its interpreter (ExitStatus.Detail).

// killFault ends t's process by the synchronous signal sig it did not
// handle, with the fault's report and detail.
func (t *Task) killFault(sig linux.Signal, info siginfo) {
	st := ExitStatus{Signal: sig, Report: t.faultReport(sig, info)}
	if st.Report != "" {
		st.Detail = t.faultDetail()
	}
	t.exitGroup(st)
}

// faultDetail returns the registers and the backtrace of t, stopped at its
// fault (its registers are the CPU's or its saved context's).
func (t *Task) faultDetail() string {
	r, err := t.m.readRegs(t)
	if err != nil {
		return fmt.Sprintf("registers: %v\n", err)
	}
	var b strings.Builder
	b.WriteString(backtrace.RegisterDump(r.X, r.SP, r.PC, uint64(r.CPSR)))
	tr := backtrace.Walk(backtrace.Regs{PC: r.PC, SP: r.SP, FP: r.X[29], LR: r.X[30]}, peeker{t.as}, t.symbols(), 0)
	b.WriteString("backtrace:\n")
	b.WriteString(tr.String())
	return b.String()
}

// peeker reads an address space for a backtrace.
type peeker struct{ as *addressSpace }

func (p peeker) ReadMemory(addr uint64, buf []byte) (int, error) { return p.as.peek(addr, buf) }

// symbols returns the symbol tables of t's program and of its interpreter
// at their load biases (nil when the program cannot be read). A
// program's shared libraries, which its interpreter maps, are not named.
func (t *Task) symbols() *backtrace.Symbols {
	var at [2]uint64 // AT_PHDR, AT_BASE
	for _, a := range t.auxv {
		switch a[0] {
		case linux.AT_PHDR:
			at[0] = a[1]
		case linux.AT_BASE:
			at[1] = a[1]
		}
	}
	f, err := t.m.fs.OpenAt(&vfs.Ctx{PID: t.PID}, "/", t.exe, linux.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	bias, interp := loadBias(f, at[0])
	syms := &backtrace.Symbols{}
	if syms.Add(t.exe, f, bias) != nil {
		return nil
	}
	if interp != "" && at[1] != 0 {
		if g, err := t.m.fs.OpenAt(&vfs.Ctx{PID: t.PID}, "/", interp, linux.O_RDONLY, 0); err == nil {
			defer g.Close()
			ibias, _ := loadBias(g, 0)
			syms.Add(interp, g, at[1]+ibias)
		}
	}
	return syms
}

// loadBias returns how far an ELF program is loaded from its link
// address, given where its program headers are in memory (AT_PHDR; 0 for
// an interpreter: the bias from its base), and its interpreter (PT_INTERP).
func loadBias(r io.ReaderAt, phdr uint64) (bias uint64, interp string) {
	defer func() {
		if recover() != nil { // a hostile file
			bias, interp = 0, ""
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return 0, ""
	}
	var first, linked uint64
	found := false
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			b := make([]byte, min(p.Filesz, 4096))
			if n, _ := p.ReadAt(b, 0); n > 0 {
				interp = strings.TrimRight(string(b[:n]), "\x00")
			}
		case elf.PT_PHDR:
			linked = p.Vaddr
		case elf.PT_LOAD:
			if !found {
				first, found = p.Vaddr&^(pageSize-1), true
			}
			if linked == 0 && p.Off == 0 {
				linked = p.Vaddr + phoff(r) // the headers are in the first segment
			}
		}
	}
	switch {
	case f.Type != elf.ET_DYN:
		return 0, interp
	case phdr == 0:
		return -first, interp // an interpreter: loaded at base + its link address
	}
	return phdr - linked, interp
}

// phoff is the file offset of an ELF64 file's program headers (e_phoff).
func phoff(r io.ReaderAt) uint64 {
	var b [8]byte
	if _, err := r.ReadAt(b[:], 32); err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}
