package kernel

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/sis-kernel/sissim/pkg/gdbstub"
)

// GDBServer serves the GDB remote serial protocol for a machine: gdb or
// lldb connect to it and debug every guest process (one debugger at a
// time).
type GDBServer struct {
	srv  *gdbstub.Server
	ln   net.Listener
	done chan error
	once sync.Once
	err  error
}

// GDBOptions configure ServeGDB.
type GDBOptions struct {
	// Log, when not nil, receives the protocol's packets, one a line.
	Log io.Writer
	// Pid, when not 0, is the one process a debugger attaches to (and the
	// children it forks, when the debugger follows forks); 0: every guest
	// process of the machine.
	Pid int
}

// ServeGDB starts serving the machine's debugger on ln, in the
// background, until Close. The machine runs only while something runs it
// (Run, Wait, Drain, the shell's run): a debugger that connects while
// nothing does waits for it.
func (m *Machine) ServeGDB(ln net.Listener, o GDBOptions) *GDBServer {
	d := m.debugger()
	d.mu.Lock()
	d.scope = o.Pid
	d.mu.Unlock()
	s := &GDBServer{srv: &gdbstub.Server{Target: d, Log: o.Log}, ln: ln, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Addr is the address the server listens on.
func (s *GDBServer) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting debuggers and waits for the current one to
// disconnect (the machine runs on without it).
func (s *GDBServer) Close() error {
	s.once.Do(func() {
		s.ln.Close()
		s.err = <-s.done
	})
	return s.err
}

// Kick closes the connection of the current debugger (if any) and stops
// the server.
func (s *GDBServer) Kick() error {
	err := s.srv.Close()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// GDBAddr turns a --gdb argument, [HOST:]PORT, into a listen address:
// 127.0.0.1 when no host is given.
func GDBAddr(arg string) (string, error) {
	if arg == "" {
		return "", errors.New("want [HOST:]PORT")
	}
	host, port, err := net.SplitHostPort(arg)
	if err != nil {
		if strings.Contains(arg, ":") {
			return "", fmt.Errorf("bad address %q: want [HOST:]PORT", arg)
		}
		host, port = "127.0.0.1", arg
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if _, err := net.LookupPort("tcp", port); err != nil || strings.HasPrefix(port, "-") {
		return "", fmt.Errorf("bad port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}
