package kernel

import (
	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerProcessSyscalls(reg registerFn) {
	reg(linux.SysExit, syscallEntry{fn: sysExit, support: Partial, note: "ends the process (one thread per process)", args: []argKind{argInt}})
	reg(linux.SysExitGroup, syscallEntry{fn: sysExit, args: []argKind{argInt}})
	for _, nr := range []uint64{linux.SysGetpid, linux.SysGettid} {
		reg(nr, syscallEntry{fn: sysGetpid})
	}
	reg(linux.SysGetppid, syscallEntry{fn: sysGetppid})
	for _, nr := range []uint64{linux.SysGetuid, linux.SysGeteuid, linux.SysGetgid, linux.SysGetegid} {
		reg(nr, syscallEntry{fn: sysGetuid})
	}
	reg(linux.SysSetTidAddress, syscallEntry{fn: sysSetTidAddress, args: []argKind{argHex}})
	reg(linux.SysSetRobustList, syscallEntry{fn: sysSetRobustList, args: []argKind{argHex, argUint}})
	reg(linux.SysRseq, syscallEntry{fn: sysNoSys, support: NoSys, note: "glibc runs without restartable sequences",
		args: []argKind{argHex, argUint, argInt, argHex}})
	reg(linux.SysPrlimit64, syscallEntry{fn: sysPrlimit64, support: Partial, note: "limits are reported; setting them is accepted for the calling process",
		args: []argKind{argInt, argInt, argHex, argHex}})
	reg(linux.SysUname, syscallEntry{fn: sysUname, args: []argKind{argHex}})
	reg(linux.SysGetrandom, syscallEntry{fn: sysGetrandom, args: []argKind{argHex, argUint, argHex}})
	reg(linux.SysUmask, syscallEntry{fn: sysUmask, args: []argKind{argOct}})
	reg(linux.SysSchedYield, syscallEntry{fn: sysSchedYield})
	reg(linux.SysSchedGetaffinity, syscallEntry{fn: sysSchedGetaffinity, args: []argKind{argInt, argUint, argHex}})
}

func sysNoSys(*Task, *args) (uint64, error) { return 0, linux.ENOSYS }

// Exit implements exit(2) and exit_group(2).
func sysExit(t *Task, a *args) (uint64, error) {
	t.exit(ExitStatus{Code: int(a[0] & 0xff)})
	return 0, nil
}

// Getpid implements getpid(2) and gettid(2).
func sysGetpid(t *Task, _ *args) (uint64, error) { return uint64(t.PID), nil }

// Getppid implements getppid(2).
func sysGetppid(t *Task, _ *args) (uint64, error) { return uint64(t.PPID), nil }

// Getuid implements getuid(2), geteuid(2), getgid(2) and getegid(2): guests
// run as root.
func sysGetuid(*Task, *args) (uint64, error) { return 0, nil }

// SetTidAddress implements set_tid_address(2).
func sysSetTidAddress(t *Task, a *args) (uint64, error) {
	t.tidAddr = a[0]
	return uint64(t.TID), nil
}

// SetRobustList implements set_robust_list(2).
func sysSetRobustList(t *Task, a *args) (uint64, error) {
	if a[1] != 24 { // sizeof(struct robust_list_head)
		return 0, linux.EINVAL
	}
	t.robustList = a[0]
	return 0, nil
}

// rlimits are the resource limits every process starts with.
func defaultRlimits() [16][2]uint64 {
	const inf = ^uint64(0)
	var r [16][2]uint64
	for i := range r {
		r[i] = [2]uint64{inf, inf}
	}
	r[linux.RLIMIT_STACK] = [2]uint64{stackSize, inf}
	r[linux.RLIMIT_NOFILE] = [2]uint64{maxFDs, maxFDs}
	r[linux.RLIMIT_CORE] = [2]uint64{0, inf}
	r[linux.RLIMIT_NPROC] = [2]uint64{maxProcs, maxProcs}
	r[linux.RLIMIT_MEMLOCK] = [2]uint64{8 << 20, 8 << 20}
	r[linux.RLIMIT_SIGPENDING] = [2]uint64{1024, 1024}
	r[linux.RLIMIT_MSGQUEUE] = [2]uint64{819200, 819200}
	r[linux.RLIMIT_NICE] = [2]uint64{0, 0}
	r[linux.RLIMIT_RTPRIO] = [2]uint64{0, 0}
	return r
}

// maxProcs is RLIMIT_NPROC.
const maxProcs = 256

// Prlimit64 implements prlimit64(2) for the calling process.
func sysPrlimit64(t *Task, a *args) (uint64, error) {
	pid, res := a.int32(0), a.int32(1)
	if pid != 0 && pid != t.PID {
		return 0, linux.ESRCH
	}
	if res < 0 || res >= len(t.rlimits) {
		return 0, linux.EINVAL
	}
	var nl [16]byte
	if a[2] != 0 {
		if err := t.copyIn(a[2], nl[:]); err != nil {
			return 0, err
		}
		if le64(nl[0:]) > le64(nl[8:]) {
			return 0, linux.EINVAL
		}
	}
	if a[3] != 0 {
		var old [16]byte
		put64(old[0:], t.rlimits[res][0])
		put64(old[8:], t.rlimits[res][1])
		if err := t.copyOut(a[3], old[:]); err != nil {
			return 0, err
		}
	}
	if a[2] != 0 {
		t.rlimits[res] = [2]uint64{le64(nl[0:]), le64(nl[8:])}
	}
	return 0, nil
}

// Uname implements uname(2).
func sysUname(t *Task, a *args) (uint64, error) {
	u := linux.NewUtsname("Linux", t.m.Hostname(), "6.1.0-sis", "#1 SMP SIS Kernel", "aarch64", "(none)")
	b, _ := u.MarshalBinary()
	return 0, t.copyOut(a[0], b)
}

// Getrandom implements getrandom(2) from the machine's seeded generator.
func sysGetrandom(t *Task, a *args) (uint64, error) {
	if a[2]&^uint64(linux.GRND_NONBLOCK|linux.GRND_RANDOM|linux.GRND_INSECURE) != 0 {
		return 0, linux.EINVAL
	}
	n := a[1]
	if n > 1<<25 {
		n = 1 << 25
	}
	buf := ioBuf(n)
	n = uint64(len(buf))
	t.m.randomBytes(buf)
	return n, t.copyOut(a[0], buf)
}

// Umask implements umask(2).
func sysUmask(t *Task, a *args) (uint64, error) {
	old := t.umask
	t.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}

// SchedYield implements sched_yield(2).
func sysSchedYield(*Task, *args) (uint64, error) { return 0, nil }

// SchedGetaffinity implements sched_getaffinity(2): one CPU.
func sysSchedGetaffinity(t *Task, a *args) (uint64, error) {
	if a[1] < 8 || a[1]%8 != 0 {
		return 0, linux.EINVAL
	}
	mask := make([]byte, 8)
	mask[0] = 1
	return 8, t.copyOut(a[2], mask)
}
