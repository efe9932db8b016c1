//go:build linux

package netstack

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// sockAPI is the socket calls a scenario makes, on the host's Linux (what
// qemu-user passes guest socket calls to) or on a Network. Every call is
// non-blocking; results are errnos.
type sockAPI interface {
	socket(family, typ int) (int, linux.Errno)
	bind(fd int, a netip.AddrPort) linux.Errno
	listen(fd, backlog int) linux.Errno
	connect(fd int, a netip.AddrPort) linux.Errno
	accept(fd int) (int, linux.Errno)
	send(fd int, b []byte) (int, linux.Errno)
	sendto(fd int, b []byte, a netip.AddrPort) (int, linux.Errno)
	recv(fd int, n, flags int) (int, linux.Errno)
	shutdown(fd, how int) linux.Errno
	setsockopt(fd, level, name int, v []byte) linux.Errno
	getsockopt(fd, level, name int) (int32, linux.Errno)
	localAddr(fd int) netip.AddrPort
	peer(fd int) (netip.AddrPort, linux.Errno)
	close(fd int)
}

// hostAPI runs the calls on the host kernel.
type hostAPI struct{ fds []int }

func hostErr(err error) linux.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return linux.Errno(e)
	}
	if err != nil {
		return linux.EIO
	}
	return 0
}

func toUnix(a netip.AddrPort) unix.Sockaddr {
	if a.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

func fromUnix(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func (h *hostAPI) socket(family, typ int) (int, linux.Errno) {
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		h.fds = append(h.fds, fd)
	}
	return fd, hostErr(err)
}
func (h *hostAPI) bind(fd int, a netip.AddrPort) linux.Errno {
	return hostErr(unix.Bind(fd, toUnix(a)))
}
func (h *hostAPI) listen(fd, backlog int) linux.Errno { return hostErr(unix.Listen(fd, backlog)) }
func (h *hostAPI) connect(fd int, a netip.AddrPort) linux.Errno {
	return hostErr(unix.Connect(fd, toUnix(a)))
}
func (h *hostAPI) accept(fd int) (int, linux.Errno) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err == nil {
		h.fds = append(h.fds, nfd)
	}
	return nfd, hostErr(err)
}
func (h *hostAPI) send(fd int, b []byte) (int, linux.Errno) {
	n, err := unix.SendmsgN(fd, b, nil, nil, unix.MSG_NOSIGNAL)
	if err != nil {
		return 0, hostErr(err)
	}
	return n, 0
}
func (h *hostAPI) sendto(fd int, b []byte, a netip.AddrPort) (int, linux.Errno) {
	n, err := unix.SendmsgN(fd, b, nil, toUnix(a), unix.MSG_NOSIGNAL)
	if err != nil {
		return 0, hostErr(err)
	}
	return n, 0
}
func (h *hostAPI) recv(fd int, n, flags int) (int, linux.Errno) {
	buf := make([]byte, n)
	k, _, _, _, err := unix.Recvmsg(fd, buf, nil, flags)
	if err != nil {
		return 0, hostErr(err)
	}
	return k, 0
}
func (h *hostAPI) shutdown(fd, how int) linux.Errno { return hostErr(unix.Shutdown(fd, how)) }
func (h *hostAPI) setsockopt(fd, level, name int, v []byte) linux.Errno {
	return hostErr(unix.SetsockoptString(fd, level, name, string(v)))
}
func (h *hostAPI) getsockopt(fd, level, name int) (int32, linux.Errno) {
	v, err := unix.GetsockoptInt(fd, level, name)
	return int32(v), hostErr(err)
}
func (h *hostAPI) localAddr(fd int) netip.AddrPort {
	sa, _ := unix.Getsockname(fd)
	return fromUnix(sa)
}
func (h *hostAPI) peer(fd int) (netip.AddrPort, linux.Errno) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}, hostErr(err)
	}
	return fromUnix(sa), 0
}
func (h *hostAPI) close(fd int) { unix.Close(fd) }
func (h *hostAPI) closeAll() {
	for _, fd := range h.fds {
		unix.Close(fd)
	}
}

// stackAPI runs the calls on a Network.
type stackAPI struct {
	n     *Network
	socks []*Socket
}

func (s *stackAPI) get(fd int) *Socket { return s.socks[fd] }
func (s *stackAPI) socket(family, typ int) (int, linux.Errno) {
	so, e := s.n.Socket(family, typ, 0)
	if e != 0 {
		return -1, e
	}
	s.socks = append(s.socks, so)
	return len(s.socks) - 1, 0
}
func (s *stackAPI) bind(fd int, a netip.AddrPort) linux.Errno    { return s.get(fd).Bind(a) }
func (s *stackAPI) listen(fd, backlog int) linux.Errno           { return s.get(fd).Listen(backlog) }
func (s *stackAPI) connect(fd int, a netip.AddrPort) linux.Errno { return s.get(fd).Connect(a) }
func (s *stackAPI) accept(fd int) (int, linux.Errno) {
	so, _, e := s.get(fd).Accept()
	if e != 0 {
		return -1, e
	}
	s.socks = append(s.socks, so)
	return len(s.socks) - 1, 0
}
func (s *stackAPI) send(fd int, b []byte) (int, linux.Errno) {
	return s.get(fd).Send(b, netip.AddrPort{}, 0)
}
func (s *stackAPI) sendto(fd int, b []byte, a netip.AddrPort) (int, linux.Errno) {
	return s.get(fd).Send(b, a, 0)
}
func (s *stackAPI) recv(fd int, n, flags int) (int, linux.Errno) {
	r, e := s.get(fd).Recv(make([]byte, n), flags)
	return r.N, e
}
func (s *stackAPI) shutdown(fd, how int) linux.Errno { return s.get(fd).Shutdown(how) }
func (s *stackAPI) setsockopt(fd, level, name int, v []byte) linux.Errno {
	return s.get(fd).SetSockOpt(level, name, v)
}
func (s *stackAPI) getsockopt(fd, level, name int) (int32, linux.Errno) {
	return s.get(fd).GetSockOptInt(level, name)
}
func (s *stackAPI) localAddr(fd int) netip.AddrPort {
	a, _ := s.get(fd).LocalAddr()
	return a
}
func (s *stackAPI) peer(fd int) (netip.AddrPort, linux.Errno) { return s.get(fd).PeerAddr() }
func (s *stackAPI) close(fd int)                              { s.get(fd).Close() }

// scenario records the results of a sequence of calls; addresses and
// ports that differ between the host and the machine are not recorded.
type scenario func(api sockAPI, rec func(string, ...any))

// TestErrnosMatchLinux runs the same socket scenarios on the host's Linux
// and on a Network and requires the same results, errno for errno.
func TestErrnosMatchLinux(t *testing.T) {
	probe, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("host has no IPv6 sockets: %v", err)
	}
	if err := unix.Bind(probe, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}); err != nil {
		unix.Close(probe)
		t.Skipf("host has no ::1: %v", err)
	}
	unix.Close(probe)

	lo4 := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port) }
	lo6 := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.IPv6Loopback(), port) }
	one := []byte{1, 0, 0, 0}
	scenarios := map[string]scenario{
		"refused": func(api sockAPI, rec func(string, ...any)) {
			// A bound but not listening socket holds a port nobody accepts on.
			hold, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			api.bind(hold, lo4(0))
			c, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("connect %s", api.connect(c, api.localAddr(hold)).Name())
			rec("connect again %s", api.connect(c, api.localAddr(hold)).Name())
			v, e := api.getsockopt(c, unix.SOL_SOCKET, unix.SO_ERROR)
			rec("SO_ERROR %d %s", v, e.Name())
		},
		"nonblocking refused, SO_ERROR": func(api sockAPI, rec func(string, ...any)) {
			hold, _ := api.socket(unix.AF_INET6, unix.SOCK_STREAM)
			api.bind(hold, lo6(0))
			c, _ := api.socket(unix.AF_INET6, unix.SOCK_STREAM)
			rec("connect %s", api.connect(c, api.localAddr(hold)).Name())
			v, e := api.getsockopt(c, unix.SOL_SOCKET, unix.SO_ERROR)
			rec("SO_ERROR %s %s", linux.Errno(v).Name(), e.Name())
			v, e = api.getsockopt(c, unix.SOL_SOCKET, unix.SO_ERROR)
			rec("SO_ERROR again %d %s", v, e.Name())
		},
		"address in use": func(api sockAPI, rec func(string, ...any)) {
			a, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("bind %s", api.bind(a, lo4(0)).Name())
			rec("listen %s", api.listen(a, 4).Name())
			b, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("bind same %s", api.bind(b, api.localAddr(a)).Name())
			rec("bind again after failure %s", api.bind(b, lo4(0)).Name())
			rec("bind twice %s", api.bind(b, lo4(0)).Name())
			u, _ := api.socket(unix.AF_INET6, unix.SOCK_DGRAM)
			rec("udp bind v4 on v6 %s", api.bind(u, lo4(0)).Name())
			v, _ := api.socket(unix.AF_INET, unix.SOCK_DGRAM)
			rec("udp bind v6 on v4 %s", api.bind(v, lo6(0)).Name())
		},
		"reuseport": func(api sockAPI, rec func(string, ...any)) {
			a, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("opt %s", api.setsockopt(a, unix.SOL_SOCKET, unix.SO_REUSEPORT, one).Name())
			rec("bind %s", api.bind(a, lo4(0)).Name())
			rec("listen %s", api.listen(a, 4).Name())
			b, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("opt %s", api.setsockopt(b, unix.SOL_SOCKET, unix.SO_REUSEPORT, one).Name())
			rec("bind shared %s", api.bind(b, api.localAddr(a)).Name())
			rec("listen shared %s", api.listen(b, 4).Name())
			c, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("bind without option %s", api.bind(c, api.localAddr(a)).Name())
		},
		"stream life cycle": func(api sockAPI, rec func(string, ...any)) {
			l, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			api.bind(l, lo4(0))
			_, e := api.accept(l)
			rec("accept before listen %s", e.Name())
			rec("listen %s", api.listen(l, 4).Name())
			_, e = api.accept(l)
			rec("accept empty %s", e.Name())
			v, e := api.getsockopt(l, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			rec("SO_ACCEPTCONN %d %s", v, e.Name())
			u, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			_, e = api.peer(u)
			rec("getpeername unconnected %s", e.Name())
			_, e = api.recv(u, 10, 0)
			rec("recv unconnected %s", e.Name())
			_, e = api.send(u, []byte("x"))
			rec("send unconnected %s", e.Name())
			rec("shutdown unconnected %s", api.shutdown(u, unix.SHUT_WR).Name())
			c, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("connect %s", api.connect(c, api.localAddr(l)).Name())
			rec("connect again %s", api.connect(c, api.localAddr(l)).Name())
			rec("connect third %s", api.connect(c, api.localAddr(l)).Name())
			s, e := api.accept(l)
			rec("accept %s", e.Name())
			_, e = api.recv(s, 10, 0)
			rec("recv empty %s", e.Name())
			_, e = api.recv(s, 10, unix.MSG_PEEK|unix.MSG_TRUNC)
			rec("peek|trunc empty %s", e.Name())
			_, e = api.recv(l, 10, 0)
			rec("recv on listener %s", e.Name())
			_, e = api.send(l, []byte("x"))
			rec("send on listener %s", e.Name())
			k, e := api.send(c, []byte("hello"))
			rec("send %d %s", k, e.Name())
			k, e = api.recv(s, 2, unix.MSG_PEEK)
			rec("peek %d %s", k, e.Name())
			k, e = api.recv(s, 10, 0)
			rec("recv %d %s", k, e.Name())
			rec("shutdown bad how %s", api.shutdown(c, 7).Name())
			rec("shutdown wr %s", api.shutdown(c, unix.SHUT_WR).Name())
			k, e = api.recv(s, 10, 0)
			rec("recv eof %d %s", k, e.Name())
			_, e = api.send(c, []byte("x"))
			rec("send after shutdown %s", e.Name())
			k, e = api.send(s, []byte("back"))
			rec("send other way %d %s", k, e.Name())
			k, e = api.recv(c, 10, 0)
			rec("recv other way %d %s", k, e.Name())
			rec("listen connected %s", api.listen(c, 1).Name())
			rec("bind connected %s", api.bind(c, lo4(0)).Name())
			rec("connect listener %s", api.connect(l, api.localAddr(l)).Name())
		},
		"reset": func(api sockAPI, rec func(string, ...any)) {
			l, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			api.bind(l, lo4(0))
			api.listen(l, 4)
			c, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			api.connect(c, api.localAddr(l))
			s, _ := api.accept(l)
			rec("linger %s", api.setsockopt(s, unix.SOL_SOCKET, unix.SO_LINGER, []byte{1, 0, 0, 0, 0, 0, 0, 0}).Name())
			api.close(s)
			_, e := api.recv(c, 10, 0)
			rec("recv after reset %s", e.Name())
			_, e = api.recv(c, 10, 0)
			rec("recv again %s", e.Name())
			_, e = api.send(c, []byte("x"))
			rec("send after reset %s", e.Name())
		},
		"udp": func(api sockAPI, rec func(string, ...any)) {
			u, _ := api.socket(unix.AF_INET, unix.SOCK_DGRAM)
			rec("listen %s", api.listen(u, 1).Name())
			_, e := api.send(u, []byte("x"))
			rec("send unconnected %s", e.Name())
			_, e = api.sendto(u, make([]byte, 70000), lo4(9))
			rec("too big %s", e.Name())
			_, e = api.sendto(u, []byte("x"), lo6(9))
			rec("v6 on v4 %s", e.Name())
			srv, _ := api.socket(unix.AF_INET, unix.SOCK_DGRAM)
			api.bind(srv, lo4(0))
			k, e := api.sendto(u, []byte("datagram"), api.localAddr(srv))
			rec("sendto %d %s", k, e.Name())
			k, e = api.recv(srv, 4, unix.MSG_TRUNC)
			rec("recv truncated %d %s", k, e.Name())
			_, e = api.recv(srv, 4, 0)
			rec("rest dropped %s", e.Name())
			rec("connect %s", api.connect(u, api.localAddr(srv)).Name())
			_, e = api.peer(u)
			rec("peer %s", e.Name())
			_, e = api.accept(u)
			rec("accept %s", e.Name())
			v, e := api.getsockopt(u, unix.SOL_SOCKET, unix.SO_TYPE)
			rec("SO_TYPE %d %s", v, e.Name())
		},
		"families": func(api sockAPI, rec func(string, ...any)) {
			l, _ := api.socket(unix.AF_INET6, unix.SOCK_STREAM)
			rec("dual-stack bind %s", api.bind(l, netip.AddrPortFrom(netip.IPv6Unspecified(), 0)).Name())
			rec("listen %s", api.listen(l, -1).Name())
			port := api.localAddr(l).Port()
			c6, _ := api.socket(unix.AF_INET6, unix.SOCK_STREAM)
			rec("tcp connect sockaddr_in on AF_INET6 %s", api.connect(c6, lo4(port)).Name())
			c4, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("v4 client to dual-stack listener %s", api.connect(c4, lo4(port)).Name())
			s, e := api.accept(l)
			rec("accept %s", e.Name())
			p, e := api.peer(s)
			rec("peer is v4-mapped %v %s", p.Addr().Is4In6(), e.Name())
			rec("mapped connect %s", api.connect(c6, netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), port)).Name())
			k, e := api.recv(c4, 0, 0)
			rec("empty stream read %d %s", k, e.Name())
			u6, _ := api.socket(unix.AF_INET6, unix.SOCK_DGRAM)
			srv, _ := api.socket(unix.AF_INET, unix.SOCK_DGRAM)
			api.bind(srv, lo4(0))
			k, e = api.sendto(u6, []byte("x"), api.localAddr(srv))
			rec("udp sendto sockaddr_in on AF_INET6 %d %s", k, e.Name())
			k, e = api.recv(srv, 10, 0)
			rec("received %d %s", k, e.Name())
			only, _ := api.socket(unix.AF_INET6, unix.SOCK_DGRAM)
			api.setsockopt(only, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, one)
			_, e = api.sendto(only, []byte("x"), api.localAddr(srv))
			rec("v6only sendto sockaddr_in %s", e.Name())
			rec("v6only connect sockaddr_in %s", api.connect(only, api.localAddr(srv)).Name())
			f6, _ := api.socket(unix.AF_INET6, unix.SOCK_DGRAM)
			rec("bind foreign address %s", api.bind(f6, netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), 0)).Name())
			f4, _ := api.socket(unix.AF_INET, unix.SOCK_STREAM)
			rec("bind foreign v4 address %s", api.bind(f4, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 0)).Name())
		},
		"options": func(api sockAPI, rec func(string, ...any)) {
			s, _ := api.socket(unix.AF_INET6, unix.SOCK_STREAM)
			for _, o := range []struct{ level, name int }{
				{unix.SOL_SOCKET, unix.SO_REUSEADDR}, {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
				{unix.IPPROTO_TCP, unix.TCP_NODELAY}, {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
				{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY},
			} {
				rec("set %d/%d %s", o.level, o.name, api.setsockopt(s, o.level, o.name, []byte{7, 0, 0, 0}).Name())
				v, e := api.getsockopt(s, o.level, o.name)
				rec("get %d/%d %d %s", o.level, o.name, v, e.Name())
				rec("short %d/%d %s", o.level, o.name, api.setsockopt(s, o.level, o.name, []byte{1}).Name())
			}
			rec("keepidle 0 %s", api.setsockopt(s, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, []byte{0, 0, 0, 0}).Name())
			rec("SO_TYPE set %s", api.setsockopt(s, unix.SOL_SOCKET, unix.SO_TYPE, one).Name())
			rec("unknown %s", api.setsockopt(s, unix.SOL_SOCKET, 9999, one).Name())
			rec("tcp opt on udp %s", func() linux.Errno {
				u, _ := api.socket(unix.AF_INET, unix.SOCK_DGRAM)
				return api.setsockopt(u, unix.IPPROTO_TCP, unix.TCP_NODELAY, one)
			}().Name())
			rec("v6 opt on v4 %s", func() linux.Errno {
				u, _ := api.socket(unix.AF_INET, unix.SOCK_DGRAM)
				return api.setsockopt(u, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, one)
			}().Name())
			b, _ := api.socket(unix.AF_INET6, unix.SOCK_DGRAM)
			api.bind(b, lo6(0))
			rec("v6only after bind %s", api.setsockopt(b, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, one).Name())
		},
	}
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			var want, got strings.Builder
			h := &hostAPI{}
			defer h.closeAll()
			sc(h, func(f string, a ...any) { fmt.Fprintf(&want, f+"\n", a...) })
			n := newNet(t, Config{Seed: 50})
			sc(&stackAPI{n: n}, func(f string, a ...any) { fmt.Fprintf(&got, f+"\n", a...) })
			require.Equal(t, want.String(), got.String())
		})
	}
}
