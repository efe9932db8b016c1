package sis_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sched"
	"github.com/sis-kernel/sissim/pkg/sis"
)

var inferRe = regexp.MustCompile(`\[LLM\] infer id=(\d+) tokens=(\d+) latency_us=(\d+)`)

// lastLatency returns the latency of the newest inference of m's
// service, from its audit.
func lastLatency(t *testing.T, m *sis.System) time.Duration {
	t.Helper()
	a := m.LLM().Audit()
	require.NotEmpty(t, a)
	return a[len(a)-1].Latency
}

// inferCosts returns the machine time charged to the inferences of m's
// service so far.
func inferCosts(m *sis.System) time.Duration {
	var d time.Duration
	for _, r := range m.LLM().Audit() {
		d += r.Cost
	}
	return d
}

const prompt = "llminfer what does the scheduler do --max-tokens 64"

// budget1s is an LLM budget of 10 ms per second: its server's deadline
// is a second after it is admitted, later than that of a guest started
// soon after (a process's server is due 100 ms after it starts), so
// under EDF the guest's budget is served first.
const budget1s = "llmctl budget --wcet-cycles 10000000 --period-ns 1000000000"

// contention runs a CPU-bound guest with and without inferences next to
// it, and inferences with and without the guest; it returns the shell
// output, for comparing runs.
func contention(t *testing.T) string {
	m := bootSys(t, kernel.Config{}, nil)
	out := sh(t, m, "llmctl load; "+budget1s)
	guestAlone := runFor(t, m, "run alu_loop 20000000")

	out += sh(t, m, prompt)
	inferAlone := lastLatency(t, m)
	require.Equal(t, inferCosts(m), inferAlone, "alone, an inference takes its cost")

	// The guest in the background, three inferences next to it, then
	// the rest of the guest.
	out += sh(t, m, budget1s)
	costBefore := inferCosts(m)
	start := m.Now()
	out += sh(t, m, "run alu_loop 20000000 &")
	var withGuest []time.Duration
	for range 3 {
		out += sh(t, m, prompt)
		withGuest = append(withGuest, lastLatency(t, m))
	}
	out += sh(t, m, "wait")
	guestShared := m.Now() - start
	inferTime := inferCosts(m) - costBefore

	// The guest took longer by exactly the machine time the inferences
	// were charged: the service's work ran on the one CPU in its stead.
	require.Positive(t, inferTime)
	require.Greater(t, guestShared, guestAlone)
	require.Equal(t, guestAlone+inferTime, guestShared, "guest alone %v, with inferences %v, inferences %v", guestAlone, guestShared, inferTime)
	// The first inference waited for the guest's budget (the guest's
	// deadline came first); the later ones found it spent.
	require.Greater(t, withGuest[0], inferAlone)
	require.Greater(t, withGuest[0], sched.DefaultProcessWCET*time.Nanosecond)
	for _, l := range withGuest {
		require.GreaterOrEqual(t, l, inferAlone)
	}
	t.Logf("guest alone %v, with 3 inferences %v (+%v); inference alone %v, next to the guest %v",
		guestAlone, guestShared, inferTime, inferAlone, withGuest)
	return out
}

// TestLLMContention: the LLM service is a scheduled entity that competes
// with a CPU-bound guest for machine time, and the same runs give the
// same output.
func TestLLMContention(t *testing.T) {
	a := contention(t)
	require.Regexp(t, inferRe, a)
	require.Equal(t, a, contention(t))
}

// TestLLMDeadlineMissUnderContention: a request due 1 ms after it arrives
// misses its deadline when a guest's turn comes first; alone, it does
// not. The service and the metrics count the miss.
func TestLLMDeadlineMissUnderContention(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, "llmctl load; "+budget1s)
	const line = "llminfer the scheduler --deadline-ns 1000000"
	require.Contains(t, sh(t, m, line), "[LLM][DEADLINE] ok ")
	sh(t, m, budget1s+"; run alu_loop 20000000 &")
	out := sh(t, m, line)
	mm := latencyRe.FindStringSubmatch(out)
	require.NotNil(t, mm, out)
	require.Equal(t, "miss", mm[1], out)
	require.Equal(t, "1000000", mm[3])
	sh(t, m, "wait")
	require.EqualValues(t, 1, m.LLM().Counters().DeadlineMisses)
	require.Contains(t, sh(t, m, "llmctl status"), "deadline_misses=1")
	require.Contains(t, sh(t, m, "metrics"), "llm_deadline_misses_total 1")
}

// TestLLMInterrupt: Ctrl-C during llminfer cancels the request; the
// shell goes on and the service has nothing queued.
func TestLLMInterrupt(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	// 100 ns of work per 1 ms: the inference spans many periods.
	sh(t, m, "llmctl load; llmctl budget --wcet-cycles 100 --period-ns 1000000")
	m.AtTime(m.Now()+3*time.Millisecond, m.Interrupt)
	out, err := m.Shell().Exec("llminfer the scheduler")
	require.ErrorContains(t, err, "interrupted")
	require.NotContains(t, out, "[LLM] infer")
	st := sh(t, m, "llmctl status")
	require.Contains(t, st, "cancelled=1 queued=0")
	require.Regexp(t, `outcome=cancelled .* reason="interrupted"`, sh(t, m, "llmctl audit 1"))
	// The next request runs to its end.
	require.Regexp(t, inferRe, sh(t, m, "llminfer the scheduler"))
}

// TestLLMRealtime: in realtime mode an inference takes the host time of
// its operations; its slices add up to the time charged.
func TestLLMRealtime(t *testing.T) {
	m := bootSys(t, kernel.Config{Clock: kernel.Realtime}, nil)
	sh(t, m, "llmctl load")
	out := sh(t, m, prompt)
	mm := inferRe.FindStringSubmatch(out)
	require.NotNil(t, mm, out)
	n, err := strconv.Atoi(mm[2])
	require.NoError(t, err)
	require.Positive(t, n)
	r := m.LLM().Audit()[0]
	require.Positive(t, r.Cost)
	require.GreaterOrEqual(t, r.Latency, r.Cost)
}
