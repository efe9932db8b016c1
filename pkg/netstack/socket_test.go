package netstack

import (
	"net/netip"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

func TestTCPEchoLoopback(t *testing.T) {
	for _, tc := range []struct{ name, listen, dial, peer string }{
		{"ipv4", "127.0.0.1:7", "127.0.0.1:7", "127.0.0.1"},
		{"ipv6", "[::1]:7", "[::1]:7", "::1"},
		{"eth0 address through lo", "0.0.0.0:7", "10.0.2.15:7", "10.0.2.15"},
		{"ipv6 eth0 address", "[::]:7", "[fec0::15]:7", "fec0::15"},
		{"dual stack", "[::]:7", "127.0.0.1:7", "::ffff:127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, Config{Seed: 1})
			l := listenTCP(t, n, tc.listen)
			require.Zero(t, l.Readiness(EventIn), "no connection yet")
			c := connectTCP(t, n, tc.dial)
			require.Equal(t, EventIn, l.Readiness(EventIn), "a connection waits in the accept queue")
			s, peer := accept(t, l)
			require.Equal(t, tc.peer, peer.Addr().String())
			local, e := c.LocalAddr()
			requireOK(t, e)
			require.Equal(t, local.Port(), peer.Port(), "accept reports the client's port")
			cp, e := c.PeerAddr()
			requireOK(t, e)
			require.Equal(t, netip.MustParseAddrPort(tc.dial).Port(), cp.Port())

			// 200 KiB each way: more than one window, so the transfer needs
			// several round trips through Recv.
			up, down := pattern(200<<10, 1), pattern(200<<10, 2)
			var gotUp, gotDown []byte
			for len(up) > 0 || len(gotUp) < 200<<10 {
				if len(up) > 0 {
					if k, e := c.Send(up, netip.AddrPort{}, 0); e == 0 {
						up = up[k:]
					} else {
						requireErrno(t, linux.EAGAIN, e)
					}
				}
				d, eof := readAvailable(t, s)
				require.False(t, eof)
				gotUp = append(gotUp, d...)
			}
			require.Equal(t, pattern(200<<10, 1), gotUp)
			for len(down) > 0 || len(gotDown) < 200<<10 {
				if len(down) > 0 {
					if k, e := s.Send(down, netip.AddrPort{}, 0); e == 0 {
						down = down[k:]
					}
				}
				d, _ := readAvailable(t, c)
				gotDown = append(gotDown, d...)
			}
			require.Equal(t, pattern(200<<10, 2), gotDown)

			// Half close: the server reads end of stream and can still send.
			requireOK(t, c.Shutdown(SHUT_WR))
			require.NotZero(t, s.Readiness(EventRdHup)&EventRdHup)
			d, eof := readAvailable(t, s)
			require.Empty(t, d)
			require.True(t, eof)
			sendAll(t, s, []byte("bye"))
			d, _ = readAvailable(t, c)
			require.Equal(t, "bye", string(d))
			_, e = c.Send([]byte("x"), netip.AddrPort{}, 0)
			requireErrno(t, linux.EPIPE, e)
		})
	}
}

func TestUDP(t *testing.T) {
	for _, tc := range []struct{ name, addr string }{
		{"ipv4", "127.0.0.1:53"},
		{"ipv6", "[::1]:53"},
		{"eth0", "10.0.2.15:53"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t, Config{Seed: 2})
			ap := netip.MustParseAddrPort(tc.addr)
			fam := AF_INET
			if ap.Addr().Is6() {
				fam = AF_INET6
			}
			srv := newSocket(t, n, fam, SOCK_DGRAM)
			requireOK(t, srv.Bind(ap))
			cli := newSocket(t, n, fam, SOCK_DGRAM)
			buf := make([]byte, 64)
			_, e := srv.Recv(buf, 0)
			requireErrno(t, linux.EAGAIN, e)

			k, e := cli.Send([]byte("query"), ap, 0)
			requireOK(t, e)
			require.Equal(t, 5, k)
			require.Equal(t, EventIn, srv.Readiness(EventIn))
			q, e := srv.InQueue()
			requireOK(t, e)
			require.Equal(t, 5, q, "FIONREAD is the next datagram's size")
			r, e := srv.Recv(buf, MSG_PEEK)
			requireOK(t, e)
			require.Equal(t, "query", string(buf[:r.N]))
			r, e = srv.Recv(buf, 0)
			requireOK(t, e)
			require.Equal(t, "query", string(buf[:r.N]))
			cliAddr, e := cli.LocalAddr()
			requireOK(t, e)
			require.Equal(t, cliAddr.Port(), r.From.Port())
			require.NotZero(t, cliAddr.Port(), "sendto bound an ephemeral port")

			t.Log("from", r.From, cliAddr)
			// A reply that does not fit is truncated and flagged.
			_, e = srv.Send([]byte("a longer answer"), r.From, 0)
			requireOK(t, e)
			small := make([]byte, 4)
			r2, e := cli.Recv(small, MSG_TRUNC)
			requireOK(t, e)
			require.Equal(t, 15, r2.N, "MSG_TRUNC returns the datagram's length")
			require.Equal(t, MSG_TRUNC, r2.Flags)
			require.Equal(t, "a lo", string(small))
			_, e = cli.Recv(small, 0)
			requireErrno(t, linux.EAGAIN, e)

			// A connected socket needs no address and filters senders.
			requireOK(t, cli.Connect(ap))
			_, e = cli.Send([]byte("again"), netip.AddrPort{}, 0)
			requireOK(t, e)
			r, e = srv.Recv(buf, 0)
			requireOK(t, e)
			require.Equal(t, "again", string(buf[:r.N]))
			peer, e := cli.PeerAddr()
			requireOK(t, e)
			require.Equal(t, ap, peer)
			requireOK(t, cli.Disconnect())
			_, e = cli.PeerAddr()
			requireErrno(t, linux.ENOTCONN, e)
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	n := newNet(t, Config{Seed: 3})
	for _, addr := range []string{"127.0.0.1:9", "[::1]:9", "10.0.2.15:9",
		// Without NAT the gateway refuses every connection.
		"10.0.2.2:80", "[fec0::2]:80"} {
		ap := netip.MustParseAddrPort(addr)
		fam := AF_INET
		if ap.Addr().Is6() {
			fam = AF_INET6
		}
		c := newSocket(t, n, fam, SOCK_STREAM)
		requireErrno(t, linux.EINPROGRESS, c.Connect(ap))
		ev := c.Readiness(AllEvents)
		require.NotZero(t, ev&EventErr, "%s: %#x", addr, ev)
		require.NotZero(t, ev&EventHup, "%s: %#x", addr, ev)
		requireErrno(t, linux.ECONNREFUSED, c.Connect(ap))
		soerr, e := c.GetSockOptInt(SOL_SOCKET, SO_ERROR)
		requireOK(t, e)
		require.Zero(t, soerr, "connect already reported the error")
	}
	// SO_ERROR reports a non-blocking connect's failure once.
	c := newSocket(t, n, AF_INET, SOCK_STREAM)
	requireErrno(t, linux.EINPROGRESS, c.Connect(netip.MustParseAddrPort("127.0.0.1:9")))
	soerr, e := c.GetSockOptInt(SOL_SOCKET, SO_ERROR)
	requireOK(t, e)
	require.Equal(t, int32(linux.ECONNREFUSED), soerr)
	soerr, e = c.GetSockOptInt(SOL_SOCKET, SO_ERROR)
	requireOK(t, e)
	require.Zero(t, soerr)
}

func TestAddressInUse(t *testing.T) {
	n := newNet(t, Config{Seed: 4})
	listenTCP(t, n, "127.0.0.1:80")
	s := newSocket(t, n, AF_INET, SOCK_STREAM)
	requireErrno(t, linux.EADDRINUSE, s.Bind(netip.MustParseAddrPort("127.0.0.1:80")))
	requireErrno(t, linux.EADDRINUSE, s.Bind(netip.MustParseAddrPort("0.0.0.0:80")))
	requireOK(t, s.Bind(netip.MustParseAddrPort("127.0.0.1:81")))
	requireErrno(t, linux.EINVAL, s.Bind(netip.MustParseAddrPort("127.0.0.1:82")), "bound already")

	u1 := newSocket(t, n, AF_INET6, SOCK_DGRAM)
	requireOK(t, u1.Bind(netip.MustParseAddrPort("[::]:5000")))
	u2 := newSocket(t, n, AF_INET, SOCK_DGRAM)
	requireErrno(t, linux.EADDRINUSE, u2.Bind(netip.MustParseAddrPort("127.0.0.1:5000")), "the dual-stack socket holds the IPv4 port too")
	v6only := newSocket(t, n, AF_INET6, SOCK_DGRAM)
	requireOK(t, v6only.SetSockOptInt(IPPROTO_IPV6, IPV6_V6ONLY, 1))
	requireOK(t, v6only.Bind(netip.MustParseAddrPort("[::]:5001")))
	u3 := newSocket(t, n, AF_INET, SOCK_DGRAM)
	requireOK(t, u3.Bind(netip.MustParseAddrPort("0.0.0.0:5001")), "an IPV6_V6ONLY socket leaves the IPv4 port free")

	// SO_REUSEPORT on every socket lets them share a port.
	var rp []*Socket
	for range 2 {
		r := newSocket(t, n, AF_INET, SOCK_STREAM)
		requireOK(t, r.SetSockOptInt(SOL_SOCKET, SO_REUSEPORT, 1))
		requireOK(t, r.Bind(netip.MustParseAddrPort("127.0.0.1:6000")))
		requireOK(t, r.Listen(4))
		rp = append(rp, r)
	}
	_ = rp

	// SO_REUSEADDR lets a new listener take a port whose old connection
	// waits in TIME_WAIT, when the old socket had it too (accepted sockets
	// inherit it from their listener).
	l := newSocket(t, n, AF_INET, SOCK_STREAM)
	requireOK(t, l.SetSockOptInt(SOL_SOCKET, SO_REUSEADDR, 1))
	requireOK(t, l.Bind(netip.MustParseAddrPort("127.0.0.1:7000")))
	requireOK(t, l.Listen(4))
	c := connectTCP(t, n, "127.0.0.1:7000")
	a, _ := accept(t, l)
	a.Close() // the server closes first: its side goes to TIME_WAIT
	c.Close()
	l.Close()
	require.Contains(t, string(n.ProcNetTCP(AF_INET)), "0100007F:1B58 0100007F:", "TIME_WAIT entry on port 7000")
	again := newSocket(t, n, AF_INET, SOCK_STREAM)
	requireErrno(t, linux.EADDRINUSE, again.Bind(netip.MustParseAddrPort("127.0.0.1:7000")), "without SO_REUSEADDR")
	requireOK(t, again.SetSockOptInt(SOL_SOCKET, SO_REUSEADDR, 1))
	requireOK(t, again.Bind(netip.MustParseAddrPort("127.0.0.1:7000")))
	requireOK(t, again.Listen(1))
}

func TestSocketErrors(t *testing.T) {
	n := newNet(t, Config{Seed: 5})
	_, e := n.Socket(1 /* AF_UNIX */, SOCK_STREAM, 0)
	requireErrno(t, linux.EAFNOSUPPORT, e)
	_, e = n.Socket(AF_INET, SOCK_RAW, 0)
	requireErrno(t, linux.EPROTONOSUPPORT, e) // as Linux: a raw socket names its protocol
	_, e = n.Socket(AF_INET, 5 /* SOCK_SEQPACKET */, 0)
	requireErrno(t, linux.ESOCKTNOSUPPORT, e)
	_, e = n.Socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)
	requireErrno(t, linux.EPROTONOSUPPORT, e)
	_, e = n.Socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP)
	requireErrno(t, linux.EPROTONOSUPPORT, e)

	s := newSocket(t, n, AF_INET, SOCK_STREAM)
	requireErrno(t, linux.EADDRNOTAVAIL, s.Bind(netip.MustParseAddrPort("192.0.2.1:80")))
	requireErrno(t, linux.EAFNOSUPPORT, s.Bind(netip.MustParseAddrPort("[::1]:80")))
	requireErrno(t, linux.EINVAL, s.Bind(netip.AddrPort{}))
	_, _, e = s.Accept()
	requireErrno(t, linux.EINVAL, e)
	_, e = s.Recv(make([]byte, 4), 0)
	requireErrno(t, linux.ENOTCONN, e)
	_, e = s.Send([]byte("x"), netip.AddrPort{}, 0)
	requireErrno(t, linux.EPIPE, e)
	_, e = s.PeerAddr()
	requireErrno(t, linux.ENOTCONN, e)
	requireErrno(t, linux.ENOTCONN, s.Shutdown(SHUT_RDWR))
	requireErrno(t, linux.EINVAL, s.Shutdown(3))
	local, e := s.LocalAddr()
	requireOK(t, e)
	require.Equal(t, "0.0.0.0:0", local.String())

	s6 := newSocket(t, n, AF_INET6, SOCK_STREAM)
	requireErrno(t, linux.EINVAL, s6.Bind(netip.MustParseAddrPort("127.0.0.1:80")), "sockaddr_in is too short for AF_INET6")
	requireErrno(t, linux.EINVAL, s6.Connect(netip.MustParseAddrPort("127.0.0.1:80")))
	local, e = s6.LocalAddr()
	requireOK(t, e)
	require.Equal(t, "[::]:0", local.String())

	u := newSocket(t, n, AF_INET, SOCK_DGRAM)
	requireErrno(t, linux.EOPNOTSUPP, u.Listen(1))
	_, e = u.Send([]byte("x"), netip.AddrPort{}, 0)
	requireErrno(t, linux.EDESTADDRREQ, e)
	_, e = u.Send([]byte("x"), netip.MustParseAddrPort("[::1]:9"), 0)
	requireErrno(t, linux.EAFNOSUPPORT, e)
	_, e = u.Send(make([]byte, 70000), netip.MustParseAddrPort("127.0.0.1:9"), 0)
	requireErrno(t, linux.EMSGSIZE, e)

	// A reset connection reports ECONNRESET, then EPIPE.
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	a, _ := accept(t, l)
	requireOK(t, a.SetSockOpt(SOL_SOCKET, SO_LINGER, []byte{1, 0, 0, 0, 0, 0, 0, 0}))
	a.Close() // linger 0: reset
	require.NotZero(t, c.Readiness(EventHup)&EventHup)
	_, e = c.Recv(make([]byte, 4), 0)
	requireErrno(t, linux.ECONNRESET, e)
	_, e = c.Send([]byte("x"), netip.AddrPort{}, 0)
	requireErrno(t, linux.EPIPE, e)

	// Calls on a closed socket fail as on a closed descriptor.
	s.Close()
	requireErrno(t, linux.EBADF, s.Listen(1))
}

func TestPingSocket(t *testing.T) {
	n := newNet(t, Config{Seed: 6})
	for _, tc := range []struct {
		family, proto int
		dst           string
		req           []byte
	}{
		// ICMP echo request: type 8 (ICMPv6: 128), code, checksum, id, seq.
		{AF_INET, IPPROTO_ICMP, "127.0.0.1", []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}},
		{AF_INET, IPPROTO_ICMP, "10.0.2.2", []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}},
		{AF_INET6, IPPROTO_ICMPV6, "::1", []byte{128, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}},
		{AF_INET6, IPPROTO_ICMPV6, "fec0::2", []byte{128, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}},
	} {
		s, e := n.Socket(tc.family, SOCK_DGRAM, tc.proto)
		requireOK(t, e)
		_, e = s.Send(tc.req, netip.AddrPortFrom(netip.MustParseAddr(tc.dst), 0), 0)
		requireOK(t, e)
		buf := make([]byte, 64)
		r, e := s.Recv(buf, 0)
		requireOK(t, e, "%s", tc.dst)
		require.Equal(t, tc.dst, r.From.Addr().Unmap().String())
		require.Equal(t, "hi", string(buf[8:r.N]), "echo reply carries the payload")
		s.Close()
	}
}

func TestTCPRecvFlags(t *testing.T) {
	n := newNet(t, Config{Seed: 14})
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	s, _ := accept(t, l)
	sendAll(t, c, []byte("0123456789"))
	q, e := s.InQueue()
	requireOK(t, e)
	require.Equal(t, 10, q)

	buf := make([]byte, 4)
	r, e := s.Recv(buf, MSG_PEEK)
	requireOK(t, e)
	require.Equal(t, "0123", string(buf[:r.N]))
	r, e = s.Recv(make([]byte, 100), MSG_PEEK|MSG_TRUNC)
	requireOK(t, e)
	require.Equal(t, 10, r.N, "MSG_PEEK|MSG_TRUNC: what could be read")
	r, e = s.Recv(buf, MSG_TRUNC)
	requireOK(t, e)
	require.Equal(t, 4, r.N, "MSG_TRUNC discards up to the length")
	require.Equal(t, "0123", string(buf[:r.N]), "the buffer is left alone")
	r, e = s.Recv(nil, 0)
	requireOK(t, e)
	require.Zero(t, r.N, "an empty read returns 0 when data waits")
	r, e = s.Recv(buf, 0)
	requireOK(t, e)
	require.Equal(t, "4567", string(buf[:r.N]))
	q, e = s.InQueue()
	requireOK(t, e)
	require.Equal(t, 2, q)
}
