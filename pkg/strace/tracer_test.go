package strace

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func call(tr *Tracer, tid int, m *fakeMem, nr uint64, args [6]uint64, ret uint64) {
	tr.Enter(tid, m, nr, args).Exit(m, ret)
}

// A fork, as strace -f prints it (pids as in a PID namespace): no prefix
// while one task lives, "[pid     N] " while two do, none once the child
// has exited.
func TestPIDPrefix(t *testing.T) {
	var out strings.Builder
	tr := New(&out, Options{})
	m := newMem()
	call(tr, 4, m, linux.SysGetpid, a(), 4)
	call(tr, 4, m, linux.SysClone, a(0x1200011, 0, 0, 0, 0x7ff50f077a10), 5)
	call(tr, 5, m, linux.SysSetRobustList, a(0x7ff50f077a20, 24), 0)
	call(tr, 5, m, linux.SysExitGroup, a(0), 0)
	tr.Exited(5, 0)
	call(tr, 4, m, linux.SysWait4, a(0xffffffff, m.put(u32s(0)), 0, 0), 5)
	tr.Signal(4, Siginfo{Signo: 17, Code: 1, Pid: 5})
	tr.Exited(4, 0)
	require.Equal(t, `getpid()                                = 4
clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7ff50f077a10) = 5
[pid     5] set_robust_list(0x7ff50f077a20, 24) = 0
[pid     5] exit_group(0)               = ?
[pid     5] +++ exited with 0 +++
wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 5
--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=5, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
+++ exited with 0 +++
`, out.String())
}

// With PIDColumn every line starts with the pid, as strace -f -o FILE
// writes it.
func TestPIDColumn(t *testing.T) {
	var out strings.Builder
	tr := New(&out, Options{PIDColumn: true})
	m := newMem()
	call(tr, 7, m, linux.SysGetppid, a(), 1)
	tr.Killed(7, linux.SIGSEGV, false)
	require.Equal(t, "7     getppid()                         = 1\n7     +++ killed by SIGSEGV +++\n", out.String())
}

// Lines from strace 6.1 for signals and deaths.
func TestSignalLines(t *testing.T) {
	cases := []struct {
		info Siginfo
		want string
	}{
		{Siginfo{Signo: 12, Code: 0, Pid: 17886}, `--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_USER, si_pid=17886, si_uid=0} ---`},
		{Siginfo{Signo: 17, Code: 1, Pid: 17887, Status: 3}, `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=17887, si_uid=0, si_status=3, si_utime=0, si_stime=0} ---`},
		{Siginfo{Signo: 17, Code: 2, Pid: 31339, Status: 11}, `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=31339, si_uid=0, si_status=SIGSEGV, si_utime=0, si_stime=0} ---`},
		{Siginfo{Signo: 11, Code: 1, Addr: 8}, `--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8} ---`},
		{Siginfo{Signo: 15, Code: 0, Pid: 31337}, `--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=31337, si_uid=0} ---`},
		{Siginfo{Signo: 14, Code: -2}, `--- SIGALRM {si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0, si_overrun=0, si_int=0, si_ptr=NULL} ---`},
		// assembled: a kernel-sent SIGKILL and a real-time signal.
		{Siginfo{Signo: 9, Code: 0x80}, `--- SIGKILL {si_signo=SIGKILL, si_code=SI_KERNEL, si_pid=0, si_uid=0} ---`},
		{Siginfo{Signo: 35, Code: -1, Pid: 3, Value: 7}, `--- SIGRT_3 {si_signo=SIGRT_3, si_code=SI_QUEUE, si_pid=3, si_uid=0, si_int=7, si_ptr=0x7} ---`},
	}
	for _, c := range cases {
		var out strings.Builder
		New(&out, Options{}).Signal(1, c.info)
		require.Equal(t, c.want+"\n", out.String())
	}

	var out strings.Builder
	tr := New(&out, Options{})
	tr.Killed(1, linux.SIGSEGV, false)
	tr.Killed(2, linux.SIGABRT, true)
	tr.Exited(3, 256+7)
	tr.Stopped(4, linux.SIGTSTP)
	require.Equal(t, "+++ killed by SIGSEGV +++\n+++ killed by SIGABRT (core dumped) +++\n+++ exited with 7 +++\n--- stopped by SIGTSTP ---\n", out.String())
}

// ParseSiginfo reads the arm64 siginfo_t the kernel builds for a signal
// frame.
func TestParseSiginfo(t *testing.T) {
	b := zeros(128)
	copy(b, u32s(17, 0, 1))
	copy(b[16:], u32s(5, 0, 3))
	copy(b[32:], u64s(2, 1))
	si, ok := ParseSiginfo(b)
	require.True(t, ok)
	require.Equal(t, Siginfo{Signo: 17, Code: 1, Pid: 5, Status: 3, Utime: 2, Stime: 1}, si)
	_, ok = ParseSiginfo(b[:100])
	require.False(t, ok)
}

// A task that dies inside a call: strace 6.1 prints "read(0,  <unfinished
// ...>) = ?" when output arguments were still to come, else "kill(2,
// SIGKILL) = ?".
func TestUnfinished(t *testing.T) {
	var out strings.Builder
	tr := New(&out, Options{})
	m := newMem()
	tr.Enter(1, m, linux.SysRead, a(0, m.put(zeros(16)), 16)).Unfinished()
	tr.Enter(1, m, linux.SysPpoll, a(m.put(cat(u32s(0), u16s(1, 0))), 1, 0, 0, 8)).Unfinished()
	c := tr.Enter(1, m, linux.SysGetpid, a())
	c.Exit(m, 1)
	c.Exit(m, 1) // a second Exit prints nothing
	c.Unfinished()
	require.Equal(t, `read(0,  <unfinished ...>)              = ?
ppoll([{fd=0, events=POLLIN}], 1, NULL, NULL, 8) = ?
getpid()                                = 1
`, out.String())
}

func TestUnknownSyscall(t *testing.T) {
	var out strings.Builder
	tr := New(&out, Options{})
	call(tr, 1, newMem(), 4000, a(1, 0, 3), neg(38))
	require.Equal(t, "syscall_0xfa0(0x1, 0, 0x3, 0, 0, 0)     = -1 ENOSYS (Function not implemented)\n", out.String())
	nr, ok := Number("syscall_0xfa0")
	require.True(t, ok)
	require.Equal(t, uint64(4000), nr)
	nr, ok = Number("openat")
	require.True(t, ok)
	require.Equal(t, uint64(linux.SysOpenat), nr)
	require.Equal(t, "openat", Name(linux.SysOpenat))
}

// Strings: -s truncation, paths without it, unreadable pointers, strings
// that run into unmapped memory.
func TestStrings(t *testing.T) {
	m := newMem()
	long := strings.Repeat("x", 40)
	var out strings.Builder
	tr := New(&out, Options{})
	call(tr, 1, m, linux.SysWrite, a(1, m.put([]byte(long)), 40), 40)
	call(tr, 1, m, linux.SysOpenat, a(atFDCWD, m.str("/"+long), 0), 3)
	call(tr, 1, m, linux.SysOpenat, a(atFDCWD, 0xdead0000, 0), neg(14))
	call(tr, 1, m, linux.SysOpenat, a(atFDCWD, m.put([]byte("/no/nul")), 0), neg(14))
	call(tr, 1, m, linux.SysPrctl, a(15, m.str(long)), 0)
	require.Equal(t, `write(1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 40) = 40
openat(AT_FDCWD, "/`+long+`", O_RDONLY) = 3
openat(AT_FDCWD, 0xdead0000, O_RDONLY)  = -1 EFAULT (Bad address)
openat(AT_FDCWD, "/no/nul"..., O_RDONLY) = -1 EFAULT (Bad address)
prctl(PR_SET_NAME, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...) = 0
`, out.String())

	out.Reset()
	tr = New(&out, Options{StringLimit: 4, Column: 20})
	call(tr, 1, m, linux.SysWrite, a(1, m.put([]byte("hello")), 5), 5)
	require.Equal(t, "write(1, \"hell\"..., 5) = 5\n", out.String())
}

// accept's address length is printed as strace does: [in => out].
func TestInOut(t *testing.T) {
	m := newMem()
	var out strings.Builder
	tr := New(&out, Options{})
	addr := m.put(zeros(16))
	alen := m.put(u32s(128))
	c := tr.Enter(1, m, linux.SysAccept, a(3, addr, alen))
	m.regions[addr] = cat(u16s(1), []byte("/s\000"))
	m.regions[alen] = u32s(5)
	c.Exit(m, 4)
	require.Equal(t, "accept(3, {sa_family=AF_UNIX, sun_path=\"/s\"}, [128 => 5]) = 4\n", out.String())
}

// execve's arguments are read at entry, before the new image replaces
// the memory.
func TestExecveReadsAtEntry(t *testing.T) {
	m := newMem()
	var out strings.Builder
	tr := New(&out, Options{})
	argv := m.ptrs(m.str("/bin/sh"), m.str("-c"), m.str("true"))
	envp := m.ptrs(m.str("A=1"))
	c := tr.Enter(1, m, linux.SysExecve, a(m.str("/bin/sh"), argv, envp))
	c.Exit(newMem(), 0) // the old memory is gone
	require.Equal(t, `execve("/bin/sh", ["/bin/sh", "-c", "true"], `+hex(envp)+` /* 1 var */) = 0`+"\n", out.String())
}

func TestSigreturn(t *testing.T) {
	m := newMem()
	m.sp = 0x20000
	m.at(m.sp+168, sigmask(2, 35))
	var out strings.Builder
	tr := New(&out, Options{})
	call(tr, 1, spMem{m}.fakeMem, linux.SysRtSigreturn, a(), 0) // no stack pointer: no argument
	tr.Enter(1, spMem{m}, linux.SysRtSigreturn, a()).Exit(m, 0)
	require.Equal(t, "rt_sigreturn()                          = 0\nrt_sigreturn({mask=[INT RT_3]})         = 0\n", out.String())
}

func TestWriteError(t *testing.T) {
	tr := New(failWriter{}, Options{})
	call(tr, 1, newMem(), linux.SysGetpid, a(), 1)
	require.ErrorContains(t, tr.Err(), "strace output")
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFault }

// Guest pointers that make no sense never panic and never read without
// bound.
func FuzzDecode(f *testing.F) {
	f.Add(uint64(linux.SysOpenat), uint64(0x10000), uint64(1<<40), uint64(0xffffffff), uint64(4096), []byte("/etc/passwd\x00"))
	f.Add(uint64(linux.SysPpoll), uint64(0x10000), uint64(1<<20), uint64(0), uint64(8), []byte{1, 0, 0, 0, 1, 0, 1, 0})
	f.Add(uint64(linux.SysUtimensat), uint64(0xffffff9c), uint64(0x10000), uint64(0x10010), uint64(0), []byte("f\x00"))
	f.Fuzz(func(t *testing.T, nr, a0, a1, a2, a3 uint64, mem []byte) {
		m := newMem()
		page := zeros(8192) // the fuzzed bytes, repeated
		for i := range page {
			if len(mem) > 0 {
				page[i] = mem[i%len(mem)]
			}
		}
		m.at(0x10000, page)
		var out strings.Builder
		tr := New(&out, Options{})
		call(tr, 1, m, nr%512, a(a0, a1, a2, a3, a0, a1), a2)
		require.True(t, strings.HasSuffix(out.String(), "\n"))
		require.NotContains(t, out.String(), "decoding failed")
	})
}

func TestEverySyscallDecodes(t *testing.T) {
	m := newMem()
	page := m.at(0x10000, zeros(1<<16))
	for nr := range sysents {
		for _, ret := range []uint64{0, 1, neg(14)} {
			var out strings.Builder
			tr := New(&out, Options{})
			call(tr, 1, m, nr, a(page, 1, page, 8, page, 0), ret)
			line := out.String()
			require.True(t, strings.HasPrefix(line, sysents[nr].name+"("), line)
			require.True(t, strings.HasSuffix(line, "\n"), line)
			require.Equal(t, 1, strings.Count(line, "\n"), line)
		}
	}
}

// A blocked call interrupted by a signal, then the signal and the
// handler's return, as strace prints them.
func TestInterrupted(t *testing.T) {
	m := newMem()
	var out strings.Builder
	tr := New(&out, Options{})
	buf := m.put(zeros(16))
	tr.Enter(1, m, linux.SysRead, a(0, buf, 16)) // blocks
	tr.Interrupted(1, RestartOf(linux.SysRead))
	tr.Interrupted(1, ERESTARTSYS) // nothing pending any more
	tr.Signal(1, Siginfo{Signo: 2, Code: 0x80})
	req := m.put(timespecB(5, 0))
	rem := m.put(timespecB(3, 250))
	tr.Enter(1, m, linux.SysNanosleep, a(req, rem))
	tr.Interrupted(1, RestartOf(linux.SysNanosleep))
	call(tr, 1, m, linux.SysNanosleep, a(req, rem), neg(4))
	call(tr, 1, m, linux.SysNanosleep, a(req, rem), 0)
	tr.Enter(1, m, linux.SysRtSigsuspend, a(m.put(u64s(0)), 8))
	tr.Interrupted(1, RestartOf(linux.SysRtSigsuspend))
	require.Equal(t, `read(0, `+hex(buf)+`, 16)                    = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
--- SIGINT {si_signo=SIGINT, si_code=SI_KERNEL, si_pid=0, si_uid=0} ---
nanosleep({tv_sec=5, tv_nsec=0}, {tv_sec=3, tv_nsec=250}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)
nanosleep({tv_sec=5, tv_nsec=0}, {tv_sec=3, tv_nsec=250}) = -1 EINTR (Interrupted system call)
nanosleep({tv_sec=5, tv_nsec=0}, `+hex(rem)+`) = 0
rt_sigsuspend([], 8)                    = ? ERESTARTNOHAND (To be restarted if no handler)
`, out.String())
}

// The calls the kernel gains this round are decoded, not printed in hex.
func TestNewCallsDecode(t *testing.T) {
	for _, nr := range []uint64{
		linux.SysClone3, linux.SysFutex, linux.SysEpollCreate1, linux.SysEpollCtl, linux.SysEpollPwait,
		linux.SysEpollPwait2, linux.SysEventfd2, linux.SysTimerfdCreate, linux.SysTimerfdSettime,
		linux.SysTimerfdGettime, linux.SysSignalfd4, linux.SysSocket, linux.SysSocketpair, linux.SysBind,
		linux.SysListen, linux.SysAccept, linux.SysAccept4, linux.SysConnect, linux.SysGetsockname,
		linux.SysGetpeername, linux.SysSendto, linux.SysRecvfrom, linux.SysSetsockopt, linux.SysGetsockopt,
		linux.SysShutdown, linux.SysSendmsg, linux.SysRecvmsg, linux.SysSetitimer, linux.SysGetitimer,
		linux.SysTimerCreate, linux.SysTimerSettime, linux.SysTimerGettime, linux.SysTimerGetoverrun,
		linux.SysTimerDelete, linux.SysMknodat, linux.SysGetgroups, linux.SysSetgroups, linux.SysGetpriority,
		linux.SysSetpriority, linux.SysGetresuid, linux.SysGetresgid, linux.SysSetresuid, linux.SysSetresgid,
		linux.SysRtSigtimedwait, linux.SysPersonality, linux.SysSchedSetaffinity, linux.SysSchedGetaffinity,
		linux.SysFallocate, linux.SysSetxattr, linux.SysGetxattr, linux.SysListxattr, linux.SysRemovexattr,
		linux.SysLsetxattr, linux.SysFsetxattr, linux.SysFgetxattr, linux.SysStatx, linux.SysFlock,
		linux.SysIoprioSet, linux.SysRtSigqueueinfo, linux.SysCopyFileRange, linux.SysFadvise64,
		linux.SysMremap, linux.SysPidfdOpen, linux.SysWaitid, linux.SysShmget,
	} {
		require.True(t, Decodes(nr), Name(nr))
	}
}

// A decoder that fails leaves a raw line, never a panic.
func TestDecoderFailureIsContained(t *testing.T) {
	var out strings.Builder
	tr := New(&out, Options{})
	c := tr.Enter(1, newMem(), linux.SysGetpid, a())
	c.safe(func() { panic("boom") })
	c.Exit(nil, 5)
	require.Equal(t, "getpid( /* decoding failed: boom */)    = 0x5\n", out.String())
}

// utimensat with nanoseconds out of range (the kernel refuses them) and
// negative seconds.
func TestOddTimes(t *testing.T) {
	m := newMem()
	var out strings.Builder
	tr := New(&out, Options{})
	call(tr, 1, m, linux.SysUtimensat, a(atFDCWD, m.str("f"), m.put(cat(timespecB(-1, 5e9), timespecB(1<<40, -3))), 0), neg(22))
	require.Equal(t, `utimensat(AT_FDCWD, "f", [{tv_sec=-1, tv_nsec=5000000000} /* 1969-12-31T23:59:59+0000 */, {tv_sec=1099511627776, tv_nsec=-3} /* 36812-02-20T00:36:16+0000 */], 0) = -1 EINVAL (Invalid argument)`+"\n", out.String())
}

func BenchmarkReadLine(b *testing.B) {
	m := newMem()
	buf := m.put([]byte("hello, world, this is a line of text\n"))
	tr := New(io.Discard, Options{})
	for b.Loop() {
		tr.Enter(1, m, linux.SysRead, a(3, buf, 4096)).Exit(m, 37)
	}
}
