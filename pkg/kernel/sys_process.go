package kernel

import (
	"errors"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerProcessSyscalls(reg registerFn) {
	reg(linux.SysExit, syscallEntry{fn: sysExit})
	reg(linux.SysClone, syscallEntry{fn: sysClone, support: Partial, note: "threads, vfork, fork (copy on write); no namespaces (EPERM) or pidfds (EINVAL); CLONE_FS and CLONE_SIGHAND without CLONE_THREAD copy instead of sharing"})
	reg(linux.SysClone3, syscallEntry{fn: sysClone3, support: Partial, note: "as clone; set_tid and cgroup are refused"})
	reg(linux.SysUnshare, syscallEntry{fn: sysUnshare, support: Partial, note: "no namespaces (EPERM, as clone); CLONE_FILES gives a process its own descriptor table"})
	reg(linux.SysExecve, syscallEntry{fn: sysExecve})
	reg(linux.SysWait4, syscallEntry{fn: sysWait4, support: Partial, note: "WCONTINUED is not reported"})
	reg(linux.SysWaitid, syscallEntry{fn: sysWaitid, support: Partial, note: "WEXITED and WSTOPPED"})
	reg(linux.SysSetpgid, syscallEntry{fn: sysSetpgid})
	reg(linux.SysGetpgid, syscallEntry{fn: sysGetpgid})
	reg(linux.SysSetsid, syscallEntry{fn: sysSetsid})
	reg(linux.SysGetsid, syscallEntry{fn: sysGetsid})
	reg(linux.SysGetrusage, syscallEntry{fn: sysGetrusage, support: Partial, note: "CPU times; the other fields are zero"})
	reg(linux.SysPipe2, syscallEntry{fn: sysPipe2})
	reg(linux.SysPpoll, syscallEntry{fn: sysPpoll, support: Partial, note: "pipes, the console and regular files"})
	reg(linux.SysPselect6, syscallEntry{fn: sysPselect6, support: Partial, note: "pipes, the console and regular files"})
	reg(linux.SysExitGroup, syscallEntry{fn: sysExitGroup})
	reg(linux.SysGetpid, syscallEntry{fn: sysGetpid})
	reg(linux.SysGettid, syscallEntry{fn: sysGettid})
	reg(linux.SysGetppid, syscallEntry{fn: sysGetppid})
	reg(linux.SysSetTidAddress, syscallEntry{fn: sysSetTidAddress})
	reg(linux.SysRseq, syscallEntry{fn: sysNoSys, support: NoSys, note: "glibc runs without restartable sequences"})
	reg(linux.SysPtrace, syscallEntry{fn: sysDenied, support: Denied, note: "no process may trace another (debug guests with sissim's gdb stub, `--gdb`)"})
	reg(linux.SysPrlimit64, syscallEntry{fn: sysPrlimit64, support: Partial, note: "of any process the caller may change; RLIMIT_NOFILE bounds descriptors and RLIMIT_NPROC threads; the others are kept and reported"})
	reg(linux.SysUname, syscallEntry{fn: sysUname})
	reg(linux.SysSysinfo, syscallEntry{fn: sysSysinfo})
	reg(linux.SysPrctl, syscallEntry{fn: sysPrctl, support: Partial,
		note: "PR_SET/GET_NAME, _DUMPABLE, _NO_NEW_PRIVS, _PDEATHSIG, _KEEPCAPS, _CHILD_SUBREAPER, _TIMERSLACK, PR_CAPBSET_READ, PR_GET_SECUREBITS, PR_GET_TID_ADDRESS; other options are EINVAL"})
	reg(linux.SysGetrandom, syscallEntry{fn: sysGetrandom})
	reg(linux.SysUmask, syscallEntry{fn: sysUmask})
	reg(linux.SysSchedYield, syscallEntry{fn: sysSchedYield})
	reg(linux.SysSchedGetaffinity, syscallEntry{fn: sysSchedGetaffinity})
}

func sysNoSys(*Task, *args) (uint64, error) { return 0, linux.ENOSYS }

func sysDenied(*Task, *args) (uint64, error) { return 0, linux.EPERM }

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneVM            = 0x00000100
	cloneFS            = 0x00000200
	cloneFiles         = 0x00000400
	cloneSighand       = 0x00000800
	clonePidfd         = 0x00001000
	clonePtrace        = 0x00002000
	cloneVfork         = 0x00004000
	cloneParent        = 0x00008000
	cloneThread        = 0x00010000
	cloneNewNS         = 0x00020000
	cloneSysvsem       = 0x00040000
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000
	cloneDetached      = 0x00400000
	cloneUntraced      = 0x00800000
	cloneChildSettid   = 0x01000000
	cloneNewCgroup     = 0x02000000
	cloneNewUTS        = 0x04000000
	cloneNewIPC        = 0x08000000
	cloneNewUser       = 0x10000000
	cloneNewPID        = 0x20000000
	cloneNewNet        = 0x40000000
	cloneIO            = 0x80000000
	cloneNamespaces    = cloneNewNS | cloneNewCgroup | cloneNewUTS | cloneNewIPC | cloneNewUser | cloneNewPID | cloneNewNet
)

// cloneArgs are clone's arguments (clone(2) or struct clone_args).
type cloneArgs struct {
	flags      uint64
	exitSignal uint64
	stack      uint64 // new SP (0: the caller's)
	tls        uint64
	parentTID  uint64
	childTID   uint64
	pidfd      uint64 // clone3: where CLONE_PIDFD's descriptor goes
	clone3     bool
}

// Clone implements clone(2).
func sysClone(t *Task, a *args) (uint64, error) {
	// arm64: clone(flags, newsp, parent_tidptr, tls, child_tidptr).
	return t.clone(cloneArgs{flags: a[0] &^ 0xff, exitSignal: a[0] & 0xff, stack: a[1], parentTID: a[2], tls: a[3], childTID: a[4]})
}

// Clone3 implements clone3(2).
func sysClone3(t *Task, a *args) (uint64, error) {
	size := a[1]
	if size < 64 || size > pageSize {
		return 0, linux.EINVAL
	}
	b := make([]byte, size)
	if err := t.copyIn(a[0], b); err != nil {
		return 0, err
	}
	for _, c := range b[min(size, 88):] {
		if c != 0 {
			return 0, linux.E2BIG
		}
	}
	ca := cloneArgs{flags: le64(b[0:]), childTID: le64(b[16:]), parentTID: le64(b[24:]), exitSignal: le64(b[32:]), tls: le64(b[56:])}
	stack, stackSize := le64(b[40:]), le64(b[48:])
	if size >= 80 && (le64(b[64:]) != 0 || le64(b[72:]) != 0) {
		return 0, linux.EINVAL // set_tid needs CAP_SYS_ADMIN in the owning namespace
	}
	if ca.exitSignal > uint64(linux.SIGRTMAX) || (stack == 0) != (stackSize == 0) {
		return 0, linux.EINVAL
	}
	if ca.flags&0xff != 0 {
		return 0, linux.EINVAL
	}
	if stack != 0 {
		ca.stack = stack + stackSize
	}
	ca.pidfd, ca.clone3 = le64(b[8:]), true
	return t.clone(ca)
}

// clone makes a thread (CLONE_THREAD), a process sharing memory
// (CLONE_VM, vfork) or a copy-on-write child process (fork), failing with
// EINVAL exactly where Linux's copy_process does.
func (t *Task) clone(ca cloneArgs) (uint64, error) {
	f := ca.flags
	switch {
	case f&(cloneNewNS|cloneFS) == cloneNewNS|cloneFS, f&(cloneNewUser|cloneFS) == cloneNewUser|cloneFS:
		return 0, linux.EINVAL
	case f&cloneThread != 0 && f&cloneSighand == 0:
		return 0, linux.EINVAL
	case f&cloneSighand != 0 && f&cloneVM == 0:
		return 0, linux.EINVAL
	case f&cloneParent != 0 && t.Process == t.m.init:
		return 0, linux.EINVAL
	case f&cloneThread != 0 && f&(cloneNewUser|cloneNewPID) != 0:
		return 0, linux.EINVAL
	case f&cloneNamespaces != 0:
		return 0, linux.EPERM // namespaces are not supported
	case f&clonePidfd != 0 && f&cloneThread != 0:
		return 0, linux.EINVAL
	case f&clonePidfd != 0 && f&cloneParentSettid != 0 && !ca.clone3:
		return 0, linux.EINVAL // clone(2) returns both through parent_tid
	}
	m := t.m
	m.mu.Lock()
	n := uint64(len(m.tasks))
	m.mu.Unlock()
	if n >= t.rlimits[linux.RLIMIT_NPROC][0] {
		return 0, linux.EAGAIN
	}
	if f&clonePidfd != 0 {
		if err := t.fds.room(); err != nil {
			return 0, err // checked first: nothing runs between here and the install
		}
	}
	tid, err := m.allocPID()
	if err != nil {
		return 0, linux.EAGAIN
	}
	m.load(t) // the child starts from the caller's registers
	if err := m.cpu.Save(t.ctx); err != nil {
		return 0, err
	}
	var child *Task
	if f&cloneThread != 0 {
		if child, err = m.newTask(t.Process, tid, t.ctx); err != nil {
			return 0, err
		}
		child.sigMask = t.sigMask
		child.altStack = sigStack{flags: ssDisable}
		child.taskAttrs = t.taskAttrs.clone()
	} else {
		c, err := t.forkProcess(tid, f)
		if err != nil {
			return 0, err
		}
		child = c.tasks[0]
		c.exitSignal = linux.Signal(ca.exitSignal)
	}
	child.ctx.SetReg(cpu.X0, 0)
	if ca.stack != 0 {
		child.ctx.SetReg(cpu.SP, ca.stack)
	}
	if f&cloneSettls != 0 {
		child.ctx.SetReg(cpu.TPIDR, ca.tls)
	}
	var b [4]byte
	put32(b[:], uint32(tid))
	if f&cloneParentSettid != 0 {
		t.copyOut(ca.parentTID, b[:])
	}
	if f&clonePidfd != 0 {
		at := ca.parentTID // clone(2) returns the pidfd through parent_tid
		if ca.clone3 {
			at = ca.pidfd
		}
		fd, _ := t.newPidfd(child.Process, 0) // room checked above
		put32(b[:], uint32(fd))
		t.copyOut(at, b[:])
	}
	if f&cloneChildSettid != 0 {
		child.copyOut(ca.childTID, b[:])
	}
	if f&cloneChildCleartid != 0 {
		child.clearTID = ca.childTID
	}
	if f&cloneThread != 0 {
		m.addTask(child)
	} else {
		m.addProcess(child.Process)
	}
	m.debugClone(t, child, f)
	if f&cloneVfork != 0 {
		t.vforkChild = child.Process
		t.addWaiterTo(&t.vforkDone)
	}
	return uint64(tid), nil
}

// Unshare implements unshare(2): a process sharing its descriptor table
// (CLONE_FILES) gets its own copy; the file system information is never
// shared here, System V semaphores are not kept, and namespaces are not
// supported (EPERM, as for clone). CLONE_VM, CLONE_SIGHAND and
// CLONE_THREAD are accepted for a process of one thread.
func sysUnshare(t *Task, a *args) (uint64, error) {
	f := a[0]
	const newTime = 0x80 // CLONE_NEWTIME
	allowed := uint64(cloneFiles | cloneFS | cloneSysvsem | cloneThread | cloneSighand | cloneVM | cloneNamespaces | newTime)
	if f&^allowed != 0 {
		return 0, linux.EINVAL
	}
	if f&(cloneThread|cloneSighand|cloneVM) != 0 && len(t.tasks) > 1 {
		return 0, linux.EINVAL
	}
	if f&(cloneNamespaces|newTime) != 0 {
		return 0, linux.EPERM
	}
	if f&cloneFiles != 0 && t.fds.refs > 1 {
		if len(t.tasks) > 1 {
			return 0, linux.EINVAL // one table for every thread here
		}
		c, err := t.fds.fork()
		if err != nil {
			return 0, err
		}
		t.fds.release()
		t.fds = c
	}
	return 0, nil
}

// addWaiterTo makes t wait on q once the current system call has returned
// normally (vfork).
func (t *Task) addWaiterTo(q *waitQueue) {
	t.dropWaiters()
	t.addWaiter(q)
	t.blockOn(0)
}

// forkProcess makes a child process of t's process with a copy (or, with
// CLONE_VM, a share) of its memory, its descriptors (shared with
// CLONE_FILES), working directory, umask, limits and signal dispositions;
// its one thread has t's registers.
func (t *Task) forkProcess(pid int, flags uint64) (*Process, error) {
	p := t.Process
	c := &Process{m: p.m, PID: pid, umask: p.umask, rlimits: p.rlimits, exitSignal: linux.SIGCHLD}
	if flags&cloneVM != 0 {
		c.as = p.as
		c.as.users++
	} else {
		as, err := p.as.fork()
		if err != nil {
			return nil, err
		}
		c.as = as
	}
	if flags&cloneFiles != 0 {
		c.fds = p.fds
		c.fds.refs++
	} else {
		fds, err := p.fds.fork()
		if err != nil {
			c.as.release()
			return nil, err
		}
		c.fds = fds
	}
	if _, err := p.m.newTask(c, pid, t.ctx); err != nil {
		c.as.release()
		c.fds.release()
		return nil, err
	}
	ct := c.tasks[0]
	ct.sigMask, ct.altStack, ct.comm = t.sigMask, t.altStack, t.comm
	ct.taskAttrs = t.taskAttrs.clone()
	c.exe, c.argv, c.envp, c.auxv = p.exe, p.argv, p.envp, p.auxv
	c.undumpable, c.noNewPrivs = p.undumpable, p.noNewPrivs
	c.cwd, c.sigacts = p.cwd, p.sigacts
	c.procAttrs = p.procAttrs.fork()
	parent := p
	if flags&cloneParent != 0 && p.parent != nil {
		parent = p.parent
	}
	c.parent, c.PPID, c.pgid, c.sid = parent, parent.PID, p.pgid, p.sid
	c.startNs = p.m.clock.Now()
	parent.children = append(parent.children, c)
	return c, nil
}

// maxExecArgs bounds argv+envp of execve (Linux: a quarter of the stack
// limit).
const maxExecArgs = maxArgBytes

// readStrings reads a NULL-terminated array of string pointers.
func (t *Task) readStrings(addr uint64, total *int) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := 0; ; i++ {
		var b [8]byte
		if err := t.copyIn(addr+uint64(8*i), b[:]); err != nil {
			return nil, err
		}
		ptr := le64(b[:])
		if ptr == 0 {
			return out, nil
		}
		s, err := t.readString(ptr, maxExecArgs)
		if err != nil {
			if errors.Is(err, linux.ENAMETOOLONG) {
				return nil, linux.E2BIG
			}
			return nil, err
		}
		*total += len(s) + 1 + 8
		if *total > maxExecArgs {
			return nil, linux.E2BIG
		}
		out = append(out, s)
	}
}

// Execve implements execve(2): ELF programs (static or with an
// interpreter) and #! scripts.
func sysExecve(t *Task, a *args) (uint64, error) {
	name, err := t.readPath(a[0])
	if err != nil {
		return 0, err
	}
	var total int
	argv, err := t.readStrings(a[1], &total)
	if err != nil {
		return 0, err
	}
	envp, err := t.readStrings(a[2], &total)
	if err != nil {
		return 0, err
	}
	err = t.execProgram(name, argv, envp)
	var ee *ExecError
	if errors.As(err, &ee) {
		return 0, ee.Errno
	}
	return 0, err
}

// Exit implements exit(2): the calling thread ends; the process ends
// with its last thread.
func sysExit(t *Task, a *args) (uint64, error) {
	t.exitCode = int(a[0] & 0xff)
	t.dying = true
	t.stop = true
	return 0, nil
}

// ExitGroup implements exit_group(2): every thread of the process ends.
func sysExitGroup(t *Task, a *args) (uint64, error) {
	t.exitGroup(ExitStatus{Code: int(a[0] & 0xff)})
	return 0, nil
}

// Getpid implements getpid(2): the thread-group id.
func sysGetpid(t *Task, _ *args) (uint64, error) { return uint64(t.PID), nil }

// Gettid implements gettid(2).
func sysGettid(t *Task, _ *args) (uint64, error) { return uint64(t.TID), nil }

// Getppid implements getppid(2).
func sysGetppid(t *Task, _ *args) (uint64, error) { return uint64(t.PPID), nil }

// SetTidAddress implements set_tid_address(2).
func sysSetTidAddress(t *Task, a *args) (uint64, error) {
	t.clearTID = a[0]
	return uint64(t.TID), nil
}

// rlimits are the resource limits every process starts with.
func defaultRlimits() [16][2]uint64 {
	const inf = ^uint64(0)
	var r [16][2]uint64
	for i := range r {
		r[i] = [2]uint64{inf, inf}
	}
	r[linux.RLIMIT_STACK] = [2]uint64{stackSize, inf}
	r[linux.RLIMIT_NOFILE] = [2]uint64{defaultNoFile, defaultNoFileMax}
	r[linux.RLIMIT_CORE] = [2]uint64{0, inf}
	r[linux.RLIMIT_NPROC] = [2]uint64{maxProcs, maxProcs}
	r[linux.RLIMIT_MEMLOCK] = [2]uint64{8 << 20, 8 << 20}
	r[linux.RLIMIT_SIGPENDING] = [2]uint64{1024, 1024}
	r[linux.RLIMIT_MSGQUEUE] = [2]uint64{819200, 819200}
	r[linux.RLIMIT_NICE] = [2]uint64{0, 0}
	r[linux.RLIMIT_RTPRIO] = [2]uint64{0, 0}
	return r
}

// maxProcs is RLIMIT_NPROC: threads of the machine.
const maxProcs = 4096

// Prlimit64 implements prlimit64(2), of the calling process or another
// (named by any of its thread ids) whose user and group ids all equal
// the caller's, or any with CAP_SYS_RESOURCE.
func sysPrlimit64(t *Task, a *args) (uint64, error) {
	pid, res := a.int32(0), a.int32(1)
	p := t.Process
	if pid < 0 {
		return 0, linux.EINVAL
	}
	if pid != 0 && pid != t.PID {
		o := t.m.lookupTask(pid)
		if o == nil {
			return 0, linux.ESRCH
		}
		p = o.Process
	}
	if res < 0 || res >= len(p.rlimits) {
		return 0, linux.EINVAL
	}
	if p != t.Process && !t.capable(capSysResource) {
		c, o := t.cred, p.cred
		if c.ruid != o.ruid || c.ruid != o.euid || c.ruid != o.suid || c.rgid != o.rgid || c.rgid != o.egid || c.rgid != o.sgid {
			return 0, linux.EPERM
		}
	}
	var nl [16]byte
	if a[2] != 0 {
		if err := t.copyIn(a[2], nl[:]); err != nil {
			return 0, err
		}
		if le64(nl[0:]) > le64(nl[8:]) {
			return 0, linux.EINVAL
		}
	}
	var old [16]byte
	put64(old[0:], p.rlimits[res][0])
	put64(old[8:], p.rlimits[res][1])
	if a[2] != 0 {
		soft, hard := le64(nl[0:]), le64(nl[8:])
		switch {
		case hard > p.rlimits[res][1] && !t.capable(capSysResource):
			return 0, linux.EPERM
		case res == linux.RLIMIT_NOFILE && hard > nrOpen:
			return 0, linux.EPERM
		}
		p.rlimits[res] = [2]uint64{soft, hard}
		if res == linux.RLIMIT_NOFILE && p.fds != nil {
			p.fds.limit = int(soft)
		}
	}
	if a[3] != 0 {
		return 0, t.copyOut(a[3], old[:])
	}
	return 0, nil
}

// Uname implements uname(2).
func sysUname(t *Task, a *args) (uint64, error) {
	u := linux.NewUtsname("Linux", t.m.Hostname(), "6.1.0-sis", "#1 SMP SIS Kernel", t.unameMachine(), "(none)")
	b, _ := u.MarshalBinary()
	return 0, t.copyOut(a[0], b)
}

// prctl options (linux/prctl.h).
const (
	prGetDumpable   = 3
	prSetDumpable   = 4
	prSetName       = 15
	prGetName       = 16
	prSetNoNewPrivs = 38
	prGetNoNewPrivs = 39
)

// commLen is TASK_COMM_LEN: the name and its NUL.
const commLen = 16

// Prctl implements the prctl(2) options programs use at start-up.
func sysPrctl(t *Task, a *args) (uint64, error) {
	switch a[0] {
	case prSetName:
		var name []byte
		for i := uint64(0); i < commLen-1; i++ {
			var b [1]byte
			if err := t.copyIn(a[1]+i, b[:]); err != nil {
				return 0, err
			}
			if b[0] == 0 {
				break
			}
			name = append(name, b[0])
		}
		t.comm = string(name)
		return 0, nil
	case prGetName:
		var buf [commLen]byte
		copy(buf[:commLen-1], t.commName())
		return 0, t.copyOut(a[1], buf[:])
	case prGetDumpable:
		if t.undumpable {
			return 0, nil
		}
		return 1, nil
	case prSetDumpable:
		if a[1] > 1 {
			return 0, linux.EINVAL
		}
		t.undumpable = a[1] == 0
		return 0, nil
	case prSetNoNewPrivs:
		if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, linux.EINVAL
		}
		t.noNewPrivs = true
		return 0, nil
	case prGetNoNewPrivs:
		if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, linux.EINVAL
		}
		if t.noNewPrivs {
			return 1, nil
		}
		return 0, nil
	}
	return t.prctlMore(a)
}

// sysinfoSize is sizeof(struct sysinfo) on arm64.
const sysinfoSize = 112

// Sysinfo implements sysinfo(2) from the machine's true numbers: uptime,
// RAM as /proc/meminfo reports it, and the number of processes. Load
// averages are not tracked (zero); there is no swap, shared or buffer
// memory.
func sysSysinfo(t *Task, a *args) (uint64, error) {
	var b [sysinfoSize]byte
	put64(b[0:], uint64(t.m.Now()/time.Second))
	loads, _ := t.m.sched.LoadAvg(t.m.clock.Now())
	for i, l := range loads {
		put64(b[8+8*i:], l<<(16-11)) // SI_LOAD_SHIFT from the scheduler's 11 bits
	}
	mi := procSource{t.m}.MemInfo()
	put64(b[32:], mi.Total)
	put64(b[40:], mi.Free)
	put16(b[80:], uint16(min(len(t.m.liveProcs()), 0xffff)))
	put32(b[104:], 1) // mem_unit: sizes are in bytes
	return 0, t.copyOut(a[0], b[:])
}

// Getrandom implements getrandom(2) from the machine's seeded generator.
func sysGetrandom(t *Task, a *args) (uint64, error) {
	if a[2]&^uint64(linux.GRND_NONBLOCK|linux.GRND_RANDOM|linux.GRND_INSECURE) != 0 {
		return 0, linux.EINVAL
	}
	n := a[1]
	if n > 1<<25 {
		n = 1 << 25
	}
	buf := ioBuf(n)
	n = uint64(len(buf))
	t.m.randomBytes(buf)
	return n, t.copyOut(a[0], buf)
}

// Umask implements umask(2).
func sysUmask(t *Task, a *args) (uint64, error) {
	old := t.umask
	t.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}

// SchedYield implements sched_yield(2): the engine stops so that the
// scheduler decides again.
func sysSchedYield(t *Task, _ *args) (uint64, error) {
	t.stop = true
	return 0, nil
}

// SchedGetaffinity implements sched_getaffinity(2): one CPU.
func sysSchedGetaffinity(t *Task, a *args) (uint64, error) {
	if a[1] < 8 || a[1]%8 != 0 {
		return 0, linux.EINVAL
	}
	if _, err := t.schedTarget(a.int32(0)); err != nil {
		return 0, err
	}
	mask := make([]byte, 8)
	mask[0] = 1
	return 8, t.copyOut(a[2], mask)
}

// Wait options.
const (
	wNOHANG    = 1
	wUNTRACED  = 2 // WSTOPPED for waitid
	wEXITED    = 4
	wCONTINUED = 8
	wNOWAIT    = 0x01000000
)

// waitMatch reports whether child c matches wait4's pid argument.
func (t *Task) waitMatch(c *Process, pid int) bool {
	switch {
	case pid > 0:
		return c.PID == pid
	case pid == -1:
		return true
	case pid == 0:
		return c.pgid == t.pgid
	default:
		return c.pgid == -pid
	}
}

// waitReport is what wait reports about a child.
type waitReport int

const (
	waitExited waitReport = iota
	waitStopped
	waitContinued
)

// waitChild finds a child to report. It returns the child and what to
// report, or ECHILD, or nil when the caller must wait.
func (t *Task) waitChild(pid, options int) (*Process, waitReport, error) {
	any := false
	for _, c := range t.children {
		if !t.waitMatch(c, pid) {
			continue
		}
		any = true
		switch {
		case c.zombie && options&wEXITED != 0:
			return c, waitExited, nil
		case c.stopped && !c.stopReported && options&wUNTRACED != 0 && !c.zombie:
			return c, waitStopped, nil
		case c.contReported && options&wCONTINUED != 0 && !c.zombie:
			return c, waitContinued, nil
		}
	}
	if !any {
		return nil, 0, linux.ECHILD
	}
	return nil, 0, nil
}

// waitFlags are the options wait4 and waitid accept besides their own:
// __WNOTHREAD, __WALL, __WCLONE.
const waitFlags = 0x20000000 | 0x40000000 | 0x80000000

// Wait4 implements wait4(2).
func sysWait4(t *Task, a *args) (uint64, error) {
	pid, options := a.int32(0), a.int32(2)
	if options&^(wNOHANG|wUNTRACED|wCONTINUED|waitFlags) != 0 {
		return 0, linux.EINVAL
	}
	c, what, err := t.waitChild(pid, options|wEXITED)
	if err != nil {
		return 0, err
	}
	if c == nil {
		if options&wNOHANG != 0 {
			return 0, nil
		}
		return 0, t.block(0, &t.childWait)
	}
	status := c.status.WaitStatus()
	switch what {
	case waitStopped:
		status = uint32(c.stopSig)<<8 | 0x7f
	case waitContinued:
		status = 0xffff
	}
	if a[1] != 0 {
		var b [4]byte
		put32(b[:], status)
		if err := t.copyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if a[3] != 0 {
		if err := t.putRusage(a[3], c.cpuNs()); err != nil {
			return 0, err
		}
	}
	t.consumeReport(c, what)
	return uint64(c.PID), nil
}

// consumeReport marks a reported state change as seen (or reaps the
// zombie).
func (t *Task) consumeReport(c *Process, what waitReport) {
	switch what {
	case waitStopped:
		c.stopReported = true
	case waitContinued:
		c.contReported = false
	default:
		t.m.reap(c)
	}
}

// Waitid implements waitid(2).
func sysWaitid(t *Task, a *args) (uint64, error) {
	idtype, id, options := a.int32(0), a.int32(1), a.int32(3)
	if options&(wEXITED|wUNTRACED|wCONTINUED) == 0 || options&^(wNOHANG|wUNTRACED|wEXITED|wCONTINUED|wNOWAIT|waitFlags) != 0 {
		return 0, linux.EINVAL
	}
	var pid int
	switch idtype {
	case 0: // P_ALL
		pid = -1
	case 1: // P_PID
		if id <= 0 {
			return 0, linux.EINVAL
		}
		pid = id
	case 2: // P_PGID
		if id < 0 {
			return 0, linux.EINVAL
		}
		pid = -id
		if id == 0 {
			pid = 0
		}
	case 3: // P_PIDFD
		p, err := t.pidfdOf(id)
		if err != nil {
			return 0, err
		}
		pid = p.PID
	default:
		return 0, linux.EINVAL
	}
	c, what, err := t.waitChild(pid, options)
	if err != nil {
		return 0, err
	}
	var info [128]byte
	if c == nil {
		if options&wNOHANG == 0 {
			return 0, t.block(0, &t.childWait)
		}
	} else {
		si := childInfo(c, linux.SIGCHLD)
		switch what {
		case waitStopped:
			si.code, si.status = cldStopped, int32(c.stopSig)
		case waitContinued:
			si.code, si.status = cldCont, int32(linux.SIGCONT)
		}
		si.signo = linux.SIGCHLD
		si.marshal(info[:])
	}
	if a[2] != 0 {
		if err := t.copyOut(a[2], info[:]); err != nil {
			return 0, err
		}
	}
	if c != nil && a[4] != 0 {
		if err := t.putRusage(a[4], c.cpuNs()); err != nil {
			return 0, err
		}
	}
	if c != nil && options&wNOWAIT == 0 {
		t.consumeReport(c, what)
	}
	return 0, nil
}

// putRusage writes a struct rusage with the user time ns.
func (t *Task) putRusage(addr, ns uint64) error {
	var b [144]byte
	put64(b[0:], ns/1e9)
	put64(b[8:], ns%1e9/1e3)
	return t.copyOut(addr, b[:])
}

// Getrusage implements getrusage(2).
func sysGetrusage(t *Task, a *args) (uint64, error) {
	switch a.int32(0) {
	case 0: // RUSAGE_SELF: every thread of the process, the dead ones included
		return 0, t.putRusage(a[1], t.cpuNs())
	case 1: // RUSAGE_THREAD
		return 0, t.putRusage(a[1], t.threadCPUNs())
	case -1: // RUSAGE_CHILDREN
		return 0, t.putRusage(a[1], t.childNs)
	}
	return 0, linux.EINVAL
}

// Setpgid implements setpgid(2).
func sysSetpgid(t *Task, a *args) (uint64, error) {
	pid, pgid := a.int32(0), a.int32(1)
	if pgid < 0 {
		return 0, linux.EINVAL
	}
	target := t.Process
	if pid != 0 && pid != t.PID {
		target = nil
		for _, c := range t.children {
			if c.PID == pid {
				target = c
			}
		}
		if target == nil {
			return 0, linux.ESRCH
		}
		if target.sid != t.sid {
			return 0, linux.EPERM
		}
	}
	if pgid == 0 {
		pgid = target.PID
	}
	if target.sid == target.PID {
		return 0, linux.EPERM // a session leader
	}
	if pgid != target.PID {
		ok := false
		for _, q := range t.m.liveProcs() {
			if q.pgid == pgid && q.sid == t.sid {
				ok = true
				break
			}
		}
		if !ok {
			return 0, linux.EPERM
		}
	}
	target.pgid = pgid
	return 0, nil
}

// Getpgid implements getpgid(2).
func sysGetpgid(t *Task, a *args) (uint64, error) {
	q, err := t.processArg(a.int32(0))
	if err != nil {
		return 0, err
	}
	return uint64(q.pgid), nil
}

// Setsid implements setsid(2).
func sysSetsid(t *Task, _ *args) (uint64, error) {
	for _, q := range t.m.liveProcs() {
		if q.pgid == t.PID {
			return 0, linux.EPERM
		}
	}
	t.sid, t.pgid = t.PID, t.PID
	t.ctty = false // a new session has no controlling terminal
	return uint64(t.PID), nil
}

// Getsid implements getsid(2).
func sysGetsid(t *Task, a *args) (uint64, error) {
	q, err := t.processArg(a.int32(0))
	if err != nil {
		return 0, err
	}
	return uint64(q.sid), nil
}

// processArg returns the process a pid argument names (0: the caller).
func (t *Task) processArg(pid int) (*Process, error) {
	if pid == 0 {
		return t.Process, nil
	}
	q := t.m.lookup(pid)
	if q == nil || pid < 0 {
		return nil, linux.ESRCH
	}
	return q, nil
}
