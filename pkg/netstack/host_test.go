package netstack

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

// guestRead reads from a guest socket whose peer is on the host until it
// has want bytes or end of stream, waiting for readiness in between.
func guestRead(t *testing.T, s *Socket, want int) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < want {
		r, e := s.Recv(buf, 0)
		if e == linux.EAGAIN {
			waitEvents(t, s, EventIn|EventRdHup|EventHup|EventErr)
			continue
		}
		requireOK(t, e)
		if r.N == 0 {
			break
		}
		got = append(got, buf[:r.N]...)
	}
	return got
}

// guestWrite writes all of data, waiting for room when the host is slow.
func guestWrite(t *testing.T, s *Socket, data []byte) {
	t.Helper()
	for len(data) > 0 {
		k, e := s.Send(data, netip.AddrPort{}, 0)
		if e == linux.EAGAIN {
			waitEvents(t, s, EventOut|EventErr|EventHup)
			continue
		}
		requireOK(t, e)
		data = data[k:]
	}
}

// guestAccept accepts one connection, waiting for it.
func guestAccept(t *testing.T, l *Socket) (*Socket, netip.AddrPort) {
	t.Helper()
	for {
		s, peer, e := l.Accept()
		if e == linux.EAGAIN {
			waitEvents(t, l, EventIn)
			continue
		}
		requireOK(t, e)
		t.Cleanup(s.Close)
		return s, peer
	}
}

func TestPublishTCP(t *testing.T) {
	n := newNet(t, Config{Seed: 30})
	drive(t, n)
	l := listenTCP(t, n, "0.0.0.0:8080")
	addr, err := n.Publish(Port{GuestPort: 8080})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", addr.(*net.TCPAddr).IP.String(), "published on the host's loopback by default")

	// A real host client: Go's net package on the host's TCP stack.
	hc, err := net.DialTimeout("tcp", addr.String(), hangGuard)
	require.NoError(t, err)
	defer hc.Close()
	hc.SetDeadline(time.Now().Add(hangGuard))
	s, peer := guestAccept(t, l)
	require.Equal(t, netip.MustParseAddr(GatewayIPv4), peer.Addr(), "the guest sees the gateway, as with qemu's hostfwd")
	require.True(t, n.HostActive())

	request := pattern(300000, 9)
	go func() {
		hc.Write(request)
		hc.(*net.TCPConn).CloseWrite()
	}()
	got := guestRead(t, s, len(request)+1)
	require.Equal(t, request, got, "all bytes, then end of stream")
	guestWrite(t, s, []byte("HTTP/1.0 200 OK\r\n\r\nhello"))
	s.Close()
	reply, err := io.ReadAll(hc)
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.0 200 OK\r\n\r\nhello", string(reply))

	st := n.Stats()[1]
	require.Greater(t, st.RxBytes, uint64(300000), "host traffic moves eth0's counters")
	require.Greater(t, st.TxPackets, uint64(0))

	// No guest listener: the host client's connection is closed.
	addr2, err := n.Publish(Port{GuestPort: 8081})
	require.NoError(t, err)
	hc2, err := net.DialTimeout("tcp", addr2.String(), hangGuard)
	require.NoError(t, err)
	hc2.SetDeadline(time.Now().Add(hangGuard))
	_, err = hc2.Read(make([]byte, 1))
	require.Error(t, err)
	require.False(t, isTimeout(err), "closed, not timed out: %v", err)
	hc2.Close()
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestPublishUDP(t *testing.T) {
	n := newNet(t, Config{Seed: 31})
	drive(t, n)
	us := newSocket(t, n, AF_INET, SOCK_DGRAM)
	requireOK(t, us.Bind(netip.MustParseAddrPort("0.0.0.0:5353")))
	addr, err := n.Publish(Port{GuestPort: 5353, UDP: true})
	require.NoError(t, err)

	hc, err := net.Dial("udp", addr.String())
	require.NoError(t, err)
	defer hc.Close()
	hc.SetDeadline(time.Now().Add(hangGuard))
	_, err = hc.Write([]byte("question"))
	require.NoError(t, err)
	waitEvents(t, us, EventIn)
	buf := make([]byte, 100)
	r, e := us.Recv(buf, 0)
	requireOK(t, e)
	require.Equal(t, "question", string(buf[:r.N]))
	require.Equal(t, netip.MustParseAddr(GatewayIPv4), r.From.Addr())
	_, e = us.Send([]byte("answer"), r.From, 0)
	requireOK(t, e)
	k, err := hc.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "answer", string(buf[:k]))
}

func TestNATToHostLoopback(t *testing.T) {
	// A host server on 127.0.0.1.
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer hl.Close()
	port := uint16(hl.Addr().(*net.TCPAddr).Port)
	served := make(chan []byte, 1)
	go func() {
		c, err := hl.Accept()
		if err != nil {
			served <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(hangGuard))
		req := make([]byte, 5)
		io.ReadFull(c, req)
		c.Write(append([]byte("echo:"), req...))
		c.(*net.TCPConn).CloseWrite()
		rest, _ := io.ReadAll(c)
		served <- append(req, rest...)
	}()

	n := newNet(t, Config{Seed: 32, NAT: NATGateway})
	drive(t, n)
	c := newSocket(t, n, AF_INET, SOCK_STREAM)
	dst := netip.AddrPortFrom(netip.MustParseAddr(GatewayIPv4), port)
	requireErrno(t, linux.EINPROGRESS, c.Connect(dst))
	require.True(t, n.HostActive(), "the kernel must not jump time while the host dials")
	waitEvents(t, c, EventOut|EventErr|EventHup)
	requireOK(t, c.Connect(dst))
	guestWrite(t, c, []byte("hello"))
	got := guestRead(t, c, 11)
	require.Equal(t, "echo:hello", string(got[:10]), "%q", got)
	guestWrite(t, c, []byte(" world"))
	requireOK(t, c.Shutdown(SHUT_WR))
	select {
	case req := <-served:
		require.Equal(t, "hello world", string(req))
	case <-time.After(hangGuard):
		t.Fatal("host server never finished")
	}

	// A host port nobody listens on: the guest gets ECONNREFUSED.
	hl2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := uint16(hl2.Addr().(*net.TCPAddr).Port)
	hl2.Close()
	r := newSocket(t, n, AF_INET, SOCK_STREAM)
	dst = netip.AddrPortFrom(netip.MustParseAddr(GatewayIPv4), closedPort)
	requireErrno(t, linux.EINPROGRESS, r.Connect(dst))
	waitEvents(t, r, EventOut|EventErr|EventHup)
	requireErrno(t, linux.ECONNREFUSED, r.Connect(dst))

}

func TestNATUDP(t *testing.T) {
	hc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer hc.Close()
	go func() {
		buf := make([]byte, 1500)
		hc.SetDeadline(time.Now().Add(hangGuard))
		k, from, err := hc.ReadFrom(buf)
		if err == nil {
			hc.WriteTo(append([]byte("re:"), buf[:k]...), from)
		}
	}()
	port := uint16(hc.LocalAddr().(*net.UDPAddr).Port)

	n := newNet(t, Config{Seed: 33, NAT: NATGateway})
	drive(t, n)
	u := newSocket(t, n, AF_INET, SOCK_DGRAM)
	_, e := u.Send([]byte("ping"), netip.AddrPortFrom(netip.MustParseAddr(GatewayIPv4), port), 0)
	requireOK(t, e)
	waitEvents(t, u, EventIn)
	buf := make([]byte, 100)
	r, e := u.Recv(buf, 0)
	requireOK(t, e)
	require.Equal(t, "re:ping", string(buf[:r.N]))
	require.Equal(t, netip.AddrPortFrom(netip.MustParseAddr(GatewayIPv4), port), r.From)
}

func TestParsePort(t *testing.T) {
	for in, want := range map[string]Port{
		"8080:80":           {HostPort: 8080, GuestPort: 80},
		"8080:80/tcp":       {HostPort: 8080, GuestPort: 80},
		"5353:53/udp":       {HostPort: 5353, GuestPort: 53, UDP: true},
		"0.0.0.0:8080:80":   {HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: 8080, GuestPort: 80},
		"[::1]:8080:80/udp": {HostIP: netip.MustParseAddr("::1"), HostPort: 8080, GuestPort: 80, UDP: true},
		"0:22":              {GuestPort: 22},
	} {
		got, err := ParsePort(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		again, err := ParsePort(got.String())
		require.NoError(t, err, got.String())
		require.Equal(t, want, again, "String round trip of %q: %q", in, got.String())
	}
	for _, bad := range []string{"", "80", "8080:0", "8080:80/sctp", "x:80", "8080:70000", "1.2.3:80:80"} {
		_, err := ParsePort(bad)
		require.Error(t, err, bad)
	}
}
