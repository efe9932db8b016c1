package kernel

import (
	"fmt"
	"runtime/debug"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/strace"
)

// Support says how completely a system call is implemented.
type Support int

const (
	// Full: behaves as Linux for every argument Linux accepts.
	Full Support = iota
	// Partial: the common cases work; the note says what does not.
	Partial
	// NoSys: deliberately returns ENOSYS; the guests we run cope with it
	// (glibc falls back), so no warning is logged.
	NoSys
	// Denied: deliberately refused with EPERM, as a container's seccomp
	// policy refuses it; programs report the error.
	Denied
)

func (s Support) String() string {
	return [...]string{"full", "partial", "enosys", "eperm"}[s]
}

// args are the six raw system call arguments (x0..x5).
type args [6]uint64

func (a *args) int(i int) int64  { return int64(a[i]) }
func (a *args) int32(i int) int  { return int(int32(a[i])) }
func (a *args) uint32(i int) int { return int(uint32(a[i])) }

// syscallFn implements one system call. It returns the result or an error;
// a linux.Errno is returned to the guest as -errno, any other error is a
// kernel failure (logged, EIO to the guest).
type syscallFn func(t *Task, a *args) (uint64, error)

type syscallEntry struct {
	name    string
	fn      syscallFn
	support Support
	note    string
}

// maxSyscall bounds the AArch64 syscall numbers the table covers.
const maxSyscall = 512

// syscallTable maps syscall numbers to their implementation.
type syscallTable [maxSyscall]*syscallEntry

// SyscallInfo describes one implemented system call, for documentation.
type SyscallInfo struct {
	Nr      int
	Name    string
	Support Support
	Note    string
}

// Syscalls lists the implemented system calls in number order.
func Syscalls() []SyscallInfo {
	var out []SyscallInfo
	for nr, e := range newSyscallTable() {
		if e != nil {
			out = append(out, SyscallInfo{Nr: nr, Name: e.name, Support: e.support, Note: e.note})
		}
	}
	return out
}

// syscallName names nr for logs and metrics.
func syscallName(nr uint64) string {
	if n := linux.SyscallName(nr); n != "" {
		return n
	}
	return fmt.Sprintf("syscall_%d", nr)
}

// newSyscallTable builds the table from the per-area registrations
// (sys_*.go).
func newSyscallTable() *syscallTable {
	t := &syscallTable{}
	reg := func(nr uint64, e syscallEntry) {
		if e.name == "" {
			e.name = linux.SyscallName(nr)
		}
		t[nr] = &e
	}
	registerFileSyscalls(reg)
	registerMemSyscalls(reg)
	registerTimeSyscalls(reg)
	registerProcessSyscalls(reg)
	registerSignalSyscalls(reg)
	registerFutexSyscalls(reg)
	registerEpollSyscalls(reg)
	registerEventSyscalls(reg)
	registerCredSyscalls(reg)
	registerSchedSyscalls(reg)
	registerTimerSyscalls(reg)
	registerXattrSyscalls(reg)
	registerFileExtSyscalls(reg)
	registerSocketSyscalls(reg) // sys_socket.go
	registerSpliceSyscalls(reg)
	registerPidfdSyscalls(reg)
	return t
}

type registerFn func(nr uint64, e syscallEntry)

// syscall is the CPU's SVC handler: it dispatches one system call of the
// thread on the CPU.
func (m *Machine) syscall(nr uint64, raw *[6]uint64) (uint64, cpu.SyscallAction) {
	t := m.cur
	if t == nil {
		return 0, cpu.Stop
	}
	d := m.debugActive()
	if d != nil && d.syscallEntry(t, nr) {
		return 0, cpu.Stop // the call runs once the stop is reported (finishDeferred)
	}
	a := (*args)(raw)
	var e *syscallEntry
	if nr < maxSyscall {
		e = m.syscalls[nr]
		m.countSyscall(nr)
	}
	var sc *strace.Call
	if m.cfg.Strace != nil {
		sc = m.straceEnter(t, nr, a)
	}
	var start uint64
	tr := m.introspect.trace
	if tr != nil {
		start = m.clock.Now()
	}
	var ret uint64
	var err error
	if e == nil {
		m.unimplemented(nr)
		err = linux.ENOSYS
	} else {
		ret, err = t.call(e, a)
	}
	if sc != nil && !t.restart {
		m.straceLeave(t, sc, ret, err)
	}
	if err != nil {
		ret = uint64(-int64(toErrno(m, e, err)))
	}
	if tr != nil {
		tr.syscall(t, nr, start, ret)
	}
	if !t.restart && m.hooked() {
		m.syscallDone(t, nr, a, ret)
	}
	if !t.restart {
		t.waitSet, t.partial = 0, 0
	}
	act := cpu.SetX0
	if t.restart {
		act = 0 // blocked: the svc runs again with its arguments (sched.go)
	}
	if !t.restart {
		if d != nil && d.syscallReturn(t, nr) {
			act |= cpu.Stop
		}
		t.sysEntry = false
	}
	if t.stop || t.dying {
		act |= cpu.Stop
	}
	return ret, act
}

// call runs a handler, turning a panic (a kernel bug) into EIO so that no
// guest can crash the host.
func (t *Task) call(e *syscallEntry, a *args) (ret uint64, err error) {
	defer func() {
		if r := recover(); r != nil {
			t.m.kernelError(fmt.Errorf("panic in %s: %v\n%s", e.name, r, debug.Stack()))
			ret, err = 0, linux.EIO
		}
	}()
	return e.fn(t, a)
}

// toErrno maps a handler error to the errno the guest sees.
func toErrno(m *Machine, e *syscallEntry, err error) linux.Errno {
	if errno, ok := err.(linux.Errno); ok {
		return errno
	}
	errno := linux.ErrnoFromError(err)
	if errno == linux.EIO {
		name := "?"
		if e != nil {
			name = e.name
		}
		m.kernelError(fmt.Errorf("%s: %w", name, err))
	}
	return errno
}

func (m *Machine) countSyscall(nr uint64) {
	m.counts[nr].Add(1)
}

// unimplemented logs the first call of an unknown syscall number.
func (m *Machine) unimplemented(nr uint64) {
	m.mu.Lock()
	m.unknown[nr]++
	first := m.unknown[nr] == 1
	m.mu.Unlock()
	if first {
		m.log.Sugar().Warnf("Unimplemented syscall: %d (%s)", nr, syscallName(nr))
	}
}

// kernelError records a failure of the kernel itself.
func (m *Machine) kernelError(err error) {
	m.mu.Lock()
	m.kernelErrors++
	m.mu.Unlock()
	m.log.Sugar().Errorf("kernel error: %v", err)
}
