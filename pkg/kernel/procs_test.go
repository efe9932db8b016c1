package kernel_test

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// TestProcsGuest runs the self-checking process, pipe and signal guest
// under sissim and qemu-aarch64-static.
func TestProcsGuest(t *testing.T) {
	prog := difftest.Guest(t, "procs")
	sim, ref := difftest.Run(t, prog, nil, difftest.Options{})
	difftest.Equal(t, sim, ref)
	require.Contains(t, string(sim.Stdout), "41 passed, 0 failed")
}

// runGuest runs a guest of testdata/guests in a fresh machine.
func runGuest(t *testing.T, name string, args ...string) (string, kernel.ExitStatus) {
	t.Helper()
	data, err := os.ReadFile(difftest.Guest(t, name))
	require.NoError(t, err)
	var out bytes.Buffer
	m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, MaxInsns: 2_000_000_000})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().WriteFile("/bin/"+name, data, 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/" + name, Argv: append([]string{"/bin/" + name}, args...)})
	require.NoError(t, err)
	return out.String(), st
}

// TestExecSelf checks execve and vfork+execve of a program (qemu-user
// cannot execve AArch64 programs, so there is no reference run).
func TestExecSelf(t *testing.T) {
	out, st := runGuest(t, "procs", "exec")
	require.Equal(t, "ok - execve self exit 17\nok - vfork exec exit 5\n2 passed, 0 failed\n", out)
	require.Equal(t, 0, st.Code)
}

// TestPpollWaitMask: a signal held off by ppoll's own mask is delivered
// when ppoll returns, not during the wait (qemu-user 7.2 loses it, so
// there is no reference run).
func TestPpollWaitMask(t *testing.T) {
	out, st := runGuest(t, "procs", "waitmask")
	require.Equal(t, "ok - ppoll mask holds a signal off for the wait only\n1 passed, 0 failed\n", out)
	require.Equal(t, 0, st.Code)
}

// TestRlimitNofile: descriptors stop at RLIMIT_NOFILE, and raising it
// makes room for more; prlimit sets a child's (qemu-user's limits are its host's: no reference).
func TestRlimitNofile(t *testing.T) {
	out, st := runGuest(t, "procs", "nofile")
	require.Equal(t, 0, st.Code, out)
	require.Contains(t, out, "ok - prlimit of a child\n")
	require.Contains(t, out, "11 passed, 0 failed\n")
}

// TestPidfd: pidfd_open, pidfd_send_signal, waitid(P_PIDFD), poll and
// clone(CLONE_PIDFD), and /proc/<pid> directories as pidfds for
// pidfd_send_signal (qemu-user 7.2 has no CLONE_PIDFD: no reference).
func TestPidfd(t *testing.T) {
	out, st := runGuest(t, "procs", "pidfd")
	require.Equal(t, 0, st.Code, out)
	require.Contains(t, out, "14 passed, 0 failed\n")
}

// TestForkBomb: a fork bomb stops at RLIMIT_NPROC with EAGAIN.
func TestForkBomb(t *testing.T) {
	out, st := runGuest(t, "procs", "bomb")
	require.Equal(t, "fork bomb stopped by EAGAIN\n", out)
	require.Equal(t, 0, st.Code)
}

// busyboxMachine returns a machine with busybox as /bin/busybox and /bin/sh.
func busyboxMachine(t *testing.T, out *bytes.Buffer) *kernel.Machine {
	t.Helper()
	data, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	m, err := kernel.New(kernel.Config{Stdout: out, Stderr: out, MaxInsns: 4_000_000_000})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.FS().WriteFile("/bin/busybox", data, 0o755))
	require.NoError(t, m.FS().Symlink("/bin/busybox", "/bin/sh"))
	return m
}

// TestBusyboxShellScripts compares `busybox sh -c` scripts with pipes,
// redirections, &&/||, subshells, $(...), loops, background jobs and exit
// statuses with qemu-aarch64-static.
func TestBusyboxShellScripts(t *testing.T) {
	bb := difftest.Busybox(t)
	scripts := []string{
		`seq 1 200 | sort -r | head -5`,
		`for i in 1 2 3; do echo $i > f$i; done; cat f*`,
		`sh -c 'exit 7'; echo $?`,
		`yes | head -3`,
		`x=$(echo sub | tr a-z A-Z); echo "got $x"; (echo in subshell; exit 3) || echo "failed $?"; true && echo and; false || echo or`,
		`echo a > o; echo b >> o; wc -l < o; cat o 2>&1 >/dev/null | cat; cat missing 2>/dev/null || echo "cat failed $?"`,
		`sleep 0.01 & p=$!; echo started; wait $p; echo "waited $?"; (exit 5) & wait $!; echo "bg $?"`,
		`seq 1 3000 | sort -n | tail -2; echo pipeline ${PIPESTATUS:-done}`,
		`kill 99999 2>/dev/null; echo "kill $?"; sh -c 'kill -TERM $$'; echo "killed $?"`,
		`seq 1 100000 | head -2; echo "head $?"`,
		`sh -c 'echo one; kill -9 $$; echo never' | cat; echo "after $?"`, // dies mid-pipe
		`exit 3`,
	}
	for _, s := range scripts {
		t.Run(s, func(t *testing.T) {
			sim, ref := difftest.Run(t, bb, []string{"-c", s}, difftest.Options{Argv0: "sh"})
			difftest.Equal(t, sim, ref)
		})
	}
}

// TestBackgroundJobsDeterministic: three CPU-bound background jobs that
// print as they go interleave byte-identically on every run.
func TestBackgroundJobsDeterministic(t *testing.T) {
	script := `for j in a b c; do (i=0; while [ $i -lt 900 ]; do i=$((i+1)); [ $((i%150)) -eq 0 ] && echo $j$i; done) & done; wait; echo done`
	var first string
	for run := 0; run < 3; run++ {
		var out bytes.Buffer
		m := busyboxMachine(t, &out)
		st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", script}})
		require.NoError(t, err)
		require.Equal(t, 0, st.Code)
		if run == 0 {
			first = out.String()
			lines := strings.Fields(first)
			require.Len(t, lines, 19)
			require.Equal(t, "done", lines[18])
			// The jobs really interleave: job b prints before job a ends.
			require.Less(t, strings.Index(first, "b150"), strings.Index(first, "a900"))
			continue
		}
		require.Equal(t, first, out.String(), "run %d", run)
	}
}

// TestInfiniteLoopDoesNotStopOthers: a spinning background job is
// preempted; the shell finishes, and the instruction budget ends the
// spinner with a report.
func TestInfiniteLoopDoesNotStopOthers(t *testing.T) {
	var out bytes.Buffer
	m := busyboxMachine(t, &out)
	// Wait, not Run: Run would go on until every process ends, and the
	// spinner never does.
	p, err := m.Spawn(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", `(while :; do :; done) & echo "spinner started"; seq 1 3 | tail -1`}})
	require.NoError(t, err)
	st, err := p.Wait()
	require.NoError(t, err)
	require.Equal(t, 0, st.Code)
	require.Equal(t, "spinner started\n3\n", out.String())
}

// TestExecErrors: execve of a missing file, a directory, a non-ELF and an
// oversize file fail with Linux's errno (the shell reports 127/126; on
// ENOEXEC it runs the file as a script, as POSIX says).
func TestExecErrors(t *testing.T) {
	var out bytes.Buffer
	m := busyboxMachine(t, &out)
	require.NoError(t, m.FS().WriteFile("/tmp/notelf", []byte("\x01\x02garbage"), 0o755))
	require.NoError(t, m.FS().WriteFile("/tmp/big", make([]byte, kernel.MaxExecSize+1), 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c",
		`/tmp/missing; echo "missing $?"; /tmp; echo "dir $?"; /tmp/notelf; echo "notelf $?"; /tmp/big; echo "big $?"`}})
	require.NoError(t, err)
	require.Equal(t, 0, st.Code)
	got := out.String()
	for _, want := range []string{"missing 127", "dir 126", "notelf 127", "big 126",
		"Permission denied", "Argument list too long"} {
		require.Contains(t, got, want)
	}
}

// TestMaxInsnsStopsAllProcesses: the machine budget ends a runaway process
// tree with a report.
func TestMaxInsnsStopsAllProcesses(t *testing.T) {
	var out bytes.Buffer
	data, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, MaxInsns: 50_000_000})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().WriteFile("/bin/busybox", data, 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", `(while :; do :; done) & wait`}})
	if err != nil {
		require.False(t, errors.Is(err, linux.ENOSYS), err)
	}
	require.Equal(t, linux.SIGKILL, st.Signal)
	require.Contains(t, st.Report, "instruction budget of 50000000 exhausted")
}

// TestProcStat: /proc/stat has the CPU line, the boot time (the machine's
// epoch), the processes and threads created since boot (the one guest:
// sh execs cat) and the one running (cat); ps needs btime for its start
// times. /proc/vmstat is what vmstat(8) reads besides.
func TestProcStat(t *testing.T) {
	out, _, _ := busyboxNet(t, "busybox cat /proc/stat")
	require.Regexp(t, `^cpu  \d+ 0 0 \d+ 0 0 0 0 0 0\ncpu0 \d+ 0 0 \d+ 0 0 0 0 0 0\n`, out)
	require.Contains(t, out, "\nbtime "+strconv.Itoa(kernel.DefaultEpochUnix)+"\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n")

	// A pipeline switches between its processes: ctxt counts it; vmstat
	// has the free pages and no swap or block I/O.
	out, _, _ = busyboxNet(t, "busybox seq 1 2000 | busybox wc -l; busybox cat /proc/stat /proc/vmstat")
	require.Regexp(t, `\nctxt [1-9]\d*\nbtime `, out)
	require.Regexp(t, `\nnr_free_pages [1-9]\d*\n`, out)
	require.Contains(t, out, "\npgpgin 0\npgpgout 0\npswpin 0\npswpout 0\n")
}
