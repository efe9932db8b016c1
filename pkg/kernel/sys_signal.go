package kernel

import (
	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerSignalSyscalls(reg registerFn) {
	reg(linux.SysRtSigaction, syscallEntry{fn: sysRtSigaction, support: Partial,
		note: "handlers need SA_RESTORER (there is no vDSO trampoline); siginfo carries signo and SI_USER",
		args: []argKind{argSig, argHex, argHex, argUint}})
	reg(linux.SysRtSigreturn, syscallEntry{fn: sysRtSigreturn})
	reg(linux.SysRtSigsuspend, syscallEntry{fn: sysRtSigsuspend, args: []argKind{argHex, argUint}})
	reg(linux.SysSigaltstack, syscallEntry{fn: sysSigaltstack, args: []argKind{argHex, argHex}})
	reg(linux.SysRtSigpending, syscallEntry{fn: sysRtSigpending, args: []argKind{argHex, argUint}})
	reg(linux.SysKill, syscallEntry{fn: sysKill, args: []argKind{argInt, argSig}})
	reg(linux.SysTkill, syscallEntry{fn: sysTkill, args: []argKind{argInt, argSig}})
	reg(linux.SysTgkill, syscallEntry{fn: sysTgkill, args: []argKind{argInt, argInt, argSig}})
	reg(linux.SysRtSigprocmask, syscallEntry{fn: sysRtSigprocmask, args: []argKind{argInt, argHex, argHex, argUint}})
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
			t.sigPending &^= sigBit(linux.Signal(sig))
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
	if t.sigPending&^t.sigMask != 0 {
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
	if t.sigPending&^t.sigMask != 0 {
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
	put64(b[:], t.sigPending&t.sigMask)
	return 0, t.copyOut(a[0], b[:])
}

// Sigaltstack implements sigaltstack(2).
func sysSigaltstack(t *Task, a *args) (uint64, error) {
	sp, _ := t.eng.Reg(cpu.SP)
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
			if pid == -1 && q != t.Process && q.PID != 1 || pid != -1 && q.pgid == pgid {
				targets = append(targets, q)
			}
		}
	}
	if len(targets) == 0 {
		return 0, linux.ESRCH
	}
	if sig != 0 {
		for _, q := range targets {
			q.sendSignal(sig)
		}
	}
	return 0, nil
}

// Tkill implements tkill(2): one thread per process, so tid is a pid.
func sysTkill(t *Task, a *args) (uint64, error) {
	tid := a.int32(0)
	if tid <= 0 {
		return 0, linux.EINVAL
	}
	return sysKill(t, &args{uint64(tid), a[1]})
}

// Tgkill implements tgkill(2).
func sysTgkill(t *Task, a *args) (uint64, error) {
	tgid, tid := a.int32(0), a.int32(1)
	if tgid <= 0 || tid <= 0 {
		return 0, linux.EINVAL
	}
	if tgid != tid {
		return 0, linux.ESRCH
	}
	return sysKill(t, &args{uint64(tid), a[2]})
}
