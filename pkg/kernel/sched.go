package kernel

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// Process scheduling. One goroutine runs every process of the machine in
// turn: the CBS+EDF scheduler (pkg/sched) picks a process, its engine runs
// until the slice (a count of instructions, never host time) is spent, a
// system call blocks or the process exits. A blocking system call returns
// errRestart after registering what would wake it; the engine stops with
// the PC rewound to the svc, which runs again once the process is woken.

// errRestart is returned by a handler that blocked; the guest never sees it
// (Linux's ERESTARTSYS).
const errRestart = linux.Errno(512)

// Scheduler returns the machine's CBS+EDF scheduler (for det and metrics).
// It must only be used while no process runs.
func (m *Machine) Scheduler() *sched.Scheduler { return m.sched }

// Det returns the `det` command controller.
func (m *Machine) Det() *sched.Det { return m.det }

// addProcess registers a new process with a default CBS server.
func (m *Machine) addProcess(p *Process) {
	now := m.clock.Now()
	srv, err := m.sched.Add(sched.Process, sched.DefaultProcessWCET, sched.DefaultProcessPeriod, 0, now)
	if err != nil { // constant, valid parameters
		panic(err)
	}
	p.srv = srv
	m.sched.SetRunnable(srv, true, now)
	m.mu.Lock()
	m.procs[p.PID] = p
	m.bySrv[srv.ID] = p
	m.mu.Unlock()
}

// liveProcs returns the processes in pid order.
func (m *Machine) liveProcs() []*Process {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Process, 0, len(m.procs))
	for _, p := range m.procs {
		out = append(out, p)
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

// setState moves p to state s and tells the scheduler.
func (p *Process) setState(s procState) {
	p.state = s
	if p.srv != nil {
		p.m.sched.SetRunnable(p.srv, s == stateRunnable, p.m.clock.Now())
	}
}

// block makes the current system call wait for one of keys (notify) or
// until the absolute machine time wakeAt (0: no timeout). The handler
// returns errRestart right after.
func (t *Task) block(wakeAt uint64, keys ...any) error {
	p := t.Process
	p.blockKeys = append(p.blockKeys[:0], keys...)
	p.wakeAt = wakeAt
	p.restart = true
	p.stop = true
	p.setState(stateBlocked)
	return errRestart
}

// blockAfter makes the process wait for key once the current system call
// has returned normally (vfork).
func (t *Task) blockAfter(key any) {
	p := t.Process
	p.blockKeys = append(p.blockKeys[:0], key)
	p.wakeAt = 0
	p.stop = true
	p.setState(stateBlocked)
}

// timeout returns the absolute deadline of a blocking call that waits for
// d, fixed at its first attempt and kept across restarts.
func (t *Task) timeout(d time.Duration) uint64 {
	if t.deadline == 0 {
		t.deadline = t.m.clock.Now() + uint64(d)
		if t.deadline == 0 {
			t.deadline = 1
		}
	}
	return t.deadline
}

// expired reports whether the deadline set by timeout has passed, and
// clears it when it has.
func (t *Task) expired() bool {
	if t.deadline != 0 && t.m.clock.Now() >= t.deadline {
		t.deadline = 0
		return true
	}
	return false
}

// sleep blocks the task for d (nanosleep): other processes run meanwhile;
// when every process sleeps, deterministic time jumps to the first wake-up.
func (t *Task) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	at := t.timeout(d)
	if t.expired() {
		return nil
	}
	return t.block(at)
}

// notify wakes every process blocked on key.
func (m *Machine) notify(key any) {
	for _, p := range m.liveProcs() {
		if p.state != stateBlocked {
			continue
		}
		for _, k := range p.blockKeys {
			if k == key {
				p.wake()
				break
			}
		}
	}
}

// wake makes a blocked process runnable.
func (p *Process) wake() {
	if p.state != stateBlocked {
		return
	}
	p.blockKeys = p.blockKeys[:0]
	p.wakeAt = 0
	p.setState(stateRunnable)
}

// runUntil runs processes until done reports true. It returns an error when
// no process can ever run again before done.
func (m *Machine) runUntil(done func() bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m.runMu.Lock()
	defer m.runMu.Unlock()
	for !done() {
		m.deliverInterrupts()
		now := m.clock.Now()
		if m.fireTimers(now) {
			continue // a timer may have ended what we wait for
		}
		next := m.wakeTimers(now)
		srv := m.sched.PickWorkConserving(now)
		if srv == nil {
			if next == 0 {
				return m.deadlock()
			}
			next = m.capAtTimer(now, next-now) + now
			if m.clock.Realtime() {
				time.Sleep(time.Duration(next - now))
			} else {
				m.clock.Skip(next - now)
			}
			continue
		}
		p := m.bySrv[srv.ID]
		if p == nil {
			// A server of a service (det, LLM) with no process: it has
			// nothing to execute here.
			m.sched.SetRunnable(srv, false, now)
			continue
		}
		m.runSlice(p, m.capAtTimer(now, m.sched.Slice(srv, now)))
	}
	return nil
}

// machineTimer is a callback due when machine time reaches at (atTime).
type machineTimer struct {
	at uint64
	f  func()
}

// atTime arranges for f to run once machine time reaches at (ns since
// boot). f runs on the goroutine that runs the processes, between two time
// slices (no process runs; it may change process and scheduler state) and
// only while processes run: in deterministic mode time passes only then.
// Timers due at the same time run in the order they were set; f may set
// new ones. The returned function cancels the timer.
func (m *Machine) atTime(at uint64, f func()) (cancel func()) {
	t := &machineTimer{at: at, f: f}
	m.mu.Lock()
	m.timers = append(m.timers, t)
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for i, x := range m.timers {
			if x == t {
				m.timers = append(m.timers[:i], m.timers[i+1:]...)
				return
			}
		}
	}
}

// fireTimers runs the timers due at now, earliest first, and reports
// whether any was.
func (m *Machine) fireTimers(now uint64) (fired bool) {
	for ; ; fired = true {
		m.mu.Lock()
		due := -1
		for i, t := range m.timers {
			if t.at <= now && (due < 0 || t.at < m.timers[due].at) {
				due = i
			}
		}
		if due < 0 {
			m.mu.Unlock()
			return fired
		}
		f := m.timers[due].f
		m.timers = append(m.timers[:due], m.timers[due+1:]...)
		m.mu.Unlock()
		f()
	}
}

// capAtTimer shortens d, a time slice or an idle skip starting at now, so
// that it ends when the next timer is due.
func (m *Machine) capAtTimer(now, d uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.timers {
		if t.at > now && t.at-now < d {
			d = t.at - now
		}
	}
	return d
}

// wakeTimers wakes the processes whose timeout passed and returns the
// earliest pending timeout (0: none).
func (m *Machine) wakeTimers(now uint64) uint64 {
	var next uint64
	for _, p := range m.liveProcs() {
		if p.state != stateBlocked || p.wakeAt == 0 {
			continue
		}
		if p.wakeAt <= now {
			p.wake()
			continue
		}
		if next == 0 || p.wakeAt < next {
			next = p.wakeAt
		}
	}
	return next
}

// deadlock describes why nothing can run.
func (m *Machine) deadlock() error {
	var b strings.Builder
	for _, p := range m.liveProcs() {
		st := [...]string{"runnable", "blocked", "stopped", "zombie"}[p.state]
		fmt.Fprintf(&b, " pid %d (%s) %s;", p.PID, path0(p.exe), st)
	}
	return fmt.Errorf("kernel: every process is blocked or stopped for good:%s", strings.TrimSuffix(b.String(), ";"))
}

func path0(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// runSlice runs p for at most slice instructions.
func (m *Machine) runSlice(p *Process, slice uint64) {
	if m.insnStop {
		p.kill(linux.SIGKILL, fmt.Sprintf("instruction budget of %d exhausted", m.cfg.MaxInsns))
		m.exitDone(p)
		return
	}
	m.cur = p
	defer func() { m.cur = nil }()
	if !p.deliverSignals() || p.state != stateRunnable {
		if p.exited {
			m.exitDone(p)
		}
		return
	}
	p.rewound = false
	start := m.clock.Now()
	if m.lastProc != nil && m.lastProc != p {
		m.sched.Switches.Record(start - m.lastStop)
		m.Metrics().ObserveContextSwitch(time.Duration(start - m.lastStop))
	}
	startInsns := m.clock.Insns()
	stopAt := startInsns + slice
	if m.cfg.MaxInsns > 0 && m.cfg.MaxInsns < stopAt {
		stopAt = m.cfg.MaxInsns
	}
	p.eng.SetStopAt(stopAt)
	pc, err := p.eng.Reg(cpu.PC)
	var ex cpu.Exit
	if err == nil {
		ex, err = p.eng.Run(pc)
	}
	end := m.clock.Now()
	m.busy.Add(end - start)
	m.sched.Charge(p.srv, m.clock.Insns()-startInsns, end)
	m.lastProc, m.lastStop = p, end
	p.stop = false
	if p.oldEng != nil { // execve replaced the engine during the run
		p.insnsBase += p.oldEng.Insns()
		p.oldEng.Close()
		p.oldEng = nil
	}
	if err != nil {
		p.pending = append(p.pending, err)
		p.kill(linux.SIGSEGV, fmt.Sprintf("cpu error at pc=%#x: %v", pc, err))
	} else if p.restart {
		// The system call blocked: run its svc again when woken.
		p.restart = false
		if pc, err := p.eng.Reg(cpu.PC); err == nil {
			p.eng.SetReg(cpu.PC, pc-4)
			p.rewound = true
		}
	}
	if !p.exited {
		switch ex.Reason {
		case cpu.StopRequested:
		case cpu.StopBudget:
			if m.cfg.MaxInsns > 0 && m.clock.Insns() >= m.cfg.MaxInsns {
				m.insnStop = true
				p.kill(linux.SIGKILL, fmt.Sprintf("instruction budget of %d exhausted", m.cfg.MaxInsns))
			}
			// Otherwise the slice is over: p stays runnable.
		case cpu.StopMemFault:
			p.fault(linux.SIGSEGV, ex)
		case cpu.StopInvalidInsn:
			p.fault(linux.SIGILL, ex)
		case cpu.StopException:
			switch ex.Intno {
			case cpu.ExcpUDEF:
				p.fault(linux.SIGILL, ex)
			case cpu.ExcpBKPT:
				p.fault(linux.SIGTRAP, ex)
			default:
				p.fault(linux.SIGSEGV, ex)
			}
		}
	}
	if p.exited {
		m.exitDone(p)
	}
}

// exitDone turns an exited process into a zombie: its descriptors close,
// its engine is freed, its children go to the host, its parent gets
// SIGCHLD and is woken.
func (m *Machine) exitDone(p *Process) {
	if p.state == stateZombie {
		return
	}
	if p.tidAddr != 0 && p.eng != nil {
		var zero [4]byte
		p.copyOut(p.tidAddr, zero[:]) // CLONE_CHILD_CLEARTID; nobody waits on the futex
	}
	m.accountExit(p)
	if err := p.release(); err != nil {
		p.pending = append(p.pending, err)
	}
	p.blockKeys = nil
	p.wakeAt = 0
	p.setState(stateZombie)
	m.sched.Remove(p.srv)
	for _, c := range p.children {
		c.parent, c.PPID = nil, 0
		if c.state == stateZombie {
			m.reap(c)
		}
	}
	p.children = nil
	if v := p.vforkParent(); v != nil {
		v.vforkChild = nil
		m.notify(vforkKey{v})
	}
	if par := p.parent; par != nil {
		if p.exitSignal != 0 {
			par.sendSignal(p.exitSignal)
		}
		m.notify(childKey{par})
	} else if !p.hostOwned {
		m.reap(p) // an orphan: nobody will wait for it
	}
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
	if p.srv != nil {
		delete(m.bySrv, p.srv.ID)
	}
	m.mu.Unlock()
}

// Keys processes block on.
type (
	childKey struct{ p *Process } // a child of p changed state
	vforkKey struct{ p *Process } // p's vfork child exec'd or exited
)
