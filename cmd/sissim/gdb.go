package main

import (
	"fmt"
	"io"
	"net"

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
