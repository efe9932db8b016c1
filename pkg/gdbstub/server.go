// Package gdbstub serves the GDB remote serial protocol for AArch64 guests:
// gdb-multiarch or lldb connect to it over TCP and debug every process of a
// Target (the simulated machine) in all-stop mode, with the multiprocess
// extensions, breakpoints, watchpoints, fork/vfork/exec events, file
// transfers and, when the target records its history, reverse execution.
package gdbstub

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Server serves debugger connections for one Target, one at a time.
type Server struct {
	// Target is the machine being debugged.
	Target Target
	// Log, when set, receives one line per packet: "<- " for what the
	// debugger sent and "-> " for the stub's replies.
	Log io.Writer

	mu     sync.Mutex
	busy   bool
	ln     net.Listener
	conn   io.Closer
	closed bool
}

// Serve serves debugger connections on ln for t until ln is closed.
func Serve(ln net.Listener, t Target) error {
	return (&Server{Target: t}).Serve(ln)
}

// Serve accepts connections on ln until ln is closed (then it returns nil,
// once the current session has ended). A connection that arrives while a
// debugger is connected is closed at once.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.ln = ln
	s.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("gdbstub: accept: %w", err)
		}
		s.mu.Lock()
		if s.busy || s.closed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.busy = true
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ServeConn(c); err != nil {
				s.logf("session ended: %v", err)
			}
			s.mu.Lock()
			s.busy = false
			s.mu.Unlock()
		}()
	}
}

// Close stops the server: it closes the listener and the current
// connection, whose session detaches from the target as it ends.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	return err
}

// ServeConn runs one debugger session on c and closes c. When the session
// ends (the debugger detached, killed or disconnected) every breakpoint it
// set is removed and every process still debugged is detached. A
// disconnect is not an error.
func (s *Server) ServeConn(c io.ReadWriteCloser) error {
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
		c.Close()
	}()
	ss := newSession(s, c)
	return ss.run()
}

// logf writes a line to the log.
func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}
