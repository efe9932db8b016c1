package kernel

import (
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Priorities and scheduling attributes, kept per thread and reported as
// Linux reports them: nice values (getpriority/setpriority,
// /proc/<pid>/stat), scheduling policies and real-time priorities, I/O
// priorities, CPU affinity on the machine's one CPU, and personality. The
// machine's CBS scheduler gives every thread the same budget whatever
// these say.

func registerSchedSyscalls(reg registerFn) {
	note := "kept and reported; the CBS scheduler gives every thread the same budget"
	reg(linux.SysGetpriority, syscallEntry{fn: sysGetpriority})
	reg(linux.SysSetpriority, syscallEntry{fn: sysSetpriority, support: Partial, note: note})
	reg(linux.SysSchedSetscheduler, syscallEntry{fn: sysSchedSetscheduler, support: Partial, note: note})
	reg(linux.SysSchedGetscheduler, syscallEntry{fn: sysSchedGetscheduler})
	reg(linux.SysSchedSetparam, syscallEntry{fn: sysSchedSetparam, support: Partial, note: note})
	reg(linux.SysSchedGetparam, syscallEntry{fn: sysSchedGetparam})
	reg(linux.SysSchedSetattr, syscallEntry{fn: sysSchedSetattr, support: Partial, note: note + "; SCHED_DEADLINE is EINVAL"})
	reg(linux.SysSchedGetattr, syscallEntry{fn: sysSchedGetattr})
	reg(linux.SysSchedGetPriorityMax, syscallEntry{fn: sysSchedGetPriorityMax})
	reg(linux.SysSchedGetPriorityMin, syscallEntry{fn: sysSchedGetPriorityMin})
	reg(linux.SysSchedRrGetInterval, syscallEntry{fn: sysSchedRrGetInterval})
	reg(linux.SysSchedSetaffinity, syscallEntry{fn: sysSchedSetaffinity})
	reg(linux.SysGetcpu, syscallEntry{fn: sysGetcpu})
	reg(linux.SysMembarrier, syscallEntry{fn: sysMembarrier})
	reg(linux.SysIoprioGet, syscallEntry{fn: sysIoprioGet})
	reg(linux.SysIoprioSet, syscallEntry{fn: sysIoprioSet, support: Partial, note: "kept and reported; file I/O has no queue to order"})
	reg(linux.SysPersonality, syscallEntry{fn: sysPersonality})
}

// Scheduling policies (linux/sched.h).
const (
	schedOther       = 0
	schedFIFO        = 1
	schedRR          = 2
	schedBatch       = 3
	schedIdle        = 5
	schedDeadline    = 6
	schedResetOnFork = 0x40000000

	rrTimeslice = 100_000_000 // RR_TIMESLICE: 100 ms
)

// getpriority/setpriority targets.
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

// schedAttrs are a thread's scheduling attributes.
type schedAttrs struct {
	nice        int // -20..19
	policy      int
	rtprio      int // 1..99 for SCHED_FIFO and SCHED_RR
	resetOnFork bool
	ioprio      int // class<<13 | data
}

// forked returns the attributes of a child thread: SCHED_RESET_ON_FORK
// takes a child back to SCHED_OTHER and a negative nice value to 0.
func (s schedAttrs) forked() schedAttrs {
	if s.resetOnFork {
		if s.policy == schedFIFO || s.policy == schedRR {
			s.policy, s.rtprio = schedOther, 0
		}
		s.nice = max(s.nice, 0)
		s.resetOnFork = false
	}
	return s
}

// prio is the priority field of /proc/<pid>/stat (task_prio).
func (s *schedAttrs) prio() int {
	if s.policy == schedFIFO || s.policy == schedRR {
		return -1 - s.rtprio
	}
	return 20 + s.nice
}

// tasksOf returns the live threads a (which, who) pair names for
// getpriority/setpriority and ioprio_get/ioprio_set; prioProcess selects
// one thread (who a tid), the others whole processes.
func (t *Task) tasksOf(which, who int) ([]*Task, error) {
	var out []*Task
	switch which {
	case prioProcess:
		if who == 0 {
			return []*Task{t}, nil
		}
		if x := t.m.lookupTask(who); x != nil && x.state != taskDead {
			out = append(out, x)
		}
	case prioPgrp:
		if who == 0 {
			who = t.pgid
		}
		for _, q := range t.m.liveProcs() {
			if q.pgid == who && !q.zombie {
				out = append(out, q.tasks...)
			}
		}
	case prioUser:
		uid := uint32(who)
		if who == 0 {
			uid = t.cred.ruid
		}
		for _, q := range t.m.liveProcs() {
			if q.cred.ruid == uid && !q.zombie {
				out = append(out, q.tasks...)
			}
		}
	default:
		return nil, linux.EINVAL
	}
	if len(out) == 0 {
		return nil, linux.ESRCH
	}
	return out, nil
}

// Getpriority implements getpriority(2): 20 minus the lowest nice value
// of the targets (1..40, as the system call returns it).
func sysGetpriority(t *Task, a *args) (uint64, error) {
	ts, err := t.tasksOf(a.int32(0), a.int32(1))
	if err != nil {
		return 0, err
	}
	best := 19
	for _, x := range ts {
		best = min(best, x.sched.nice)
	}
	return uint64(20 - best), nil
}

// mayChange reports whether t may change the scheduling attributes of x
// (its own user, or CAP_SYS_NICE).
func (t *Task) mayChange(x *Task) bool {
	c := &t.cred
	return t.capable(capSysNice) || c.euid == x.cred.ruid || c.euid == x.cred.euid
}

// Setpriority implements setpriority(2): lowering a nice value needs
// CAP_SYS_NICE (or RLIMIT_NICE).
func sysSetpriority(t *Task, a *args) (uint64, error) {
	ts, err := t.tasksOf(a.int32(0), a.int32(1))
	if err != nil {
		return 0, err
	}
	nice := min(max(a.int32(2), -20), 19)
	var res error
	for _, x := range ts {
		switch {
		case !t.mayChange(x):
			res = linux.EPERM
		case nice < x.sched.nice && !t.canNice(nice):
			res = linux.EACCES
		default:
			x.sched.nice = nice
		}
	}
	return 0, res
}

// canNice reports whether t may raise a priority to nice (CAP_SYS_NICE or
// RLIMIT_NICE's 20-nice).
func (t *Task) canNice(nice int) bool {
	return t.capable(capSysNice) || uint64(20-nice) <= t.rlimits[linux.RLIMIT_NICE][0]
}

// schedTarget returns the thread a sched_* pid argument names.
func (t *Task) schedTarget(pid int) (*Task, error) {
	if pid < 0 {
		return nil, linux.EINVAL
	}
	if pid == 0 {
		return t, nil
	}
	x := t.m.lookupTask(pid)
	if x == nil || x.state == taskDead {
		return nil, linux.ESRCH
	}
	return x, nil
}

// validPolicy checks a policy and its priority as sched_setscheduler does.
func validPolicy(policy, prio int) error {
	switch policy {
	case schedOther, schedBatch, schedIdle:
		if prio != 0 {
			return linux.EINVAL
		}
	case schedFIFO, schedRR:
		if prio < 1 || prio > 99 {
			return linux.EINVAL
		}
	default:
		return linux.EINVAL
	}
	return nil
}

// setSched gives x a policy and priority (keepPolicy: sched_setparam).
func (t *Task) setSched(x *Task, policy, prio int, reset bool) error {
	if err := validPolicy(policy, prio); err != nil {
		return err
	}
	rt := policy == schedFIFO || policy == schedRR
	if !t.mayChange(x) {
		return linux.EPERM
	}
	if rt && !t.capable(capSysNice) && uint64(prio) > t.rlimits[linux.RLIMIT_RTPRIO][0] {
		return linux.EPERM
	}
	if !reset && x.sched.resetOnFork && !t.capable(capSysNice) {
		return linux.EPERM
	}
	x.sched.policy, x.sched.rtprio, x.sched.resetOnFork = policy, prio, reset
	if !rt {
		x.sched.rtprio = 0
	}
	return nil
}

// readParam reads a struct sched_param.
func (t *Task) readParam(addr uint64) (int, error) {
	if addr == 0 {
		return 0, linux.EINVAL
	}
	var b [4]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return int(int32(leU32(b[:]))), nil
}

// SchedSetscheduler implements sched_setscheduler(2).
func sysSchedSetscheduler(t *Task, a *args) (uint64, error) {
	pid, policy := a.int32(0), a.int32(1)
	if a[2] == 0 || pid < 0 {
		return 0, linux.EINVAL
	}
	x, err := t.schedTarget(pid)
	if err != nil {
		return 0, err
	}
	prio, err := t.readParam(a[2])
	if err != nil {
		return 0, err
	}
	reset := policy&schedResetOnFork != 0
	policy &^= schedResetOnFork
	return 0, t.setSched(x, policy, prio, reset)
}

// SchedSetparam implements sched_setparam(2).
func sysSchedSetparam(t *Task, a *args) (uint64, error) {
	if a[1] == 0 || a.int32(0) < 0 {
		return 0, linux.EINVAL
	}
	x, err := t.schedTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	prio, err := t.readParam(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.setSched(x, x.sched.policy, prio, x.sched.resetOnFork)
}

// SchedGetscheduler implements sched_getscheduler(2).
func sysSchedGetscheduler(t *Task, a *args) (uint64, error) {
	x, err := t.schedTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	p := x.sched.policy
	if x.sched.resetOnFork {
		p |= schedResetOnFork
	}
	return uint64(p), nil
}

// SchedGetparam implements sched_getparam(2).
func sysSchedGetparam(t *Task, a *args) (uint64, error) {
	if a[1] == 0 || a.int32(0) < 0 {
		return 0, linux.EINVAL
	}
	x, err := t.schedTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	var b [4]byte
	put32(b[:], uint32(x.sched.rtprio))
	return 0, t.copyOut(a[1], b[:])
}

// struct sched_attr sizes: the first published one and the latest.
const (
	schedAttrSize0   = 48
	schedAttrSizeMax = 56
	schedFlagReset   = 0x01
)

// SchedSetattr implements sched_setattr(2) for the policies without a
// deadline.
func sysSchedSetattr(t *Task, a *args) (uint64, error) {
	if a[1] == 0 || a.int32(0) < 0 || a[2] != 0 {
		return 0, linux.EINVAL
	}
	var sz [4]byte
	if err := t.copyIn(a[1], sz[:]); err != nil {
		return 0, err
	}
	size := uint64(leU32(sz[:]))
	if size == 0 {
		size = schedAttrSize0
	}
	if size < schedAttrSize0 || size > pageSize {
		put32(sz[:], schedAttrSizeMax)
		t.copyOut(a[1], sz[:])
		return 0, linux.E2BIG
	}
	b := make([]byte, size)
	if err := t.copyIn(a[1], b); err != nil {
		return 0, err
	}
	for _, c := range b[min(size, schedAttrSizeMax):] {
		if c != 0 {
			put32(sz[:], schedAttrSizeMax)
			t.copyOut(a[1], sz[:])
			return 0, linux.E2BIG
		}
	}
	x, err := t.schedTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	policy, flags := int(leU32(b[4:])), le64(b[8:])
	nice, prio := int(int32(leU32(b[16:]))), int(leU32(b[20:]))
	if flags&^uint64(schedFlagReset) != 0 || policy == schedDeadline {
		return 0, linux.EINVAL
	}
	if policy == schedOther || policy == schedBatch {
		if nice < x.sched.nice && !t.canNice(nice) {
			return 0, linux.EPERM
		}
	}
	if err := t.setSched(x, policy, prio, flags&schedFlagReset != 0); err != nil {
		return 0, err
	}
	if policy == schedOther || policy == schedBatch {
		x.sched.nice = min(max(nice, -20), 19)
	}
	return 0, nil
}

// SchedGetattr implements sched_getattr(2).
func sysSchedGetattr(t *Task, a *args) (uint64, error) {
	size := a[2]
	if a[1] == 0 || a.int32(0) < 0 || a[3] != 0 || size < schedAttrSize0 || size > pageSize {
		return 0, linux.EINVAL
	}
	x, err := t.schedTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	n := min(size, schedAttrSizeMax)
	b := make([]byte, n)
	put32(b[0:], uint32(n))
	put32(b[4:], uint32(x.sched.policy))
	if x.sched.resetOnFork {
		put64(b[8:], schedFlagReset)
	}
	put32(b[16:], uint32(int32(x.sched.nice)))
	put32(b[20:], uint32(x.sched.rtprio))
	if n >= schedAttrSizeMax {
		put32(b[52:], 1024) // sched_util_max: SCHED_CAPACITY_SCALE
	}
	return 0, t.copyOut(a[1], b)
}

// SchedGetPriorityMax implements sched_get_priority_max(2).
func sysSchedGetPriorityMax(t *Task, a *args) (uint64, error) {
	switch a.int32(0) {
	case schedFIFO, schedRR:
		return 99, nil
	case schedOther, schedBatch, schedIdle, schedDeadline:
		return 0, nil
	}
	return 0, linux.EINVAL
}

// SchedGetPriorityMin implements sched_get_priority_min(2).
func sysSchedGetPriorityMin(t *Task, a *args) (uint64, error) {
	switch a.int32(0) {
	case schedFIFO, schedRR:
		return 1, nil
	case schedOther, schedBatch, schedIdle, schedDeadline:
		return 0, nil
	}
	return 0, linux.EINVAL
}

// SchedRrGetInterval implements sched_rr_get_interval(2): RR_TIMESLICE for
// SCHED_RR, 0 for SCHED_FIFO, and the thread's CBS budget (the time it
// runs before others get the CPU) for the other policies.
func sysSchedRrGetInterval(t *Task, a *args) (uint64, error) {
	x, err := t.schedTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	var ns int64
	switch x.sched.policy {
	case schedRR:
		ns = rrTimeslice
	case schedFIFO:
	default:
		if x.srv != nil {
			ns = int64(x.srv.BudgetNs)
		}
	}
	return 0, t.putTimespec(a[1], ns)
}

// SchedSetaffinity implements sched_setaffinity(2): the machine has one
// CPU, which the mask must include.
func sysSchedSetaffinity(t *Task, a *args) (uint64, error) {
	if _, err := t.schedTarget(a.int32(0)); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, linux.EINVAL
	}
	var b [1]byte
	if err := t.copyIn(a[2], b[:]); err != nil {
		return 0, err
	}
	if b[0]&1 == 0 {
		return 0, linux.EINVAL
	}
	return 0, nil
}

// Getcpu implements getcpu(2): CPU 0 of node 0.
func sysGetcpu(t *Task, a *args) (uint64, error) {
	var b [4]byte
	for _, addr := range []uint64{a[0], a[1]} {
		if addr != 0 {
			if err := t.copyOut(addr, b[:]); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}

// membarrier(2) commands.
const (
	mbQuery               = 0
	mbGlobal              = 1 << 0
	mbGlobalExpedited     = 1 << 1
	mbRegGlobalExpedited  = 1 << 2
	mbPrivateExpedited    = 1 << 3
	mbRegPrivateExpedited = 1 << 4
	mbPrivateSyncCore     = 1 << 5
	mbRegPrivateSyncCore  = 1 << 6
	mbGetRegistrations    = 1 << 9
	mbSupported           = mbGlobal | mbGlobalExpedited | mbRegGlobalExpedited | mbPrivateExpedited | mbRegPrivateExpedited | mbPrivateSyncCore | mbRegPrivateSyncCore | mbGetRegistrations
)

// Membarrier implements membarrier(2). With one CPU every thread that is
// not running has passed a full barrier, so each command is done as soon
// as it is checked; the private expedited ones need their registration,
// as on Linux. The restartable-sequence commands are EINVAL (no rseq).
func sysMembarrier(t *Task, a *args) (uint64, error) {
	cmd, flags := a.int32(0), a.int32(1)
	if flags != 0 {
		return 0, linux.EINVAL
	}
	reg := &t.Process.membarrier
	switch cmd {
	case mbQuery:
		return mbSupported, nil
	case mbGlobal, mbGlobalExpedited:
		return 0, nil
	case mbRegGlobalExpedited, mbRegPrivateExpedited, mbRegPrivateSyncCore:
		*reg |= cmd
		return 0, nil
	case mbPrivateExpedited:
		if *reg&mbRegPrivateExpedited == 0 {
			return 0, linux.EPERM
		}
		return 0, nil
	case mbPrivateSyncCore:
		if *reg&mbRegPrivateSyncCore == 0 {
			return 0, linux.EPERM
		}
		return 0, nil
	case mbGetRegistrations:
		return uint64(*reg), nil
	}
	return 0, linux.EINVAL
}

// I/O priority classes.
const (
	ioprioClassNone = 0
	ioprioClassRT   = 1
	ioprioClassBE   = 2
	ioprioClassIdle = 3
	ioprioShift     = 13
	ioprioWhoProc   = 1
	ioprioWhoPgrp   = 2
	ioprioWhoUser   = 3
)

// ioprioTasks maps ioprio's "who" kinds onto tasksOf's.
func (t *Task) ioprioTasks(which, who int) ([]*Task, error) {
	switch which {
	case ioprioWhoProc:
		return t.tasksOf(prioProcess, who)
	case ioprioWhoPgrp:
		return t.tasksOf(prioPgrp, who)
	case ioprioWhoUser:
		return t.tasksOf(prioUser, who)
	}
	return nil, linux.EINVAL
}

// IoprioGet implements ioprio_get(2): the best priority of the targets.
func sysIoprioGet(t *Task, a *args) (uint64, error) {
	ts, err := t.ioprioTasks(a.int32(0), a.int32(1))
	if err != nil {
		return 0, err
	}
	best := -1
	for _, x := range ts {
		if best < 0 || ioprioBetter(x.sched.ioprio, best) {
			best = x.sched.ioprio
		}
	}
	return uint64(best), nil
}

// ioprioBetter reports whether a ranks above b (as ioprio_best: a lower
// class number but NONE, then a lower level).
func ioprioBetter(a, b int) bool {
	rank := func(p int) int {
		class := p >> ioprioShift
		if class == ioprioClassNone {
			class = ioprioClassBE
		}
		return class<<ioprioShift | p&0x1fff
	}
	return rank(a) < rank(b)
}

// IoprioSet implements ioprio_set(2).
func sysIoprioSet(t *Task, a *args) (uint64, error) {
	prio := a.int32(2)
	class, data := prio>>ioprioShift, prio&0x1fff
	switch class {
	case ioprioClassRT:
		if !t.capable(capSysAdmin) && !t.capable(capSysNice) {
			return 0, linux.EPERM
		}
		fallthrough
	case ioprioClassBE:
		if data >= 8 {
			return 0, linux.EINVAL
		}
	case ioprioClassIdle:
	case ioprioClassNone:
		if data != 0 {
			return 0, linux.EINVAL
		}
	default:
		return 0, linux.EINVAL
	}
	ts, err := t.ioprioTasks(a.int32(0), a.int32(1))
	if err != nil {
		return 0, err
	}
	for _, x := range ts {
		if !t.mayChange(x) {
			return 0, linux.EPERM
		}
	}
	for _, x := range ts {
		x.sched.ioprio = prio
	}
	return 0, nil
}

// Personalities (linux/personality.h).
const (
	perLinux32    = 0x0008
	perMask       = 0xff
	personalityQ  = 0xffffffff
	perClearSetid = 0x0040000 | 0x0400000 | 0x1000000 // ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT, MMAP_PAGE_ZERO
)

// Personality implements personality(2). PER_LINUX32 is accepted (the
// emulated Cortex-A72 has AArch32 at EL0 on real hardware) and makes
// uname report armv8l, as an arm64 kernel does; the other flags are kept.
func sysPersonality(t *Task, a *args) (uint64, error) {
	old := t.personality
	if p := uint32(a[0]); p != personalityQ {
		t.personality = p
	}
	return uint64(old), nil
}

// unameMachine is uname's machine field for the process.
func (p *Process) unameMachine() string {
	if p.personality&perMask == perLinux32 {
		return "armv8l"
	}
	return "aarch64"
}

// More prctl(2) options.
const (
	prSetPdeathsig      = 1
	prGetPdeathsig      = 2
	prGetKeepcaps       = 7
	prSetKeepcaps       = 8
	prCapbsetRead       = 23
	prGetSecurebits     = 27
	prSetTimerslack     = 29
	prGetTimerslack     = 30
	prSetChildSubreaper = 36
	prGetChildSubreaper = 37
	prGetTidAddress     = 40
	defaultTimerSlackNs = 50_000
	secbitKeepCaps      = 1 << 4
)

// prctlMore implements the prctl(2) options of process attributes.
func (t *Task) prctlMore(a *args) (uint64, error) {
	switch a[0] {
	case prSetPdeathsig:
		if a[1] > uint64(linux.SIGRTMAX) {
			return 0, linux.EINVAL
		}
		t.pdeathsig = linux.Signal(a[1])
		return 0, nil
	case prGetPdeathsig:
		var b [4]byte
		put32(b[:], uint32(t.pdeathsig))
		return 0, t.copyOut(a[1], b[:])
	case prGetKeepcaps:
		if t.cred.keepCaps {
			return 1, nil
		}
		return 0, nil
	case prSetKeepcaps:
		if a[1] > 1 {
			return 0, linux.EINVAL
		}
		t.cred.keepCaps = a[1] == 1
		return 0, nil
	case prCapbsetRead:
		if a[1] > capLastCap {
			return 0, linux.EINVAL
		}
		return 1, nil // the bounding set holds every capability
	case prGetSecurebits:
		if t.cred.keepCaps {
			return secbitKeepCaps, nil
		}
		return 0, nil
	case prSetTimerslack:
		t.timerSlack = a[1]
		return 0, nil
	case prGetTimerslack:
		if t.timerSlack == 0 {
			return defaultTimerSlackNs, nil
		}
		return t.timerSlack, nil
	case prSetChildSubreaper:
		t.subreaper = a[1] != 0
		return 0, nil
	case prGetChildSubreaper:
		var b [4]byte
		if t.subreaper {
			put32(b[:], 1)
		}
		return 0, t.copyOut(a[1], b[:])
	case prGetTidAddress:
		var b [8]byte
		put64(b[:], t.clearTID)
		return 0, t.copyOut(a[1], b[:])
	}
	return 0, linux.EINVAL
}
