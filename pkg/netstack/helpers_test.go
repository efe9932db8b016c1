package netstack

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

// hangGuard bounds waits on host traffic so that a broken test fails
// instead of hanging; it is not a timing threshold.
const hangGuard = 30 * time.Second

func newNet(t testing.TB, cfg Config) *Network {
	t.Helper()
	n, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

func newSocket(t testing.TB, n *Network, family, typ int) *Socket {
	t.Helper()
	s, e := n.Socket(family, typ, 0)
	require.Equal(t, linux.Errno(0), e, "socket: %v", e)
	t.Cleanup(s.Close)
	return s
}

func listenTCP(t testing.TB, n *Network, addr string) *Socket {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	fam := AF_INET
	if ap.Addr().Is6() {
		fam = AF_INET6
	}
	l := newSocket(t, n, fam, SOCK_STREAM)
	requireOK(t, l.Bind(ap))
	requireOK(t, l.Listen(16))
	return l
}

// connectTCP connects as a blocking connect(2) would on a machine whose
// peer is inside it: EINPROGRESS, then the second call's result.
func connectTCP(t testing.TB, n *Network, addr string) *Socket {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	fam := AF_INET
	if ap.Addr().Is6() {
		fam = AF_INET6
	}
	c := newSocket(t, n, fam, SOCK_STREAM)
	require.Equal(t, linux.EINPROGRESS, c.Connect(ap))
	require.NotZero(t, c.Readiness(EventOut)&EventOut, "connected socket is writable")
	requireOK(t, c.Connect(ap))
	return c
}

func accept(t testing.TB, l *Socket) (*Socket, netip.AddrPort) {
	t.Helper()
	s, peer, e := l.Accept()
	requireOK(t, e)
	t.Cleanup(s.Close)
	return s, peer
}

func requireOK(t testing.TB, e linux.Errno, msgAndArgs ...any) {
	t.Helper()
	if e != 0 {
		require.Fail(t, "errno "+e.Name()+" ("+e.Error()+")", msgAndArgs...)
	}
}

func requireErrno(t testing.TB, want, got linux.Errno, msgAndArgs ...any) {
	t.Helper()
	if want != got {
		require.Fail(t, "want "+want.Name()+", got "+got.Name(), msgAndArgs...)
	}
}

// sendAll writes data to s, which must take it all without blocking.
func sendAll(t testing.TB, s *Socket, data []byte) {
	t.Helper()
	for len(data) > 0 {
		n, e := s.Send(data, netip.AddrPort{}, 0)
		requireOK(t, e)
		require.Positive(t, n)
		data = data[n:]
	}
}

// readAvailable reads whatever is queued on s, until EAGAIN or end of
// stream; eof reports the latter.
func readAvailable(t testing.TB, s *Socket) (data []byte, eof bool) {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, 8192)
	for {
		r, e := s.Recv(buf, 0)
		if e == linux.EAGAIN {
			return out.Bytes(), false
		}
		requireOK(t, e)
		if r.N == 0 {
			return out.Bytes(), true
		}
		out.Write(buf[:r.N])
	}
}

// pattern returns n bytes that differ from position to position.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ seed
	}
	return b
}

// drive settles n whenever host traffic arrives, as the kernel does, until
// the test ends.
func drive(t testing.TB, n *Network) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-n.Wake():
				n.Settle()
			}
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
}

// waitEvents blocks until s reports one of mask, as a blocking call would
// wait, for sockets whose peer is on the host.
func waitEvents(t testing.TB, s *Socket, mask Events) Events {
	t.Helper()
	ch := make(chan struct{}, 1)
	cancel := s.Watch(mask, func(Events) {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	defer cancel()
	deadline := time.After(hangGuard)
	for {
		if ev := s.Readiness(mask); ev != 0 {
			return ev
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("socket never reported %#x", mask)
		}
	}
}
