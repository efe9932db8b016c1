package gdbtest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// lldb debugs a threaded guest: it resumes with a bare c (no Hc), which
// resumes every thread, so the workers run and reach their breakpoint.
func TestLLDBThreads(t *testing.T) {
	if _, err := exec.LookPath("lldb"); err != nil {
		t.Skip("lldb is not installed (scripts/deps.sh installs it)")
	}
	prog := guest(t, "dbgthreads")
	mc := startMachine(t, "", prog, "/bin/dbgthreads")
	ctx, cancel := context.WithTimeout(context.Background(), gdbTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "lldb", "--no-lldbinit", "--batch", prog, "-o", "breakpoint set --name worker",
		"-o", "gdb-remote "+mc.addr, "-o", "continue", "-o", "frame variable id", "-o", "continue",
		"-o", "frame variable id", "-o", "continue")
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "TERM=dumb", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n--- packets:\n%s", out, tail(mc.log.String(), 30000))
	requireInOrder(t, string(out), "stop reason = signal SIGTRAP", "`_start",
		"stop reason = breakpoint 1.1", "`worker(arg=0x0000000000000000)", "(int) id = ",
		"stop reason = breakpoint 1.1", "`worker(arg=0x0000000000000001)", "(int) id = ",
		"exited with status = 0")
	require.NoError(t, mc.srv.Close())
	res := <-mc.status
	require.NoError(t, res.err)
	require.Equal(t, "results 10 20\n", mc.out.String())
}
