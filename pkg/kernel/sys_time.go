package kernel

import (
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerTimeSyscalls(reg registerFn) {
	reg(linux.SysClockGettime, syscallEntry{fn: sysClockGettime})
	reg(linux.SysClockGetres, syscallEntry{fn: sysClockGetres})
	reg(linux.SysGettimeofday, syscallEntry{fn: sysGettimeofday})
	reg(linux.SysNanosleep, syscallEntry{fn: sysNanosleep})
	reg(linux.SysClockNanosleep, syscallEntry{fn: sysClockNanosleep})
	reg(linux.SysTimes, syscallEntry{fn: sysTimes})
}

// Times implements times(2): the process's and its reaped children's CPU
// times, and the return value, in clock ticks (USER_HZ 100) since boot.
// All CPU time is user time.
func sysTimes(t *Task, a *args) (uint64, error) {
	const tick = 10_000_000
	if a[0] != 0 {
		var b [32]byte
		put64(b[0:], t.cpuNs()/tick)
		put64(b[16:], t.childNs/tick)
		if err := t.copyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return t.m.clock.Now() / tick, nil
}

// clockRead is a guest's read of a clock (clock_gettime): the wall and
// monotonic clocks with the read's jitter in deterministic mode
// (cpu.Clock.Read); deadlines use clockNow.
func (t *Task) clockRead(id int) (int64, error) {
	m := t.m
	switch id {
	case linux.CLOCK_REALTIME, linux.CLOCK_REALTIME_COARSE:
		return m.epoch.Add(time.Duration(m.clock.Read())).UnixNano(), nil
	case linux.CLOCK_MONOTONIC, linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_MONOTONIC_COARSE, linux.CLOCK_BOOTTIME:
		return int64(m.clock.Read()), nil
	}
	return t.clockNow(id)
}

// clockNow returns the time of a clock, in nanoseconds.
func (t *Task) clockNow(id int) (int64, error) {
	m := t.m
	switch id {
	case linux.CLOCK_REALTIME, linux.CLOCK_REALTIME_COARSE:
		return m.wallTime().UnixNano(), nil
	case linux.CLOCK_MONOTONIC, linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_MONOTONIC_COARSE, linux.CLOCK_BOOTTIME:
		return int64(m.clock.Now()), nil
	case linux.CLOCK_PROCESS_CPUTIME_ID:
		return int64(t.cpuNs()), nil
	case linux.CLOCK_THREAD_CPUTIME_ID:
		return int64(t.threadCPUNs()), nil
	}
	if id < 0 {
		return cpuClockNow(t, id)
	}
	return 0, linux.EINVAL
}

// cpuClockNow reads a CPU-time clock given by id (clock_getcpuclockid,
// pthread_getcpuclockid): of any process, or of a thread of the caller's.
func cpuClockNow(t *Task, id int) (int64, error) {
	if id&cpuclockMask == cpuclockMask {
		return 0, linux.EINVAL
	}
	pid := int(^(id >> 3))
	if id&cpuclockPerThread != 0 {
		x := t
		if pid != 0 {
			x = t.m.lookupTask(pid)
		}
		if x == nil || x.Process != t.Process {
			return 0, linux.EINVAL
		}
		return int64(x.threadCPUNs()), nil
	}
	q := t.Process
	if pid != 0 {
		if q = t.m.lookup(pid); q == nil || q == t.m.init {
			return 0, linux.EINVAL
		}
	}
	return int64(q.cpuNs()), nil
}

func (t *Task) putTimespec(addr uint64, ns int64) error {
	var b [16]byte
	put64(b[0:], uint64(ns/1e9))
	put64(b[8:], uint64(ns%1e9))
	return t.copyOut(addr, b[:])
}

// readTimespec reads and validates a struct timespec.
func (t *Task) readTimespec(addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(le64(b[0:])), int64(le64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, linux.EINVAL
	}
	if sec > int64(time.Duration(1<<62)/time.Second) {
		sec = int64(time.Duration(1<<62) / time.Second)
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

// ClockGettime implements clock_gettime(2).
func sysClockGettime(t *Task, a *args) (uint64, error) {
	ns, err := t.clockRead(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, t.putTimespec(a[1], ns)
}

// ClockGetres implements clock_getres(2).
func sysClockGetres(t *Task, a *args) (uint64, error) {
	if _, err := t.clockNow(a.int32(0)); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	return 0, t.putTimespec(a[1], 1)
}

// Gettimeofday implements gettimeofday(2).
func sysGettimeofday(t *Task, a *args) (uint64, error) {
	if a[0] != 0 {
		ns := t.m.epoch.Add(time.Duration(t.m.clock.Read())).UnixNano()
		var b [16]byte
		put64(b[0:], uint64(ns/1e9))
		put64(b[8:], uint64(ns%1e9/1e3))
		if err := t.copyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		return 0, t.copyOut(a[1], make([]byte, 8)) // struct timezone: UTC
	}
	return 0, nil
}

// Nanosleep implements nanosleep(2).
func sysNanosleep(t *Task, a *args) (uint64, error) {
	d, err := t.readTimespec(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.sleep(d) // sched.go
}

// ClockNanosleep implements clock_nanosleep(2).
func sysClockNanosleep(t *Task, a *args) (uint64, error) {
	id := a.int32(0)
	if id == linux.CLOCK_THREAD_CPUTIME_ID {
		return 0, linux.EINVAL
	}
	now, err := t.clockNow(id)
	if err != nil {
		return 0, err
	}
	d, err := t.readTimespec(a[2])
	if err != nil {
		return 0, err
	}
	if a[1]&linux.TIMER_ABSTIME != 0 {
		d -= time.Duration(now)
	}
	return 0, t.sleep(d) // sched.go
}
