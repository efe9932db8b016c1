package sched

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// One runnable server for a minute brings the 1-minute load to 1-1/e, the
// 5 and 15-minute ones to 1-e^(-1/5) and 1-e^(-1/15), as on Linux; then
// the loads decay once it stops.
func TestLoadAvgFollowsLinux(t *testing.T) {
	s := New()
	srv := s.add(Process, 1, 10, 10, 0)
	s.SetRunnable(srv, true, 0)
	avg, n := s.LoadAvg(60 * 1_000_000_000)
	require.Equal(t, 1, n)
	for i, minutes := range []float64{1, 5, 15} {
		want := 1 - math.Exp(-1/minutes)
		require.InDelta(t, want, float64(avg[i])/loadOne, 0.01, "%v-minute load", minutes)
	}
	s.SetRunnable(srv, false, 60*1_000_000_000)
	later, _ := s.LoadAvg(120 * 1_000_000_000)
	require.Less(t, later[0], avg[0])
	gone, _ := s.LoadAvg(3600 * 1_000_000_000)
	require.Zero(t, gone[0])
}

// Reading the loads often or once gives the same values: samples are
// caught up from the runnable count's history, not taken by a timer.
func TestLoadAvgCatchUpIsExact(t *testing.T) {
	a, b := New(), New()
	sa, sb := a.add(Process, 1, 10, 10, 0), b.add(Process, 1, 10, 10, 0)
	for _, s := range []struct {
		sched *Scheduler
		srv   *Server
	}{{a, sa}, {b, sb}} {
		s.sched.SetRunnable(s.srv, true, 3_000_000_000)
		s.sched.SetRunnable(s.srv, false, 47_000_000_000)
	}
	for now := uint64(0); now < 100_000_000_000; now += 700_000_000 {
		a.LoadAvg(now)
	}
	x, _ := a.LoadAvg(100_000_000_000)
	y, _ := b.LoadAvg(100_000_000_000)
	require.Equal(t, x, y)
	require.NotZero(t, x[2])
}
