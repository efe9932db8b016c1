package netstack

import (
	"bytes"
	"io"
	"net/netip"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Message flags the socket calls take or report (the other MSG_* flags,
// such as MSG_DONTWAIT, MSG_WAITALL and MSG_NOSIGNAL, are the kernel's
// business: every call here is non-blocking).
const (
	MSG_PEEK  = 0x2
	MSG_TRUNC = 0x20
	MSG_MORE  = 0x8000
)

// maxBacklog is Linux's default net.core.somaxconn.
const maxBacklog = 4096

// Socket is an AF_INET or AF_INET6 socket of the guest: a TCP, UDP or ICMP
// echo ("ping") endpoint of the guest stack. Every method is non-blocking
// and settles the network before it returns. Errors are Linux errnos (0
// for success).
type Socket struct {
	n        *Network
	family   int
	typ      int
	protocol int
	ep       tcpip.Endpoint
	wq       *waiter.Queue

	// Set by the kernel for /proc/net tables.
	uid   uint32
	inode uint64

	rcvTimeo, sndTimeo time.Duration
	closed             bool
}

// Socket implements socket(2) for AF_INET and AF_INET6: SOCK_STREAM with
// protocol 0 or IPPROTO_TCP, SOCK_DGRAM with 0 or IPPROTO_UDP, and
// SOCK_DGRAM with IPPROTO_ICMP (AF_INET) or IPPROTO_ICMPV6 (AF_INET6) for
// ping sockets, and SOCK_RAW with any IP protocol (the kernel checks
// CAP_NET_RAW; IPPROTO_RAW sockets only send). typ must not carry
// SOCK_NONBLOCK or SOCK_CLOEXEC (file flags the kernel keeps). Other
// families are EAFNOSUPPORT, other types ESOCKTNOSUPPORT, other protocols
// EPROTONOSUPPORT.
func (n *Network) Socket(family, typ, protocol int) (*Socket, linux.Errno) {
	var netProto tcpip.NetworkProtocolNumber
	switch family {
	case AF_INET:
		netProto = ipv4.ProtocolNumber
	case AF_INET6:
		netProto = ipv6.ProtocolNumber
	default:
		return nil, linux.EAFNOSUPPORT
	}
	var transProto tcpip.TransportProtocolNumber
	raw := false
	switch {
	case typ == SOCK_RAW && protocol > 0 && protocol <= IPPROTO_RAW:
		transProto, raw = tcpip.TransportProtocolNumber(protocol), true
	case typ == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP):
		transProto, protocol = tcp.ProtocolNumber, IPPROTO_TCP
	case typ == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP):
		transProto, protocol = udp.ProtocolNumber, IPPROTO_UDP
	case typ == SOCK_DGRAM && family == AF_INET && protocol == IPPROTO_ICMP:
		transProto = icmp.ProtocolNumber4
	case typ == SOCK_DGRAM && family == AF_INET6 && protocol == IPPROTO_ICMPV6:
		transProto = icmp.ProtocolNumber6
	case typ != SOCK_STREAM && typ != SOCK_DGRAM && typ != SOCK_RAW:
		return nil, linux.ESOCKTNOSUPPORT
	default:
		return nil, linux.EPROTONOSUPPORT
	}
	n.hold()
	defer n.release()
	if n.closed {
		return nil, linux.ENETDOWN
	}
	wq := new(waiter.Queue)
	var ep tcpip.Endpoint
	var err tcpip.Error
	if raw {
		ep, err = n.guest.NewRawEndpoint(transProto, netProto, wq, protocol != IPPROTO_RAW)
	} else {
		ep, err = n.guest.NewEndpoint(transProto, netProto, wq)
	}
	if err != nil {
		return nil, errno(err)
	}
	return n.adopt(family, typ, protocol, ep, wq), 0
}

// adopt wraps an endpoint in a Socket and records it for the /proc tables.
func (n *Network) adopt(family, typ, protocol int, ep tcpip.Endpoint, wq *waiter.Queue) *Socket {
	s := &Socket{n: n, family: family, typ: typ, protocol: protocol, ep: ep, wq: wq}
	n.sockets[ep] = s
	return s
}

// Family returns AF_INET or AF_INET6.
func (s *Socket) Family() int { return s.family }

// Type returns SOCK_STREAM, SOCK_DGRAM or SOCK_RAW.
func (s *Socket) Type() int { return s.typ }

// Protocol returns IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6.
func (s *Socket) Protocol() int { return s.protocol }

// SetOwner records the owner's uid and the socket's inode number, which
// /proc/net/tcp and friends print.
func (s *Socket) SetOwner(uid uint32, inode uint64) {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	s.uid, s.inode = uid, inode
}

// op runs f with the network held and settles it afterwards.
func (s *Socket) op(f func() linux.Errno) linux.Errno {
	n := s.n
	n.hold()
	defer n.release()
	if s.closed {
		return linux.EBADF
	}
	e := f()
	n.settleLocked()
	return e
}

// Bind implements bind(2). An IPv4 address on an AF_INET6 socket (a
// sockaddr_in, too short for sockaddr_in6) is EINVAL, an IPv6 address on an
// AF_INET socket EAFNOSUPPORT; an address the machine does not have is
// EADDRNOTAVAIL, a port in use EADDRINUSE.
func (s *Socket) Bind(addr netip.AddrPort) linux.Errno {
	return s.op(func() linux.Errno {
		full, e := s.endpointAddr(addr, false)
		if e != 0 {
			return e
		}
		switch err := s.ep.Bind(full); err.(type) {
		case nil:
			return 0
		case *tcpip.ErrNoPortAvailable:
			return linux.EADDRINUSE
		default:
			return errno(err)
		}
	})
}

// Listen implements listen(2). A backlog below zero or above somaxconn
// (4096) is clamped as Linux clamps it. UDP sockets are EOPNOTSUPP.
func (s *Socket) Listen(backlog int) linux.Errno {
	return s.op(func() linux.Errno {
		if backlog < 0 || backlog > maxBacklog {
			backlog = maxBacklog
		}
		return errno(s.ep.Listen(backlog))
	})
}

// Accept implements accept4(2) without blocking: it returns the next
// established connection and its peer address, EAGAIN if there is none, or
// EINVAL if the socket is not listening. Block on EventIn and retry.
func (s *Socket) Accept() (*Socket, netip.AddrPort, linux.Errno) {
	var ns *Socket
	var peer tcpip.FullAddress
	e := s.op(func() linux.Errno {
		ep, wq, err := s.ep.Accept(&peer)
		if err != nil {
			return errno(err)
		}
		ns = s.n.adopt(s.family, s.typ, s.protocol, ep, wq)
		return 0
	})
	if e != 0 {
		return nil, netip.AddrPort{}, e
	}
	return ns, s.addrPort(peer), 0
}

// Connect implements connect(2) without blocking. A TCP connect returns
// EINPROGRESS once the SYN is out, even when the handshake has completed by
// the time Connect returns (loopback). A blocking connect waits for
// EventOut (or EventErr/EventHup) and calls Connect again with the same
// address: that call returns 0, the failure (ECONNREFUSED, ETIMEDOUT, ...)
// or, while still pending, EALREADY. UDP and ping sockets connect at once.
// To dissolve a datagram socket's association (AF_UNSPEC), call Disconnect.
func (s *Socket) Connect(addr netip.AddrPort) linux.Errno {
	return s.op(func() linux.Errno {
		full, e := s.endpointAddr(addr, true)
		if e != 0 {
			return e
		}
		if s.typ == SOCK_STREAM && tcp.EndpointState(s.ep.State()) == tcp.StateListen {
			return linux.EISCONN // as Linux answers for a listening socket
		}
		err := s.ep.Connect(full)
		switch err.(type) {
		case nil, *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting, *tcpip.ErrAlreadyConnected:
			return errno(err)
		case *tcpip.ErrNoPortAvailable:
			if s.typ == SOCK_STREAM {
				// TCP reports ephemeral port exhaustion as EADDRNOTAVAIL.
				return linux.EADDRNOTAVAIL
			}
		}
		// Reporting a failure consumes the pending error, as Linux's
		// sock_error does: SO_ERROR then reads 0.
		s.takeError()
		return errno(err)
	})
}

// Disconnect implements connect(2) with an AF_UNSPEC address.
func (s *Socket) Disconnect() linux.Errno {
	return s.op(func() linux.Errno {
		err := s.ep.Disconnect()
		if _, ok := err.(*tcpip.ErrNotSupported); ok {
			return linux.EAFNOSUPPORT
		}
		return errno(err)
	})
}

// RecvResult is what one receive call produced.
type RecvResult struct {
	// N is recvmsg's return value: the bytes copied, or with MSG_TRUNC on a
	// datagram socket the datagram's full length.
	N int
	// Flags holds MSG_TRUNC when a datagram did not fit (msg_flags).
	Flags int
	// From is the sender of a datagram (recvfrom's address).
	From netip.AddrPort
}

// Recv implements recvmsg(2) without blocking, into dst. flags may hold
// MSG_PEEK and MSG_TRUNC (on TCP, MSG_TRUNC discards the bytes instead of
// copying them). It returns EAGAIN when nothing is queued, N == 0 at end
// of stream, ENOTCONN on an unconnected TCP socket. A datagram that does
// not fit is truncated and the rest dropped, as on Linux.
func (s *Socket) Recv(dst []byte, flags int) (RecvResult, linux.Errno) {
	var res RecvResult
	e := s.op(func() linux.Errno {
		peek, trunc := flags&MSG_PEEK != 0, flags&MSG_TRUNC != 0
		opts := tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: s.typ != SOCK_STREAM}
		if s.typ != SOCK_STREAM {
			w := &truncWriter{buf: dst}
			r, err := s.ep.Read(w, opts)
			if err != nil {
				return errno(err)
			}
			res.N = min(r.Total, len(dst))
			if r.Total > len(dst) {
				res.Flags |= MSG_TRUNC
				if trunc {
					res.N = r.Total
				}
			}
			res.From = s.addrPort(r.RemoteAddr)
			return 0
		}
		if len(dst) == 0 {
			return s.emptyRead()
		}
		var r tcpip.ReadResult
		var err tcpip.Error
		if trunc && peek {
			// The bytes that could be read, without copying them.
			q, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
			if err != nil || q == 0 {
				return s.emptyRead()
			}
			res.N = min(q, len(dst))
			return 0
		}
		if trunc {
			r, err = s.ep.Read(&tcpip.LimitedWriter{W: io.Discard, N: int64(len(dst))}, opts)
		} else {
			w := tcpip.SliceWriter(dst)
			r, err = s.ep.Read(&w, opts)
		}
		if err != nil {
			return errno(err)
		}
		res.N = r.Count
		if !peek && r.Count > 0 {
			s.ep.ModerateRecvBuf(r.Count)
		}
		return 0
	})
	return res, e
}

// emptyRead answers a stream read that copies nothing as Linux does: 0 when
// data or the end of stream is there, otherwise the error a read returns
// (EAGAIN, ENOTCONN, ECONNRESET...).
func (s *Socket) emptyRead() linux.Errno {
	var w tcpip.SliceWriter
	_, err := s.ep.Read(&w, tcpip.ReadOptions{Peek: true})
	if _, ok := err.(*tcpip.ErrBadBuffer); ok {
		return 0 // data waits; none fit
	}
	return errno(err)
}

// Send implements sendmsg(2) without blocking: it queues what fits of src
// and returns the count, EAGAIN if nothing fits. to is sendto's address
// (the zero AddrPort for none; ignored on TCP sockets, as Linux ignores
// it). flags may hold MSG_MORE. EPIPE means the kernel must also raise
// SIGPIPE unless MSG_NOSIGNAL was given.
func (s *Socket) Send(src []byte, to netip.AddrPort, flags int) (int, linux.Errno) {
	var n int
	e := s.op(func() linux.Errno {
		opts := tcpip.WriteOptions{More: flags&MSG_MORE != 0}
		if to.IsValid() && s.typ != SOCK_STREAM {
			full, e := s.endpointAddr(to, true)
			if e != 0 {
				if e == linux.EAFNOSUPPORT && s.family == AF_INET6 {
					return linux.ENETUNREACH
				}
				return e
			}
			opts.To = &full
		}
		c, err := s.ep.Write(bytes.NewReader(src), opts)
		if err != nil {
			return errno(err)
		}
		n = int(c)
		return 0
	})
	return n, e
}

// Shutdown implements shutdown(2); how is SHUT_RD, SHUT_WR or SHUT_RDWR.
func (s *Socket) Shutdown(how int) linux.Errno {
	var f tcpip.ShutdownFlags
	switch how {
	case SHUT_RD:
		f = tcpip.ShutdownRead
	case SHUT_WR:
		f = tcpip.ShutdownWrite
	case SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return linux.EINVAL
	}
	return s.op(func() linux.Errno { return errno(s.ep.Shutdown(f)) })
}

// LocalAddr implements getsockname(2): the unspecified address and port 0
// before bind.
func (s *Socket) LocalAddr() (netip.AddrPort, linux.Errno) {
	var a tcpip.FullAddress
	e := s.op(func() linux.Errno {
		var err tcpip.Error
		a, err = s.ep.GetLocalAddress()
		return errno(err)
	})
	if e != 0 {
		return netip.AddrPort{}, e
	}
	return s.addrPort(a), 0
}

// PeerAddr implements getpeername(2): ENOTCONN when not connected.
func (s *Socket) PeerAddr() (netip.AddrPort, linux.Errno) {
	var a tcpip.FullAddress
	e := s.op(func() linux.Errno {
		var err tcpip.Error
		a, err = s.ep.GetRemoteAddress()
		return errno(err)
	})
	if e != 0 {
		return netip.AddrPort{}, e
	}
	return s.addrPort(a), 0
}

// Readiness returns the events in mask that hold now (poll's revents; poll
// and epoll add EventErr|EventHup to the mask themselves).
func (s *Socket) Readiness(mask Events) Events {
	return Events(s.ep.Readiness(waiter.EventMask(mask)).ToLinux()) & mask
}

// Watch calls fn with the events of mask that a state change raised,
// until the returned cancel function is called. fn runs on whichever
// goroutine changed the state (a stack goroutine during Settle, or the
// caller of a socket method) while the network is held: it must only
// record the news and wake waiters, never call back into the Network or a
// Socket. The events tell what changed; Readiness tells what holds.
func (s *Socket) Watch(mask Events, fn func(Events)) (cancel func()) {
	e := new(waiter.Entry)
	*e = waiter.NewFunctionEntry(waiter.EventMask(mask), func(m waiter.EventMask) { fn(Events(m.ToLinux())) })
	s.wq.EventRegister(e)
	return func() { s.wq.EventUnregister(e) }
}

// InQueue returns the bytes waiting to be read (FIONREAD): for a datagram
// socket, the size of the next datagram.
func (s *Socket) InQueue() (int, linux.Errno) {
	var v int
	e := s.op(func() linux.Errno {
		var err tcpip.Error
		v, err = s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		return errno(err)
	})
	return v, e
}

// RecvTimeout and SendTimeout return SO_RCVTIMEO and SO_SNDTIMEO (0: none),
// which the kernel applies to blocking calls.
func (s *Socket) RecvTimeout() time.Duration { return s.rcvTimeo }

// SendTimeout returns SO_SNDTIMEO; see RecvTimeout.
func (s *Socket) SendTimeout() time.Duration { return s.sndTimeo }

// Close releases the socket (the last close of its file). A TCP
// connection then closes in the background (FIN, TIME_WAIT), or is reset
// when SO_LINGER is on with a zero timeout. Close never blocks: a positive
// SO_LINGER timeout does not delay it.
func (s *Socket) Close() {
	n := s.n
	n.hold()
	defer n.release()
	if s.closed {
		return
	}
	s.closed = true
	delete(n.sockets, s.ep)
	s.ep.Close()
	n.settleLocked()
}

// takeError reads and clears the socket's pending error. gVisor keeps a
// hard error and a last error, often the same; Linux has one slot
// (sk_err), so both are cleared and the hard one, if any, is reported.
func (s *Socket) takeError() tcpip.Error {
	err := s.ep.LastError()
	if err != nil {
		s.ep.LastError()
	}
	return err
}

// endpointAddr converts an address given to bind, connect or sendto to
// gVisor's form under Linux's family rules.
func (s *Socket) endpointAddr(ap netip.AddrPort, connect bool) (tcpip.FullAddress, linux.Errno) {
	a := ap.Addr()
	if !a.IsValid() {
		return tcpip.FullAddress{}, linux.EINVAL
	}
	a = a.WithZone("")
	full := tcpip.FullAddress{Port: ap.Port()}
	switch s.family {
	case AF_INET:
		if !a.Is4() {
			return full, linux.EAFNOSUPPORT
		}
	case AF_INET6:
		if a.Is4() {
			// A sockaddr_in on an IPv6 socket: too short for bind and for
			// TCP; datagram sockets take it as a v4-mapped address.
			if !connect || s.typ == SOCK_STREAM {
				return full, linux.EINVAL
			}
			if s.ep.SocketOptions().GetV6Only() {
				return full, linux.EAFNOSUPPORT
			}
			a = netip.AddrFrom16(a.As16())
		}
	}
	if !a.IsUnspecified() {
		full.Addr = addrOf(a)
	}
	return full, 0
}

// addrPort converts an endpoint address to what the socket reports: IPv4
// on AF_INET sockets, IPv6 (v4-mapped for IPv4 peers) on AF_INET6 ones.
func (s *Socket) addrPort(a tcpip.FullAddress) netip.AddrPort {
	ip, ok := netip.AddrFromSlice(a.Addr.AsSlice())
	if !ok {
		ip = netip.IPv4Unspecified()
		if s.family == AF_INET6 {
			ip = netip.IPv6Unspecified()
		}
	}
	if s.family == AF_INET6 {
		ip = netip.AddrFrom16(ip.As16())
	} else {
		ip = ip.Unmap()
	}
	return netip.AddrPortFrom(ip, a.Port)
}

// truncWriter copies what fits into buf and silently drops the rest, as a
// datagram read into a short buffer does.
type truncWriter struct {
	buf []byte
	n   int
}

func (w *truncWriter) Write(p []byte) (int, error) {
	w.n += copy(w.buf[w.n:], p)
	return len(p), nil
}
