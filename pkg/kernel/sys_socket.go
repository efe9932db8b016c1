package kernel

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Socket system calls. The calls here check and copy the guest's
// arguments (addresses, iovecs, msghdrs, control messages) and implement
// blocking (the restart model, O_NONBLOCK, MSG_DONTWAIT, SO_RCVTIMEO and
// SO_SNDTIMEO); the socket kinds (socket_unix.go, socket_inet.go) only do
// non-blocking operations on Go buffers.

func registerSocketSyscalls(reg registerFn) {
	const mmsgNote = "after the first message, the others are sent or received without blocking (the call returns the count so far)"
	for _, e := range []struct {
		nr   uint64
		fn   syscallFn
		part string
	}{
		{linux.SysSocket, sysSocket, "AF_UNIX (stream, datagram, seqpacket), AF_INET and AF_INET6 (TCP, UDP, ICMP echo, raw IP with CAP_NET_RAW), AF_NETLINK NETLINK_ROUTE (interfaces, addresses and routes, read-only); other netlink protocols are EPROTONOSUPPORT, packet sockets EAFNOSUPPORT"},
		{linux.SysSocketpair, sysSocketpair, ""},
		{linux.SysBind, sysBind, ""},
		{linux.SysListen, sysListen, ""},
		{linux.SysAccept, sysAccept, ""},
		{linux.SysAccept4, sysAccept4, ""},
		{linux.SysConnect, sysConnect, ""},
		{linux.SysGetsockname, sysGetsockname, ""},
		{linux.SysGetpeername, sysGetpeername, ""},
		{linux.SysSendto, sysSendto, ""},
		{linux.SysRecvfrom, sysRecvfrom, ""},
		{linux.SysSetsockopt, sysSetsockopt, "the SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6 options programs use (pkg/netstack); AF_UNIX: SOL_SOCKET"},
		{linux.SysGetsockopt, sysGetsockopt, "as setsockopt"},
		{linux.SysShutdown, sysShutdown, ""},
		{linux.SysSendmsg, sysSendmsg, "control messages: SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX; ignored on AF_INET/AF_INET6"},
		{linux.SysRecvmsg, sysRecvmsg, "as sendmsg; MSG_OOB and MSG_ERRQUEUE are not supported"},
		{linux.SysSendmmsg, sysSendmmsg, mmsgNote},
		{linux.SysRecvmmsg, sysRecvmmsg, mmsgNote},
	} {
		support := Full
		if e.part != "" {
			support = Partial
		}
		reg(e.nr, syscallEntry{fn: sockCall(e.fn), support: support, note: e.part})
	}
}

// socket is an open socket: the file behind a socket descriptor. Its
// operations never block; they return EAGAIN where a blocking call waits,
// and the system calls wait on the socket's wait queue.
type socket interface {
	file
	waitable
	family() int
	sockType() int
	protocol() int
	inode() uint64
	openFile() *openFile
	bind(t *Task, sa []byte) error
	listen(t *Task, backlog int) error
	// accept returns a connection waiting on a listening socket and the
	// peer's address.
	accept(t *Task) (socket, []byte, error)
	// connect connects; it blocks itself (the restart model) unless
	// nonblock.
	connect(t *Task, sa []byte, nonblock bool) error
	// send queues what fits of b (a whole message for a message socket),
	// to the address to (nil: none); ctl holds control data the socket
	// takes ownership of. On EAGAIN, wait is what to wait on (nil: the
	// socket's own queue).
	send(t *Task, b, to []byte, ctl *scmData, flags int) (n int, wait *waitQueue, err error)
	recv(t *Task, b []byte, flags int) (recvResult, error)
	sockname() []byte
	peername() ([]byte, error)
	shutdown(t *Task, how int) error
	setsockopt(t *Task, level, name int, val []byte) error
	getsockopt(t *Task, level, name, size int) ([]byte, error)
	// timeouts returns SO_RCVTIMEO and SO_SNDTIMEO (0: none).
	timeouts() (rcv, snd time.Duration)
	// stream reports whether sends may be split (SOCK_STREAM).
	stream() bool
	// maxMsg is the largest message a message socket sends (EMSGSIZE
	// beyond); 0 for a stream.
	maxMsg() int
	// inq is FIONREAD: the bytes waiting (the next datagram's size).
	inq() (int, error)
	// passCred reports SO_PASSCRED (credentials go with every message).
	passCred() bool
	// sigpipe reports whether EPIPE raises SIGPIPE (stream sockets).
	sigpipe() bool
	machine() *Machine
}

// recvResult is what one receive produced.
type recvResult struct {
	n      int    // bytes copied into the buffer
	ret    int    // the call's result (the datagram's length with MSG_TRUNC)
	from   []byte // the sender's address (nil: none)
	flags  int    // msg_flags: MSG_TRUNC
	rights []*openFile
	cred   *ucred
}

// release drops descriptors received but not installed.
func (r *recvResult) release() {
	for _, of := range r.rights {
		of.release()
	}
	r.rights = nil
}

// ucred is struct ucred: a sender's credentials.
type ucred struct {
	pid      int32
	uid, gid uint32
}

func (c ucred) bytes() []byte {
	var b [linux.SizeofUcred]byte
	put32(b[0:], uint32(c.pid))
	put32(b[4:], c.uid)
	put32(b[8:], c.gid)
	return b[:]
}

// credOf is the credentials of t's process (every guest is root).
func credOf(t *Task) ucred { return ucred{pid: int32(t.PID)} }

// noCred is SO_PEERCRED of an unconnected socket: pid 0, ids -1.
var noCred = ucred{uid: ^uint32(0), gid: ^uint32(0)}

// scmData is control data to send: descriptors (SCM_RIGHTS, one
// reference each) and credentials (SCM_CREDENTIALS).
type scmData struct {
	rights []*openFile
	cred   *ucred
}

// release drops what was not sent.
func (c *scmData) release() {
	if c == nil {
		return
	}
	for _, of := range c.rights {
		of.release()
	}
	c.rights = nil
}

// sockBase is what every socket kind shares.
type sockBase struct {
	nonblocker
	m   *Machine
	ino uint64
	wq  waitQueue
}

func (b *sockBase) inode() uint64         { return b.ino }
func (b *sockBase) openFile() *openFile   { return b.of }
func (b *sockBase) waitQueue() *waitQueue { return &b.wq }
func (b *sockBase) ProcName() string      { return fmt.Sprintf("socket:[%d]", b.ino) }

// Stat describes the socket as sockfs does.
func (b *sockBase) Stat() (fs.FileInfo, error) {
	return sockInfo{vfs.Attr{Ino: b.ino, Dev: sockfsDev, Mode: vfs.ModeSocket | 0o777, Nlink: 1, Blksize: 4096}}, nil
}

type sockInfo struct{ a vfs.Attr }

func (i sockInfo) Name() string     { return fmt.Sprintf("socket:[%d]", i.a.Ino) }
func (sockInfo) Size() int64        { return 0 }
func (sockInfo) Mode() fs.FileMode  { return fs.ModeSocket | 0o777 }
func (sockInfo) ModTime() time.Time { return time.Time{} }
func (sockInfo) IsDir() bool        { return false }
func (i sockInfo) Sys() any         { return &i.a }

// sockCall wraps a socket system call: a timeout it set (SO_RCVTIMEO,
// SO_SNDTIMEO) ends with the call.
func sockCall(fn syscallFn) syscallFn {
	return func(t *Task, a *args) (uint64, error) {
		r, err := fn(t, a)
		if err != errRestart {
			t.deadline = 0
		}
		return r, err
	}
}

// sockFD returns the socket behind fd (EBADF, ENOTSOCK).
func (t *Task) sockFD(fd int) (socket, *openFile, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return nil, nil, err
	}
	s, ok := of.f.(socket)
	if !ok {
		return nil, nil, linux.ENOTSOCK
	}
	return s, of, nil
}

// readSockaddr copies an address argument of n bytes in, as Linux's
// move_addr_to_kernel: EINVAL beyond sockaddr_storage, EFAULT.
func (t *Task) readSockaddr(addr uint64, n int) ([]byte, error) {
	if n < 0 || n > linux.SizeofSockaddrSt {
		return nil, linux.EINVAL
	}
	b := make([]byte, n)
	if n > 0 {
		if err := t.copyIn(addr, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// writeSockaddr copies sa out to addr, at most *lenAddr bytes, and
// stores its full length in *lenAddr, as move_addr_to_user.
func (t *Task) writeSockaddr(sa []byte, addr, lenAddr uint64) error {
	var lb [4]byte
	if err := t.copyIn(lenAddr, lb[:]); err != nil {
		return err
	}
	n := int(int32(leU32(lb[:])))
	n = min(n, len(sa))
	if n < 0 {
		return linux.EINVAL
	}
	if n > 0 {
		if err := t.copyOut(addr, sa[:n]); err != nil {
			return err
		}
	}
	put32(lb[:], uint32(len(sa)))
	return t.copyOut(lenAddr, lb[:])
}

// Socket implements socket(2).
func sysSocket(t *Task, a *args) (uint64, error) {
	family, typ, proto := a.int32(0), a.int32(1), a.int32(2)
	flags := typ &^ linux.SOCK_TYPE_MASK
	if flags&^(linux.SOCK_NONBLOCK|linux.SOCK_CLOEXEC) != 0 {
		return 0, linux.EINVAL
	}
	s, err := t.m.newSocket(t, family, typ&linux.SOCK_TYPE_MASK, proto)
	if err != nil {
		return 0, err
	}
	return t.installSocket(s, flags)
}

// newSocket creates a socket of the family (__sock_create's checks).
func (m *Machine) newSocket(t *Task, family, typ, proto int) (socket, error) {
	if family < 0 || family >= linux.AF_MAX {
		return nil, linux.EAFNOSUPPORT
	}
	if typ < 0 || typ >= linux.SOCK_MAX {
		return nil, linux.EINVAL
	}
	switch family {
	case linux.AF_UNIX:
		return m.newUnixSocket(t, typ, proto)
	case linux.AF_INET, linux.AF_INET6:
		if typ == linux.SOCK_RAW && !t.capable(capNetRaw) {
			return nil, linux.EPERM
		}
		return m.newInetSocket(family, typ, proto)
	case linux.AF_NETLINK:
		return m.newNetlinkSocket(typ, proto)
	}
	return nil, linux.EAFNOSUPPORT
}

// installSocket gives s a descriptor with SOCK_NONBLOCK and SOCK_CLOEXEC
// from flags.
func (t *Task) installSocket(s socket, flags int) (uint64, error) {
	nb := sockNonblocker(s)
	fd, err := t.installNew(s, nb, linux.O_RDWR, flags)
	if err != nil {
		s.Close()
	}
	return fd, err
}

// sockNonblocker returns the back pointer a socket keeps to its open file.
func sockNonblocker(s socket) *nonblocker {
	switch s := s.(type) {
	case *unixSocket:
		return &s.nonblocker
	case *inetSocket:
		return &s.nonblocker
	case *netlinkSocket:
		return &s.nonblocker
	}
	panic(fmt.Sprintf("socket of type %T", s))
}

// Socketpair implements socketpair(2).
func sysSocketpair(t *Task, a *args) (uint64, error) {
	family, typ, proto := a.int32(0), a.int32(1), a.int32(2)
	flags := typ &^ linux.SOCK_TYPE_MASK
	if flags&^(linux.SOCK_NONBLOCK|linux.SOCK_CLOEXEC) != 0 {
		return 0, linux.EINVAL
	}
	if !t.as.check(a[3], 8, cpu.ProtWrite) {
		return 0, linux.EFAULT
	}
	s1, err := t.m.newSocket(t, family, typ&linux.SOCK_TYPE_MASK, proto)
	if err != nil {
		return 0, err
	}
	u1, ok := s1.(*unixSocket)
	if !ok {
		s1.Close()
		return 0, linux.EOPNOTSUPP
	}
	s2, err := t.m.newSocket(t, family, typ&linux.SOCK_TYPE_MASK, proto)
	if err != nil {
		s1.Close()
		return 0, err
	}
	u2 := s2.(*unixSocket)
	u1.pair(t, u2)
	fd1, err := t.installSocket(u1, flags)
	if err != nil {
		u2.Close()
		return 0, err
	}
	fd2, err := t.installSocket(u2, flags)
	if err != nil {
		t.fds.close(int(fd1))
		return 0, err
	}
	var b [8]byte
	put32(b[0:], uint32(fd1))
	put32(b[4:], uint32(fd2))
	if err := t.copyOut(a[3], b[:]); err != nil {
		t.fds.close(int(fd1))
		t.fds.close(int(fd2))
		return 0, err
	}
	return 0, nil
}

// Bind implements bind(2).
func sysBind(t *Task, a *args) (uint64, error) {
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	sa, err := t.readSockaddr(a[1], a.int32(2))
	if err != nil {
		return 0, err
	}
	return 0, s.bind(t, sa)
}

// Listen implements listen(2); a backlog beyond somaxconn (or negative)
// is somaxconn.
func sysListen(t *Task, a *args) (uint64, error) {
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	backlog := a.int32(1)
	if uint32(backlog) > linux.SOMAXCONN {
		backlog = linux.SOMAXCONN
	}
	return 0, s.listen(t, backlog)
}

// Accept implements accept(2).
func sysAccept(t *Task, a *args) (uint64, error) {
	return t.accept(a.int32(0), a[1], a[2], 0)
}

// Accept4 implements accept4(2).
func sysAccept4(t *Task, a *args) (uint64, error) {
	flags := a.int32(3)
	if flags&^(linux.SOCK_NONBLOCK|linux.SOCK_CLOEXEC) != 0 {
		return 0, linux.EINVAL
	}
	return t.accept(a.int32(0), a[1], a[2], flags)
}

func (t *Task) accept(fd int, addr, lenAddr uint64, flags int) (uint64, error) {
	s, of, err := t.sockFD(fd)
	if err != nil {
		return 0, err
	}
	for try := 0; ; try++ {
		ns, peer, err := s.accept(t)
		if err == linux.EAGAIN {
			if try == 0 && s.readiness()&pollIN != 0 {
				continue
			}
			rcv, _ := s.timeouts()
			return 0, t.sockBlock(of.flags&linux.O_NONBLOCK != 0, rcv, s.waitQueue())
		}
		if err != nil {
			return 0, err
		}
		nfd, err := t.installSocket(ns, flags)
		if err != nil {
			return 0, err
		}
		if addr != 0 {
			if err := t.writeSockaddr(peer, addr, lenAddr); err != nil {
				t.fds.close(int(nfd)) // the connection is lost, as on Linux
				return 0, err
			}
		}
		return nfd, nil
	}
}

// sockBlock makes a socket call wait for one of qs (the restart model),
// or fails with EAGAIN when it must not wait: a non-blocking call, no
// thread (a kernel-side caller), or the socket's timeout d (0: none)
// passed.
func (t *Task) sockBlock(nonblock bool, d time.Duration, qs ...*waitQueue) error {
	if nonblock || t.m.cur != t {
		return linux.EAGAIN
	}
	var at uint64
	if d > 0 {
		at = t.timeout(d)
		if t.expired() {
			return linux.EAGAIN
		}
	}
	return t.block(at, qs...)
}

// Connect implements connect(2). As on Linux, a bad address is reported
// before a descriptor that is not a socket.
func sysConnect(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	sa, err := t.readSockaddr(a[1], a.int32(2))
	if err != nil {
		return 0, err
	}
	s, ok := of.f.(socket)
	if !ok {
		return 0, linux.ENOTSOCK
	}
	return 0, s.connect(t, sa, of.flags&linux.O_NONBLOCK != 0)
}

// Getsockname implements getsockname(2).
func sysGetsockname(t *Task, a *args) (uint64, error) {
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, t.writeSockaddr(s.sockname(), a[1], a[2])
}

// Getpeername implements getpeername(2).
func sysGetpeername(t *Task, a *args) (uint64, error) {
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	sa, err := s.peername()
	if err != nil {
		return 0, err
	}
	return 0, t.writeSockaddr(sa, a[1], a[2])
}

// Shutdown implements shutdown(2).
func sysShutdown(t *Task, a *args) (uint64, error) {
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, s.shutdown(t, a.int32(1))
}

// maxOptLen bounds the option value setsockopt copies in.
const maxOptLen = 4096

// Setsockopt implements setsockopt(2).
func sysSetsockopt(t *Task, a *args) (uint64, error) {
	n := a.int32(4)
	if n < 0 {
		return 0, linux.EINVAL
	}
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	val := make([]byte, min(n, maxOptLen))
	if err := t.copyIn(a[3], val); err != nil {
		return 0, err
	}
	level, name := a.int32(1), a.int32(2)
	if level == linux.SOL_SOCKET {
		name = oldTimeoOpt(name)
	}
	return 0, s.setsockopt(t, level, name, val)
}

// oldTimeoOpt maps SO_RCVTIMEO_NEW and SO_SNDTIMEO_NEW to the old names
// (the same struct timeval on arm64).
func oldTimeoOpt(name int) int {
	switch name {
	case linux.SO_RCVTIMEO_NEW:
		return linux.SO_RCVTIMEO
	case linux.SO_SNDTIMEO_NEW:
		return linux.SO_SNDTIMEO
	}
	return name
}

// Getsockopt implements getsockopt(2).
func sysGetsockopt(t *Task, a *args) (uint64, error) {
	s, _, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	var lb [4]byte
	if err := t.copyIn(a[4], lb[:]); err != nil {
		return 0, err
	}
	size := int(int32(leU32(lb[:])))
	if size < 0 {
		return 0, linux.EINVAL
	}
	level, name := a.int32(1), a.int32(2)
	if level == linux.SOL_SOCKET {
		name = oldTimeoOpt(name)
	}
	v, err := s.getsockopt(t, level, name, size)
	if err != nil {
		return 0, err
	}
	if len(v) > size {
		v = v[:size]
	}
	if err := t.copyOut(a[3], v); err != nil {
		return 0, err
	}
	put32(lb[:], uint32(len(v)))
	return 0, t.copyOut(a[4], lb[:])
}

// Sendto implements sendto(2).
func sysSendto(t *Task, a *args) (uint64, error) {
	s, of, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	var to []byte
	if a[4] != 0 {
		if to, err = t.readSockaddr(a[4], a.int32(5)); err != nil {
			return 0, err
		}
	}
	buf, err := t.userIO([][2]uint64{{a[1], min(a[2], maxIO)}})
	if err != nil {
		return 0, err
	}
	n, err := t.sockSend(s, of, buf, to, nil, a.int32(3))
	return uint64(n), err
}

// Recvfrom implements recvfrom(2).
func sysRecvfrom(t *Task, a *args) (uint64, error) {
	s, of, err := t.sockFD(a.int32(0))
	if err != nil {
		return 0, err
	}
	buf, err := t.userIO([][2]uint64{{a[1], min(a[2], maxIO)}})
	if err != nil {
		return 0, err
	}
	r, err := t.sockRecv(s, of, buf, a.int32(3))
	if err != nil {
		return 0, err
	}
	r.release()
	if a[4] != 0 {
		if err := t.writeSockaddr(r.from, a[4], a[5]); err != nil {
			return 0, err
		}
	}
	return uint64(r.ret), nil
}

// sendChunk and recvChunk bound the host buffer of one step of a stream
// transfer; maxDatagram is more than any datagram (AF_UNIX's largest
// SO_SNDBUF).
const (
	sendChunk   = 256 << 10
	recvChunk   = 1 << 20
	maxDatagram = 2 * unixSndbuf
)

// scratch returns a buffer of n bytes, reused from call to call: socket
// calls run one at a time on the machine's goroutine, and the sockets
// copy what they keep.
func (mn *machineNet) scratch(buf *[]byte, n int) []byte {
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	return (*buf)[:n]
}

// sockSend sends buf through s with the flags of send(2): a message
// socket sends it whole; a stream socket sends it all, blocking as
// needed, unless non-blocking (then what fits, or EAGAIN). The bytes sent
// before a wait are kept in t.partial across restarts. EPIPE raises
// SIGPIPE unless MSG_NOSIGNAL.
func (t *Task) sockSend(s socket, of *openFile, buf ioBuffer, to []byte, ctl *scmData, flags int) (int, error) {
	defer ctl.release()
	nonblock := flags&linux.MSG_DONTWAIT != 0 || of.flags&linux.O_NONBLOCK != 0 || t.m.transferred()
	_, sndTimeo := s.timeouts()
	total := buf.size()
	pipeErr := func(err error) error {
		if err == linux.EPIPE && flags&linux.MSG_NOSIGNAL == 0 && s.sigpipe() {
			t.sendSignal(linux.SIGPIPE, siginfo{code: siKernel})
		}
		return err
	}
	if !s.stream() {
		if max := s.maxMsg(); total > max {
			return 0, linux.EMSGSIZE
		}
		b := t.m.net.scratch(&t.m.net.sendBuf, total)
		if err := buf.read(0, b); err != nil {
			return 0, err
		}
		for try := 0; ; try++ {
			n, wq, err := s.send(t, b, to, ctl, flags)
			if err == linux.EAGAIN {
				if try == 0 && wq == nil && s.readiness()&pollOUT != 0 {
					continue
				}
				if wq == nil {
					wq = s.waitQueue()
				}
				return 0, t.sockBlock(nonblock, sndTimeo, wq)
			}
			if err != nil {
				return 0, pipeErr(err)
			}
			t.m.markTransfer()
			return n, nil
		}
	}
	done := min(int(t.partial), total)
	for try := 0; done < total || total == 0; {
		k := min(total-done, sendChunk)
		b := t.m.net.scratch(&t.m.net.sendBuf, k)
		if err := buf.read(done, b); err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		c := ctl
		if done > 0 {
			c = nil // control data goes with the first byte
		}
		n, wq, err := s.send(t, b, to, c, flags)
		done += n
		if n > 0 {
			t.m.markTransfer()
			try = 0
		}
		if err == linux.EAGAIN {
			if try == 0 && wq == nil && s.readiness()&pollOUT != 0 {
				try++
				continue
			}
			if nonblock {
				break
			}
			if wq == nil {
				wq = s.waitQueue()
			}
			if err := t.sockBlock(false, sndTimeo, wq); err == errRestart {
				t.partial = uint64(done)
				return 0, err
			}
			break // the timeout passed
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, pipeErr(err)
		}
		if total == 0 {
			break
		}
	}
	t.partial = 0
	if done == 0 && total > 0 {
		return 0, linux.EAGAIN
	}
	return done, nil
}

// sockRecv receives into buf with the flags of recv(2): what is there (a
// stream) or one message; with MSG_WAITALL on a stream, all of buf unless
// the stream ends, an error or a signal comes first. The bytes received
// before a wait are kept in t.partial across restarts.
func (t *Task) sockRecv(s socket, of *openFile, buf ioBuffer, flags int) (recvResult, error) {
	nonblock := flags&linux.MSG_DONTWAIT != 0 || of.flags&linux.O_NONBLOCK != 0 || t.m.transferred()
	rcvTimeo, _ := s.timeouts()
	total := buf.size()
	waitall := flags&linux.MSG_WAITALL != 0 && flags&linux.MSG_PEEK == 0 && s.stream()
	done := 0
	if waitall {
		done = min(int(t.partial), total)
	}
	var res recvResult
	for try := 0; ; {
		k := min(total-done, recvChunk)
		if !s.stream() {
			k = min(total, maxDatagram)
		}
		if !buf.writable(done, k) {
			// Linux copies after the data is there: a bad buffer is
			// EFAULT only when something would be copied into it.
			var one [1]byte
			r, err := s.recv(t, one[:], flags|linux.MSG_PEEK)
			r.release()
			if err == nil && r.n == 0 {
				res.ret = done
				return res, nil // end of stream
			}
			if err == nil {
				return res, linux.EFAULT
			}
			if err != linux.EAGAIN {
				return res, err
			}
		} else {
			b := t.m.net.scratch(&t.m.net.recvBuf, k)
			r, err := s.recv(t, b, flags)
			if err == nil {
				if r.n > 0 {
					if err := buf.write(done, b[:min(r.n, k)]); err != nil {
						r.release()
						return res, err
					}
					t.m.markTransfer()
				}
				done += r.n
				if res.from == nil {
					res.from = r.from
				}
				res.flags |= r.flags
				res.rights = append(res.rights, r.rights...)
				if res.cred == nil {
					res.cred = r.cred
				}
				if !waitall || done >= total || r.n == 0 || r.rights != nil || r.cred != nil {
					t.partial = 0
					res.n = done
					res.ret = r.ret
					if waitall {
						res.ret = done
					}
					return res, nil
				}
				try = 0
				continue
			}
			if err != linux.EAGAIN {
				t.partial = 0
				if done > 0 {
					res.n, res.ret = done, done
					return res, nil
				}
				return res, err
			}
		}
		// Nothing there (EAGAIN).
		if try == 0 && s.readiness()&(pollIN|pollHUP|pollERR|pollRDHUP) != 0 {
			try++
			continue
		}
		if done > 0 && nonblock {
			res.n, res.ret = done, done
			return res, nil
		}
		err := t.sockBlock(nonblock, rcvTimeo, s.waitQueue())
		if err == errRestart {
			t.partial = uint64(done)
			return res, err
		}
		t.partial = 0
		if done > 0 {
			res.n, res.ret = done, done
			return res, nil
		}
		return res, err
	}
}

// ioBuffer is the data of a transfer: guest memory (an iovec list) or a
// host buffer.
type ioBuffer interface {
	size() int
	read(off int, b []byte) error
	write(off int, b []byte) error
	writable(off, n int) bool
}

// userBuffer is a list of guest buffers.
type userBuffer struct {
	t     *Task
	segs  [][2]uint64 // base, length
	total int
}

// userIO makes an ioBuffer of iovecs, as import_iovec checks them: each
// must lie in user space (EFAULT); the total is cut at MAX_RW_COUNT.
func (t *Task) userIO(segs [][2]uint64) (*userBuffer, error) {
	u := &userBuffer{t: t}
	for _, s := range segs {
		n := s[1]
		if int64(n) < 0 {
			return nil, linux.EINVAL
		}
		n = min(n, uint64(maxIO-u.total))
		if n > 0 && (s[0]+n < s[0] || s[0]+n > maxUserAddr) {
			return nil, linux.EFAULT
		}
		u.segs = append(u.segs, [2]uint64{s[0], n})
		u.total += int(n)
	}
	return u, nil
}

func (u *userBuffer) size() int { return u.total }

// each calls f for the guest ranges of [off, off+n).
func (u *userBuffer) each(off, n int, f func(addr uint64, lo, hi int) error) error {
	pos, base := 0, off
	for _, s := range u.segs {
		l := int(s[1])
		if off < pos+l && n > 0 {
			start := max(off-pos, 0)
			k := min(l-start, n)
			if err := f(s[0]+uint64(start), pos+start-base, pos+start-base+k); err != nil {
				return err
			}
			n -= k
			off += k
		}
		pos += l
		if n == 0 {
			break
		}
	}
	return nil
}

func (u *userBuffer) read(off int, b []byte) error {
	return u.each(off, len(b), func(addr uint64, lo, hi int) error { return u.t.copyIn(addr, b[lo:hi]) })
}

func (u *userBuffer) write(off int, b []byte) error {
	return u.each(off, len(b), func(addr uint64, lo, hi int) error { return u.t.copyOut(addr, b[lo:hi]) })
}

func (u *userBuffer) writable(off, n int) bool {
	return u.each(off, n, func(addr uint64, lo, hi int) error {
		if !u.t.as.check(addr, uint64(hi-lo), cpu.ProtWrite) {
			return linux.EFAULT
		}
		return nil
	}) == nil
}

// hostBuffer is a host buffer (read(2) and write(2) through a socket's
// file).
type hostBuffer []byte

func (h hostBuffer) size() int                     { return len(h) }
func (h hostBuffer) read(off int, b []byte) error  { copy(b, h[off:]); return nil }
func (h hostBuffer) write(off int, b []byte) error { copy(h[off:], b); return nil }
func (hostBuffer) writable(int, int) bool          { return true }

// sockRead is read(2) on a socket.
func sockRead(s socket, b []byte) (int, error) {
	t := s.machine().cur
	if t == nil {
		return 0, linux.EAGAIN
	}
	r, err := t.sockRecv(s, s.openFile(), hostBuffer(b), 0)
	r.release()
	return r.n, err
}

// sockWrite is write(2) on a socket.
func sockWrite(s socket, b []byte) (int, error) {
	t := s.machine().cur
	if t == nil {
		return 0, linux.EAGAIN
	}
	return t.sockSend(s, s.openFile(), hostBuffer(b), nil, nil, 0)
}

func (b *sockBase) machine() *Machine { return b.m }

// sockVectorIO is readv(2) and writev(2) on a socket: one receive or send
// of the whole vector (a datagram is not split per iovec).
func (t *Task) sockVectorIO(s socket, of *openFile, iov [][2]uint64, write bool) (uint64, error) {
	buf, err := t.userIO(iov)
	if err != nil {
		return 0, err
	}
	if write {
		n, err := t.sockSend(s, of, buf, nil, nil, 0)
		return uint64(n), err
	}
	r, err := t.sockRecv(s, of, buf, 0)
	r.release()
	return uint64(r.ret), err
}

// msghdr is a guest struct msghdr.
type msghdr struct {
	name       uint64
	namelen    int
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
	flags      int
}

func (t *Task) readMsghdr(addr uint64) (msghdr, error) {
	var b [linux.SizeofMsghdr]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return msghdr{}, err
	}
	return msghdr{name: le64(b[0:]), namelen: int(int32(leU32(b[8:]))), iov: le64(b[16:]), iovlen: le64(b[24:]),
		control: le64(b[32:]), controllen: le64(b[40:]), flags: int(int32(leU32(b[48:])))}, nil
}

// msgIO reads a msghdr's iovecs (EMSGSIZE beyond UIO_MAXIOV).
func (t *Task) msgIO(h msghdr) (*userBuffer, error) {
	if h.iovlen > 1024 {
		return nil, linux.EMSGSIZE
	}
	var segs [][2]uint64
	if h.iovlen > 0 {
		raw := make([]byte, 16*h.iovlen)
		if err := t.copyIn(h.iov, raw); err != nil {
			return nil, err
		}
		segs = make([][2]uint64, h.iovlen)
		for i := range segs {
			segs[i] = [2]uint64{le64(raw[16*i:]), le64(raw[16*i+8:])}
		}
	}
	return t.userIO(segs)
}

// optmemMax is net.core.optmem_max: the most control data sendmsg takes.
const optmemMax = 131072

// Sendmsg implements sendmsg(2).
func sysSendmsg(t *Task, a *args) (uint64, error) {
	n, err := t.sendmsg(a.int32(0), a[1], a.int32(2))
	return uint64(n), err
}

func (t *Task) sendmsg(fd int, addr uint64, flags int) (int, error) {
	s, of, err := t.sockFD(fd)
	if err != nil {
		return 0, err
	}
	h, err := t.readMsghdr(addr)
	if err != nil {
		return 0, err
	}
	if h.namelen < 0 {
		return 0, linux.EINVAL
	}
	var to []byte
	if h.name != 0 && h.namelen > 0 {
		if to, err = t.readSockaddr(h.name, min(h.namelen, linux.SizeofSockaddrSt)); err != nil {
			return 0, err
		}
	}
	buf, err := t.msgIO(h)
	if err != nil {
		return 0, err
	}
	var ctl *scmData
	if h.controllen > 0 {
		if h.controllen > optmemMax {
			return 0, linux.ENOBUFS
		}
		raw := make([]byte, h.controllen)
		if err := t.copyIn(h.control, raw); err != nil {
			return 0, err
		}
		if s.family() == linux.AF_UNIX {
			if ctl, err = t.parseControl(raw); err != nil {
				return 0, err
			}
		}
	}
	return t.sockSend(s, of, buf, to, ctl, flags)
}

// parseControl reads the control messages of an AF_UNIX sendmsg, as
// __scm_send: other levels than SOL_SOCKET are skipped.
func (t *Task) parseControl(raw []byte) (*scmData, error) {
	ctl := &scmData{}
	fail := func(err error) (*scmData, error) {
		ctl.release()
		return nil, err
	}
	for off := 0; off+linux.SizeofCmsghdr <= len(raw); {
		clen := le64(raw[off:])
		level, typ := int32(leU32(raw[off+8:])), int32(leU32(raw[off+12:]))
		if clen < linux.SizeofCmsghdr || clen > uint64(len(raw)-off) {
			return fail(linux.EINVAL)
		}
		data := raw[off+linux.SizeofCmsghdr : off+int(clen)]
		if level == linux.SOL_SOCKET {
			switch typ {
			case linux.SCM_RIGHTS:
				n := len(data) / 4
				if len(ctl.rights)+n > linux.SCM_MAX_FD {
					return fail(linux.EINVAL)
				}
				for i := 0; i < n; i++ {
					of, err := t.fds.get(int(int32(leU32(data[4*i:]))))
					if err != nil {
						return fail(err)
					}
					of.refs++
					ctl.rights = append(ctl.rights, of)
				}
			case linux.SCM_CREDENTIALS:
				if clen != linux.SizeofCmsghdr+linux.SizeofUcred {
					return fail(linux.EINVAL)
				}
				c := ucred{pid: int32(leU32(data)), uid: leU32(data[4:]), gid: leU32(data[8:])}
				if c.uid == ^uint32(0) || c.gid == ^uint32(0) {
					return fail(linux.EINVAL)
				}
				if p := t.m.lookup(int(c.pid)); p == nil || p == t.m.init && c.pid != 1 {
					return fail(linux.ESRCH)
				}
				ctl.cred = &c
			default:
				return fail(linux.EINVAL)
			}
		}
		off += int((clen + 7) &^ 7)
	}
	return ctl, nil
}

// Recvmsg implements recvmsg(2).
func sysRecvmsg(t *Task, a *args) (uint64, error) {
	n, err := t.recvmsg(a.int32(0), a[1], a.int32(2))
	return uint64(n), err
}

func (t *Task) recvmsg(fd int, addr uint64, flags int) (int, error) {
	s, of, err := t.sockFD(fd)
	if err != nil {
		return 0, err
	}
	h, err := t.readMsghdr(addr)
	if err != nil {
		return 0, err
	}
	buf, err := t.msgIO(h)
	if err != nil {
		return 0, err
	}
	r, err := t.sockRecv(s, of, buf, flags)
	if err != nil {
		return 0, err
	}
	defer r.release()
	if h.name != 0 {
		if err := t.writeSockaddr(r.from, h.name, addr+8); err != nil {
			return 0, err
		}
	}
	used, cflags, err := t.putControl(h, &r, s.passCred(), flags&linux.MSG_CMSG_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	var b [8]byte
	put32(b[:], uint32(r.flags|cflags|flags&linux.MSG_CMSG_CLOEXEC))
	if err := t.copyOut(addr+48, b[:4]); err != nil {
		return 0, err
	}
	put64(b[:], used)
	if err := t.copyOut(addr+40, b[:]); err != nil {
		return 0, err
	}
	return r.ret, nil
}

// putControl writes the received control messages into the msghdr's
// control buffer, as put_cmsg and scm_detach_fds: credentials first (when
// SO_PASSCRED), then the descriptors that fit, installed; what does not
// fit is dropped and sets MSG_CTRUNC. It returns the bytes used.
func (t *Task) putControl(h msghdr, r *recvResult, passcred, cloexec bool) (uint64, int, error) {
	var flags int
	if h.control == 0 {
		if (passcred && r.cred != nil) || len(r.rights) > 0 {
			flags |= linux.MSG_CTRUNC
		}
		return 0, flags, nil
	}
	addr, left := h.control, h.controllen
	if passcred && r.cred != nil {
		data := r.cred.bytes()
		if left < linux.SizeofCmsghdr {
			flags |= linux.MSG_CTRUNC
		} else {
			cmlen := uint64(linux.SizeofCmsghdr + len(data))
			if left < cmlen {
				flags |= linux.MSG_CTRUNC
				cmlen = left
			}
			b := make([]byte, cmlen)
			hdr := cmsgHeader(cmlen, linux.SCM_CREDENTIALS)
			copy(b, hdr[:])
			copy(b[linux.SizeofCmsghdr:], data)
			if err := t.copyOut(addr, b); err != nil {
				return 0, 0, err
			}
			space := min((cmlen+7)&^7, left)
			addr += space
			left -= space
		}
	}
	if len(r.rights) > 0 {
		fdmax := 0
		if left > linux.SizeofCmsghdr {
			fdmax = int((left - linux.SizeofCmsghdr) / 4)
		}
		var fds []byte
		i := 0
		for ; i < min(fdmax, len(r.rights)); i++ {
			fd, err := t.fds.installOpen(r.rights[i], 0, cloexec)
			if err != nil {
				break
			}
			fds = put32Append(fds, uint32(fd))
		}
		if i > 0 {
			cmlen := uint64(linux.SizeofCmsghdr + 4*i)
			hdr := cmsgHeader(cmlen, linux.SCM_RIGHTS)
			if err := t.copyOut(addr, append(hdr[:], fds...)); err != nil {
				return 0, 0, err
			}
			space := min((cmlen+7)&^7, left)
			left -= space
		}
		if i < len(r.rights) {
			flags |= linux.MSG_CTRUNC
		}
		for _, of := range r.rights[:i] {
			of.refs-- // the in-flight reference; the descriptor holds one now
		}
		r.rights = r.rights[i:]
	}
	return h.controllen - left, flags, nil
}

func cmsgHeader(cmlen uint64, typ int) [linux.SizeofCmsghdr]byte {
	var hdr [linux.SizeofCmsghdr]byte
	put64(hdr[0:], cmlen)
	put32(hdr[8:], linux.SOL_SOCKET)
	put32(hdr[12:], uint32(typ))
	return hdr
}

func put32Append(b []byte, v uint32) []byte {
	var x [4]byte
	put32(x[:], v)
	return append(b, x[:]...)
}

// uioMaxIOV is UIO_MAXIOV: the most messages of one sendmmsg/recvmmsg.
const uioMaxIOV = 1024

// putMsgLen writes the msg_len of struct mmsghdr h: the bytes its
// message moved.
func (t *Task) putMsgLen(h uint64, n int) error {
	var b [4]byte
	put32(b[:], uint32(n))
	return t.copyOut(h+linux.SizeofMsghdr, b[:])
}

// Sendmmsg implements sendmmsg(2). Only the first message may block.
func sysSendmmsg(t *Task, a *args) (uint64, error) {
	fd, vec, vlen, flags := a.int32(0), a[1], min(uint64(uint32(a[2])), uioMaxIOV), a.int32(3)
	if _, _, err := t.sockFD(fd); err != nil {
		return 0, err
	}
	var sent uint64
	for ; sent < vlen; sent++ {
		f := flags
		if sent > 0 {
			f |= linux.MSG_DONTWAIT
		}
		h := vec + sent*linux.SizeofMmsghdr
		n, err := t.sendmsg(fd, h, f)
		if err == nil {
			err = t.putMsgLen(h, n)
		}
		if err != nil {
			if sent > 0 && err != errRestart {
				break
			}
			return 0, err
		}
	}
	return sent, nil
}

// Recvmmsg implements recvmmsg(2). Only the first message may block (as
// with MSG_WAITFORONE). As on Linux, the timeout is checked only after
// each message received, and the time left is written back.
func sysRecvmmsg(t *Task, a *args) (uint64, error) {
	fd, vec, vlen, flags := a.int32(0), a[1], min(uint64(uint32(a[2])), uioMaxIOV), a.int32(3)
	if _, _, err := t.sockFD(fd); err != nil {
		return 0, err
	}
	var end uint64
	if a[4] != 0 {
		d, err := t.readTimespec(a[4])
		if err != nil {
			return 0, err
		}
		end = t.m.clock.Now() + uint64(d)
	}
	var got uint64
	for ; got < vlen; got++ {
		f := flags &^ linux.MSG_WAITFORONE
		if got > 0 {
			f |= linux.MSG_DONTWAIT
		}
		h := vec + got*linux.SizeofMmsghdr
		n, err := t.recvmsg(fd, h, f)
		if err == nil {
			err = t.putMsgLen(h, n)
		}
		if err != nil {
			if got > 0 && err != errRestart {
				break
			}
			return 0, err
		}
		if end != 0 && t.m.clock.Now() >= end {
			got++
			break
		}
	}
	if a[4] != 0 {
		var left uint64
		if now := t.m.clock.Now(); end > now {
			left = end - now
		}
		var ts [16]byte
		put64(ts[0:], left/1e9)
		put64(ts[8:], left%1e9)
		if err := t.copyOut(a[4], ts[:]); err != nil {
			return 0, err
		}
	}
	return got, nil
}
