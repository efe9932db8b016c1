package netstack

import (
	"container/heap"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// ManualClock is a tcpip.Clock whose time moves only when its owner says so:
// the machine clock in deterministic mode. Timers never fire on their own
// goroutine; Network.Advance fires the due ones synchronously, in deadline
// order (ties in the order they were armed).
//
// Its methods are safe for concurrent use (the gateway's host relays arm
// timers from their own goroutines).
type ManualClock struct {
	mu     sync.Mutex
	epoch  time.Time     // wall time at monotonic zero
	now    time.Duration // monotonic time since the machine started
	seq    uint64        // arming order, for stable ties
	timers timerHeap
}

var _ tcpip.Clock = (*ManualClock)(nil)

// NewManualClock returns a clock at monotonic time zero whose wall time
// starts at epoch.
func NewManualClock(epoch time.Time) *ManualClock {
	return &ManualClock{epoch: epoch}
}

// Now implements tcpip.Clock.Now: the epoch plus the elapsed machine time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch.Add(c.now)
}

// NowMonotonic implements tcpip.Clock.NowMonotonic.
func (c *ManualClock) NowMonotonic() tcpip.MonotonicTime {
	return tcpip.MonotonicTime{}.Add(c.Elapsed())
}

// Elapsed returns the machine time since the clock started.
func (c *ManualClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements tcpip.Clock.AfterFunc: f runs during the Advance that
// reaches now+d, on the goroutine that calls Advance.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	t := &manualTimer{clock: c, fn: f, index: -1}
	c.mu.Lock()
	c.armLocked(t, d)
	c.mu.Unlock()
	return t
}

// NextDeadline returns the machine time at which the earliest armed timer
// fires, and false if no timer is armed.
func (c *ManualClock) NextDeadline() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	return c.timers[0].when, true
}

// fireNext runs the earliest timer due at or before to, after moving the
// clock to its deadline. It reports false when no timer is due. The timer's
// function runs without the clock's lock, so it may arm, stop or reset
// timers.
func (c *ManualClock) fireNext(to time.Duration) bool {
	c.mu.Lock()
	if len(c.timers) == 0 || c.timers[0].when > to {
		c.mu.Unlock()
		return false
	}
	t := heap.Pop(&c.timers).(*manualTimer)
	if t.when > c.now {
		c.now = t.when
	}
	fn := t.fn
	c.mu.Unlock()
	fn()
	return true
}

// setNow moves the clock forward to to; it never moves backwards.
func (c *ManualClock) setNow(to time.Duration) {
	c.mu.Lock()
	if to > c.now {
		c.now = to
	}
	c.mu.Unlock()
}

func (c *ManualClock) armLocked(t *manualTimer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	t.when = c.now + d
	if t.when < c.now { // overflow: never
		t.when = time.Duration(1<<63 - 1)
	}
	c.seq++
	t.seq = c.seq
	heap.Push(&c.timers, t)
}

// manualTimer implements tcpip.Timer for ManualClock.
type manualTimer struct {
	clock *ManualClock
	fn    func()
	when  time.Duration
	seq   uint64
	index int // position in the heap, -1 when not armed
}

// Stop implements tcpip.Timer.Stop.
func (t *manualTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&c.timers, t.index)
	return true
}

// Reset implements tcpip.Timer.Reset.
func (t *manualTimer) Reset(d time.Duration) {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.index >= 0 {
		heap.Remove(&c.timers, t.index)
	}
	c.armLocked(t, d)
}

// timerHeap orders timers by deadline, then by arming order.
type timerHeap []*manualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when != h[j].when {
		return h[i].when < h[j].when
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*manualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
