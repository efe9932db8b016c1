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

// machine is a fake clock whose time moves only by Advance.
type machine struct{ now time.Duration }

func newService(t *testing.T) (*llm.Service, *machine, *sched.Scheduler) {
	mc := &machine{}
	sc := sched.New()
	s, err := llm.New(llm.Env{Now: func() time.Duration { return mc.now }, Advance: func(d time.Duration) { mc.now += d }, Sched: sc})
	require.NoError(t, err)
	_, err = s.Load("")
	require.NoError(t, err)
	return s, mc, sc
}

// TestBudgetedRun: the job runs in slices of the budget, waiting for each
// new period; its latency is the cost plus the waits, and the quota comes
// back in the next period.
func TestBudgetedRun(t *testing.T) {
	s, mc, sc := newService(t)
	require.NoError(t, s.SetBudget(llm.Budget{WCETCycles: 200_000, PeriodNs: 1_000_000, MaxTokensPerPeriod: 40}))
	r, err := s.Infer("the scheduler", 20)
	require.NoError(t, err)
	require.True(t, r.Budgeted)
	var ran time.Duration
	for i, sl := range r.Slices {
		require.LessOrEqual(t, sl.End-sl.Start, 200*time.Microsecond)
		ran += sl.End - sl.Start
		if i > 0 {
			// Each later slice starts at a period boundary.
			require.Zero(t, sl.Start%time.Millisecond)
		}
	}
	require.Equal(t, r.Cost, ran)
	require.Greater(t, len(r.Slices), 1)
	require.True(t, r.Missed)
	require.Equal(t, r.End, mc.now)
	require.EqualValues(t, 1, s.Counters().DeadlineMisses)
	require.Equal(t, uint64(200_000*1_000_000/1_000_000), sc.UsedPPM())

	// Exhaust the quota of the current period, then move to the next.
	used, quota := s.Quota()
	require.EqualValues(t, 40, quota)
	_, err = s.Infer("x", int(quota-used)+1)
	require.ErrorIs(t, err, llm.ErrRejected)
	mc.now += time.Millisecond
	used, _ = s.Quota()
	require.Zero(t, used)
	require.EqualValues(t, 1, s.Counters().Rejected)
}

func TestDeterministicOutput(t *testing.T) {
	a, _, _ := newService(t)
	b, _, _ := newService(t)
	ra, err := a.Infer("what does the agent do", 24)
	require.NoError(t, err)
	rb, err := b.Infer("what does the agent do", 24)
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
	r, err := s.Infer("the scheduler", 4)
	require.NoError(t, err)
	require.True(t, r.Budgeted)

	// A job that would span more than MaxJobPeriods periods is rejected,
	// and nothing runs.
	require.NoError(t, s.SetBudget(llm.Budget{WCETCycles: 1, PeriodNs: 1000, MaxTokensPerPeriod: 40}))
	before := mc.now
	r, err = s.Infer("the scheduler", 4)
	require.ErrorIs(t, err, llm.ErrRejected)
	require.True(t, r.Rejected)
	require.Contains(t, r.Reason, "budget too small")
	require.Equal(t, before, mc.now)
	require.EqualValues(t, 1, s.Counters().Rejected)
	used, _ := s.Quota()
	require.Zero(t, used)
}
