// Package strace renders system calls, signals and exits the way strace(1)
// prints them: symbolic flags and constants, decoded structures, quoted and
// truncated strings, and results with errno names and strerror texts.
//
// It decodes AArch64 Linux system calls by number and reads guest memory
// through the Memory interface, so it does not depend on the kernel that
// runs the guest. A Tracer writes the lines; the kernel calls Enter before a
// system call runs, Call.Exit after it returns, Signal when a signal is
// delivered and Exited or Killed when a task ends.
//
// Output follows strace 6 with -f (every process and thread is traced):
// results are aligned to column 40, "[pid N] " prefixes appear while more
// than one task is alive (or every line starts with the pid, as with
// "strace -f -o FILE", when Options.PIDColumn is set), strings show 32
// bytes (-s 32) and structures are abbreviated as without -v.
//
// A system call that blocks is printed once, when it completes, with its
// entry-time arguments: the kernel restarts blocked calls, so there are no
// "<unfinished ...>" / "<... resumed>" pairs, and lines appear in the order
// the calls complete. A call a signal handler interrupts is printed by
// Interrupted ("= ? ERESTARTSYS (To be restarted if SA_RESTART is set)"),
// and a task that ends inside a call by Call.Unfinished, as strace prints
// them: "exit_group(0) = ?", "read(0,  <unfinished ...>) = ?".
package strace

import (
	"fmt"
	"io"
	"strconv"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Memory reads guest memory. ReadMem fills b from guest address addr or
// returns an error (for example for an unmapped address).
type Memory interface {
	ReadMem(addr uint64, b []byte) error
}

// StackPointer is implemented by a Memory that also knows the calling
// task's stack pointer at system call entry; rt_sigreturn uses it to show
// the signal mask the frame restores.
type StackPointer interface {
	SP() uint64
}

// Options configure a Tracer. The zero value prints as "strace -f" does.
type Options struct {
	// StringLimit is how many bytes of a string are shown (-s; 32 when 0).
	StringLimit int
	// Column is the column results are aligned to (-a; 40 when 0).
	Column int
	// PIDColumn starts every line with the task id, as "strace -f -o
	// FILE" writes its file; otherwise "[pid N] " appears only while
	// more than one task is alive, as on strace's standard error.
	PIDColumn bool
	// Filter selects the system calls and signals shown (all when nil).
	Filter *Filter
}

// Tracer writes strace lines for the tasks of one machine. It is not safe
// for concurrent use; the kernel calls it from its scheduler goroutine.
type Tracer struct {
	w       io.Writer
	opt     Options
	live    map[int]bool  // tasks alive (strace's nprocs)
	pending map[int]*Call // each task's call entered but not yet printed
	err     error         // first write error; later lines are dropped
}

// New returns a Tracer writing to w.
func New(w io.Writer, opt Options) *Tracer {
	if opt.StringLimit <= 0 {
		opt.StringLimit = 32
	}
	if opt.Column <= 0 {
		opt.Column = 40
	}
	return &Tracer{w: w, opt: opt, live: map[int]bool{}, pending: map[int]*Call{}}
}

// Err returns the first error writing the output, if any.
func (t *Tracer) Err() error { return t.err }

// Started records that task tid exists (a new process or thread) so that
// pid prefixes appear from its first line on. Tasks are also learnt from
// their first system call and from the results of fork, vfork, clone and
// clone3.
func (t *Tracer) Started(tid int) { t.live[tid] = true }

// Exited prints "+++ exited with CODE +++" for task tid and forgets it.
func (t *Tracer) Exited(tid int, code int) {
	t.end(tid, "+++ exited with "+strconv.Itoa(code&0xff)+" +++")
}

// Killed prints "+++ killed by SIG +++" for task tid (with "(core
// dumped) " when core is set) and forgets it.
func (t *Tracer) Killed(tid int, sig linux.Signal, core bool) {
	if !t.opt.Filter.signal(sig) {
		t.forget(tid)
		return
	}
	s := "+++ killed by " + signalName(sig) + " "
	if core {
		s += "(core dumped) "
	}
	t.end(tid, s+"+++")
}

// Stopped prints "--- stopped by SIG ---" for a task that a stop signal
// stopped.
func (t *Tracer) Stopped(tid int, sig linux.Signal) {
	if !t.opt.Filter.signal(sig) {
		return
	}
	t.line(tid, "--- stopped by "+signalName(sig)+" ---")
}

// Signal prints "--- SIG {siginfo} ---" for a signal delivered to task
// tid. strace shows every signal the task dequeues, including ones the
// task ignores (a traced task gets them from the kernel).
func (t *Tracer) Signal(tid int, info Siginfo) {
	sig := linux.Signal(info.Signo)
	if !t.opt.Filter.signal(sig) {
		return
	}
	t.seen(tid)
	t.line(tid, "--- "+signalName(sig)+" "+info.String()+" ---")
}

func (t *Tracer) end(tid int, s string) {
	t.seen(tid)
	t.line(tid, s)
	t.forget(tid)
}

func (t *Tracer) forget(tid int) {
	delete(t.live, tid)
	delete(t.pending, tid)
}

func (t *Tracer) seen(tid int) { t.live[tid] = true }

// prefix is the line's leader: the pid column or "[pid N] ".
func (t *Tracer) prefix(tid int) string {
	switch {
	case t.opt.PIDColumn:
		return fmt.Sprintf("%-5d ", tid)
	case len(t.live) > 1:
		return fmt.Sprintf("[pid %5d] ", tid)
	}
	return ""
}

func (t *Tracer) line(tid int, s string) {
	t.write(t.prefix(tid) + s + "\n")
}

func (t *Tracer) write(s string) {
	if t.err != nil {
		return
	}
	if _, err := io.WriteString(t.w, s); err != nil {
		t.err = fmt.Errorf("strace output: %w", err)
	}
}

// Enter decodes the arguments that system call nr of task tid reads, before
// the call runs (execve's arguments, say, are gone once it has run). The
// returned Call prints the line when its Exit or Unfinished is called; a
// call that blocks and is restarted is simply entered again, and the
// abandoned Call is dropped.
func (t *Tracer) Enter(tid int, mem Memory, nr uint64, args [6]uint64) *Call {
	t.seen(tid)
	c := &Call{t: t, tid: tid, show: t.opt.Filter.syscall(nr), prefix: t.prefix(tid)}
	c.d = dec{tr: t, mem: mem, nr: nr, a: args, sys: lookup(nr)}
	if mem != nil {
		if sp, ok := mem.(StackPointer); ok {
			c.d.sp = sp.SP()
		}
	}
	if c.show {
		c.d.b.WriteString(c.d.sys.name)
		c.d.b.WriteByte('(')
		c.safe(c.d.enter)
	}
	t.pending[tid] = c
	return c
}

// Restart is how Linux ends a system call that a signal interrupts.
type Restart int

// The kernel's restart codes, as strace prints them.
const (
	// ERESTARTSYS: restarted if the handler has SA_RESTART, else EINTR
	// (read, write, wait4, ...).
	ERESTARTSYS Restart = iota
	// ERESTARTNOINTR: always restarted (fork).
	ERESTARTNOINTR
	// ERESTARTNOHAND: restarted only if no handler ran (pause,
	// rt_sigsuspend, ppoll, pselect6).
	ERESTARTNOHAND
	// ERESTART_RESTARTBLOCK: restarted as restart_syscall with the time
	// left (nanosleep, clock_nanosleep).
	ERESTART_RESTARTBLOCK
)

var restartTexts = [...]string{
	ERESTARTSYS:           "ERESTARTSYS (To be restarted if SA_RESTART is set)",
	ERESTARTNOINTR:        "ERESTARTNOINTR (To be restarted)",
	ERESTARTNOHAND:        "ERESTARTNOHAND (To be restarted if no handler)",
	ERESTART_RESTARTBLOCK: "ERESTART_RESTARTBLOCK (Interrupted by signal)",
}

// RestartOf returns the code Linux returns when a signal interrupts system
// call nr while it blocks.
func RestartOf(nr uint64) Restart {
	switch nr {
	case linux.SysRtSigsuspend, linux.SysPpoll, linux.SysPselect6, linux.SysEpollPwait, linux.SysEpollPwait2:
		return ERESTARTNOHAND
	case linux.SysNanosleep, linux.SysClockNanosleep:
		return ERESTART_RESTARTBLOCK
	case linux.SysClone, linux.SysClone3:
		return ERESTARTNOINTR
	}
	return ERESTARTSYS
}

// Interrupted prints the line of the call task tid was blocked in when a
// signal interrupted it, as strace does before the signal's "---" line:
// "read(0, 0xffffe000, 16) = ? ERESTARTSYS (To be restarted if SA_RESTART
// is set)". It does nothing if the task has no call pending.
func (t *Tracer) Interrupted(tid int, r Restart) {
	c := t.pending[tid]
	if c == nil || c.done {
		return
	}
	c.d.restart = restartTexts[r]
	c.d.errno = linux.EINTR // output arguments print as addresses
	c.finishExit(c.d.mem)
}

// Call is a system call between Enter and Exit.
type Call struct {
	t    *Tracer
	tid  int
	show bool
	// prefix is the line's leader, fixed at entry as strace prints it
	// (a fork's line has no [pid] prefix though the child exists when
	// the line ends).
	prefix string
	done   bool
	d      dec
}

// Exit prints the call's line with its result: ret is the raw value of x0
// after the call, where -4095..-1 are negated errnos. mem reads the memory
// the call filled in.
func (c *Call) Exit(mem Memory, ret uint64) {
	if c == nil || c.done {
		return
	}
	d := &c.d
	d.ret = ret
	if errno := -int64(ret); errno > 0 && errno < 4096 && !d.sys.flags.has(neverFails) {
		d.errno = linux.Errno(errno)
	}
	if d.sys.flags.has(noReturn) && d.errno == 0 {
		c.Unfinished()
		return
	}
	if d.sys.flags.has(newTask) && d.errno == 0 && ret != 0 && int64(ret) > 0 {
		c.t.live[int(ret)] = true // the child is traced from its creation
	}
	c.finishExit(mem)
}

// finishExit decodes the rest of the call and prints its line.
func (c *Call) finishExit(mem Memory) {
	c.done = true
	if c.t.pending[c.tid] == c {
		delete(c.t.pending, c.tid)
	}
	if !c.show {
		return
	}
	d := &c.d
	if mem != nil {
		d.mem = mem
	}
	c.safe(func() {
		if d.raw {
			return
		}
		d.exit()
		if d.errno == 0 && d.sys.done != nil {
			d.sys.done(d)
		}
	})
	d.b.WriteByte(')')
	c.t.finish(c.prefix, d.b.String(), d.result())
}

// Unfinished prints the call's line for a task that ended inside it, as
// strace prints exit_group ("exit_group(0) = ?"), a call whose arguments
// were all printed ("kill(2, SIGKILL) = ?") and a call cut short before
// its output ("read(0,  <unfinished ...>) = ?").
func (c *Call) Unfinished() {
	if c == nil || c.done {
		return
	}
	c.done = true
	if c.t.pending[c.tid] == c {
		delete(c.t.pending, c.tid)
	}
	if c.d.sys.flags.has(noReturn) {
		c.t.forget(c.tid) // the task ends; its +++ line comes from Exited
	}
	if !c.show {
		return
	}
	d := &c.d
	s := d.b.String()
	if d.more {
		s += ",  <unfinished ...>"
	}
	c.t.finish(c.prefix, s+")", "?")
}

// finish writes "call) = result" aligned to the result column.
func (t *Tracer) finish(prefix, call, result string) {
	s := prefix + call + " "
	if pad := t.opt.Column - len(s); pad > 0 {
		s += spaces(pad)
	}
	t.write(s + "= " + result + "\n")
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// safe runs a decoding step. A decoder that fails (a bug, never a guest's
// doing) leaves the call printed with raw arguments, as strace prints
// calls it does not decode, and a comment saying why, instead of stopping
// the kernel.
func (c *Call) safe(f func()) {
	defer func() {
		if r := recover(); r != nil {
			d := &c.d
			d.b.Reset()
			d.b.WriteString(d.sys.name + "(")
			for i := 0; i < d.sys.nargs && i < len(d.a); i++ {
				if i > 0 {
					d.b.WriteString(", ")
				}
				d.b.WriteString(hex0(d.a[i]))
			}
			d.b.WriteString(fmt.Sprintf(" /* decoding failed: %v */", r))
			d.raw, d.more, d.tail, d.rv = true, false, "", rvHex
		}
	}()
	f()
}
