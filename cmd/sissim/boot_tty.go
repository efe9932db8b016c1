package main

import (
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeForeground puts sissim in its own process group and makes it the
// terminal's foreground group, as a job-control shell does for its jobs,
// so that Ctrl-C (SIGINT from the terminal) reaches sissim alone and not
// the programs that started it (make, a script). The returned function
// gives the terminal back. It does nothing when that is not possible.
func takeForeground(fd int) (restore func()) {
	orig, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return func() {}
	}
	pid := unix.Getpid()
	if orig == pid {
		return func() {}
	}
	// A background group changing the foreground group gets SIGTTOU.
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	if err := unix.Setpgid(0, 0); err != nil {
		return func() {}
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pid); err != nil {
		unix.Setpgid(0, orig) // back to the foreground group, or reads would stop us
		return func() {}
	}
	return func() {
		signal.Ignore(syscall.SIGTTOU)
		defer signal.Reset(syscall.SIGTTOU)
		unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, orig)
	}
}
