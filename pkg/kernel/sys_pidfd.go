package kernel

import (
	"io/fs"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Process file descriptors (pidfds): a descriptor that names a process,
// readable (poll) once it has exited, through which it can be signalled
// and waited for (waitid P_PIDFD) without the races of reused pids. Go's
// os/exec uses them when the kernel has them.

func registerPidfdSyscalls(reg registerFn) {
	reg(linux.SysPidfdOpen, syscallEntry{fn: sysPidfdOpen})
	reg(linux.SysPidfdSendSignal, syscallEntry{fn: sysPidfdSendSignal, support: Partial, note: "a pidfd or an open /proc/<pid> directory; the siginfo argument must be NULL or name the same signal; its other fields are not delivered"})
}

// pidfd is the file behind a process file descriptor.
type pidfd struct {
	nonblocker
	p *Process
}

// pidfdNonblock is PIDFD_NONBLOCK (O_NONBLOCK).
const pidfdNonblock = linux.O_NONBLOCK

// PidfdOpen implements pidfd_open(2).
func sysPidfdOpen(t *Task, a *args) (uint64, error) {
	flags := a.int32(1)
	if flags&^pidfdNonblock != 0 {
		return 0, linux.EINVAL
	}
	pid := a.int32(0)
	if pid <= 0 {
		return 0, linux.EINVAL
	}
	p := t.m.lookup(pid)
	if p == nil || p == t.m.init {
		return 0, linux.ESRCH
	}
	return t.newPidfd(p, flags)
}

// newPidfd installs a close-on-exec pidfd for p.
func (t *Task) newPidfd(p *Process, flags int) (uint64, error) {
	f := &pidfd{p: p}
	return t.installNew(f, &f.nonblocker, linux.O_RDWR, flags|linux.O_CLOEXEC)
}

// pidfdOf returns the process of pidfd fd.
func (t *Task) pidfdOf(fd int) (*Process, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return nil, err
	}
	f, ok := of.f.(*pidfd)
	if !ok {
		return nil, linux.EBADF
	}
	return f.p, nil
}

// signalTarget returns the process of pidfd_send_signal's descriptor: a
// pidfd or, as on Linux, an open /proc/<pid> directory (psmisc's killall
// signals through those); ESRCH when that process is gone.
func (t *Task) signalTarget(fd int) (*Process, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return nil, err
	}
	if vf, ok := of.f.(*vfs.File); ok {
		d, ok := vf.Handle().(interface{ ProcessDir() (int, bool) })
		if !ok {
			return nil, linux.EBADF
		}
		id, ok := d.ProcessDir()
		if !ok {
			return nil, linux.EBADF
		}
		task := t.m.tasks[id]
		if task == nil {
			return nil, linux.ESRCH
		}
		return task.Process, nil
	}
	return t.pidfdOf(fd)
}

// PidfdSendSignal implements pidfd_send_signal(2).
func sysPidfdSendSignal(t *Task, a *args) (uint64, error) {
	if a[3] != 0 {
		return 0, linux.EINVAL
	}
	p, err := t.signalTarget(a.int32(0))
	if err != nil {
		return 0, err
	}
	sig := linux.Signal(a.int32(1))
	if sig < 0 || sig > linux.SIGRTMAX {
		return 0, linux.EINVAL
	}
	if a[2] != 0 {
		var si [128]byte
		if err := t.copyIn(a[2], si[:]); err != nil {
			return 0, err
		}
		if linux.Signal(int32(leU32(si[:]))) != sig {
			return 0, linux.EINVAL
		}
	}
	if p.zombie || p.exiting {
		return 0, linux.ESRCH
	}
	if !t.maySignal(p, sig) {
		return 0, linux.EPERM
	}
	if sig != 0 {
		p.sendSignal(sig, siginfo{code: siUser, pid: int32(t.PID), uid: int32(t.cred.ruid)})
	}
	return 0, nil
}

func (f *pidfd) Read([]byte) (int, error)  { return 0, linux.EINVAL }
func (f *pidfd) Write([]byte) (int, error) { return 0, linux.EINVAL }
func (f *pidfd) Close() error              { return nil }

// ProcName is what /proc/<pid>/fd shows.
func (f *pidfd) ProcName() string { return "anon_inode:[pidfd]" }

func (f *pidfd) Stat() (fs.FileInfo, error) { return anonInfo{"[pidfd]"}, nil }

// readiness implements waitable: readable once the process has exited.
func (f *pidfd) readiness() uint32 {
	if f.p.zombie {
		return pollIN
	}
	return 0
}

func (f *pidfd) waitQueue() *waitQueue { return &f.p.exitWq }
