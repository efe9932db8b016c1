package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

func TestSockOptRoundTrips(t *testing.T) {
	n := newNet(t, Config{Seed: 7})
	s := newSocket(t, n, AF_INET6, SOCK_STREAM)
	for _, tc := range []struct {
		level, name int
		set, want   int32
	}{
		{SOL_SOCKET, SO_REUSEADDR, 1, 1},
		{SOL_SOCKET, SO_REUSEADDR, 0, 0},
		{SOL_SOCKET, SO_REUSEPORT, 5, 1},
		{SOL_SOCKET, SO_KEEPALIVE, 1, 1},
		{SOL_SOCKET, SO_OOBINLINE, 1, 1},
		{IPPROTO_TCP, TCP_NODELAY, 1, 1},
		{IPPROTO_TCP, TCP_NODELAY, 0, 0},
		{IPPROTO_TCP, TCP_CORK, 1, 1},
		{IPPROTO_TCP, TCP_KEEPIDLE, 30, 30},
		{IPPROTO_TCP, TCP_KEEPINTVL, 5, 5},
		{IPPROTO_TCP, TCP_KEEPCNT, 4, 4},
		{IPPROTO_TCP, TCP_USER_TIMEOUT, 1500, 1500},
		{IPPROTO_IPV6, IPV6_V6ONLY, 1, 1},
		{IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9, 9},
		{IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1, 64},
	} {
		requireOK(t, s.SetSockOptInt(tc.level, tc.name, tc.set), "set %d/%d", tc.level, tc.name)
		v, e := s.GetSockOptInt(tc.level, tc.name)
		requireOK(t, e)
		require.Equal(t, tc.want, v, "option %d/%d", tc.level, tc.name)
	}

	for name, want := range map[int]int32{SO_TYPE: SOCK_STREAM, SO_PROTOCOL: IPPROTO_TCP, SO_DOMAIN: AF_INET6, SO_ACCEPTCONN: 0} {
		v, e := s.GetSockOptInt(SOL_SOCKET, name)
		requireOK(t, e)
		require.Equal(t, want, v, "SOL_SOCKET %d", name)
		requireErrno(t, linux.ENOPROTOOPT, s.SetSockOptInt(SOL_SOCKET, name, 1), "read-only option %d", name)
	}

	// Buffer sizes are doubled, as on Linux, and stay within the limits.
	requireOK(t, s.SetSockOptInt(SOL_SOCKET, SO_RCVBUF, 64<<10))
	v, e := s.GetSockOptInt(SOL_SOCKET, SO_RCVBUF)
	requireOK(t, e)
	require.Equal(t, int32(128<<10), v)
	requireOK(t, s.SetSockOptInt(SOL_SOCKET, SO_SNDBUF, 1))
	v, e = s.GetSockOptInt(SOL_SOCKET, SO_SNDBUF)
	requireOK(t, e)
	require.Positive(t, v)
	require.Less(t, v, int32(64<<10), "a tiny SO_SNDBUF becomes the minimum")

	// struct linger.
	requireOK(t, s.SetSockOpt(SOL_SOCKET, SO_LINGER, []byte{1, 0, 0, 0, 7, 0, 0, 0}))
	b, e := s.GetSockOpt(SOL_SOCKET, SO_LINGER, 8)
	requireOK(t, e)
	require.Equal(t, []byte{1, 0, 0, 0, 7, 0, 0, 0}, b)
	requireErrno(t, linux.EINVAL, s.SetSockOpt(SOL_SOCKET, SO_LINGER, []byte{1, 0, 0, 0}))

	// struct timeval for the timeouts the kernel applies.
	tv := make([]byte, 16)
	binary.LittleEndian.PutUint64(tv, 2)
	binary.LittleEndian.PutUint64(tv[8:], 500000)
	requireOK(t, s.SetSockOpt(SOL_SOCKET, SO_RCVTIMEO, tv))
	require.Equal(t, 2500*time.Millisecond, s.RecvTimeout())
	b, e = s.GetSockOpt(SOL_SOCKET, SO_RCVTIMEO, 16)
	requireOK(t, e)
	require.Equal(t, tv, b)
	binary.LittleEndian.PutUint64(tv[8:], 1000000)
	requireErrno(t, linux.EDOM, s.SetSockOpt(SOL_SOCKET, SO_SNDTIMEO, tv))
	requireErrno(t, linux.EINVAL, s.SetSockOpt(SOL_SOCKET, SO_SNDTIMEO, tv[:8]))

	// Short values, truncated reads, bad ranges, unknown options.
	requireErrno(t, linux.EINVAL, s.SetSockOpt(SOL_SOCKET, SO_KEEPALIVE, []byte{1, 0}))
	b, e = s.GetSockOpt(SOL_SOCKET, SO_TYPE, 1)
	requireOK(t, e)
	require.Equal(t, []byte{SOCK_STREAM}, b, "getsockopt truncates to optlen as Linux does")
	_, e = s.GetSockOpt(SOL_SOCKET, SO_TYPE, -1)
	requireErrno(t, linux.EINVAL, e)
	requireErrno(t, linux.EINVAL, s.SetSockOptInt(IPPROTO_TCP, TCP_KEEPIDLE, 0))
	requireErrno(t, linux.EINVAL, s.SetSockOptInt(IPPROTO_TCP, TCP_KEEPIDLE, 40000))
	requireErrno(t, linux.EINVAL, s.SetSockOptInt(IPPROTO_TCP, TCP_KEEPCNT, 128))
	requireErrno(t, linux.ENOPROTOOPT, s.SetSockOptInt(SOL_SOCKET, 9999, 1))
	_, e = s.GetSockOpt(SOL_SOCKET, 9999, 4)
	requireErrno(t, linux.ENOPROTOOPT, e)
	_, e = s.GetSockOpt(99, 1, 4)
	requireErrno(t, linux.ENOPROTOOPT, e)

	// Protocol levels only apply to their sockets.
	u := newSocket(t, n, AF_INET, SOCK_DGRAM)
	requireErrno(t, linux.ENOPROTOOPT, u.SetSockOptInt(IPPROTO_TCP, TCP_NODELAY, 1))
	requireErrno(t, linux.ENOPROTOOPT, u.SetSockOptInt(IPPROTO_IPV6, IPV6_V6ONLY, 1))
	requireOK(t, u.SetSockOptInt(IPPROTO_IP, IP_TTL, 10))
	v, e = u.GetSockOptInt(IPPROTO_IP, IP_TTL)
	requireOK(t, e)
	require.Equal(t, int32(10), v)
	requireErrno(t, linux.EINVAL, u.SetSockOptInt(IPPROTO_IP, IP_TTL, 0))

	// IPV6_V6ONLY cannot change once bound.
	s6 := newSocket(t, n, AF_INET6, SOCK_DGRAM)
	requireOK(t, s6.Bind(netip.MustParseAddrPort("[::1]:0")))
	requireErrno(t, linux.EINVAL, s6.SetSockOptInt(IPPROTO_IPV6, IPV6_V6ONLY, 1))

	// SO_ACCEPTCONN follows listen.
	l := listenTCP(t, n, "127.0.0.1:80")
	v, e = l.GetSockOptInt(SOL_SOCKET, SO_ACCEPTCONN)
	requireOK(t, e)
	require.Equal(t, int32(1), v)
}

func TestReadinessNotifications(t *testing.T) {
	n := newNet(t, Config{Seed: 8})
	l := listenTCP(t, n, "127.0.0.1:80")
	var lEvents []Events
	cancel := l.Watch(EventIn, func(e Events) { lEvents = append(lEvents, e) })
	c := connectTCP(t, n, "127.0.0.1:80")
	require.NotEmpty(t, lEvents, "a new connection notifies the listener")
	require.NotZero(t, lEvents[0]&EventIn)
	cancel()
	s, _ := accept(t, l)

	var got []Events
	s.Watch(EventIn|EventRdHup|EventHup, func(e Events) { got = append(got, e) })
	require.Zero(t, s.Readiness(EventIn))
	sendAll(t, c, []byte("data"))
	require.NotEmpty(t, got, "data arrival notifies the reader")
	require.Equal(t, EventIn, s.Readiness(EventIn|EventRdHup))

	got = nil
	requireOK(t, c.Shutdown(SHUT_WR))
	require.NotEmpty(t, got)
	require.Equal(t, EventIn|EventRdHup, s.Readiness(EventIn|EventRdHup))
	require.Equal(t, EventOut, s.Readiness(EventOut), "the other direction stays open")

	// A full send buffer clears EventOut until the peer reads.
	big := pattern(8<<20, 3)
	sent := 0
	for {
		k, e := s.Send(big[sent:], netip.AddrPort{}, 0)
		if e == linux.EAGAIN {
			break
		}
		requireOK(t, e)
		sent += k
	}
	require.Zero(t, s.Readiness(EventOut))
	require.Less(t, sent, len(big), "the buffers hold less than 8 MiB")
	var out []Events
	s.Watch(EventOut, func(e Events) { out = append(out, e) })
	var recvd []byte
	for len(out) == 0 {
		d, _ := readAvailable(t, c)
		require.NotEmpty(t, d, "data keeps flowing while the writer waits")
		recvd = append(recvd, d...)
	}
	require.Equal(t, big[:len(recvd)], recvd)
	require.Equal(t, EventOut, s.Readiness(EventOut), "the writer heard that space freed up")
}
