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
	for _, tc := range []struct{ name, hostLoopback, gateway string }{
		{"ipv4", "127.0.0.1", GatewayIPv4},
		{"ipv6", "::1", GatewayIPv6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hl, err := net.Listen("tcp", net.JoinHostPort(tc.hostLoopback, "0"))
			if err != nil {
				t.Skipf("host loopback %s: %v", tc.hostLoopback, err)
			}
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
			gw := netip.MustParseAddr(tc.gateway)
			fam := AF_INET
			if gw.Is6() {
				fam = AF_INET6
			}
			c := newSocket(t, n, fam, SOCK_STREAM)
			dst := netip.AddrPortFrom(gw, port)
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
			hl2, err := net.Listen("tcp", net.JoinHostPort(tc.hostLoopback, "0"))
			require.NoError(t, err)
			closedPort := uint16(hl2.Addr().(*net.TCPAddr).Port)
			hl2.Close()
			r := newSocket(t, n, fam, SOCK_STREAM)
			dst = netip.AddrPortFrom(gw, closedPort)
			requireErrno(t, linux.EINPROGRESS, r.Connect(dst))
			waitEvents(t, r, EventOut|EventErr|EventHup)
			requireErrno(t, linux.ECONNREFUSED, r.Connect(dst))
		})
	}
}

// TestNATFull reaches a host server through one of the host's own
// non-loopback addresses, which only NATFull dials.
func TestNATFull(t *testing.T) {
	var hostIP netip.Addr
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
			hostIP = p.Addr()
			break
		}
	}
	if !hostIP.IsValid() {
		t.Skip("the host has no non-loopback IPv4 address")
	}
	hl, err := net.Listen("tcp", net.JoinHostPort(hostIP.String(), "0"))
	require.NoError(t, err)
	defer hl.Close()
	go func() {
		c, err := hl.Accept()
		if err == nil {
			c.Write([]byte("from the host"))
			c.Close()
		}
	}()
	dst := netip.AddrPortFrom(hostIP, uint16(hl.Addr().(*net.TCPAddr).Port))

	gwOnly := newNet(t, Config{Seed: 34, NAT: NATGateway})
	c := newSocket(t, gwOnly, AF_INET, SOCK_STREAM)
	requireErrno(t, linux.EINPROGRESS, c.Connect(dst))
	require.False(t, gwOnly.HostActive(), "NATGateway does not dial other addresses")
	require.Zero(t, c.Readiness(EventOut|EventErr|EventHup), "nobody answers: the SYN waits for its retransmission")

	n := newNet(t, Config{Seed: 34, NAT: NATFull})
	drive(t, n)
	c = newSocket(t, n, AF_INET, SOCK_STREAM)
	requireErrno(t, linux.EINPROGRESS, c.Connect(dst))
	waitEvents(t, c, EventOut|EventErr|EventHup)
	requireOK(t, c.Connect(dst))
	require.Equal(t, "from the host", string(guestRead(t, c, 100)))
}

// TestCloseWithHostConnectionsOpen checks that Close ends relays that are
// still open, and that the host side is idle afterwards.
func TestCloseWithHostConnectionsOpen(t *testing.T) {
	n, err := New(Config{Seed: 35})
	require.NoError(t, err)
	drive(t, n)
	l := listenTCP(t, n, "0.0.0.0:80")
	addr, err := n.Publish(Port{GuestPort: 80})
	require.NoError(t, err)
	_, err = n.Publish(Port{HostPort: uint16(addr.(*net.TCPAddr).Port), GuestPort: 81})
	require.Error(t, err, "the host port is taken")
	hc, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer hc.Close()
	s, _ := guestAccept(t, l)
	guestWrite(t, s, []byte("open"))
	buf := make([]byte, 4)
	hc.SetDeadline(time.Now().Add(hangGuard))
	_, err = io.ReadFull(hc, buf)
	require.NoError(t, err)
	require.True(t, n.HostActive())

	require.NoError(t, n.Close())
	require.False(t, n.HostActive(), "Close waited for every relay")
	_, err = hc.Read(buf)
	require.Error(t, err, "the host client sees the connection end")
	require.False(t, isTimeout(err), "%v", err)
	_, err = n.Publish(Port{GuestPort: 80})
	require.Error(t, err)
	_, e := n.Socket(AF_INET, SOCK_STREAM, 0)
	requireErrno(t, linux.ENETDOWN, e)
	require.NoError(t, n.Close(), "closing twice")
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
