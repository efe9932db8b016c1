package kernel

import (
	"sort"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Interval timers (setitimer/getitimer) and POSIX timers (timer_create
// and friends). Timers on the machine's clocks (REALTIME, MONOTONIC,
// BOOTTIME and ITIMER_REAL) fire through the machine's timer heap, on
// machine time; timers on CPU time (ITIMER_VIRTUAL, ITIMER_PROF and the
// CPU-time clocks) are checked whenever the thread stops running, and a
// thread never runs past the next such expiry, so they fire on the
// instruction. A timer's signal is queued once: an expiry while it is
// still pending counts as an overrun (si_overrun, timer_getoverrun).
// Timers are not inherited by fork; execve deletes the POSIX ones and
// keeps the interval timers, as Linux.

func registerTimerSyscalls(reg registerFn) {
	reg(linux.SysSetitimer, syscallEntry{fn: sysSetitimer})
	reg(linux.SysGetitimer, syscallEntry{fn: sysGetitimer})
	reg(linux.SysTimerCreate, syscallEntry{fn: sysTimerCreate})
	reg(linux.SysTimerSettime, syscallEntry{fn: sysTimerSettime})
	reg(linux.SysTimerGettime, syscallEntry{fn: sysTimerGettime})
	reg(linux.SysTimerGetoverrun, syscallEntry{fn: sysTimerGetoverrun})
	reg(linux.SysTimerDelete, syscallEntry{fn: sysTimerDelete})
}

// Interval timers and sigevent notifications.
const (
	itimerReal    = 0
	itimerVirtual = 1
	itimerProf    = 2

	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2
	sigevThreadID = 4

	sigeventSize = 64
	// maxPosixTimers bounds a process's POSIX timers (EAGAIN beyond).
	maxPosixTimers = 1024
	// delaytimerMax bounds an overrun count (DELAYTIMER_MAX).
	delaytimerMax = 1<<31 - 1
)

// ktimer is one timer of a process.
type ktimer struct {
	p        *Process
	id       int // the POSIX timer id; -1 for an interval timer
	clock    int // CLOCK_* (CPU-time clocks for ITIMER_VIRTUAL/PROF)
	thread   *Task
	notify   int
	sig      linux.Signal
	target   *Task  // SIGEV_THREAD_ID's thread
	value    uint64 // sigev_value
	expires  uint64 // in the clock's ns (machine time for the machine's clocks); 0: disarmed
	interval uint64
	timer    *timer
	// queued: the timer's signal was queued and maybe not yet taken;
	// queuedOverrun is the overrun count it carries; lastOverrun the
	// count of the last signal taken (timer_getoverrun).
	queued        bool
	queuedOverrun int
	lastOverrun   int
}

// procTimers are a process's timers.
type procTimers struct {
	itimers [3]*ktimer
	posix   map[int]*ktimer
	nextID  int
}

// cpuClock reports whether the timer measures CPU time.
func (k *ktimer) cpuClock() bool {
	return k.clock == linux.CLOCK_PROCESS_CPUTIME_ID || k.clock == linux.CLOCK_THREAD_CPUTIME_ID
}

// now is the timer's clock, in ns.
func (k *ktimer) now() uint64 {
	switch k.clock {
	case linux.CLOCK_PROCESS_CPUTIME_ID:
		return k.p.cpuNs()
	case linux.CLOCK_THREAD_CPUTIME_ID:
		return k.thread.threadCPUNs()
	}
	return k.p.m.clock.Now()
}

// timers returns the process's timers, creating the set.
func (p *Process) timerSet() *procTimers {
	if p.timers == nil {
		p.timers = &procTimers{}
	}
	return p.timers
}

// disarm stops the timer.
func (k *ktimer) disarm() {
	k.p.m.cancelTimer(k.timer)
	k.timer = nil
	k.expires = 0
}

// arm starts the timer to expire at expires (in its clock's ns; 0
// disarms) and then every interval.
func (k *ktimer) arm(expires, interval uint64) {
	k.disarm()
	k.expires, k.interval = expires, interval
	if expires == 0 || k.cpuClock() {
		return
	}
	k.timer = k.p.m.setTimer(expires, k)
}

// fire runs when the timer expires: it signals, and a periodic timer
// goes on from its expiry time, counting the periods it missed.
func (k *ktimer) fire() {
	k.timer = nil
	p := k.p
	if p.zombie || p.exiting || k.expires == 0 {
		k.expires = 0
		return
	}
	now := k.now()
	missed := 0
	if k.interval > 0 && now >= k.expires+k.interval {
		missed = int(min((now-k.expires)/k.interval, delaytimerMax))
	}
	k.deliver(missed)
	if k.interval == 0 {
		k.expires = 0
		return
	}
	k.arm(k.expires+uint64(missed+1)*k.interval, k.interval)
}

// deliver sends the timer's signal, or counts an overrun when it is still
// pending.
func (k *ktimer) deliver(missed int) {
	if k.notify == sigevNone {
		return
	}
	if k.id < 0 {
		// Interval timers send a plain SI_KERNEL signal.
		k.p.sendSignal(k.sig, siginfo{code: siKernel})
		return
	}
	if q := k.pending(); q != nil {
		k.queuedOverrun = min(k.queuedOverrun+1+missed, delaytimerMax)
		q.overrun = int32(k.queuedOverrun)
		return
	}
	k.sync()
	info := siginfo{code: siTimer, tid: int32(k.id), overrun: int32(missed), value: k.value}
	if k.notify == sigevThreadID && k.target != nil && k.target.state != taskDead {
		k.target.sendSignal(k.sig, info)
	} else {
		k.p.sendSignal(k.sig, info)
	}
	k.queued, k.queuedOverrun = k.pending() != nil, missed
}

// pending returns the timer's queued signal, if it has not been taken.
func (k *ktimer) pending() *siginfo {
	set := &k.p.sigPending
	if k.notify == sigevThreadID && k.target != nil {
		set = &k.target.sigPending
	}
	bit := sigBit(k.sig)
	if set.mask&bit != 0 {
		if i := &set.info[k.sig-1]; i.code == siTimer && i.tid == int32(k.id) {
			return i
		}
	}
	for i := range set.rt {
		if q := &set.rt[i]; q.signo == k.sig && q.code == siTimer && q.tid == int32(k.id) {
			return q
		}
	}
	return nil
}

// sync notes that a queued signal was taken: its overrun count becomes
// timer_getoverrun's.
func (k *ktimer) sync() {
	if k.queued && k.pending() == nil {
		k.queued, k.lastOverrun = false, k.queuedOverrun
	}
}

// remaining is the time to the next expiry (at least 1 while armed).
func (k *ktimer) remaining() uint64 {
	if k.expires == 0 {
		return 0
	}
	if now := k.now(); k.expires > now {
		return k.expires - now
	}
	return 1
}

// cpuTimers lists the process's armed CPU-time timers that t's running
// advances.
func (p *Process) cpuTimers(t *Task) []*ktimer {
	var out []*ktimer
	for _, k := range p.timers.itimers {
		if k != nil && k.expires != 0 && k.cpuClock() {
			out = append(out, k)
		}
	}
	for _, k := range p.timers.posix {
		if k.expires != 0 && k.cpuClock() && (k.clock == linux.CLOCK_PROCESS_CPUTIME_ID || k.thread == t) {
			out = append(out, k)
		}
	}
	return out
}

// cpuTimerSlice shortens a time slice of t so that it ends when one of
// its process's CPU-time timers is due.
func (t *Task) cpuTimerSlice(slice uint64) uint64 {
	if t.timers == nil {
		return slice
	}
	for _, k := range t.Process.cpuTimers(t) {
		slice = max(1, min(slice, k.remaining()))
	}
	return slice
}

// checkCPUTimers fires the CPU-time timers that t's last slice made due.
func (t *Task) checkCPUTimers() {
	if t.timers == nil {
		return
	}
	due := t.Process.cpuTimers(t)
	sort.SliceStable(due, func(i, j int) bool { return due[i].id < due[j].id })
	for _, k := range due {
		if k.now() >= k.expires {
			k.fire()
		}
	}
}

// deleteTimers stops the POSIX timers (execve) or every timer (exit).
func (p *Process) deleteTimers(all bool) {
	if p.timers == nil {
		return
	}
	for _, k := range p.timers.posix {
		k.disarm()
	}
	p.timers.posix = nil
	if all {
		for _, k := range p.timers.itimers {
			if k != nil {
				k.disarm()
			}
		}
		p.timers = nil
	}
}

// itimer returns interval timer which, created on first use.
func (t *Task) itimer(which int) (*ktimer, error) {
	var clock int
	var sig linux.Signal
	switch which {
	case itimerReal:
		clock, sig = linux.CLOCK_MONOTONIC, linux.SIGALRM
	case itimerVirtual:
		clock, sig = linux.CLOCK_PROCESS_CPUTIME_ID, linux.SIGVTALRM
	case itimerProf:
		clock, sig = linux.CLOCK_PROCESS_CPUTIME_ID, linux.SIGPROF
	default:
		return nil, linux.EINVAL
	}
	ts := t.timerSet()
	if ts.itimers[which] == nil {
		ts.itimers[which] = &ktimer{p: t.Process, id: -1, clock: clock, sig: sig}
	}
	return ts.itimers[which], nil
}

// readTimeval reads a struct timeval as ns.
func (t *Task) readTimeval(addr uint64) (uint64, error) {
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, usec := int64(le64(b[0:])), int64(le64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, linux.EINVAL
	}
	if sec > 1<<33 {
		sec = 1 << 33
	}
	return uint64(sec)*1e9 + uint64(usec)*1e3, nil
}

// putItimer stores an itimerval: interval then value, in microseconds
// (a value below 1 us but not 0 shows as 1 us).
func (t *Task) putItimer(addr uint64, k *ktimer) error {
	var b [32]byte
	if k != nil {
		rem := k.remaining()
		if rem > 0 && rem < 1000 {
			rem = 1000
		}
		put64(b[0:], k.interval/1e9)
		put64(b[8:], k.interval%1e9/1e3)
		put64(b[16:], rem/1e9)
		put64(b[24:], rem%1e9/1e3)
	}
	return t.copyOut(addr, b[:])
}

// Getitimer implements getitimer(2).
func sysGetitimer(t *Task, a *args) (uint64, error) {
	k, err := t.itimer(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, t.putItimer(a[1], k)
}

// Setitimer implements setitimer(2) (a NULL new value disarms, as Linux
// still allows).
func sysSetitimer(t *Task, a *args) (uint64, error) {
	k, err := t.itimer(a.int32(0))
	if err != nil {
		return 0, err
	}
	var interval, value uint64
	if a[1] != 0 {
		if interval, err = t.readTimeval(a[1]); err != nil {
			return 0, err
		}
		if value, err = t.readTimeval(a[1] + 16); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		if err := t.putItimer(a[2], k); err != nil {
			return 0, err
		}
	}
	if value == 0 {
		k.disarm()
		k.interval = 0
		return 0, nil
	}
	k.arm(k.now()+value, interval)
	return 0, nil
}

// TimerCreate implements timer_create(2).
func sysTimerCreate(t *Task, a *args) (uint64, error) {
	clock := a.int32(0)
	var thread *Task
	if clock < 0 {
		// A CPU-time clock of a process or thread (clock_getcpuclockid,
		// and the C library's names for its own).
		var err error
		if clock, thread, err = t.cpuClockOf(clock); err != nil {
			return 0, err
		}
	}
	switch clock {
	case linux.CLOCK_REALTIME, linux.CLOCK_MONOTONIC, linux.CLOCK_BOOTTIME, linux.CLOCK_REALTIME_ALARM,
		linux.CLOCK_BOOTTIME_ALARM, linux.CLOCK_PROCESS_CPUTIME_ID, linux.CLOCK_THREAD_CPUTIME_ID:
	case linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_REALTIME_COARSE, linux.CLOCK_MONOTONIC_COARSE:
		return 0, linux.EOPNOTSUPP
	default:
		return 0, linux.EINVAL
	}
	k := &ktimer{p: t.Process, clock: clock, notify: sigevSignal, sig: linux.SIGALRM}
	switch clock {
	case linux.CLOCK_REALTIME_ALARM:
		k.clock = linux.CLOCK_REALTIME
	case linux.CLOCK_BOOTTIME_ALARM:
		k.clock = linux.CLOCK_BOOTTIME
	case linux.CLOCK_THREAD_CPUTIME_ID:
		k.thread = t
		if thread != nil {
			k.thread = thread
		}
	}
	explicitValue := false
	if a[1] != 0 {
		var b [sigeventSize]byte
		if err := t.copyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		k.value = le64(b[0:])
		k.sig = linux.Signal(int32(leU32(b[8:])))
		k.notify = int(int32(leU32(b[12:])))
		explicitValue = true
		switch k.notify {
		case sigevNone:
		case sigevSignal, sigevThreadID:
			if k.sig < 1 || k.sig > linux.SIGRTMAX {
				return 0, linux.EINVAL
			}
			if k.notify == sigevThreadID {
				tid := int(int32(leU32(b[16:])))
				x := t.m.lookupTask(tid)
				if x == nil || x.Process != t.Process || x.state == taskDead {
					return 0, linux.EINVAL
				}
				k.target = x
			}
		default:
			return 0, linux.EINVAL // SIGEV_THREAD is the C library's
		}
	}
	ts := t.timerSet()
	if len(ts.posix) >= maxPosixTimers {
		return 0, linux.EAGAIN
	}
	id := ts.nextID
	for ts.posix[id] != nil {
		id = (id + 1) & 0x7fffffff
	}
	ts.nextID = (id + 1) & 0x7fffffff
	k.id = id
	if !explicitValue {
		k.value = uint64(id)
	}
	var b [4]byte
	put32(b[:], uint32(id))
	if err := t.copyOut(a[2], b[:]); err != nil {
		return 0, err
	}
	if ts.posix == nil {
		ts.posix = map[int]*ktimer{}
	}
	ts.posix[id] = k
	return 0, nil
}

// CPU-time clock ids (MAKE_PROCESS_CPUCLOCK, MAKE_THREAD_CPUCLOCK): the
// pid or tid, complemented, above three bits of clock kind.
const (
	cpuclockPerThread = 4
	cpuclockSched     = 2
	cpuclockMask      = 3
)

// cpuClockOf decodes a negative clock id into CLOCK_PROCESS_CPUTIME_ID or
// CLOCK_THREAD_CPUTIME_ID (with its thread) for a timer of t's process.
// Every kind (PROF, VIRT, SCHED) counts the same CPU time here: the
// kernel's time is all user time.
func (t *Task) cpuClockOf(id int) (int, *Task, error) {
	kind := id & cpuclockMask
	pid := int(^(id >> 3))
	if kind == cpuclockMask {
		return 0, nil, linux.EINVAL
	}
	if id&cpuclockPerThread != 0 {
		if pid == 0 {
			return linux.CLOCK_THREAD_CPUTIME_ID, t, nil
		}
		x := t.m.lookupTask(pid)
		if x == nil || x.Process != t.Process {
			return 0, nil, linux.EINVAL
		}
		return linux.CLOCK_THREAD_CPUTIME_ID, x, nil
	}
	if pid != 0 && pid != t.PID {
		return 0, nil, linux.EINVAL // timers on other processes' clocks
	}
	return linux.CLOCK_PROCESS_CPUTIME_ID, nil, nil
}

// posixTimer returns the process's timer id.
func (t *Task) posixTimer(id int) (*ktimer, error) {
	if t.timers == nil || t.timers.posix[id] == nil {
		return nil, linux.EINVAL
	}
	return t.timers.posix[id], nil
}

// TimerSettime implements timer_settime(2).
func sysTimerSettime(t *Task, a *args) (uint64, error) {
	k, err := t.posixTimer(a.int32(0))
	if err != nil {
		return 0, err
	}
	if a[2] == 0 {
		return 0, linux.EINVAL
	}
	interval, value, err := t.readItimerspec(a[2])
	if err != nil {
		return 0, err
	}
	if a[3] != 0 {
		if err := t.putItimerspec(a[3], k.interval, k.remaining()); err != nil {
			return 0, err
		}
	}
	k.sync()
	if value == 0 {
		k.disarm()
		k.interval = 0
		return 0, nil
	}
	now := k.now()
	at := now + uint64(value)
	if a.int32(1)&linux.TIMER_ABSTIME != 0 {
		at = uint64(value)
		if k.clock == linux.CLOCK_REALTIME {
			// The wall clock is machine time from the epoch.
			wall := t.m.epoch.UnixNano()
			if int64(value) <= wall {
				at = 0
			} else {
				at = uint64(int64(value) - wall)
			}
		}
		at = max(at, 1)
	}
	k.arm(at, uint64(interval))
	return 0, nil
}

// TimerGettime implements timer_gettime(2).
func sysTimerGettime(t *Task, a *args) (uint64, error) {
	k, err := t.posixTimer(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, t.putItimerspec(a[1], k.interval, k.remaining())
}

// TimerGetoverrun implements timer_getoverrun(2): the overrun count of the
// last signal the timer delivered.
func sysTimerGetoverrun(t *Task, a *args) (uint64, error) {
	k, err := t.posixTimer(a.int32(0))
	if err != nil {
		return 0, err
	}
	k.sync()
	return uint64(k.lastOverrun), nil
}

// TimerDelete implements timer_delete(2). A signal it queued stays
// pending.
func sysTimerDelete(t *Task, a *args) (uint64, error) {
	k, err := t.posixTimer(a.int32(0))
	if err != nil {
		return 0, err
	}
	k.disarm()
	delete(t.timers.posix, k.id)
	return 0, nil
}
