package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/internal/syncbuf"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// hostMachine is a busybox machine with the given clock and console input.
func hostMachine(t *testing.T, mode kernel.ClockMode, stdin *os.File, out *syncbuf.Buffer) *kernel.Machine {
	t.Helper()
	data, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	cfg := kernel.Config{Clock: mode, Stdout: out, Stderr: out}
	if stdin != nil {
		cfg.Stdin = stdin
	}
	m, err := kernel.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.FS().WriteFile("/bin/busybox", data, 0o755))
	require.NoError(t, m.FS().Symlink("/bin/busybox", "/bin/sh"))
	return m
}

func spawnSh(t *testing.T, m *kernel.Machine, script string) *kernel.Process {
	t.Helper()
	p, err := m.Spawn(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", script}})
	require.NoError(t, err)
	return p
}

// openPTY returns the two sides of a new pseudo-terminal, or skips.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(t, err)
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// A guest that waits for console input does not stop the others: one
// waits in read(0) on a terminal or a pipe while another sleeps and
// exits; only then is the input typed, and the reader gets it.
func TestConsoleReadLetsOthersRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode kernel.ClockMode
		tty  bool
	}{
		{"terminal deterministic", kernel.Deterministic, true},
		{"terminal realtime", kernel.Realtime, true},
		{"pipe realtime", kernel.Realtime, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in, typing *os.File
			if tc.tty {
				typing, in = openPTY(t)
			} else {
				r, w, err := os.Pipe()
				require.NoError(t, err)
				t.Cleanup(func() { r.Close(); w.Close() })
				in, typing = r, w
			}
			var out syncbuf.Buffer
			m := hostMachine(t, tc.mode, in, &out)
			reader := spawnSh(t, m, "read x; echo got $x")
			sleeper := spawnSh(t, m, "for i in 1 2 3 4 5; do sleep 0.01; done; echo slept")
			// Were the machine held by the read, this wait would end
			// only when the input below is typed.
			typed := make(chan struct{})
			st, err := sleeper.Wait()
			close(typed)
			require.NoError(t, err)
			require.Equal(t, 0, st.Code)
			require.Equal(t, "slept\n", out.String(), "the sleeper finished while the reader waited")
			require.False(t, reader.Exited())
			_, err = typing.Write([]byte("hello\n"))
			require.NoError(t, err)
			st, err = reader.Wait()
			require.NoError(t, err)
			require.Equal(t, 0, st.Code)
			require.Contains(t, out.String(), "got hello\n")
		})
	}
}

// In deterministic mode a piped console holds the machine while it waits
// for input, so a run with concurrent work replays exactly.
func TestPipedConsoleIsDeterministic(t *testing.T) {
	run := func() string {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer r.Close()
		go func() {
			for _, line := range []string{"one\n", "two\n", "three\n"} {
				time.Sleep(5 * time.Millisecond)
				w.Write([]byte(line))
			}
			w.Close()
		}()
		var out syncbuf.Buffer
		m := hostMachine(t, kernel.Deterministic, r, &out)
		st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c",
			`(i=0; while [ $i -lt 30 ]; do echo tick $i; sleep 0.001; i=$((i+1)); done) & while read l; do echo "read $l"; done; wait`}})
		require.NoError(t, err)
		require.Equal(t, 0, st.Code)
		return out.String()
	}
	first := run()
	require.Contains(t, first, "read three")
	require.Equal(t, first, run())
}

// Cancelling a run ends it promptly with its processes killed, whether the
// guest computes, sleeps in realtime or waits for console input; the
// machine can still be inspected and closed.
func TestRunContextCancels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   kernel.ClockMode
		script string
	}{
		{"computing", kernel.Deterministic, "while :; do :; done"},
		{"sleeping in realtime", kernel.Realtime, "sleep 3600"},
		{"reading the console", kernel.Deterministic, "read x"},
		{"with a child", kernel.Deterministic, "sh -c 'while :; do :; done' & wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			t.Cleanup(func() { r.Close(); w.Close() })
			var out syncbuf.Buffer
			m := hostMachine(t, tc.mode, r, &out)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				time.Sleep(50 * time.Millisecond)
				cancel()
			}()
			st, err := m.RunContext(ctx, kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", tc.script}})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, linux.SIGKILL, st.Signal)
			require.NotZero(t, m.MemStats().Peak)
			require.Empty(t, m.Processes(), "every process was killed")
		})
	}
}

// Interrupt (Ctrl-C) reaches a guest asleep in realtime mode, and
// Process.Signal and Exited work from another goroutine while the machine
// runs.
func TestSignalsWhileRunning(t *testing.T) {
	var out syncbuf.Buffer
	m := hostMachine(t, kernel.Realtime, nil, &out)
	p := spawnSh(t, m, "sleep 3600")
	go func() {
		time.Sleep(50 * time.Millisecond)
		m.Interrupt()
	}()
	st, err := p.Wait()
	require.NoError(t, err)
	require.Equal(t, linux.SIGINT, st.Signal)

	m = hostMachine(t, kernel.Deterministic, nil, &out)
	p = spawnSh(t, m, "trap 'echo term; exit 3' TERM; while :; do :; done")
	go func() {
		time.Sleep(50 * time.Millisecond)
		if p.Exited() {
			panic("exited early")
		}
		p.Signal(linux.SIGTERM)
	}()
	st, err = p.Wait()
	require.NoError(t, err)
	require.Equal(t, 3, st.Code)
	require.True(t, p.Exited())
	require.ErrorIs(t, p.Signal(linux.SIGTERM), linux.ESRCH)
}

// A program that stops (Ctrl-Z, SIGSTOP) with nothing else to run ends
// Wait with a StoppedError; SIGCONT continues it. A program blocked for
// good is a DeadlockError.
func TestStoppedAndDeadlocked(t *testing.T) {
	var out syncbuf.Buffer
	m := hostMachine(t, kernel.Deterministic, nil, &out)
	p := spawnSh(t, m, "kill -STOP $$; echo continued")
	_, err := p.Wait()
	var se *kernel.StoppedError
	require.True(t, errors.As(err, &se), "%v", err)
	require.Equal(t, p.PID, se.PID)
	require.Equal(t, linux.SIGSTOP, se.Signal)
	m.SignalForeground(linux.SIGCONT)
	st, err := p.Wait()
	require.NoError(t, err)
	require.Equal(t, 0, st.Code)
	require.Equal(t, "continued\n", out.String())

	// A stopped child nobody continues: its parent waits for good.
	p = spawnSh(t, m, `sh -c 'kill -STOP $$'; echo never`)
	_, err = p.Wait()
	var de *kernel.DeadlockError
	require.True(t, errors.As(err, &de), "%v", err)
	require.True(t, strings.Contains(de.Detail, "stopped"), de.Detail)
}
