package sis

import (
	"fmt"
	"io"
	"net"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// gdbFlag takes a leading "--gdb PORT" off run's arguments.
func gdbFlag(args []string) (addr string, rest []string, err error) {
	if len(args) == 0 || args[0] != "--gdb" {
		return "", args, nil
	}
	if len(args) < 2 {
		return "", nil, shellcmd.BadArgs("run: --gdb needs a port")
	}
	if addr, err = kernel.GDBAddr(args[1]); err != nil {
		return "", nil, shellcmd.BadArgs("run: --gdb: %v", err)
	}
	rest = args[2:]
	if len(rest) > 0 && rest[len(rest)-1] == "&" {
		return "", nil, shellcmd.BadArgs("run: --gdb runs a program in the foreground")
	}
	return addr, rest, nil
}

// serveGDB serves a debugger of proc (and the children it forks) on addr
// while the shell's run waits: proc holds before its first instruction
// until the debugger attaches.
func (s *Shell) serveGDB(w io.Writer, proc *kernel.Process, addr string) (*kernel.GDBServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("run: --gdb: %w", err)
	}
	fmt.Fprintf(w, "[pid %d] waiting for a debugger on %s\n", proc.PID, ln.Addr())
	s.m.WaitForDebugger()
	return s.m.ServeGDB(ln, kernel.GDBOptions{Pid: proc.PID}), nil
}
