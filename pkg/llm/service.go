// Package llm is the SIS LLM service: a small deterministic text model
// (a word trigram model built from a corpus) whose inferences run as a
// scheduled entity of the machine, competing with the guests for machine
// time under a CBS server, with a per-period token quota, per-request
// deadlines and miss accounting, and an audit ring.
//
// A request queues; the machine runs the service's work (Service's
// EntityFunc) in the turns its scheduler gives the service's server, and
// the work runs the request's Decoder an operation at a time. In the
// deterministic clock mode each operation costs CostPerOp of machine
// time; in realtime mode the work takes the host time it really takes.
package llm

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/ring"

	"github.com/sis-kernel/sissim/pkg/sched"
)

// Cost model: an inference costs the operations its decoder really does
// (Decoder.Op: hash-table probes of the model's tables), each charged
// CostPerOp of machine time in the deterministic clock mode: hashing a
// small key, loading a bucket and comparing keys is about 50 instructions,
// and the machine's core runs one instruction per ns. In realtime mode an
// inference takes the host time its operations really take.
const (
	NsPerCycle = 1
	CostPerOp  = 50 * time.Nanosecond
)

// Cost returns the machine time of ops decoder operations.
func Cost(ops int) time.Duration { return time.Duration(ops) * CostPerOp }

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
	// MaxDeadline is the longest relative deadline of a request.
	MaxDeadline = time.Hour
)

// Budget is the service's CBS reservation and token quota.
type Budget struct {
	WCETCycles, PeriodNs uint64
	MaxTokensPerPeriod   uint64
}

// EntityFunc does up to slice of the service's work and returns the
// machine time it used (in deterministic mode; in realtime mode the
// host time it took counts) and whether work is left. The machine runs
// it in the turns of the service's server (kernel.EntityFunc).
type EntityFunc func(slice time.Duration) (used time.Duration, more bool)

// Env is what the service needs from the machine.
type Env struct {
	// Now is the machine clock (time since boot).
	Now func() time.Duration
	// Realtime says Now follows the host clock: an inference then runs
	// for the host time of its slices.
	Realtime bool
	// Sched is the machine's scheduler, where the service's server is.
	Sched *sched.Scheduler
	// Attach makes the work of srv run, whenever srv is runnable, in the
	// turns the machine's scheduler gives srv, competing with the guests
	// (kernel.Machine.AddEntity); Detach forgets it
	// (kernel.Machine.RemoveEntity) and Wake marks srv runnable
	// (kernel.Machine.WakeEntity). The service calls them with its own
	// lock held and never from its work.
	Attach func(srv *sched.Server, work EntityFunc)
	Detach func(srv *sched.Server)
	Wake   func(srv *sched.Server)
	// Observe, when set, is called once per request when it ends
	// (done, rejected or cancelled), without the service's lock.
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
	// Ops counts the decoders' operations (the shadow's included); Cost
	// is the machine time the server was charged for them (the sum of
	// the slices).
	Ops int
	// ByShadow says the shadow model answered.
	ByShadow bool
	Cost     time.Duration
	Slices   []Slice
	// Budgeted is set when the inference ran under the admitted budget
	// (else on the service's best-effort server).
	Budgeted bool
	// Deadline is the absolute deadline; Missed whether it ended after
	// it.
	Deadline time.Duration
	Missed   bool
	// Rejected is set when the token quota refused the request,
	// Cancelled when it was cancelled before it ended.
	Rejected, Cancelled bool
	Reason              string
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
	// Outcome is "ok", "miss" (deadline missed), "rejected" or
	// "cancelled".
	Outcome string
	Reason  string
}

// Counters are the service's totals.
type Counters struct {
	Accepted, Rejected, Cancelled, DeadlineMisses, TokensOut uint64
}

// ErrNoModel is returned by Infer before Load.
var ErrNoModel = errors.New("llm: no model loaded (run 'llmctl load')")

// ErrRejected wraps quota rejections.
var ErrRejected = errors.New("llm: rejected")

// Job is a submitted inference request.
type Job struct {
	r   Result
	dec *Decoder
	// qperiod is the quota period its tokens were reserved in.
	qperiod uint64
	qbudget *Budget // and the budget it was reserved under
	done    bool
	// other is the decoder of the model that runs for comparison (the
	// shadow, or the active model when the shadow answers), nil without
	// a shadow.
	other    *Decoder
	shadow   *shadowState
	byShadow bool
}

// Service is the LLM service. It is safe for concurrent use. Its work is
// an entity of the machine's scheduler: requests queue, and the decoder
// of the first one runs, an operation at a time, in the slices the
// scheduler gives the service's server: a best-effort server like a
// process's, or the admitted budget (a hard CBS reservation: at most
// its WCET per period, even on an idle machine).
type Service struct {
	env Env

	mu          sync.Mutex
	model       *Model
	modelName   string
	budget      *Budget
	srv         *sched.Server // the server the work runs on
	budgeted    bool          // srv is the admitted budget
	budgetStart uint64        // machine time the budget was configured
	quotaPeriod uint64        // index of the period quotaUsed belongs to
	quotaUsed   uint64
	nextID      uint64
	queue       []*Job
	finished    uint64 // requests that ran to their end
	shadow      *shadowState
	counters    Counters
	lastLatency time.Duration
	jitter      *sched.Latency
	audit       *ring.Ring[Record]
}

// New returns a service with no model and no budget: its work runs on a
// best-effort server with a process's parameters.
func New(env Env) (*Service, error) {
	if env.Now == nil || env.Sched == nil || env.Attach == nil || env.Detach == nil || env.Wake == nil {
		return nil, errors.New("llm: Env needs Now, Sched, Attach, Detach and Wake")
	}
	s := &Service{env: env, nextID: 1, jitter: sched.NewLatency(1024), audit: ring.New[Record](AuditSize)}
	srv, err := env.Sched.Add(sched.AiInference, sched.DefaultProcessWCET, sched.DefaultProcessPeriod, 0, uint64(env.Now()))
	if err != nil {
		return nil, err
	}
	s.srv = srv
	env.Attach(srv, s.work)
	return s, nil
}

// Load builds the model from corpus (Corpus when empty) and makes it the
// model of the requests submitted from now on.
func (s *Service) Load(corpus string) (*Model, error) {
	if corpus == "" {
		corpus = Corpus
	}
	m, err := Build(corpus)
	if err != nil {
		return nil, err
	}
	s.SwapModel("loaded", m)
	return m, nil
}

// SwapModel makes m (named name: a registered version, or "loaded") the
// model of the requests submitted from now on (nil: none; a request
// already submitted keeps its model) and returns the machine time between
// the old model's last moment as the service's model and m's first: the
// time requests had no model to run on (0 in deterministic mode, where
// the switch charges no machine time; the host time of the switch in
// realtime mode).
func (s *Service) SwapModel(name string, m *Model) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.env.Now()
	s.model, s.modelName = m, name
	return s.env.Now() - before
}

// ModelName returns the name SwapModel gave the model.
func (s *Service) ModelName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modelName
}

// Model returns the loaded model (nil before Load).
func (s *Service) Model() *Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.model
}

// SetBudget admits a hard CBS server for b, which then runs the
// service's work (replacing the previous budget). When admission control
// refuses it, the previous budget stays.
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
	if s.budgeted {
		used -= s.srv.UtilPPM()
	}
	if u := sched.UtilPPM(wcet, b.PeriodNs); used+u > sched.MaxUtilPPM {
		return fmt.Errorf("llm: budget not admitted: %w", &sched.ErrRejected{UtilPPM: u, UsedPPM: used})
	}
	old := s.srv
	s.env.Detach(old)
	s.env.Sched.Remove(old)
	srv, err := s.env.Sched.Admit(sched.AiInference, wcet, b.PeriodNs, 0, now)
	if err != nil { // checked above; the old server is gone: run best effort
		srv, _ = s.env.Sched.Add(sched.AiInference, sched.DefaultProcessWCET, sched.DefaultProcessPeriod, 0, now)
		s.srv, s.budget, s.budgeted = srv, nil, false
		s.env.Attach(srv, s.work)
		s.wakeLocked()
		return fmt.Errorf("llm: budget not admitted: %w", err)
	}
	srv.Hard = true
	s.srv, s.budgeted = srv, true
	s.budget = &b
	s.budgetStart = now
	s.quotaPeriod, s.quotaUsed = 0, 0
	s.env.Attach(srv, s.work)
	s.wakeLocked()
	return nil
}

// wakeLocked marks the server runnable when requests wait.
func (s *Service) wakeLocked() {
	if len(s.queue) > 0 {
		s.env.Wake(s.srv)
	}
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

// Server returns the server the service's work runs on.
func (s *Service) Server() *sched.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Counters returns the totals.
func (s *Service) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// JitterP99 returns the 99th percentile of the differences between the
// latencies of consecutive inferences.
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

// Request is an inference request.
type Request struct {
	Prompt string
	// MaxTokens bounds the tokens generated (DefaultMaxTokens when 0).
	MaxTokens int
	// Deadline is relative to the arrival (the server's relative
	// deadline, its period by default, when 0).
	Deadline time.Duration
}

// Submit queues an inference. With a budget, a request whose MaxTokens
// would pass the period's token quota is rejected: the error wraps
// ErrRejected and the result is returned too. The request runs in the
// turns of the service's server while the machine runs; Done reports
// when it has ended.
func (s *Service) Submit(req Request) (*Job, Result, error) {
	if req.MaxTokens == 0 {
		req.MaxTokens = DefaultMaxTokens
	}
	if req.MaxTokens < 0 || req.MaxTokens > MaxTokensLimit {
		return nil, Result{}, fmt.Errorf("llm: max tokens must be 1..%d", MaxTokensLimit)
	}
	if req.Deadline < 0 || req.Deadline > MaxDeadline {
		return nil, Result{}, fmt.Errorf("llm: deadline must be 1 ns..%v", MaxDeadline)
	}
	s.mu.Lock()
	j, r, err := s.submitLocked(req)
	s.mu.Unlock()
	if errors.Is(err, ErrRejected) && s.env.Observe != nil {
		s.env.Observe(r)
	}
	return j, r, err
}

func (s *Service) submitLocked(req Request) (*Job, Result, error) {
	if s.model == nil {
		return nil, Result{}, ErrNoModel
	}
	arrival := s.env.Now()
	toks := Tokenize(req.Prompt)
	r := Result{ID: s.nextID, PromptTokens: len(toks), MaxTokens: req.MaxTokens, Arrival: arrival, Start: arrival, End: arrival}
	s.nextID++
	if s.budget != nil {
		s.rollQuota(uint64(arrival))
		if s.quotaUsed+uint64(req.MaxTokens) > s.budget.MaxTokensPerPeriod {
			reason := fmt.Sprintf("token quota exceeded: used=%d requested=%d quota=%d per period", s.quotaUsed, req.MaxTokens, s.budget.MaxTokensPerPeriod)
			r.Rejected, r.Reason = true, reason
			s.counters.Rejected++
			s.audit.Add(Record{ID: r.ID, Time: arrival, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens, Outcome: "rejected", Reason: reason})
			return nil, r, fmt.Errorf("%w: %s", ErrRejected, reason)
		}
		// The tokens are reserved now and the unused ones given back
		// when the request ends.
		s.quotaUsed += uint64(req.MaxTokens)
	}
	rel := req.Deadline
	if rel == 0 {
		rel = time.Duration(s.srv.RelDeadlineNs)
	}
	r.Deadline = arrival + rel
	r.Budgeted = s.budgeted
	s.counters.Accepted++
	j := &Job{r: r, dec: s.model.NewDecoder(toks, req.MaxTokens), qperiod: s.quotaPeriod, qbudget: s.budget}
	s.shadowJob(j, toks, req.MaxTokens)
	s.queue = append(s.queue, j)
	s.env.Wake(s.srv)
	return j, r, nil
}

// Queued returns how many requests wait or run.
func (s *Service) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// op does the job's next operation: the answer's decoder first, then the
// comparison's.
func (j *Job) op() {
	if !j.dec.Done() {
		j.dec.Op()
		return
	}
	j.other.Op()
}

// runDone reports whether the job's decoders are done.
func (j *Job) runDone() bool { return j.dec.Done() && (j.other == nil || j.other.Done()) }

// Done reports whether j has ended (finished or cancelled).
func (s *Service) Done(j *Job) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return j.done
}

// Result returns j's result (final once Done).
func (s *Service) Result(j *Job) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := j.r
	r.Slices = append([]Slice(nil), j.r.Slices...)
	return r
}

// Cancel ends j unfinished (nothing when it has ended).
func (s *Service) Cancel(j *Job, reason string) {
	s.mu.Lock()
	if j.done {
		s.mu.Unlock()
		return
	}
	for i, x := range s.queue {
		if x == j {
			s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			break
		}
	}
	now := s.env.Now()
	j.done = true
	r := &j.r
	r.Cancelled, r.Reason, r.End = true, reason, now
	if r.Start < r.Arrival || len(r.Slices) == 0 {
		r.Start = now
	}
	s.giveBackQuota(j, len(j.dec.g.Tokens))
	s.counters.Cancelled++
	s.audit.Add(Record{ID: r.ID, Time: r.Arrival, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens,
		Tokens: len(j.dec.g.Tokens), Latency: r.Latency(), Cost: r.Cost, Outcome: "cancelled", Reason: reason})
	res := s.resultLocked(j)
	s.mu.Unlock()
	if s.env.Observe != nil {
		s.env.Observe(res)
	}
}

func (s *Service) resultLocked(j *Job) Result {
	r := j.r
	r.Slices = append([]Slice(nil), j.r.Slices...)
	return r
}

// giveBackQuota returns the tokens j reserved and did not produce to the
// quota, if its period is still the current one.
func (s *Service) giveBackQuota(j *Job, produced int) {
	if s.budget == nil || s.budget != j.qbudget || produced >= j.r.MaxTokens {
		return
	}
	if s.rollQuota(uint64(s.env.Now())); s.quotaPeriod != j.qperiod {
		return
	}
	if back := uint64(j.r.MaxTokens - produced); s.quotaUsed >= back {
		s.quotaUsed -= back
	} else {
		s.quotaUsed = 0
	}
}

// work is the service's entity: it runs the decoders of the queued
// requests, an operation at a time, for up to slice (counted at
// CostPerOp in deterministic mode, on the clock in realtime mode), and
// reports the time used and whether requests are left.
func (s *Service) work(slice time.Duration) (time.Duration, bool) {
	s.mu.Lock()
	start := s.env.Now()
	var used time.Duration
	var ended []Result
	elapsed := func() time.Duration {
		if s.env.Realtime {
			return s.env.Now() - start
		}
		return used
	}
	for len(s.queue) > 0 && (used == 0 || elapsed() < slice) {
		j := s.queue[0]
		from := start + elapsed()
		if len(j.r.Slices) == 0 {
			j.r.Start = from
		}
		for !j.runDone() && (used == 0 || elapsed() < slice) {
			j.op()
			used += CostPerOp
		}
		to := start + elapsed()
		j.r.Slices = append(j.r.Slices, Slice{from, to})
		j.r.Cost += to - from
		if j.runDone() {
			s.queue = s.queue[1:]
			s.finish(j, to)
			ended = append(ended, s.resultLocked(j))
		}
	}
	more := len(s.queue) > 0
	s.mu.Unlock()
	if s.env.Observe != nil {
		for _, r := range ended {
			s.env.Observe(r)
		}
	}
	return used, more
}

// finish records the end of j at end.
func (s *Service) finish(j *Job, end time.Duration) {
	g := j.dec.Generation()
	r := &j.r
	j.done = true
	r.End = end
	r.Tokens, r.Output, r.Ops = g.Tokens, Detokenize(g.Tokens), g.Ops
	if j.other != nil {
		r.Ops += j.other.Ops()
		r.ByShadow = j.byShadow
	}
	r.Missed = end > r.Deadline
	s.giveBackQuota(j, len(g.Tokens))
	s.compare(j)
	s.counters.TokensOut += uint64(len(r.Tokens))
	s.finished++
	if s.finished > 1 {
		d := r.Latency() - s.lastLatency
		if d < 0 {
			d = -d
		}
		s.jitter.Record(uint64(d))
	}
	s.lastLatency = r.Latency()
	outcome := "ok"
	if r.Missed {
		outcome = "miss"
		s.counters.DeadlineMisses++
	}
	s.audit.Add(Record{ID: r.ID, Time: r.Arrival, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens,
		Tokens: len(r.Tokens), Latency: r.Latency(), Cost: r.Cost, Outcome: outcome})
}
