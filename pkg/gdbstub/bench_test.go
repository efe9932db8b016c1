package gdbstub

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchClient connects to a stub serving m over TCP loopback, in no-ack
// mode, as gdb runs it.
func benchClient(b *testing.B, m *fakeMachine) *client {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	srv := &Server{Target: m}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(b, err)
	c := &client{t: b, conn: conn, r: newReader(conn)}
	c.cmd("qSupported:multiprocess+;swbreak+")
	c.cmd("QStartNoAckMode")
	c.noAck = true
	return c
}

// BenchmarkReadRegisters measures a g round trip.
func BenchmarkReadRegisters(b *testing.B) {
	m, _ := newProgram(nop())
	c := benchClient(b, m)
	for b.Loop() {
		if len(c.cmd("g")) != 2*regsSize {
			b.Fatal("short g reply")
		}
	}
}

// BenchmarkReadMemory measures reading memory with the largest m packets.
func BenchmarkReadMemory(b *testing.B) {
	m, p := newProgram(nop())
	p.mem.mapRange(dataAddr, 1<<20)
	c := benchClient(b, m)
	req := fmt.Sprintf("m%x,%x", dataAddr, maxRead)
	b.SetBytes(maxRead)
	for b.Loop() {
		if len(c.cmd(req)) != 2*maxRead {
			b.Fatal("short m reply")
		}
	}
}

// BenchmarkStep measures a single step round trip (vCont;s and the stop
// reply) on the fake target.
func BenchmarkStep(bm *testing.B) {
	m, _ := newProgram(b(0))
	c := benchClient(bm, m)
	for bm.Loop() {
		if c.cmd("vCont;s:p64.64") != "T05thread:p64.64;" {
			bm.Fatal("bad stop")
		}
	}
}
