// Package backtrace walks the frame-record chain of a stopped AArch64
// thread and names its frames with the symbol tables of the ELF images
// loaded in the process, for fault reports:
//
//	#0 0x0000000000400a1c in leaf+0x8 (prog)
//	#1 0x0000000000400a40 in parent+0x14 (prog) [lr]
//	#2 0x0000000000400a70 in main+0x1c (prog)
//
// AAPCS64 code keeps a chain of frame records: x29 (FP) points to a pair
// {caller's FP, return address}. Functions built without frame records
// drop out of the chain; a leaf function that has not saved its record is
// recovered from the link register when symbols show that it is one.
package backtrace

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Memory reads the stopped process's memory.
type Memory interface {
	// ReadMemory reads len(buf) bytes at addr and returns how many it
	// read; an error means the rest is not readable.
	ReadMemory(addr uint64, buf []byte) (int, error)
}

// Regs are the registers a walk starts from.
type Regs struct {
	PC uint64 // the faulting or current instruction
	SP uint64
	FP uint64 // x29
	LR uint64 // x30
}

// MaxFrames bounds a walk unless Walk is given a smaller bound.
const MaxFrames = 64

// addrMask clears the top byte and pointer-authentication bits of a code
// address: user addresses are below 2^48.
const addrMask = 1<<48 - 1

// Frame is one frame of a backtrace.
type Frame struct {
	// PC is the instruction of frame 0 and the return address of the
	// others.
	PC uint64
	// FP is the frame record the frame's return address was read from
	// (0 for frame 0 and for a frame found from the link register).
	FP uint64
	// FromLR marks a frame found from the link register: the function
	// below it had not saved a frame record (a leaf, or a prologue).
	FromLR bool
	// Loc names PC; Loc.Func is empty when no symbol covers it.
	Loc Location
}

// String formats the frame as "0x... in func+0xoff (image)".
func (f Frame) String() string {
	s := fmt.Sprintf("%#016x in %s", f.PC, f.Loc)
	if f.FromLR {
		s += " [lr]"
	}
	return s
}

// Trace is a walk's result.
type Trace struct {
	Frames []Frame
	// End says why the walk stopped: "end of chain" (a zero frame
	// pointer or return address), or the problem that stopped it.
	End string
}

// String formats the trace, one "#N frame" line per frame and a last line
// saying why the walk stopped unless it reached the end of the chain.
func (t Trace) String() string {
	var b strings.Builder
	for i, f := range t.Frames {
		fmt.Fprintf(&b, "#%d %s\n", i, f)
	}
	if t.End != endOfChain {
		fmt.Fprintf(&b, "(backtrace stopped: %s)\n", t.End)
	}
	return b.String()
}

const endOfChain = "end of chain"

// Walk follows the frame records from regs, reading them from mem, and
// names the frames with syms (which may be nil). It returns at most max
// frames (MaxFrames when max <= 0). A record must lie above the previous
// one, 8-byte aligned: the walk stops at the first that is not, or that
// cannot be read.
func Walk(regs Regs, mem Memory, syms *Symbols, max int) Trace {
	if max <= 0 || max > MaxFrames {
		max = MaxFrames
	}
	pc := regs.PC & addrMask
	t := Trace{Frames: []Frame{{PC: pc, Loc: syms.Lookup(pc)}}}
	fp := regs.FP
	var rec [16]byte
	readRecord := func(at uint64) error {
		n, err := mem.ReadMemory(at, rec[:])
		if n < len(rec) {
			if err == nil {
				err = fmt.Errorf("short read")
			}
			return err
		}
		return nil
	}

	// A function that has not stored its frame record yet (a leaf, or
	// one stopped in its prologue) still has its return address in LR:
	// take it when symbols show that LR is in another function than PC
	// (else LR is stale, from a call PC's function made) and the first
	// record does not hold it already.
	lr := regs.LR & addrMask
	if lr != 0 && syms != nil {
		caller := syms.Lookup(lr - 4)
		if caller.Func != "" && !caller.sameFunc(t.Frames[0].Loc) {
			first := uint64(0)
			if fp != 0 && fp%8 == 0 && readRecord(fp) == nil {
				first = binary.LittleEndian.Uint64(rec[8:]) & addrMask
			}
			if first != lr {
				t.Frames = append(t.Frames, Frame{PC: lr, FromLR: true, Loc: syms.lookupReturn(lr)})
			}
		}
	}

	for len(t.Frames) < max {
		if fp == 0 {
			t.End = endOfChain
			return t
		}
		if fp%8 != 0 {
			t.End = fmt.Sprintf("misaligned frame pointer %#x", fp)
			return t
		}
		if err := readRecord(fp); err != nil {
			t.End = fmt.Sprintf("frame record at %#x unreadable: %v", fp, err)
			return t
		}
		next := binary.LittleEndian.Uint64(rec[0:])
		ret := binary.LittleEndian.Uint64(rec[8:]) & addrMask
		if ret == 0 {
			t.End = endOfChain
			return t
		}
		t.Frames = append(t.Frames, Frame{PC: ret, FP: fp, Loc: syms.lookupReturn(ret)})
		if next != 0 && next <= fp {
			t.End = fmt.Sprintf("frame pointer %#x does not go up the stack from %#x", next, fp)
			return t
		}
		fp = next
	}
	t.End = fmt.Sprintf("more than %d frames", max)
	return t
}

// RegisterDump formats the general registers for a fault report, four to
// a line, with the PC and PSTATE.
func RegisterDump(x [31]uint64, sp, pc, pstate uint64) string {
	var b strings.Builder
	for i := 0; i < 31; i++ {
		fmt.Fprintf(&b, "%3s %016x", fmt.Sprintf("x%d", i), x[i])
		if i%4 == 3 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	fmt.Fprintf(&b, " sp %016x\n pc %016x pstate %08x\n", sp, pc, pstate)
	return b.String()
}
