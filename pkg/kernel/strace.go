package kernel

import (
	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/strace"
)

// This file connects the machine to package strace, which decodes every
// system call by number (Config.Strace, Config.StraceOptions).
//
// The hooks, and where the kernel calls them:
//
//   - straceEnter before a handler runs and straceLeave after it returns
//     (syscall, syscalls.go);
//   - straceInterrupted when a signal handler interrupts a blocked call
//     (setupFrame with t.rewound), before straceSignal;
//   - straceSignal when a signal is delivered to a task, or discarded
//     because the task ignores it (strace shows both);
//   - straceExit when a task has ended (exit, exit_group, or a signal).

// straceWriter returns the machine's strace writer, made on first use.
func (m *Machine) straceWriter() *strace.Tracer {
	if m.straceTracer == nil {
		m.straceTracer = strace.New(m.cfg.Strace, m.cfg.StraceOptions)
	}
	return m.straceTracer
}

// taskMem reads a task's memory for the decoder.
type taskMem struct{ t *Task }

func (tm taskMem) ReadMem(addr uint64, b []byte) error {
	if tm.t.as == nil {
		return linux.EFAULT
	}
	return tm.t.copyIn(addr, b)
}

// taskMemSP also gives the stack pointer at entry (rt_sigreturn's frame).
type taskMemSP struct{ taskMem }

func (tm taskMemSP) SP() uint64 {
	if tm.t.m.cpuTask != tm.t {
		return tm.t.ctx.Reg(cpu.SP)
	}
	sp, err := tm.t.m.cpu.Reg(cpu.SP)
	if err != nil {
		return 0
	}
	return sp
}

// straceEnter decodes the arguments of system call nr before its handler
// runs (so execve's are read before the new image replaces them). The
// result goes to straceLeave; a call that blocks and is restarted is
// entered again and the old result dropped.
func (m *Machine) straceEnter(t *Task, nr uint64, a *args) *strace.Call {
	return m.straceWriter().Enter(t.TID, taskMemSP{taskMem{t}}, nr, *a)
}

// straceLeave prints the line of a call that returned ret or err.
func (m *Machine) straceLeave(t *Task, c *strace.Call, ret uint64, err error) {
	if t.dying {
		c.Unfinished()
		return
	}
	if err != nil {
		ret = uint64(-int64(linux.ErrnoFromError(err)))
	}
	c.Exit(taskMem{t}, ret)
}

// straceInterrupted prints the line of system call nr that t was blocked
// in when a signal interrupted it: "read(0, 0x..., 16) = ? ERESTARTSYS
// (To be restarted if SA_RESTART is set)". It prints only a call entered
// with straceEnter and not yet left.
func (m *Machine) straceInterrupted(t *Task, nr uint64) {
	if m.cfg.Strace != nil {
		m.straceWriter().Interrupted(t.TID, strace.RestartOf(nr))
	}
}

// straceSignal prints "--- SIG {siginfo} ---" for a signal delivered to
// t (or discarded because t ignores it). A blocked call it interrupts is
// printed first.
func (m *Machine) straceSignal(t *Task, sig linux.Signal, i siginfo) {
	if m.cfg.Strace == nil {
		return
	}
	if t.rewound {
		if nr, err := m.cpu.Reg(cpu.X8); err == nil {
			m.straceInterrupted(t, nr)
		}
	}
	m.straceWriter().Signal(t.TID, strace.Siginfo{Signo: int32(sig), Errno: i.errno, Code: i.code, Pid: i.pid,
		Uid: uint32(i.uid), Status: i.status, Utime: i.utime, Stime: i.stime, Addr: i.addr, Value: i.value,
		TimerID: i.tid, Overrun: i.overrun})
}

// straceExit prints "+++ exited with N +++" or "+++ killed by SIG +++"
// for a task that has ended with status s.
func (m *Machine) straceExit(t *Task, s ExitStatus) {
	if m.cfg.Strace == nil {
		return
	}
	if s.Signal != 0 {
		m.straceWriter().Killed(t.TID, s.Signal, false)
		return
	}
	m.straceWriter().Exited(t.TID, s.Code)
}
