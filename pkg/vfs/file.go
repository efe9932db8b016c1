package vfs

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// File is an open file description: shared by every descriptor that dup
// produced, with one offset and one set of status flags.
type File struct {
	Path  string // canonical path at open time
	Flags int    // Linux O_* flags given at open

	v     *FS
	mount *Mount
	h     Handle

	mu  sync.Mutex
	off int64
	dir []Dirent // directory snapshot for getdents, taken at offset 0
}

func newFile(v *FS, p string, m *Mount, h Handle, flags int) *File {
	f := &File{Path: p, Flags: flags &^ (linux.O_CREAT | linux.O_EXCL | linux.O_TRUNC | linux.O_NOCTTY), v: v, mount: m, h: h}
	v.filesMu.Lock()
	if v.files == nil {
		v.files = map[*File]struct{}{}
	}
	v.files[f] = struct{}{}
	v.filesMu.Unlock()
	return f
}

// Mount returns the mount the file lives on.
func (f *File) Mount() *Mount { return f.mount }

// SetFlags replaces the status flags that fcntl(F_SETFL) may change.
func (f *File) SetFlags(flags int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Flags = flags
}

func (f *File) readable() bool {
	return f.Flags&linux.O_ACCMODE != linux.O_WRONLY && f.Flags&linux.O_PATH == 0
}

func (f *File) writable() bool {
	acc := f.Flags & linux.O_ACCMODE
	return (acc == linux.O_WRONLY || acc == linux.O_RDWR) && f.Flags&linux.O_PATH == 0
}

// Read reads at the current offset; (0, nil) is the end of the file.
func (f *File) Read(p []byte) (int, error) {
	if !f.readable() {
		return 0, linux.EBADF
	}
	if s, ok := f.h.(Stream); ok {
		return s.Read(p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.h.ReadAt(p, f.off)
	f.off += int64(n)
	return n, err
}

// Write writes at the current offset (at the end with O_APPEND).
func (f *File) Write(p []byte) (int, error) {
	if !f.writable() {
		return 0, linux.EBADF
	}
	if s, ok := f.h.(Stream); ok {
		return s.Write(p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Flags&linux.O_APPEND != 0 {
		a, err := f.h.Stat()
		if err != nil {
			return 0, err
		}
		f.off = a.Size
	}
	n, err := f.h.WriteAt(p, f.off)
	f.off += int64(n)
	return n, err
}

// ReadAt reads at off without moving the offset (pread).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if !f.readable() {
		return 0, linux.EBADF
	}
	if _, ok := f.h.(Stream); ok {
		return 0, linux.ESPIPE
	}
	return f.h.ReadAt(p, off)
}

// WriteAt writes at off without moving the offset (pwrite); with
// O_APPEND it writes at the end, as Linux does.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if !f.writable() {
		return 0, linux.EBADF
	}
	if _, ok := f.h.(Stream); ok {
		return 0, linux.ESPIPE
	}
	if f.Flags&linux.O_APPEND != 0 {
		f.mu.Lock()
		defer f.mu.Unlock()
		a, err := f.h.Stat()
		if err != nil {
			return 0, err
		}
		off = a.Size
	}
	return f.h.WriteAt(p, off)
}

// Seek moves the offset (lseek). On a directory the offset counts
// entries, as getdents64's d_off does.
func (f *File) Seek(off int64, whence int) (int64, error) {
	if _, ok := f.h.(Stream); ok {
		return 0, linux.ESPIPE
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		a, err := f.h.Stat()
		if err != nil {
			return 0, err
		}
		if a.IsDir() {
			return 0, linux.EINVAL
		}
		base = a.Size
	default:
		return 0, linux.EINVAL
	}
	n := base + off
	if n < 0 || (off > 0 && n < base) {
		return 0, linux.EINVAL
	}
	if n == 0 {
		f.dir = nil
	}
	f.off = n
	return n, nil
}

// Stat describes the open file.
func (f *File) Stat() (Attr, error) {
	a, err := f.h.Stat()
	if a.Dev == 0 {
		a.Dev = Makedev(0, uint32(f.mount.Dev))
	}
	return a, err
}

// SetAttr changes the open file's attributes (fchmod, fchown, futimens,
// ftruncate).
func (f *File) SetAttr(s SetAttr) error {
	if err := checkWritable(f.mount); err != nil {
		return err
	}
	if s.Size != nil {
		if !f.writable() {
			return linux.EINVAL
		}
		a, err := f.h.Stat()
		if err != nil {
			return err
		}
		if a.Mode&ModeType != ModeRegular {
			return linux.EINVAL
		}
		if err := f.h.Truncate(*s.Size); err != nil {
			return err
		}
		s.Size = nil
	}
	if s == (SetAttr{}) {
		return nil
	}
	if hs, ok := f.h.(interface{ SetAttr(SetAttr) error }); ok {
		return hs.SetAttr(s)
	}
	rel := f.Path
	if m, r := f.v.mountOf(f.Path); m == f.mount {
		rel = r
	}
	return f.mount.Backend.SetAttr(rel, s)
}

// Statfs describes the file system holding the file.
func (f *File) Statfs() (Statfs, error) { return mountStatfs(f.mount) }

// Sync flushes the file to its backing store.
func (f *File) Sync() error { return f.h.Sync() }

// IsTerminal reports whether the file is a terminal.
func (f *File) IsTerminal() bool {
	t, ok := f.h.(interface{ IsTerminal() bool })
	return ok && t.IsTerminal()
}

// Handle returns the backend's handle.
func (f *File) Handle() Handle { return f.h }

// Close closes the description.
func (f *File) Close() error {
	f.v.filesMu.Lock()
	delete(f.v.files, f)
	f.v.filesMu.Unlock()
	return f.h.Close()
}

// direntHeader is the size of linux_dirent64 before d_name.
const direntHeader = 19

// Getdents64 returns linux_dirent64 records that fit in size bytes,
// starting at the current offset, and advances the offset. "." and ".."
// come first; the order is stable for an open directory.
func (f *File) Getdents64(size int) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.h.Stat()
	if err != nil {
		return nil, err
	}
	if !a.IsDir() {
		return nil, linux.ENOTDIR
	}
	if f.dir == nil || f.off == 0 {
		ents, err := f.h.ReadDir()
		if err != nil {
			return nil, err
		}
		parent := a.Ino
		if f.Path != "/" {
			if pa, _, _, err := f.v.lstat(parentOf(f.Path)); err == nil {
				parent = pa.Ino
			}
		}
		f.dir = append([]Dirent{{Name: ".", Ino: a.Ino, Type: DTDir}, {Name: "..", Ino: parent, Type: DTDir}}, ents...)
	}
	var out []byte
	for f.off < int64(len(f.dir)) {
		e := f.dir[f.off]
		reclen := (direntHeader + len(e.Name) + 1 + 7) &^ 7
		if len(out)+reclen > size {
			if len(out) == 0 {
				return nil, linux.EINVAL
			}
			break
		}
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], e.Ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(f.off+1))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = e.Type
		copy(rec[direntHeader:], e.Name)
		out = append(out, rec...)
		f.off++
	}
	return out, nil
}

var _ io.ReadWriteSeeker = (*File)(nil)

// Allocator is a Handle that can allocate space for a file (fallocate).
type Allocator interface {
	// Allocate applies fallocate's mode (FALLOC_FL_* bits) to [off,
	// off+n).
	Allocate(mode int, off, n int64) error
}

// Allocate implements fallocate(2) on the open file: EOPNOTSUPP where its
// file system cannot.
func (f *File) Allocate(mode int, off, n int64) error {
	if !f.writable() {
		return linux.EBADF
	}
	if err := checkWritable(f.mount); err != nil {
		return err
	}
	a, ok := f.h.(Allocator)
	if !ok {
		return linux.EOPNOTSUPP
	}
	return a.Allocate(mode, off, n)
}
