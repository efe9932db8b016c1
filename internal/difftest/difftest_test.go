package difftest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) FailNow() {
	r.failed = true
	runtime.Goexit()
}

// check runs Equal against a recorder, as a test body would.
func check(t *testing.T, sim, ref Result) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Equal(r, sim, ref)
	}()
	<-done
	return r
}

func TestEqual(t *testing.T) {
	ref := Result{Stdout: []byte("hi\n"), Exit: 0, Cmd: "qemu x"}
	same := Result{Stdout: []byte("hi\n"), Exit: 0, Cmd: "sissim x"}
	require.False(t, check(t, same, ref).failed)

	diffOut := same
	diffOut.Stdout = []byte("ho\n")
	diffOut.Strace = "[pid 1] write(1, \"ho\\n\", 3) = 3\n"
	diffOut.Unimplemented = map[string]uint64{"prctl": 2}
	r := check(t, diffOut, ref)
	require.True(t, r.failed)
	all := strings.Join(r.msgs, "\n")
	require.Contains(t, all, "stdout of sissim x")
	require.Contains(t, all, "prctl (2x)")
	require.Contains(t, all, `write(1, "ho\n", 3) = 3`)

	diffErr := same
	diffErr.Stderr = []byte("oops\n")
	require.True(t, check(t, diffErr, ref).failed)

	diffExit := same
	diffExit.Exit = 139
	diffExit.Report = "SIGSEGV (Segmentation fault) pc=0x400000"
	r = check(t, diffExit, ref)
	require.True(t, r.failed)
	require.Contains(t, strings.Join(r.msgs, "\n"), "qemu 0, sissim 139\nsissim: SIGSEGV")
}

func TestDiagnosticsKeepsTheTraceTail(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	d := diagnostics(Result{Strace: b.String()})
	require.Contains(t, d, "last 40 of 100 lines")
	require.Contains(t, d, "line 99")
	require.Contains(t, d, "line 60\n")
	require.NotContains(t, d, "line 59\n")
}

func TestCommandLine(t *testing.T) {
	require.Equal(t, `prog a "two words" "" "$x"`, commandLine("prog", []string{"a", "two words", "", "$x"}))
}

// TestRunHello runs the harness end to end: the same guest, arguments,
// environment and working directory on both sides.
func TestRunHello(t *testing.T) {
	sim, ref := Run(t, Guest(t, "hello"), []string{"5", "b c"}, Options{
		Argv0: "hi",
		Env:   []string{"SISSIM_GREETING=g"},
	})
	Equal(t, sim, ref)
	require.Equal(t, "Hello, world!\nargv[0]=hi\nargv[1]=5\nargv[2]=b c\nSISSIM_GREETING=g\n", string(sim.Stdout))
	require.Equal(t, 5, sim.Exit)
}

// TestRunEnvironmentOrder checks that the guest sees Options.Env in order
// on both sides (qemu-user reverses what it is given).
func TestRunEnvironmentOrder(t *testing.T) {
	env := []string{"A=1", "B=2", "C=3"}
	sim, ref := Run(t, Busybox(t), []string{"env"}, Options{Env: env})
	Equal(t, sim, ref)
	require.Equal(t, "A=1\nB=2\nC=3\n", string(ref.Stdout))
}

// TestRunFiles checks that Files reach both sides at the same paths, relative
// to the working directory.
func TestRunFiles(t *testing.T) {
	sim, ref := Run(t, Busybox(t), []string{"cat", "sub/f.txt"}, Options{
		Files: map[string][]byte{"sub/f.txt": []byte("content\n")},
	})
	Equal(t, sim, ref)
	require.Equal(t, "content\n", string(sim.Stdout))
}
