package main

import (
	"errors"
	"fmt"
	"io"
	"net"

	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/pkg/kernel"
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

// runSession runs spec under a debugger that can go back in time: a
// kernel.Session builds the machine from cfg and setup as many times as
// the debugger goes back. code is not 0 when the session could not start.
func runSession(cfg kernel.Config, setup func(*kernel.Machine) error, spec kernel.ProcessSpec, addr string,
	stdin io.Reader, stdout, stderr io.Writer) (st kernel.ExitStatus, err error, code int) {
	strace := cfg.Strace
	var straceMark int64
	build := func(sio kernel.SessionIO, gen int) (*kernel.Machine, error) {
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
			return nil, err
		}
		if err := setup(m); err != nil {
			m.Close()
			return nil, err
		}
		return m, nil
	}
	s, err := kernel.NewSession(build, spec, stdin, stdout, stderr)
	if err != nil {
		var ee *kernel.ExecError
		if errors.As(err, &ee) {
			fmt.Fprintf(stderr, "sissim: %s: %s\n", spec.Argv[0], ee.Reason)
		} else {
			fmt.Fprintln(stderr, "sissim:", err)
		}
		return st, nil, 2
	}
	defer s.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "sissim run: --gdb:", err)
		return st, nil, 2
	}
	fmt.Fprintf(stderr, "sissim: waiting for a debugger on %s (gdb-multiarch: target remote %s)\n", ln.Addr(), ln.Addr())
	srv := s.ServeGDB(ln, kernel.GDBOptions{})
	defer srv.Close() // after the program, wait for the debugger to go
	st, err = s.Run()
	return st, err, 0
}
