package kernel

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/strace"
)

// A fork: the parent's clone line has no prefix (it began while one task
// lived), the child's lines have "[pid     3] ", and the parent's wait4
// after the child's exit has none again.
func TestStraceForkPrefixes(t *testing.T) {
	r := runGuest(t, "procs", Config{}, nil)
	lines := strings.Split(r.strace, "\n")
	require.Equal(t, "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x4a80d0) = 3", lines[12])
	require.Equal(t, "[pid     3] set_robust_list(0x4a80e0, 24) = 0", lines[13])
	require.Equal(t, "[pid     3] exit_group(42)              = ?", lines[14])
	require.Equal(t, "[pid     3] +++ exited with 42 +++", lines[15])
	require.Equal(t, "wait4(3, [{WIFEXITED(s) && WEXITSTATUS(s) == 42}], 0, NULL) = 3", lines[16])
	line := regexp.MustCompile(`^(\[pid +\d+\] )?([a-z_0-9]+\(.*\) += (-?\d+|0x[0-9a-f]+|\?)( .*)?|(\+\+\+|---) .* (\+\+\+|---))$`)
	for _, l := range lines[:len(lines)-1] {
		require.Regexp(t, line, l)
	}
}

// -e trace=%process shows only the process calls.
func TestStraceFilter(t *testing.T) {
	f, err := strace.ParseFilter("trace=%process")
	require.NoError(t, err)
	r := runGuest(t, "procs", Config{StraceOptions: strace.Options{Filter: f}}, nil)
	require.Contains(t, r.strace, "clone(child_stack=NULL, ")
	require.Contains(t, r.strace, "wait4(3, [{WIFEXITED(s) && WEXITSTATUS(s) == 42}], 0, NULL) = 3\n")
	require.Contains(t, r.strace, "kill(5, SIGTERM)")
	for _, l := range strings.Split(strings.TrimSpace(r.strace), "\n") {
		if regexp.MustCompile(`^(?:\[pid +\d+\] )?(\+\+\+|---) `).MatchString(l) {
			continue // exit and signal lines are not filtered (as strace)
		}
		name := regexp.MustCompile(`^(?:\[pid +\d+\] )?([a-z_0-9]+)\(`).FindStringSubmatch(l)
		require.NotNil(t, name, l)
		require.Contains(t, []string{"clone", "clone3", "execve", "exit", "exit_group", "wait4", "waitid", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"}, name[1], l)
	}
}

// The hooks the kernel calls around a system call, at signal delivery and
// at exit.
func TestStraceHooks(t *testing.T) {
	var out bytes.Buffer
	m, err := New(Config{Strace: &out})
	require.NoError(t, err)
	defer m.Close()
	p, task, err := m.newProcess()
	require.NoError(t, err)
	defer task.ctx.Free()
	c := m.straceEnter(task, linux.SysGetpid, &args{})
	m.straceLeave(task, c, uint64(task.TID), nil)
	c = m.straceEnter(task, linux.SysOpenat, &args{uint64(0xffffffffffffff9c), 0x1000, 0})
	m.straceLeave(task, c, 0, linux.EFAULT)
	m.straceEnter(task, linux.SysRtSigsuspend, &args{0, 8}) // blocks
	m.straceInterrupted(task, linux.SysRtSigsuspend)
	m.straceSignal(task, linux.SIGCHLD, siginfo{code: cldExited, pid: 2})
	m.straceExit(task, ExitStatus{Code: 3})
	m.straceExit(&Task{Process: p, TID: 9}, ExitStatus{Signal: linux.SIGSEGV})
	require.Equal(t, `getpid()                                = 2
openat(AT_FDCWD, 0x1000, O_RDONLY)      = -1 EFAULT (Bad address)
rt_sigsuspend(NULL, 8)                  = ? ERESTARTNOHAND (To be restarted if no handler)
--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
+++ exited with 3 +++
+++ killed by SIGSEGV +++
`, out.String())
}

// Every system call the kernel implements is decoded by number (its
// arguments are not printed in hex), so the tables can drop argKind.
func TestStraceDecodesEveryKernelSyscall(t *testing.T) {
	for _, s := range Syscalls() {
		require.True(t, strace.Decodes(uint64(s.Nr)), s.Name)
		require.Equal(t, s.Name, strace.Name(uint64(s.Nr)))
	}
}
