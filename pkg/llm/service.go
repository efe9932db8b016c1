// Package llm is the SIS LLM service: a small deterministic text model
// (a word trigram model built from a corpus) whose inferences run under a
// CBS budget of the machine's scheduler, with a per-period token quota,
// deadline-miss accounting and an audit ring.
//
// An inference is a job of the service's constant-bandwidth server
// (pkg/sched, type AiInference): its compute cost in machine time follows
// a documented cost model (Cost) and is charged to the server slice by
// slice; when the budget of a period is spent, the job waits for the next
// period. The job's deadline is the deadline of the first period in which
// it runs; finishing later is a deadline miss.
package llm

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/ring"

	"github.com/sis-kernel/sissim/pkg/sched"
)

// Cost model: the machine time an inference computes, in ns. The machine's
// CPU runs at 1 GHz (one instruction per ns), so one cycle is one ns.
const (
	NsPerCycle        = 1
	CostRequestNs     = 50_000  // per request: set-up and detokenising
	CostPromptTokenNs = 20_000  // per prompt token read into the context
	CostStepNs        = 100_000 // per generated token
	CostCandidateNs   = 500     // per candidate successor scored
)

// Cost returns the compute time of an inference of promptTokens prompt
// tokens that produced g.
func Cost(promptTokens int, g Generation) time.Duration {
	return time.Duration(CostRequestNs + CostPromptTokenNs*promptTokens +
		CostStepNs*len(g.Tokens) + CostCandidateNs*g.Scored)
}

// Defaults of the budget and of an inference.
const (
	DefaultWCETCycles         = 10_000_000  // 10 ms per period
	DefaultPeriodNs           = 100_000_000 // 100 ms
	DefaultMaxTokensPerPeriod = 256
	DefaultMaxTokens          = 32
	MaxTokensLimit            = 1024
	AuditSize                 = 256 // audit records kept
	// MaxPeriodNs is the longest budget period (an hour): the waits for
	// a period stay within a time.Duration and wcet*1e6 (admission's
	// utilisation) within a uint64.
	MaxPeriodNs = uint64(time.Hour)
	// MaxJobPeriods is the most budget periods one inference may span;
	// one that would need more is rejected.
	MaxJobPeriods = 100_000
)

// Budget is the service's CBS reservation and token quota.
type Budget struct {
	WCETCycles, PeriodNs uint64
	MaxTokensPerPeriod   uint64
}

// Env is what the service needs from the machine.
type Env struct {
	// Now is the machine clock (time since boot).
	Now func() time.Duration
	// Advance lets d of machine time pass while the service computes or
	// waits for its budget.
	Advance func(d time.Duration)
	// Sched is the machine's scheduler, where the budget is admitted.
	Sched *sched.Scheduler
	// Observe, when set, is called once per inference request (accepted
	// or rejected), after the service's lock is released.
	Observe func(Result)
}

// Slice is one run of an inference on its server.
type Slice struct{ Start, End time.Duration }

// Result is one inference request.
type Result struct {
	ID           uint64
	PromptTokens int
	MaxTokens    int
	// Arrival is when the request came; Start and End bound its
	// computation (machine time).
	Arrival, Start, End time.Duration
	Tokens              []string
	Output              string
	Cost                time.Duration
	Slices              []Slice
	// Budgeted is set when the inference ran under the CBS budget;
	// Deadline is then its absolute deadline and Missed whether it ended
	// after it.
	Budgeted bool
	Deadline time.Duration
	Missed   bool
	// Rejected is set when the token quota refused the request.
	Rejected bool
	Reason   string
}

// Latency is the time from arrival to the end of the computation.
func (r Result) Latency() time.Duration { return r.End - r.Arrival }

// Expected is the time the job had: from arrival to its deadline.
func (r Result) Expected() time.Duration { return r.Deadline - r.Arrival }

// Record is one audit record.
type Record struct {
	ID                      uint64
	Time                    time.Duration
	PromptTokens, MaxTokens int
	Tokens                  int
	Latency, Cost           time.Duration
	// Outcome is "ok", "miss" (deadline missed), "unbudgeted" or
	// "rejected".
	Outcome string
	Reason  string
}

// Counters are the service's totals.
type Counters struct {
	Accepted, Rejected, DeadlineMisses, TokensOut uint64
}

// ErrNoModel is returned by Infer before Load.
var ErrNoModel = errors.New("llm: no model loaded (run 'llmctl load')")

// ErrRejected wraps quota rejections.
var ErrRejected = errors.New("llm: rejected")

// Service is the LLM service. It is safe for concurrent use; inferences
// run one at a time.
type Service struct {
	env Env

	mu          sync.Mutex
	model       *Model
	budget      *Budget
	srv         *sched.Server
	budgetStart uint64 // machine time the budget was configured
	quotaPeriod uint64 // index of the period quotaUsed belongs to
	quotaUsed   uint64
	nextID      uint64
	counters    Counters
	lastLatency time.Duration
	jitter      *sched.Latency
	audit       *ring.Ring[Record]
}

// New returns a service with no model and no budget.
func New(env Env) (*Service, error) {
	if env.Now == nil || env.Advance == nil || env.Sched == nil {
		return nil, errors.New("llm: Env needs Now, Advance and Sched")
	}
	return &Service{env: env, nextID: 1, jitter: sched.NewLatency(1024), audit: ring.New[Record](AuditSize)}, nil
}

// Load builds the model from corpus (Corpus when empty) and returns it.
func (s *Service) Load(corpus string) (*Model, error) {
	if corpus == "" {
		corpus = Corpus
	}
	m, err := Build(corpus)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.model = m
	s.mu.Unlock()
	return m, nil
}

// Model returns the loaded model (nil before Load).
func (s *Service) Model() *Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.model
}

// SetBudget admits a CBS server for b (replacing the previous one). When
// admission control refuses it, the previous budget stays.
func (s *Service) SetBudget(b Budget) error {
	if b.WCETCycles == 0 || b.PeriodNs == 0 || b.MaxTokensPerPeriod == 0 {
		return errors.New("llm: budget values must be positive")
	}
	if b.PeriodNs > MaxPeriodNs {
		return fmt.Errorf("llm: period (%d ns) is longer than %d ns (an hour)", b.PeriodNs, MaxPeriodNs)
	}
	wcet := b.WCETCycles * NsPerCycle
	if wcet > b.PeriodNs {
		return fmt.Errorf("llm: wcet (%d ns) is longer than the period (%d ns)", wcet, b.PeriodNs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := uint64(s.env.Now())
	// Admission control counts the new reservation in place of the old.
	used := s.env.Sched.UsedPPM()
	if s.srv != nil {
		used -= s.srv.UtilPPM()
	}
	if u := sched.UtilPPM(wcet, b.PeriodNs); used+u > sched.MaxUtilPPM {
		return fmt.Errorf("llm: budget not admitted: %w", &sched.ErrRejected{UtilPPM: u, UsedPPM: used})
	}
	if s.srv != nil {
		s.env.Sched.Remove(s.srv)
	}
	srv, err := s.env.Sched.Admit(sched.AiInference, wcet, b.PeriodNs, 0, now)
	if err != nil {
		s.srv, s.budget = nil, nil
		return fmt.Errorf("llm: budget not admitted: %w", err)
	}
	s.srv = srv
	s.budget = &b
	s.budgetStart = now
	s.quotaPeriod, s.quotaUsed = 0, 0
	return nil
}

// Budget returns the budget and its server (nil when none is set).
func (s *Service) Budget() (*Budget, *sched.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budget == nil {
		return nil, nil
	}
	b := *s.budget
	return &b, s.srv
}

// Counters returns the totals.
func (s *Service) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// JitterP99 returns the 99th percentile of the differences between the
// latencies of consecutive accepted inferences.
func (s *Service) JitterP99() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.jitter.Quantile(0.99))
}

// Quota returns the tokens used in the current period and the quota (0, 0
// without a budget).
func (s *Service) Quota() (used, quota uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budget == nil {
		return 0, 0
	}
	s.rollQuota(uint64(s.env.Now()))
	return s.quotaUsed, s.budget.MaxTokensPerPeriod
}

// rollQuota starts a fresh quota when now is in a later period.
func (s *Service) rollQuota(now uint64) {
	p := (now - s.budgetStart) / s.budget.PeriodNs
	if p != s.quotaPeriod {
		s.quotaPeriod, s.quotaUsed = p, 0
	}
}

// Audit returns the audit records, oldest first.
func (s *Service) Audit() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audit.All()
}

func (s *Service) addAudit(r Record) { s.audit.Add(r) }

// Infer runs one inference of at most maxTokens tokens (DefaultMaxTokens
// when 0). With a budget, a request whose maxTokens would pass the
// period's token quota is rejected (the error wraps ErrRejected; the
// result is returned too) and the computation runs on the CBS server.
func (s *Service) Infer(prompt string, maxTokens int) (Result, error) {
	if maxTokens == 0 {
		maxTokens = DefaultMaxTokens
	}
	if maxTokens < 0 || maxTokens > MaxTokensLimit {
		return Result{}, fmt.Errorf("llm: max tokens must be 1..%d", MaxTokensLimit)
	}
	s.mu.Lock()
	r, err := s.inferLocked(prompt, maxTokens)
	s.mu.Unlock()
	if s.env.Observe != nil && (err == nil || errors.Is(err, ErrRejected)) {
		s.env.Observe(r)
	}
	return r, err
}

func (s *Service) inferLocked(prompt string, maxTokens int) (Result, error) {
	if s.model == nil {
		return Result{}, ErrNoModel
	}
	arrival := s.env.Now()
	toks := Tokenize(prompt)
	r := Result{ID: s.nextID, PromptTokens: len(toks), MaxTokens: maxTokens, Arrival: arrival, Start: arrival, End: arrival}
	s.nextID++
	if s.budget != nil {
		s.rollQuota(uint64(arrival))
		if s.quotaUsed+uint64(maxTokens) > s.budget.MaxTokensPerPeriod {
			return s.reject(r, fmt.Sprintf("token quota exceeded: used=%d requested=%d quota=%d per period", s.quotaUsed, maxTokens, s.budget.MaxTokensPerPeriod))
		}
	}
	g := s.model.Generate(toks, maxTokens)
	r.Tokens, r.Output, r.Cost = g.Tokens, Detokenize(g.Tokens), Cost(len(toks), g)
	if s.budget != nil {
		// The job runs one slice per period: bound the periods (and so
		// the host work and the machine time) it may take.
		wcet := s.budget.WCETCycles * NsPerCycle
		if n := (uint64(r.Cost) + wcet - 1) / wcet; n > MaxJobPeriods {
			r.Tokens, r.Output, r.Cost = nil, "", 0
			return s.reject(r, fmt.Sprintf("budget too small: the inference needs %d periods (limit %d)", n, MaxJobPeriods))
		}
		s.quotaUsed += uint64(len(g.Tokens))
		s.runBudgeted(&r)
	} else {
		s.env.Advance(r.Cost)
		r.Slices = []Slice{{arrival, s.env.Now()}}
		r.End = s.env.Now()
	}
	s.counters.Accepted++
	s.counters.TokensOut += uint64(len(r.Tokens))
	if s.counters.Accepted > 1 {
		d := r.Latency() - s.lastLatency
		if d < 0 {
			d = -d
		}
		s.jitter.Record(uint64(d))
	}
	s.lastLatency = r.Latency()
	outcome := "unbudgeted"
	if r.Budgeted {
		outcome = "ok"
		if r.Missed {
			outcome = "miss"
			s.counters.DeadlineMisses++
		}
	}
	s.addAudit(Record{ID: r.ID, Time: arrival, PromptTokens: r.PromptTokens, MaxTokens: maxTokens,
		Tokens: len(r.Tokens), Latency: r.Latency(), Cost: r.Cost, Outcome: outcome})
	return r, nil
}

// reject records r as rejected for reason and returns it with an error
// wrapping ErrRejected.
func (s *Service) reject(r Result, reason string) (Result, error) {
	r.Rejected, r.Reason = true, reason
	s.counters.Rejected++
	s.addAudit(Record{ID: r.ID, Time: r.Arrival, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens, Outcome: "rejected", Reason: reason})
	return r, fmt.Errorf("%w: %s", ErrRejected, reason)
}

// runBudgeted runs the job of r on the CBS server: slices of at most the
// remaining budget, waiting for the next period when it is spent.
func (s *Service) runBudgeted(r *Result) {
	sc, srv := s.env.Sched, s.srv
	now := uint64(s.env.Now())
	sc.SetRunnable(srv, true, now)
	r.Budgeted = true
	deadline := uint64(0)
	left := uint64(r.Cost)
	for left > 0 {
		now = uint64(s.env.Now())
		sc.Replenish(now)
		if srv.RemainingNs == 0 {
			s.env.Advance(time.Duration(srv.NextReplenishNs - now))
			continue
		}
		if deadline == 0 {
			deadline = srv.DeadlineNs
			r.Start = time.Duration(now)
		}
		run := min(left, srv.RemainingNs)
		s.env.Advance(time.Duration(run))
		end := uint64(s.env.Now())
		sc.Charge(srv, run, end)
		left -= run
		r.Slices = append(r.Slices, Slice{time.Duration(now), time.Duration(end)})
	}
	end := uint64(s.env.Now())
	sc.SetRunnable(srv, false, end)
	r.End = time.Duration(end)
	r.Deadline = time.Duration(deadline)
	r.Missed = end > deadline
}
