package vfs

import (
	"bytes"
	"encoding/binary"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// The open files of Hostfs: regular files and directories with offsets
// (hostFile), FIFOs as non-blocking streams (hostFIFO), both over a host
// descriptor that is never used after Close (hostFD).

// hostFD is an open host descriptor that is never used after Close (a
// closed number could name another file by then).
type hostFD struct {
	mu sync.RWMutex
	fd int // -1 once closed
}

// use runs fn with the descriptor, or fails with EBADF after Close.
func (f *hostFD) use(fn func(fd int) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.fd < 0 {
		return linux.EBADF
	}
	return fn(f.fd)
}

func (f *hostFD) Stat() (Attr, error) {
	var a Attr
	err := f.use(func(fd int) error {
		var err error
		a, err = statxAttr(fd, "", unix.AT_EMPTY_PATH)
		return err
	})
	return a, hostErr(err)
}

func (f *hostFD) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return linux.EBADF
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return hostErr(err)
}

// hostFile is an open host regular file or directory.
type hostFile struct {
	hostFD
	ro bool
}

func (f *hostFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	err := f.use(func(fd int) error {
		for n < len(p) {
			m, err := unix.Pread(fd, p[n:], off+int64(n))
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			if m == 0 {
				break
			}
			n += m
		}
		return nil
	})
	return n, hostErr(err)
}

func (f *hostFile) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	err := f.use(func(fd int) error {
		for n < len(p) {
			m, err := unix.Pwrite(fd, p[n:], off+int64(n))
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	return n, hostErr(err)
}

func (f *hostFile) Truncate(size int64) error {
	if f.ro {
		return linux.EROFS
	}
	return hostErr(f.use(func(fd int) error { return unix.Ftruncate(fd, size) }))
}

// Allocate implements Allocator with the host's fallocate.
func (f *hostFile) Allocate(mode int, off, n int64) error {
	if f.ro {
		return linux.EROFS
	}
	return hostErr(f.use(func(fd int) error { return unix.Fallocate(fd, uint32(mode), off, n) }))
}

func (f *hostFile) Sync() error {
	return hostErr(f.use(func(fd int) error { return unix.Fsync(fd) }))
}

// SetAttr changes the open file's attributes through its descriptor
// (fchmod, fchown, futimens, ftruncate).
func (f *hostFile) SetAttr(s SetAttr) error {
	if f.ro {
		return linux.EROFS
	}
	return hostErr(f.use(func(fd int) error {
		if s.Size != nil {
			if err := unix.Ftruncate(fd, *s.Size); err != nil {
				return err
			}
		}
		if s.Mode != nil {
			if err := unix.Fchmod(fd, *s.Mode&0o7777); err != nil {
				return err
			}
		}
		if s.UID != nil || s.GID != nil {
			uid, gid := -1, -1
			if s.UID != nil {
				uid = int(*s.UID)
			}
			if s.GID != nil {
				gid = int(*s.GID)
			}
			if err := unix.Fchown(fd, uid, gid); err != nil {
				return err
			}
		}
		if s.Atime != nil || s.Mtime != nil {
			ts := utimes(s)
			// futimens(fd, ts): utimensat with a NULL path.
			_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
			if e != 0 {
				return e
			}
		}
		return nil
	}))
}

// ReadDir lists the directory in the host's order (getdents64 on the
// descriptor; no path is looked up).
func (f *hostFile) ReadDir() ([]Dirent, error) {
	var out []Dirent
	err := f.use(func(fd int) error {
		if _, err := unix.Seek(fd, 0, 0); err != nil {
			return err
		}
		buf := make([]byte, 16<<10)
		for {
			n, err := unix.Getdents(fd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			if n <= 0 {
				return nil
			}
			for b := buf[:n]; len(b) >= direntHeader; {
				ino := binary.NativeEndian.Uint64(b[0:])
				reclen := int(binary.NativeEndian.Uint16(b[16:]))
				if reclen < direntHeader || reclen > len(b) {
					return unix.EIO
				}
				typ := b[18]
				name := b[direntHeader:reclen]
				if i := bytes.IndexByte(name, 0); i >= 0 {
					name = name[:i]
				}
				b = b[reclen:]
				if s := string(name); s != "." && s != ".." {
					if typ == DTUnknown {
						var st unix.Stat_t
						if unix.Fstatat(fd, s, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
							typ = DirentType(st.Mode)
						}
					}
					out = append(out, Dirent{Name: s, Ino: ino, Type: typ})
				}
			}
		}
	})
	return out, hostErr(err)
}

// hostFIFO is an open host FIFO: a stream that never blocks. A read with
// no data fails with EAGAIN (0 is the end: no writer); a write with a
// full pipe fails with EAGAIN.
type hostFIFO struct{ hostFD }

func (f *hostFIFO) Read(p []byte) (int, error) {
	n := 0
	err := f.use(func(fd int) error {
		var err error
		for {
			n, err = unix.Read(fd, p)
			if err != unix.EINTR {
				break
			}
		}
		return err
	})
	return max(n, 0), hostErr(err)
}

func (f *hostFIFO) Write(p []byte) (int, error) {
	n := 0
	err := f.use(func(fd int) error {
		var err error
		for {
			n, err = unix.Write(fd, p)
			if err != unix.EINTR {
				break
			}
		}
		return err
	})
	return max(n, 0), hostErr(err)
}

func (f *hostFIFO) ReadAt([]byte, int64) (int, error)  { return 0, linux.ESPIPE }
func (f *hostFIFO) WriteAt([]byte, int64) (int, error) { return 0, linux.ESPIPE }
func (f *hostFIFO) Truncate(int64) error               { return linux.EINVAL }
func (f *hostFIFO) Sync() error                        { return linux.EINVAL }
func (f *hostFIFO) ReadDir() ([]Dirent, error)         { return nil, linux.ENOTDIR }

var (
	_ Backend = (*Hostfs)(nil)
	_ Handle  = (*hostFile)(nil)
	_ Stream  = (*hostFIFO)(nil)
)
