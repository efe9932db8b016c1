package kernel

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// The console: Config.Stdin, Stdout and Stderr, which guests see as fds
// 0-2 of the programs the host starts and as /dev/console and /dev/tty.
//
// Console input from a host file that can block (a terminal, pipe, FIFO
// or socket) is read by a goroutine, one read at a time and only while a
// guest waits for input, so that nothing is read ahead of a guest that
// asks for it (the sis> shell reads the same terminal between commands).
// A guest that waits blocks like any other: the machine runs its other
// threads, and Ctrl-C, timers and cancellation reach it. In deterministic
// mode a console that is not a terminal instead holds the machine while
// the host read is pending (no other thread runs, machine time stands
// still), so that a piped run replays exactly; Ctrl-C and cancellation
// still get through. Any other reader (a regular file, an embedder's
// io.Reader) is read directly.

// consoleIn is the machine's console input.
type consoleIn struct {
	m      *Machine
	direct io.Reader // read in the system call (nil: by the goroutine)
	fd     int       // the host file the goroutine reads
	holds  bool      // deterministic mode, not a terminal: hold the machine

	buf     []byte // read from the host, not yet taken by a guest
	eof     bool   // the host read returned end of file: one guest read sees it
	err     error  // the host read failed: guests get EIO
	readers waitQueue

	started  bool
	inFlight bool              // a host read is wanted or under way
	want     chan struct{}     // asks the goroutine for one read
	got      chan consoleChunk // its result
	cancel   [2]int            // a pipe that stops a read waiting for input
	done     chan struct{}     // closed when the goroutine ends
}

// consoleChunk is the outcome of one host read.
type consoleChunk struct {
	data      []byte
	eof       bool
	err       error
	cancelled bool
}

// newConsoleIn sets up console input from r.
func newConsoleIn(m *Machine, r io.Reader) *consoleIn {
	c := &consoleIn{m: m, direct: r}
	f, ok := r.(*os.File)
	if !ok {
		return c
	}
	if fi, err := f.Stat(); err != nil || fi.Mode().IsRegular() {
		return c
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return c
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil || fd < 0 {
		return c
	}
	_, ttyErr := unix.IoctlGetTermios(fd, unix.TCGETS)
	c.direct, c.fd = nil, fd
	c.holds = !m.clock.Realtime() && ttyErr != nil
	return c
}

// waiting reports whether a guest waits for host input.
func (c *consoleIn) waiting() bool { return c.direct == nil && !c.readers.empty() }

// ready reports whether a read would not block.
func (c *consoleIn) ready() bool {
	return c.direct != nil || len(c.buf) > 0 || c.eof || c.err != nil
}

// read takes console input for the current system call.
func (c *consoleIn) read(p []byte, nonblock bool) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.direct != nil {
		n, err := c.direct.Read(p)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}
	c.collect(false)
	if !c.ready() && c.holds && c.m.cur != nil && !c.hold() {
		// Ctrl-C or cancellation: the call runs again once it is handled.
		return 0, c.m.restartCur()
	}
	if c.ready() {
		return c.take(p)
	}
	c.request()
	if nonblock || c.m.cur == nil {
		return 0, linux.EAGAIN
	}
	return 0, c.m.blockCur(&c.readers)
}

// hold waits, holding the machine, until input is ready; it returns false
// when work from the host (Ctrl-C) or the run's cancellation comes first.
func (c *consoleIn) hold() bool {
	for !c.ready() {
		c.request()
		select {
		case ch := <-c.got:
			c.apply(ch)
		case <-c.m.wake:
			if c.m.nposted.Load() != 0 {
				c.m.poke() // for the runner, after the call
				return false
			}
			// The reader's own wake-up (its result is in got), or a
			// stale one.
		case <-c.m.runCtx.Done():
			return false
		}
	}
	return true
}

// take hands out buffered input, or end of file once.
func (c *consoleIn) take(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	if c.eof {
		c.eof = false // a terminal reads again after Ctrl-D
		return 0, nil
	}
	return 0, linux.EIO
}

// request makes sure a host read is under way.
func (c *consoleIn) request() {
	if c.inFlight {
		return
	}
	if !c.started {
		if err := c.start(); err != nil {
			c.err = err
			return
		}
	}
	c.inFlight = true
	c.want <- struct{}{}
}

// collect applies a finished host read, waiting for it when wait is set.
func (c *consoleIn) collect(wait bool) {
	if !c.inFlight {
		return
	}
	if wait {
		c.apply(<-c.got)
		return
	}
	select {
	case ch := <-c.got:
		c.apply(ch)
	default:
	}
}

// poll applies a finished host read and, while guests wait for input,
// keeps a read under way (one stopped by quiesce starts again).
func (c *consoleIn) poll() {
	c.collect(false)
	if c.waiting() {
		c.request()
	}
}

// apply takes a host read's result and wakes the waiting guests.
func (c *consoleIn) apply(ch consoleChunk) {
	c.inFlight = false
	c.buf = append(c.buf, ch.data...)
	c.eof = c.eof || ch.eof
	if ch.err != nil {
		c.err = ch.err
	}
	if !ch.cancelled {
		c.readers.wakeAll()
	}
}

// quiesce stops a host read that waits for input, so that nothing is read
// while the machine does not run (the shell's editor may read next).
func (c *consoleIn) quiesce() {
	if !c.inFlight {
		return
	}
	_, _ = unix.Write(c.cancel[1], []byte{0})
	c.collect(true)
	var b [16]byte
	_, _ = unix.Read(c.cancel[0], b[:]) // drain a cancel the read did not see
}

// start opens the cancel pipe and starts the reading goroutine.
func (c *consoleIn) start() error {
	if err := unix.Pipe2(c.cancel[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return err
	}
	c.started = true
	c.want = make(chan struct{})
	c.got = make(chan consoleChunk, 1)
	c.done = make(chan struct{})
	go c.loop()
	return nil
}

// loop serves read requests until close.
func (c *consoleIn) loop() {
	defer close(c.done)
	buf := make([]byte, 4096)
	for range c.want {
		c.got <- c.hostRead(buf)
		c.m.poke()
	}
}

// hostRead waits for input or a cancel and reads once.
func (c *consoleIn) hostRead(buf []byte) consoleChunk {
	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}, {Fd: int32(c.cancel[0]), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return consoleChunk{err: err}
		}
		if fds[1].Revents != 0 {
			var b [16]byte
			_, _ = unix.Read(c.cancel[0], b[:])
			return consoleChunk{cancelled: true}
		}
		n, err := unix.Read(c.fd, buf)
		switch {
		case errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			return consoleChunk{err: err}
		case n == 0:
			return consoleChunk{eof: true}
		}
		return consoleChunk{data: append([]byte(nil), buf[:n]...)}
	}
}

// close stops the goroutine.
func (c *consoleIn) close() {
	if !c.started {
		return
	}
	c.quiesce()
	close(c.want)
	<-c.done
	unix.Close(c.cancel[0])
	unix.Close(c.cancel[1])
	c.started = false
}

// console is one of the console streams of the machine (fds 0-2 of the
// programs the host starts).
type console struct {
	m   *Machine
	w   io.Writer // nil: the input stream
	tty bool
	of  *openFile
}

func (c *console) Read(p []byte) (int, error) {
	if c.w != nil {
		return 0, linux.EBADF
	}
	return c.m.console.read(p, c.of != nil && c.of.flags&linux.O_NONBLOCK != 0)
}

func (c *console) Write(p []byte) (int, error) {
	if c.w == nil {
		return 0, linux.EBADF
	}
	return c.w.Write(p)
}

func (c *console) Close() error     { return nil }
func (c *console) IsTerminal() bool { return c.tty }
func (c *console) Stat() (fs.FileInfo, error) {
	return consoleInfo{}, nil
}

// readiness implements waitable: input is ready when buffered; asking
// starts a host read.
func (c *console) readiness() uint32 {
	if c.w != nil {
		return pollOUT
	}
	in := c.m.console
	in.collect(false)
	if !in.ready() && in.holds && in.m.cur != nil {
		in.hold()
	}
	if in.ready() {
		return pollIN
	}
	in.request()
	return 0
}

func (c *console) waitQueue() *waitQueue { return &c.m.console.readers }

// consoleInfo describes the console as a character device.
type consoleInfo struct{}

func (consoleInfo) Name() string       { return "console" }
func (consoleInfo) Size() int64        { return 0 }
func (consoleInfo) Mode() fs.FileMode  { return fs.ModeDevice | fs.ModeCharDevice | 0o620 }
func (consoleInfo) ModTime() time.Time { return time.Time{} }
func (consoleInfo) IsDir() bool        { return false }
func (consoleInfo) Sys() any           { return nil }
