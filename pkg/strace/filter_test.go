package strace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func TestFilter(t *testing.T) {
	in := func(f *Filter, nrs ...uint64) {
		t.Helper()
		for _, nr := range nrs {
			require.True(t, f.syscall(nr), Name(nr))
		}
	}
	out := func(f *Filter, nrs ...uint64) {
		t.Helper()
		for _, nr := range nrs {
			require.False(t, f.syscall(nr), Name(nr))
		}
	}
	var all *Filter
	in(all, linux.SysRead, 4000)

	f, err := ParseFilter("trace=%file")
	require.NoError(t, err)
	in(f, linux.SysOpenat, linux.SysNewfstatat, linux.SysExecve, linux.SysStatx, linux.SysGetcwd, linux.SysMknodat)
	out(f, linux.SysRead, linux.SysFstat, linux.SysClose, 4000)

	f, err = ParseFilter("%process")
	require.NoError(t, err)
	in(f, linux.SysClone, linux.SysClone3, linux.SysExecve, linux.SysExitGroup, linux.SysWait4, linux.SysKill)
	out(f, linux.SysGetpid, linux.SysRead)

	f, err = ParseFilter("trace=%network")
	require.NoError(t, err)
	in(f, linux.SysSocket, linux.SysConnect, linux.SysSendmsg, linux.SysSendfile)
	out(f, linux.SysRead, linux.SysPipe2)
	f2, err := ParseFilter("trace=%net")
	require.NoError(t, err)
	require.Equal(t, f, f2)

	f, err = ParseFilter("trace=%signal")
	require.NoError(t, err)
	in(f, linux.SysRtSigaction, linux.SysKill, linux.SysSignalfd4, linux.SysRtSigreturn)
	out(f, linux.SysWait4)

	f, err = ParseFilter("trace=%memory")
	require.NoError(t, err)
	in(f, linux.SysMmap, linux.SysBrk, linux.SysMprotect, linux.SysMadvise, linux.SysMremap)
	out(f, linux.SysRead)

	f, err = ParseFilter("trace=%%stat")
	require.NoError(t, err)
	in(f, linux.SysFstat, linux.SysNewfstatat, linux.SysStatx)
	out(f, linux.SysStatfs)

	f, err = ParseFilter("trace=!write")
	require.NoError(t, err)
	in(f, linux.SysRead, 4000)
	out(f, linux.SysWrite)

	f, err = ParseFilter("t=/^rt_sig", "trace=write")
	require.NoError(t, err)
	in(f, linux.SysRtSigaction, linux.SysRtSigreturn, linux.SysWrite)
	out(f, linux.SysRead)

	f, err = ParseFilter("trace=?nosuch,read", "file")
	require.NoError(t, err)
	in(f, linux.SysRead, linux.SysOpenat)

	f, err = ParseFilter("trace=none")
	require.NoError(t, err)
	out(f, linux.SysRead, linux.SysExit)

	f, err = ParseFilter("signal=!SIGCHLD")
	require.NoError(t, err)
	require.False(t, f.signal(linux.SIGCHLD))
	require.True(t, f.signal(linux.SIGSEGV))
	in(f, linux.SysRead)
	f, err = ParseFilter("s=USR1,2,SIGRT_3")
	require.NoError(t, err)
	require.True(t, f.signal(linux.SIGUSR1))
	require.True(t, f.signal(linux.SIGINT))
	require.True(t, f.signal(linux.SIGRTMIN+3))
	require.False(t, f.signal(linux.SIGTERM))

	for _, bad := range []string{"trace=nosuch", "trace=stat", "trace=creds", "trace=", "trace=/(", "signal=SIGNOPE", "signal=99", "abbrev=all"} {
		_, err := ParseFilter(bad)
		require.Error(t, err, bad)
	}
}

// Filtered-out calls print nothing, and signal lines follow signal=.
func TestFilterOutput(t *testing.T) {
	f, err := ParseFilter("trace=getpid", "signal=!SIGCHLD")
	require.NoError(t, err)
	var out strings.Builder
	tr := New(&out, Options{Filter: f})
	m := newMem()
	call(tr, 1, m, linux.SysGetppid, a(), 0)
	call(tr, 1, m, linux.SysGetpid, a(), 1)
	tr.Signal(1, Siginfo{Signo: 17, Code: 1})
	tr.Signal(1, Siginfo{Signo: 10})
	tr.Killed(1, linux.SIGCHLD, false)
	require.Equal(t, "getpid()                                = 1\n--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=0, si_uid=0} ---\n", out.String())
}
