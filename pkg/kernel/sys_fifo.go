package kernel

import (
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Named FIFOs and reopened pipes. A FIFO node (mknod S_IFIFO, in any file
// system, host mounts included) is only a name: its pipe is the kernel's,
// kept per file identity while it is open, and opening it follows
// Linux's fifo_open: a reader waits for a writer and a writer for a
// reader, unless the other side is there; with O_NONBLOCK a reader opens
// at once and a writer without a reader fails with ENXIO; O_RDWR never
// waits. Opening /proc/<pid>/fd/<n> (or /dev/fd/<n>) of a pipe opens that
// pipe again in the same way, without waiting (it is not a FIFO).

// fileState is the machine's kernel-side state of files.
type fileState struct {
	locks   lockTable
	fifos   map[fileKey]*pipe // the pipes of open FIFOs
	nextIno uint64            // pipefs inode numbers
}

// fifoWait is a FIFO open that waits for the other side.
type fifoWait struct {
	p     *pipe
	write bool   // waiting for a reader (else for a writer)
	opens uint64 // the other side's open count when the wait began
}

// openNode opens a FIFO or the object behind a magic link, which the VFS
// left to the kernel.
func (t *Task) openNode(n *vfs.Node, flags int) (file, error) {
	if n.Link != nil {
		q := t.m.lookup(n.Link.PID)
		if q == nil || q.fds == nil {
			return nil, linux.ENOENT
		}
		of, err := q.fds.get(n.Link.FD)
		if err != nil {
			return nil, linux.ENOENT
		}
		if flags&linux.O_PATH != 0 {
			return nil, linux.ENXIO
		}
		pe, ok := of.f.(*pipeEnd)
		if !ok {
			return nil, linux.ENXIO // sockets and anonymous inodes cannot be opened
		}
		return t.fifoOpen(pe.p, flags, pe.p.fifo == nil, pe.name, pe.attr)
	}
	key := fileKey{n.Attr.Dev, n.Attr.Ino}
	fs := &t.m.files
	p := fs.fifos[key]
	if p == nil {
		p = t.m.newPipeObject()
		p.fifo = &key
		if fs.fifos == nil {
			fs.fifos = map[fileKey]*pipe{}
		}
		fs.fifos[key] = p
	}
	attr := n.Attr
	return t.fifoOpen(p, flags, false, n.Path, &attr)
}

// fifoOpen opens pipe p for a new description with open flags, as
// Linux's fifo_open; isPipe skips the waits (a pipe reopened through
// /proc). A wait blocks the thread and the open runs again when woken; a
// signal handler or the thread's end undoes the half-done open.
func (t *Task) fifoOpen(p *pipe, flags int, isPipe bool, name string, attr *vfs.Attr) (file, error) {
	acc := flags & linux.O_ACCMODE
	nonblock := flags&linux.O_NONBLOCK != 0
	if w := t.fifoWait; w != nil {
		if w.p == p && w.write == (acc == linux.O_WRONLY) {
			// A restarted open: done once the other side opened.
			cur := p.wOpens
			if w.write {
				cur = p.rOpens
			}
			if cur == w.opens {
				return nil, t.block(0, &p.wq)
			}
			t.fifoWait, t.blockUndo = nil, nil
			return &pipeEnd{p: p, read: !w.write, write: w.write, name: name, attr: attr}, nil
		}
		t.abandonBlocked()
	}
	e := &pipeEnd{p: p, name: name, attr: attr}
	switch acc {
	case linux.O_RDONLY:
		e.read = true
		p.rOpens++
		p.readers++
		p.files++
		p.wq.wakeAll()
		if !isPipe && p.writers == 0 {
			if nonblock {
				e.wSeen = p.wOpens
				return e, nil
			}
			return nil, t.fifoBlock(&fifoWait{p: p, opens: p.wOpens})
		}
	case linux.O_WRONLY:
		if !isPipe && nonblock && p.readers == 0 {
			p.release()
			return nil, linux.ENXIO
		}
		e.write = true
		p.wOpens++
		p.writers++
		p.files++
		p.wq.wakeAll()
		if !isPipe && p.readers == 0 {
			return nil, t.fifoBlock(&fifoWait{p: p, write: true, opens: p.rOpens})
		}
	case linux.O_RDWR:
		e.read, e.write = true, true
		p.rOpens++
		p.wOpens++
		p.readers++
		p.writers++
		p.files++
		p.wq.wakeAll()
	default:
		p.release()
		return nil, linux.EINVAL
	}
	return e, nil
}

// fifoBlock makes the thread wait in a FIFO open, counted as an opener
// (the other side sees it) until the open completes or is abandoned.
func (t *Task) fifoBlock(w *fifoWait) error {
	t.fifoWait = w
	t.blockUndo = func() {
		p := w.p
		if w.write {
			p.writers--
		} else {
			p.readers--
		}
		p.files--
		p.release()
		p.wq.wakeAll()
		t.fifoWait = nil
	}
	return t.block(0, &w.p.wq)
}

// abandonBlocked undoes what the thread's blocked system call set up, when
// the call will not run on: a signal handler interrupts it (it fails
// with EINTR or starts afresh) or the thread ends.
func (t *Task) abandonBlocked() {
	if u := t.blockUndo; u != nil {
		t.blockUndo = nil
		u()
	}
}

// pipeSize implements F_GETPIPE_SZ and F_SETPIPE_SZ: beyond
// /proc/sys/fs/pipe-max-size only with CAP_SYS_RESOURCE (root).
func (t *Task) pipeSize(of *openFile, cmd int, arg uint64) (uint64, error) {
	e, ok := of.f.(*pipeEnd)
	if !ok {
		return 0, linux.EBADF
	}
	p := e.p
	if cmd == linux.F_GETPIPE_SZ {
		return uint64(p.size()), nil
	}
	// Rounded up to a power of two pages, at least one.
	pages := 1
	for pages*pageSize < int(min(arg, 1<<31)) {
		pages *= 2
	}
	switch {
	case arg > 1<<31:
		return 0, linux.EINVAL
	case pages > pipeMaxPages && !t.capable(capSysResource):
		return 0, linux.EPERM
	}
	if pages*pageSize < p.n {
		return 0, linux.EBUSY
	}
	if pages != len(p.pages) {
		// Linearise the ring into the new one.
		buf := make([]byte, p.n)
		n := p.take(buf)
		p.pages = make([]mem.Frame, pages)
		if _, err := p.put(buf[:n]); err != nil {
			return 0, err
		}
		p.wq.wakeAll()
	}
	return uint64(p.size()), nil
}
