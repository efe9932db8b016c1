package gdbstub

import (
	"errors"
	"io"
	"io/fs"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// ErrUnsupported is returned by a Target for a request it does not
// implement (a breakpoint kind, a resume action); the stub then answers
// the debugger with an empty reply, the protocol's "not supported".
var ErrUnsupported = errors.New("gdbstub: not supported by the target")

// Target is the debugged machine as the stub sees it: the kernel implements
// it. The stub runs in all-stop mode: when any thread stops, the whole
// target stops, and every method but Resume, Interrupt and Events is called
// only while the target is stopped, from one goroutine at a time.
//
// Processes are the ones the target chose to debug (the whole machine, or
// one program and the children it forks); a thread of another process never
// appears here and never stops the target.
type Target interface {
	// Attach stops the whole target for a new debugger session and returns,
	// once it is stopped, the stop to report for "?": StopSignal with
	// SIGTRAP on the first thread of a process that has not run yet, or
	// SIGINT for a machine that was running (never SIGSTOP: gdb would
	// deliver it on the next continue). Every process the target debugs
	// is debugged from now on. It is called once per connection, before
	// anything else. It returns an error when there is nothing to debug;
	// the stub then closes the connection.
	Attach() (StopEvent, error)

	// Capabilities reports the optional behaviours the target implements.
	Capabilities() Capabilities

	// SetOptions configures event reporting for the session: it is called
	// after the debugger's qSupported and whenever QPassSignals or
	// QCatchSyscalls change it. It never enables what Capabilities denies.
	SetOptions(o Options) error

	// Processes lists every debugged process with its threads, in a stable
	// order (PID, then TID).
	Processes() ([]Process, error)

	// ReadRegisters returns the registers of a stopped thread.
	ReadRegisters(t ThreadID) (Registers, error)
	// WriteRegisters replaces the registers of a stopped thread.
	WriteRegisters(t ThreadID, r *Registers) error

	// ReadMemory reads process memory at addr into buf and returns the
	// number of bytes read; a short count with an error means the rest is
	// not mapped. Reads ignore page protections (like ptrace).
	ReadMemory(pid int, addr uint64, buf []byte) (int, error)
	// WriteMemory writes process memory, ignoring page protections (the
	// debugger patches read-only text); the target must drop whatever it
	// translated from the bytes it changes.
	WriteMemory(pid int, addr uint64, data []byte) error

	// InsertBreakpoint adds a breakpoint or watchpoint to every thread of
	// b.Pid. It returns ErrUnsupported for a kind it cannot do. See
	// Breakpoint for when each kind stops the target.
	InsertBreakpoint(b Breakpoint) error
	// RemoveBreakpoint removes one; removing one that is absent (the
	// process exec'd since) is not an error.
	RemoveBreakpoint(b Breakpoint) error

	// Resume starts the stopped target and returns at once; the target
	// delivers exactly one StopEvent on Events when it has stopped again.
	Resume(r Resume) error
	// Interrupt asks the running target to stop soon (the debugger's
	// Ctrl-C). The stop arrives on Events, as StopSignal with SIGINT for
	// the thread that was running (or any other stop that happened
	// first). Interrupt may be called at any time, from any goroutine; it
	// must not block, and a call while the target is stopped is ignored.
	// A target waiting for host input or sleeping must stop too.
	Interrupt()
	// Events delivers one StopEvent per Resume (and never otherwise).
	Events() <-chan StopEvent

	// Kill ends a process as SIGKILL would, at once; no StopEvent is sent
	// for it, and it no longer appears in Processes.
	Kill(pid int) error
	// Detach removes every breakpoint and watchpoint of the process,
	// delivers no further events for it and lets it run freely from the
	// next Resume on. The stub detaches every remaining process when the
	// session ends, however it ends.
	//
	// Whenever no debugged process remains (the last one exited, was
	// killed or detached), the machine runs on by itself at once, until
	// the next Attach.
	Detach(pid int) error
}

// ThreadID names a thread: Pid is its process (thread group), Tid the
// thread. In a wildcard, -1 means all and 0 means any.
type ThreadID struct {
	Pid, Tid int
}

// Wildcard values for ThreadID fields.
const (
	All = -1
	Any = 0
)

// Thread is one thread of a debugged process.
type Thread struct {
	ID   ThreadID
	Name string // comm, as in /proc/PID/task/TID/comm
}

// Process is one debugged process.
type Process struct {
	Pid int
	// Attached is true for a process that existed before the debugger
	// connected: gdb detaches it (instead of killing it) when it quits.
	Attached bool
	Threads  []Thread
}

// Capabilities are the optional behaviours of a Target.
type Capabilities struct {
	ForkEvents  bool // can report StopFork with the child held stopped
	VForkEvents bool // can report StopVFork and StopVForkDone
	ExecEvents  bool // can report StopExec
	// SyscallCatch: can stop at system call entry and return.
	SyscallCatch bool
	// Reverse: Resume accepts Reverse (bs/bc) now. A deterministic
	// machine sets it; a realtime one does not.
	Reverse bool
}

// Options are the events the debugger asked for (a subset of the target's
// Capabilities) and its signal settings.
//
// A thread created by a debugged process (clone with CLONE_THREAD) is
// debugged at once. A process forked by a debugged one is debugged only
// with ForkEvents (VForkEvents for vfork): it is then held stopped, with
// no breakpoints, and reported by StopFork; the debugger resumes or
// detaches it. Without them it is not debugged and runs freely, as the
// child of a ptraced process without PTRACE_O_TRACEFORK does.
type Options struct {
	ForkEvents, VForkEvents, ExecEvents bool
	// PassSignals are delivered to the guest without stopping the target
	// (QPassSignals). Every other signal stops it first (StopSignal), and
	// the action that resumes the thread decides what is delivered.
	PassSignals []linux.Signal
	// CatchSyscalls enables StopSyscallEntry/StopSyscallReturn for the
	// system calls in Syscalls (every call when Syscalls is empty).
	CatchSyscalls bool
	Syscalls      []int
}

// Registers are the AArch64 registers gdb sees, in the order of the
// org.gnu.gdb.aarch64.core and .fpu features.
type Registers struct {
	X    [31]uint64
	SP   uint64
	PC   uint64
	CPSR uint32 // PSTATE: NZCV flags in bits 31-28
	V    [32][16]byte
	FPSR uint32
	FPCR uint32
}

// BreakKind is the kind of a breakpoint or watchpoint (Z0 to Z4).
type BreakKind int

// Breakpoint kinds.
const (
	BreakSoftware BreakKind = iota // Z0
	BreakHardware                  // Z1
	WatchWrite                     // Z2
	WatchRead                      // Z3
	WatchAccess                    // Z4
)

// IsWatch reports whether k is a watchpoint kind.
func (k BreakKind) IsWatch() bool { return k >= WatchWrite }

// String returns the kind's name.
func (k BreakKind) String() string {
	switch k {
	case BreakSoftware:
		return "swbreak"
	case BreakHardware:
		return "hwbreak"
	case WatchWrite:
		return "watch"
	case WatchRead:
		return "rwatch"
	case WatchAccess:
		return "awatch"
	}
	return "break?"
}

// Breakpoint is a breakpoint or watchpoint of one process.
//
// A breakpoint (software or hardware: the target may implement both the
// same way, without patching memory) stops the thread before it executes
// the instruction at Addr, with PC = Addr, including the first instruction
// after a Resume: the debugger itself steps over a breakpoint it resumes
// from. A watchpoint stops the thread before the load or store that
// touches [Addr, Addr+Len) takes effect, with PC at that instruction, as
// AArch64 hardware does: gdb then steps over it with the watchpoint
// removed and compares the old and new values itself.
type Breakpoint struct {
	Kind BreakKind
	Pid  int
	Addr uint64
	// Len is the watched length in bytes for a watchpoint, and the
	// breakpoint kind (4: an A64 instruction) for a breakpoint.
	Len uint64
}

// ActionKind is what one thread does on Resume.
type ActionKind int

// Resume actions (vCont).
const (
	ActionContinue ActionKind = iota // c, C
	ActionStep                       // s, S: exactly one instruction
	ActionStop                       // t: stay stopped
)

// Action is the resume action for the threads that Thread matches.
type Action struct {
	Kind ActionKind
	// Thread selects the threads; its fields may be All (-1).
	Thread ThreadID
	// Signal is delivered to the thread as it resumes (0: none). A thread
	// stopped for a signal (StopSignal) gets this signal instead of that
	// one: 0 discards it.
	Signal linux.Signal
}

// Matches reports whether the action applies to thread t.
func (a Action) Matches(t ThreadID) bool {
	return (a.Thread.Pid == All || a.Thread.Pid == t.Pid) &&
		(a.Thread.Tid == All || a.Thread.Tid == t.Tid)
}

// Resume says how the target resumes.
type Resume struct {
	// Actions apply in order: a thread takes the first action that
	// matches it, and a thread that matches none stays stopped. Threads
	// created while running take the action that matches them (a new
	// thread of a continued process continues).
	//
	// A stepping thread stops after one instruction (StopSignal SIGTRAP;
	// a system call that blocks completes first, while the others run).
	// The target stops as a whole at the first event of any thread.
	Actions []Action
	// Reverse executes backwards (bs, bc; only with Capabilities.Reverse):
	// a step undoes the last instruction the thread executed (undoing the
	// other threads' later instructions with it), a continue runs back to
	// the previous breakpoint or watchpoint hit, or to the start of the
	// recorded history (StopNoHistory). Going backwards, a breakpoint
	// stops with PC at its address (the state before that instruction
	// ran), and a watchpoint stops before the access is undone, with PC
	// just after the accessing instruction: gdb then steps back over it
	// itself, to the state before the access, as it steps forward over
	// one. A later forward Resume re-executes exactly the same run.
	Reverse bool
}

// ActionFor returns the action that applies to thread t, or false if t
// stays stopped.
func (r Resume) ActionFor(t ThreadID) (Action, bool) {
	for _, a := range r.Actions {
		if a.Matches(t) {
			return a, a.Kind != ActionStop
		}
	}
	return Action{}, false
}

// StopKind is why the target stopped.
type StopKind int

// Stop kinds.
const (
	// StopSignal: Thread stopped with Signal: SIGTRAP after a step,
	// SIGINT after Interrupt, or a signal about to be delivered to it
	// (a fault's SIGSEGV, a kill from another process).
	StopSignal StopKind = iota
	// StopBreakpoint: Thread reached breakpoint Break (BreakSoftware or
	// BreakHardware) at its PC.
	StopBreakpoint
	// StopWatchpoint: Thread is about to access Addr (Size bytes) covered
	// by a watchpoint of kind Break; see Breakpoint.
	StopWatchpoint
	// StopExited: process Thread.Pid exited with ExitCode.
	StopExited
	// StopKilled: process Thread.Pid was ended by Signal.
	StopKilled
	// StopFork: Thread forked Child, which is held stopped until a
	// Resume action matches it or it is detached (only with
	// Options.ForkEvents; see Options).
	StopFork
	// StopVFork: like StopFork for vfork (Options.VForkEvents).
	StopVFork
	// StopVForkDone: the vfork child of Thread exec'd or exited.
	StopVForkDone
	// StopExec: Thread's process exec'd Path and stopped at its entry; the
	// process's breakpoints are gone (Options.ExecEvents). Thread is the
	// thread that exec'd, now with the process's PID as its TID.
	StopExec
	// StopSyscallEntry/StopSyscallReturn: Thread enters or returns from
	// system call Syscall (Options.CatchSyscalls).
	StopSyscallEntry
	StopSyscallReturn
	// StopNoHistory: a reverse execution reached the start of the recorded
	// history (or a forward one its end) at Thread.
	StopNoHistory
)

// StopEvent is one stop of the target.
type StopEvent struct {
	Kind     StopKind
	Thread   ThreadID
	Signal   linux.Signal
	Break    BreakKind // StopBreakpoint, StopWatchpoint
	Addr     uint64    // StopWatchpoint: first byte accessed
	Size     uint64    // StopWatchpoint: bytes accessed
	ExitCode int       // StopExited
	Child    ThreadID  // StopFork, StopVFork
	Path     string    // StopExec
	Syscall  int       // StopSyscallEntry, StopSyscallReturn
}

// The optional interfaces below add transfers a Target may offer; the stub
// advertises each to the debugger only when the Target implements it.

// Monitor runs the debugger's "monitor" commands (qRcmd).
type Monitor interface {
	// Monitor runs cmd (the words after "monitor") and returns the text
	// the debugger prints. It is called while the target is stopped.
	Monitor(cmd string) (string, error)
}

// SiginfoReader gives the signal information of a stopped thread
// (qXfer:siginfo, gdb's $_siginfo).
type SiginfoReader interface {
	// Siginfo returns the siginfo_t (128 bytes, as the guest's kernel
	// lays it out) of the signal thread t stopped for; an error when it
	// did not stop for one.
	Siginfo(t ThreadID) ([]byte, error)
}

// AuxvReader gives the ELF auxiliary vector of a process (qXfer:auxv, and
// through it qXfer:libraries-svr4, which the stub reads from the dynamic
// linker's r_debug list in process memory).
type AuxvReader interface {
	// Auxv returns the process's auxiliary vector as the guest sees it
	// (pairs of little-endian uint64, ending with AT_NULL).
	Auxv(pid int) ([]byte, error)
}

// ExecFiler names the executable of a process (qXfer:exec-file).
type ExecFiler interface {
	// ExecFile returns the absolute guest path of the process's program.
	ExecFile(pid int) (string, error)
}

// MemoryMapper describes the address space of a process
// (qXfer:memory-map).
type MemoryMapper interface {
	// MemoryMap returns the regions the debugger may access. gdb reads
	// the map once per process and then refuses every address outside it,
	// so return the ranges the process may ever use (for a Linux process:
	// the user address range above the null guard), not the current
	// mappings, which change with mmap and brk.
	MemoryMap(pid int) ([]MemoryRegion, error)
}

// MemoryRegion is one region of a memory map.
type MemoryRegion struct {
	Start, Length uint64
	ReadOnly      bool // "rom": gdb refuses to write it
}

// FileOpener opens guest files for the debugger (vFile), for example the
// program and its shared libraries when gdb reads them from the target.
type FileOpener interface {
	// OpenFile opens path for reading as process pid sees the file system
	// (pid 0: the machine's own root).
	OpenFile(pid int, path string) (File, error)
}

// LinkReader reads symbolic links of the guest's file system
// (vFile:readlink: gdb's info proc reads /proc/PID/exe and cwd).
type LinkReader interface {
	// Readlink returns the target of the link at path as process pid
	// sees it (pid 0: the machine's own root).
	Readlink(pid int, path string) (string, error)
}

// File is an open guest file.
type File interface {
	io.ReaderAt
	io.Closer
	Stat() (fs.FileInfo, error)
}
