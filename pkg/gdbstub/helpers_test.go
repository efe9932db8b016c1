package gdbstub

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A64 encoders for the test programs (64-bit forms).

func nop() uint32                    { return 0xd503201f }
func brk(imm uint32) uint32          { return 0xd4200000 | imm<<5 }
func svc() uint32                    { return 0xd4000001 }
func movz(rd, imm uint32) uint32     { return 0xd2800000 | imm<<5 | rd }
func movk(rd, imm, hw uint32) uint32 { return 0xf2800000 | hw<<21 | imm<<5 | rd }
func addImm(rd, rn, imm uint32) uint32 {
	return 0x91000000 | imm<<10 | rn<<5 | rd
}
func str64(rt, rn, off uint32) uint32 { return 0xf9000000 | (off/8)<<10 | rn<<5 | rt }
func ldr64(rt, rn, off uint32) uint32 { return 0xf9400000 | (off/8)<<10 | rn<<5 | rt }
func str32(rt, rn, off uint32) uint32 { return 0xb9000000 | (off/4)<<10 | rn<<5 | rt }
func b(off int32) uint32              { return 0x14000000 | uint32(off/4)&0x3ffffff }
func undefined() uint32               { return 0x00000000 } // UDF #0

// Guest addresses of the Go-encoded test programs.
const (
	codeAddr = 0x400000
	dataAddr = 0x410000
)

// newProgram returns a fake machine with one process running code at
// codeAddr, with a data page at dataAddr (x19 points to it) and a stack.
func newProgram(code ...uint32) (*fakeMachine, *fakeProc) {
	m := newFakeMachine()
	p := m.addProcess("prog", "/bin/prog", codeAddr)
	p.loadCode(codeAddr, code...)
	p.mem.mapRange(dataAddr, fakePageSize)
	p.mem.mapRange(fakeStackTop-fakeStackSize, fakeStackSize)
	p.threads[0].regs.X[19] = dataAddr
	p.threads[0].regs.SP = fakeStackTop - 16
	p.auxv = make([]byte, 16) // AT_NULL only
	return m, p
}

// exitCode returns code that exits with status v.
func exitCode(v uint32) []uint32 {
	return []uint32{movz(0, v), movz(8, sysExitGroup), svc()}
}

// client is a minimal RSP client for the protocol tests.
type client struct {
	t     testing.TB
	conn  net.Conn
	r     *bufio.Reader
	noAck bool
	done  chan error
	log   *bytes.Buffer
}

// connect serves m on an in-memory connection and returns a client that
// has negotiated features (qSupported) as gdb does.
func connect(t *testing.T, m *fakeMachine, features string) *client {
	t.Helper()
	c := dial(t, m)
	if features != "" {
		c.cmd("qSupported:" + features)
	}
	return c
}

// dial serves m and returns a client with acks on.
func dial(t *testing.T, m *fakeMachine) *client {
	t.Helper()
	srvConn, cliConn := net.Pipe()
	log := &bytes.Buffer{}
	srv := &Server{Target: m, Log: &lockedWriter{w: log}}
	c := &client{t: t, conn: cliConn, r: bufio.NewReader(cliConn), done: make(chan error, 1), log: log}
	go func() { c.done <- srv.ServeConn(srvConn) }()
	t.Cleanup(func() {
		cliConn.Close()
		<-c.done
		m.shutdown()
		require.Empty(t, m.violations, "Target contract violations")
	})
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// send sends a packet and, with acks on, reads the '+'.
func (c *client) send(payload string) {
	c.t.Helper()
	_, err := c.conn.Write(frame([]byte(payload)))
	require.NoError(c.t, err)
	if !c.noAck {
		b, err := c.r.ReadByte()
		require.NoError(c.t, err)
		require.Equal(c.t, byte('+'), b, "ack for %q", payload)
	}
}

// recv reads a reply, checks its checksum, acks it and returns the payload
// with binary escapes decoded.
func (c *client) recv() string {
	c.t.Helper()
	for {
		b, err := c.r.ReadByte()
		require.NoError(c.t, err)
		if b == '$' {
			break
		}
		require.Failf(c.t, "unexpected byte", "%q before a reply", b)
	}
	payload, err := c.r.ReadBytes('#')
	require.NoError(c.t, err)
	payload = payload[:len(payload)-1]
	var cs [2]byte
	_, err = io.ReadFull(c.r, cs[:])
	require.NoError(c.t, err)
	var sum byte
	for _, x := range payload {
		sum += x
	}
	require.Equal(c.t, fmt.Sprintf("%02x", sum), string(cs[:]), "checksum of %q", payload)
	require.NotContains(c.t, string(payload), "*", "replies must not contain a raw '*'")
	if !c.noAck {
		_, err := c.conn.Write([]byte("+"))
		require.NoError(c.t, err)
	}
	out, err := unescape(payload)
	require.NoError(c.t, err)
	return string(out)
}

// cmd sends a packet and returns the reply.
func (c *client) cmd(payload string) string {
	c.t.Helper()
	c.send(payload)
	return c.recv()
}

// noAckMode switches acknowledgements off.
func (c *client) noAckMode() {
	c.t.Helper()
	require.Equal(c.t, "OK", c.cmd("QStartNoAckMode"))
	c.noAck = true
}

// regPC reads the PC of the current thread through p.
func (c *client) regPC() uint64 {
	c.t.Helper()
	return leHex(c.t, c.cmd("p20"))
}

// leHex decodes little-endian hex bytes into a number.
func leHex(t testing.TB, s string) uint64 {
	t.Helper()
	var v uint64
	require.Equal(t, 0, len(s)%2, "hex %q", s)
	for i := len(s) - 2; i >= 0; i -= 2 {
		x, ok := unhex2(s[i], s[i+1])
		require.True(t, ok, "hex %q", s)
		v = v<<8 | uint64(x)
	}
	return v
}

// le64 encodes a number as 8 little-endian bytes in hex.
func le64(v uint64) string {
	var b strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "%02x", byte(v>>(8*i)))
	}
	return b.String()
}
