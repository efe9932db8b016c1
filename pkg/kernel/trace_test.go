package kernel_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// recorder keeps every trace event.
type recorder struct{ evs []kernel.TraceEvent }

func (r *recorder) Event(ev *kernel.TraceEvent) { r.evs = append(r.evs, *ev) }

// count returns the events of kind k that match f.
func (r *recorder) count(k kernel.TraceKind, f func(kernel.TraceEvent) bool) int {
	n := 0
	for _, ev := range r.evs {
		if ev.Kind == k && (f == nil || f(ev)) {
			n++
		}
	}
	return n
}

// traceGuest runs a guest (as /bin/prog and /bin/sh, with argv) with a
// tracer and returns what it heard and the guest's output.
func traceGuest(t *testing.T, prog []byte, argv ...string) (*recorder, string) {
	t.Helper()
	var out bytes.Buffer
	m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, MaxInsns: 4_000_000_000})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.FS().WriteFile("/bin/prog", prog, 0o755))
	require.NoError(t, m.FS().Symlink("/bin/prog", "/bin/sh"))
	r := &recorder{}
	m.SetTracer(r)
	m.TraceMark("test", "before", kernel.TraceArg{Key: "n", Value: 1})
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/prog", Argv: argv})
	require.NoError(t, err)
	require.NoError(t, m.Drain())
	m.SetTracer(nil)
	require.Equal(t, 0, st.Code, out.String())
	return r, out.String()
}

// The tracer hears each thread's slices, in time order and never
// overlapping on the one CPU, and its system calls within them; waits
// name the system call; the CBS budgets and the memory are counted.
func TestTracerHearsThreads(t *testing.T) {
	prog, err := os.ReadFile("../../testdata/guests/threads")
	require.NoError(t, err)
	r, _ := traceGuest(t, prog, "prog")
	require.Equal(t, kernel.TraceMark, r.evs[0].Kind)
	require.Equal(t, "before", r.evs[0].Name)

	tids := map[int]bool{}
	var last uint64
	for _, ev := range r.evs {
		if ev.Kind != kernel.TraceRun {
			continue
		}
		require.GreaterOrEqual(t, ev.Start, last, "slices overlap")
		require.GreaterOrEqual(t, ev.End, ev.Start)
		last = ev.End
		if ev.PID == 2 {
			require.Equal(t, "prog", ev.Process)
			tids[ev.TID] = true
		}
	}
	require.Greater(t, len(tids), 8, "the guest's threads ran")
	require.Positive(t, r.count(kernel.TraceSyscall, func(ev kernel.TraceEvent) bool { return ev.Name == "clone" && ev.Value > 0 }))
	require.Positive(t, r.count(kernel.TraceWait, func(ev kernel.TraceEvent) bool { return ev.Name == "futex" && ev.End >= ev.Start }))
	require.Zero(t, r.count(kernel.TraceWait, func(ev kernel.TraceEvent) bool { return ev.Name == "blocked" }), "every wait names its call")
	require.Positive(t, r.count(kernel.TraceBudget, func(ev kernel.TraceEvent) bool { return ev.Name == "Process" && ev.Server > 0 }))
	require.Positive(t, r.count(kernel.TraceMemory, func(ev kernel.TraceEvent) bool { return ev.Value > 0 }))
	require.Positive(t, r.count(kernel.TraceSignal, func(ev kernel.TraceEvent) bool { return ev.Detail == "handler" }))
}

// A busybox pipeline: processes, exits, SIGCHLD, waits in wait4 and
// pipe reads; two runs hear the same events.
func TestTracerHearsProcessesDeterministically(t *testing.T) {
	bb, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	run := func() *recorder {
		r, out := traceGuest(t, bb, "sh", "-c", "seq 1 2000 | sort -rn | head -3")
		require.Equal(t, "2000\n1999\n1998\n", out)
		return r
	}
	a := run()
	pids := map[int]string{}
	for _, ev := range a.evs {
		if ev.Kind == kernel.TraceRun {
			pids[ev.PID] = ev.Process
		}
	}
	require.GreaterOrEqual(t, len(pids), 4, "sh, seq, sort and head ran: %v", pids)
	require.Positive(t, a.count(kernel.TraceWait, func(ev kernel.TraceEvent) bool { return ev.Name == "wait4" }))
	require.Positive(t, a.count(kernel.TraceWait, func(ev kernel.TraceEvent) bool { return ev.Name == "read" }))
	require.Positive(t, a.count(kernel.TraceSignal, func(ev kernel.TraceEvent) bool { return ev.Name == "SIGCHLD" }))
	b := run()
	require.Equal(t, fmt.Sprint(a.evs), fmt.Sprint(b.evs))
}

// discard is a tracer that keeps nothing.
type discard struct{ n int }

func (d *discard) Event(*kernel.TraceEvent) { d.n++ }

// BenchmarkGetpidTraced is BenchmarkGetpid (deterministic) with a tracer
// that discards the events: the cost of hearing each system call.
func BenchmarkGetpidTraced(b *testing.B) {
	data := benchGuest(b, "getpid_loop")
	m, err := kernel.New(kernel.Config{Stdout: &bytes.Buffer{}})
	require.NoError(b, err)
	defer m.Close()
	require.NoError(b, m.FS().WriteFile("/bin/getpid_loop", data, 0o755))
	d := &discard{}
	m.SetTracer(d)
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/getpid_loop", Argv: []string{"getpid_loop", fmt.Sprint(b.N)}})
	require.NoError(b, err)
	require.Equal(b, 0, st.Code)
	require.GreaterOrEqual(b, d.n, b.N)
}
