package kernel

import (
	"encoding/binary"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Event hooks: a layer built on the kernel (the SIS layer, an embedding
// test harness) learns of process starts and exits, system calls and
// file opens as they happen, as Go calls rather than text to scrape.
// Hooks run on the machine's goroutine while the event's thread is
// stopped: they must not block, and may use the machine as a machine
// timer may (Processes, Scheduler, AtTime, ...). Register them while no
// guest runs; they stay for the machine's life.

// SyscallEvent is one finished system call.
type SyscallEvent struct {
	PID, TID int
	Nr       uint64
	Name     string
	// Ret is the value the guest got in x0 (a negative errno on failure).
	Ret uint64
}

// FileEvent is a file a guest opened (openat, openat2).
type FileEvent struct {
	PID, FD int
	// Path is the path the guest gave (as given: relative paths are
	// relative to the directory it named).
	Path  string
	Flags int
}

// OnProcessStart calls f with the pid of every process created from now
// on (Spawn, fork, clone of a new thread group), before it first runs.
func (m *Machine) OnProcessStart(f func(pid int)) {
	m.introspect.onStart = append(m.introspect.onStart, f)
}

// OnProcessExit calls f when a process has exited (all its threads are
// gone), with its exit status, before its parent is told.
func (m *Machine) OnProcessExit(f func(pid int, status ExitStatus)) {
	m.introspect.onExit = append(m.introspect.onExit, f)
}

// OnSyscall calls f after every system call that returns to its guest
// (a call that blocks is reported when it finally returns).
func (m *Machine) OnSyscall(f func(SyscallEvent)) {
	m.introspect.onSyscall = append(m.introspect.onSyscall, f)
}

// OnFileOpen calls f for every file a guest opens successfully.
func (m *Machine) OnFileOpen(f func(FileEvent)) {
	m.introspect.onOpen = append(m.introspect.onOpen, f)
}

// processStarted calls the process-start hooks for p.
func (m *Machine) processStarted(p *Process) {
	for _, f := range m.introspect.onStart {
		f(p.PID)
	}
}

// syscallDone calls the syscall and file hooks for the call nr of t that
// returned ret to the guest, with its arguments a.
func (m *Machine) syscallDone(t *Task, nr uint64, a *args, ret uint64) {
	in := &m.introspect
	if len(in.onSyscall) > 0 {
		ev := SyscallEvent{PID: t.PID, TID: t.TID, Nr: nr, Name: syscallName(nr), Ret: ret}
		for _, f := range in.onSyscall {
			f(ev)
		}
	}
	if len(in.onOpen) > 0 && (nr == linux.SysOpenat || nr == linux.SysOpenat2) && int64(ret) >= 0 {
		p, err := t.readPath(a[1])
		if err != nil {
			return
		}
		flags := int(a.int32(2))
		if nr == linux.SysOpenat2 {
			var how [8]byte // struct open_how starts with the u64 flags
			if t.copyIn(a[2], how[:]) != nil {
				return
			}
			flags = int(int32(binary.LittleEndian.Uint32(how[:4])))
		}
		ev := FileEvent{PID: t.PID, FD: int(ret), Path: p, Flags: flags}
		for _, f := range in.onOpen {
			f(ev)
		}
	}
}

// hooked reports whether any syscall or file hook is set.
func (m *Machine) hooked() bool {
	return len(m.introspect.onSyscall) > 0 || len(m.introspect.onOpen) > 0
}
