package netstack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestManualClockFiresInDeadlineOrder(t *testing.T) {
	epoch := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewManualClock(epoch)
	require.Equal(t, epoch, c.Now())
	var fired []string
	at := func(name string) func() {
		return func() { fired = append(fired, name+"@"+c.Elapsed().String()) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	stopped := c.AfterFunc(2*time.Second, at("stopped"))
	c.AfterFunc(time.Second, at("a2")) // same deadline: arming order
	reset := c.AfterFunc(time.Second, at("reset"))
	c.AfterFunc(-time.Second, at("now")) // negative: due at once

	require.True(t, stopped.Stop())
	require.False(t, stopped.Stop(), "stopping twice")
	reset.Reset(5 * time.Second)
	d, ok := c.NextDeadline()
	require.True(t, ok)
	require.Zero(t, d)

	for c.fireNext(4 * time.Second) {
	}
	require.Equal(t, []string{"now@0s", "a@1s", "a2@1s", "c@3s"}, fired)
	require.Equal(t, 3*time.Second, c.Elapsed(), "the clock stops at the last deadline it ran")
	c.setNow(4 * time.Second)
	require.Equal(t, epoch.Add(4*time.Second), c.Now())
	require.Equal(t, int64(4000), c.NowMonotonic().Milliseconds())
	d, ok = c.NextDeadline()
	require.True(t, ok)
	require.Equal(t, 5*time.Second, d, "the reset timer")
	c.setNow(time.Second)
	require.Equal(t, 4*time.Second, c.Elapsed(), "time never moves backwards")
}

func TestManualClockTimersRearmWhileFiring(t *testing.T) {
	c := NewManualClock(time.Unix(0, 0))
	var ticks []time.Duration
	var tick func()
	var tm interface{ Reset(time.Duration) }
	tick = func() {
		ticks = append(ticks, c.Elapsed())
		if len(ticks) < 4 {
			tm.Reset(time.Second)
		}
	}
	tm = c.AfterFunc(time.Second, tick)
	for c.fireNext(10 * time.Second) {
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}, ticks)
	_, ok := c.NextDeadline()
	require.False(t, ok)
}

func TestAdvanceRunsTimersAtTheirDeadlines(t *testing.T) {
	n := newNet(t, Config{Seed: 40})
	var seen []time.Duration
	n.clock.AfterFunc(2*time.Second, func() { seen = append(seen, n.clock.Elapsed()) })
	n.clock.AfterFunc(time.Second, func() { seen = append(seen, n.clock.Elapsed()) })
	n.Advance(10 * time.Second)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second}, seen)
	require.Equal(t, 10*time.Second, n.Elapsed())
}

func TestRealtimeNetwork(t *testing.T) {
	n := newNet(t, Config{Seed: 41, Realtime: true})
	_, ok := n.NextDeadline()
	require.False(t, ok, "host timers run by themselves")
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	s, _ := accept(t, l)
	sendAll(t, c, []byte("realtime"))
	d, _ := readAvailable(t, s)
	require.Equal(t, "realtime", string(d))
	before := n.Elapsed()
	n.Advance(0)
	require.GreaterOrEqual(t, n.Elapsed(), before, "the host clock")
}
