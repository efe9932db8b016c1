package kernel

import (
	"io"
	"math"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// File locks, kept by the kernel (never by a host file system) per file
// identity (device and inode): POSIX record locks (fcntl F_SETLK,
// F_SETLKW, F_GETLK) owned by a descriptor table and released when that
// table closes any descriptor of the file; open file description locks
// (F_OFD_*) owned by an open file description; and flock(2) locks, also
// owned by a description. A blocked F_SETLKW or flock waits on the file's
// wait queue, interruptibly; F_SETLKW fails with EDEADLK when the wait
// would close a cycle of POSIX lock owners, as Linux detects it.

func registerLockSyscalls(reg registerFn) {
	reg(linux.SysFlock, syscallEntry{fn: sysFlock})
}

// flock(2) operations.
const (
	lockSH = 1
	lockEX = 2
	lockNB = 4
	lockUN = 8
)

// offsetMax is OFFSET_MAX: a lock to the end of the file ends there.
const offsetMax = math.MaxInt64

// maxDeadlockSteps is Linux's MAX_DEADLK_ITERATIONS.
const maxDeadlockSteps = 10

// lockRec is one byte-range lock: POSIX (owner a *fdTable) or OFD (owner
// an *openFile), covering [start, end] (end included).
type lockRec struct {
	start, end int64
	typ        int // linux.F_RDLCK or linux.F_WRLCK
	owner      any
	pid        int // the setter's process (F_GETLK); -1 for OFD locks
	ofd        bool
}

func (l *lockRec) overlaps(start, end int64) bool { return l.start <= end && start <= l.end }

// conflicts reports whether l and a request of typ by owner cannot both
// be held.
func (l *lockRec) conflicts(owner any, typ int) bool {
	return l.owner != owner && (l.typ == linux.F_WRLCK || typ == linux.F_WRLCK)
}

// flockRec is one flock(2) lock of a description.
type flockRec struct {
	of        *openFile
	exclusive bool
}

// inodeLocks are the locks of one file, with the queue its waiters sleep
// on. It lives in the machine's table while it holds locks.
type inodeLocks struct {
	m      *Machine
	key    fileKey
	posix  []*lockRec // POSIX and OFD locks; one owner's locks are kept in start order
	flocks []*flockRec
	wq     waitQueue
}

// lockWait is a thread blocked in F_SETLKW: its owner, file and request
// (for deadlock detection).
type lockWait struct {
	t     *Task
	owner *fdTable
	il    *inodeLocks
	req   lockRec
}

// lockTable is the machine's lock state.
type lockTable struct {
	inodes map[fileKey]*inodeLocks
	waits  []*lockWait // threads blocked in F_SETLKW (entries go stale when woken)
}

// lockKey returns the identity of the file behind f.
func lockKey(f file) (fileKey, bool) {
	switch f := f.(type) {
	case *vfs.File:
		a, err := f.Stat()
		if err != nil {
			return fileKey{}, false
		}
		return fileKey{a.Dev, a.Ino}, true
	case *pipeEnd:
		return f.p.key(), true
	case *console:
		return consoleKey, true
	}
	return fileKey{}, false
}

// consoleKey identifies the console's streams for locks.
var consoleKey = fileKey{dev: consoleDev, ino: 1}

// consoleDev is the device number fstat shows the console's streams on
// (unnamed device 0:2, as a pseudo terminal file system would have).
const consoleDev = 2

// inode returns the lock state of key, creating it when create is set.
func (m *Machine) inodeLocks(key fileKey, create bool) *inodeLocks {
	lt := &m.files.locks
	if il := lt.inodes[key]; il != nil || !create {
		return il
	}
	if lt.inodes == nil {
		lt.inodes = map[fileKey]*inodeLocks{}
	}
	il := &inodeLocks{m: m, key: key}
	lt.inodes[key] = il
	return il
}

// changed wakes the waiters after locks went away and drops the state
// when no lock is left.
func (il *inodeLocks) changed() {
	il.wq.wakeAll()
	if len(il.posix) == 0 && len(il.flocks) == 0 && il.m.files.locks.inodes[il.key] == il {
		delete(il.m.files.locks.inodes, il.key)
	}
}

// conflict returns the first lock that keeps req from being taken.
func (il *inodeLocks) conflict(req *lockRec) *lockRec {
	for _, l := range il.posix {
		if l.overlaps(req.start, req.end) && l.conflicts(req.owner, req.typ) {
			return l
		}
	}
	return nil
}

// setPosix applies req (F_UNLCK included) for its owner, merging with the
// owner's adjacent locks of the same type and splitting the ones it
// covers partly, as Linux's posix_lock_inode does. The caller has checked
// for conflicts.
func (il *inodeLocks) setPosix(req lockRec) {
	var kept []*lockRec
	first := -1 // where the owner's locks are
	removed := false
	start, end := req.start, req.end
	for _, l := range il.posix {
		if l.owner != req.owner {
			kept = append(kept, l)
			continue
		}
		if first < 0 {
			first = len(kept)
		}
		adjacent := l.end != offsetMax && l.end+1 == start || end != offsetMax && end+1 == l.start
		switch {
		case req.typ != linux.F_UNLCK && l.typ == req.typ && (l.overlaps(start, end) || adjacent):
			start, end = min(start, l.start), max(end, l.end) // merged into the new lock
			removed = true
		case l.overlaps(start, end):
			if l.start < start {
				kept = append(kept, &lockRec{start: l.start, end: start - 1, typ: l.typ, owner: l.owner, pid: l.pid, ofd: l.ofd})
			}
			if l.end > end {
				kept = append(kept, &lockRec{start: end + 1, end: l.end, typ: l.typ, owner: l.owner, pid: l.pid, ofd: l.ofd})
			}
			removed = true
		default:
			kept = append(kept, l)
		}
	}
	if req.typ != linux.F_UNLCK {
		n := req
		n.start, n.end = start, end
		if first < 0 {
			first = len(kept)
		}
		// Keep the owner's locks together, in start order.
		at := first
		for at < len(kept) && kept[at].owner == req.owner && kept[at].start < n.start {
			at++
		}
		kept = append(kept[:at], append([]*lockRec{&n}, kept[at:]...)...)
	}
	il.posix = kept
	il.trackOwner(req.owner)
	if removed || req.typ == linux.F_UNLCK {
		il.changed()
	}
}

// trackOwner keeps a POSIX owner's list of locked files in step: a table
// releases its locks when it closes a descriptor of one of them.
func (il *inodeLocks) trackOwner(owner any) {
	ft, ok := owner.(*fdTable)
	if !ok {
		return
	}
	holds := false
	for _, l := range il.posix {
		if l.owner == owner {
			holds = true
			break
		}
	}
	for i, x := range ft.posixLocked {
		if x == il {
			if !holds {
				ft.posixLocked = append(ft.posixLocked[:i], ft.posixLocked[i+1:]...)
			}
			return
		}
	}
	if holds {
		ft.posixLocked = append(ft.posixLocked, il)
	}
}

// removeOwner drops every byte-range lock of owner.
func (il *inodeLocks) removeOwner(owner any) {
	kept := il.posix[:0]
	n := len(il.posix)
	for _, l := range il.posix {
		if l.owner != owner {
			kept = append(kept, l)
		}
	}
	clear(il.posix[len(kept):])
	il.posix = kept
	il.trackOwner(owner)
	if len(kept) != n {
		il.changed()
	}
}

// closing releases the POSIX locks the table holds on the file of of: a
// process loses its locks on a file when it closes any descriptor of it.
func (t *fdTable) closing(of *openFile) {
	if len(t.posixLocked) == 0 {
		return
	}
	key, ok := lockKey(of.f)
	if !ok {
		return
	}
	for _, il := range t.posixLocked {
		if il.key == key {
			il.removeOwner(t)
			return
		}
	}
}

// releaseLocks drops the flock and OFD locks of a description that is
// closed for good.
func (of *openFile) releaseLocks() {
	for _, il := range of.locked {
		il.removeOwner(of)
		for i, fl := range il.flocks {
			if fl.of == of {
				il.flocks = append(il.flocks[:i], il.flocks[i+1:]...)
				il.changed()
				break
			}
		}
	}
	of.locked = nil
}

// noteLocked remembers that of may own locks on il.
func (of *openFile) noteLocked(il *inodeLocks) {
	for _, x := range of.locked {
		if x == il {
			return
		}
	}
	of.locked = append(of.locked, il)
}

// flockSize is sizeof(struct flock) on arm64.
const flockSize = 32

// readFlock reads a struct flock and turns it into a lock of the file
// open at of, as Linux's flock_to_posix_lock does.
func (t *Task) readFlock(of *openFile, addr uint64, ofd bool) (lockRec, int64, error) {
	var b [flockSize]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return lockRec{}, 0, err
	}
	typ := int(int16(le16(b[0:])))
	whence := int(int16(le16(b[2:])))
	start, length := int64(le64(b[8:])), int64(le64(b[16:]))
	pid := int32(leU32(b[24:]))
	if ofd && pid != 0 {
		return lockRec{}, 0, linux.EINVAL
	}
	if typ != linux.F_RDLCK && typ != linux.F_WRLCK && typ != linux.F_UNLCK {
		return lockRec{}, 0, linux.EINVAL
	}
	var base int64
	switch whence {
	case linux.SEEK_SET:
	case linux.SEEK_CUR:
		s, ok := of.f.(io.Seeker)
		if !ok {
			return lockRec{}, 0, linux.ESPIPE
		}
		off, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return lockRec{}, 0, fileErr(err)
		}
		base = off
	case linux.SEEK_END:
		if vf, ok := of.f.(*vfs.File); ok {
			a, err := vf.Stat()
			if err != nil {
				return lockRec{}, 0, fileErr(err)
			}
			base = a.Size
		}
	default:
		return lockRec{}, 0, linux.EINVAL
	}
	if start > offsetMax-base {
		return lockRec{}, 0, linux.EOVERFLOW
	}
	start += base
	if start < 0 {
		return lockRec{}, 0, linux.EINVAL
	}
	end := int64(offsetMax)
	switch {
	case length > 0:
		if length-1 > offsetMax-start {
			return lockRec{}, 0, linux.EOVERFLOW
		}
		end = start + length - 1
	case length < 0:
		end = start - 1
		start += length
		if start < 0 {
			return lockRec{}, 0, linux.EINVAL
		}
	}
	return lockRec{start: start, end: end, typ: typ}, int64(pid), nil
}

// writeFlock stores l (or F_UNLCK when nil) into the struct flock at addr.
func (t *Task) writeFlock(addr uint64, l *lockRec) error {
	var b [flockSize]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return err
	}
	if l == nil {
		put16(b[0:], linux.F_UNLCK)
		return t.copyOut(addr, b[:2])
	}
	put16(b[0:], uint16(l.typ))
	put16(b[2:], linux.SEEK_SET)
	put64(b[8:], uint64(l.start))
	length := int64(0)
	if l.end != offsetMax {
		length = l.end - l.start + 1
	}
	put64(b[16:], uint64(length))
	put32(b[24:], uint32(int32(l.pid)))
	return t.copyOut(addr, b[:])
}

// fcntlLock implements fcntl's F_GETLK, F_SETLK, F_SETLKW and their OFD
// forms on the description of.
func (t *Task) fcntlLock(of *openFile, cmd int, addr uint64) (uint64, error) {
	ofd := cmd == linux.F_OFD_GETLK || cmd == linux.F_OFD_SETLK || cmd == linux.F_OFD_SETLKW
	req, _, err := t.readFlock(of, addr, ofd)
	if err != nil {
		return 0, err
	}
	key, ok := lockKey(of.f)
	if !ok {
		return 0, linux.EINVAL
	}
	var owner any = t.fds
	req.pid = t.PID
	if ofd {
		owner, req.pid, req.ofd = of, -1, true
	}
	req.owner = owner
	if cmd == linux.F_GETLK || cmd == linux.F_OFD_GETLK {
		if req.typ == linux.F_UNLCK {
			return 0, linux.EINVAL
		}
		var c *lockRec
		if il := t.m.inodeLocks(key, false); il != nil {
			c = il.conflict(&req)
		}
		return 0, t.writeFlock(addr, c)
	}
	acc := of.flags & linux.O_ACCMODE
	switch req.typ {
	case linux.F_RDLCK:
		if acc == linux.O_WRONLY {
			return 0, linux.EBADF
		}
	case linux.F_WRLCK:
		if acc == linux.O_RDONLY {
			return 0, linux.EBADF
		}
	}
	il := t.m.inodeLocks(key, req.typ != linux.F_UNLCK)
	if il == nil {
		return 0, nil // nothing to unlock
	}
	if req.typ != linux.F_UNLCK {
		if c := il.conflict(&req); c != nil {
			if cmd == linux.F_SETLK || cmd == linux.F_OFD_SETLK {
				return 0, linux.EAGAIN
			}
			if !ofd && t.m.posixDeadlock(t.fds, c) {
				return 0, linux.EDEADLK
			}
			if !ofd {
				t.m.noteLockWait(&lockWait{t: t, owner: t.fds, il: il, req: req})
			}
			return 0, t.block(0, &il.wq)
		}
	}
	if ofd {
		of.noteLocked(il)
	}
	il.setPosix(req)
	return 0, nil
}

// noteLockWait records a thread blocking in F_SETLKW, dropping records
// that went stale (their thread was woken).
func (m *Machine) noteLockWait(w *lockWait) {
	lt := &m.files.locks
	kept := lt.waits[:0]
	for _, x := range lt.waits {
		if x.t != w.t && x.live() {
			kept = append(kept, x)
		}
	}
	clear(lt.waits[len(kept):])
	lt.waits = append(kept, w)
}

// live reports whether the thread still sleeps on the file's queue.
func (w *lockWait) live() bool {
	if w.t.state != taskBlocked {
		return false
	}
	for _, x := range w.t.waiters[:w.t.nwait] {
		if x.q == &w.il.wq {
			return true
		}
	}
	return false
}

// posixDeadlock reports whether owner waiting for the lock c would
// deadlock: c's owner waits (maybe through others) for a lock of owner.
func (m *Machine) posixDeadlock(owner *fdTable, c *lockRec) bool {
	for i := 0; i <= maxDeadlockSteps; i++ {
		var next *lockRec
		for _, w := range m.files.locks.waits {
			if w.owner == c.owner && w.live() {
				next = w.il.conflict(&w.req)
				if next != nil {
					break
				}
			}
		}
		if next == nil {
			return false
		}
		if next.owner == owner {
			return true
		}
		c = next
	}
	return false
}

// Flock implements flock(2): a shared or exclusive lock owned by the open
// file description, converted non-atomically as Linux does.
func sysFlock(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	cmd := a.int32(1)
	op := cmd &^ lockNB
	if op != lockSH && op != lockEX && op != lockUN {
		return 0, linux.EINVAL
	}
	if of.flags&linux.O_PATH != 0 {
		return 0, linux.EBADF
	}
	key, ok := lockKey(of.f)
	if !ok {
		return 0, linux.EINVAL
	}
	il := t.m.inodeLocks(key, op != lockUN)
	if il == nil {
		return 0, nil
	}
	for i, fl := range il.flocks {
		if fl.of == of {
			if op != lockUN && fl.exclusive == (op == lockEX) {
				return 0, nil
			}
			il.flocks = append(il.flocks[:i], il.flocks[i+1:]...)
			il.changed()
			if op != lockUN {
				il = t.m.inodeLocks(key, true)
			}
			break
		}
	}
	if op == lockUN {
		return 0, nil
	}
	for _, fl := range il.flocks {
		if fl.of != of && (fl.exclusive || op == lockEX) {
			if cmd&lockNB != 0 {
				return 0, linux.EWOULDBLOCK
			}
			return 0, t.block(0, &il.wq)
		}
	}
	il.flocks = append(il.flocks, &flockRec{of: of, exclusive: op == lockEX})
	of.noteLocked(il)
	return 0, nil
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
