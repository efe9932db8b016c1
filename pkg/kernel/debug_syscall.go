package kernel

import (
	"slices"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// System call stops (gdb's catch syscall, Options.CatchSyscalls).
//
// A debugged thread that enters a caught system call stops before the
// call runs, with the PC past its svc and the arguments in x0-x5 and x8,
// as under ptrace; it stops again as the call returns, with its result in
// x0. The entry stop must not change the run: the svc has executed (and
// counted) when the kernel sees it, so the call is deferred rather than
// re-executed. The CPU stops with the call undone; when the thread goes
// on, finishDeferred runs it with the registers as they are then (the
// debugger may have changed them) and the run continues as if it had run
// in the svc. A call that blocks runs its svc again when woken, as every
// blocked call does; its entry is not reported again.
//
// In a recording session, what the debugger changes while a call waits at
// its entry stop (registers, memory, a resume that keeps a thread stopped)
// cannot be replayed at a point of the run, so it turns reverse execution
// off. A call blocked after its entry was reported has run as it does in
// a re-execution; only its entry is not reported again.
// Going back, a reverse continue stops at the caught calls it passes: at
// a return with the result in x0, and at an entry before the svc runs.

// caughtSyscall reports whether system call nr of t stops it (going back,
// whether it is a hit for a reverse continue): the debugger's current
// options say.
func (d *debugger) caughtSyscall(t *Task, nr uint64) bool {
	if !d.catching.Load() || !d.debugged(t.PID) || t.dying {
		return false
	}
	d.mu.Lock()
	o := d.opts
	if d.seekingQuietly() {
		o = d.live
	}
	d.mu.Unlock()
	return o.CatchSyscalls && (len(o.Syscalls) == 0 || slices.Contains(o.Syscalls, int(nr)))
}

// syscallEntry is called as t enters system call nr: it reports whether
// the call is deferred for an entry stop. Going back, the entry is a hit
// at the svc, before it ran.
func (d *debugger) syscallEntry(t *Task, nr uint64) bool {
	if t.sysEntry || !d.caughtSyscall(t, nr) {
		return false
	}
	ev := gdbstub.StopEvent{Kind: gdbstub.StopSyscallEntry, Thread: threadID(t), Syscall: int(nr)}
	if d.seekingQuietly() {
		now := d.m.clock.Insns()
		svc := point{pos: now - 1, cpu: true}
		if svc.pos == d.rec.kpos {
			svc.seq = d.rec.kseq
		}
		d.collect(svc, revHit{at: svc, event: ev})
		return false
	}
	t.sysEntry, t.sysDefer = true, true
	d.queue(ev)
	d.stopCPU = true
	return true
}

// syscallReturn is called as t's system call nr returns (not when it
// blocked): it reports whether t stops for it. Going back, the return is
// a hit at the instruction after the svc.
func (d *debugger) syscallReturn(t *Task, nr uint64) bool {
	entered := t.sysEntry
	t.sysEntry = false
	if !d.caughtSyscall(t, nr) {
		return false
	}
	ev := gdbstub.StopEvent{Kind: gdbstub.StopSyscallReturn, Thread: threadID(t), Syscall: int(nr)}
	if d.seekingQuietly() {
		p := d.cpuPoint()
		d.collect(p, revHit{at: p, event: ev})
		return false
	}
	if !entered {
		return false // caught since it entered: no return without an entry
	}
	d.queue(ev)
	d.stopCPU = true
	return true
}

// syscallRegs are the registers of a system call: x0-x5 and x8.
var syscallRegs = []cpu.Reg{cpu.X0, cpu.X0 + 1, cpu.X0 + 2, cpu.X0 + 3, cpu.X0 + 4, cpu.X0 + 5, cpu.X0 + 8}

// deferredEnd is how a deferred system call ended (finishDeferred).
type deferredEnd int

const (
	deferredGoOn    deferredEnd = iota // the thread's CPU run goes on
	deferredStopped                    // the call stopped the CPU (blocked, a signal, exit): a kernel stop
	deferredHeld                       // stopped at the return; the debugger keeps the thread
)

// finishDeferred runs the system call t entered before its entry stop,
// on the loaded thread (m.cur is t), as its svc would have, and reports
// its return stop.
func (m *Machine) finishDeferred(t *Task) deferredEnd {
	t.sysDefer = false
	if t.dying {
		return deferredStopped
	}
	var v [7]uint64
	if err := m.cpu.ReadRegs(syscallRegs, v[:]); err != nil {
		t.kill(linux.SIGSEGV, "cpu error reading a system call's registers: "+err.Error())
		return deferredStopped
	}
	raw := [6]uint64(v[:6])
	ret, act := m.syscall(v[6], &raw)
	if act&cpu.SetX0 != 0 {
		if err := m.cpu.SetReg(cpu.X0, ret); err != nil {
			t.kill(linux.SIGSEGV, "cpu error writing a system call's result: "+err.Error())
			return deferredStopped
		}
	}
	if t.restart || t.stop || t.dying {
		return deferredStopped
	}
	d := m.debugActive()
	if d == nil || !d.stopCPU {
		return deferredGoOn
	}
	// The return stop: an in-CPU point, as after a call in the svc.
	d.stopCPU = false
	if ev := d.atCPU(); ev != nil {
		d.park(ev)
	}
	d.reportPending()
	if d.abandoning() || !d.goOn(t) {
		return deferredHeld
	}
	return deferredGoOn
}

// inDeferredSyscall reports whether a thread is stopped at the entry of
// a system call that has not run yet.
func (m *Machine) inDeferredSyscall() bool {
	for _, t := range m.tasks {
		if t.sysDefer {
			return true
		}
	}
	return false
}
