package kernel

import (
	"math/bits"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerSignalSyscalls(reg registerFn) {
	reg(linux.SysRtSigaction, syscallEntry{fn: sysRtSigaction, support: Partial,
		note: "handlers need SA_RESTORER (there is no vDSO trampoline); siginfo carries signo and SI_USER"})
	reg(linux.SysRtSigreturn, syscallEntry{fn: sysRtSigreturn})
	reg(linux.SysRtSigsuspend, syscallEntry{fn: sysRtSigsuspend})
	reg(linux.SysSigaltstack, syscallEntry{fn: sysSigaltstack})
	reg(linux.SysRtSigpending, syscallEntry{fn: sysRtSigpending})
	reg(linux.SysKill, syscallEntry{fn: sysKill})
	reg(linux.SysTkill, syscallEntry{fn: sysTkill})
	reg(linux.SysTgkill, syscallEntry{fn: sysTgkill})
	reg(linux.SysRtSigprocmask, syscallEntry{fn: sysRtSigprocmask})
	reg(linux.SysRtSigtimedwait, syscallEntry{fn: sysRtSigtimedwait})
	reg(linux.SysRtSigqueueinfo, syscallEntry{fn: sysRtSigqueueinfo})
	reg(linux.SysRtTgsigqueueinfo, syscallEntry{fn: sysRtTgsigqueueinfo})
}

// sigaction is struct sigaction as the arm64 kernel stores it.
type sigaction struct {
	handler, flags, restorer, mask uint64
}

const sigsetSize = 8

// RtSigaction implements rt_sigaction(2).
func sysRtSigaction(t *Task, a *args) (uint64, error) {
	sig := a.int32(0)
	if sig < 1 || sig > 64 || a[3] != sigsetSize {
		return 0, linux.EINVAL
	}
	var nb [32]byte
	if a[1] != 0 {
		if sig == int(linux.SIGKILL) || sig == int(linux.SIGSTOP) {
			return 0, linux.EINVAL
		}
		if err := t.copyIn(a[1], nb[:]); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		old := t.sigacts[sig]
		var ob [32]byte
		put64(ob[0:], old.handler)
		put64(ob[8:], old.flags)
		put64(ob[16:], old.restorer)
		put64(ob[24:], old.mask)
		if err := t.copyOut(a[2], ob[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		t.sigacts[sig] = sigaction{le64(nb[0:]), le64(nb[8:]), le64(nb[16:]), le64(nb[24:])}
		// Setting SIG_IGN (or SIG_DFL for an ignored-by-default signal)
		// discards a pending instance.
		if t.ignored(linux.Signal(sig)) {
			t.Process.sigPending.discard(linux.Signal(sig))
			for _, o := range t.tasks {
				o.sigPending.discard(linux.Signal(sig))
			}
		}
	}
	return 0, nil
}

// RtSigprocmask implements rt_sigprocmask(2).
func sysRtSigprocmask(t *Task, a *args) (uint64, error) {
	if a[3] != sigsetSize {
		return 0, linux.EINVAL
	}
	how := a.int32(0)
	var set uint64
	if a[1] != 0 {
		var b [8]byte
		if err := t.copyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		set = le64(b[:])
	}
	if a[2] != 0 {
		var b [8]byte
		put64(b[:], t.sigMask)
		if err := t.copyOut(a[2], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] == 0 {
		return 0, nil
	}
	switch how {
	case 0: // SIG_BLOCK
		t.sigMask |= set
	case 1: // SIG_UNBLOCK
		t.sigMask &^= set
	case 2: // SIG_SETMASK
		t.sigMask = set
	default:
		return 0, linux.EINVAL
	}
	t.sigMask &^= unblockable
	if t.hasPending() {
		t.stop = true // a signal just unblocked is delivered now
	}
	return 0, nil
}

// RtSigreturn implements rt_sigreturn(2).
func sysRtSigreturn(t *Task, _ *args) (uint64, error) { return t.sigreturn() }

// RtSigsuspend implements rt_sigsuspend(2): the mask is replaced until a
// handler runs (its frame saves the old mask) and the call fails with
// EINTR.
func sysRtSigsuspend(t *Task, a *args) (uint64, error) {
	if a[1] != sigsetSize {
		return 0, linux.EINVAL
	}
	var b [8]byte
	if err := t.copyIn(a[0], b[:]); err != nil {
		return 0, err
	}
	if !t.suspended {
		t.savedMask, t.suspended = t.sigMask, true
	}
	t.sigMask = le64(b[:]) &^ unblockable
	err := t.block(0)
	if t.hasPending() {
		t.wake()
	}
	return 0, err
}

// RtSigpending implements rt_sigpending(2).
func sysRtSigpending(t *Task, a *args) (uint64, error) {
	if a[1] != sigsetSize {
		return 0, linux.EINVAL
	}
	var b [8]byte
	put64(b[:], (t.sigPending.mask|t.Process.sigPending.mask)&t.sigMask)
	return 0, t.copyOut(a[0], b[:])
}

// Sigaltstack implements sigaltstack(2).
func sysSigaltstack(t *Task, a *args) (uint64, error) {
	sp, _ := t.m.cpu.Reg(cpu.SP)
	on := t.altStack.flags&ssDisable == 0 && t.altStack.size != 0 &&
		sp > t.altStack.sp && sp <= t.altStack.sp+t.altStack.size
	if a[1] != 0 {
		var b [24]byte
		put64(b[0:], t.altStack.sp)
		flags := t.altStack.flags & ssDisable
		if t.altStack.size == 0 {
			flags = ssDisable
		}
		if on {
			flags |= ssOnStack
		}
		put32(b[8:], uint32(flags))
		put64(b[16:], t.altStack.size)
		if err := t.copyOut(a[1], b[:]); err != nil {
			return 0, err
		}
	}
	if a[0] != 0 {
		var b [24]byte
		if err := t.copyIn(a[0], b[:]); err != nil {
			return 0, err
		}
		if on {
			return 0, linux.EPERM
		}
		ss := sigStack{sp: le64(b[0:]), flags: int32(leU32(b[8:])), size: le64(b[16:])}
		switch {
		case uint32(ss.flags)&^(ssDisable|1<<31) != 0: // SS_AUTODISARM is accepted
			return 0, linux.EINVAL
		case ss.flags&ssDisable != 0:
			ss = sigStack{flags: ssDisable}
		case ss.size < minSigStk:
			return 0, linux.ENOMEM
		}
		t.altStack = ss
	}
	return 0, nil
}

// signalArg validates a signal number argument (0 checks existence).
func signalArg(sig int) (linux.Signal, error) {
	if sig < 0 || sig > int(linux.SIGRTMAX) {
		return 0, linux.EINVAL
	}
	return linux.Signal(sig), nil
}

// Kill implements kill(2).
func sysKill(t *Task, a *args) (uint64, error) {
	pid := a.int32(0)
	sig, err := signalArg(a.int32(1))
	if err != nil {
		return 0, err
	}
	info := siginfo{code: siUser, pid: int32(t.PID)}
	var targets []*Process
	switch {
	case pid > 0:
		if q := t.m.lookup(pid); q != nil {
			targets = append(targets, q)
		}
	default:
		pgid := -pid
		if pid == 0 {
			pgid = t.pgid
		}
		for _, q := range t.m.liveProcs() {
			if pid == -1 && q != t.Process || pid != -1 && q.pgid == pgid {
				targets = append(targets, q)
			}
		}
	}
	if len(targets) == 0 {
		return 0, linux.ESRCH
	}
	allowed := 0
	for _, q := range targets {
		if !t.maySignal(q, sig) {
			continue // sys_cred.go
		}
		allowed++
		if sig != 0 && q != t.m.init { // init has no handlers: it takes no signal
			q.sendSignal(sig, info)
		}
	}
	if allowed == 0 {
		return 0, linux.EPERM
	}
	return 0, nil
}

// Tkill implements tkill(2).
func sysTkill(t *Task, a *args) (uint64, error) {
	tid := a.int32(0)
	if tid <= 0 {
		return 0, linux.EINVAL
	}
	return t.signalThread(0, tid, a.int32(1))
}

// Tgkill implements tgkill(2).
func sysTgkill(t *Task, a *args) (uint64, error) {
	tgid, tid := a.int32(0), a.int32(1)
	if tgid <= 0 || tid <= 0 {
		return 0, linux.EINVAL
	}
	return t.signalThread(tgid, tid, a.int32(2))
}

// signalThread sends a thread-directed signal to tid (of thread group
// tgid, unless 0).
func (t *Task) signalThread(tgid, tid, s int) (uint64, error) {
	sig, err := signalArg(s)
	if err != nil {
		return 0, err
	}
	target := t.m.lookupTask(tid)
	if target == nil || tgid != 0 && target.PID != tgid || target.state == taskDead {
		return 0, linux.ESRCH
	}
	if !t.maySignal(target.Process, sig) {
		return 0, linux.EPERM
	}
	if sig != 0 {
		target.sendSignal(sig, siginfo{code: siTkill, pid: int32(t.PID)})
	}
	return 0, nil
}

// RtSigqueueinfo implements rt_sigqueueinfo(2): a process-directed signal
// with the caller's siginfo.
func sysRtSigqueueinfo(t *Task, a *args) (uint64, error) {
	return t.sigqueue(a.int32(0), 0, a.int32(1), a[2])
}

// RtTgsigqueueinfo implements rt_tgsigqueueinfo(2): the same, directed at
// one thread.
func sysRtTgsigqueueinfo(t *Task, a *args) (uint64, error) {
	return t.sigqueue(a.int32(0), a.int32(1), a.int32(2), a[3])
}

// sigqueue sends signal s with the siginfo at infoAddr (whose si_code
// must be negative, as for an unprivileged sender) to thread group tgid,
// or to its thread tid.
func (t *Task) sigqueue(tgid, tid, s int, infoAddr uint64) (uint64, error) {
	sig, err := signalArg(s)
	if err != nil {
		return 0, err
	}
	var b [128]byte
	if err := t.copyIn(infoAddr, b[:]); err != nil {
		return 0, err
	}
	info := siginfo{code: int32(leU32(b[8:])), pid: int32(leU32(b[16:])), uid: int32(leU32(b[20:])), value: le64(b[24:])}
	if info.code >= 0 || info.code == siTkill {
		return 0, linux.EPERM
	}
	if tid != 0 {
		target := t.m.lookupTask(tid)
		if target == nil || target.PID != tgid || tid <= 0 {
			return 0, linux.ESRCH
		}
		if !t.maySignal(target.Process, sig) {
			return 0, linux.EPERM
		}
		if sig != 0 {
			target.sendSignal(sig, info)
		}
		return 0, nil
	}
	q := t.m.lookup(tgid)
	if q == nil || q == t.m.init || tgid <= 0 {
		return 0, linux.ESRCH
	}
	if !t.maySignal(q, sig) {
		return 0, linux.EPERM
	}
	if sig != 0 {
		q.sendSignal(sig, info)
	}
	return 0, nil
}

// RtSigtimedwait implements rt_sigtimedwait(2): it takes one of the
// signals of set that is pending, or waits for one (they are normally
// blocked), until the timeout.
func sysRtSigtimedwait(t *Task, a *args) (uint64, error) {
	if a[3] != sigsetSize {
		return 0, linux.EINVAL
	}
	var b [8]byte
	if err := t.copyIn(a[0], b[:]); err != nil {
		return 0, err
	}
	set := le64(b[:]) &^ unblockable
	var wakeAt uint64
	if a[2] != 0 {
		d, err := t.readTimespec(a[2])
		if err != nil {
			return 0, err
		}
		wakeAt = t.timeout(d)
	}
	pending := (t.sigPending.mask | t.Process.sigPending.mask) & set
	if pending != 0 {
		t.deadline = 0
		sig := linux.Signal(bits.TrailingZeros64(pending) + 1)
		var info siginfo
		if t.sigPending.mask&sigBit(sig) != 0 {
			info = t.sigPending.take(sig)
		} else {
			info = t.Process.sigPending.take(sig)
		}
		if a[1] != 0 {
			var ib [128]byte
			info.signo = sig
			info.marshal(ib[:])
			if err := t.copyOut(a[1], ib[:]); err != nil {
				return 0, err
			}
		}
		return uint64(sig), nil
	}
	if a[2] != 0 && t.expired() {
		return 0, linux.EAGAIN
	}
	// A signal of the set wakes the thread (though it is blocked) and the
	// restarted call takes it.
	t.waitSet = set
	err := t.block(wakeAt)
	if t.hasPending() {
		t.wake() // an unblocked signal interrupts the wait (EINTR)
	}
	return 0, err
}
