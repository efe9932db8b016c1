package llm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/llm"
	"github.com/sis-kernel/sissim/pkg/sched"
)

func TestTokenize(t *testing.T) {
	require.Equal(t, []string{"don't", "stop", "!", "the", "cpu", "-", "2", "runs", "."},
		llm.Tokenize("Don't  stop!\tThe CPU-2 runs.\x00"))
	require.Empty(t, llm.Tokenize(" \n\t"))
	require.Equal(t, "the cat sat, then ran.", llm.Detokenize([]string{"the", "cat", "sat", ",", "then", "ran", "."}))
}

func TestBuildRefusesBadCorpus(t *testing.T) {
	for _, c := range []string{"", "one two", "\xff\xfe bad utf8 text"} {
		_, err := llm.Build(c)
		require.Error(t, err, "%q", c)
	}
}

// machine is a machine with no guests: its clock moves only when the
// scheduler runs the service's work (or idles to a hard reservation's
// next budget), as the kernel's scheduler loop does.
type machine struct {
	now  time.Duration
	sc   *sched.Scheduler
	work map[int]llm.EntityFunc
}

func newService(t *testing.T) (*llm.Service, *machine, *sched.Scheduler) {
	mc := &machine{sc: sched.New(), work: map[int]llm.EntityFunc{}}
	s, err := llm.New(llm.Env{
		Now:    func() time.Duration { return mc.now },
		Sched:  mc.sc,
		Attach: func(srv *sched.Server, w llm.EntityFunc) { mc.work[srv.ID] = w },
		Detach: func(srv *sched.Server) { delete(mc.work, srv.ID) },
		Wake:   func(srv *sched.Server) { mc.sc.SetRunnable(srv, true, uint64(mc.now)) },
	})
	require.NoError(t, err)
	_, err = s.Load("")
	require.NoError(t, err)
	return s, mc, mc.sc
}

// infer submits a request and runs the machine until it has ended.
func infer(t *testing.T, s *llm.Service, mc *machine, prompt string, maxTokens int) (llm.Result, error) {
	t.Helper()
	j, r, err := s.Submit(llm.Request{Prompt: prompt, MaxTokens: maxTokens})
	if err != nil {
		return r, err
	}
	for !s.Done(j) {
		now := uint64(mc.now)
		srv := mc.sc.PickWorkConserving(now)
		if srv == nil {
			at := mc.sc.NextRelease()
			require.Greater(t, at, now, "nothing to run and no release")
			mc.now = time.Duration(at)
			continue
		}
		used, more := mc.work[srv.ID](time.Duration(mc.sc.Slice(srv, now)))
		mc.now += used
		mc.sc.Charge(srv, uint64(used), uint64(mc.now))
		mc.sc.SetRunnable(srv, more, uint64(mc.now))
	}
	return s.Result(j), nil
}

// TestBudgetedRun: the job runs in slices of the budget, waiting for each
// new period; its cost is its decoder's operations, its latency the cost
// plus the waits, and the quota comes back in the next period.
func TestBudgetedRun(t *testing.T) {
	s, mc, sc := newService(t)
	require.NoError(t, s.SetBudget(llm.Budget{WCETCycles: 200, PeriodNs: 1_000_000, MaxTokensPerPeriod: 40}))
	r, err := infer(t, s, mc, "the scheduler", 20)
	require.NoError(t, err)
	require.True(t, r.Budgeted)
	var ran time.Duration
	for i, sl := range r.Slices {
		require.LessOrEqual(t, sl.End-sl.Start, 200*time.Nanosecond)
		ran += sl.End - sl.Start
		if i > 0 {
			// Each later slice starts at a period boundary.
			require.Zero(t, sl.Start%time.Millisecond)
		}
	}
	require.Equal(t, r.Cost, ran)
	require.Equal(t, llm.Cost(r.Ops), r.Cost)
	g := s.Model().Generate(llm.Tokenize("the scheduler"), 20)
	require.Equal(t, g.Ops, r.Ops)
	require.Equal(t, g.Tokens, r.Tokens)
	require.Greater(t, len(r.Slices), 1)
	require.True(t, r.Missed)
	require.Equal(t, r.End, mc.now)
	require.EqualValues(t, 1, s.Counters().DeadlineMisses)
	require.Equal(t, uint64(200*1_000_000/1_000_000), sc.UsedPPM())

	// Exhaust the quota of the current period, then move to the next.
	used, quota := s.Quota()
	require.EqualValues(t, 40, quota)
	_, err = infer(t, s, mc, "x", int(quota-used)+1)
	require.ErrorIs(t, err, llm.ErrRejected)
	mc.now += time.Millisecond
	used, _ = s.Quota()
	require.Zero(t, used)
	require.EqualValues(t, 1, s.Counters().Rejected)
}

// TestUnbudgetedRun: without a budget the work runs on a best-effort
// server, in one slice on an idle machine, within its deadline (the
// server's period).
func TestUnbudgetedRun(t *testing.T) {
	s, mc, _ := newService(t)
	r, err := infer(t, s, mc, "the scheduler", 20)
	require.NoError(t, err)
	require.False(t, r.Budgeted)
	require.Len(t, r.Slices, 1)
	require.Equal(t, llm.Cost(r.Ops), r.Latency())
	require.False(t, r.Missed)
	require.Equal(t, r.Arrival+100*time.Millisecond, r.Deadline)
}

// TestDecoderOps: a decoder run an operation at a time gives what
// Generate gives, and counts the table probes it does.
func TestDecoderOps(t *testing.T) {
	m, err := llm.Build("the cat sat on the mat. the dog sat on the log.")
	require.NoError(t, err)
	g := m.Generate(llm.Tokenize("the cat"), 8)
	require.Equal(t, []string{"sat", "on", "the", "log", "."}, g.Tokens)
	// 2 prompt look-ups; each of the 5 steps looks its trigram context
	// up and takes the first candidate it examines (for (on, the), log:
	// it ties with mat and has the lower id).
	require.Equal(t, 2+5*2, g.Ops)
	d := m.NewDecoder(llm.Tokenize("the cat"), 8)
	n := 0
	for !d.Op() {
		n++
	}
	require.Equal(t, g.Ops, d.Ops())
	require.Equal(t, g.Ops, n+1)
}

// TestCancel: a cancelled request leaves the queue, gives back its
// reserved tokens and is audited.
func TestCancel(t *testing.T) {
	s, _, _ := newService(t)
	require.NoError(t, s.SetBudget(llm.Budget{WCETCycles: 100, PeriodNs: 1_000_000, MaxTokensPerPeriod: 40}))
	j, _, err := s.Submit(llm.Request{Prompt: "the scheduler", MaxTokens: 30})
	require.NoError(t, err)
	used, _ := s.Quota()
	require.EqualValues(t, 30, used)
	s.Cancel(j, "test")
	require.True(t, s.Done(j))
	require.True(t, s.Result(j).Cancelled)
	used, _ = s.Quota()
	require.Zero(t, used)
	require.Zero(t, s.Queued())
	require.EqualValues(t, 1, s.Counters().Cancelled)
	a := s.Audit()
	require.Equal(t, "cancelled", a[len(a)-1].Outcome)
}

func TestDeterministicOutput(t *testing.T) {
	a, ma, _ := newService(t)
	b, mb, _ := newService(t)
	ra, err := infer(t, a, ma, "what does the agent do", 24)
	require.NoError(t, err)
	rb, err := infer(t, b, mb, "what does the agent do", 24)
	require.NoError(t, err)
	require.Equal(t, ra.Output, rb.Output)
	require.Equal(t, ra.Cost, rb.Cost)
	require.NotEmpty(t, ra.Tokens)
	require.LessOrEqual(t, len(ra.Tokens), 24)
}

// TestBudgetRefusesHugeValues: a period past MaxPeriodNs (whose waits
// would not fit a time.Duration, and whose utilisation would overflow)
// is refused and the previous budget stays.
func TestBudgetRefusesHugeValues(t *testing.T) {
	s, mc, sc := newService(t)
	require.NoError(t, s.SetBudget(llm.Budget{WCETCycles: 1000, PeriodNs: 1_000_000, MaxTokensPerPeriod: 40}))
	for _, b := range []llm.Budget{
		{WCETCycles: 1, PeriodNs: 1<<63 + 1, MaxTokensPerPeriod: 40},
		{WCETCycles: 1 << 40, PeriodNs: 1<<64 - 1, MaxTokensPerPeriod: 40},
		{WCETCycles: 1, PeriodNs: llm.MaxPeriodNs + 1, MaxTokensPerPeriod: 40},
	} {
		require.Error(t, s.SetBudget(b), "%+v", b)
	}
	got, _ := s.Budget()
	require.EqualValues(t, 1_000_000, got.PeriodNs)
	require.EqualValues(t, 1000, sc.UsedPPM())
	r, err := infer(t, s, mc, "the scheduler", 4)
	require.NoError(t, err)
	require.True(t, r.Budgeted)
	_, _, err = s.Submit(llm.Request{Prompt: "x", Deadline: 2 * time.Hour})
	require.Error(t, err)
}

// TestSwapKeepsRequests: a request submitted before a model swap runs to
// its end on the model it was submitted to; the swap leaves no moment
// without a model.
func TestSwapKeepsRequests(t *testing.T) {
	s, mc, _ := newService(t)
	old := s.Model()
	j, _, err := s.Submit(llm.Request{Prompt: "the scheduler", MaxTokens: 20})
	require.NoError(t, err)
	other, err := llm.Build("the cat sat on the mat. the dog sat on the log.")
	require.NoError(t, err)
	require.Zero(t, s.SwapModel("cats", other))
	r, err := infer(t, s, mc, "the cat", 8)
	require.NoError(t, err)
	require.Equal(t, "sat on the log.", r.Output)
	require.True(t, s.Done(j))
	require.Equal(t, old.Generate(llm.Tokenize("the scheduler"), 20).Tokens, s.Result(j).Tokens)
}

// TestShadow: with a shadow every request runs on both models (both
// charged), the outputs are compared, and the routed share is answered
// by the shadow.
func TestShadow(t *testing.T) {
	s, mc, _ := newService(t)
	_, _, err := s.Shadow()
	require.ErrorIs(t, err, llm.ErrNoShadow)
	cats, err := llm.Build("the cat sat on the mat. the dog sat on the log.")
	require.NoError(t, err)
	require.NoError(t, s.SetShadow("cats", cats, 100))
	r, err := infer(t, s, mc, "the cat", 8)
	require.NoError(t, err)
	require.True(t, r.ByShadow)
	require.Equal(t, "sat on the log.", r.Output)
	both := s.Model().Generate(llm.Tokenize("the cat"), 8).Ops + cats.Generate(llm.Tokenize("the cat"), 8).Ops
	require.Equal(t, both, r.Ops)
	require.Equal(t, llm.Cost(both), r.Cost)
	require.NoError(t, s.SetShadowTraffic(0))
	r, err = infer(t, s, mc, "the cat", 8)
	require.NoError(t, err)
	require.False(t, r.ByShadow)
	require.NotEqual(t, "sat on the log.", r.Output)
	st, cmp, err := s.Shadow()
	require.NoError(t, err)
	require.Equal(t, llm.ShadowStats{Version: "cats", Traffic: 0, Compared: 2, Diverged: 2, ByShadow: 1}, st)
	require.Len(t, cmp, 2)
	require.Equal(t, "sat on the log.", cmp[0].Shadow)
	require.Equal(t, "sat on the log.", cmp[1].Shadow)
	require.False(t, cmp[1].Agree)
	require.Error(t, s.SetShadowTraffic(101))
	require.Equal(t, "cats", s.ClearShadow())
	require.ErrorIs(t, s.SetShadowTraffic(10), llm.ErrNoShadow)
}
