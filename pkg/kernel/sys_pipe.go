package kernel

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Pipe geometry: a pipe holds 16 pages by default (Linux's 64 KiB; fcntl
// F_SETPIPE_SZ changes it), frames of machine RAM taken as data arrives
// and freed as it is read; writes of at most pipeBuf bytes are atomic.
const (
	pipePages    = 16
	pipeBuf      = pageSize // PIPE_BUF
	pipeMaxPages = 256      // /proc/sys/fs/pipe-max-size: 1 MiB
)

// pipe is the shared buffer of a pipe's ends: a ring of frames. Readers,
// writers, pollers and FIFO openers that must wait sleep on wq. A named
// FIFO's pipe (sys_fifo.go) lives while it is open.
type pipe struct {
	m       *Machine
	pages   []mem.Frame // the ring; 0: no frame
	head    int         // ring offset of the first unread byte
	n       int         // bytes buffered
	readers int         // open read ends
	writers int         // open write ends
	// rOpens and wOpens count the opens for reading and for writing so
	// far: a FIFO opener waits for the other side's count to move.
	rOpens, wOpens uint64
	files          int      // open descriptions and waiting opens (FIFO)
	ino            uint64   // pipefs inode number
	fifo           *fileKey // the FIFO's identity; nil for pipe(2)
	ctime          time.Time
	wq             waitQueue
}

// pipeEnd is the file behind a descriptor of a pipe: a read end, a write
// end, or both (a FIFO opened O_RDWR).
type pipeEnd struct {
	p           *pipe
	read, write bool
	of          *openFile // for O_NONBLOCK
	// wSeen is the writer opens count when a FIFO was opened for
	// reading without a writer: poll reports no hang-up before a writer
	// came.
	wSeen uint64
	// name and attr describe a FIFO opened by path: its path and node.
	name string
	attr *vfs.Attr
}

// newPipeObject returns a pipe with no ends yet.
func (m *Machine) newPipeObject() *pipe {
	m.files.nextIno++
	return &pipe{m: m, pages: make([]mem.Frame, pipePages), ino: m.files.nextIno, ctime: m.wallTime()}
}

func newPipe(m *Machine) (r, w *pipeEnd) {
	p := m.newPipeObject()
	p.readers, p.writers, p.rOpens, p.wOpens, p.files = 1, 1, 1, 1, 2
	return &pipeEnd{p: p, read: true}, &pipeEnd{p: p, write: true}
}

// size is the pipe's capacity in bytes.
func (p *pipe) size() int { return len(p.pages) * pageSize }

// key identifies the pipe for locks: the FIFO's node, or the pipefs inode.
func (p *pipe) key() fileKey {
	if p.fifo != nil {
		return *p.fifo
	}
	return fileKey{pipefsDev, p.ino}
}

// pipefsDev is the device of the pipes' pseudo file system (well above
// the numbers the VFS gives its mounts).
var pipefsDev = vfs.Makedev(0, 0xfff0)

// Read reads what the pipe holds; an empty pipe blocks the calling thread
// while a writer exists and gives end of file afterwards.
func (e *pipeEnd) Read(b []byte) (int, error) {
	p := e.p
	if !e.read {
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
		p.head = (p.head + k) % p.size()
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

// peek copies out up to len(b) buffered bytes and leaves them buffered.
func (p *pipe) peek(b []byte) int {
	ram := p.m.ram
	n, pos := 0, p.head
	for n < len(b) && n < p.n {
		i, off := pos/pageSize, pos%pageSize
		k := min(len(b)-n, p.n-n, pageSize-off)
		copy(b[n:n+k], ram.Page(p.pages[i])[off:])
		n += k
		pos = (pos + k) % p.size()
	}
	return n
}

// put appends up to len(b) bytes to the ring; it stops short when RAM is
// out.
func (p *pipe) put(b []byte) (int, error) {
	ram := p.m.ram
	n := 0
	for n < len(b) && p.n < p.size() {
		tail := (p.head + p.n) % p.size()
		i, off := tail/pageSize, tail%pageSize
		if p.pages[i] == 0 {
			f, err := p.m.allocFrame(mem.Pipe, mem.ZeroFrame)
			if err != nil {
				return n, linux.ENOMEM
			}
			p.pages[i] = f
		}
		k := min(len(b)-n, p.size()-p.n, pageSize-off)
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
		free := p.size() - p.n
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
	}
	if e.read {
		p.readers--
	}
	p.files--
	p.release()
	p.wq.wakeAll()
	return nil
}

// release frees the buffer of a pipe nobody has open any more (a FIFO's
// data does not outlive its last open) and forgets the FIFO's pipe.
func (p *pipe) release() {
	if p.readers > 0 || p.writers > 0 {
		return
	}
	for i, f := range p.pages {
		if f != 0 {
			p.m.ram.Unref(f)
			p.pages[i] = 0
		}
	}
	p.n, p.head = 0, 0
	if p.files == 0 && p.fifo != nil && p.m.files.fifos[*p.fifo] == p {
		delete(p.m.files.fifos, *p.fifo)
	}
}

// readiness returns the ready events of this end.
func (e *pipeEnd) readiness() uint32 {
	p := e.p
	var ev uint32
	if e.write {
		if p.readers == 0 {
			ev |= pollERR
		} else if p.size()-p.n >= pipeBuf {
			ev |= pollOUT
		}
	}
	if e.read {
		if p.n > 0 {
			ev |= pollIN
		}
		if p.writers == 0 && p.wOpens != e.wSeen {
			ev |= pollHUP
		}
	}
	return ev
}

// waitQueue is what a poller waits on.
func (e *pipeEnd) waitQueue() *waitQueue { return &e.p.wq }

// Stat describes the pipe as a FIFO: a named FIFO's node, or the pipefs
// inode of a pipe.
func (e *pipeEnd) Stat() (fs.FileInfo, error) { return vfs.NewFileInfo("pipe", e.attrOf()), nil }

// attrOf returns the attributes fstat shows for the end.
func (e *pipeEnd) attrOf() vfs.Attr {
	if e.attr != nil {
		return *e.attr
	}
	t := e.p.ctime
	return vfs.Attr{Dev: pipefsDev, Ino: e.p.ino, Mode: vfs.ModeFIFO | 0o600, Nlink: 1, Blksize: pageSize,
		Atime: t, Mtime: t, Ctime: t}
}

// ProcName is the target of /proc/<pid>/fd/<n>: the FIFO's path, or
// pipe:[ino].
func (e *pipeEnd) ProcName() string {
	if e.name != "" {
		return e.name
	}
	return fmt.Sprintf("pipe:[%d]", e.p.ino)
}

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
