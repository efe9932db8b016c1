package kernel

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// Scheduling. One goroutine runs every thread of the machine in turn on
// the machine's CPU: the CBS+EDF scheduler (pkg/sched) picks a thread, the
// CPU switches to its address space and registers, and runs it until the
// slice (a count of instructions, never host time) is spent, a system call
// blocks or the thread exits. A blocking system call returns errRestart
// after registering what would wake it; the CPU stops with the PC rewound
// to the svc, which runs again once the thread is woken.

// errRestart is returned by a handler that blocked; the guest never sees it
// (Linux's ERESTARTSYS).
const errRestart = linux.Errno(512)

// Scheduler returns the machine's CBS+EDF scheduler (for det and metrics).
// It must only be used while no process runs.
func (m *Machine) Scheduler() *sched.Scheduler { return m.sched }

// addProcess registers a new process and schedules its threads.
func (m *Machine) addProcess(p *Process) {
	m.mu.Lock()
	m.procs[p.PID] = p
	m.mu.Unlock()
	for _, t := range p.tasks {
		m.addTask(t)
	}
	m.processStarted(p)
}

// addTask gives a thread a CBS server (serve.go) and makes it runnable.
func (m *Machine) addTask(t *Task) { m.serveTask(t) }

// liveProcs returns the processes in pid order (init excluded).
func (m *Machine) liveProcs() []*Process {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Process, 0, len(m.procs))
	for _, p := range m.procs {
		if p != m.init {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// lookup returns the process with pid, or nil.
func (m *Machine) lookup(pid int) *Process {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.procs[pid]
}

// lookupTask returns the thread with tid, or nil.
func (m *Machine) lookupTask(tid int) *Task {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tasks[tid]
}

// setState moves t to state s and tells the scheduler.
func (t *Task) setState(s taskState) {
	if tr := t.m.introspect.trace; tr != nil {
		tr.state(t, s)
	}
	t.state = s
	if t.srv != nil {
		t.m.srvRunnable(t.srv)
	}
}

// runUntil runs threads until done reports true. It returns an error when
// no thread can ever run again before done.
func (m *Machine) runUntil(done func() bool) error {
	return m.runUntilCtx(context.Background(), done)
}

// runUntilCtx is runUntil that also ends, with ctx's error, when ctx is
// done.
func (m *Machine) runUntilCtx(ctx context.Context, done func() bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m.runMu.Lock()
	defer m.runMu.Unlock()
	m.runCtx = ctx
	defer func() {
		m.console.quiesce()
		m.runCtx = context.Background()
		m.publish(m.clock.Now())
	}()
	for {
		m.hostEvents()
		m.debugPoint()
		if done() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		now := m.clock.Now()
		m.publishDue(now)
		if m.fireTimers(now) {
			continue // a timer may have ended what we wait for
		}
		srv := m.sched.PickWorkConserving(now)
		if srv == nil {
			m.wakeForRelease(now)
			if err := m.idle(ctx, now); err != nil {
				return err
			}
			continue
		}
		t := m.taskOf(srv)
		if t == nil {
			// A layer's server: its own work, or none left here.
			if !m.runEntity(srv, now) {
				m.sched.SetRunnable(srv, false, now)
			}
			continue
		}
		if m.debugHeld(t) {
			m.sched.SetRunnable(srv, false, now) // until the debugger resumes it
			continue
		}
		slice := m.sched.Slice(srv, now)
		if next := m.timers.next(); next > now && next-now < slice {
			slice = next - now
		}
		m.runSlice(t, slice)
	}
}

// atTime arranges for f to run once machine time reaches at (ns since
// boot). f runs on the goroutine that runs the threads, between two time
// slices (no thread runs; it may change thread and scheduler state) and
// only while threads run: in deterministic mode time passes only then.
// Timers due at the same time run in the order they were set; f may set
// new ones. The returned function cancels the timer.
func (m *Machine) atTime(at uint64, f func()) (cancel func()) {
	tm := m.setTimer(at, funcFirer(f))
	return func() { m.cancelTimer(tm) }
}

// setTimer is atTime for a kernel object: x.fire runs at machine time at.
func (m *Machine) setTimer(at uint64, x firer) *timer {
	tm := &timer{fire: x, index: -1}
	m.mu.Lock()
	m.timers.add(tm, at)
	m.mu.Unlock()
	return tm
}

// cancelTimer cancels a timer of setTimer (nil: none).
func (m *Machine) cancelTimer(tm *timer) {
	if tm == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.timers.cancel(tm)
}

// fireTimers wakes the threads whose timeout passed and runs the callbacks
// due at now, earliest first; it reports whether any callback ran.
func (m *Machine) fireTimers(now uint64) (fired bool) {
	for {
		m.mu.Lock()
		tm := m.timers.popDue(now)
		m.mu.Unlock()
		if tm == nil {
			return fired
		}
		if tm.t != nil {
			tm.t.wake()
			continue
		}
		fired = true
		tm.fire.fire()
	}
}

// deadlock describes why nothing can run.
func (m *Machine) deadlock() error {
	var b strings.Builder
	for _, p := range m.liveProcs() {
		for _, t := range p.tasks {
			st := [...]string{"runnable", "blocked", "stopped", "dead"}[t.state]
			fmt.Fprintf(&b, " pid %d", p.PID)
			if t.TID != p.PID {
				fmt.Fprintf(&b, " tid %d", t.TID)
			}
			fmt.Fprintf(&b, " (%s) %s;", path0(p.exe), st)
		}
	}
	return &DeadlockError{Detail: strings.TrimSuffix(b.String(), ";")}
}

// DeadlockError reports that every process is blocked or stopped for
// good: nothing can wake any of them.
type DeadlockError struct{ Detail string }

func (e *DeadlockError) Error() string {
	return "kernel: every process is blocked or stopped for good:" + e.Detail
}

func path0(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// load puts t on the CPU: its address space and its registers.
func (m *Machine) load(t *Task) {
	if m.cpuTask != t {
		if o := m.cpuTask; o != nil && o.state != taskDead {
			if err := m.cpu.Save(o.ctx); err != nil {
				m.kernelError(fmt.Errorf("saving tid %d: %w", o.TID, err))
			}
		}
		if err := m.cpu.Load(t.ctx); err != nil {
			m.kernelError(fmt.Errorf("loading tid %d: %w", t.TID, err))
		}
		m.cpuTask = t
	}
	m.cpu.SetPageTable(t.as.pt.Root())
}

// unload takes t off the CPU (its context is saved): it is about to exit,
// exec or be copied.
func (m *Machine) unload(t *Task) {
	if m.cpuTask == t {
		if err := m.cpu.Save(t.ctx); err != nil {
			m.kernelError(fmt.Errorf("saving tid %d: %w", t.TID, err))
		}
		m.cpuTask = nil
	}
}

// flushTLB drops cached translations of as if it is on the CPU.
func (m *Machine) flushTLB(as *addressSpace) {
	if m.cpu.PageTableRoot() == as.pt.Root() {
		m.cpu.FlushTLB()
	}
}

// forgetAddressSpace is called when as is freed: its root frame may be
// reused, so the CPU must not take a new table with that root for it.
func (m *Machine) forgetAddressSpace(as *addressSpace) {
	if m.cpu.PageTableRoot() == as.pt.Root() {
		m.cpu.SetPageTable(0)
	}
}

// runSlice runs t for at most slice instructions.
func (m *Machine) runSlice(t *Task, slice uint64) {
	if m.insnStop {
		t.kill(linux.SIGKILL, fmt.Sprintf("instruction budget of %d exhausted", m.cfg.MaxInsns))
		return
	}
	m.cur = t
	defer func() { m.cur = nil }()
	m.load(t)
	// Signals wait for a system call deferred at its entry stop to run
	// (debug_syscall.go), as they wait for any call to return.
	if !t.sysDefer && !t.deliverSignals() || t.state != taskRunnable {
		if t.dying {
			m.exitTask(t)
		}
		return
	}
	t.rewound = false
	start := m.clock.Now()
	if m.lastTask != nil && m.lastTask != t {
		m.sched.Switches.Record(start - m.lastStop)
	}
	startInsns := m.clock.Insns()
	budget := t.srv.RemainingNs
	slice = t.cpuTimerSlice(slice)
	stopAt := startInsns + slice
	if m.cfg.MaxInsns > 0 && m.cfg.MaxInsns < stopAt {
		stopAt = m.cfg.MaxInsns
	}
	m.cpu.SetStopAt(stopAt)
	pc, err := m.cpu.Reg(cpu.PC)
	var ex cpu.Exit
	if err == nil {
		ex, err = m.runCPU(t, pc)
	}
	end := m.clock.Now()
	m.busy.Add(end - start)
	ran := m.clock.Insns() - startInsns
	t.insns += ran
	t.checkCPUTimers()
	m.sched.Charge(t.srv, ran, end)
	m.lastTask, m.lastStop = t, end
	t.stop = false
	if err != nil {
		t.pending = append(t.pending, err)
		t.kill(linux.SIGSEGV, fmt.Sprintf("cpu error at pc=%#x: %v", pc, err))
	} else if t.restart {
		// The system call blocked: run its svc again when woken.
		t.restart = false
		if pc, err := m.cpu.Reg(cpu.PC); err == nil {
			m.cpu.SetReg(cpu.PC, pc-4)
			t.rewound = true
		}
	}
	if !t.dying {
		switch ex.Reason {
		case cpu.StopRequested:
		case cpu.StopBudget:
			if m.cfg.MaxInsns > 0 && m.clock.Insns() >= m.cfg.MaxInsns {
				m.insnStop = true
				t.kill(linux.SIGKILL, fmt.Sprintf("instruction budget of %d exhausted", m.cfg.MaxInsns))
			}
			// Otherwise the slice is over: t stays runnable.
		case cpu.StopMemFault:
			t.memFault(ex.Fault)
		case cpu.StopInvalidInsn:
			t.trap(linux.SIGILL, ex)
		case cpu.StopException:
			switch ex.Intno {
			case cpu.ExcpBKPT:
				t.trap(linux.SIGTRAP, ex)
			default:
				t.trap(linux.SIGILL, ex)
			}
		}
	}
	if tr := m.introspect.trace; tr != nil {
		tr.ran(t, start, end, ran, stopReason(t, ex.Reason == cpu.StopBudget), budget)
	}
	if t.dying {
		m.exitTask(t)
	}
}

// exitTask ends thread t: its child-tid word is cleared and woken, its
// robust futexes released, and with the last thread the process exits.
func (m *Machine) exitTask(t *Task) {
	if t.state == taskDead {
		return
	}
	p := t.Process
	if t.clearTID != 0 && !p.exiting {
		var zero [4]byte
		if t.copyOut(t.clearTID, zero[:]) == nil {
			t.futexWake(t.clearTID, 1, ^uint32(0), false)
		}
	}
	t.exitRobustList()
	t.abandonBlocked()
	t.dropWaiters()
	m.timers.cancel(&t.timer)
	t.setState(taskDead)
	m.unserveTask(t)
	m.unload(t)
	t.ctx.Free()
	m.mu.Lock()
	delete(m.tasks, t.TID)
	m.mu.Unlock()
	for i, x := range p.tasks {
		if x == t {
			p.tasks = append(p.tasks[:i], p.tasks[i+1:]...)
			break
		}
	}
	p.deadNs += t.threadCPUNs()
	last := len(p.tasks) == 0
	if last && !p.exiting {
		p.exiting, p.status = true, ExitStatus{Code: t.exitCode}
	}
	if p.exiting {
		m.straceExit(t, p.status)
	} else {
		m.straceExit(t, ExitStatus{Code: t.exitCode})
	}
	if last {
		m.exitProcess(p)
	}
}

// exitProcess turns a process whose threads are gone into a zombie: its
// descriptors close, its memory is freed, its children go to init (or the
// nearest subreaper), its parent gets SIGCHLD and is woken.
func (m *Machine) exitProcess(p *Process) {
	if p.zombie {
		return
	}
	p.deleteTimers(true)
	m.accountExit(p)
	if p.fds != nil {
		p.fds.release()
		p.fds = nil
	}
	if p.as != nil {
		p.as.release()
		p.as = nil
	}
	p.zombie = true
	p.exited.Store(true)
	m.debugExit(p)
	reaper := m.reaperFor(p)
	for _, c := range p.children {
		m.reparented(c, p)
		c.parent, c.PPID = reaper, reaper.PID
		reaper.children = append(reaper.children, c)
		if c.zombie {
			reaper.childWait.wakeAll()
			if reaper == m.init {
				m.reap(c)
			}
		}
	}
	p.children = nil
	if v := p.vforkParent(); v != nil {
		v.vforkChild = nil
		v.vforkDone.wakeAll()
	}
	p.exitWq.wakeAll()
	par := p.parent
	if par == nil || par == m.init {
		if !p.hostOwned {
			m.reap(p) // init reaps its children at once
		}
		return
	}
	if p.exitSignal != 0 {
		par.sendSignal(p.exitSignal, childInfo(p, p.exitSignal))
	}
	par.childWait.wakeAll()
}

// reaperFor returns the process that adopts p's children: the nearest
// subreaper among its ancestors, else init.
func (m *Machine) reaperFor(p *Process) *Process {
	for a := p.parent; a != nil && a != m.init; a = a.parent {
		if a.subreaper && !a.zombie {
			return a
		}
	}
	return m.init
}

// vforkParent returns the parent waiting for p in vfork, if any.
func (p *Process) vforkParent() *Process {
	if par := p.parent; par != nil && par.vforkChild == p {
		return par
	}
	return nil
}

// reap removes a zombie from the machine.
func (m *Machine) reap(p *Process) {
	if par := p.parent; par != nil {
		for i, c := range par.children {
			if c == p {
				par.children = append(par.children[:i], par.children[i+1:]...)
				break
			}
		}
		par.childNs += p.cpuNs() + p.childNs
	}
	m.mu.Lock()
	delete(m.procs, p.PID)
	m.mu.Unlock()
}

// capAtTimer shortens d, a time slice or an idle skip starting at now, so
// that it ends when the next timer is due.
func (m *Machine) capAtTimer(now, d uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if next := m.timers.next(); next > now && next-now < d {
		return next - now
	}
	return d
}
