package kernel

import (
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// poll(2) and epoll(7) events (the same bits).
const (
	pollIN     = 0x001
	pollPRI    = 0x002
	pollOUT    = 0x004
	pollERR    = 0x008
	pollHUP    = 0x010
	pollNVAL   = 0x020
	pollRDNORM = 0x040
	pollWRNORM = 0x100
	pollRDHUP  = 0x2000
)

// waitable is a file whose readiness changes: pipes, FIFOs, eventfd,
// timerfd, signalfd, epoll, sockets. readiness returns its ready events;
// its wait queue is woken whenever they may have changed. This one
// mechanism serves poll, select and epoll.
type waitable interface {
	readiness() uint32
	waitQueue() *waitQueue
}

// readiness returns the ready events of an open file and what to wait on
// when nothing is ready (nil: the file is always ready).
func readiness(of *openFile) (uint32, *waitQueue) {
	if w, ok := of.f.(waitable); ok {
		return w.readiness(), w.waitQueue()
	}
	// Regular files and the console never block.
	var ev uint32
	switch of.flags & linux.O_ACCMODE {
	case linux.O_RDONLY:
		ev = pollIN
	case linux.O_WRONLY:
		ev = pollOUT
	default:
		ev = pollIN | pollOUT
	}
	return ev, nil
}

// pollTimeout reads a timespec timeout: ok false means wait forever.
func (t *Task) pollTimeout(addr uint64) (time.Duration, bool, error) {
	if addr == 0 {
		return 0, false, nil
	}
	d, err := t.readTimespec(addr)
	return d, true, err
}

// waitReady finishes a poll that found nothing ready: it times out (0) or
// blocks on keys until a change or the deadline.
func (t *Task) waitReady(d time.Duration, bounded bool, keys []*waitQueue) (uint64, error) {
	if bounded {
		if d == 0 {
			return 0, nil
		}
		at := t.timeout(d)
		if t.expired() {
			return 0, nil
		}
		return 0, t.block(at, keys...)
	}
	// With no keys only a signal ends the wait, as on Linux.
	return 0, t.block(0, keys...)
}

// withWaitMask runs a ppoll or pselect6 under the signal mask at sigset
// (size bytes; none when sigset is 0), as rt_sigsuspend does: the mask
// holds while the call waits, a handler run meanwhile returns to the old
// mask, and the call puts the old mask back when it returns.
func (t *Task) withWaitMask(sigset, size uint64, call func() (uint64, error)) (uint64, error) {
	if sigset != 0 {
		if size != sigsetSize {
			return 0, linux.EINVAL
		}
		var b [8]byte
		if err := t.copyIn(sigset, b[:]); err != nil {
			return 0, err
		}
		if !t.suspended {
			t.savedMask, t.suspended = t.sigMask, true
		}
		t.sigMask = le64(b[:]) &^ unblockable
	}
	n, err := call()
	if err == errRestart {
		if t.hasPending() {
			t.wake() // a signal the wait mask lets through ends the wait
		}
		return n, err
	}
	if t.suspended {
		t.sigMask, t.suspended = t.savedMask, false
		if t.hasPending() {
			t.stop = true // a signal the old mask lets through is delivered now
		}
	}
	return n, err
}

// Ppoll implements ppoll(2).
func sysPpoll(t *Task, a *args) (uint64, error) {
	return t.withWaitMask(a[3], a[4], func() (uint64, error) { return t.ppoll(a) })
}

func (t *Task) ppoll(a *args) (uint64, error) {
	nfds := a[1]
	if nfds > t.rlimits[linux.RLIMIT_NOFILE][0] {
		return 0, linux.EINVAL
	}
	d, bounded, err := t.pollTimeout(a[2])
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 8*nfds)
	if err := t.copyIn(a[0], buf); err != nil {
		return 0, err
	}
	var ready uint64
	var keys []*waitQueue
	for i := uint64(0); i < nfds; i++ {
		e := buf[8*i:]
		fd := int32(leU32(e[0:]))
		events := uint32(uint16(e[4]) | uint16(e[5])<<8)
		var rev uint32
		if fd >= 0 {
			of, err := t.fds.get(int(fd))
			if err != nil {
				rev = pollNVAL
			} else {
				ev, key := readiness(of)
				rev = ev & (events | pollERR | pollHUP)
				if rev == 0 && key != nil {
					keys = append(keys, key)
				}
			}
		}
		put16(e[6:], uint16(rev))
		if rev != 0 {
			ready++
		}
	}
	if ready == 0 {
		return t.waitReady(d, bounded, keys)
	}
	t.deadline = 0
	return ready, t.copyOut(a[0], buf)
}

// Pselect6 implements pselect6(2); its sixth argument points to
// {const sigset_t *ss; size_t ss_len}.
func sysPselect6(t *Task, a *args) (uint64, error) {
	var sigset, size uint64
	if a[5] != 0 {
		var b [16]byte
		if err := t.copyIn(a[5], b[:]); err != nil {
			return 0, err
		}
		sigset, size = le64(b[:]), le64(b[8:])
	}
	return t.withWaitMask(sigset, size, func() (uint64, error) { return t.pselect6(a) })
}

func (t *Task) pselect6(a *args) (uint64, error) {
	n := a.int32(0)
	if n < 0 {
		return 0, linux.EINVAL
	}
	n = min(n, t.fds.limit) // as Linux: no descriptor is at or above the table's size
	d, bounded, err := t.pollTimeout(a[4])
	if err != nil {
		return 0, err
	}
	words := (n + 63) / 64
	var sets [3][]uint64
	for i := range sets {
		if a[1+i] == 0 {
			continue
		}
		b := make([]byte, 8*words)
		if err := t.copyIn(a[1+i], b); err != nil {
			return 0, err
		}
		sets[i] = make([]uint64, words)
		for w := range sets[i] {
			sets[i][w] = le64(b[8*w:])
		}
	}
	var out [3][]uint64
	for i := range out {
		if sets[i] != nil {
			out[i] = make([]uint64, words)
		}
	}
	var ready uint64
	var keys []*waitQueue
	for fd := 0; fd < n; fd++ {
		w, bit := fd/64, uint64(1)<<(fd%64)
		want := [3]bool{}
		any := false
		for i := range sets {
			if sets[i] != nil && sets[i][w]&bit != 0 {
				want[i], any = true, true
			}
		}
		if !any {
			continue
		}
		of, err := t.fds.get(fd)
		if err != nil {
			return 0, linux.EBADF
		}
		ev, key := readiness(of)
		got := [3]bool{ev&(pollIN|pollHUP|pollERR) != 0, ev&(pollOUT|pollERR) != 0, ev&pollPRI != 0}
		hit := false
		for i := range want {
			if want[i] && got[i] {
				out[i][w] |= bit
				ready++
				hit = true
			}
		}
		if !hit && key != nil {
			keys = append(keys, key)
		}
	}
	if ready == 0 {
		return t.waitReady(d, bounded, keys)
	}
	t.deadline = 0
	for i := range out {
		if out[i] == nil {
			continue
		}
		b := make([]byte, 8*words)
		for w, v := range out[i] {
			put64(b[8*w:], v)
		}
		if err := t.copyOut(a[1+i], b); err != nil {
			return 0, err
		}
	}
	return ready, nil
}
