package linux

import (
	"fmt"
	"strconv"
	"strings"
)

// Signal is a Linux signal number (arm64 uses the asm-generic numbering).
type Signal int

// Linux signals.
const (
	SIGHUP    Signal = 1
	SIGINT    Signal = 2
	SIGQUIT   Signal = 3
	SIGILL    Signal = 4
	SIGTRAP   Signal = 5
	SIGABRT   Signal = 6
	SIGBUS    Signal = 7
	SIGFPE    Signal = 8
	SIGKILL   Signal = 9
	SIGUSR1   Signal = 10
	SIGSEGV   Signal = 11
	SIGUSR2   Signal = 12
	SIGPIPE   Signal = 13
	SIGALRM   Signal = 14
	SIGTERM   Signal = 15
	SIGSTKFLT Signal = 16
	SIGCHLD   Signal = 17
	SIGCONT   Signal = 18
	SIGSTOP   Signal = 19
	SIGTSTP   Signal = 20
	SIGTTIN   Signal = 21
	SIGTTOU   Signal = 22
	SIGURG    Signal = 23
	SIGXCPU   Signal = 24
	SIGXFSZ   Signal = 25
	SIGVTALRM Signal = 26
	SIGPROF   Signal = 27
	SIGWINCH  Signal = 28
	SIGIO     Signal = 29
	SIGPWR    Signal = 30
	SIGSYS    Signal = 31

	SIGRTMIN Signal = 32 // first real-time signal (kernel view)
	SIGRTMAX Signal = 64 // last real-time signal (_NSIG)

	// Aliases with the same value as Linux defines them.
	SIGIOT  = SIGABRT
	SIGPOLL = SIGIO
)

// signalNames holds the Linux names of the standard signals.
var signalNames = [...]string{
	SIGHUP:    "SIGHUP",
	SIGINT:    "SIGINT",
	SIGQUIT:   "SIGQUIT",
	SIGILL:    "SIGILL",
	SIGTRAP:   "SIGTRAP",
	SIGABRT:   "SIGABRT",
	SIGBUS:    "SIGBUS",
	SIGFPE:    "SIGFPE",
	SIGKILL:   "SIGKILL",
	SIGUSR1:   "SIGUSR1",
	SIGSEGV:   "SIGSEGV",
	SIGUSR2:   "SIGUSR2",
	SIGPIPE:   "SIGPIPE",
	SIGALRM:   "SIGALRM",
	SIGTERM:   "SIGTERM",
	SIGSTKFLT: "SIGSTKFLT",
	SIGCHLD:   "SIGCHLD",
	SIGCONT:   "SIGCONT",
	SIGSTOP:   "SIGSTOP",
	SIGTSTP:   "SIGTSTP",
	SIGTTIN:   "SIGTTIN",
	SIGTTOU:   "SIGTTOU",
	SIGURG:    "SIGURG",
	SIGXCPU:   "SIGXCPU",
	SIGXFSZ:   "SIGXFSZ",
	SIGVTALRM: "SIGVTALRM",
	SIGPROF:   "SIGPROF",
	SIGWINCH:  "SIGWINCH",
	SIGIO:     "SIGIO",
	SIGPWR:    "SIGPWR",
	SIGSYS:    "SIGSYS",
}

// signalTexts holds the glibc 2.36 strsignal texts of the standard signals.
var signalTexts = [...]string{
	SIGHUP:    "Hangup",
	SIGINT:    "Interrupt",
	SIGQUIT:   "Quit",
	SIGILL:    "Illegal instruction",
	SIGTRAP:   "Trace/breakpoint trap",
	SIGABRT:   "Aborted",
	SIGBUS:    "Bus error",
	SIGFPE:    "Floating point exception",
	SIGKILL:   "Killed",
	SIGUSR1:   "User defined signal 1",
	SIGSEGV:   "Segmentation fault",
	SIGUSR2:   "User defined signal 2",
	SIGPIPE:   "Broken pipe",
	SIGALRM:   "Alarm clock",
	SIGTERM:   "Terminated",
	SIGSTKFLT: "Stack fault",
	SIGCHLD:   "Child exited",
	SIGCONT:   "Continued",
	SIGSTOP:   "Stopped (signal)",
	SIGTSTP:   "Stopped",
	SIGTTIN:   "Stopped (tty input)",
	SIGTTOU:   "Stopped (tty output)",
	SIGURG:    "Urgent I/O condition",
	SIGXCPU:   "CPU time limit exceeded",
	SIGXFSZ:   "File size limit exceeded",
	SIGVTALRM: "Virtual timer expired",
	SIGPROF:   "Profiling timer expired",
	SIGWINCH:  "Window changed",
	SIGIO:     "I/O possible",
	SIGPWR:    "Power failure",
	SIGSYS:    "Bad system call",
}

// String returns the Linux name of s: "SIGSEGV", "SIGRTMIN+3", "SIGRTMAX",
// or "Signal(N)" if s is out of range.
func (s Signal) String() string {
	switch {
	case s > 0 && int(s) < len(signalNames):
		return signalNames[s]
	case s == SIGRTMIN:
		return "SIGRTMIN"
	case s > SIGRTMIN && s < SIGRTMAX:
		return "SIGRTMIN+" + strconv.Itoa(int(s-SIGRTMIN))
	case s == SIGRTMAX:
		return "SIGRTMAX"
	}
	return "Signal(" + strconv.Itoa(int(s)) + ")"
}

// Description returns the glibc strsignal text for s, for example
// "Segmentation fault" for SIGSEGV. Like glibc, which reserves signals 32
// and 33 for its threading implementation, it numbers real-time signals
// from 34 ("Real-time signal 0") and calls 32 and 33 unknown.
func (s Signal) Description() string {
	const glibcRTMin = SIGRTMIN + 2
	switch {
	case s > 0 && int(s) < len(signalTexts):
		return signalTexts[s]
	case s >= glibcRTMin && s <= SIGRTMAX:
		return "Real-time signal " + strconv.Itoa(int(s-glibcRTMin))
	}
	return "Unknown signal " + strconv.Itoa(int(s))
}

// ParseSignal parses a signal as kill(1) takes it: a number ("9"), a name
// ("SIGKILL", "KILL", case-insensitive) or "SIGRTMIN+N".
func ParseSignal(s string) (Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > int(SIGRTMAX) {
			return 0, fmt.Errorf("invalid signal number %d (1-%d)", n, SIGRTMAX)
		}
		return Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for sig := Signal(1); sig <= SIGRTMAX; sig++ {
		if sig.String() == name {
			return sig, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}
