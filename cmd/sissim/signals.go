package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Exit statuses of sissim run (also in the README):
const (
	// exitUsage: bad flags, or the program cannot be started.
	exitUsage = 2
	// exitKernel: the kernel could not go on: every process blocked for
	// good, a stopped program nothing can continue, a kernel failure.
	exitKernel = 70
)

// hostSignals maps the signals sissim gets onto the guest, as a terminal
// does for the programs in its foreground: Ctrl-C (SIGINT), Ctrl-\
// (SIGQUIT) and Ctrl-Z (SIGTSTP) go to the foreground guest, never to
// sissim itself. A third Ctrl-C within two seconds kills the foreground guest
// (for one that ignores SIGINT).
var hostSignals = map[os.Signal]linux.Signal{
	syscall.SIGINT:  linux.SIGINT,
	syscall.SIGQUIT: linux.SIGQUIT,
	syscall.SIGTSTP: linux.SIGTSTP,
}

// signalForwarder delivers hostSignals, and extra signals, to a machine's
// foreground guests.
type signalForwarder struct {
	ch   chan os.Signal
	done chan struct{}
	sigs []os.Signal
}

// forwardSignals delivers hostSignals, and the extra signals given (e.g.
// SIGTERM, SIGHUP), to m's foreground guests until Stop.
func forwardSignals(m *kernel.Machine, stderr io.Writer, extra ...syscall.Signal) *signalForwarder {
	table := map[os.Signal]linux.Signal{}
	for h, g := range hostSignals {
		table[h] = g
	}
	for _, s := range extra {
		table[s] = linux.Signal(s)
	}
	f := &signalForwarder{ch: make(chan os.Signal, 8), done: make(chan struct{})}
	for s := range table {
		f.sigs = append(f.sigs, s)
	}
	signal.Notify(f.ch, f.sigs...)
	go func() {
		var presses []time.Time
		for {
			select {
			case <-f.done:
				return
			case s := <-f.ch:
				sig := table[s]
				if sig == linux.SIGINT {
					now := time.Now()
					presses = append(presses, now)
					if len(presses) > 3 {
						presses = presses[1:]
					}
					if len(presses) == 3 && now.Sub(presses[0]) < 2*time.Second {
						fmt.Fprintln(stderr, "\nsissim: third Ctrl-C within two seconds: killing the foreground program")
						sig, presses = linux.SIGKILL, nil
					}
				}
				m.SignalForeground(sig)
			}
		}
	}()
	return f
}

// Stop ends the forwarding.
func (f *signalForwarder) Stop() {
	signal.Stop(f.ch)
	close(f.done)
}

// StopSelf stops sissim, so that the shell that started it sees it
// stopped as it would see the program itself; it returns once sissim is
// continued (fg). SIGSTOP: the Go runtime keeps a handler for SIGTSTP once
// it was watched, so SIGTSTP would not stop sissim.
func (f *signalForwarder) StopSelf() {
	_ = syscall.Kill(syscall.Getpid(), syscall.SIGSTOP)
}
