package kernel

import (
	"io/fs"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// pipeBufSize is the capacity of a pipe (Linux's default 16 pages).
const pipeBufSize = 64 << 10

// pipe is the shared buffer of a pipe's two ends. Readers and writers that
// must wait block on the pipe itself (Machine.notify).
type pipe struct {
	m       *Machine
	buf     []byte
	readers int // open read ends
	writers int // open write ends
}

// pipeEnd is one end of a pipe, the file behind a descriptor.
type pipeEnd struct {
	p     *pipe
	write bool
	of    *openFile // for O_NONBLOCK
}

func newPipe(m *Machine) (r, w *pipeEnd) {
	p := &pipe{m: m, readers: 1, writers: 1}
	return &pipeEnd{p: p}, &pipeEnd{p: p, write: true}
}

// Read reads what the pipe holds; an empty pipe blocks the calling task
// while a writer exists and gives end of file afterwards.
func (e *pipeEnd) Read(b []byte) (int, error) {
	p := e.p
	if e.write {
		return 0, linux.EBADF
	}
	if len(b) == 0 {
		return 0, nil
	}
	if len(p.buf) == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		if e.nonblock() || p.m.transferred() {
			return 0, linux.EAGAIN
		}
		return 0, p.m.blockCur(p)
	}
	n := copy(b, p.buf)
	p.buf = append(p.buf[:0], p.buf[n:]...)
	p.m.markTransfer()
	p.m.notify(p)
	return n, nil
}

// Write appends to the pipe. Without readers it raises SIGPIPE and fails
// with EPIPE; a full pipe blocks the calling task; a write larger than the
// free space is short (the caller writes the rest).
func (e *pipeEnd) Write(b []byte) (int, error) {
	p := e.p
	if !e.write {
		return 0, linux.EBADF
	}
	if p.readers == 0 {
		if cur := p.m.cur; cur != nil {
			cur.sendSignal(linux.SIGPIPE)
		}
		return 0, linux.EPIPE
	}
	if len(b) == 0 {
		return 0, nil
	}
	free := pipeBufSize - len(p.buf)
	if free == 0 {
		if e.nonblock() || p.m.transferred() {
			return 0, linux.EAGAIN
		}
		return 0, p.m.blockCur(p)
	}
	n := min(free, len(b))
	p.buf = append(p.buf, b[:n]...)
	p.m.markTransfer()
	p.m.notify(p)
	return n, nil
}

// blockCur blocks the running process on key, or fails with EAGAIN when
// no process runs (a kernel-side caller).
func (m *Machine) blockCur(key any) error {
	if m.cur == nil {
		return linux.EAGAIN
	}
	return m.cur.task.block(0, key)
}

// markTransfer notes that the current system call moved data through a
// pipe; transferred reports it. A call that already moved data must return
// it rather than block, since a blocked call runs again from the start.
// The machine's instruction count identifies the call: it does not change
// while a handler runs and grows before the next svc.
func (m *Machine) markTransfer() {
	if m.cur != nil {
		m.cur.xferMark = m.clock.Insns() + 1
	}
}

func (m *Machine) transferred() bool {
	return m.cur != nil && m.cur.xferMark == m.clock.Insns()+1
}

func (e *pipeEnd) nonblock() bool { return e.of != nil && e.of.flags&linux.O_NONBLOCK != 0 }

// Close drops this end; the other side's waiters wake up to see EOF or
// EPIPE.
func (e *pipeEnd) Close() error {
	if e.write {
		e.p.writers--
	} else {
		e.p.readers--
	}
	e.p.m.notify(e.p)
	return nil
}

// poll returns the ready events of this end.
func (e *pipeEnd) poll() int16 {
	p := e.p
	var ev int16
	if e.write {
		if p.readers == 0 {
			ev |= pollERR
		} else if len(p.buf) < pipeBufSize {
			ev |= pollOUT
		}
		return ev
	}
	if len(p.buf) > 0 {
		ev |= pollIN
	}
	if p.writers == 0 {
		ev |= pollHUP
	}
	return ev
}

// waitKey is what a poller blocks on.
func (e *pipeEnd) waitKey() any { return e.p }

// Stat describes the pipe as a FIFO.
func (e *pipeEnd) Stat() (fs.FileInfo, error) { return pipeInfo{n: len(e.p.buf)}, nil }

type pipeInfo struct{ n int }

func (pipeInfo) Name() string       { return "pipe" }
func (i pipeInfo) Size() int64      { return int64(i.n) }
func (pipeInfo) Mode() fs.FileMode  { return fs.ModeNamedPipe | 0o600 }
func (pipeInfo) ModTime() time.Time { return time.Time{} }
func (pipeInfo) IsDir() bool        { return false }
func (pipeInfo) Sys() any           { return nil }

// Pipe2 implements pipe2(2).
func sysPipe2(t *Task, a *args) (uint64, error) {
	flags := a.int32(1)
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK|linux.O_DIRECT) != 0 {
		return 0, linux.EINVAL
	}
	r, w := newPipe(t.m)
	cloexec := flags&linux.O_CLOEXEC != 0
	st := flags & linux.O_NONBLOCK
	rof := &openFile{f: r, flags: linux.O_RDONLY | st}
	wof := &openFile{f: w, flags: linux.O_WRONLY | st}
	r.of, w.of = rof, wof
	rfd, err := t.fds.installOpen(rof, 0, cloexec)
	if err != nil {
		return 0, err
	}
	wfd, err := t.fds.installOpen(wof, 0, cloexec)
	if err != nil {
		t.fds.close(rfd)
		w.Close()
		return 0, err
	}
	var b [8]byte
	put32(b[0:], uint32(rfd))
	put32(b[4:], uint32(wfd))
	if err := t.copyOut(a[0], b[:]); err != nil {
		t.fds.close(rfd)
		t.fds.close(wfd)
		return 0, err
	}
	return 0, nil
}
