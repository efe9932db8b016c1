package kernel

import (
	"github.com/sis-kernel/sissim/pkg/linux"
)

// AF_NETLINK sockets of protocol NETLINK_ROUTE: a request sent to the
// kernel (port 0) is answered at once, from the machine's network
// (netstack.Network.RouteNetlink), into the socket's receive queue. The
// network's configuration never changes, so a socket that joins a
// multicast group hears nothing.

const (
	netlinkRoute  = 0   // NETLINK_ROUTE
	solNetlink    = 270 // SOL_NETLINK
	sizeofNlAddr  = 12  // struct sockaddr_nl
	netlinkRcvbuf = 212992
	netlinkMinBuf = 2048
	// firstAutoPort is where the port ids of a process's second and later
	// sockets start (Linux picks them at random below -4096).
	firstAutoPort = 0xffffefff
)

// netlinkSocket is a NETLINK_ROUTE socket.
type netlinkSocket struct {
	sockBase
	typ    int
	port   uint32 // 0 until bound
	groups uint32
	rq     [][]byte // reply datagrams
	rqLen  int
	err    linux.Errno // ENOBUFS after replies were dropped

	rcvbuf, sndbuf int
	sockTimeouts
	opts map[[2]int]int32 // other options, by level and name
}

// newNetlinkSocket implements socket(2) for AF_NETLINK.
func (m *Machine) newNetlinkSocket(typ, proto int) (socket, error) {
	if typ != linux.SOCK_RAW && typ != linux.SOCK_DGRAM {
		return nil, linux.ESOCKTNOSUPPORT
	}
	if proto != netlinkRoute {
		return nil, linux.EPROTONOSUPPORT
	}
	mn := m.net
	return &netlinkSocket{sockBase: sockBase{m: m, ino: mn.newIno()}, typ: typ,
		rcvbuf: netlinkRcvbuf, sndbuf: netlinkRcvbuf, opts: map[[2]int]int32{}}, nil
}

func (s *netlinkSocket) family() int                 { return linux.AF_NETLINK }
func (s *netlinkSocket) sockType() int               { return s.typ }
func (s *netlinkSocket) protocol() int               { return netlinkRoute }
func (s *netlinkSocket) stream() bool                { return false }
func (s *netlinkSocket) passCred() bool              { return false }
func (s *netlinkSocket) sigpipe() bool               { return false }
func (s *netlinkSocket) maxMsg() int                 { return s.sndbuf }
func (s *netlinkSocket) Read(b []byte) (int, error)  { return sockRead(s, b) }
func (s *netlinkSocket) Write(b []byte) (int, error) { return sockWrite(s, b) }

func (s *netlinkSocket) Close() error {
	delete(s.m.net.netlinkPorts, s.port)
	s.rq, s.rqLen = nil, 0
	return nil
}

// nlAddr is a struct sockaddr_nl.
func nlAddr(port, groups uint32) []byte {
	b := make([]byte, sizeofNlAddr)
	b[0] = linux.AF_NETLINK
	put32(b[4:], port)
	put32(b[8:], groups)
	return b
}

// parseNlAddr returns the port id and groups of a sockaddr_nl.
func parseNlAddr(sa []byte) (port, groups uint32, err error) {
	if len(sa) < sizeofNlAddr || int(sa[0])|int(sa[1])<<8 != linux.AF_NETLINK {
		return 0, 0, linux.EINVAL
	}
	return leU32(sa[4:]), leU32(sa[8:]), nil
}

// autobind gives the socket a port id: its process's id for the first
// socket, as Linux does, then ids counting down from firstAutoPort.
func (s *netlinkSocket) autobind(t *Task) {
	if s.port != 0 {
		return
	}
	mn := s.m.net
	port := uint32(t.PID)
	for mn.netlinkPorts[port] != nil {
		port = firstAutoPort - mn.netlinkAuto
		mn.netlinkAuto++
	}
	s.port = port
	mn.netlinkPorts[port] = s
}

func (s *netlinkSocket) bind(t *Task, sa []byte) error {
	port, groups, err := parseNlAddr(sa)
	if err != nil {
		return err
	}
	switch {
	case s.port != 0 && port != 0 && port != s.port:
		return linux.EINVAL
	case s.port == 0 && port != 0:
		if s.m.net.netlinkPorts[port] != nil {
			return linux.EADDRINUSE
		}
		s.port = port
		s.m.net.netlinkPorts[port] = s
	}
	s.autobind(t)
	s.groups = groups
	return nil
}

func (s *netlinkSocket) listen(*Task, int) error              { return linux.EOPNOTSUPP }
func (s *netlinkSocket) accept(*Task) (socket, []byte, error) { return nil, nil, linux.EOPNOTSUPP }
func (s *netlinkSocket) shutdown(*Task, int) error            { return linux.EOPNOTSUPP }
func (s *netlinkSocket) sockname() []byte                     { return nlAddr(s.port, s.groups) }
func (s *netlinkSocket) peername() ([]byte, error)            { return nlAddr(0, 0), nil }
func (s *netlinkSocket) inq() (int, error)                    { return s.rqLen, nil }

// connect accepts only the kernel (port 0) as the peer.
func (s *netlinkSocket) connect(t *Task, sa []byte, _ bool) error {
	port, _, err := parseNlAddr(sa)
	if err != nil {
		return err
	}
	if port != 0 {
		return linux.ECONNREFUSED
	}
	s.autobind(t)
	return nil
}

// send hands the messages to the kernel, which queues its replies.
func (s *netlinkSocket) send(t *Task, b, to []byte, ctl *scmData, _ int) (int, *waitQueue, error) {
	ctl.release()
	if len(to) > 0 {
		port, _, err := parseNlAddr(to)
		if err != nil {
			return 0, nil, err
		}
		if port != 0 {
			return 0, nil, linux.ECONNREFUSED
		}
	}
	if len(b) > s.sndbuf {
		return 0, nil, linux.EMSGSIZE
	}
	s.autobind(t)
	for _, d := range s.m.net.stack().RouteNetlink(b, s.port) {
		if s.rqLen+len(d) > s.rcvbuf {
			s.err = linux.ENOBUFS
			continue
		}
		s.rq = append(s.rq, d)
		s.rqLen += len(d)
	}
	s.wq.wakeAll()
	return len(b), nil, nil
}

func (s *netlinkSocket) recv(_ *Task, b []byte, flags int) (recvResult, error) {
	if len(s.rq) == 0 {
		if s.err != 0 {
			err := s.err
			s.err = 0
			return recvResult{}, err
		}
		return recvResult{}, linux.EAGAIN
	}
	d := s.rq[0]
	r := recvResult{n: copy(b, d), from: nlAddr(0, 0)}
	r.ret = r.n
	if r.n < len(d) {
		r.flags |= linux.MSG_TRUNC
		if flags&linux.MSG_TRUNC != 0 {
			r.ret = len(d)
		}
	}
	if flags&linux.MSG_PEEK == 0 {
		s.rq[0] = nil
		s.rq = s.rq[1:]
		s.rqLen -= len(d)
	}
	return r, nil
}

// readiness implements waitable.
func (s *netlinkSocket) readiness() uint32 {
	ev := uint32(pollOUT | pollWRNORM)
	if len(s.rq) > 0 {
		ev |= pollIN | pollRDNORM
	}
	if s.err != 0 {
		ev |= pollERR
	}
	return ev
}

func (s *netlinkSocket) setsockopt(_ *Task, level, name int, val []byte) error {
	if level == linux.SOL_SOCKET && (name == linux.SO_RCVTIMEO || name == linux.SO_SNDTIMEO) {
		return s.setTimeout(name, val)
	}
	if level != linux.SOL_SOCKET && level != solNetlink {
		return linux.ENOPROTOOPT
	}
	if len(val) < 4 {
		return linux.EINVAL
	}
	v := int32(leU32(val))
	if level == linux.SOL_SOCKET {
		switch name {
		case linux.SO_RCVBUF, linux.SO_RCVBUFFORCE:
			s.rcvbuf = max(int(min(uint32(v), netlinkRcvbuf))*2, netlinkMinBuf)
			return nil
		case linux.SO_SNDBUF, linux.SO_SNDBUFFORCE:
			s.sndbuf = max(int(min(uint32(v), netlinkRcvbuf))*2, netlinkMinBuf)
			return nil
		}
	}
	s.opts[[2]int{level, name}] = v
	return nil
}

func (s *netlinkSocket) getsockopt(_ *Task, level, name, _ int) ([]byte, error) {
	if level == linux.SOL_SOCKET {
		switch name {
		case linux.SO_TYPE:
			return int32Bytes(int32(s.typ)), nil
		case linux.SO_DOMAIN:
			return int32Bytes(linux.AF_NETLINK), nil
		case linux.SO_PROTOCOL:
			return int32Bytes(netlinkRoute), nil
		case linux.SO_ERROR:
			err := s.err
			s.err = 0
			return int32Bytes(int32(err)), nil
		case linux.SO_RCVBUF:
			return int32Bytes(int32(s.rcvbuf)), nil
		case linux.SO_SNDBUF:
			return int32Bytes(int32(s.sndbuf)), nil
		case linux.SO_RCVTIMEO:
			return timevalBytes(s.rcvtimeo), nil
		case linux.SO_SNDTIMEO:
			return timevalBytes(s.sndtimeo), nil
		}
	} else if level != solNetlink {
		return nil, linux.ENOPROTOOPT
	}
	return int32Bytes(s.opts[[2]int{level, name}]), nil
}
