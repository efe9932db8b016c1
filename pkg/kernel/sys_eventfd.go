package kernel

import (
	"io/fs"
	"math/bits"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerEventSyscalls(reg registerFn) {
	reg(linux.SysEventfd2, syscallEntry{fn: sysEventfd2})
	reg(linux.SysTimerfdCreate, syscallEntry{fn: sysTimerfdCreate, support: Partial, note: "TFD_TIMER_CANCEL_ON_SET is accepted and never cancels (the wall clock is never set)"})
	reg(linux.SysTimerfdSettime, syscallEntry{fn: sysTimerfdSettime})
	reg(linux.SysTimerfdGettime, syscallEntry{fn: sysTimerfdGettime})
	reg(linux.SysSignalfd4, syscallEntry{fn: sysSignalfd4})
}

// nonblocker is a file with a back pointer to its open file description,
// for O_NONBLOCK.
type nonblocker struct{ of *openFile }

func (n *nonblocker) nonblock() bool { return n.of != nil && n.of.flags&linux.O_NONBLOCK != 0 }

// installNew installs a new file with status flags (O_NONBLOCK) at the
// lowest free descriptor and returns it.
func (t *Task) installNew(f file, back *nonblocker, acc, flags int) (uint64, error) {
	of := &openFile{f: f, flags: acc | flags&linux.O_NONBLOCK}
	back.of = of
	fd, err := t.fds.installOpen(of, 0, flags&linux.O_CLOEXEC != 0)
	return uint64(fd), err
}

// eventfd is a counter threads signal each other with (eventfd(2)).
type eventfd struct {
	nonblocker
	m         *Machine
	count     uint64
	semaphore bool
	wq        waitQueue
}

const eventfdMax = ^uint64(0) - 1

// Eventfd2 implements eventfd2(2).
func sysEventfd2(t *Task, a *args) (uint64, error) {
	flags := a.int32(1)
	const efdSemaphore = 1
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK|efdSemaphore) != 0 {
		return 0, linux.EINVAL
	}
	e := &eventfd{m: t.m, count: uint64(uint32(a[0])), semaphore: flags&efdSemaphore != 0}
	return t.installNew(e, &e.nonblocker, linux.O_RDWR, flags)
}

// Read takes the counter (or 1 of it, in semaphore mode); a zero counter
// blocks.
func (e *eventfd) Read(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, linux.EINVAL
	}
	if e.count == 0 {
		if e.nonblock() {
			return 0, linux.EAGAIN
		}
		return 0, e.m.blockCur(&e.wq)
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	put64(b, v)
	e.wq.wakeAll()
	return 8, nil
}

// Write adds to the counter; one that would pass the maximum blocks.
func (e *eventfd) Write(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, linux.EINVAL
	}
	v := le64(b)
	if v == ^uint64(0) {
		return 0, linux.EINVAL
	}
	if e.count+v > eventfdMax || e.count+v < e.count {
		if e.nonblock() {
			return 0, linux.EAGAIN
		}
		return 0, e.m.blockCur(&e.wq)
	}
	e.count += v
	e.wq.wakeAll()
	return 8, nil
}

func (e *eventfd) Close() error               { return nil }
func (e *eventfd) waitQueue() *waitQueue      { return &e.wq }
func (e *eventfd) ProcName() string           { return "anon_inode:[eventfd]" }
func (e *eventfd) Stat() (fs.FileInfo, error) { return anonInfo{"[eventfd]"}, nil }

func (e *eventfd) readiness() uint32 {
	var ev uint32
	if e.count > 0 {
		ev |= pollIN
	}
	if e.count < eventfdMax {
		ev |= pollOUT
	}
	return ev
}

// timerfd is a timer read as a file (timerfd_create(2)), running on the
// machine clock.
type timerfd struct {
	nonblocker
	m        *Machine
	clock    int
	at       uint64 // next expiry, machine time (0: disarmed)
	interval uint64
	expired  uint64 // expirations not yet read
	timer    *timer
	wq       waitQueue
}

// TimerfdCreate implements timerfd_create(2).
func sysTimerfdCreate(t *Task, a *args) (uint64, error) {
	clock, flags := a.int32(0), a.int32(1)
	switch clock {
	case linux.CLOCK_REALTIME, linux.CLOCK_MONOTONIC, linux.CLOCK_BOOTTIME, 8, 9: // 8, 9: the _ALARM clocks
	default:
		return 0, linux.EINVAL
	}
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK) != 0 {
		return 0, linux.EINVAL
	}
	tf := &timerfd{m: t.m, clock: clock}
	return t.installNew(tf, &tf.nonblocker, linux.O_RDWR, flags)
}

// timerfdOf returns the timerfd behind fd.
func (t *Task) timerfdOf(fd int) (*timerfd, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return nil, err
	}
	tf, ok := of.f.(*timerfd)
	if !ok {
		return nil, linux.EINVAL
	}
	return tf, nil
}

// readItimerspec reads a struct itimerspec {interval, value}.
func (t *Task) readItimerspec(addr uint64) (interval, value time.Duration, err error) {
	if interval, err = t.readTimespec(addr); err != nil {
		return 0, 0, err
	}
	value, err = t.readTimespec(addr + 16)
	return interval, value, err
}

// putItimerspec writes a struct itimerspec.
func (t *Task) putItimerspec(addr uint64, interval, value uint64) error {
	var b [32]byte
	put64(b[0:], interval/1e9)
	put64(b[8:], interval%1e9)
	put64(b[16:], value/1e9)
	put64(b[24:], value%1e9)
	return t.copyOut(addr, b[:])
}

// remaining returns the time to the next expiry (0: disarmed).
func (tf *timerfd) remaining() uint64 {
	if tf.at == 0 {
		return 0
	}
	return max(tf.at-min(tf.at, tf.m.clock.Now()), 1)
}

// TimerfdSettime implements timerfd_settime(2).
func sysTimerfdSettime(t *Task, a *args) (uint64, error) {
	tf, err := t.timerfdOf(a.int32(0))
	if err != nil {
		return 0, err
	}
	const abstime, cancelOnSet = 1, 2
	flags := a.int32(1)
	if flags&^(abstime|cancelOnSet) != 0 {
		return 0, linux.EINVAL
	}
	interval, value, err := t.readItimerspec(a[2])
	if err != nil {
		return 0, err
	}
	if a[3] != 0 {
		if err := t.putItimerspec(a[3], tf.interval, tf.remaining()); err != nil {
			return 0, err
		}
	}
	var at uint64
	if value != 0 {
		now := t.m.clock.Now()
		if flags&abstime != 0 {
			cur, _ := t.clockNow(tf.clock % 8)
			at = now + uint64(max(value-time.Duration(cur), 1))
		} else {
			at = now + uint64(value)
		}
	}
	tf.arm(at, uint64(interval))
	return 0, nil
}

// arm sets the next expiry (0 disarms) and the period.
func (tf *timerfd) arm(at, interval uint64) {
	tf.m.cancelTimer(tf.timer)
	tf.timer = nil
	tf.at, tf.interval, tf.expired = at, interval, 0
	if at != 0 {
		tf.timer = tf.m.setTimer(at, tf)
	}
}

// fire counts the expirations due by now and re-arms a periodic timer.
func (tf *timerfd) fire() {
	now := tf.m.clock.Now()
	tf.timer = nil
	if tf.at == 0 || now < tf.at {
		return
	}
	n := uint64(1)
	if tf.interval > 0 {
		n += (now - tf.at) / tf.interval
		tf.at += n * tf.interval
		tf.timer = tf.m.setTimer(tf.at, tf)
	} else {
		tf.at = 0
	}
	tf.expired += n
	tf.wq.wakeAll()
}

// TimerfdGettime implements timerfd_gettime(2).
func sysTimerfdGettime(t *Task, a *args) (uint64, error) {
	tf, err := t.timerfdOf(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, t.putItimerspec(a[1], tf.interval, tf.remaining())
}

// Read returns the expirations since the last read; none blocks.
func (tf *timerfd) Read(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, linux.EINVAL
	}
	if tf.expired == 0 {
		if tf.nonblock() {
			return 0, linux.EAGAIN
		}
		return 0, tf.m.blockCur(&tf.wq)
	}
	put64(b, tf.expired)
	tf.expired = 0
	return 8, nil
}

func (tf *timerfd) Write([]byte) (int, error) { return 0, linux.EINVAL }
func (tf *timerfd) Close() error {
	tf.arm(0, 0)
	return nil
}
func (tf *timerfd) waitQueue() *waitQueue      { return &tf.wq }
func (tf *timerfd) ProcName() string           { return "anon_inode:[timerfd]" }
func (tf *timerfd) Stat() (fs.FileInfo, error) { return anonInfo{"[timerfd]"}, nil }

func (tf *timerfd) readiness() uint32 {
	if tf.expired > 0 {
		return pollIN
	}
	return 0
}

// signalfd reads the calling thread's pending signals of a mask
// (signalfd(2)).
type signalfd struct {
	nonblocker
	m    *Machine
	p    *Process
	mask uint64
}

// Signalfd4 implements signalfd4(2).
func sysSignalfd4(t *Task, a *args) (uint64, error) {
	fd, flags := a.int32(0), a.int32(3)
	if a[2] != sigsetSize || flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK) != 0 {
		return 0, linux.EINVAL
	}
	var b [8]byte
	if err := t.copyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	mask := le64(b[:]) &^ unblockable
	if fd != -1 {
		of, err := t.fds.get(fd)
		if err != nil {
			return 0, err
		}
		sf, ok := of.f.(*signalfd)
		if !ok {
			return 0, linux.EINVAL
		}
		sf.mask = mask
		t.sigWq.wakeAll()
		return uint64(fd), nil
	}
	sf := &signalfd{m: t.m, p: t.Process, mask: mask}
	return t.installNew(sf, &sf.nonblocker, linux.O_RDONLY, flags)
}

// reader is the thread whose pending signals the file shows: the caller,
// or the process's first thread outside a system call.
func (sf *signalfd) reader() *Task {
	if t := sf.m.cur; t != nil && t.Process == sf.p {
		return t
	}
	return sf.p.leader()
}

// Read dequeues pending signals of the mask as signalfd_siginfo records.
func (sf *signalfd) Read(b []byte) (int, error) {
	const rec = 128
	if len(b) < rec {
		return 0, linux.EINVAL
	}
	t := sf.reader()
	if t == nil {
		return 0, nil
	}
	n := 0
	for n+rec <= len(b) {
		pending := (t.sigPending.mask | t.Process.sigPending.mask) & sf.mask
		if pending == 0 {
			break
		}
		sig := linux.Signal(bits.TrailingZeros64(pending) + 1)
		var info siginfo
		if t.sigPending.mask&sigBit(sig) != 0 {
			info = t.sigPending.take(sig)
		} else {
			info = t.Process.sigPending.take(sig)
		}
		r := b[n : n+rec]
		clear(r)
		put32(r[0:], uint32(sig))
		put32(r[4:], uint32(info.errno))
		put32(r[8:], uint32(info.code))
		put32(r[12:], uint32(info.pid))
		put32(r[16:], uint32(info.uid))
		put32(r[28:], uint32(info.tid))
		put32(r[32:], uint32(info.overrun))
		put32(r[40:], uint32(info.status))
		put32(r[44:], uint32(info.value))
		put64(r[48:], info.value)
		put64(r[56:], uint64(info.utime))
		put64(r[64:], uint64(info.stime))
		put64(r[72:], info.addr)
		n += rec
	}
	if n > 0 {
		return n, nil
	}
	if sf.nonblock() {
		return 0, linux.EAGAIN
	}
	return 0, sf.m.blockCur(&sf.p.sigWq)
}

func (sf *signalfd) Write([]byte) (int, error)  { return 0, linux.EINVAL }
func (sf *signalfd) Close() error               { return nil }
func (sf *signalfd) waitQueue() *waitQueue      { return &sf.p.sigWq }
func (sf *signalfd) ProcName() string           { return "anon_inode:[signalfd]" }
func (sf *signalfd) Stat() (fs.FileInfo, error) { return anonInfo{"[signalfd]"}, nil }

func (sf *signalfd) readiness() uint32 {
	t := sf.reader()
	if t != nil && (t.sigPending.mask|t.Process.sigPending.mask)&sf.mask != 0 {
		return pollIN
	}
	return 0
}
