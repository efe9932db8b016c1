package kernel

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync/atomic"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// ExitStatus is how a process ended.
type ExitStatus struct {
	Code   int          // exit code, when Signal is 0
	Signal linux.Signal // the signal that killed it, or 0
	// Report is a one-line explanation for a process killed by the kernel
	// (a fault, the OOM killer, an exhausted instruction budget).
	Report string
	// Detail, for a fault, is the faulting thread's registers and a
	// backtrace (fault_detail.go), lines ending in newlines.
	Detail string
}

// ShellCode returns the status as a shell reports it: the exit code, or
// 128+signal.
func (s ExitStatus) ShellCode() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

// WaitStatus returns the status encoded for wait4.
func (s ExitStatus) WaitStatus() uint32 {
	if s.Signal != 0 {
		return uint32(s.Signal) & 0x7f
	}
	return uint32(s.Code&0xff) << 8
}

func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return "killed by " + s.Signal.String()
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

// Process is a thread group: an address space, a descriptor table, signal
// dispositions, credentials and its threads (Task).
type Process struct {
	m    *Machine
	PID  int // the thread-group id: the leader's TID
	PPID int

	exe        string // absolute path of the program
	undumpable bool   // prctl(PR_SET_DUMPABLE, 0)
	noNewPrivs bool
	argv       []string
	envp       []string
	auxv       [][2]uint64 // the auxiliary vector the program started with

	as    *addressSpace
	fds   *fdTable
	cwd   string
	umask uint32

	parent    *Process
	children  []*Process // in creation order
	pgid, sid int
	// hostOwned processes were started by Spawn; Wait reaps them.
	hostOwned bool
	// background processes (shell jobs started with &) do not get the
	// console's Ctrl-C.
	background bool
	// subreaper: PR_SET_CHILD_SUBREAPER.
	subreaper bool

	startNs uint64
	rlimits [16][2]uint64

	sigacts    [65]sigaction
	sigPending sigSet // process-directed signals not yet delivered
	exitSignal linux.Signal

	tasks []*Task // live threads, the leader first while it lives

	// Group state: exiting is set when the group must end (exit_group, a
	// fatal signal); zombie once every thread is gone.
	exiting bool
	zombie  bool
	exited  atomic.Bool // zombie, for other goroutines (Exited)
	status  ExitStatus
	// Job control: stopped by a signal (every thread waits).
	stopped      bool
	stopReported bool
	stopSig      linux.Signal
	contReported bool // a SIGCONT not yet reported by wait (WCONTINUED)

	// vforkChild is the CLONE_VFORK child this process waits for.
	vforkChild *Process
	vforkDone  waitQueue // woken when vforkChild execs or exits
	childWait  waitQueue // woken when a child changes state
	sigWq      waitQueue // woken when a signal is generated for it (signalfd)

	deadNs  uint64 // CPU time of exited threads
	childNs uint64 // CPU time of reaped children
	pending []error
	exitWq  waitQueue // woken when the process becomes a zombie (host waits)

	procAttrs // credentials, priorities, timers, terminal (attrs.go)
}

// Task is a thread: system calls run on behalf of a task.
type Task struct {
	*Process
	TID int

	ctx   *cpu.Context // registers while not on the CPU
	state taskState
	srv   *sched.Server
	comm  string // thread name (PR_SET_NAME), "" for the program's

	sigMask    uint64
	sigPending sigSet // thread-directed signals
	savedMask  uint64 // the mask before rt_sigsuspend/ppoll, while suspended
	waitSet    uint64 // signals rt_sigtimedwait waits for
	suspended  bool
	altStack   sigStack
	fault      *faultInfo // a synchronous fault to deliver as a signal
	// lastFault and lastFaultPC describe the last fault or trap, for the
	// report of a process it kills.
	lastFault   string
	lastFaultPC uint64

	// Blocking (wait.go).
	waiters []*waiter
	nwait   int
	timer   timer
	// deadline is the absolute timeout of a restarted blocking system call
	// (nanosleep, ppoll), kept across restarts; 0 when none.
	deadline uint64
	// restart: the current system call blocked; its svc runs again when
	// the task is woken.
	restart bool
	// rewound: the PC is at the svc of a blocked system call.
	rewound bool
	// sysEntry: the debugger was told this thread entered its current
	// system call (debug_syscall.go); sysDefer: the call has not run yet.
	sysEntry, sysDefer bool
	// stop: the current system call asked the CPU to stop.
	stop bool
	// xferMark: see markTransfer.
	xferMark uint64
	// partial counts the bytes a blocked write already moved; its restart
	// goes on from there, and a signal that interrupts it returns them.
	partial uint64
	// futexWoken: a futex wake (or PI hand-over) ended the wait; the
	// restarted futex call returns 0.
	futexWoken bool

	clearTID   uint64 // set_tid_address / CLONE_CHILD_CLEARTID
	robustList uint64 // set_robust_list
	exitCode   int    // for a thread that exits alone
	dying      bool   // the thread must end when it next stops
	insns      uint64 // instructions retired

	taskAttrs // priority, blocked opens (attrs.go)
}

// taskState is where a thread is in its life.
type taskState int

const (
	taskRunnable taskState = iota // ready to run (or running)
	taskBlocked                   // waiting in a system call
	taskStopped                   // stopped with its group
	taskDead                      // exited
)

// ProcessSpec describes a program to start.
type ProcessSpec struct {
	Path string   // program path in the machine's file system
	Argv []string // argv; defaults to {Path}
	Env  []string // environment, "K=V"
	Cwd  string   // working directory; defaults to "/"
}

// allocPID returns a fresh process or thread id.
func (m *Machine) allocPID() (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, errors.New("machine is closed")
	}
	pid := m.nextPID
	m.nextPID++
	return pid, nil
}

// newProcess allocates a process with a fresh pid and its first thread
// (not yet scheduled), holding the CPU's initial register state.
func (m *Machine) newProcess() (*Process, *Task, error) {
	pid, err := m.allocPID()
	if err != nil {
		return nil, nil, err
	}
	p := &Process{m: m, PID: pid, umask: 0o022, rlimits: defaultRlimits(), exitSignal: linux.SIGCHLD}
	t, err := m.newTask(p, pid, m.initCtx)
	if err != nil {
		return nil, nil, err
	}
	return p, t, nil
}

// newTask makes a thread of p with registers copied from ctx.
func (m *Machine) newTask(p *Process, tid int, ctx *cpu.Context) (*Task, error) {
	c, err := m.cpu.NewContext()
	if err != nil {
		return nil, err
	}
	c.CopyFrom(ctx)
	t := &Task{Process: p, TID: tid, ctx: c}
	t.timer.t, t.timer.index = t, -1
	p.tasks = append(p.tasks, t)
	return t, nil
}

// Spawn loads a program into a new process. The process runs when Wait is
// called (or while any other process of the machine is waited for).
func (m *Machine) Spawn(spec ProcessSpec) (*Process, error) {
	p := path.Clean("/" + spec.Path)
	argv := spec.Argv
	if len(argv) == 0 {
		argv = []string{spec.Path}
	}
	cwd := spec.Cwd
	if cwd == "" {
		cwd = "/"
	}
	proc, t, err := m.newProcess()
	if err != nil {
		return nil, err
	}
	proc.cwd = cwd
	proc.pgid, proc.sid, proc.hostOwned = proc.PID, proc.PID, true
	proc.fds = newConsoleFDs(m)
	proc.parent, proc.PPID = m.init, m.init.PID
	proc.procAttrs = m.spawnAttrs()
	if err := t.execProgram(p, argv, spec.Env); err != nil {
		t.ctx.Free()
		proc.fds.release()
		if proc.as != nil {
			proc.as.release()
		}
		var ee *ExecError
		if errors.As(err, &ee) && ee.Path == "" {
			ee.Path = spec.Path
		}
		return nil, err
	}
	proc.startNs = m.clock.Now()
	m.init.children = append(m.init.children, proc)
	m.addProcess(proc)
	return proc, nil
}

// Run spawns a program and waits for it; then the machine runs on until
// every other process has exited too (orphans finish their work). The
// status is the program's.
func (m *Machine) Run(spec ProcessSpec) (ExitStatus, error) {
	return m.RunContext(context.Background(), spec)
}

// RunContext is Run that ends when ctx is done: every process of the
// machine is then killed (SIGKILL) and the error is ctx's. The machine
// can still be inspected and closed.
func (m *Machine) RunContext(ctx context.Context, spec ProcessSpec) (ExitStatus, error) {
	p, err := m.Spawn(spec)
	if err != nil {
		return ExitStatus{}, err
	}
	st, err := p.WaitContext(ctx)
	if err == nil {
		err = m.DrainContext(ctx)
	}
	return st, err
}

// Drain runs the machine until no process is left.
func (m *Machine) Drain() error { return m.DrainContext(context.Background()) }

// DrainContext is Drain that kills every process and ends when ctx is
// done.
func (m *Machine) DrainContext(ctx context.Context) error {
	err := m.runUntilCtx(ctx, func() bool { return len(m.init.children) == 0 })
	if ctx.Err() != nil {
		m.killAll()
	}
	return err
}

// killAll ends every process now, as SIGKILL does (a cancelled run).
func (m *Machine) killAll() {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	for _, p := range m.liveProcs() {
		p.exitGroup(ExitStatus{Signal: linux.SIGKILL, Report: "killed: the run was cancelled"})
	}
}

// Wait runs the machine until the process exits and returns its status.
// Other processes run too, in scheduler order. An error means the kernel
// itself failed (never a guest fault, which is a status), every process
// is blocked for good (DeadlockError), or the process is stopped and
// nothing else can run (StoppedError: continue it and wait again).
func (p *Process) Wait() (ExitStatus, error) { return p.WaitContext(context.Background()) }

// WaitContext is Wait that ends when ctx is done: the machine's processes
// are then killed (SIGKILL) and the error is ctx's.
func (p *Process) WaitContext(ctx context.Context) (ExitStatus, error) {
	m := p.m
	err := m.runUntilCtx(ctx, func() bool { return p.zombie })
	if ctx.Err() != nil && !p.zombie {
		m.killAll()
	}
	errs := append(p.pending, err)
	p.pending = nil
	if p.zombie {
		m.reap(p)
	}
	return p.status, errors.Join(errs...)
}

// commName is the name of /proc/<pid>/comm and PR_GET_NAME: at most 15
// bytes.
func (t *Task) commName() string {
	name := t.comm
	if name == "" {
		name = path.Base(t.exe)
	}
	if len(name) > commLen-1 {
		name = name[:commLen-1]
	}
	return name
}

// leader returns the thread whose TID is the PID, or the first live one.
func (p *Process) leader() *Task {
	for _, t := range p.tasks {
		if t.TID == p.PID {
			return t
		}
	}
	if len(p.tasks) > 0 {
		return p.tasks[0]
	}
	return nil
}

// Signal sends sig to the process as kill(2) does; it acts when the
// process next runs. Safe from any goroutine: while the machine runs, the
// signal is sent at its next scheduling decision. A process that has
// exited gives ESRCH.
func (p *Process) Signal(sig linux.Signal) error {
	if sig < 1 || sig > linux.SIGRTMAX {
		return linux.EINVAL
	}
	if p.exited.Load() {
		return linux.ESRCH
	}
	p.m.do(func() {
		if !p.zombie && !p.exiting {
			p.sendSignal(sig, siginfo{code: siUser})
		}
	})
	return nil
}

// Exited reports whether the process has exited; Wait then returns at
// once. Safe from any goroutine, also while the machine runs.
func (p *Process) Exited() bool { return p.exited.Load() }

// exitGroup ends every thread of the process with status s (exit_group, a
// fatal signal). Threads that are not on the CPU end now; the running one
// ends when the CPU stops.
func (p *Process) exitGroup(s ExitStatus) {
	if p.exiting || p.zombie {
		return
	}
	p.exiting = true
	p.status = s
	if s.Report != "" {
		p.m.log.Sugar().Debugf("pid %d (%s): %s", p.PID, path.Base(p.exe), s.Report)
	}
	for _, t := range append([]*Task(nil), p.tasks...) {
		t.dying = true
		if t != p.m.cur {
			p.m.exitTask(t)
		} else {
			t.stop = true
		}
	}
}

// kill ends the process by a signal.
func (p *Process) kill(sig linux.Signal, report string) {
	p.exitGroup(ExitStatus{Signal: sig, Report: report})
}

// cpuNs is the CPU time the process used, in ns.
func (p *Process) cpuNs() uint64 {
	n := p.deadNs
	for _, t := range p.tasks {
		n += t.insns * cpu.NsPerInsn
	}
	return n
}

// threadCPUNs is the CPU time the thread used, in ns (cpuNs is its
// process's).
func (t *Task) threadCPUNs() uint64 { return t.insns * cpu.NsPerInsn }

// Zombie reports whether the process has exited and is not reaped yet.
func (p *Process) Zombie() bool { return p.zombie }

// Threads returns the number of live threads.
func (p *Process) Threads() int { return len(p.tasks) }

// server returns the CBS server of the process's main thread (nil once it
// is gone): the SIS layer's budget actions act on it.
func (p *Process) server() *sched.Server {
	if t := p.leader(); t != nil {
		return t.srv
	}
	return nil
}

// rss returns the bytes of machine RAM the process's pages use.
func (p *Process) rss() uint64 {
	if p.as == nil {
		return 0
	}
	return p.as.rssBytes()
}
