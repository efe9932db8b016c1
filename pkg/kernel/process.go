package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// ExitStatus is how a process ended.
type ExitStatus struct {
	Code   int          // exit code, when Signal is 0
	Signal linux.Signal // the signal that killed it, or 0
	// Report is a one-line explanation for a process killed by the kernel
	// (a fault or an exhausted instruction budget).
	Report string
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

// procState is where a process is in its life.
type procState int

const (
	stateRunnable procState = iota // ready to run (or running)
	stateBlocked                   // waiting in a system call
	stateStopped                   // stopped by a signal
	stateZombie                    // exited, not yet reaped
)

// Process is a guest process: an address space with one thread of
// execution, a file-descriptor table and credentials.
type Process struct {
	m    *Machine
	PID  int
	PPID int

	exe string // absolute path of the program
	// comm is the name prctl(PR_SET_NAME) gave (commSet); else the
	// program's base name is the name (commName).
	comm       string
	commSet    bool
	undumpable bool // prctl(PR_SET_DUMPABLE, 0)
	noNewPrivs bool
	argv       []string
	envp       []string

	task *Task // the running thread

	eng   cpu.Engine
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

	startNs    uint64
	tidAddr    uint64 // set_tid_address / CLONE_CHILD_CLEARTID
	robustList uint64 // set_robust_list
	rlimits    [16][2]uint64

	sigMask    uint64
	savedMask  uint64 // the mask before rt_sigsuspend, while suspended
	suspended  bool
	sigPending uint64
	sigacts    [65]sigaction
	altStack   sigStack
	exitSignal linux.Signal // sent to the parent at exit (SIGCHLD)

	state procState
	srv   *sched.Server
	// blockKeys are the events that wake a blocked process; wakeAt is a
	// timeout (machine ns, 0 for none).
	blockKeys []any
	wakeAt    uint64
	// deadline is the absolute timeout of a restarted blocking system call
	// (nanosleep, ppoll), kept across restarts; 0 when none.
	deadline uint64
	// restart: the current system call blocked; its svc runs again when
	// the process is woken.
	restart bool
	// rewound: the PC is at the svc of a blocked system call.
	rewound bool
	// stopReported: a stop not yet reported by wait4(WUNTRACED).
	stopReported bool
	stopSig      linux.Signal
	// vforkChild is the CLONE_VFORK child this process waits for.
	vforkChild *Process
	// oldEng is an engine replaced by execve, closed once it stops.
	oldEng cpu.Engine

	xferMark  uint64 // see markTransfer
	insnsBase uint64 // instructions of engines replaced by execve
	childNs   uint64 // CPU time of reaped children

	stop    bool // the current syscall asked the engine to stop
	exited  bool
	status  ExitStatus
	pending []error // kernel errors to surface from Wait
}

// Task is a thread of a process; system calls run on behalf of a task.
type Task struct {
	*Process
	TID int
}

// ProcessSpec describes a program to start.
type ProcessSpec struct {
	Path string   // program path in the machine's file system
	Argv []string // argv; defaults to {Path}
	Env  []string // environment, "K=V"
	Cwd  string   // working directory; defaults to "/"
}

// newProcess allocates a process with a fresh pid and engine.
func (m *Machine) newProcess() (*Process, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("machine is closed")
	}
	pid := m.nextPID
	m.nextPID++
	m.mu.Unlock()
	p := &Process{m: m, PID: pid, umask: 0o022, rlimits: defaultRlimits(), exitSignal: linux.SIGCHLD}
	eng, err := m.newEngine(p)
	if err != nil {
		return nil, err
	}
	p.eng = eng
	p.task = &Task{Process: p, TID: pid}
	p.as = newAddressSpace(eng)
	return p, nil
}

// newEngine opens a CPU engine whose system calls go to p. Instructions are
// always counted: they are the machine's time slices.
func (m *Machine) newEngine(p *Process) (cpu.Engine, error) {
	return cpu.New(cpu.Options{Clock: m.clock, CountInsns: true, Syscall: p.syscall})
}

// Spawn loads a program into a new process. The process runs when Wait is
// called (or while any other process of the machine is waited for).
func (m *Machine) Spawn(spec ProcessSpec) (*Process, error) {
	p := path.Clean("/" + spec.Path)
	data, err := m.readExecutable(p)
	if err != nil {
		return nil, err
	}
	argv := spec.Argv
	if len(argv) == 0 {
		argv = []string{spec.Path}
	}
	cwd := spec.Cwd
	if cwd == "" {
		cwd = "/"
	}
	proc, err := m.newProcess()
	if err != nil {
		return nil, err
	}
	proc.exe, proc.argv, proc.envp, proc.cwd = p, argv, spec.Env, cwd
	proc.pgid, proc.sid, proc.hostOwned = proc.PID, proc.PID, true
	proc.fds = newConsoleFDs(m)
	if err := proc.load(data); err != nil {
		proc.release()
		var ee *ExecError
		if errors.As(err, &ee) {
			ee.Path = spec.Path
		}
		return nil, err
	}
	proc.startNs = m.clock.Now()
	m.addProcess(proc)
	return proc, nil
}

// Run spawns a program and waits for it.
func (m *Machine) Run(spec ProcessSpec) (ExitStatus, error) {
	p, err := m.Spawn(spec)
	if err != nil {
		return ExitStatus{}, err
	}
	return p.Wait()
}

// readExecutable reads a program file, refusing what execve refuses.
func (m *Machine) readExecutable(p string) ([]byte, error) {
	fi, err := m.fs.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &ExecError{Path: p, Reason: "no such file", Errno: linux.ENOENT}
		}
		return nil, &ExecError{Path: p, Reason: err.Error(), Errno: linux.ErrnoFromError(err)}
	}
	if fi.IsDir() {
		return nil, &ExecError{Path: p, Reason: "is a directory", Errno: linux.EACCES}
	}
	if fi.Size() > MaxExecSize {
		return nil, &ExecError{Path: p, Reason: fmt.Sprintf("file is %d bytes; the limit is %d", fi.Size(), MaxExecSize), Errno: linux.E2BIG}
	}
	data, err := m.fs.ReadFile(p)
	if err != nil {
		return nil, &ExecError{Path: p, Reason: err.Error(), Errno: linux.ErrnoFromError(err)}
	}
	return data, nil
}

// HWCAP bits the emulated CPU (Unicorn's Cortex-A72) implements.
const hwcap = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 // FP ASIMD AES PMULL SHA1 SHA2 CRC32

// load maps the program and builds the initial stack and registers.
func (p *Process) load(data []byte) error {
	img, err := loadELF(p.as, p.exe, data)
	if err != nil {
		return err
	}
	p.as.brkBase, p.as.brk, p.as.brkMapped = img.end, img.end, img.end
	if err := p.as.mapFixed(stackTop-stackSize, stackSize, cpu.ProtRead|cpu.ProtWrite, "[stack]", 0); err != nil {
		return err
	}
	si := stackImage{argv: p.argv, envp: p.envp, execfn: p.exe}
	p.m.randomBytes(si.random[:])
	si.auxv = [][2]uint64{
		{linux.AT_HWCAP, hwcap},
		{linux.AT_PAGESZ, pageSize},
		{linux.AT_CLKTCK, 100},
		{linux.AT_PHDR, img.phdr},
		{linux.AT_PHENT, img.phent},
		{linux.AT_PHNUM, img.phnum},
		{linux.AT_BASE, 0},
		{linux.AT_FLAGS, 0},
		{linux.AT_ENTRY, img.entry},
		{linux.AT_UID, 0},
		{linux.AT_EUID, 0},
		{linux.AT_GID, 0},
		{linux.AT_EGID, 0},
		{linux.AT_SECURE, 0},
	}
	sp, err := si.build(p.as, stackTop)
	if err != nil {
		if errors.Is(err, errArgs) {
			return execErr(linux.E2BIG, "argument list too long")
		}
		return err
	}
	return p.eng.WriteRegs([]cpu.Reg{cpu.SP, cpu.PC}, []uint64{sp, img.entry})
}

// Wait runs the machine until the process exits and returns its status.
// Other processes run too, in scheduler order. An error means the kernel
// itself failed (never a guest fault, which is a status) or every process
// is blocked for good.
func (p *Process) Wait() (ExitStatus, error) {
	m := p.m
	err := m.runUntil(func() bool { return p.state == stateZombie })
	errs := append(p.pending, err)
	if p.state == stateZombie {
		m.reap(p)
	}
	return p.status, errors.Join(errs...)
}

// commName is the process name of /proc/<pid>/comm and PR_GET_NAME: at
// most 15 bytes.
func (p *Process) commName() string {
	name := p.comm
	if !p.commSet {
		name = path.Base(p.exe)
	}
	if len(name) > commLen-1 {
		name = name[:commLen-1]
	}
	return name
}

// Signal sends sig to the process as kill(2) does; it acts when the
// process next runs. It waits while the machine runs (the scheduler owns
// the process state), so call it between Run and Wait calls, not from a
// system call or hook. A process that has exited gives ESRCH.
func (p *Process) Signal(sig linux.Signal) error {
	p.m.runMu.Lock()
	defer p.m.runMu.Unlock()
	if sig < 1 || sig > linux.SIGRTMAX {
		return linux.EINVAL
	}
	if p.state == stateZombie || p.exited {
		return linux.ESRCH
	}
	p.sendSignal(sig)
	return nil
}

// Exited reports whether the process has exited; Wait then returns at
// once. Like Signal, it waits while the machine runs.
func (p *Process) Exited() bool {
	p.m.runMu.Lock()
	defer p.m.runMu.Unlock()
	return p.state == stateZombie
}

// fault kills the process for a CPU fault with a one-line report.
func (p *Process) fault(sig linux.Signal, ex cpu.Exit) {
	pc, _ := p.eng.Reg(cpu.PC)
	var what string
	switch ex.Reason {
	case cpu.StopMemFault:
		kind := "unmapped"
		if !ex.Fault.Unmapped {
			kind = "protected"
		}
		what = fmt.Sprintf("%s of %s address %#x", ex.Fault.Access, kind, ex.Fault.Addr)
		// Unicorn 2.0 reports the PC of the faulting block, not always of
		// the faulting instruction.
		pcNote := "pc~"
		if ex.Fault.Access == cpu.AccessFetch {
			pcNote, pc = "pc=", ex.Fault.Addr
		}
		p.kill(sig, fmt.Sprintf("%s (%s) %s%#x: %s", sig, sig.Description(), pcNote, pc, what))
		return
	default:
		// PC points past the instruction for synchronous exceptions.
		what = "undefined instruction"
		if sig == linux.SIGTRAP {
			what = "breakpoint"
		}
		pc -= 4
	}
	p.kill(sig, fmt.Sprintf("%s (%s) pc=%#x: %s", sig, sig.Description(), pc, what))
}

// kill ends the process by a signal.
func (p *Process) kill(sig linux.Signal, report string) ExitStatus {
	p.exit(ExitStatus{Signal: sig, Report: report})
	if report != "" {
		p.m.log.Sugar().Debugf("pid %d (%s): %s", p.PID, path.Base(p.exe), report)
	}
	return p.status
}

// exit records the status and stops the engine; the scheduler finishes the
// exit (exitDone) once the engine has stopped.
func (p *Process) exit(s ExitStatus) {
	if p.exited {
		return
	}
	p.exited = true
	p.status = s
	p.stop = true
}

// release frees the engines and closes every descriptor.
func (p *Process) release() error {
	var err error
	if p.fds != nil {
		p.fds.closeAll()
		p.fds = nil
	}
	if p.oldEng != nil {
		err = p.oldEng.Close()
		p.oldEng = nil
	}
	if p.eng != nil {
		p.insnsBase += p.eng.Insns()
		err = errors.Join(err, p.eng.Close())
		p.eng = nil
	}
	return err
}

// cpuNs is the CPU time the process used, in ns.
func (p *Process) cpuNs() uint64 {
	n := p.insnsBase
	if p.eng != nil {
		n += p.eng.Insns()
	}
	return n * cpu.NsPerInsn
}
