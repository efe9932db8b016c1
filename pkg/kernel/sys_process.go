package kernel

import (
	"bytes"
	"errors"
	"path"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerProcessSyscalls(reg registerFn) {
	reg(linux.SysExit, syscallEntry{fn: sysExit, support: Partial, note: "ends the process (one thread per process)", args: []argKind{argInt}})
	reg(linux.SysClone, syscallEntry{fn: sysClone, support: Partial, note: "fork and vfork semantics; no threads (CLONE_THREAD is EINVAL)",
		args: []argKind{argHex, argHex, argHex, argHex, argHex}})
	reg(linux.SysExecve, syscallEntry{fn: sysExecve, args: []argKind{argPath, argHex, argHex}})
	reg(linux.SysWait4, syscallEntry{fn: sysWait4, support: Partial, note: "WCONTINUED is not reported", args: []argKind{argInt, argHex, argHex, argHex}})
	reg(linux.SysWaitid, syscallEntry{fn: sysWaitid, support: Partial, note: "WEXITED and WSTOPPED", args: []argKind{argInt, argInt, argHex, argHex, argHex}})
	reg(linux.SysSetpgid, syscallEntry{fn: sysSetpgid, args: []argKind{argInt, argInt}})
	reg(linux.SysGetpgid, syscallEntry{fn: sysGetpgid, args: []argKind{argInt}})
	reg(linux.SysSetsid, syscallEntry{fn: sysSetsid})
	reg(linux.SysGetsid, syscallEntry{fn: sysGetsid, args: []argKind{argInt}})
	reg(linux.SysGetrusage, syscallEntry{fn: sysGetrusage, support: Partial, note: "CPU times; the other fields are zero", args: []argKind{argInt, argHex}})
	reg(linux.SysPipe2, syscallEntry{fn: sysPipe2, args: []argKind{argHex, argOpen}})
	reg(linux.SysPpoll, syscallEntry{fn: sysPpoll, support: Partial, note: "pipes, the console and regular files",
		args: []argKind{argHex, argUint, argHex, argHex, argUint}})
	reg(linux.SysPselect6, syscallEntry{fn: sysPselect6, support: Partial, note: "pipes, the console and regular files",
		args: []argKind{argInt, argHex, argHex, argHex, argHex, argHex}})
	reg(linux.SysExitGroup, syscallEntry{fn: sysExit, args: []argKind{argInt}})
	for _, nr := range []uint64{linux.SysGetpid, linux.SysGettid} {
		reg(nr, syscallEntry{fn: sysGetpid})
	}
	reg(linux.SysGetppid, syscallEntry{fn: sysGetppid})
	for _, nr := range []uint64{linux.SysGetuid, linux.SysGeteuid, linux.SysGetgid, linux.SysGetegid} {
		reg(nr, syscallEntry{fn: sysGetuid})
	}
	reg(linux.SysSetTidAddress, syscallEntry{fn: sysSetTidAddress, args: []argKind{argHex}})
	reg(linux.SysSetRobustList, syscallEntry{fn: sysSetRobustList, args: []argKind{argHex, argUint}})
	reg(linux.SysRseq, syscallEntry{fn: sysNoSys, support: NoSys, note: "glibc runs without restartable sequences",
		args: []argKind{argHex, argUint, argInt, argHex}})
	reg(linux.SysPrlimit64, syscallEntry{fn: sysPrlimit64, support: Partial, note: "limits are reported; setting them is accepted for the calling process",
		args: []argKind{argInt, argInt, argHex, argHex}})
	reg(linux.SysUname, syscallEntry{fn: sysUname, args: []argKind{argHex}})
	reg(linux.SysSysinfo, syscallEntry{fn: sysSysinfo, args: []argKind{argHex}})
	reg(linux.SysPrctl, syscallEntry{fn: sysPrctl, support: Partial,
		note: "PR_SET_NAME, PR_GET_NAME, PR_SET/GET_DUMPABLE, PR_SET/GET_NO_NEW_PRIVS; other options are EINVAL",
		args: []argKind{argInt, argHex, argHex, argHex, argHex}})
	reg(linux.SysGetrandom, syscallEntry{fn: sysGetrandom, args: []argKind{argHex, argUint, argHex}})
	reg(linux.SysUmask, syscallEntry{fn: sysUmask, args: []argKind{argOct}})
	reg(linux.SysSchedYield, syscallEntry{fn: sysSchedYield})
	reg(linux.SysSchedGetaffinity, syscallEntry{fn: sysSchedGetaffinity, args: []argKind{argInt, argUint, argHex}})
}

func sysNoSys(*Task, *args) (uint64, error) { return 0, linux.ENOSYS }

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneVM            = 0x00000100
	cloneVfork         = 0x00004000
	cloneThread        = 0x00010000
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000
	cloneChildSettid   = 0x01000000
)

// Clone implements clone(2) with fork semantics: the child gets a copy of
// the address space (also for CLONE_VM|CLONE_VFORK, where the parent then
// waits until the child execs or exits).
func sysClone(t *Task, a *args) (uint64, error) {
	flags, newsp, ptid, tls, ctid := a[0], a[1], a[2], a[3], a[4]
	if flags&cloneThread != 0 {
		return 0, linux.EINVAL
	}
	if flags&cloneVM != 0 && flags&cloneVfork == 0 {
		return 0, linux.EINVAL // a shared address space without vfork is a thread
	}
	m := t.m
	m.mu.Lock()
	n := uint64(len(m.procs))
	m.mu.Unlock()
	if n >= t.rlimits[linux.RLIMIT_NPROC][0] {
		return 0, linux.EAGAIN
	}
	c, err := t.fork()
	if err != nil {
		return 0, err
	}
	c.exitSignal = linux.Signal(flags & 0xff)
	if newsp != 0 {
		c.eng.SetReg(cpu.SP, newsp)
	}
	if flags&cloneSettls != 0 {
		c.eng.SetReg(cpu.TPIDR, tls)
	}
	var tid [4]byte
	put32(tid[:], uint32(c.PID))
	if flags&cloneParentSettid != 0 {
		t.copyOut(ptid, tid[:])
	}
	if flags&cloneChildSettid != 0 {
		c.copyOut(ctid, tid[:])
	}
	if flags&cloneChildCleartid != 0 {
		c.tidAddr = ctid
	}
	m.addProcess(c)
	if flags&cloneVfork != 0 {
		t.vforkChild = c
		t.blockAfter(vforkKey{t.Process})
	}
	return uint64(c.PID), nil
}

// fork makes a child process: a copy of the memory, registers, descriptor
// table, working directory, umask, limits and signal dispositions.
func (t *Task) fork() (*Process, error) {
	p := t.Process
	c, err := p.m.newProcess()
	if err != nil {
		return nil, err
	}
	if err := p.copyMemory(c); err != nil {
		c.release()
		return nil, err
	}
	if err := p.copyRegs(c); err != nil {
		c.release()
		return nil, err
	}
	c.exe, c.argv, c.envp, c.comm = p.exe, p.argv, p.envp, p.comm
	c.commSet, c.undumpable, c.noNewPrivs = p.commSet, p.undumpable, p.noNewPrivs
	c.fds = p.fds.fork()
	c.cwd, c.umask, c.rlimits = p.cwd, p.umask, p.rlimits
	c.sigacts, c.sigMask, c.altStack = p.sigacts, p.sigMask, p.altStack
	c.parent, c.PPID, c.pgid, c.sid = p, p.PID, p.pgid, p.sid
	c.startNs = p.m.clock.Now()
	p.children = append(p.children, c)
	return c, nil
}

// copyMemory maps every mapping of p into c with the same contents.
// Pages that are all zero are not written: fresh mappings are zero-filled.
func (p *Process) copyMemory(c *Process) error {
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	var zero [pageSize]byte
	for _, v := range p.as.vmas {
		if err := c.eng.Map(v.start, v.end-v.start, v.prot); err != nil {
			return err
		}
		for a := v.start; a < v.end; a += chunk {
			n := min(chunk, v.end-a)
			b := buf[:n]
			if err := p.eng.ReadMem(a, b); err != nil {
				return err
			}
			// Write each run of non-zero pages with one call (the new
			// mapping is zero already).
			run := -1
			for off := uint64(0); off <= n; off += pageSize {
				if off < n && !bytes.Equal(b[off:off+pageSize], zero[:]) {
					if run < 0 {
						run = int(off)
					}
					continue
				}
				if run >= 0 {
					if err := c.eng.WriteMem(a+uint64(run), b[run:off]); err != nil {
						return err
					}
					run = -1
				}
			}
		}
	}
	c.as.vmas = append([]vma(nil), p.as.vmas...)
	c.as.brkBase, c.as.brk, c.as.brkMapped = p.as.brkBase, p.as.brk, p.as.brkMapped
	c.as.stats = MemStats{Mapped: p.as.stats.Mapped, Peak: p.as.stats.Mapped, Allocs: uint64(len(c.as.vmas))}
	return nil
}

// cpuRegs are the registers fork copies besides the SIMD&FP file.
var cpuRegs = func() []cpu.Reg {
	var r []cpu.Reg
	for x := cpu.X0; x <= cpu.X30; x++ {
		r = append(r, x)
	}
	return append(r, cpu.SP, cpu.PC, cpu.NZCV, cpu.TPIDR, cpu.FPCR, cpu.FPSR)
}()

// vregEngine is an engine with SIMD&FP register access (cpu.Unicorn).
type vregEngine interface {
	ReadVRegs(*cpu.VRegs) error
	WriteVRegs(*cpu.VRegs) error
}

// copyRegs gives c p's registers, with x0 = 0 (the child's fork result).
func (p *Process) copyRegs(c *Process) error {
	vals := make([]uint64, len(cpuRegs))
	if err := p.eng.ReadRegs(cpuRegs, vals); err != nil {
		return err
	}
	vals[0] = 0
	if err := c.eng.WriteRegs(cpuRegs, vals); err != nil {
		return err
	}
	pv, ok1 := p.eng.(vregEngine)
	cv, ok2 := c.eng.(vregEngine)
	if ok1 && ok2 {
		var v cpu.VRegs
		if err := pv.ReadVRegs(&v); err != nil {
			return err
		}
		return cv.WriteVRegs(&v)
	}
	return nil
}

// maxExecArgs bounds argv+envp of execve (Linux: a quarter of the stack
// limit), and maxInterpDepth the #! nesting.
const (
	maxExecArgs    = maxArgBytes
	maxInterpDepth = 4
)

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

// Execve implements execve(2): static ELF programs and #! scripts.
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
	return 0, t.exec(name, argv, envp)
}

// exec replaces the program of the process.
func (t *Task) exec(name string, argv, envp []string) error {
	p := t.Process
	m := p.m
	abs := name
	if abs == "/proc/self/exe" {
		abs = p.exe
	}
	if !path.IsAbs(abs) {
		abs = path.Join(p.cwd, abs)
	}
	var data []byte
	for depth := 0; ; depth++ {
		if depth > maxInterpDepth {
			return linux.ELOOP
		}
		var err error
		data, err = m.readExecutable(abs)
		if err != nil {
			var ee *ExecError
			if errors.As(err, &ee) {
				return ee.Errno
			}
			return err
		}
		if fi, err := m.fs.Stat(abs); err == nil && fi.Mode().Perm()&0o111 == 0 {
			return linux.EACCES
		}
		if !bytes.HasPrefix(data, []byte("#!")) {
			break
		}
		interp, arg, ok := parseShebang(data)
		if !ok {
			return linux.ENOEXEC
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, name)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, name = nargv, interp
		abs = interp
		if !path.IsAbs(abs) {
			abs = path.Join(p.cwd, abs)
		}
	}
	if _, _, err := parseELF(data); err != nil {
		var ee *ExecError
		if errors.As(err, &ee) {
			return ee.Errno
		}
		return err
	}
	eng, err := m.newEngine(p)
	if err != nil {
		return err
	}
	oldEng, oldAS, oldExe, oldArgv, oldEnvp := p.eng, p.as, p.exe, p.argv, p.envp
	p.eng, p.as, p.exe, p.argv, p.envp = eng, newAddressSpace(eng), path.Clean(abs), argv, envp
	oldCommSet, oldUndumpable := p.commSet, p.undumpable
	p.commSet, p.undumpable = false, false // exec names the process after its program
	if err := p.load(data); err != nil {
		eng.Close()
		p.eng, p.as, p.exe, p.argv, p.envp = oldEng, oldAS, oldExe, oldArgv, oldEnvp
		p.commSet, p.undumpable = oldCommSet, oldUndumpable
		var ee *ExecError
		if errors.As(err, &ee) {
			return ee.Errno
		}
		return err
	}
	// Point of no return: the old engine stops after this call and is
	// closed by the scheduler.
	p.oldEng = oldEng
	p.stop = true
	p.fds.closeOnExec()
	for i := range p.sigacts {
		if p.sigacts[i].handler > sigIGN {
			p.sigacts[i] = sigaction{}
		}
	}
	p.altStack = sigStack{flags: ssDisable}
	p.tidAddr = 0
	if v := p.vforkParent(); v != nil {
		v.vforkChild = nil
		m.notify(vforkKey{v})
	}
	return nil
}

// parseShebang parses a "#!interpreter [arg]" line (at most 256 bytes, as
// Linux's BINPRM_BUF_SIZE).
func parseShebang(data []byte) (interp, arg string, ok bool) {
	line := data[2:]
	if len(line) > 254 {
		line = line[:254]
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(line), "\t", " "))
	if s == "" {
		return "", "", false
	}
	interp, arg, _ = strings.Cut(s, " ")
	return interp, strings.TrimSpace(arg), true
}

// Exit implements exit(2) and exit_group(2).
func sysExit(t *Task, a *args) (uint64, error) {
	t.exit(ExitStatus{Code: int(a[0] & 0xff)})
	return 0, nil
}

// Getpid implements getpid(2) and gettid(2).
func sysGetpid(t *Task, _ *args) (uint64, error) { return uint64(t.PID), nil }

// Getppid implements getppid(2).
func sysGetppid(t *Task, _ *args) (uint64, error) { return uint64(t.PPID), nil }

// Getuid implements getuid(2), geteuid(2), getgid(2) and getegid(2): guests
// run as root.
func sysGetuid(*Task, *args) (uint64, error) { return 0, nil }

// SetTidAddress implements set_tid_address(2).
func sysSetTidAddress(t *Task, a *args) (uint64, error) {
	t.tidAddr = a[0]
	return uint64(t.TID), nil
}

// SetRobustList implements set_robust_list(2).
func sysSetRobustList(t *Task, a *args) (uint64, error) {
	if a[1] != 24 { // sizeof(struct robust_list_head)
		return 0, linux.EINVAL
	}
	t.robustList = a[0]
	return 0, nil
}

// rlimits are the resource limits every process starts with.
func defaultRlimits() [16][2]uint64 {
	const inf = ^uint64(0)
	var r [16][2]uint64
	for i := range r {
		r[i] = [2]uint64{inf, inf}
	}
	r[linux.RLIMIT_STACK] = [2]uint64{stackSize, inf}
	r[linux.RLIMIT_NOFILE] = [2]uint64{maxFDs, maxFDs}
	r[linux.RLIMIT_CORE] = [2]uint64{0, inf}
	r[linux.RLIMIT_NPROC] = [2]uint64{maxProcs, maxProcs}
	r[linux.RLIMIT_MEMLOCK] = [2]uint64{8 << 20, 8 << 20}
	r[linux.RLIMIT_SIGPENDING] = [2]uint64{1024, 1024}
	r[linux.RLIMIT_MSGQUEUE] = [2]uint64{819200, 819200}
	r[linux.RLIMIT_NICE] = [2]uint64{0, 0}
	r[linux.RLIMIT_RTPRIO] = [2]uint64{0, 0}
	return r
}

// maxProcs is RLIMIT_NPROC.
const maxProcs = 256

// Prlimit64 implements prlimit64(2) for the calling process.
func sysPrlimit64(t *Task, a *args) (uint64, error) {
	pid, res := a.int32(0), a.int32(1)
	if pid != 0 && pid != t.PID {
		return 0, linux.ESRCH
	}
	if res < 0 || res >= len(t.rlimits) {
		return 0, linux.EINVAL
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
	if a[3] != 0 {
		var old [16]byte
		put64(old[0:], t.rlimits[res][0])
		put64(old[8:], t.rlimits[res][1])
		if err := t.copyOut(a[3], old[:]); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		t.rlimits[res] = [2]uint64{le64(nl[0:]), le64(nl[8:])}
	}
	return 0, nil
}

// Uname implements uname(2).
func sysUname(t *Task, a *args) (uint64, error) {
	u := linux.NewUtsname("Linux", t.m.Hostname(), "6.1.0-sis", "#1 SMP SIS Kernel", "aarch64", "(none)")
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
		t.commSet = true
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
	return 0, linux.EINVAL
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

// waitChild finds a child to report. It returns the child and whether it
// is a stop report, or ECHILD, or nil when the caller must wait.
func (t *Task) waitChild(pid, options int) (*Process, bool, error) {
	any := false
	for _, c := range t.children {
		if !t.waitMatch(c, pid) {
			continue
		}
		any = true
		if c.state == stateZombie && options&wEXITED != 0 {
			return c, false, nil
		}
		if c.state == stateStopped && !c.stopReported && options&wUNTRACED != 0 {
			return c, true, nil
		}
	}
	if !any {
		return nil, false, linux.ECHILD
	}
	return nil, false, nil
}

// Wait4 implements wait4(2).
func sysWait4(t *Task, a *args) (uint64, error) {
	pid, options := a.int32(0), a.int32(2)
	if options&^(wNOHANG|wUNTRACED|wCONTINUED|0x20000000|0x40000000|0x80000000) != 0 {
		return 0, linux.EINVAL
	}
	c, stopped, err := t.waitChild(pid, options|wEXITED)
	if err != nil {
		return 0, err
	}
	if c == nil {
		if options&wNOHANG != 0 {
			return 0, nil
		}
		return 0, t.block(0, childKey{t.Process})
	}
	status := c.status.WaitStatus()
	if stopped {
		status = uint32(c.stopSig)<<8 | 0x7f
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
	if stopped {
		c.stopReported = true
	} else {
		t.m.reap(c)
	}
	return uint64(c.PID), nil
}

// Waitid implements waitid(2).
func sysWaitid(t *Task, a *args) (uint64, error) {
	idtype, id, options := a.int32(0), a.int32(1), a.int32(3)
	if options&(wEXITED|wUNTRACED) == 0 || options&^(wNOHANG|wUNTRACED|wEXITED|wCONTINUED|wNOWAIT|0x20000000|0x40000000|0x80000000) != 0 {
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
	default:
		return 0, linux.EINVAL
	}
	c, stopped, err := t.waitChild(pid, options)
	if err != nil {
		return 0, err
	}
	var info [128]byte
	if c == nil {
		if options&wNOHANG == 0 {
			return 0, t.block(0, childKey{t.Process})
		}
	} else {
		code, status := 1, c.status.Code // CLD_EXITED
		switch {
		case stopped:
			code, status = 5, int(c.stopSig) // CLD_STOPPED
		case c.status.Signal != 0:
			code, status = 2, int(c.status.Signal) // CLD_KILLED
		}
		put32(info[0:], uint32(linux.SIGCHLD))
		put32(info[8:], uint32(code))
		put32(info[16:], uint32(c.PID))
		put32(info[24:], uint32(status))
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
		if stopped {
			c.stopReported = true
		} else {
			t.m.reap(c)
		}
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
	case 0, 1: // RUSAGE_SELF, RUSAGE_THREAD
		return 0, t.putRusage(a[1], t.cpuNs())
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
