package kernel

import (
	"io"
	"io/fs"

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
	// locked are the files this description may hold flock or OFD locks
	// on (sys_lock.go).
	locked []*inodeLocks
	owner  int // F_SETOWN's process (or negated group)
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
	// posixLocked are the files the table holds POSIX locks on
	// (sys_lock.go).
	posixLocked []*inodeLocks
	// limit is the soft RLIMIT_NOFILE of the processes using the table:
	// descriptors are below it.
	limit int
	// open counts the descriptors of every table of the machine.
	open *int
}

// Descriptor limits: RLIMIT_NOFILE's default soft and hard values
// (Linux's INR_OPEN_CUR, INR_OPEN_MAX), the most it can be raised to
// (fs.nr_open), and the descriptors of a whole machine (fs.file-max).
const (
	defaultNoFile    = 1024
	defaultNoFileMax = 4096
	nrOpen           = 1 << 20
	fileMax          = 1 << 20
)

// newConsoleFDs returns a table with fds 0, 1 and 2 on the console.
func newConsoleFDs(m *Machine) *fdTable {
	t := &fdTable{refs: 1, limit: defaultNoFile, open: &m.openFDs}
	for i, w := range []io.Writer{nil, m.cfg.Stdout, m.cfg.Stderr} {
		c := &console{m: m, w: w, tty: m.cfg.ConsoleIsTerminal}
		flags := linux.O_WRONLY
		if i == 0 {
			flags = linux.O_RDONLY
		}
		t.install(c, flags, 0, false)
		c.of = t.fds[i].of
	}
	return t
}

// install puts f at the lowest free descriptor >= min.
func (t *fdTable) install(f file, flags, min int, cloexec bool) (int, error) {
	return t.installOpen(&openFile{f: f, flags: flags}, min, cloexec)
}

func (t *fdTable) installOpen(of *openFile, min int, cloexec bool) (int, error) {
	if *t.open >= fileMax {
		return -1, linux.ENFILE
	}
	for fd := min; fd < t.limit; fd++ {
		if fd >= len(t.fds) {
			t.fds = append(t.fds, make([]*fdEntry, fd-len(t.fds)+1)...)
		}
		if t.fds[fd] == nil {
			of.refs++
			t.fds[fd] = &fdEntry{of: of, cloexec: cloexec}
			*t.open++
			return fd, nil
		}
	}
	return -1, linux.EMFILE
}

// room reports whether a descriptor can be installed (EMFILE, ENFILE).
func (t *fdTable) room() error {
	if *t.open >= fileMax {
		return linux.ENFILE
	}
	for fd := 0; fd < t.limit; fd++ {
		if fd >= len(t.fds) || t.fds[fd] == nil {
			return nil
		}
	}
	return linux.EMFILE
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
	if fd < 0 || fd >= t.limit {
		return linux.EBADF
	}
	if fd >= len(t.fds) {
		t.fds = append(t.fds, make([]*fdEntry, fd-len(t.fds)+1)...)
	}
	of.refs++
	if old := t.fds[fd]; old != nil {
		t.closing(old.of)
		old.of.release()
	} else if *t.open >= fileMax {
		of.refs--
		return linux.ENFILE
	} else {
		*t.open++
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
	*t.open--
	t.closing(e.of)
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
		if of.locked != nil {
			of.releaseLocks()
		}
		return of.f.Close()
	}
	if d, ok := of.f.(interface{ refDropped(*openFile) }); ok {
		d.refDropped(of) // AF_UNIX garbage collection (socket_unix.go)
	}
	return nil
}

// fork returns a copy of the table for a child process: the descriptors
// refer to the same open file descriptions. It fails with ENFILE when the
// machine's descriptors would pass fs.file-max.
func (t *fdTable) fork() (*fdTable, error) {
	n := 0
	for _, e := range t.fds {
		if e != nil {
			n++
		}
	}
	if *t.open+n > fileMax {
		return nil, linux.ENFILE
	}
	c := &fdTable{fds: make([]*fdEntry, len(t.fds)), refs: 1, limit: t.limit, open: t.open}
	for fd, e := range t.fds {
		if e != nil {
			e.of.refs++
			c.fds[fd] = &fdEntry{of: e.of, cloexec: e.cloexec}
		}
	}
	*t.open += n
	return c, nil
}

// closeOnExec closes the descriptors marked close-on-exec.
func (t *fdTable) closeOnExec() {
	for fd, e := range t.fds {
		if e != nil && e.cloexec {
			t.close(fd)
		}
	}
}
