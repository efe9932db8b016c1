package sched

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const ms = 1_000_000

func TestAdmission(t *testing.T) {
	s := New()
	a, err := s.Admit(Graph, 10*ms, 100*ms, 100*ms, 0) // 10%
	require.NoError(t, err)
	require.Equal(t, uint64(100_000), a.UtilPPM())
	_, err = s.Admit(AiInference, 75*ms, 100*ms, 0, 0) // 75%: total exactly 85%
	require.NoError(t, err)
	require.Equal(t, uint64(850_000), s.UsedPPM())
	_, err = s.Admit(Graph, 90*ms, 100*ms, 0, 0) // a further 90%
	var rej *ErrRejected
	require.ErrorAs(t, err, &rej)
	require.Equal(t, uint64(900_000), rej.UtilPPM)
	// Even 1 ppm more is refused; removing frees the share.
	_, err = s.Admit(Graph, 1, 1_000_000, 0, 0)
	require.Error(t, err)
	s.Remove(a)
	require.Equal(t, uint64(750_000), s.UsedPPM())
	_, err = s.Admit(Graph, 1, 1_000_000, 0, 0)
	require.NoError(t, err)
	// Floor arithmetic: 1/3 is 333333 ppm.
	require.Equal(t, uint64(333_333), UtilPPM(1, 3))
	// Best-effort servers do not count.
	_, err = s.Add(Process, DefaultProcessWCET, DefaultProcessPeriod, 0, 0)
	require.NoError(t, err)
	require.Equal(t, uint64(750_001), s.UsedPPM())
	_, err = s.Admit(Graph, 20*ms, 10*ms, 0, 0)
	require.Error(t, err, "wcet > period")
}

func TestEDFOrder(t *testing.T) {
	s := New()
	late, _ := s.Add(Process, 10*ms, 100*ms, 90*ms, 0)
	early, _ := s.Add(Process, 10*ms, 100*ms, 30*ms, 0)
	mid, _ := s.Add(Process, 10*ms, 100*ms, 60*ms, 0)
	for _, srv := range []*Server{late, early, mid} {
		s.SetRunnable(srv, true, 0)
	}
	var order []int
	now := uint64(0)
	for i := 0; i < 3; i++ {
		srv, _ := s.Pick(now)
		require.NotNil(t, srv)
		order = append(order, srv.ID)
		sl := s.Slice(srv, now)
		require.Equal(t, uint64(10*ms), sl)
		now += sl
		s.Charge(srv, sl, now)
	}
	require.Equal(t, []int{early.ID, mid.ID, late.ID}, order)
	// Ties go to the lowest ID.
	s2 := New()
	b, _ := s2.Add(Process, ms, 10*ms, 0, 0)
	c, _ := s2.Add(Process, ms, 10*ms, 0, 0)
	s2.SetRunnable(c, true, 0)
	s2.SetRunnable(b, true, 0)
	got, _ := s2.Pick(0)
	require.Same(t, b, got)
}

func TestBudgetExhaustionDefersToNextPeriod(t *testing.T) {
	s := New()
	a, _ := s.Add(Process, 10*ms, 100*ms, 0, 0)
	s.SetRunnable(a, true, 0)
	srv, _ := s.Pick(0)
	require.Same(t, a, srv)
	s.Charge(a, 10*ms, 10*ms)
	srv, next := s.Pick(10 * ms)
	require.Nil(t, srv, "an exhausted server waits for its next period")
	require.Equal(t, uint64(100*ms), next)
	// Spare time still goes to it when asked for work conservation.
	require.Same(t, a, s.PickWorkConserving(10*ms))
	require.Equal(t, uint64(90*ms), s.Slice(a, 10*ms))
	srv, _ = s.Pick(100 * ms)
	require.Same(t, a, srv)
	require.Equal(t, uint64(10*ms), a.RemainingNs)
}

func TestReplenishment(t *testing.T) {
	s := New()
	a, _ := s.Add(Process, 10*ms, 100*ms, 80*ms, 0)
	s.SetRunnable(a, true, 0)
	s.Charge(a, 4*ms, 4*ms)
	require.Equal(t, uint64(6*ms), a.RemainingNs)
	s.SetRunnable(a, false, 4*ms) // the job finished early
	s.Replenish(99 * ms)
	require.Equal(t, uint64(6*ms), a.RemainingNs, "no refill inside the period")
	s.SetRunnable(a, true, 100*ms)
	require.Equal(t, uint64(10*ms), a.RemainingNs)
	require.Equal(t, uint64(200*ms), a.NextReplenishNs)
	require.Equal(t, uint64(180*ms), a.DeadlineNs)
	// A long idle gap jumps to the period containing now.
	s.SetRunnable(a, false, 100*ms)
	s.SetRunnable(a, true, 1234*ms)
	require.Equal(t, uint64(1300*ms), a.NextReplenishNs)
	require.Equal(t, uint64(1280*ms), a.DeadlineNs)
	require.Zero(t, a.Misses)
}

func TestDeadlineMissesUnderOverload(t *testing.T) {
	s := New()
	// Three best-effort servers asking 50% each: 150% load.
	for i := 0; i < 3; i++ {
		srv, _ := s.Add(Process, 50*ms, 100*ms, 0, 0)
		s.SetRunnable(srv, true, 0)
	}
	now := uint64(0)
	for now < 1000*ms {
		srv := s.PickWorkConserving(now)
		require.NotNil(t, srv)
		sl := s.Slice(srv, now)
		now += sl
		s.Charge(srv, sl, now)
	}
	s.Replenish(now)
	require.Greater(t, s.Misses(), uint64(0))
	// One server is starved every period: exactly one miss per period.
	require.Equal(t, uint64(10), s.Misses())
	s.ResetCounters()
	require.Zero(t, s.Misses())

	// Under 85% nobody misses.
	u := New()
	a, _ := u.Admit(Graph, 40*ms, 100*ms, 0, 0)
	b, _ := u.Admit(Graph, 40*ms, 100*ms, 0, 0)
	u.SetRunnable(a, true, 0)
	u.SetRunnable(b, true, 0)
	now = 0
	for now < 1000*ms {
		srv, next := u.Pick(now)
		if srv == nil {
			now = next
			continue
		}
		sl := u.Slice(srv, now)
		now += sl
		u.Charge(srv, sl, now)
	}
	require.Zero(t, u.Misses())
}

func TestLatency(t *testing.T) {
	l := NewLatency(4)
	require.Zero(t, l.Quantile(0.5))
	for _, v := range []uint64{50, 10, 40, 20, 30} { // 50 falls out of the ring
		l.Record(v)
	}
	require.Equal(t, uint64(5), l.Count())
	require.Equal(t, uint64(150), l.Sum())
	require.Equal(t, uint64(20), l.Quantile(0.5))
	require.Equal(t, uint64(40), l.Quantile(0.99))
	require.Equal(t, uint64(10), l.Quantile(0))
}
