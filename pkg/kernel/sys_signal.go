package kernel

import "github.com/sis-kernel/sissim/pkg/linux"

func registerSignalSyscalls(reg registerFn) {
	reg(linux.SysRtSigaction, syscallEntry{fn: sysRtSigaction, support: Partial,
		note: "actions are recorded; signals are delivered only by their default action",
		args: []argKind{argSig, argHex, argHex, argUint}})
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
	const unblockable = 1<<(linux.SIGKILL-1) | 1<<(linux.SIGSTOP-1)
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
	return 0, nil
}
