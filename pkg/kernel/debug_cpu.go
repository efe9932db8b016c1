package kernel

import (
	"context"
	"fmt"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// runCPU runs t on the CPU from pc (runSlice's run): with a debugger, the
// debugger's stops happen inside it and the run goes on after them, so
// that the kernel sees the same run it would without them.
func (m *Machine) runCPU(t *Task, pc uint64) (cpu.Exit, error) {
	if d := m.debugActive(); d != nil {
		return d.run(t, pc)
	}
	if t.sysDefer {
		// Stopped at a system call's entry by a debugger now gone.
		if m.finishDeferred(t) != deferredGoOn {
			return cpu.Exit{Reason: cpu.StopRequested}, nil
		}
		var err error
		if pc, err = m.cpu.Reg(cpu.PC); err != nil {
			return cpu.Exit{}, err
		}
	}
	return m.cpu.Run(pc)
}

// run is runCPU with a debugger.
func (d *debugger) run(t *Task, pc uint64) (cpu.Exit, error) {
	m, c := d.m, d.m.cpu
	skip := false    // the instruction at pc passed its breakpoint already
	seeking := false // the one-shot stop at the target's instruction is armed
	for {
		if t.sysDefer {
			// The system call of an entry stop runs as the thread goes
			// on; a call that stops the CPU ends the run as it would
			// have in its svc: at a kernel stop point.
			switch m.finishDeferred(t) {
			case deferredStopped:
				now := m.clock.Insns()
				return d.kernelStop(t, cpu.Exit{Reason: cpu.StopRequested}, now, now)
			case deferredHeld:
				return cpu.Exit{Reason: cpu.StopRequested}, nil
			}
			var err error
			if pc, err = c.Reg(cpu.PC); err != nil {
				return cpu.Exit{}, err
			}
		}
		if !d.on.Load() {
			c.SetDebugThread(0, 0)
			return c.Run(pc)
		}
		pid := 0
		if d.debugged(t.PID) {
			pid = t.PID
		}
		c.SetDebugThread(pid, t.TID)
		if pid != d.cpuPid && len(d.wpages) > 0 {
			c.FlushTLB() // the TLB holds the watched pages' entries of another process
		}
		d.cpuPid = pid
		start := m.clock.Insns()
		var startPoint point
		if d.rec != nil {
			startPoint = d.cpuPoint()
		}
		target, stepAt, hasTarget := d.targetFor(t, start)
		if hasTarget && !seeking {
			c.SetTarget(target)
		}
		seeking = false
		wasSkip := skip
		if skip {
			c.SkipBreakpointAt(pc)
		} else {
			c.ClearSkip()
		}
		ex, err := c.Run(pc)
		end := c.EndPos()
		c.ClearTarget()
		if cerr := c.ClearStopAt(); cerr != nil && err == nil {
			err = cerr
		}
		if end > start {
			ts := d.task(t)
			ts.last, ts.ran = end-1, true
			ts.lastPoint = point{pos: end - 1, cpu: true}
			if end-1 == start {
				ts.lastPoint = startPoint
			}
		}
		if err != nil {
			return ex, err
		}
		if pc, err = c.Reg(cpu.PC); err != nil {
			return ex, err
		}
		skip = false
		if ex.Reason != cpu.StopDebug {
			return d.kernelStop(t, ex, start, end)
		}
		if ex.Debug == cpu.DebugTarget {
			at, err := c.SeekTarget(t.TID)
			if err != nil {
				return ex, err
			}
			if !at {
				// The next run stops at the target's instruction; the
				// CPU has not moved (a breakpoint at pc stays passed).
				seeking, skip = true, wasSkip
				continue
			}
		}
		pos := m.clock.Insns()
		overStep := ex.Debug == cpu.DebugAt && d.stepOver
		if overStep {
			// The access to a watched page went past the watched bytes;
			// close the page again.
			d.stepOver = false
			c.SetWatchBypass(false)
		}
		// The CPU is at an in-CPU point: the recording's effects for it
		// apply, and a reverse operation may end here.
		var next int
		if d.rec != nil {
			next = d.rec.next
		}
		ev := d.atCPU()
		if ev == nil && d.abandoning() {
			// The first pass of a reverse continue got back to where
			// it started: nothing here is reported.
			return cpu.Exit{Reason: cpu.StopRequested}, nil
		}
		if d.rec != nil && d.rec.next != next && ev == nil && len(d.pending) == 0 {
			// The recording's effects applied here may have ended the
			// thread (a kill) or moved it (a register write: jump,
			// return, an inferior call): it goes on from its new PC.
			if !d.goOn(t) {
				return cpu.Exit{Reason: cpu.StopRequested}, nil
			}
			moved, err := c.Reg(cpu.PC)
			if err != nil {
				return ex, err
			}
			if moved != pc {
				pc, skip = moved, false
				continue
			}
		}
		if ev == nil && !d.seekingQuietly() && pos == stepAt && ex.Debug != cpu.DebugWatch {
			ev = &gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: linux.SIGTRAP, Thread: threadID(t)}
		}
		if ev == nil {
			switch ex.Debug {
			case cpu.DebugTarget, cpu.DebugAt:
				if d.rec != nil && !overStep && d.rec.next == next {
					// Another thread's point at the position the
					// recording wants: pass it.
					d.rec.skip, d.rec.skipOn = d.cpuPoint(), true
				}
			case cpu.DebugBreak:
				ev = d.breakHit(t, pc)
				skip = ev == nil
			case cpu.DebugWatch:
				if ev, _ = d.watchHit(t, pc, ex.Fault); ev == nil {
					// Not the watched bytes, or a hit collected for a
					// reverse continue: run the one instruction with the
					// page open (a breakpoint at pc was passed).
					d.stepOver = true
					c.SetWatchBypass(true)
					d.dropCode(t.Process, pc+4)
					if err := c.StopAt(pc+4, t.TID, false); err != nil {
						return ex, err
					}
					skip = true
					continue
				}
			}
		}
		if ev == nil && len(d.pending) == 0 && !d.abandoning() {
			continue
		}
		if ev != nil {
			d.park(ev)
		}
		d.reportPending()
		if d.abandoning() || !d.goOn(t) {
			return cpu.Exit{Reason: cpu.StopRequested}, nil
		}
		if pc, err = c.Reg(cpu.PC); err != nil {
			return ex, err
		}
		// The thread resumes at the instruction it stopped at: a
		// breakpoint there stops it again (gdb steps over its own).
		skip = false
	}
}

// goOn reports whether t's CPU run goes on after a stop: the kernel and
// the debugger let it.
func (d *debugger) goOn(t *Task) bool {
	return !t.dying && !t.stop && !t.restart && t.state == taskRunnable && d.allowed(t)
}

// targetFor returns the position the CPU must stop at for t: the end of
// its single step (stepAt), or a recording's point.
func (d *debugger) targetFor(t *Task, start uint64) (target uint64, stepAt uint64, ok bool) {
	stepAt = ^uint64(0)
	if ts := d.tasks[t]; ts != nil && ts.step && !d.seekingQuietly() {
		stepAt = start + 1
		if ts.stepped {
			stepAt = start // it ran its instruction in an earlier run
		}
		target, ok = stepAt, true
	}
	if rt, rok := d.replayTarget(t); rok && (!ok || rt < target) {
		target, ok = rt, true
	}
	return target, stepAt, ok
}

// breakHit reports a breakpoint at pc (the CPU stops only for an active
// breakpoint of t's process); nil when it is collected for a reverse
// continue instead.
func (d *debugger) breakHit(t *Task, pc uint64) *gdbstub.StopEvent {
	bp := d.bps[bpKey{t.PID, pc}]
	if bp == nil {
		return nil
	}
	kind := gdbstub.BreakSoftware
	if !bp.sw {
		kind = gdbstub.BreakHardware
	}
	ev := &gdbstub.StopEvent{Kind: gdbstub.StopBreakpoint, Break: kind, Thread: threadID(t)}
	if d.collectBreak(t, ev) {
		return nil
	}
	return ev
}

// watchHit decides on an access of t to a watched page: the instruction at
// pc, not run yet, accesses the exact address its addressing mode gives.
// hit is false when it does not touch a watchpoint's bytes.
func (d *debugger) watchHit(t *Task, pc uint64, f cpu.Fault) (*gdbstub.StopEvent, bool) {
	var w [4]byte
	ea, size := f.Page, uint64(cpu.WatchPageSize)
	if n, _ := t.as.peek(pc, w[:]); n == 4 {
		if a, s, ok := effectiveAddr(leU32(w[:]), pc, d.m.cpu.Reg); ok {
			ea, size = a, s
		}
	}
	write := f.Access == cpu.AccessWrite
	var hit *gdbstub.Breakpoint
	for b := range d.watches {
		if b.Pid != t.PID || ea >= b.Addr+b.Len || b.Addr >= ea+size {
			continue
		}
		if b.Kind == gdbstub.WatchAccess || (b.Kind == gdbstub.WatchWrite) == write {
			if hit == nil || b.Addr < hit.Addr || (b.Addr == hit.Addr && b.Kind < hit.Kind) {
				b := b
				hit = &b
			}
		}
	}
	if hit == nil {
		return nil, false
	}
	ev := &gdbstub.StopEvent{Kind: gdbstub.StopWatchpoint, Thread: threadID(t), Break: hit.Kind, Addr: ea, Size: size}
	if d.collectWatch(t, ev) {
		return nil, true
	}
	return ev, true
}

// kernelStop handles a CPU run that ended for the kernel (a system call,
// the slice, a fault): a kernel stop point. The debugger's events of the
// run are reported here, and a run the debugger alone stopped (an event of
// a system call) goes on: that stop is an in-CPU point.
func (d *debugger) kernelStop(t *Task, ex cpu.Exit, start, end uint64) (cpu.Exit, error) {
	mine := d.stopCPU && ex.Reason == cpu.StopRequested && !t.stop && !t.dying && !t.restart
	d.stopCPU = false
	var ev *gdbstub.StopEvent
	if mine {
		ev = d.atCPU()
	} else {
		ev = d.atKernel()
	}
	if ts := d.tasks[t]; ev == nil && ts != nil && ts.step && !t.dying && d.debugged(t.PID) && !d.seekingQuietly() {
		if end > start && !t.restart {
			ts.stepped = true // its instruction ran
		}
		if ts.stepped && !t.restart && len(d.pending) == 0 {
			ev = &gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: linux.SIGTRAP, Thread: threadID(t)}
		}
		if t.restart {
			ts.stepped = false // the blocked call runs again from its svc
		}
	}
	if ev == nil && len(d.pending) == 0 {
		if mine && d.goOn(t) && !d.abandoning() {
			return d.goOnRun(t, ex)
		}
		return ex, nil
	}
	if ev != nil {
		d.park(ev)
	}
	d.reportPending()
	if mine && d.goOn(t) && !d.abandoning() {
		return d.goOnRun(t, ex)
	}
	return ex, nil
}

// goOnRun resumes a CPU run the debugger alone stopped.
func (d *debugger) goOnRun(t *Task, ex cpu.Exit) (cpu.Exit, error) {
	pc, err := d.m.cpu.Reg(cpu.PC)
	if err != nil {
		return ex, err
	}
	return d.run(t, pc)
}

// The kernel's hooks for events: each is called on the machine goroutine.

// debugClone is called by clone for a new thread or process.
func (m *Machine) debugClone(t, child *Task, flags uint64) {
	d := m.debugActive()
	if d == nil || !d.debugged(t.PID) {
		return
	}
	d.noteBirth(child)
	if flags&cloneThread != 0 {
		return // a new thread of a debugged process is debugged
	}
	quiet := d.seekingQuietly()
	vfork := flags&cloneVfork != 0
	o := d.options()
	if vfork && !o.VForkEvents || !vfork && !o.ForkEvents {
		return // the child runs freely, as without PTRACE_O_TRACEFORK
	}
	dp := &debugProc{}
	if vfork {
		dp.vforker = t
	}
	d.procs[child.PID] = dp
	if quiet {
		return // the recorded run let it go at once, or says otherwise
	}
	d.task(child).held = true
	kind := gdbstub.StopFork
	if vfork {
		kind = gdbstub.StopVFork
	}
	d.queue(gdbstub.StopEvent{Kind: kind, Thread: threadID(t), Child: threadID(child)})
	d.stopCPU = true
	m.cpu.Stop() // report it as the call returns
}

// debugExec is called by execve once the new program is committed.
func (m *Machine) debugExec(t *Task) {
	d := m.debugActive()
	if d == nil {
		return
	}
	p := t.Process
	d.vforkDone(p)
	if !d.debugged(p.PID) {
		return
	}
	d.forget(p.PID)
	if d.options().ExecEvents {
		d.queue(gdbstub.StopEvent{Kind: gdbstub.StopExec, Thread: threadID(t), Path: p.exe})
		d.stopCPU = true
	}
}

// debugExit is called when process p has ended (a zombie now).
func (m *Machine) debugExit(p *Process) {
	d := m.debugActive()
	if d == nil {
		return
	}
	d.vforkDone(p)
	if !d.debugged(p.PID) {
		return
	}
	ev := gdbstub.StopEvent{Kind: gdbstub.StopExited, Thread: gdbstub.ThreadID{Pid: p.PID, Tid: p.PID}, ExitCode: p.status.Code}
	if p.status.Signal != 0 {
		ev.Kind, ev.Signal = gdbstub.StopKilled, p.status.Signal
	}
	d.forget(p.PID)
	delete(d.procs, p.PID)
	for t := range d.tasks {
		if t.Process == p {
			delete(d.tasks, t)
		}
	}
	if len(d.procs) > 0 || d.seekingQuietly() {
		d.queue(ev)
		return
	}
	// Nothing is debugged any more: the machine runs on by itself.
	d.pending = nil
	d.mu.Lock()
	d.deliverLocked(ev)
	d.mu.Unlock()
}

// vforkDone reports that the vfork child p exec'd or exited.
func (d *debugger) vforkDone(p *Process) {
	dp := d.procs[p.PID]
	if dp == nil || dp.vforker == nil {
		return
	}
	v := dp.vforker
	dp.vforker = nil
	if d.debugged(v.PID) && v.state != taskDead && d.options().VForkEvents {
		d.queue(gdbstub.StopEvent{Kind: gdbstub.StopVForkDone, Thread: threadID(v)})
	}
}

// forget turns off the breakpoints and watchpoints of process pid (it
// exec'd or ended); their hooks are deleted later, outside the run.
func (d *debugger) forget(pid int) {
	for k, b := range d.bps {
		if k.pid == pid {
			d.dropBP(k, b)
		}
	}
	changed := false
	for w := range d.watches {
		if w.Pid == pid {
			delete(d.watches, w)
			changed = true
		}
	}
	if changed {
		if err := d.updateWatches(); err != nil {
			d.m.kernelError(fmt.Errorf("debugger: %w", err))
		}
	}
}

// debugSignal is called by deliverSignals before t takes sig (a kernel
// stop point). A debugged thread stops first (unless the debugger passes
// sig), and the resume decides what it gets: the signal returned (0:
// none). ok is false when t may not run now (the debugger keeps it
// stopped; the signal waits).
func (m *Machine) debugSignal(t *Task, sig linux.Signal, info siginfo) (linux.Signal, siginfo, bool) {
	d := m.debugActive()
	if d == nil {
		return sig, info, true
	}
	var ts *debugTask
	stops := false
	if d.debugged(t.PID) {
		ts = d.task(t)
		switch {
		case ts.approved&sigBit(sig) != 0:
			ts.approved &^= sigBit(sig)
		case ts.sig == sig && ts.sigSet:
			return d.decided(ts, sig, info)
		case !d.passes(sig):
			stops = true
			ts.sig, ts.sigSet, ts.info = sig, false, info
		}
	}
	// The point where the thread stops (the recording's resume there
	// decides the signal when a new generation runs this again).
	if ev := d.signalPoint(); ev != nil {
		d.park(ev)
	}
	if d.abandoning() {
		return 0, info, false
	}
	if !stops {
		return sig, info, true
	}
	if d.seekingQuietly() {
		if ts.sigSet {
			return d.decided(ts, sig, info)
		}
		ts.sig = 0
		return sig, info, true // delivered as the recorded run did
	}
	d.reportPending()
	if ts.sig == sig && !ts.sigSet && d.debugged(t.PID) && !t.dying && !d.abandoning() {
		ev := gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: sig, Thread: threadID(t)}
		d.park(&ev)
		d.reportPending()
	}
	switch {
	case d.abandoning():
		return 0, info, false
	case t.dying:
		return 0, info, false
	case !d.debugged(t.PID):
		return 0, info, true // detached: the signal is dropped
	case ts.sigSet:
		return d.decided(ts, sig, info)
	}
	t.sigPending.add(sig, info) // it waits with the thread
	return 0, info, false
}

// decided applies the resume's decision on the signal a thread stopped
// for.
func (d *debugger) decided(ts *debugTask, sig linux.Signal, info siginfo) (linux.Signal, siginfo, bool) {
	deliver := ts.deliver
	ts.sig, ts.sigSet, ts.deliver = 0, false, 0
	if deliver != sig {
		info = siginfo{code: siUser}
	}
	return deliver, info, true
}

// debugPoint is runUntil's stop point between time slices.
func (m *Machine) debugPoint() {
	if d := m.debugActive(); d != nil {
		d.point()
	}
}

// debugHeld reports whether the debugger keeps t from running.
func (m *Machine) debugHeld(t *Task) bool {
	d := m.debugActive()
	return d != nil && !d.allowed(t)
}

// debugIdle is called when no thread can run and no timer is due: with a
// debugger, the machine waits for it (an interrupt, a resume) or ctx and
// reports true; without one, it is a deadlock.
func (m *Machine) debugIdle(ctx context.Context) bool {
	d := m.debugActive()
	if d == nil {
		return false
	}
	d.mu.Lock()
	wait := len(d.procs) > 0 || d.waitAttach || d.attaching > 0 || d.stopReq.Load()
	d.mu.Unlock()
	if !wait {
		return false
	}
	if !d.stopReq.Load() {
		select {
		case <-d.wake:
		case <-ctx.Done():
		}
	}
	return true
}

// debugWake is the channel a debugger's interrupt wakes an idle machine
// with (nil: no debugger).
func (m *Machine) debugWake() <-chan struct{} {
	if d := m.debugActive(); d != nil {
		return d.wake
	}
	return nil
}
