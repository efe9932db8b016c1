package kernel

import (
	"io"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// splice(2) and tee(2) move bytes between a pipe and another file (or two
// pipes) without a trip through guest memory. Bytes are taken from a
// source pipe only once they are written, and a destination pipe is given
// no more than it has room for, so a call that blocks or fails part way
// loses nothing.

func registerSpliceSyscalls(reg func(uint64, syscallEntry)) {
	reg(linux.SysSplice, syscallEntry{fn: sysSplice})
	reg(linux.SysTee, syscallEntry{fn: sysTee})
}

// splice flags.
const (
	spliceMove     = 1
	spliceNonblock = 2
	spliceMore     = 4
	spliceGift     = 8
)

// pipeOf returns the pipe of an open file, or nil.
func pipeOf(of *openFile) *pipe {
	if e, ok := of.f.(*pipeEnd); ok {
		return e.p
	}
	return nil
}

// Splice implements splice(2).
func sysSplice(t *Task, a *args) (uint64, error) {
	in, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	out, err := t.fds.get(a.int32(2))
	if err != nil {
		return 0, err
	}
	flags := a[5]
	if flags&^(spliceMove|spliceNonblock|spliceMore|spliceGift) != 0 {
		return 0, linux.EINVAL
	}
	if in.flags&linux.O_ACCMODE == linux.O_WRONLY || out.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return 0, linux.EBADF
	}
	if out.flags&linux.O_APPEND != 0 {
		return 0, linux.EINVAL
	}
	inPipe, outPipe := pipeOf(in), pipeOf(out)
	if inPipe == nil && outPipe == nil {
		return 0, linux.EINVAL
	}
	if inPipe != nil && inPipe == outPipe {
		return 0, linux.EINVAL
	}
	offIn, err := t.spliceOffset(a[1], inPipe != nil)
	if err != nil {
		return 0, err
	}
	offOut, err := t.spliceOffset(a[3], outPipe != nil)
	if err != nil {
		return 0, err
	}
	n := min(a[4], maxIO)
	if n == 0 {
		return 0, nil
	}
	nonblock := flags&spliceNonblock != 0
	if outPipe != nil {
		room, err := t.pipeRoom(outPipe, out, nonblock)
		if room == 0 {
			return 0, err
		}
		n = min(n, uint64(room))
	}
	var buf []byte
	if inPipe != nil {
		if inPipe.n == 0 {
			return 0, t.pipeEmpty(inPipe, in, nonblock)
		}
		buf = t.scratch(min(n, uint64(inPipe.n)))
		buf = buf[:inPipe.peek(buf)]
	} else {
		buf = t.scratch(n)
		got, err := readAt(in, buf, offIn)
		if got == 0 {
			return 0, err
		}
		buf = buf[:got]
	}
	w, err := writeAt(out, buf, offOut)
	if w == 0 {
		return 0, err
	}
	if inPipe != nil {
		inPipe.take(buf[:w])
		inPipe.wq.wakeAll()
	}
	if err := t.advanceOffset(a[1], offIn, w); err != nil {
		return uint64(w), err
	}
	return uint64(w), t.advanceOffset(a[3], offOut, w)
}

// Tee implements tee(2): bytes of one pipe are copied to another and stay
// in the first.
func sysTee(t *Task, a *args) (uint64, error) {
	in, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	out, err := t.fds.get(a.int32(1))
	if err != nil {
		return 0, err
	}
	flags := a[3]
	if flags&^(spliceMove|spliceNonblock|spliceMore|spliceGift) != 0 {
		return 0, linux.EINVAL
	}
	inPipe, outPipe := pipeOf(in), pipeOf(out)
	if inPipe == nil || outPipe == nil || inPipe == outPipe {
		return 0, linux.EINVAL
	}
	if in.flags&linux.O_ACCMODE == linux.O_WRONLY || out.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return 0, linux.EBADF
	}
	n := min(a[2], maxIO)
	if n == 0 {
		return 0, nil
	}
	nonblock := flags&spliceNonblock != 0
	if inPipe.n == 0 {
		return 0, t.pipeEmpty(inPipe, in, nonblock)
	}
	room, err := t.pipeRoom(outPipe, out, nonblock)
	if room == 0 {
		return 0, err
	}
	buf := t.scratch(min(n, uint64(room), uint64(inPipe.n)))
	buf = buf[:inPipe.peek(buf)]
	w, err := out.f.Write(buf)
	if w == 0 {
		return 0, err
	}
	return uint64(w), nil
}

// spliceOffset reads the offset at addr (0: none, use the file's); a pipe
// has none (ESPIPE).
func (t *Task) spliceOffset(addr uint64, isPipe bool) (int64, error) {
	if addr == 0 {
		return -1, nil
	}
	if isPipe {
		return 0, linux.ESPIPE
	}
	var b [8]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	off := int64(le64(b[:]))
	if off < 0 {
		return 0, linux.EINVAL
	}
	return off, nil
}

// advanceOffset moves the offset past n bytes: the guest's (at addr) when
// the call named one, else nothing (the file's own moved with the I/O).
func (t *Task) advanceOffset(addr uint64, off int64, n int) error {
	if addr == 0 {
		return nil
	}
	var b [8]byte
	put64(b[:], uint64(off)+uint64(n))
	return t.copyOut(addr, b[:])
}

// pipeRoom returns the free bytes of a destination pipe; with none it
// fails: EPIPE (and SIGPIPE) without readers, EAGAIN, or it blocks.
func (t *Task) pipeRoom(p *pipe, of *openFile, nonblock bool) (int, error) {
	if p.readers == 0 {
		t.sendSignal(linux.SIGPIPE, siginfo{code: siKernel})
		return 0, linux.EPIPE
	}
	if room := p.size() - p.n; room > 0 {
		return room, nil
	}
	if nonblock || of.flags&linux.O_NONBLOCK != 0 {
		return 0, linux.EAGAIN
	}
	return 0, t.block(0, &p.wq)
}

// pipeEmpty is the outcome of reading an empty source pipe: end of file
// without writers, EAGAIN, or a wait.
func (t *Task) pipeEmpty(p *pipe, of *openFile, nonblock bool) error {
	switch {
	case p.writers == 0:
		return nil
	case nonblock || of.flags&linux.O_NONBLOCK != 0:
		return linux.EAGAIN
	}
	return t.block(0, &p.wq)
}

// readAt reads from of at off (-1: at its offset).
func readAt(of *openFile, b []byte, off int64) (int, error) {
	var n int
	var err error
	if off >= 0 {
		ra, ok := of.f.(io.ReaderAt)
		if !ok {
			return 0, linux.ESPIPE
		}
		n, err = ra.ReadAt(b, off)
	} else {
		n, err = of.f.Read(b)
	}
	if err == io.EOF {
		err = nil
	}
	return n, fileErr(err)
}

// writeAt writes to of at off (-1: at its offset).
func writeAt(of *openFile, b []byte, off int64) (int, error) {
	if off >= 0 {
		wa, ok := of.f.(io.WriterAt)
		if !ok {
			return 0, linux.ESPIPE
		}
		n, err := wa.WriteAt(b, off)
		return n, fileErr(err)
	}
	n, err := of.f.Write(b)
	return n, fileErr(err)
}
