package kernel

import (
	"container/heap"
	"time"
)

// Blocking and wake-up. A system call that must wait registers its task on
// the wait queues of what it waits for (a pipe, a child, a futex word, ...)
// and, for a timeout, in the machine's timer heap, then returns errRestart;
// the task's svc runs again once it is woken. Waking a queue costs what its
// waiters cost; no operation scans the machine's tasks, and the pipe
// ping-pong path does not allocate.

// waitQueue is a list of tasks waiting for one event. gen counts the
// events (wakeAll calls): edge-triggered epoll reports a file again only
// after its queue saw a new one.
type waitQueue struct {
	head, tail *waiter
	gen        uint64
}

// waiter links a task into one wait queue.
type waiter struct {
	t          *Task
	q          *waitQueue
	prev, next *waiter
	bitset     uint32 // futex wake mask
}

func (q *waitQueue) empty() bool { return q.head == nil }

func (q *waitQueue) push(w *waiter) {
	w.q, w.prev, w.next = q, q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
}

func (q *waitQueue) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.q, w.prev, w.next = nil, nil, nil
}

// wakeAll wakes every task waiting on q.
func (q *waitQueue) wakeAll() {
	q.gen++
	for q.head != nil {
		q.head.t.wake() // unlinks all of the task's waiters
	}
}

// addWaiter registers t on q (it stays until t is woken).
func (t *Task) addWaiter(q *waitQueue) *waiter {
	var w *waiter
	if t.nwait < len(t.waiters) {
		w = t.waiters[t.nwait]
	} else {
		w = &waiter{t: t}
		t.waiters = append(t.waiters, w)
	}
	t.nwait++
	w.bitset = ^uint32(0)
	q.push(w)
	return w
}

// dropWaiters unlinks t from every queue.
func (t *Task) dropWaiters() {
	for _, w := range t.waiters[:t.nwait] {
		if w.q != nil {
			w.q.remove(w)
		}
	}
	t.nwait = 0
}

// block makes the current system call wait for one of qs or until the
// absolute machine time wakeAt (0: no timeout). The handler returns
// errRestart right after.
func (t *Task) block(wakeAt uint64, qs ...*waitQueue) error {
	t.dropWaiters()
	for _, q := range qs {
		t.addWaiter(q)
	}
	t.blockOn(wakeAt)
	t.restart = true
	return errRestart
}

// blockOn takes t off the run queue until it is woken or wakeAt passes;
// its waiters are already registered.
func (t *Task) blockOn(wakeAt uint64) {
	t.stop = true
	t.setState(taskBlocked)
	if wakeAt != 0 {
		t.m.timers.add(&t.timer, wakeAt)
	}
}

// wake makes a blocked task runnable.
func (t *Task) wake() {
	if t.state != taskBlocked {
		return
	}
	t.dropWaiters()
	t.m.timers.cancel(&t.timer)
	t.setState(taskRunnable)
}

// timeout returns the absolute deadline of a blocking call that waits for
// d, fixed at its first attempt and kept across restarts.
func (t *Task) timeout(d time.Duration) uint64 {
	if t.deadline == 0 {
		t.deadline = t.m.clock.Now() + uint64(d)
		if t.deadline == 0 {
			t.deadline = 1
		}
	}
	return t.deadline
}

// expired reports whether the deadline set by timeout has passed, and
// clears it when it has.
func (t *Task) expired() bool {
	if t.deadline != 0 && t.m.clock.Now() >= t.deadline {
		t.deadline = 0
		return true
	}
	return false
}

// sleep blocks the task for d (nanosleep): other tasks run meanwhile; when
// every task sleeps, deterministic time jumps to the first wake-up.
func (t *Task) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	at := t.timeout(d)
	if t.expired() {
		return nil
	}
	return t.block(at)
}

// timer is an entry of the machine's timer heap: a task's timeout or a
// kernel callback.
type timer struct {
	at    uint64
	seq   uint64 // tie-break: timers due together fire in the order set
	index int    // in the heap; -1 when not queued
	t     *Task  // a task to wake, or
	fire  firer  // what to run
}

// firer is what a machine timer runs. Kernel objects implement it (not
// closures), so a machine's state is data a checkpoint can copy.
type firer interface{ fire() }

// funcFirer runs a function (the layer's timers, AtTime).
type funcFirer func()

func (f funcFirer) fire() { f() }

// timerHeap orders timers by due time.
type timerHeap struct {
	h   []*timer
	seq uint64
}

func (h *timerHeap) Len() int { return len(h.h) }
func (h *timerHeap) Less(i, j int) bool {
	a, b := h.h[i], h.h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}
func (h *timerHeap) Swap(i, j int) {
	h.h[i], h.h[j] = h.h[j], h.h[i]
	h.h[i].index, h.h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	tm := x.(*timer)
	tm.index = len(h.h)
	h.h = append(h.h, tm)
}
func (h *timerHeap) Pop() any {
	n := len(h.h) - 1
	tm := h.h[n]
	h.h[n] = nil
	h.h = h.h[:n]
	tm.index = -1
	return tm
}

// add queues tm for time at (re-queuing it if already queued).
func (h *timerHeap) add(tm *timer, at uint64) {
	h.cancel(tm)
	h.seq++
	tm.at, tm.seq = at, h.seq
	heap.Push(h, tm)
}

// cancel removes tm if it is queued.
func (h *timerHeap) cancel(tm *timer) {
	if tm.index >= 0 && tm.index < len(h.h) && h.h[tm.index] == tm {
		heap.Remove(h, tm.index)
	}
}

// next returns the earliest due time (0 when empty).
func (h *timerHeap) next() uint64 {
	if len(h.h) == 0 {
		return 0
	}
	return h.h[0].at
}

// popDue removes and returns the earliest timer due at or before now.
func (h *timerHeap) popDue(now uint64) *timer {
	if len(h.h) == 0 || h.h[0].at > now {
		return nil
	}
	return heap.Pop(h).(*timer)
}
