package kernel

import "github.com/sis-kernel/sissim/pkg/linux"

// Attributes of processes and threads kept by the system calls of
// credentials, terminals, priorities, timers and blocking opens
// (sys_cred.go, sys_sched.go, sys_timer.go, sys_fifo.go); Process and
// Task embed them.

// procAttrs are per-process attributes.
type procAttrs struct {
	cred cred
	// ctty: the console is the process's controlling terminal. A program
	// the machine starts has it when the console is a terminal; children
	// inherit it, setsid(2) drops it, TIOCSCTTY takes it.
	ctty bool
	// personality is personality(2)'s persona; membarrier the
	// membarrier(2) registrations (sys_sched.go).
	personality uint32
	membarrier  int
	// pdeathsig is PR_SET_PDEATHSIG's signal, sent when the parent exits.
	pdeathsig linux.Signal
	// timerSlack is PR_SET_TIMERSLACK's value in ns (0: the default).
	timerSlack uint64
	// timers are the interval and POSIX timers (sys_timer.go).
	timers *procTimers
	// root is the canonical path of the root directory (chroot); "" is
	// the machine's root (sys_fs.go).
	root string
}

// spawnAttrs are the attributes of a program the machine starts (Spawn).
func (m *Machine) spawnAttrs() procAttrs {
	return procAttrs{cred: rootCred(), ctty: m.cfg.ConsoleIsTerminal}
}

// fork returns the attributes of a child process (fork, clone without
// CLONE_THREAD).
func (a procAttrs) fork() procAttrs {
	a.pdeathsig, a.timers = 0, nil
	return a
}

// taskAttrs are per-thread attributes.
type taskAttrs struct {
	// fifoWait is the FIFO open the thread waits in; blockUndo undoes it
	// when the call is abandoned (sys_fifo.go).
	fifoWait  *fifoWait
	blockUndo func()
	// sched are the thread's priorities and policy (sys_sched.go).
	sched schedAttrs
}

// clone returns the attributes of a new thread or of a child's thread.
func (a taskAttrs) clone() taskAttrs {
	return taskAttrs{sched: a.sched.forked()}
}

// execAttrs applies what execve changes in the attributes of a process
// that runs the new image img.
func (p *Process) execAttrs(img *image) {
	p.cred = img.cred
	p.deleteTimers(false)
	if img.secure {
		p.pdeathsig = 0
		p.personality &^= perClearSetid
	}
}

// reparented is called for each child c of an exiting process, before it
// goes to its new parent: PR_SET_PDEATHSIG's signal.
func (m *Machine) reparented(c, parent *Process) {
	if c.pdeathsig != 0 && !c.zombie {
		c.sendSignal(c.pdeathsig, siginfo{code: siUser, pid: int32(parent.PID), uid: int32(parent.cred.ruid)})
	}
}
