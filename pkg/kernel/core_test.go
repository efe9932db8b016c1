package kernel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// guestPath returns the path of a built guest ELF.
func guestPath(name string) string {
	return filepath.Join("..", "..", "testdata", "guests", name)
}

func readGuest(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(guestPath(name))
	require.NoError(t, err, "guest %s (run `make guests`)", name)
	return data
}

// result is what one guest run produced.
type result struct {
	status         ExitStatus
	stdout, stderr string
	strace         string
	m              *Machine
}

// runGuest runs a built guest in a fresh machine with the program installed
// at /bin/<name>.
func runGuest(t testing.TB, name string, cfg Config, argv []string, env ...string) result {
	t.Helper()
	return runProgram(t, readGuest(t, name), "/bin/"+name, cfg, argv, env...)
}

func runProgram(t testing.TB, prog []byte, path string, cfg Config, argv []string, env ...string) result {
	t.Helper()
	var out, errb, st bytes.Buffer
	cfg.Stdout, cfg.Stderr = &out, &errb
	if cfg.Strace == nil {
		cfg.Strace = &st
	}
	m, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.FS().WriteFile(path, prog, 0o755))
	status, err := m.Run(ProcessSpec{Path: path, Argv: append([]string{path}, argv...), Env: env})
	require.NoError(t, err)
	return result{status: status, stdout: out.String(), stderr: errb.String(), strace: st.String(), m: m}
}

func TestHelloReceivesArgvEnvAndExitStatus(t *testing.T) {
	r := runGuest(t, "hello", Config{}, []string{"7", "two words"}, "SISSIM_GREETING=hi", "OTHER=x")
	require.Equal(t, "Hello, world!\nargv[0]=/bin/hello\nargv[1]=7\nargv[2]=two words\nSISSIM_GREETING=hi\n", r.stdout)
	require.Equal(t, ExitStatus{Code: 7}, r.status)
	require.Empty(t, r.stderr)
}

func TestSyscallSelfChecks(t *testing.T) {
	r := runGuest(t, "syscalls", Config{}, nil)
	require.Contains(t, r.stdout, "ok - write bad pointer EFAULT")
	require.Contains(t, r.stdout, " passed, 0 failed\n", r.stdout)
	require.Equal(t, 0, r.status.Code)
	require.NotContains(t, r.stdout, "not ok")
	require.Equal(t, uint64(1), r.m.UnknownSyscalls()[4000], "the unknown syscall is counted")
}

func TestDeterministicRunsAreByteIdentical(t *testing.T) {
	a := runGuest(t, "detprint", Config{Seed: 42}, nil)
	b := runGuest(t, "detprint", Config{Seed: 42}, nil)
	require.Equal(t, 0, a.status.Code)
	require.Equal(t, a.stdout, b.stdout)
	require.Equal(t, a.strace, b.strace)
	require.Contains(t, a.strace, "clock_gettime(CLOCK_MONOTONIC, ")
	require.Contains(t, a.strace, "getrandom(")
	require.Contains(t, a.stdout, "realtime=1767225600.")
	require.Contains(t, a.stdout, "cntfrq=62500000\n")
	for _, line := range []string{"at_pagesz=4096", "at_platform=aarch64", "at_execfn_ends_in_name=1",
		"at_entry_is_start=1", "at_phent=56", "at_secure=0", "argv_on_stack_aligned=1"} {
		require.Contains(t, a.stdout, line+"\n")
	}

	c := runGuest(t, "detprint", Config{Seed: 43}, nil)
	require.NotEqual(t, lineOf(a.stdout, "getrandom="), lineOf(c.stdout, "getrandom="), "the seed drives getrandom")
	require.NotEqual(t, lineOf(a.stdout, "at_random="), lineOf(c.stdout, "at_random="), "the seed drives AT_RANDOM")
	require.Equal(t, lineOf(a.stdout, "monotonic="), lineOf(c.stdout, "monotonic="), "the clock does not depend on the seed")
}

func lineOf(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestRealtimeClockFollowsTheHost(t *testing.T) {
	r := runGuest(t, "detprint", Config{Clock: Realtime}, nil)
	require.Equal(t, 0, r.status.Code)
	require.NotContains(t, r.stdout, "realtime=1767225600.", "realtime mode uses the host's wall clock")
}

func TestBusyWaitOnVirtualTimerFinishes(t *testing.T) {
	// spin waits for CNTVCT to advance by 10 ms worth of ticks.
	r := runGuest(t, "spin", Config{MaxInsns: 1e9}, nil)
	require.Equal(t, "spun 10ms\n", r.stdout)
	require.Equal(t, ExitStatus{}, r.status)
	require.GreaterOrEqual(t, r.m.Now().Milliseconds(), int64(10))
}

func TestNanosleepAdvancesVirtualTimeWithoutSleeping(t *testing.T) {
	r := runGuest(t, "syscalls", Config{}, nil)
	require.Contains(t, r.stdout, "ok - nanosleep")
	require.GreaterOrEqual(t, r.m.Now().Milliseconds(), int64(1), "nanosleep(1ms) moved the clock")
}

func TestGuestFaultsEndTheGuestLikeLinux(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		sig    linux.Signal
		report string
	}{
		{"null", linux.SIGSEGV, "write of unmapped address 0x0"},
		{"wild", linux.SIGSEGV, "read of unmapped address 0xdead0000"},
		{"jump", linux.SIGSEGV, "pc=0x1234560: fetch of unmapped address 0x1234560"},
		{"udf", linux.SIGILL, "undefined instruction"},
		{"brk", linux.SIGTRAP, "breakpoint"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			r := runGuest(t, "segv", Config{}, []string{tc.mode})
			require.Equal(t, "about to "+tc.mode+"\n", r.stdout)
			require.Equal(t, tc.sig, r.status.Signal)
			require.Equal(t, 128+int(tc.sig), r.status.ShellCode())
			require.Contains(t, r.status.Report, tc.sig.String())
			require.Contains(t, r.status.Report, tc.report)
			require.NotContains(t, r.status.Report, "\n", "one line")
		})
	}
}

func TestHostSurvivesAndMachineStaysUsableAfterAFault(t *testing.T) {
	var out bytes.Buffer
	m, err := New(Config{Stdout: &out})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().WriteFile("/bin/segv", readGuest(t, "segv"), 0o755))
	require.NoError(t, m.FS().WriteFile("/bin/hello", readGuest(t, "hello"), 0o755))
	st, err := m.Run(ProcessSpec{Path: "/bin/segv", Argv: []string{"segv", "null"}})
	require.NoError(t, err)
	require.Equal(t, linux.SIGSEGV, st.Signal)
	st, err = m.Run(ProcessSpec{Path: "/bin/hello", Argv: []string{"hello", "3"}})
	require.NoError(t, err)
	require.Equal(t, 3, st.Code)
	require.Contains(t, out.String(), "Hello, world!")
}

func TestInstructionBudgetStopsRunawayGuest(t *testing.T) {
	r := runGuest(t, "alu_loop", Config{MaxInsns: 1_000_000}, []string{"100000000"})
	require.Equal(t, linux.SIGKILL, r.status.Signal)
	require.Contains(t, r.status.Report, "instruction budget of 1000000 exhausted")
	require.Empty(t, r.stdout)
	require.GreaterOrEqual(t, r.m.Insns(), uint64(1_000_000))
}

func TestWriteExecuteMappingsAreRefused(t *testing.T) {
	r := runGuest(t, "wx", Config{}, nil)
	require.Equal(t, "mmap wx: EACCES\nmprotect wx: EACCES\n", r.stdout)
}

func TestLargeAllocations(t *testing.T) {
	r := runGuest(t, "memtouch", Config{}, []string{"64"})
	require.Equal(t, "touched 16384 pages, sum 2088960\ndone\n", r.stdout)
	require.Equal(t, 0, r.status.Code)
}

func TestStraceDecodesArguments(t *testing.T) {
	r := runGuest(t, "hello", Config{}, nil)
	// One process: no "[pid N] " prefixes; results aligned to column 40.
	require.Contains(t, r.strace, `write(1, "Hello, world!\nargv[0]=/bin/hello"..., 33) = 33`+"\n")
	require.Contains(t, r.strace, `readlinkat(AT_FDCWD, "/proc/self/exe", "/bin/hello", 4096) = 10`+"\n")
	require.Contains(t, r.strace, "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0\n")
	require.Contains(t, r.strace, "mprotect(0x48c000, 16384, PROT_READ)    = 0\n")
	require.Contains(t, r.strace, "ioctl(1, TCGETS, 0x")
	require.True(t, strings.HasSuffix(r.strace, "exit_group(0)                           = ?\n+++ exited with 0 +++\n"), r.strace)
	r = runGuest(t, "syscalls", Config{}, nil)
	require.Contains(t, r.strace, "= -1 EFAULT (Bad address)\n")
	require.Contains(t, r.strace, "= -1 ENOSYS (Function not implemented)\n")
	require.Regexp(t, `(?m)^syscall_0xfa0\(.*\) += -1 ENOSYS \(Function not implemented\)$`, r.strace)
}

// Bad programs: each is refused before it runs with an ExecError naming
// the problem and the errno execve would return.
func TestBadProgramsAreRefusedWithClearErrors(t *testing.T) {
	hello := readGuest(t, "hello")
	x86 := append([]byte(nil), hello...)
	binary.LittleEndian.PutUint16(x86[18:], uint16(elf.EM_X86_64))
	for _, tc := range []struct {
		name  string
		data  []byte
		errno linux.Errno
		want  string
	}{
		{"text", []byte("not a program\n"), linux.ENOEXEC, "not an ELF file"},
		{"script", []byte("#!/bin/false\nnot a program\n"), linux.ENOENT, "interpreter /bin/false: No such file or directory"},
		{"empty", nil, linux.ENOEXEC, "not an ELF file"},
		{"truncated", hello[:100], linux.ENOEXEC, "truncated or malformed ELF"},
		{"x86-64", x86, linux.ENOEXEC, "ELF for EM_X86_64; sissim runs AArch64"},
		{"dynamic", withInterp(t, hello, "/lib/ld-linux-aarch64.so.1"), linux.ENOENT,
			"interpreter /lib/ld-linux-aarch64.so.1: No such file or directory"},
		{"oversize", make([]byte, MaxExecSize+1), linux.E2BIG, "the limit is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{})
			require.NoError(t, err)
			defer m.Close()
			require.NoError(t, m.FS().WriteFile("/bin/prog", tc.data, 0o755))
			_, err = m.Run(ProcessSpec{Path: "/bin/prog"})
			var ee *ExecError
			require.ErrorAs(t, err, &ee)
			require.Contains(t, ee.Reason, tc.want)
			require.True(t, errors.Is(err, tc.errno), "errno %v, want %v", ee.Errno, tc.errno)
			require.NotContains(t, err.Error(), "\n")
		})
	}
	m, err := New(Config{})
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Run(ProcessSpec{Path: "/bin/missing"})
	require.True(t, errors.Is(err, linux.ENOENT), "%v", err)
	_, err = m.Run(ProcessSpec{Path: "/tmp"})
	require.True(t, errors.Is(err, linux.EACCES), "%v", err)
}

// withInterp turns a static ELF into one that names an interpreter, by
// retyping its PT_GNU_STACK header as PT_INTERP.
func withInterp(t testing.TB, prog []byte, interp string) []byte {
	t.Helper()
	out := append(append([]byte(nil), prog...), append([]byte(interp), 0)...)
	phoff := binary.LittleEndian.Uint64(out[0x20:])
	phnum := int(binary.LittleEndian.Uint16(out[0x38:]))
	for i := 0; i < phnum; i++ {
		ph := out[phoff+uint64(56*i):]
		if elf.ProgType(binary.LittleEndian.Uint32(ph)) == elf.PT_GNU_STACK {
			binary.LittleEndian.PutUint32(ph, uint32(elf.PT_INTERP))
			binary.LittleEndian.PutUint64(ph[8:], uint64(len(prog)))      // p_offset
			binary.LittleEndian.PutUint64(ph[32:], uint64(len(interp)+1)) // p_filesz
			return out
		}
	}
	t.Fatal("no PT_GNU_STACK header")
	return nil
}

func TestFileAndAnonymousMappings(t *testing.T) {
	r := runGuest(t, "mmapfile", Config{}, nil)
	require.NotContains(t, r.stdout, "not ok")
	require.True(t, strings.HasSuffix(r.stdout, "\n0 failed\n"), r.stdout)
	require.Equal(t, 0, r.status.Code)
}

// On a terminal console glibc asks TCGETS for the kernel's 36-byte termios;
// a larger reply would overwrite the guest's stack.
func TestTerminalConsole(t *testing.T) {
	r := runGuest(t, "hello", Config{ConsoleIsTerminal: true}, []string{"4"})
	require.Equal(t, ExitStatus{Code: 4}, r.status, r.stderr)
	require.Equal(t, "Hello, world!\nargv[0]=/bin/hello\nargv[1]=4\n", r.stdout)
	require.Contains(t, r.strace, "ioctl(1, TCGETS, {c_iflag=ICRNL, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0\n")
}

// Memory accounting balances: every mapping a process made is freed by the
// time it has exited, and the peak saw the 64 MiB allocation.
func TestMemoryAccountingBalances(t *testing.T) {
	r := runGuest(t, "memtouch", Config{}, []string{"64"})
	require.Equal(t, 0, r.status.Code)
	st := r.m.MemStats()
	require.Greater(t, st.Allocs, uint64(3))
	require.Equal(t, st.Allocs, st.Frees)
	require.Zero(t, st.Mapped)
	require.GreaterOrEqual(t, st.Peak, uint64(64<<20))
}

// Context switches between processes are recorded by the scheduler.
func TestContextSwitchesAreMeasured(t *testing.T) {
	r := runGuest(t, "procs", Config{}, nil)
	require.Equal(t, 0, r.status.Code, r.stdout)
	require.NotZero(t, r.m.Scheduler().Switches.Count())
}

// /proc/uptime counts as idle the machine time in which no guest ran: a
// program that sleeps 4 x 400 ms leaves the machine idle for those 1.6 s.
func TestProcUptimeIdle(t *testing.T) {
	r := runGuest(t, "memhog", Config{}, []string{"4", "1", "400"})
	require.Equal(t, 0, r.status.Code, r.stderr)
	b, err := r.m.FS().ReadFile("/proc/uptime")
	require.NoError(t, err)
	f := strings.Fields(string(b))
	require.Len(t, f, 2, "%q", b)
	cs := func(d time.Duration) string {
		return fmt.Sprintf("%d.%02d", d/time.Second, d%time.Second/(10*time.Millisecond))
	}
	up, idle := r.m.Now(), r.m.Now()-time.Duration(r.m.busy.Load())
	require.Equal(t, []string{cs(up), cs(idle)}, f)
	require.GreaterOrEqual(t, idle, 1600*time.Millisecond)
	require.Less(t, idle, up)
}
