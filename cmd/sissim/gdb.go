package main

import (
	"errors"
	"fmt"
	"io"
	"net"

	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// serveGDB listens on addr for a debugger of m and says where: m waits
// for it before any guest instruction.
func serveGDB(m *kernel.Machine, addr string, stderr io.Writer) (*kernel.GDBServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "sissim: waiting for a debugger on %s (gdb-multiarch: target remote %s)\n", ln.Addr(), ln.Addr())
	m.WaitForDebugger()
	return m.ServeGDB(ln, kernel.GDBOptions{}), nil
}

// irreversible says why a debugger of this run cannot go back in time
// ("" when it can): going back re-executes the run from its start, which
// gives the same run only when every input is the machine's own or is
// recorded (the console's).
func irreversible(mode kernel.ClockMode, mounts mountFlag, nf *netFlags, features sis.Features, observed bool) string {
	switch {
	case mode != kernel.Deterministic:
		return "the clock is realtime"
	case mounts.writable():
		return "a writable --mount lets the guest change host files, which a re-execution would read changed"
	case len(nf.publish) > 0 || *nf.mode != "none":
		return "host network traffic (--publish, --net) is not recorded"
	case len(features) > 0:
		return "the SIS services (--features) keep state outside the machine"
	case observed:
		return "--timeline and --metrics-addr observe a single run, not its re-executions"
	}
	return ""
}

// runSession runs spec under a debugger that can go back in time: a
// kernel.Session builds the machine from cfg and setup as many times as
// the debugger goes back. It returns sissim run's exit code.
func runSession(cfg kernel.Config, setup func(*kernel.Machine) (*sis.System, error), spec kernel.ProcessSpec,
	checkpoints kernel.CheckpointPolicy, addr, host string,
	faultDetail bool, stdin io.Reader, stdout, stderr io.Writer) int {
	strace := cfg.Strace
	var straceMark int64
	build := func(sio kernel.SessionIO, gen int) (*kernel.Machine, io.Closer, error) {
		c := cfg
		c.Stdin, c.Stdout, c.Stderr = sio.Stdin, sio.Stdout, sio.Stderr
		if strace != nil {
			c.Strace = kernel.ReplayWriter(strace, &straceMark)
		}
		if gen > 1 {
			c.Log = zap.NewNop() // the first machine said it all
		}
		m, err := kernel.New(c)
		if err != nil {
			return nil, nil, err
		}
		sys, err := setup(m)
		if err != nil {
			return nil, nil, err
		}
		return m, sys, nil
	}
	s, err := kernel.NewSession(build, spec, stdin, stdout, stderr)
	if err != nil {
		var ee *kernel.ExecError
		if errors.As(err, &ee) {
			fmt.Fprintf(stderr, "sissim: %s: %s\n", host, ee.Reason)
		} else {
			fmt.Fprintln(stderr, "sissim:", err)
		}
		return exitUsage
	}
	defer s.Close()
	s.SetCheckpoints(checkpoints)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "sissim run: --gdb:", err)
		return 2
	}
	fmt.Fprintf(stderr, "sissim: waiting for a debugger on %s (gdb-multiarch: target remote %s)\n", ln.Addr(), ln.Addr())
	srv := s.ServeGDB(ln, kernel.GDBOptions{})
	defer srv.Close() // after the program, wait for the debugger to go
	status, err := s.Run()
	cs := s.CheckpointStats()
	fields := []zap.Field{zap.Int("checkpoints taken", cs.Taken), zap.Int("forward", cs.Forward), zap.Int("restored", cs.Restored), zap.Int("refused", cs.Refused)}
	if cs.Reason != "" {
		fields = append(fields, zap.String("last refused because", cs.Reason))
	}
	cfg.Log.Info("reverse execution", fields...)
	reportStatus(stderr, host, status, faultDetail)
	if err != nil {
		fmt.Fprintln(stderr, "sissim:", err)
		return exitKernel
	}
	return status.ShellCode()
}
