package kernel

import (
	"net/netip"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/netstack"
)

// AF_INET and AF_INET6 sockets: a netstack.Socket behind a descriptor.
// Every netstack call is non-blocking and settles the network; the
// socket's Watch callback queues it for the machine's flush, which wakes
// its wait queue (net.go).

// inetSocket is a TCP, UDP or ping socket of the machine's network.
type inetSocket struct {
	sockBase
	s      *netstack.Socket
	cancel func() // ends the Watch
	dirty  bool   // queued for flush (guarded by machineNet.mu)
	// connecting is the thread whose blocking connect waits for the
	// handshake: its restarted connect keeps waiting on EALREADY.
	connecting *Task
	opts       map[int]int32 // SOL_SOCKET options netstack does not keep
}

// newInetSocket implements socket(2) for AF_INET and AF_INET6.
func (m *Machine) newInetSocket(family, typ, proto int) (socket, error) {
	mn := m.net
	ns, e := mn.stack().Socket(family, typ, proto)
	if e != 0 {
		return nil, e
	}
	return mn.wrapInet(ns), nil
}

// wrapInet makes a netstack socket a file.
func (mn *machineNet) wrapInet(ns *netstack.Socket) *inetSocket {
	s := &inetSocket{sockBase: sockBase{m: mn.m, ino: mn.newIno()}, s: ns}
	ns.SetOwner(0, s.ino)
	s.cancel = ns.Watch(netstack.AllEvents, func(netstack.Events) { mn.notify(s) })
	mn.inet[s] = struct{}{}
	return s
}

// call runs a netstack operation at the current machine time and wakes
// whatever it made ready.
func (s *inetSocket) call(f func() linux.Errno) error {
	mn := s.m.net
	mn.advance()
	e := f()
	mn.flush()
	if e != 0 {
		return e
	}
	return nil
}

func (s *inetSocket) family() int    { return s.s.Family() }
func (s *inetSocket) sockType() int  { return s.s.Type() }
func (s *inetSocket) protocol() int  { return s.s.Protocol() }
func (s *inetSocket) stream() bool   { return s.s.Type() == linux.SOCK_STREAM }
func (s *inetSocket) passCred() bool { return false }

// sigpipe: TCP raises SIGPIPE with EPIPE.
func (s *inetSocket) sigpipe() bool { return s.stream() }

// maxMsg is the largest datagram (EMSGSIZE beyond, from the stack).
func (s *inetSocket) maxMsg() int { return 65535 }

func (s *inetSocket) timeouts() (time.Duration, time.Duration) {
	return s.s.RecvTimeout(), s.s.SendTimeout()
}

func (s *inetSocket) Read(b []byte) (int, error)  { return sockRead(s, b) }
func (s *inetSocket) Write(b []byte) (int, error) { return sockWrite(s, b) }

// readiness implements waitable.
func (s *inetSocket) readiness() uint32 { return uint32(s.s.Readiness(netstack.AllEvents)) }

// Close releases the socket; a TCP connection closes in the background.
func (s *inetSocket) Close() error {
	mn := s.m.net
	s.cancel()
	delete(mn.inet, s)
	mn.advance()
	s.s.Close()
	mn.flush()
	s.wq.wakeAll()
	return nil
}

// addr decodes a socket address argument.
func (s *inetSocket) addr(sa []byte) (int, netip.AddrPort, error) {
	fam, ap, e := netstack.ParseSockaddr(sa)
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	return fam, ap, nil
}

func (s *inetSocket) bind(t *Task, sa []byte) error {
	_, ap, err := s.addr(sa)
	if err != nil {
		return err
	}
	return s.call(func() linux.Errno { return s.s.Bind(ap) })
}

func (s *inetSocket) listen(t *Task, backlog int) error {
	return s.call(func() linux.Errno { return s.s.Listen(backlog) })
}

func (s *inetSocket) accept(t *Task) (socket, []byte, error) {
	var ns *netstack.Socket
	var peer netip.AddrPort
	err := s.call(func() (e linux.Errno) {
		ns, peer, e = s.s.Accept()
		return e
	})
	if err != nil {
		return nil, nil, err
	}
	return s.m.net.wrapInet(ns), netstack.MarshalSockaddr(s.family(), peer), nil
}

// connect implements connect(2): a blocking connect waits for the
// handshake (EventOut, EventErr or EventHup) and asks again.
func (s *inetSocket) connect(t *Task, sa []byte, nonblock bool) error {
	fam, ap, err := s.addr(sa)
	if err != nil {
		return err
	}
	if fam == linux.AF_UNSPEC {
		return s.call(s.s.Disconnect)
	}
	for try := 0; ; try++ {
		err := s.call(func() linux.Errno { return s.s.Connect(ap) })
		if err != linux.EINPROGRESS && err != linux.EALREADY {
			s.connecting = nil
			return err
		}
		if err == linux.EALREADY && s.connecting != t || nonblock {
			return err
		}
		if try == 0 && s.s.Readiness(netstack.EventOut|netstack.EventErr|netstack.EventHup) != 0 {
			continue // the handshake is over: ask again
		}
		_, snd := s.timeouts()
		if err := t.sockBlock(false, snd, &s.wq); err != errRestart {
			s.connecting = nil
			return linux.EINPROGRESS // SO_SNDTIMEO passed
		}
		s.connecting = t
		return errRestart
	}
}

func (s *inetSocket) send(t *Task, b, to []byte, ctl *scmData, flags int) (int, *waitQueue, error) {
	var dst netip.AddrPort
	if len(to) > 0 && !s.stream() {
		_, ap, err := s.addr(to)
		if err != nil {
			return 0, nil, err
		}
		dst = ap
	}
	if flags&linux.MSG_OOB != 0 {
		return 0, nil, linux.EOPNOTSUPP
	}
	var n int
	err := s.call(func() (e linux.Errno) {
		n, e = s.s.Send(b, dst, flags&linux.MSG_MORE)
		return e
	})
	return n, nil, err
}

func (s *inetSocket) recv(t *Task, b []byte, flags int) (recvResult, error) {
	if flags&linux.MSG_ERRQUEUE != 0 {
		return recvResult{}, linux.EAGAIN // no error queue
	}
	if flags&linux.MSG_OOB != 0 && s.stream() {
		return recvResult{}, linux.EINVAL // no urgent data
	}
	var rr netstack.RecvResult
	err := s.call(func() (e linux.Errno) {
		rr, e = s.s.Recv(b, flags&(linux.MSG_PEEK|linux.MSG_TRUNC))
		return e
	})
	if err != nil {
		return recvResult{}, err
	}
	r := recvResult{n: min(rr.N, len(b)), ret: rr.N, flags: rr.Flags}
	if s.stream() && flags&linux.MSG_TRUNC != 0 {
		r.n = 0 // discarded, not copied
	}
	if rr.From.IsValid() {
		r.from = netstack.MarshalSockaddr(s.family(), rr.From)
	}
	return r, nil
}

func (s *inetSocket) sockname() []byte {
	ap, _ := s.s.LocalAddr()
	return netstack.MarshalSockaddr(s.family(), ap)
}

func (s *inetSocket) peername() ([]byte, error) {
	ap, e := s.s.PeerAddr()
	if e != 0 {
		return nil, e
	}
	return netstack.MarshalSockaddr(s.family(), ap), nil
}

func (s *inetSocket) shutdown(t *Task, how int) error {
	return s.call(func() linux.Errno { return s.s.Shutdown(how) })
}

// SOL_SOCKET options the kernel keeps itself, netstack having no use for
// them.
func kernelSockOpt(name int) bool {
	switch name {
	case linux.SO_PASSCRED, linux.SO_PRIORITY, linux.SO_DEBUG, linux.SO_DONTROUTE, linux.SO_NO_CHECK:
		return true
	}
	return false
}

func (s *inetSocket) setsockopt(t *Task, level, name int, val []byte) error {
	if level == linux.SOL_SOCKET && kernelSockOpt(name) {
		if len(val) < 4 {
			return linux.EINVAL
		}
		v := int32(leU32(val))
		if name == linux.SO_PRIORITY && (v < 0 || v > 6) {
			return linux.EPERM
		}
		if name != linux.SO_PRIORITY {
			v = boolInt(v != 0)
		}
		if s.opts == nil {
			s.opts = map[int]int32{}
		}
		s.opts[name] = v
		return nil
	}
	return s.call(func() linux.Errno { return s.s.SetSockOpt(level, name, val) })
}

func (s *inetSocket) getsockopt(t *Task, level, name, size int) ([]byte, error) {
	if level == linux.SOL_SOCKET && kernelSockOpt(name) {
		return int32Bytes(s.opts[name]), nil
	}
	if level == linux.SOL_SOCKET && name == linux.SO_PEERCRED {
		return noCred.bytes(), nil
	}
	var v []byte
	err := s.call(func() (e linux.Errno) {
		v, e = s.s.GetSockOpt(level, name, size)
		return e
	})
	return v, err
}

func (s *inetSocket) inq() (int, error) {
	n, e := s.s.InQueue()
	if e != 0 {
		return 0, e
	}
	return n, nil
}
