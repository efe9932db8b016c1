package kernel

import (
	"io/fs"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerEpollSyscalls(reg registerFn) {
	reg(linux.SysEpollCreate1, syscallEntry{fn: sysEpollCreate1})
	reg(linux.SysEpollCtl, syscallEntry{fn: sysEpollCtl, support: Partial, note: "EPOLLEXCLUSIVE wakes every waiter"})
	reg(linux.SysEpollPwait, syscallEntry{fn: sysEpollPwait})
	reg(linux.SysEpollPwait2, syscallEntry{fn: sysEpollPwait2})
}

// epoll flags and operations.
const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	epollExclusive = 1 << 28
	epollWakeup    = 1 << 29
	epollOneshot   = 1 << 30
	epollET        = 1 << 31

	maxEpollEvents = 1 << 20
	epollEventSize = 16 // struct epoll_event on arm64: u32 events, (pad), u64 data
)

// epollItem is one file in an epoll instance's interest list.
type epollItem struct {
	fd       int
	of       *openFile
	events   uint32
	data     uint64
	disabled bool   // EPOLLONESHOT fired
	gen      uint64 // the file's wait-queue generation when last reported (EPOLLET)
	reported bool   // reported at least once since added or modified
}

// epoll is an epoll instance: its interest list, in the order files were
// added (so what epoll_wait reports is deterministic).
type epoll struct {
	items []*epollItem
	wq    waitQueue // woken when its readiness may have changed
}

func (e *epoll) Read([]byte) (int, error)  { return 0, linux.EINVAL }
func (e *epoll) Write([]byte) (int, error) { return 0, linux.EINVAL }
func (e *epoll) Close() error {
	e.items = nil
	return nil
}

// ProcName is what /proc/<pid>/fd shows.
func (e *epoll) ProcName() string { return "anon_inode:[eventpoll]" }

// Stat describes the instance as an anonymous inode.
func (e *epoll) Stat() (fs.FileInfo, error) { return anonInfo{"[eventpoll]"}, nil }

func (e *epoll) waitQueue() *waitQueue { return &e.wq }

// readiness of an epoll instance: readable when a watched file is ready.
func (e *epoll) readiness() uint32 {
	for _, it := range e.live() {
		if it.ready() != 0 {
			return pollIN
		}
	}
	return 0
}

// live returns the items whose file is still open, dropping the others
// (Linux removes an item when the last reference to its file goes).
func (e *epoll) live() []*epollItem {
	out := e.items[:0]
	for _, it := range e.items {
		if it.of.refs > 0 {
			out = append(out, it)
		}
	}
	for i := len(out); i < len(e.items); i++ {
		e.items[i] = nil
	}
	e.items = out
	return out
}

// ready returns the events of the item to report now.
func (it *epollItem) ready() uint32 {
	if it.disabled {
		return 0
	}
	ev, q := readiness(it.of)
	ev &= it.events | pollERR | pollHUP
	if ev == 0 {
		return 0
	}
	if it.events&epollET != 0 && it.reported && q != nil && q.gen == it.gen {
		return 0 // edge-triggered: nothing new since the last report
	}
	return ev
}

// EpollCreate1 implements epoll_create1(2).
func sysEpollCreate1(t *Task, a *args) (uint64, error) {
	flags := a.int32(0)
	if flags&^linux.O_CLOEXEC != 0 {
		return 0, linux.EINVAL
	}
	fd, err := t.fds.install(&epoll{}, linux.O_RDWR, 0, flags&linux.O_CLOEXEC != 0)
	return uint64(fd), err
}

// EpollCtl implements epoll_ctl(2).
func sysEpollCtl(t *Task, a *args) (uint64, error) {
	epfd, op, fd := a.int32(0), a.int32(1), a.int32(2)
	eof, err := t.fds.get(epfd)
	if err != nil {
		return 0, err
	}
	of, err := t.fds.get(fd)
	if err != nil {
		return 0, err
	}
	ep, ok := eof.f.(*epoll)
	if !ok || epfd == fd {
		return 0, linux.EINVAL
	}
	if _, ok := of.f.(waitable); !ok {
		return 0, linux.EPERM // regular files and directories are always ready
	}
	if inner, ok := of.f.(*epoll); ok && inner.watches(ep, 0) {
		return 0, linux.ELOOP
	}
	var ev uint32
	var data uint64
	if op != epollCtlDel {
		var b [epollEventSize]byte
		if err := t.copyIn(a[3], b[:]); err != nil {
			return 0, err
		}
		ev, data = leU32(b[:]), le64(b[8:])
	}
	var found *epollItem
	idx := -1
	for i, it := range ep.live() {
		if it.fd == fd && it.of == of {
			found, idx = it, i
		}
	}
	switch op {
	case epollCtlAdd:
		if found != nil {
			return 0, linux.EEXIST
		}
		if ev&epollExclusive != 0 && ev&(epollOneshot) != 0 {
			return 0, linux.EINVAL
		}
		ep.items = append(ep.items, &epollItem{fd: fd, of: of, events: ev | pollERR | pollHUP, data: data})
	case epollCtlMod:
		if found == nil {
			return 0, linux.ENOENT
		}
		if ev&epollExclusive != 0 || found.events&epollExclusive != 0 {
			return 0, linux.EINVAL
		}
		found.events, found.data, found.disabled, found.reported = ev|pollERR|pollHUP, data, false, false
	case epollCtlDel:
		if found == nil {
			return 0, linux.ENOENT
		}
		ep.items = append(ep.items[:idx], ep.items[idx+1:]...)
	default:
		return 0, linux.EINVAL
	}
	ep.wq.wakeAll()
	return 0, nil
}

// watches reports whether e watches target, directly or through nested
// instances (a loop epoll_ctl refuses), up to Linux's depth of 5.
func (e *epoll) watches(target *epoll, depth int) bool {
	if e == target {
		return true
	}
	if depth >= 5 {
		return true
	}
	for _, it := range e.items {
		if inner, ok := it.of.f.(*epoll); ok && inner.watches(target, depth+1) {
			return true
		}
	}
	return false
}

// EpollPwait implements epoll_pwait(2) (epoll_wait is the same call on
// arm64), with a timeout in milliseconds.
func sysEpollPwait(t *Task, a *args) (uint64, error) {
	ms := a.int32(3)
	d, bounded := time.Duration(ms)*time.Millisecond, ms >= 0
	return t.withWaitMask(a[4], a[5], func() (uint64, error) { return t.epollWait(a.int32(0), a[1], a.int32(2), d, bounded) })
}

// EpollPwait2 implements epoll_pwait2(2), with a timespec timeout.
func sysEpollPwait2(t *Task, a *args) (uint64, error) {
	d, bounded, err := t.pollTimeout(a[3])
	if err != nil {
		return 0, err
	}
	return t.withWaitMask(a[4], a[5], func() (uint64, error) { return t.epollWait(a.int32(0), a[1], a.int32(2), d, bounded) })
}

// epollWait reports up to max ready events of instance epfd at addr, or
// waits for one.
func (t *Task) epollWait(epfd int, addr uint64, max int, d time.Duration, bounded bool) (uint64, error) {
	if max <= 0 || max > maxEpollEvents {
		return 0, linux.EINVAL
	}
	eof, err := t.fds.get(epfd)
	if err != nil {
		return 0, err
	}
	ep, ok := eof.f.(*epoll)
	if !ok {
		return 0, linux.EINVAL
	}
	var out []byte
	n := 0
	for _, it := range ep.live() {
		if n == max {
			break
		}
		ev := it.ready()
		if ev == 0 {
			continue
		}
		var b [epollEventSize]byte
		put32(b[:], ev)
		put64(b[8:], it.data)
		out = append(out, b[:]...)
		n++
		if _, q := readiness(it.of); q != nil {
			it.gen = q.gen
		}
		it.reported = true
		if it.events&epollOneshot != 0 {
			it.disabled = true
		}
	}
	if n > 0 {
		t.deadline = 0
		return uint64(n), t.copyOut(addr, out)
	}
	qs := []*waitQueue{&ep.wq}
	for _, it := range ep.items {
		if !it.disabled {
			if _, q := readiness(it.of); q != nil {
				qs = append(qs, q)
			}
		}
	}
	return t.waitReady(d, bounded, qs)
}

// anonInfo describes an anonymous-inode file (epoll, eventfd, timerfd,
// signalfd).
type anonInfo struct{ name string }

func (i anonInfo) Name() string     { return i.name }
func (anonInfo) Size() int64        { return 0 }
func (anonInfo) Mode() fs.FileMode  { return 0o600 }
func (anonInfo) ModTime() time.Time { return time.Time{} }
func (anonInfo) IsDir() bool        { return false }
func (anonInfo) Sys() any           { return nil }
