package kernel

import (
	"context"
	"fmt"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Host events. Kernel state belongs to the goroutine that runs the
// machine (runUntil); other goroutines (terminal signals, the console
// reader, the network's host side, an embedder cancelling a run) hand it
// work with do (or their own channel), which runs
// the work at once when the machine is not running and otherwise queues
// it for the runner's next scheduling decision, waking an idle runner.
// While no thread can run, the runner waits for the next timer, a queued
// event or cancellation; only when none of them can ever come is the
// machine deadlocked.

// do runs f on the machine: now, when no run is in progress, else at the
// runner's next scheduling decision. Safe from any goroutine.
func (m *Machine) do(f func()) {
	if m.runMu.TryLock() {
		defer m.runMu.Unlock()
		f()
		return
	}
	m.mu.Lock()
	m.posted = append(m.posted, f)
	m.mu.Unlock()
	m.nposted.Add(1)
	m.poke()
}

// poke wakes a runner that waits idle.
func (m *Machine) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// restartCur makes the current system call run again from the start
// (after the runner has handled what it must), without blocking.
func (m *Machine) restartCur() error {
	t := m.cur
	t.restart, t.stop = true, true
	return errRestart
}

// hostEvents handles what other goroutines handed the runner: queued work,
// a finished console read, network traffic from the host.
func (m *Machine) hostEvents() {
	m.runPosted()
	m.console.poll()
	m.netPoll()
}

// runPosted runs the work queued by do.
func (m *Machine) runPosted() {
	if m.nposted.Load() == 0 {
		return
	}
	m.mu.Lock()
	fs := m.posted
	m.posted = nil
	m.nposted.Store(0)
	m.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// idle waits, with no thread runnable at machine time now, for what can
// make one runnable: the next timer, an event from the host, or ctx.
func (m *Machine) idle(ctx context.Context, now uint64) error {
	next := m.timers.next()
	netWake, netPending := m.netHost()
	host := m.console.waiting() || netPending
	if next == 0 && !host {
		if m.debugIdle(ctx) {
			return nil // a debugger holds the machine: it came back
		}
		if p := m.stoppedForeground(); p != nil {
			return &StoppedError{PID: p.PID, Signal: p.stopSig}
		}
		return m.deadlock()
	}
	if !host && !m.clock.Realtime() {
		m.clock.Skip(next - now) // nothing outside can wake a thread first
		return nil
	}
	// Wait in host time: for the timer, pacing deterministic time while a
	// thread waits for the host, or for an event.
	var fire <-chan time.Time
	var wait time.Duration
	if next != 0 {
		wait = time.Duration(next - now)
	}
	if wait = m.publishWait(wait); wait != 0 {
		tm := time.NewTimer(wait)
		defer tm.Stop()
		fire = tm.C
	}
	select {
	case <-m.wake:
	case <-m.debugWake():
	case <-netWake:
		m.netSettle()
	case <-ctx.Done():
		return ctx.Err()
	case <-fire:
		if !m.clock.Realtime() {
			m.clock.Skip(next - now)
		}
	}
	return nil
}

// StoppedError reports that the machine cannot go on because a program
// the host started is stopped (Ctrl-Z, SIGSTOP) and nothing else can run:
// send it SIGCONT (ContinueForeground, Process.Signal) and wait again.
type StoppedError struct {
	PID    int
	Signal linux.Signal // the signal that stopped it
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("pid %d stopped by %s", e.PID, e.Signal)
}

// stoppedForeground returns a stopped process started by the host, or nil.
func (m *Machine) stoppedForeground() *Process {
	for _, p := range m.liveProcs() {
		if p.hostOwned && !p.background && p.stopped {
			return p
		}
	}
	return nil
}

// foreground returns the processes in the console's foreground process
// group: the one a guest shell chose (tcsetpgrp) while it has members, else
// the groups of the programs the host started, except background shell
// jobs.
func (m *Machine) foreground() []*Process {
	if g := m.group(m.ttyPgrp); len(g) > 0 {
		return g
	}
	groups := map[int]bool{}
	procs := m.liveProcs()
	for _, p := range procs {
		if p.hostOwned && !p.background && !p.zombie {
			groups[p.pgid] = true
		}
	}
	var out []*Process
	for _, p := range procs {
		if groups[p.pgid] && !p.zombie && !p.exiting {
			out = append(out, p)
		}
	}
	return out
}

// group returns the live processes of process group pgrp.
func (m *Machine) group(pgrp int) []*Process {
	if pgrp <= 0 {
		return nil
	}
	var out []*Process
	for _, p := range m.liveProcs() {
		if p.pgid == pgrp && !p.zombie && !p.exiting {
			out = append(out, p)
		}
	}
	return out
}

// SignalForeground sends sig to the foreground processes, as the
// terminal's keys do: Ctrl-C SIGINT, Ctrl-\ SIGQUIT, Ctrl-Z SIGTSTP; and
// SIGCONT, SIGKILL, SIGTERM, SIGHUP from sissim itself. Safe from any
// goroutine; it takes effect at the machine's next scheduling decision.
func (m *Machine) SignalForeground(sig linux.Signal) {
	if sig == linux.SIGINT {
		m.debugCancelWait()
	}
	m.do(func() {
		if sig == linux.SIGINT {
			m.interrupts++
		}
		for _, p := range m.foreground() {
			p.sendSignal(sig, siginfo{code: siKernel})
		}
	})
}

// Interrupt sends SIGINT to the foreground processes, as Ctrl-C on the
// console does, and ends a shell's wait. Safe from any goroutine.
func (m *Machine) Interrupt() { m.SignalForeground(linux.SIGINT) }
