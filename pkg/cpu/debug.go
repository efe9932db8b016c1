package cpu

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// A debugger's view of the CPU. Everything here is off unless a debugger
// uses it, and then costs only what it needs:
//
//   - a breakpoint is a code hook bounded to its address: only that
//     instruction calls out of the translated code, and only a thread of
//     its process stops there;
//   - a target position (a single step is one: the position after the
//     thread's next instruction) stops the CPU before the block that holds
//     it, and a one-shot hook bounded to the instruction finds it inside
//     the block;
//   - a watchpoint makes the TLB refuse the watched access to its 1 KiB
//     page, so the CPU stops before the instruction with its registers
//     untouched (the kernel decodes the exact address; an access to the
//     page outside the watched bytes is stepped over with the page open);
//
// Positions: the machine counts instructions a block at a time, when the
// block is entered (Clock.Insns). Between runs and at a debugger's stop,
// the count is the position of the next instruction. A debugger's stop
// inside a block takes the block's tail off the count (it is counted again
// when the run resumes), so debugging never changes the count a run
// without a debugger would see.

// DebugStop says why the CPU stopped for a debugger (Exit.Debug).
type DebugStop int

// Debugger stops.
const (
	DebugBreak  DebugStop = iota + 1 // a breakpoint, before the instruction at Exit.Addr
	DebugTarget                      // the target position's block is next
	DebugWatch                       // an access to a watched page (Exit.Fault)
	DebugAt                          // the one-shot stop address (StopAt) was reached
)

func (d DebugStop) String() string {
	switch d {
	case DebugBreak:
		return "breakpoint"
	case DebugTarget:
		return "target"
	case DebugWatch:
		return "watch"
	case DebugAt:
		return "stop address"
	}
	return "debug?"
}

// SetDebugThread names the thread the next runs execute: breakpoints,
// steps and watchpoints apply to their own process and thread only. pid 0
// matches none.
func (c *CPU) SetDebugThread(pid, tid int) {
	c.s.dbg.pid, c.s.dbg.tid = C.int32_t(pid), C.int32_t(tid)
}

// EndPos is the position of the instruction the last run stopped at (the
// count before it): below Clock.Insns when the run ended inside a block
// the kernel did not take back (a fault, the budget).
func (c *CPU) EndPos() uint64 { return uint64(c.s.end_pos) }

// Breakpoint is a breakpoint of one process at one address.
type Breakpoint struct {
	c *CPU
	b *C.sis_bp
}

// AddBreakpoint installs an active breakpoint. Code already translated
// from addr does not call it: the caller drops it (Invalidate with the
// address's physical address, in every address space that maps it).
func (c *CPU) AddBreakpoint(pid int, addr uint64) (*Breakpoint, error) {
	b := (*C.sis_bp)(C.calloc(1, C.sizeof_sis_bp))
	b.addr, b.pid, b.active = C.uint64_t(addr), C.int32_t(pid), 1
	if err := ucErr("hook_add", C.sis_bp_add(c.s, b)); err != nil {
		C.free(unsafe.Pointer(b))
		return nil, err
	}
	bp := &Breakpoint{c: c, b: b}
	if c.bps == nil {
		c.bps = map[*Breakpoint]bool{}
	}
	c.bps[bp] = true
	return bp, nil
}

// SetActive turns a breakpoint on or off; an inactive one costs a call of
// its hook each time its instruction runs, and nothing to turn on again.
func (b *Breakpoint) SetActive(on bool) {
	b.b.active = 0
	if on {
		b.b.active = 1
	}
}

// Active reports whether the breakpoint stops threads.
func (b *Breakpoint) Active() bool { return b.b.active != 0 }

// Addr is the breakpoint's address.
func (b *Breakpoint) Addr() uint64 { return uint64(b.b.addr) }

// Pid is the process the breakpoint stops.
func (b *Breakpoint) Pid() int { return int(b.b.pid) }

// Delete removes the breakpoint's hook and the code translated with it.
// Call it only while the CPU does not run.
func (b *Breakpoint) Delete() error {
	c := b.c
	if b.b == nil {
		return nil
	}
	err := ucErr("hook_del", C.sis_hook_del_quiet(c.s, b.b.hook))
	C.free(unsafe.Pointer(b.b))
	b.b = nil
	delete(c.bps, b)
	return err
}

// SetTarget makes runs stop before the block holding position pos
// (DebugTarget): with StopAt, the exact instruction is reached.
func (c *CPU) SetTarget(pos uint64) {
	c.s.dbg.target, c.s.dbg.target_on = C.uint64_t(pos), 1
	C.sis_set_stop_at(c.s, c.s.dbg.budget_at)
}

// Target returns the target position and whether one is set.
func (c *CPU) Target() (uint64, bool) { return uint64(c.s.dbg.target), c.s.dbg.target_on != 0 }

// SeekTarget follows a DebugTarget stop: the CPU is at the start of the
// block holding the target position. It reports whether that start is the
// target; if not, it arms the one-shot stop of thread tid at the target's
// instruction inside the block (dropping the code translated from it) in
// place of the block check, and the next run stops there (DebugAt).
func (c *CPU) SeekTarget(tid int) (bool, error) {
	pos, now := uint64(c.s.dbg.target), c.s.clock.insns
	if uint64(now) >= pos {
		return uint64(now) == pos, nil
	}
	pc, err := c.Reg(PC)
	if err != nil {
		return false, err
	}
	addr := pc + 4*(pos-uint64(now))
	if pte := c.Lookup(addr); pte&PTEValid != 0 {
		c.Invalidate(pte&PTEAddr|addr&(4096-1), 4)
	}
	c.s.dbg.target_on = 0
	C.sis_set_stop_at(c.s, c.s.dbg.budget_at)
	return false, c.StopAt(addr, tid, true)
}

// ClearTarget removes the target position.
func (c *CPU) ClearTarget() {
	c.s.dbg.target_on = 0
	C.sis_set_stop_at(c.s, c.s.dbg.budget_at)
}

// StopAt arms a one-shot stop of thread tid before the instruction at
// addr (DebugAt); with atTarget, only when that instruction is at the
// target position (SetTarget's, which ClearTarget keeps for it). The
// caller drops the code translated from addr. Call it while the CPU does
// not run.
func (c *CPU) StopAt(addr uint64, tid int, atTarget bool) error {
	c.s.dbg.at_addr, c.s.dbg.at_tid, c.s.dbg.at_target = C.uint64_t(addr), C.int32_t(tid), 0
	if atTarget {
		c.s.dbg.at_target = 1
	}
	return ucErr("hook_add", C.sis_at_hook(c.s, 1))
}

// ClearStopAt deletes the one-shot stop.
func (c *CPU) ClearStopAt() error {
	if c.s.dbg.at_hook == 0 {
		return nil
	}
	return ucErr("hook_del", C.sis_at_hook(c.s, 0))
}

// SkipBreakpointAt lets the next run's first instruction, at pc, pass a
// breakpoint there (the thread stopped at pc for another reason and goes
// on).
func (c *CPU) SkipBreakpointAt(pc uint64) {
	c.s.dbg.skip_pc, c.s.dbg.skip_on = C.uint64_t(pc), 1
}

// ClearSkip cancels SkipBreakpointAt.
func (c *CPU) ClearSkip() { c.s.dbg.skip_on = 0 }

// WatchPage is a watched 1 KiB page of a process.
type WatchPage struct {
	Page  uint64 // 1 KiB aligned
	Pid   int
	Read  bool // reads stop
	Write bool // writes stop
}

// WatchPageSize is the granularity of watched pages (Unicorn's TLB page).
const WatchPageSize = 1024

// MaxWatchPages bounds the watched pages.
const MaxWatchPages = C.SIS_MAX_WATCH

// SetWatches replaces the watched pages and flushes the TLB.
func (c *CPU) SetWatches(w []WatchPage) error {
	if len(w) > MaxWatchPages {
		return errors.New("cpu: too many watched pages")
	}
	for i, p := range w {
		var acc C.uint32_t
		if p.Read {
			acc |= 1
		}
		if p.Write {
			acc |= 2
		}
		c.s.dbg.watch[i] = C.sis_watch{page: C.uint64_t(p.Page &^ (WatchPageSize - 1)), pid: C.int32_t(p.Pid), acc: acc}
	}
	c.s.dbg.nwatch = C.uint32_t(len(w))
	c.FlushTLB()
	return nil
}

// SetWatchBypass opens (on) or closes the watched pages; closing flushes
// the TLB of what was filled while they were open.
func (c *CPU) SetWatchBypass(on bool) {
	if on {
		c.s.dbg.watch_bypass = 1
		return
	}
	if c.s.dbg.watch_bypass != 0 {
		c.s.dbg.watch_bypass = 0
		c.FlushTLB()
	}
}

// VRegs returns V0..V31 of a saved context.
func (x *Context) VRegs(v *VRegs) {
	for i := range v {
		C.uc_context_reg_read(x.ctx, C.UC_ARM64_REG_Q0+C.int(i), unsafe.Pointer(&v[i][0]))
	}
}

// SetVRegs sets V0..V31 of a saved context.
func (x *Context) SetVRegs(v *VRegs) {
	for i := range v {
		C.uc_context_reg_write(x.ctx, C.UC_ARM64_REG_Q0+C.int(i), unsafe.Pointer(&v[i][0]))
	}
}

// ContextFPStatus returns FPSR and FPCR of a saved context. Unicorn reads
// them only from the CPU: the context is loaded for the read and the CPU's
// registers are put back. Call it while the CPU does not run.
func (c *CPU) ContextFPStatus(x *Context) (fpsr, fpcr uint64, err error) {
	err = c.withContext(x, func() error {
		var v [2]uint64
		if err := c.ReadRegs([]Reg{FPSR, FPCR}, v[:]); err != nil {
			return err
		}
		fpsr, fpcr = v[0], v[1]
		return nil
	}, false)
	return fpsr, fpcr, err
}

// SetContextFPStatus sets FPSR and FPCR of a saved context.
func (c *CPU) SetContextFPStatus(x *Context, fpsr, fpcr uint64) error {
	return c.withContext(x, func() error {
		return c.WriteRegs([]Reg{FPSR, FPCR}, []uint64{fpsr, fpcr})
	}, true)
}

// withContext runs f with x loaded in the CPU (saving it back into x if
// save) and then restores the CPU's registers.
func (c *CPU) withContext(x *Context, f func() error, save bool) error {
	if c.scratch == nil {
		s, err := c.NewContext()
		if err != nil {
			return err
		}
		c.scratch = s
	}
	if err := c.Save(c.scratch); err != nil {
		return err
	}
	err := c.Load(x)
	if err == nil {
		err = f()
	}
	if err == nil && save {
		err = c.Save(x)
	}
	if rerr := c.Load(c.scratch); err == nil {
		err = rerr
	}
	return err
}
