package gdbstub

import "github.com/sis-kernel/sissim/pkg/linux"

// gdb numbers signals its own way (include/gdb/signals.def); the remote
// protocol carries those numbers, the Target uses Linux ones.

// gdbSignalUnknown is GDB_SIGNAL_UNKNOWN.
const gdbSignalUnknown = 143

// linuxToGDB maps the standard Linux signals (arm64 numbering).
var linuxToGDB = [...]int{
	linux.SIGHUP:    1,
	linux.SIGINT:    2,
	linux.SIGQUIT:   3,
	linux.SIGILL:    4,
	linux.SIGTRAP:   5,
	linux.SIGABRT:   6,
	linux.SIGBUS:    10,
	linux.SIGFPE:    8,
	linux.SIGKILL:   9,
	linux.SIGUSR1:   30,
	linux.SIGSEGV:   11,
	linux.SIGUSR2:   31,
	linux.SIGPIPE:   13,
	linux.SIGALRM:   14,
	linux.SIGTERM:   15,
	linux.SIGSTKFLT: gdbSignalUnknown,
	linux.SIGCHLD:   20,
	linux.SIGCONT:   19,
	linux.SIGSTOP:   17,
	linux.SIGTSTP:   18,
	linux.SIGTTIN:   21,
	linux.SIGTTOU:   22,
	linux.SIGURG:    16,
	linux.SIGXCPU:   24,
	linux.SIGXFSZ:   25,
	linux.SIGVTALRM: 26,
	linux.SIGPROF:   27,
	linux.SIGWINCH:  28,
	linux.SIGIO:     23,
	linux.SIGPWR:    32,
	linux.SIGSYS:    12,
}

// gdbSignal converts a Linux signal to gdb's number.
func gdbSignal(s linux.Signal) int {
	switch {
	case s == 0:
		return 0
	case s > 0 && int(s) < len(linuxToGDB):
		return linuxToGDB[s]
	case s == 32:
		return 77 // GDB_SIGNAL_REALTIME_32
	case s >= 33 && s <= 63:
		return int(s) - 33 + 45 // GDB_SIGNAL_REALTIME_33..63
	case s == 64:
		return 78 // GDB_SIGNAL_REALTIME_64
	}
	return gdbSignalUnknown
}

// linuxSignal converts gdb's signal number to Linux's; ok is false for a
// signal Linux does not have.
func linuxSignal(g int) (linux.Signal, bool) {
	switch {
	case g == 0:
		return 0, true
	case g == 77:
		return 32, true
	case g >= 45 && g <= 75:
		return linux.Signal(g - 45 + 33), true
	case g == 78:
		return 64, true
	}
	for s, n := range linuxToGDB {
		if n == g && n != gdbSignalUnknown && s != 0 {
			return linux.Signal(s), true
		}
	}
	return 0, false
}

// wireSignal converts a Linux signal to the session's numbering: gdb's,
// or Linux's for lldb (which reads signals with the target OS's numbers
// once it knows the OS from qHostInfo, as lldb-server sends them).
func (ss *session) wireSignal(s linux.Signal) int {
	if ss.linuxSignals {
		return int(s)
	}
	return gdbSignal(s)
}

// fromWireSignal converts a signal number from the debugger.
func (ss *session) fromWireSignal(n int) (linux.Signal, bool) {
	if ss.linuxSignals {
		return linux.Signal(n), n >= 0 && n <= int(linux.SIGRTMAX)
	}
	return linuxSignal(n)
}
