package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// AF_UNIX sockets: stream, datagram and seqpacket, bound to a path (a
// socket node in the VFS), to a name in the abstract namespace (a leading
// NUL) or unnamed; descriptors (SCM_RIGHTS) and credentials
// (SCM_CREDENTIALS) travel with the data.
//
// Buffers are bounded as Linux bounds them: a sender may have at most
// SO_SNDBUF bytes (212992 by default) queued at its receivers, counting
// each queued message with a fixed overhead, so even empty messages are
// bounded; a datagram socket's queue holds at most max_dgram_qlen (10)
// messages from senders it is not connected to. Senders wait for room on
// their own wait queue (woken as their messages are read) or on the
// receiver's.

// Linux's defaults for AF_UNIX buffers.
const (
	unixSndbuf       = 212992 // net.core.wmem_default and wmem_max
	unixRcvbuf       = 212992 // net.core.rmem_default and rmem_max
	unixMinSndbuf    = 4608   // SOCK_MIN_SNDBUF
	unixMinRcvbuf    = 2304   // SOCK_MIN_RCVBUF
	unixMaxDgramQlen = 10     // net.unix.max_dgram_qlen
	unixMsgOverhead  = 256    // what a queued message costs its sender besides its bytes
	sunPathOffset    = 2      // offsetof(struct sockaddr_un, sun_path)
)

// unixState is where a socket is in its life (Linux's sk_state).
type unixState int

const (
	unixUnconnected unixState = iota // TCP_CLOSE
	unixListening                    // TCP_LISTEN
	unixConnected                    // TCP_ESTABLISHED
)

// Shutdown bits (sk_shutdown).
const (
	rcvShutdown  = 1
	sendShutdown = 2
)

// pollWRBAND is POLLWRBAND, which AF_UNIX sockets report with POLLOUT.
const pollWRBAND = 0x200

// abstractKey is a name in the abstract namespace. As on Linux, sockets of
// different types may share a name (the lookup includes the type).
type abstractKey struct {
	typ  int
	name string
}

// fileID identifies a socket node of the VFS.
type fileID struct{ dev, ino uint64 }

// unixNamespace is the machine's AF_UNIX names and sockets.
type unixNamespace struct {
	abstract map[abstractKey]*unixSocket
	paths    map[fileID]*unixSocket
	all      map[*unixSocket]struct{} // open sockets, for /proc/net/unix
	// inflight counts, per open file, the queued messages that carry it
	// (SCM_RIGHTS); each holds a reference. collecting is set while gc
	// runs.
	inflight   map[*openFile]int
	collecting bool
}

func (ns *unixNamespace) init() {
	ns.abstract = map[abstractKey]*unixSocket{}
	ns.paths = map[fileID]*unixSocket{}
	ns.all = map[*unixSocket]struct{}{}
	ns.inflight = map[*openFile]int{}
}

// unixSocket is an AF_UNIX socket.
type unixSocket struct {
	sockBase
	typ   int
	state unixState
	dead  bool // closed

	addr     []byte // bound address (sockaddr_un as getsockname returns it); nil: unbound
	abstract string // its name in the abstract namespace, when bound there
	node     *fileID

	peer    *unixSocket // connected peer (the accepted end of a stream)
	shut    int         // rcvShutdown|sendShutdown
	err     linux.Errno // pending error (SO_ERROR)
	backlog int
	acceptq []*unixSocket // listening: connections not yet accepted

	rq    []*unixMsg // receive queue
	rqLen int        // unread bytes in rq
	wmem  int        // bytes (and overheads) of this socket's messages queued at receivers
	// peerWaiters are datagram sockets connected to this one that found
	// its queue full; they are woken when it drains.
	peerWaiters []*unixSocket

	sndbuf, rcvbuf int
	passcred       bool
	sockTimeouts
	listenCred ucred  // the listener's credentials (SO_PEERCRED of its clients)
	peerCred   *ucred // SO_PEERCRED
	opts       map[int]int32
	linger     [8]byte
}

// unixMsg is a queued message (a datagram, or a segment of a stream).
type unixMsg struct {
	data     []byte
	off      int         // bytes read (stream)
	from     *unixSocket // the sender, charged for it
	fromAddr []byte      // the sender's address when sent
	charge   int
	rights   []*openFile
	cred     ucred
}

// newUnixSocket implements socket(2) for AF_UNIX.
func (m *Machine) newUnixSocket(t *Task, typ, proto int) (socket, error) {
	if proto != 0 && proto != linux.AF_UNIX {
		return nil, linux.EPROTONOSUPPORT
	}
	switch typ {
	case linux.SOCK_STREAM, linux.SOCK_SEQPACKET, linux.SOCK_DGRAM:
	case linux.SOCK_RAW:
		typ = linux.SOCK_DGRAM // as Linux does
	default:
		return nil, linux.ESOCKTNOSUPPORT
	}
	return m.net.newUnix(typ), nil
}

func (mn *machineNet) newUnix(typ int) *unixSocket {
	s := &unixSocket{sockBase: sockBase{m: mn.m, ino: mn.newIno()}, typ: typ, sndbuf: unixSndbuf, rcvbuf: unixRcvbuf}
	mn.unix.all[s] = struct{}{}
	return s
}

func (s *unixSocket) ns() *unixNamespace { return &s.m.net.unix }
func (s *unixSocket) family() int        { return linux.AF_UNIX }
func (s *unixSocket) sockType() int      { return s.typ }
func (s *unixSocket) protocol() int      { return 0 }
func (s *unixSocket) stream() bool       { return s.typ == linux.SOCK_STREAM }
func (s *unixSocket) passCred() bool     { return s.passcred }

// maxMsg is the largest datagram: SO_SNDBUF less 32 bytes.
func (s *unixSocket) maxMsg() int { return max(s.sndbuf-32, 0) }

// sigpipe: only stream sockets raise SIGPIPE with EPIPE.
func (s *unixSocket) sigpipe() bool { return s.typ == linux.SOCK_STREAM }

func (s *unixSocket) Read(b []byte) (int, error)  { return sockRead(s, b) }
func (s *unixSocket) Write(b []byte) (int, error) { return sockWrite(s, b) }

// unnamed is the address of an unbound socket.
var unnamed = []byte{linux.AF_UNIX, 0}

// name returns the socket's address (family only when unbound).
func (s *unixSocket) name() []byte {
	if s.addr == nil {
		return unnamed
	}
	return s.addr
}

func (s *unixSocket) sockname() []byte { return slices.Clone(s.name()) }

func (s *unixSocket) peername() ([]byte, error) {
	if s.peer == nil {
		return nil, linux.ENOTCONN
	}
	return slices.Clone(s.peer.name()), nil
}

// validUnixAddr checks an address as unix_validate_addr.
func validUnixAddr(sa []byte) error {
	if len(sa) <= sunPathOffset || len(sa) > linux.SizeofSockaddrUn ||
		binary.LittleEndian.Uint16(sa) != linux.AF_UNIX {
		return linux.EINVAL
	}
	return nil
}

// unixPath returns the path of a path address: sun_path up to its NUL.
func unixPath(sa []byte) string {
	p := sa[sunPathOffset:]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}

// bind implements bind(2).
func (s *unixSocket) bind(t *Task, sa []byte) error {
	if len(sa) == sunPathOffset && binary.LittleEndian.Uint16(sa) == linux.AF_UNIX {
		return s.autobind()
	}
	if err := validUnixAddr(sa); err != nil {
		return err
	}
	ns := s.ns()
	if sa[sunPathOffset] == 0 {
		if s.addr != nil {
			return linux.EINVAL
		}
		name := string(sa[sunPathOffset:])
		if ns.abstract[abstractKey{s.typ, name}] != nil {
			return linux.EADDRINUSE
		}
		s.addr, s.abstract = slices.Clone(sa), name
		ns.abstract[abstractKey{s.typ, name}] = s
		return nil
	}
	p := unixPath(sa)
	start, err := t.dirStart(linux.AT_FDCWD, p)
	if err != nil {
		return err
	}
	err = t.m.fs.MknodAt(t.vctx(), start, p, vfs.ModeSocket|0o777&^t.umask, 0)
	if err == linux.EEXIST {
		return linux.EADDRINUSE
	}
	if err != nil {
		return fileErr(err)
	}
	attr, err := t.m.fs.StatAt(t.vctx(), start, p, false)
	if err != nil {
		return fileErr(err)
	}
	if s.addr != nil {
		_ = t.m.fs.UnlinkAt(t.vctx(), start, p, false)
		return linux.EINVAL
	}
	id := fileID{attr.Dev, attr.Ino}
	s.addr = append(append([]byte{linux.AF_UNIX, 0}, p...), 0)
	s.node = &id
	ns.paths[id] = s
	return nil
}

// autobind gives an unbound socket a free abstract name of five hex
// digits, as Linux does for bind(2) with only the family, and for sockets
// that pass credentials.
func (s *unixSocket) autobind() error {
	if s.addr != nil {
		return nil
	}
	ns := s.ns()
	var seed [4]byte
	s.m.randomBytes(seed[:])
	n := binary.LittleEndian.Uint32(seed[:])
	for i := 0; i <= 0xfffff; i++ {
		name := fmt.Sprintf("\x00%05x", (n+uint32(i))&0xfffff)
		if k := (abstractKey{s.typ, name}); ns.abstract[k] == nil {
			s.addr = append([]byte{linux.AF_UNIX, 0}, name...)
			s.abstract = name
			ns.abstract[k] = s
			return nil
		}
	}
	return linux.ENOSPC
}

// lookup finds the socket bound to sa, of type typ (unix_find_other).
func (s *unixSocket) lookup(t *Task, sa []byte) (*unixSocket, error) {
	if err := validUnixAddr(sa); err != nil {
		return nil, err
	}
	ns := s.ns()
	var o *unixSocket
	if sa[sunPathOffset] == 0 {
		if o = ns.abstract[abstractKey{s.typ, string(sa[sunPathOffset:])}]; o == nil {
			return nil, linux.ECONNREFUSED
		}
	} else {
		p := unixPath(sa)
		start, err := t.dirStart(linux.AT_FDCWD, p)
		if err != nil {
			return nil, err
		}
		attr, err := t.m.fs.StatAt(t.vctx(), start, p, true)
		if err != nil {
			return nil, fileErr(err)
		}
		if attr.Mode&vfs.ModeType != vfs.ModeSocket {
			return nil, linux.ECONNREFUSED
		}
		if o = ns.paths[fileID{attr.Dev, attr.Ino}]; o == nil {
			return nil, linux.ECONNREFUSED
		}
	}
	if o.typ != s.typ {
		return nil, linux.EPROTOTYPE
	}
	return o, nil
}

// listen implements listen(2).
func (s *unixSocket) listen(t *Task, backlog int) error {
	if s.typ == linux.SOCK_DGRAM {
		return linux.EOPNOTSUPP
	}
	if s.addr == nil || s.state == unixConnected {
		return linux.EINVAL
	}
	if backlog > s.backlog {
		s.wq.wakeAll() // connections waiting for room
	}
	s.backlog = backlog
	s.state = unixListening
	s.listenCred = credOf(t)
	return nil
}

// connect implements connect(2).
func (s *unixSocket) connect(t *Task, sa []byte, nonblock bool) error {
	if s.typ == linux.SOCK_DGRAM {
		return s.connectDgram(t, sa)
	}
	if err := validUnixAddr(sa); err != nil {
		return err
	}
	if s.passcred {
		if err := s.autobind(); err != nil {
			return err
		}
	}
	o, err := s.lookup(t, sa)
	if err != nil {
		return err
	}
	if o.state != unixListening || o.shut&rcvShutdown != 0 {
		return linux.ECONNREFUSED
	}
	if len(o.acceptq) > o.backlog {
		_, snd := s.timeouts()
		return t.sockBlock(nonblock, snd, &o.wq)
	}
	switch s.state {
	case unixConnected:
		return linux.EISCONN
	case unixListening:
		return linux.EINVAL
	}
	e := s.m.net.newUnix(s.typ)
	e.state, e.addr, e.peer = unixConnected, slices.Clone(o.addr), s
	c := credOf(t)
	e.peerCred = &c
	lc := o.listenCred
	s.peerCred = &lc
	s.peer, s.state = e, unixConnected
	o.acceptq = append(o.acceptq, e)
	o.wq.wakeAll()
	s.wq.wakeAll()
	return nil
}

// connectDgram sets (or with AF_UNSPEC dissolves) a datagram socket's
// default peer.
func (s *unixSocket) connectDgram(t *Task, sa []byte) error {
	if len(sa) < 2 {
		return linux.EINVAL
	}
	if binary.LittleEndian.Uint16(sa) == linux.AF_UNSPEC {
		s.setPeer(nil)
		s.state = unixUnconnected
		return nil
	}
	if err := validUnixAddr(sa); err != nil {
		return err
	}
	if s.passcred {
		if err := s.autobind(); err != nil {
			return err
		}
	}
	o, err := s.lookup(t, sa)
	if err != nil {
		return err
	}
	if o.peer != nil && o.peer != s {
		return linux.EPERM
	}
	s.setPeer(o)
	s.state = unixConnected
	return nil
}

// setPeer changes a datagram socket's peer. Leaving a peer drops what
// was queued, and a peer connected back learns it (ECONNRESET), as
// unix_dgram_disconnected.
func (s *unixSocket) setPeer(o *unixSocket) {
	old := s.peer
	s.peer = o
	if old == nil || old == o {
		return
	}
	if len(s.rq) > 0 {
		s.purge()
		if !old.dead && old.peer == s {
			old.err = linux.ECONNRESET
			old.wq.wakeAll()
		}
	}
	s.wq.wakeAll()
}

// pair connects s and o (socketpair).
func (s *unixSocket) pair(t *Task, o *unixSocket) {
	s.peer, o.peer = o, s
	if s.typ != linux.SOCK_DGRAM {
		s.state, o.state = unixConnected, unixConnected
	}
	c := credOf(t)
	s.peerCred, o.peerCred = &c, &c
}

// accept implements accept4(2) without blocking.
func (s *unixSocket) accept(t *Task) (socket, []byte, error) {
	if s.typ == linux.SOCK_DGRAM {
		return nil, nil, linux.EOPNOTSUPP
	}
	if s.state != unixListening {
		return nil, nil, linux.EINVAL
	}
	if len(s.acceptq) == 0 {
		if s.shut&rcvShutdown != 0 {
			return nil, nil, linux.EINVAL
		}
		return nil, nil, linux.EAGAIN
	}
	e := s.acceptq[0]
	s.acceptq = slices.Delete(s.acceptq, 0, 1)
	e.passcred = s.passcred
	s.wq.wakeAll() // room for a waiting connect
	peer := unnamed
	if e.peer != nil {
		peer = e.peer.name()
	}
	return e, slices.Clone(peer), nil
}

// shutdown implements shutdown(2); a connected peer of a stream or
// seqpacket socket gets the other half.
func (s *unixSocket) shutdown(t *Task, how int) error {
	if how < linux.SHUT_RD || how > linux.SHUT_RDWR {
		return linux.EINVAL
	}
	mode := how + 1
	s.shut |= mode
	s.wq.wakeAll()
	if o := s.peer; o != nil && s.typ != linux.SOCK_DGRAM {
		peerMode := 0
		if mode&rcvShutdown != 0 {
			peerMode |= sendShutdown
		}
		if mode&sendShutdown != 0 {
			peerMode |= rcvShutdown
		}
		o.shut |= peerMode
		o.wq.wakeAll()
	}
	return nil
}

// send implements sendmsg(2) without blocking.
func (s *unixSocket) send(t *Task, b, to []byte, ctl *scmData, flags int) (int, *waitQueue, error) {
	if s.typ == linux.SOCK_STREAM {
		return s.sendStream(t, b, to, ctl, flags)
	}
	return s.sendDgram(t, b, to, ctl, flags)
}

// msgCred is the credentials a message carries: SCM_CREDENTIALS's, or
// the sender's.
func msgCred(t *Task, ctl *scmData) ucred {
	if ctl != nil && ctl.cred != nil {
		return *ctl.cred
	}
	return credOf(t)
}

func (s *unixSocket) sendStream(t *Task, b, to []byte, ctl *scmData, flags int) (int, *waitQueue, error) {
	if flags&linux.MSG_OOB != 0 {
		return 0, nil, linux.EOPNOTSUPP
	}
	if len(to) > 0 {
		if s.state == unixConnected {
			return 0, nil, linux.EISCONN
		}
		return 0, nil, linux.EOPNOTSUPP
	}
	o := s.peer
	if o == nil {
		return 0, nil, linux.ENOTCONN
	}
	if s.shut&sendShutdown != 0 || o.dead || o.shut&rcvShutdown != 0 {
		return 0, nil, linux.EPIPE
	}
	if len(b) == 0 {
		return 0, nil, nil
	}
	if s.wmem >= s.sndbuf {
		return 0, nil, linux.EAGAIN
	}
	k := min(len(b), max(s.sndbuf/2-64, 1))
	cred := msgCred(t, ctl)
	// Coalesce with the last segment when nothing tells them apart.
	if n := len(o.rq); n > 0 && (ctl == nil || len(ctl.rights) == 0) {
		if last := o.rq[n-1]; last.from == s && last.rights == nil && last.cred == cred && len(last.data)+k <= s.sndbuf/2 {
			last.data = append(last.data, b[:k]...)
			last.charge += k
			s.wmem += k
			o.rqLen += k
			o.wq.wakeAll()
			return k, nil, nil
		}
	}
	msg := &unixMsg{data: slices.Clone(b[:k]), from: s, fromAddr: s.addr, charge: k + unixMsgOverhead, cred: cred}
	if ctl != nil {
		msg.rights, ctl.rights = ctl.rights, nil
	}
	s.queue(o, msg)
	return k, nil, nil
}

// queue puts msg on o's receive queue, charged to s.
func (s *unixSocket) queue(o *unixSocket, msg *unixMsg) {
	o.rq = append(o.rq, msg)
	o.rqLen += len(msg.data)
	s.wmem += msg.charge
	ns := s.ns()
	for _, of := range msg.rights {
		ns.inflight[of]++
	}
	o.wq.wakeAll()
}

// landed notes that descriptors left the queues (received or dropped).
func (ns *unixNamespace) landed(rights []*openFile) {
	for _, of := range rights {
		if ns.inflight[of]--; ns.inflight[of] <= 0 {
			delete(ns.inflight, of)
		}
	}
}

// refDropped is called when a reference to the socket's open file goes
// and others remain (fd.go): if only queued messages still hold it, it
// may be part of an unreachable cycle.
func (s *unixSocket) refDropped(of *openFile) {
	ns := s.ns()
	if n := ns.inflight[of]; n > 0 && n == of.refs {
		ns.gc()
	}
}

// gc frees AF_UNIX sockets that only queued messages reach, sockets sent
// through each other (or themselves) and closed, as Linux's unix_gc: the
// candidates are socket files whose every reference is in flight; those
// referenced from a queue outside the candidates are reachable, and so is
// whatever a reachable one's queue holds; the others' queues are dropped,
// which closes them.
func (ns *unixNamespace) gc() {
	if ns.collecting {
		return
	}
	ns.collecting = true
	defer func() { ns.collecting = false }()
	inner := map[*openFile]int{} // candidates: references from candidates' queues
	for of, n := range ns.inflight {
		if _, ok := of.f.(*unixSocket); ok && of.refs == n {
			inner[of] = 0
		}
	}
	if len(inner) == 0 {
		return
	}
	each := func(of *openFile, f func(r *openFile)) {
		s := of.f.(*unixSocket)
		for _, q := range append([]*unixSocket{s}, s.acceptq...) {
			for _, msg := range q.rq {
				for _, r := range msg.rights {
					f(r)
				}
			}
		}
	}
	for of := range inner {
		each(of, func(r *openFile) {
			if _, ok := inner[r]; ok {
				inner[r]++
			}
		})
	}
	alive := map[*openFile]bool{}
	var todo []*openFile
	for of, n := range inner {
		if of.refs > n {
			alive[of] = true
			todo = append(todo, of)
		}
	}
	for len(todo) > 0 {
		of := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		each(of, func(r *openFile) {
			if _, ok := inner[r]; ok && !alive[r] {
				alive[r] = true
				todo = append(todo, r)
			}
		})
	}
	var garbage []*unixSocket
	for of := range inner {
		if !alive[of] {
			garbage = append(garbage, of.f.(*unixSocket))
		}
	}
	slices.SortFunc(garbage, func(a, b *unixSocket) int { return int(a.ino) - int(b.ino) })
	for _, s := range garbage {
		for _, e := range s.acceptq {
			e.purge()
		}
		s.purge()
	}
}

func (s *unixSocket) sendDgram(t *Task, b, to []byte, ctl *scmData, flags int) (int, *waitQueue, error) {
	if s.typ == linux.SOCK_SEQPACKET {
		if err := s.takeErr(); err != 0 {
			return 0, nil, err
		}
		if s.state != unixConnected {
			return 0, nil, linux.ENOTCONN
		}
		to = nil
	}
	if flags&linux.MSG_OOB != 0 {
		return 0, nil, linux.EOPNOTSUPP
	}
	var o *unixSocket
	if len(to) > 0 {
		if err := validUnixAddr(to); err != nil {
			return 0, nil, err
		}
	} else if o = s.peer; o == nil {
		return 0, nil, linux.ENOTCONN
	}
	if s.passcred {
		if err := s.autobind(); err != nil {
			return 0, nil, err
		}
	}
	if len(b) > s.maxMsg() {
		return 0, nil, linux.EMSGSIZE
	}
	if s.wmem >= s.sndbuf {
		return 0, nil, linux.EAGAIN
	}
	if o == nil {
		var err error
		if o, err = s.lookup(t, to); err != nil {
			return 0, nil, err
		}
	}
	if o.peer != nil && o.peer != s {
		return 0, nil, linux.EPERM
	}
	if o.dead {
		if s.typ == linux.SOCK_SEQPACKET {
			return 0, nil, linux.EPIPE
		}
		if s.peer == o {
			s.setPeer(nil)
			s.state = unixUnconnected
		}
		return 0, nil, linux.ECONNREFUSED
	}
	if o.shut&rcvShutdown != 0 {
		return 0, nil, linux.EPIPE
	}
	if o != s && o.peer != s && len(o.rq) > unixMaxDgramQlen {
		return 0, &o.wq, linux.EAGAIN
	}
	msg := &unixMsg{data: slices.Clone(b), from: s, fromAddr: s.addr, charge: len(b) + unixMsgOverhead, cred: msgCred(t, ctl)}
	if ctl != nil {
		msg.rights, ctl.rights = ctl.rights, nil
	}
	s.queue(o, msg)
	return len(b), nil, nil
}

// takeErr returns and clears the pending error.
func (s *unixSocket) takeErr() linux.Errno {
	e := s.err
	s.err = 0
	return e
}

// recv implements recvmsg(2) without blocking.
func (s *unixSocket) recv(t *Task, b []byte, flags int) (recvResult, error) {
	if s.typ == linux.SOCK_STREAM {
		return s.recvStream(b, flags)
	}
	return s.recvDgram(b, flags)
}

// empty answers a receive on an empty queue: the pending error, end of
// file after a shutdown, else EAGAIN.
func (s *unixSocket) empty() (recvResult, error) {
	if err := s.takeErr(); err != 0 {
		return recvResult{}, err
	}
	if s.shut&rcvShutdown != 0 {
		return recvResult{}, nil
	}
	return recvResult{}, linux.EAGAIN
}

func (s *unixSocket) recvStream(b []byte, flags int) (recvResult, error) {
	if s.state != unixConnected {
		return recvResult{}, linux.EINVAL
	}
	if flags&linux.MSG_OOB != 0 {
		return recvResult{}, linux.EOPNOTSUPP
	}
	if len(s.rq) == 0 {
		return s.empty()
	}
	peek := flags&linux.MSG_PEEK != 0
	var r recvResult
	consumed := 0
	for i := 0; i < len(s.rq); i++ {
		msg := s.rq[i]
		if s.passcred {
			// Never glue messages from different writers.
			if r.cred != nil && *r.cred != msg.cred {
				break
			}
			c := msg.cred
			r.cred = &c
		}
		if r.from == nil && msg.fromAddr != nil {
			r.from = slices.Clone(msg.fromAddr)
		}
		k := copy(b[r.n:], msg.data[msg.off:])
		r.n += k
		if peek {
			if msg.rights != nil {
				r.rights = dupRights(msg.rights)
				break
			}
			if msg.off+k < len(msg.data) {
				break
			}
			continue
		}
		msg.off += k
		s.rqLen -= k
		if msg.rights != nil {
			r.rights, msg.rights = msg.rights, nil
			s.ns().landed(r.rights)
		}
		if msg.off < len(msg.data) {
			break
		}
		consumed++
		if r.rights != nil || r.n == len(b) {
			break
		}
	}
	s.dequeue(consumed)
	r.ret = r.n
	return r, nil
}

// dupRights takes a reference on each descriptor (MSG_PEEK).
func dupRights(rs []*openFile) []*openFile {
	for _, of := range rs {
		of.refs++
	}
	return slices.Clone(rs)
}

// dequeue drops the first n messages, which were read: their senders
// get their room back.
func (s *unixSocket) dequeue(n int) {
	if n == 0 {
		return
	}
	for _, msg := range s.rq[:n] {
		msg.from.wmem -= msg.charge
		msg.from.wq.wakeAll()
	}
	clear(s.rq[:n])
	s.rq = s.rq[n:]
	for _, w := range s.peerWaiters {
		w.wq.wakeAll()
	}
	s.peerWaiters = nil
	s.wq.wakeAll()
}

func (s *unixSocket) recvDgram(b []byte, flags int) (recvResult, error) {
	if s.typ == linux.SOCK_SEQPACKET && s.state != unixConnected {
		return recvResult{}, linux.ENOTCONN
	}
	if flags&linux.MSG_OOB != 0 {
		return recvResult{}, linux.EOPNOTSUPP
	}
	if len(s.rq) == 0 {
		return s.empty()
	}
	msg := s.rq[0]
	r := recvResult{n: copy(b, msg.data), from: slices.Clone(msg.fromAddr)}
	r.ret = r.n
	if r.n < len(msg.data) {
		r.flags |= linux.MSG_TRUNC
		if flags&linux.MSG_TRUNC != 0 {
			r.ret = len(msg.data)
		}
	}
	if s.passcred {
		c := msg.cred
		r.cred = &c
	}
	if flags&linux.MSG_PEEK != 0 {
		r.rights = dupRights(msg.rights)
		return r, nil
	}
	r.rights, msg.rights = msg.rights, nil
	s.ns().landed(r.rights)
	s.rqLen -= len(msg.data)
	s.dequeue(1)
	return r, nil
}

// readiness implements waitable, as unix_poll and unix_dgram_poll.
func (s *unixSocket) readiness() uint32 {
	var ev uint32
	if s.err != 0 {
		ev |= pollERR
	}
	if s.shut == rcvShutdown|sendShutdown {
		ev |= pollHUP
	}
	if s.shut&rcvShutdown != 0 {
		ev |= pollRDHUP | pollIN | pollRDNORM
	}
	if len(s.rq) > 0 || s.state == unixListening && len(s.acceptq) > 0 {
		ev |= pollIN | pollRDNORM
	}
	if s.typ != linux.SOCK_DGRAM && s.state == unixUnconnected {
		ev |= pollHUP
	}
	writable := s.state != unixListening && s.wmem<<2 <= s.sndbuf
	if writable && s.typ != linux.SOCK_STREAM {
		if o := s.peer; o != nil && o.peer != s && len(o.rq) > unixMaxDgramQlen {
			writable = false
			if !slices.Contains(o.peerWaiters, s) {
				o.peerWaiters = append(o.peerWaiters, s)
			}
		}
	}
	if writable {
		ev |= pollOUT | pollWRNORM | pollWRBAND
	}
	return ev
}

// inq implements FIONREAD.
func (s *unixSocket) inq() (int, error) {
	if s.state == unixListening {
		return 0, linux.EINVAL
	}
	if s.typ == linux.SOCK_DGRAM {
		if len(s.rq) == 0 {
			return 0, nil
		}
		return len(s.rq[0].data), nil
	}
	return s.rqLen, nil
}

// outq implements TIOCOUTQ: what this socket has queued at receivers.
func (s *unixSocket) outq() int { return s.wmem }

// purge drops the receive queue.
func (s *unixSocket) purge() {
	var rights []*openFile
	for _, msg := range s.rq {
		rights = append(rights, msg.rights...)
		msg.rights = nil
	}
	s.rqLen = 0
	s.dequeue(len(s.rq))
	s.ns().landed(rights)
	for _, of := range rights {
		of.release() // may close other sockets, which purge in turn
	}
}

// Close is the last close of the socket: its name goes, its peer sees the
// end of the stream (ECONNRESET if data was left unread), connections
// not yet accepted are reset, and queued messages are dropped.
func (s *unixSocket) Close() error {
	s.release(false)
	return nil
}

func (s *unixSocket) release(embryo bool) {
	if s.dead {
		return
	}
	s.dead = true
	ns := s.ns()
	delete(ns.all, s)
	if k := (abstractKey{s.typ, s.abstract}); s.abstract != "" && ns.abstract[k] == s {
		delete(ns.abstract, k)
	}
	if s.node != nil && ns.paths[*s.node] == s {
		delete(ns.paths, *s.node)
	}
	if o := s.peer; o != nil && s.typ != linux.SOCK_DGRAM {
		o.shut = rcvShutdown | sendShutdown
		if len(s.rq) > 0 || embryo {
			o.err = linux.ECONNRESET
		}
		o.wq.wakeAll()
	}
	for _, e := range s.acceptq {
		e.release(true)
	}
	s.acceptq = nil
	s.purge()
	s.peer = nil
	s.wq.wakeAll()
}

// setsockopt implements setsockopt(2) at SOL_SOCKET.
func (s *unixSocket) setsockopt(t *Task, level, name int, val []byte) error {
	if level != linux.SOL_SOCKET {
		return linux.EOPNOTSUPP
	}
	switch name {
	case linux.SO_RCVTIMEO, linux.SO_SNDTIMEO:
		return s.setTimeout(name, val)
	case linux.SO_LINGER:
		if len(val) < len(s.linger) {
			return linux.EINVAL
		}
		copy(s.linger[:], val)
		return nil
	}
	if len(val) < 4 {
		return linux.EINVAL
	}
	v := int32(leU32(val))
	switch name {
	case linux.SO_SNDBUF, linux.SO_SNDBUFFORCE:
		s.sndbuf = max(int(min(uint32(v), unixSndbuf))*2, unixMinSndbuf)
		s.wq.wakeAll()
	case linux.SO_RCVBUF, linux.SO_RCVBUFFORCE:
		s.rcvbuf = max(int(min(uint32(v), unixRcvbuf))*2, unixMinRcvbuf)
	case linux.SO_PASSCRED:
		s.passcred = v != 0
	case linux.SO_RCVLOWAT:
		if v < 0 {
			v = 1<<31 - 1
		}
		s.setOpt(name, v)
	case linux.SO_REUSEADDR, linux.SO_REUSEPORT, linux.SO_KEEPALIVE, linux.SO_BROADCAST, linux.SO_OOBINLINE,
		linux.SO_DEBUG, linux.SO_DONTROUTE, linux.SO_NO_CHECK:
		s.setOpt(name, boolInt(v != 0))
	case linux.SO_PRIORITY:
		if v < 0 || v > 6 {
			return linux.EPERM // only CAP_NET_ADMIN sets higher priorities; a sandbox has none
		}
		s.setOpt(name, v)
	default:
		return linux.ENOPROTOOPT
	}
	return nil
}

func (s *unixSocket) setOpt(name int, v int32) {
	if s.opts == nil {
		s.opts = map[int]int32{}
	}
	s.opts[name] = v
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func int32Bytes(v int32) []byte {
	var b [4]byte
	put32(b[:], uint32(v))
	return b[:]
}

// getsockopt implements getsockopt(2) at SOL_SOCKET.
func (s *unixSocket) getsockopt(t *Task, level, name, size int) ([]byte, error) {
	if level != linux.SOL_SOCKET {
		return nil, linux.EOPNOTSUPP
	}
	switch name {
	case linux.SO_TYPE:
		return int32Bytes(int32(s.typ)), nil
	case linux.SO_DOMAIN:
		return int32Bytes(linux.AF_UNIX), nil
	case linux.SO_PROTOCOL:
		return int32Bytes(0), nil
	case linux.SO_ERROR:
		return int32Bytes(int32(s.takeErr())), nil
	case linux.SO_ACCEPTCONN:
		return int32Bytes(boolInt(s.state == unixListening)), nil
	case linux.SO_SNDBUF:
		return int32Bytes(int32(s.sndbuf)), nil
	case linux.SO_RCVBUF:
		return int32Bytes(int32(s.rcvbuf)), nil
	case linux.SO_PASSCRED:
		return int32Bytes(boolInt(s.passcred)), nil
	case linux.SO_PEERCRED:
		c := noCred
		if s.peerCred != nil {
			c = *s.peerCred
		}
		return c.bytes(), nil
	case linux.SO_RCVTIMEO, linux.SO_SNDTIMEO:
		d := s.rcvtimeo
		if name == linux.SO_SNDTIMEO {
			d = s.sndtimeo
		}
		return timevalBytes(d), nil
	case linux.SO_LINGER:
		return slices.Clone(s.linger[:]), nil
	case linux.SO_RCVLOWAT:
		if v, ok := s.opts[name]; ok {
			return int32Bytes(v), nil
		}
		return int32Bytes(1), nil
	case linux.SO_SNDLOWAT:
		return int32Bytes(1), nil
	case linux.SO_REUSEADDR, linux.SO_REUSEPORT, linux.SO_KEEPALIVE, linux.SO_BROADCAST, linux.SO_OOBINLINE,
		linux.SO_DEBUG, linux.SO_DONTROUTE, linux.SO_NO_CHECK, linux.SO_PRIORITY:
		return int32Bytes(s.opts[name]), nil
	}
	return nil, linux.ENOPROTOOPT
}

// parseTimeval reads a SO_RCVTIMEO/SO_SNDTIMEO value, as sock_set_timeout:
// zero is no timeout, a negative time one that has passed at once.
// sockTimeouts are a socket's SO_RCVTIMEO and SO_SNDTIMEO (0: none).
type sockTimeouts struct{ rcvtimeo, sndtimeo time.Duration }

func (st *sockTimeouts) timeouts() (rcv, snd time.Duration) { return st.rcvtimeo, st.sndtimeo }

// setTimeout sets SO_RCVTIMEO or SO_SNDTIMEO from a struct timeval.
func (st *sockTimeouts) setTimeout(name int, val []byte) error {
	d, err := parseTimeval(val)
	if err != nil {
		return err
	}
	if name == linux.SO_RCVTIMEO {
		st.rcvtimeo = d
	} else {
		st.sndtimeo = d
	}
	return nil
}

func parseTimeval(val []byte) (time.Duration, error) {
	if len(val) < 16 {
		return 0, linux.EINVAL
	}
	sec, usec := int64(le64(val)), int64(le64(val[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, linux.EDOM
	}
	if sec < 0 {
		return time.Nanosecond, nil
	}
	if sec > int64(time.Duration(1<<62)/time.Second) {
		return 0, nil // longer than the machine will ever run: no timeout
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func timevalBytes(d time.Duration) []byte {
	var b [16]byte
	put64(b[0:], uint64(d/time.Second))
	put64(b[8:], uint64(d%time.Second/time.Microsecond))
	return b[:]
}

// procNet is /proc/net/unix: the open sockets in inode order.
func (ns *unixNamespace) procNet() []byte {
	socks := make([]*unixSocket, 0, len(ns.all))
	for s := range ns.all {
		socks = append(socks, s)
	}
	slices.SortFunc(socks, func(a, b *unixSocket) int { return int(a.ino) - int(b.ino) })
	var b bytes.Buffer
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for _, s := range socks {
		flags, st := 0, 1 // SS_UNCONNECTED
		if s.state == unixListening {
			flags = 1 << 16 // __SO_ACCEPTCON
		}
		if s.state == unixConnected {
			st = 3 // SS_CONNECTED
		}
		fmt.Fprintf(&b, "%016x: %08X %08X %08X %04X %02X %5d", 0, 2, 0, flags, s.typ, st, s.ino)
		if s.addr != nil {
			name := s.addr[sunPathOffset:]
			if s.abstract != "" {
				name = bytes.ReplaceAll(name, []byte{0}, []byte{'@'})
			} else {
				name = bytes.TrimRight(name, "\x00")
			}
			b.WriteByte(' ')
			b.Write(name)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
