package kernel

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// The machine as a debugger sees it: a gdbstub.Target in all-stop mode
// over every guest process of the machine.
//
// The machine runs on the goroutine that called Run, Wait or Drain (the
// machine goroutine). When the debugger stops it, that goroutine parks at a
// stop point and runs the debugger's requests (registers, memory,
// breakpoints) itself until a Resume; so the CPU and the kernel's state
// are only ever touched by one goroutine. Stop points are:
//
//   - inside a CPU run (debug_cpu.go): a breakpoint, a step, a watchpoint,
//     or an event of a system call (fork, vfork, exec). The stop is
//     invisible to the kernel: the run goes on from there, with the same
//     time slice and the same instruction count as without it;
//   - before a signal is delivered (deliverSignals);
//   - between time slices (runUntil), for Attach, Interrupt and the events
//     found between runs (a process's exit).
//
// A machine without a debugger pays one nil check per time slice; with one
// attached and running freely, also nothing per instruction.

// errTargetRunning is returned by a request made while the machine runs.
var errTargetRunning = errors.New("kernel: the machine is running (the debugger may only do this while it is stopped)")

// debugger is the machine's debugger state (Machine.dbg).
type debugger struct {
	m *Machine

	// on is set while the hooks matter: a debugger is attached or awaited,
	// or a stop is requested.
	on atomic.Bool
	// stopReq asks the machine goroutine to park at its next stop point.
	stopReq atomic.Bool
	// catching: the debugger asked for system call stops (Options.CatchSyscalls).
	catching atomic.Bool

	mu         sync.Mutex
	parked     bool // the machine goroutine waits in park
	resumed    bool // a Resume awaits its StopEvent
	intr       bool // the stop request is the debugger's interrupt
	waitAttach bool // the machine waits for a debugger before it runs
	scope      int  // the one process Attach debugs (0: all)
	attaching  int  // Attach calls waiting for the machine to stop
	sessions   int  // Attach calls so far
	resumeNow  bool // the request just run lets the machine go on
	reqs       chan debugReq
	events     chan gdbstub.StopEvent
	wake       chan struct{}

	// opts are the debugger's options (under mu: the stub's goroutine
	// sets them); the rest belongs to the machine goroutine (or a
	// request it runs).
	opts    gdbstub.Options
	procs   map[int]*debugProc // debugged processes by PID
	tasks   map[*Task]*debugTask
	resume  gdbstub.Resume      // the actions of the current resume
	pending []gdbstub.StopEvent // events found, not yet reported
	bps     map[bpKey]*debugBP  // breakpoints by process and address
	idle    []*cpu.Breakpoint   // removed breakpoints' hooks, inactive
	watches map[gdbstub.Breakpoint]bool
	wpages  []cpu.WatchPage // the CPU's watched pages
	cpuPid  int             // the process whose watched pages the TLB holds
	// stopCPU: an event of the running thread's system call stopped the
	// CPU; the run goes on once it is reported.
	stopCPU bool
	// stepOver: the CPU runs one instruction with the watched pages open.
	stepOver bool
	// rec is the recording of a reverse-debugging session (nil: none).
	rec *recording
	// live are the debugger's options while a new machine runs to a point
	// with the options of the past.
	live gdbstub.Options
	// lastStop is the last stop reported (under mu).
	lastStop gdbstub.StopEvent
}

// debugReq is a request run by the parked machine goroutine.
type debugReq struct {
	f    func()
	done chan struct{}
}

// debugProc is a debugged process.
type debugProc struct {
	attached bool  // it existed before the debugger attached
	vforker  *Task // the parent's thread waiting for this vfork child
}

// debugTask is the debugger's state of one thread.
type debugTask struct {
	step bool // a single step is pending
	// stepped: the step's instruction ran; the thread stops before its
	// next one.
	stepped bool
	// sig is the signal the thread stopped for, until a resume decides
	// what is delivered instead (deliver, with sigSet).
	sig     linux.Signal
	sigSet  bool
	deliver linux.Signal
	info    siginfo // sig's information ($_siginfo)
	// approved are signals the debugger itself delivers: they do not stop.
	approved uint64
	// held: a new child of a fork event, stopped until a resume names it.
	held bool
	// lastPoint is the in-CPU point of the last instruction the thread
	// ran (reverse steps).
	lastPoint point
	// last is the position of the last instruction the thread ran
	// (valid with ran), for reverse steps.
	last uint64
	ran  bool
}

// bpKey names a breakpoint of a process.
type bpKey struct {
	pid  int
	addr uint64
}

// debugBP is a breakpoint: its CPU hook and the kinds gdb inserted.
type debugBP struct {
	bp     *cpu.Breakpoint
	sw, hw bool
}

// maxIdleHooks bounds the hooks of removed breakpoints kept for reuse.
const maxIdleHooks = 64

// Debugger returns the machine's debugger target, for gdbstub.Serve: the
// whole machine, every guest process, in all-stop mode. A machine
// without one never pays for it.
func (m *Machine) Debugger() gdbstub.Target {
	return m.debugger()
}

// debugger returns the machine's debugger state, creating it.
func (m *Machine) debugger() *debugger {
	if d := m.dbg.Load(); d != nil {
		return d
	}
	d := &debugger{
		m:       m,
		reqs:    make(chan debugReq),
		events:  make(chan gdbstub.StopEvent, 1),
		wake:    make(chan struct{}, 1),
		procs:   map[int]*debugProc{},
		tasks:   map[*Task]*debugTask{},
		bps:     map[bpKey]*debugBP{},
		watches: map[gdbstub.Breakpoint]bool{},
	}
	if !m.dbg.CompareAndSwap(nil, d) {
		return m.dbg.Load()
	}
	return d
}

// debugActive returns the debugger when its hooks have work, else nil:
// the one check the kernel makes per time slice.
func (m *Machine) debugActive() *debugger {
	if d := m.dbg.Load(); d != nil && d.on.Load() {
		return d
	}
	return nil
}

// WaitForDebugger makes the machine wait for a debugger to attach before
// any guest runs (the next Run, Wait or Drain holds there).
func (m *Machine) WaitForDebugger() {
	d := m.debugger()
	d.mu.Lock()
	d.waitAttach = true
	d.mu.Unlock()
	d.on.Store(true)
}

// kick wakes a machine that waits idle (no thread can run).
func (d *debugger) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// call runs f on the parked machine goroutine.
func (d *debugger) call(f func()) error {
	d.mu.Lock()
	ok := d.parked
	d.mu.Unlock()
	if !ok {
		return errTargetRunning
	}
	req := debugReq{f: f, done: make(chan struct{})}
	d.reqs <- req
	<-req.done
	return nil
}

// park stops the machine at a stop point: ev, when not nil, answers the
// running Resume; then the debugger's requests run here until one resumes
// the machine or no process is debugged any more.
func (d *debugger) park(ev *gdbstub.StopEvent) {
	d.mu.Lock()
	if ev != nil {
		d.deliverLocked(*ev)
	}
	d.parked = true
	d.mu.Unlock()
	d.clearSteps()
	for {
		req := <-d.reqs
		req.f()
		d.mu.Lock()
		resume := d.resumeNow || len(d.procs) == 0
		d.resumeNow = false
		if resume {
			d.parked = false
		}
		d.mu.Unlock()
		close(req.done)
		if resume {
			return
		}
	}
}

// deliverLocked answers the running Resume with ev.
func (d *debugger) deliverLocked(ev gdbstub.StopEvent) {
	if !d.resumed {
		return
	}
	d.resumed = false
	d.lastStop = ev
	d.events <- ev // buffered: one event per Resume
}

// clearSteps forgets the steps of the resume that just ended.
func (d *debugger) clearSteps() {
	for _, ts := range d.tasks {
		ts.step, ts.stepped = false, false
	}
}

// debugged reports whether process pid is debugged.
func (d *debugger) debugged(pid int) bool { return d.procs[pid] != nil }

// task returns the debugger state of t, creating it.
func (d *debugger) task(t *Task) *debugTask {
	ts := d.tasks[t]
	if ts == nil {
		ts = &debugTask{}
		d.tasks[t] = ts
	}
	return ts
}

// threadID names t for the debugger.
func threadID(t *Task) gdbstub.ThreadID { return gdbstub.ThreadID{Pid: t.PID, Tid: t.TID} }

// allowed reports whether the current resume lets t run.
func (d *debugger) allowed(t *Task) bool {
	if !d.debugged(t.PID) {
		return true
	}
	if ts := d.tasks[t]; ts != nil && ts.held {
		return false
	}
	_, ok := d.resume.ActionFor(threadID(t))
	return ok
}

// queue records an event to report at the next stop point (none while
// the machine runs to a point of its recorded past).
func (d *debugger) queue(ev gdbstub.StopEvent) {
	if d.seekingQuietly() {
		return
	}
	d.pending = append(d.pending, ev)
}

// reportPending parks for the first pending event, and again for each
// one a resume leaves pending. It reports whether it parked.
func (d *debugger) reportPending() bool {
	parked := false
	for len(d.pending) > 0 && len(d.procs) > 0 {
		ev := d.pending[0]
		d.pending = d.pending[1:]
		d.park(&ev)
		parked = true
	}
	return parked
}

// point is the stop point between time slices (runUntil).
func (d *debugger) point() {
	d.abandoned()
	if d.rec != nil {
		d.maybeCheckpoint()
	}
	if ev := d.atKernel(); ev != nil {
		d.park(ev)
	}
	d.abandoned()
	d.mu.Lock()
	wait := d.waitAttach && d.sessions == 0
	stop := d.stopReq.Swap(false)
	intr := d.intr
	d.intr = false
	d.mu.Unlock()
	if d.reportPending() {
		d.abandoned()
		return
	}
	switch {
	case intr && len(d.procs) > 0:
		if d.rec != nil && d.rec.seek != nil {
			d.rec.seek = nil // the reverse operation stops here
			d.endSeek()
		}
		ev := gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: linux.SIGINT, Thread: d.interruptThread()}
		d.park(&ev)
	case wait || stop:
		d.park(nil)
	}
	d.abandoned()
	d.trimIdleHooks(maxIdleHooks)
	d.settle()
}

// settle turns the hooks off when nothing needs them.
func (d *debugger) settle() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.procs) == 0 && !d.waitAttach && d.attaching == 0 && !d.stopReq.Load() && d.rec == nil {
		d.on.Store(false)
	}
}

// interruptThread is the thread an interrupt is reported for: the one
// that ran last if it is debugged, else the first debugged thread.
func (d *debugger) interruptThread() gdbstub.ThreadID {
	if t := d.m.lastTask; t != nil && t.state != taskDead && d.debugged(t.PID) {
		return threadID(t)
	}
	for _, pid := range d.pids() {
		if p := d.m.lookup(pid); p != nil && len(p.tasks) > 0 {
			return threadID(p.tasks[0])
		}
	}
	return gdbstub.ThreadID{}
}

// pids returns the debugged PIDs in order.
func (d *debugger) pids() []int {
	out := make([]int, 0, len(d.procs))
	for pid := range d.procs {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

// liveTask returns the live thread t of a debugged process.
func (d *debugger) liveTask(id gdbstub.ThreadID) (*Task, error) {
	if !d.debugged(id.Pid) {
		return nil, fmt.Errorf("process %d is not debugged", id.Pid)
	}
	t := d.m.lookupTask(id.Tid)
	if t == nil || t.PID != id.Pid || t.state == taskDead {
		return nil, fmt.Errorf("no thread %d.%d", id.Pid, id.Tid)
	}
	return t, nil
}

// liveProc returns the debugged process pid.
func (d *debugger) liveProc(pid int) (*Process, error) {
	if !d.debugged(pid) {
		return nil, fmt.Errorf("process %d is not debugged", pid)
	}
	p := d.m.lookup(pid)
	if p == nil || p.zombie || p.as == nil {
		return nil, fmt.Errorf("no process %d", pid)
	}
	return p, nil
}

// release stops debugging process pid: its breakpoints and watchpoints go,
// its threads run freely.
func (d *debugger) release(pid int) {
	delete(d.procs, pid)
	d.forget(pid)
	for t := range d.tasks {
		if t.PID == pid || t.state == taskDead {
			delete(d.tasks, t)
			if t.state == taskRunnable && t.srv != nil {
				d.m.sched.SetRunnable(t.srv, true, d.m.clock.Now())
			}
		}
	}
	if len(d.procs) == 0 {
		// The machine runs on by itself (park returns).
		d.pending = nil
		d.deleteIdleHooks()
	}
}

// debugCancelWait ends a wait for a debugger that has not come (the
// console's Ctrl-C): the machine runs on without one.
func (m *Machine) debugCancelWait() {
	d := m.dbg.Load()
	if d == nil {
		return
	}
	d.mu.Lock()
	waiting := d.waitAttach && d.sessions == 0
	d.waitAttach = false
	d.mu.Unlock()
	if waiting {
		go d.call(func() {
			d.mu.Lock()
			d.resumeNow = true
			d.mu.Unlock()
		})
	}
}
