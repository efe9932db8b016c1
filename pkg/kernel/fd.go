package kernel

import (
	"io"
	"io/fs"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// file is what a descriptor refers to: a VFS file, the console, a pipe.
// Optional abilities (seeking, positional I/O, stat, directory listing,
// terminal control) are further interfaces checked at the call.
type file interface {
	io.ReadWriteCloser
}

// statter is a file that can describe itself.
type statter interface {
	Stat() (fs.FileInfo, error)
}

// terminal is a file that may be a terminal.
type terminal interface {
	IsTerminal() bool
}

// openFile is an open file description shared by dup'ed descriptors.
type openFile struct {
	f     file
	flags int // Linux O_* status flags
	refs  int
}

type fdEntry struct {
	of      *openFile
	cloexec bool
}

// fdTable maps descriptor numbers to open file descriptions. Processes
// created with CLONE_FILES share one (refs).
type fdTable struct {
	fds  []*fdEntry
	refs int
}

// maxFDs is RLIMIT_NOFILE.
const maxFDs = 1024

// newConsoleFDs returns a table with fds 0, 1 and 2 on the console.
func newConsoleFDs(m *Machine) *fdTable {
	t := &fdTable{refs: 1}
	t.install(&console{r: m.cfg.Stdin, tty: m.cfg.ConsoleIsTerminal}, linux.O_RDONLY, 0, false)
	t.install(&console{w: m.cfg.Stdout, tty: m.cfg.ConsoleIsTerminal}, linux.O_WRONLY, 0, false)
	t.install(&console{w: m.cfg.Stderr, tty: m.cfg.ConsoleIsTerminal}, linux.O_WRONLY, 0, false)
	return t
}

// install puts f at the lowest free descriptor >= min.
func (t *fdTable) install(f file, flags, min int, cloexec bool) (int, error) {
	return t.installOpen(&openFile{f: f, flags: flags}, min, cloexec)
}

func (t *fdTable) installOpen(of *openFile, min int, cloexec bool) (int, error) {
	for fd := min; fd < maxFDs; fd++ {
		if fd >= len(t.fds) {
			t.fds = append(t.fds, make([]*fdEntry, fd-len(t.fds)+1)...)
		}
		if t.fds[fd] == nil {
			of.refs++
			t.fds[fd] = &fdEntry{of: of, cloexec: cloexec}
			return fd, nil
		}
	}
	return -1, linux.EMFILE
}

// get returns the description behind fd.
func (t *fdTable) get(fd int) (*openFile, error) {
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return nil, linux.EBADF
	}
	return t.fds[fd].of, nil
}

// entry returns the descriptor slot for fd.
func (t *fdTable) entry(fd int) (*fdEntry, error) {
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return nil, linux.EBADF
	}
	return t.fds[fd], nil
}

// setAt makes fd refer to of, closing what fd referred to before.
func (t *fdTable) setAt(fd int, of *openFile, cloexec bool) error {
	if fd < 0 || fd >= maxFDs {
		return linux.EBADF
	}
	if fd >= len(t.fds) {
		t.fds = append(t.fds, make([]*fdEntry, fd-len(t.fds)+1)...)
	}
	of.refs++
	if old := t.fds[fd]; old != nil {
		old.of.release()
	}
	t.fds[fd] = &fdEntry{of: of, cloexec: cloexec}
	return nil
}

// close closes fd.
func (t *fdTable) close(fd int) error {
	e, err := t.entry(fd)
	if err != nil {
		return err
	}
	t.fds[fd] = nil
	return e.of.release()
}

// release drops a process's use of the table; the last one closes every
// descriptor.
func (t *fdTable) release() {
	t.refs--
	if t.refs > 0 {
		return
	}
	for fd := range t.fds {
		if t.fds[fd] != nil {
			t.close(fd)
		}
	}
}

// name is what /proc/<pid>/fd/<n> shows for the description.
func (of *openFile) name() string { return fdTarget(of.f) }

// release drops one reference and closes the file with the last one.
func (of *openFile) release() error {
	of.refs--
	if of.refs == 0 {
		return of.f.Close()
	}
	if d, ok := of.f.(interface{ refDropped(*openFile) }); ok {
		d.refDropped(of) // AF_UNIX garbage collection (socket_unix.go)
	}
	return nil
}

// console is one of the console streams of the machine.
type console struct {
	r   io.Reader
	w   io.Writer
	tty bool
}

func (c *console) Read(p []byte) (int, error) {
	if c.r == nil {
		return 0, linux.EBADF
	}
	n, err := c.r.Read(p)
	if err == io.EOF {
		err = nil
	}
	return n, err
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

// consoleInfo describes the console as a character device.
type consoleInfo struct{}

func (consoleInfo) Name() string       { return "console" }
func (consoleInfo) Size() int64        { return 0 }
func (consoleInfo) Mode() fs.FileMode  { return fs.ModeDevice | fs.ModeCharDevice | 0o620 }
func (consoleInfo) ModTime() time.Time { return time.Time{} }
func (consoleInfo) IsDir() bool        { return false }
func (consoleInfo) Sys() any           { return nil }

// fork returns a copy of the table for a child process: the descriptors
// refer to the same open file descriptions.
func (t *fdTable) fork() *fdTable {
	c := &fdTable{fds: make([]*fdEntry, len(t.fds)), refs: 1}
	for fd, e := range t.fds {
		if e != nil {
			e.of.refs++
			c.fds[fd] = &fdEntry{of: e.of, cloexec: e.cloexec}
		}
	}
	return c
}

// closeOnExec closes the descriptors marked close-on-exec.
func (t *fdTable) closeOnExec() {
	for fd, e := range t.fds {
		if e != nil && e.cloexec {
			t.close(fd)
		}
	}
}
