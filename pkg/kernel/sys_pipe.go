package kernel

import (
	"io/fs"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// Pipe geometry: a pipe holds up to 16 pages (Linux's default 64 KiB),
// frames of machine RAM taken as data arrives and freed as it is read;
// writes of at most pipeBuf bytes are atomic.
const (
	pipePages   = 16
	pipeBufSize = pipePages * pageSize
	pipeBuf     = pageSize // PIPE_BUF
)

// pipe is the shared buffer of a pipe's two ends: a ring of frames.
// Readers, writers and pollers that must wait sleep on wq.
type pipe struct {
	m       *Machine
	pages   [pipePages]mem.Frame // 0: no frame
	head    int                  // ring offset of the first unread byte
	n       int                  // bytes buffered
	readers int                  // open read ends
	writers int                  // open write ends
	wq      waitQueue
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

// Read reads what the pipe holds; an empty pipe blocks the calling thread
// while a writer exists and gives end of file afterwards.
func (e *pipeEnd) Read(b []byte) (int, error) {
	p := e.p
	if e.write {
		return 0, linux.EBADF
	}
	if len(b) == 0 {
		return 0, nil
	}
	if p.n == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		if e.nonblock() || p.m.transferred() {
			return 0, linux.EAGAIN
		}
		return 0, p.m.blockCur(&p.wq)
	}
	n := p.take(b)
	p.m.markTransfer()
	p.wq.wakeAll()
	return n, nil
}

// take copies out up to len(b) buffered bytes, freeing the frames it
// empties.
func (p *pipe) take(b []byte) int {
	ram := p.m.ram
	n := 0
	for n < len(b) && p.n > 0 {
		i, off := p.head/pageSize, p.head%pageSize
		k := min(len(b)-n, p.n, pageSize-off)
		copy(b[n:n+k], ram.Page(p.pages[i])[off:])
		n += k
		p.n -= k
		p.head = (p.head + k) % pipeBufSize
		if off+k == pageSize || p.n == 0 {
			ram.Unref(p.pages[i])
			p.pages[i] = 0
		}
	}
	if p.n == 0 {
		p.head = 0
	}
	return n
}

// put appends up to len(b) bytes to the ring; it stops short when RAM is
// out.
func (p *pipe) put(b []byte) (int, error) {
	ram := p.m.ram
	n := 0
	for n < len(b) && p.n < pipeBufSize {
		tail := (p.head + p.n) % pipeBufSize
		i, off := tail/pageSize, tail%pageSize
		if p.pages[i] == 0 {
			f, err := p.m.allocFrame(mem.Pipe, mem.ZeroFrame)
			if err != nil {
				return n, linux.ENOMEM
			}
			p.pages[i] = f
		}
		k := min(len(b)-n, pipeBufSize-p.n, pageSize-off)
		copy(ram.Page(p.pages[i])[off:], b[n:n+k])
		n += k
		p.n += k
	}
	return n, nil
}

// Write appends to the pipe. Without readers it raises SIGPIPE and fails
// with EPIPE. A full pipe blocks the calling thread until all is written
// (the bytes already written are kept across the wait); a write of at
// most PIPE_BUF bytes is never split.
func (e *pipeEnd) Write(b []byte) (int, error) {
	p := e.p
	if !e.write {
		return 0, linux.EBADF
	}
	cur := p.m.cur
	if p.readers == 0 {
		if cur != nil {
			cur.sendSignal(linux.SIGPIPE, siginfo{code: siKernel})
			cur.partial = 0
		}
		return 0, linux.EPIPE
	}
	done := 0
	if cur != nil {
		done = min(int(cur.partial), len(b))
	}
	for done < len(b) {
		free := pipeBufSize - p.n
		rest := len(b) - done
		if free == 0 || rest <= pipeBuf && free < rest && done == 0 {
			if e.nonblock() || cur == nil {
				if done > 0 {
					break
				}
				return 0, linux.EAGAIN
			}
			cur.partial = uint64(done)
			return 0, cur.block(0, &p.wq)
		}
		k, err := p.put(b[done:])
		done += k
		p.wq.wakeAll()
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
	}
	if cur != nil {
		cur.partial = 0
	}
	return done, nil
}

// blockCur blocks the running thread on q, or fails with EAGAIN when no
// thread runs (a kernel-side caller).
func (m *Machine) blockCur(q *waitQueue) error {
	if m.cur == nil {
		return linux.EAGAIN
	}
	return m.cur.block(0, q)
}

// markTransfer notes that the current system call moved data; transferred
// reports it. A call that already moved data must return it rather than
// block, since a blocked call runs again from the start. The machine's
// instruction count identifies the call: it does not change while a
// handler runs and grows before the next svc.
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
	p := e.p
	if e.write {
		p.writers--
	} else {
		p.readers--
	}
	if p.readers == 0 && p.writers == 0 {
		for i, f := range p.pages {
			if f != 0 {
				p.m.ram.Unref(f)
				p.pages[i] = 0
			}
		}
		p.n = 0
	}
	p.wq.wakeAll()
	return nil
}

// readiness returns the ready events of this end.
func (e *pipeEnd) readiness() uint32 {
	p := e.p
	var ev uint32
	if e.write {
		if p.readers == 0 {
			ev |= pollERR
		} else if pipeBufSize-p.n >= pipeBuf {
			ev |= pollOUT
		}
		return ev
	}
	if p.n > 0 {
		ev |= pollIN
	}
	if p.writers == 0 {
		ev |= pollHUP
	}
	return ev
}

// waitQueue is what a poller waits on.
func (e *pipeEnd) waitQueue() *waitQueue { return &e.p.wq }

// Stat describes the pipe as a FIFO.
func (e *pipeEnd) Stat() (fs.FileInfo, error) { return pipeInfo{n: e.p.n}, nil }

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
