// Package sched is the deterministic CBS+EDF scheduler of the SIS kernel.
//
// Every schedulable entity (a process, a dataflow graph, the AI inference
// service) runs inside a constant-bandwidth server: a budget of execution
// time (its WCET) per period. Among servers that still have budget, the one
// with the earliest absolute deadline runs (EDF). A server that spends its
// budget is deferred to its next period, when the budget is replenished and
// the deadline moves one period on. A job still unfinished past its
// deadline counts as a deadline miss.
//
// Time is always passed in by the caller (virtual nanoseconds): the package
// never reads a clock, so the same calls give the same decisions.
package sched

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/sis-kernel/sissim/pkg/ring"
)

// Type is what a server schedules.
type Type int

// Server types.
const (
	Graph Type = iota
	AiInference
	Process
)

func (t Type) String() string {
	switch t {
	case Graph:
		return "Graph"
	case AiInference:
		return "AiInference"
	case Process:
		return "Process"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Admission and default parameters.
const (
	// MaxUtilPPM is the admission bound: the sum of the utilisations of
	// admitted servers stays at or below 85%.
	MaxUtilPPM = 850_000
	// DefaultProcessWCET and DefaultProcessPeriod are every process's
	// server parameters.
	DefaultProcessWCET   = 10_000_000  // 10 ms
	DefaultProcessPeriod = 100_000_000 // 100 ms
)

// UtilPPM returns wcet/period in parts per million, rounded down.
func UtilPPM(wcetNs, periodNs uint64) uint64 {
	if periodNs == 0 {
		return ^uint64(0)
	}
	return wcetNs * 1_000_000 / periodNs
}

// Server is a constant-bandwidth server.
type Server struct {
	ID   int
	Type Type
	// BudgetNs is the execution time per period (the WCET).
	BudgetNs uint64
	PeriodNs uint64
	// RelDeadlineNs is the deadline relative to the start of a period.
	RelDeadlineNs uint64
	// RemainingNs is the budget left in the current period.
	RemainingNs uint64
	// NextReplenishNs is the start of the next period.
	NextReplenishNs uint64
	// DeadlineNs is the absolute deadline of the current job.
	DeadlineNs uint64
	// Misses counts jobs that were still running after their deadline.
	Misses uint64
	// Admitted is set for servers that passed admission control (their
	// utilisation counts towards MaxUtilPPM).
	Admitted bool
	// Hard makes the reservation a hard one: the server never runs on
	// spare time (PickWorkConserving), so its work gets at most BudgetNs
	// of every period even on an idle machine.
	Hard bool

	runnable bool
	missed   bool // the current job already counted a miss
	used     bool // the server ran in the current period
}

// UtilPPM returns the server's utilisation in parts per million.
func (s *Server) UtilPPM() uint64 { return UtilPPM(s.BudgetNs, s.PeriodNs) }

// Runnable reports whether the server has work.
func (s *Server) Runnable() bool { return s.runnable }

// eligible reports whether the server may run now: it has work, and a
// hard reservation has budget left.
func (s *Server) eligible() bool { return s.runnable && (!s.Hard || s.RemainingNs > 0) }

// ErrRejected is returned when admission control refuses a server.
type ErrRejected struct {
	UtilPPM, UsedPPM uint64
}

func (e *ErrRejected) Error() string {
	return fmt.Sprintf("sched: admission rejected: %d ppm requested, %d of %d ppm in use", e.UtilPPM, e.UsedPPM, MaxUtilPPM)
}

// Scheduler holds the servers and picks the next one to run.
type Scheduler struct {
	servers []*Server // sorted by ID
	nextID  int
	usedPPM uint64
	// Switches records context-switch latencies.
	Switches *Latency
	// rng perturbs the schedule (Perturb); nil: plain CBS+EDF.
	rng *rand.Rand
	// totalMisses counts every miss of every server (TotalMisses).
	totalMisses uint64
	// runnable counts the servers with work; load averages it.
	runnable int
	load     loadAvg
}

// New returns an empty scheduler.
func New() *Scheduler {
	return &Scheduler{nextID: 1, Switches: NewLatency(4096)}
}

// UsedPPM returns the utilisation of the admitted servers.
func (s *Scheduler) UsedPPM() uint64 { return s.usedPPM }

// Servers returns the servers in ID order.
func (s *Scheduler) Servers() []*Server { return append([]*Server(nil), s.servers...) }

func (s *Scheduler) validate(wcet, period, deadline uint64) error {
	if wcet == 0 || period == 0 || wcet > period {
		return fmt.Errorf("sched: need 0 < wcet (%d) <= period (%d)", wcet, period)
	}
	if deadline == 0 || deadline > period {
		return fmt.Errorf("sched: need 0 < deadline (%d) <= period (%d)", deadline, period)
	}
	return nil
}

// Admit adds a server after admission control: it is accepted only while
// the sum of admitted utilisations stays at or below MaxUtilPPM. The first
// period starts at now. A deadline of 0 means the period.
func (s *Scheduler) Admit(typ Type, wcet, period, deadline, now uint64) (*Server, error) {
	if deadline == 0 {
		deadline = period
	}
	if err := s.validate(wcet, period, deadline); err != nil {
		return nil, err
	}
	u := UtilPPM(wcet, period)
	if s.usedPPM+u > MaxUtilPPM {
		return nil, &ErrRejected{UtilPPM: u, UsedPPM: s.usedPPM}
	}
	srv := s.add(typ, wcet, period, deadline, now)
	srv.Admitted = true
	s.usedPPM += u
	return srv, nil
}

// Add adds a best-effort server without admission control (processes: a
// machine may run more processes than their reservations would admit; they
// then share the processor by EDF and miss deadlines).
func (s *Scheduler) Add(typ Type, wcet, period, deadline, now uint64) (*Server, error) {
	if deadline == 0 {
		deadline = period
	}
	if err := s.validate(wcet, period, deadline); err != nil {
		return nil, err
	}
	return s.add(typ, wcet, period, deadline, now), nil
}

func (s *Scheduler) add(typ Type, wcet, period, deadline, now uint64) *Server {
	srv := &Server{
		ID: s.nextID, Type: typ, BudgetNs: wcet, PeriodNs: period, RelDeadlineNs: deadline,
		RemainingNs: wcet, NextReplenishNs: now + period, DeadlineNs: now + deadline,
	}
	s.nextID++
	s.servers = append(s.servers, srv)
	return srv
}

// Remove drops a server.
func (s *Scheduler) Remove(srv *Server) {
	for i, x := range s.servers {
		if x == srv {
			s.servers = append(s.servers[:i], s.servers[i+1:]...)
			if srv.runnable {
				s.runnable-- // gone with its work (the next sample sees it)
				srv.runnable = false
			}
			if srv.Admitted {
				s.usedPPM -= srv.UtilPPM()
			}
			return
		}
	}
}

// SetRunnable marks whether the server has work. A server that becomes
// runnable after idling through whole periods starts a fresh job.
func (s *Scheduler) SetRunnable(srv *Server, runnable bool, now uint64) {
	if runnable == srv.runnable {
		return
	}
	s.load.advance(now, s.runnable)
	if runnable {
		s.replenishOne(srv, now)
		s.runnable++
	} else {
		s.runnable--
	}
	srv.runnable = runnable
}

// Replenish starts the new periods of every server whose period ended at
// or before now: the budget is refilled and the deadline moves on. A
// runnable server whose job was not done by its deadline counts a miss.
func (s *Scheduler) Replenish(now uint64) {
	for _, srv := range s.servers {
		s.replenishOne(srv, now)
	}
}

func (s *Scheduler) replenishOne(srv *Server, now uint64) {
	s.checkMiss(srv, now)
	if now < srv.NextReplenishNs {
		return
	}
	// The period is over: a runnable job with budget left did not finish
	// by its deadline (which is at most the period end).
	if srv.runnable && !srv.missed && srv.RemainingNs > 0 {
		srv.Misses++
		s.totalMisses++
	}
	// Skip whole idle periods at once so that a long sleep costs O(1).
	k := (now-srv.NextReplenishNs)/srv.PeriodNs + 1
	start := srv.NextReplenishNs + (k-1)*srv.PeriodNs
	srv.RemainingNs = srv.BudgetNs
	srv.NextReplenishNs = start + srv.PeriodNs
	srv.DeadlineNs = start + srv.RelDeadlineNs
	srv.missed = false
	srv.used = false
}

// checkMiss counts a miss for a runnable server past its deadline whose
// job (its budget in this period) is unfinished.
func (s *Scheduler) checkMiss(srv *Server, now uint64) {
	if srv.runnable && !srv.missed && now > srv.DeadlineNs && srv.RemainingNs > 0 {
		srv.Misses++
		s.totalMisses++
		srv.missed = true
	}
}

// Pick returns the runnable server with budget and the earliest absolute
// deadline (ties: lowest ID), after replenishing at now. When every
// runnable server has spent its budget, Pick returns nil and the time of
// the next replenishment (0 if nothing is runnable).
func (s *Scheduler) Pick(now uint64) (*Server, uint64) {
	s.Replenish(now)
	var best *Server
	var next uint64
	for _, srv := range s.servers {
		if !srv.runnable {
			continue
		}
		if srv.RemainingNs == 0 {
			if next == 0 || srv.NextReplenishNs < next {
				next = srv.NextReplenishNs
			}
			continue
		}
		if best == nil || srv.DeadlineNs < best.DeadlineNs {
			best = srv
		}
	}
	if best != nil {
		return best, 0
	}
	return nil, next
}

// PickWorkConserving is Pick, except that when every runnable server has
// spent its budget it returns the one whose next period starts first
// (ties: lowest ID) instead of idling: spare processor time goes to
// deferred servers in the order they would be served, hard reservations
// excepted. It returns nil only when nothing may run.
func (s *Scheduler) PickWorkConserving(now uint64) *Server {
	if s.rng != nil {
		s.Replenish(now)
		return s.pickRandom()
	}
	if srv, _ := s.Pick(now); srv != nil {
		return srv
	}
	var best *Server
	for _, srv := range s.servers {
		if srv.eligible() && (best == nil || srv.NextReplenishNs < best.NextReplenishNs) {
			best = srv
		}
	}
	return best
}

// NextRelease returns when the first runnable hard reservation that has
// spent its budget gets a new one (0: there is none). A machine with
// nothing else to run idles until then.
func (s *Scheduler) NextRelease() uint64 {
	var next uint64
	for _, srv := range s.servers {
		if srv.Hard && srv.runnable && srv.RemainingNs == 0 && (next == 0 || srv.NextReplenishNs < next) {
			next = srv.NextReplenishNs
		}
	}
	return next
}

// Slice returns how long srv may run from now before the scheduler must
// decide again: its remaining budget (or, for a server running on spare
// time, until its next period), and never past another server's next
// replenishment, which may preempt it.
func (s *Scheduler) Slice(srv *Server, now uint64) uint64 {
	var d uint64
	if srv.RemainingNs > 0 {
		d = srv.RemainingNs
	} else {
		d = srv.NextReplenishNs - now
	}
	for _, o := range s.servers {
		if o != srv && o.runnable && o.NextReplenishNs > now && o.NextReplenishNs-now < d {
			d = o.NextReplenishNs - now
		}
	}
	if d == 0 {
		d = 1
	}
	if s.rng != nil {
		d = s.perturbSlice(d)
	}
	return d
}

// Charge accounts ns of execution to srv at time now (the end of the run).
// A run that passes the job's deadline with more of the job left than it
// did before the deadline is a miss.
func (s *Scheduler) Charge(srv *Server, ns, now uint64) {
	if start := now - min(ns, now); !srv.missed && now > srv.DeadlineNs && srv.RemainingNs > 0 &&
		srv.DeadlineNs-min(start, srv.DeadlineNs) < srv.RemainingNs {
		srv.Misses++
		s.totalMisses++
		srv.missed = true
	}
	if ns >= srv.RemainingNs {
		srv.RemainingNs = 0
	} else {
		srv.RemainingNs -= ns
	}
	srv.used = true
	s.checkMiss(srv, now)
}

// Misses returns the deadline misses of the servers there are now.
func (s *Scheduler) Misses() uint64 {
	var n uint64
	for _, srv := range s.servers {
		n += srv.Misses
	}
	return n
}

// TotalMisses returns every deadline miss any server has counted since
// the scheduler was made, removed servers' included; resets of a
// server's count (ResetCounters, a server's Misses set to 0) do not
// lower it.
func (s *Scheduler) TotalMisses() uint64 { return s.totalMisses }

// SetBudget changes the budget (WCET) of srv: the budget left in the
// current period grows by as much as the budget does, or shrinks to the
// new budget. An admitted server's new utilisation must pass admission
// control (its old one no longer counts).
func (s *Scheduler) SetBudget(srv *Server, budget uint64) error {
	if err := s.validate(budget, srv.PeriodNs, srv.RelDeadlineNs); err != nil {
		return err
	}
	if srv.Admitted {
		used := s.usedPPM - srv.UtilPPM()
		if u := UtilPPM(budget, srv.PeriodNs); used+u > MaxUtilPPM {
			return &ErrRejected{UtilPPM: u, UsedPPM: used}
		}
		s.usedPPM = used + UtilPPM(budget, srv.PeriodNs)
	}
	old := srv.BudgetNs
	srv.BudgetNs = budget
	if budget > old {
		srv.RemainingNs += budget - old
	} else {
		srv.RemainingNs = min(srv.RemainingNs, budget)
	}
	return nil
}

// ResetCounters zeroes every server's miss count and the switch latencies.
func (s *Scheduler) ResetCounters() {
	for _, srv := range s.servers {
		srv.Misses = 0
	}
	s.Switches.Reset()
}

// Latency keeps the most recent samples of a duration (virtual ns) and
// summarises them.
type Latency struct {
	ring  *ring.Ring[uint64]
	count uint64
	sum   uint64
}

// NewLatency returns a recorder keeping the last n samples.
func NewLatency(n int) *Latency { return &Latency{ring: ring.New[uint64](n)} }

// Record adds one sample.
func (l *Latency) Record(ns uint64) {
	l.ring.Add(ns)
	l.count++
	l.sum += ns
}

// Count returns how many samples were ever recorded.
func (l *Latency) Count() uint64 { return l.count }

// Sum returns the total of every sample ever recorded.
func (l *Latency) Sum() uint64 { return l.sum }

// Quantile returns the q-quantile (0..1) of the kept samples by the
// nearest-rank method, 0 without samples.
func (l *Latency) Quantile(q float64) uint64 {
	s := l.ring.All()
	n := len(s)
	if n == 0 {
		return 0
	}
	slices.Sort(s)
	rank := int(q*float64(n)+0.999999999) - 1
	return s[max(0, min(rank, n-1))]
}

// Reset drops every sample.
func (l *Latency) Reset() {
	l.ring.Reset()
	l.count, l.sum = 0, 0
}
