package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Aferofs is a Backend over an afero.Fs (the built-in root image, or
// MountAfero). It reports the Fs's own stat data where it has any, and
// synthesizes stable inode numbers otherwise. Host directories are
// mounted with Hostfs, never through afero.
type Aferofs struct {
	fs afero.Fs
	ro bool

	mu   sync.Mutex
	inos map[string]uint64 // synthesized inode numbers when the Fs has none
}

// NewAferofs returns a backend for any afero.Fs (symlinks only where the
// Fs supports them; no hard links).
func NewAferofs(afs afero.Fs) *Aferofs {
	_, ro := afs.(*afero.ReadOnlyFs)
	return &Aferofs{fs: afs, ro: ro}
}

func (a *Aferofs) lstatInfo(name string) (fs.FileInfo, error) {
	if l, ok := a.fs.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, aferoErr(err)
	}
	fi, err := a.fs.Stat(name)
	return fi, aferoErr(err)
}

// attr converts a FileInfo, preferring the Fs's stat data.
func (a *Aferofs) attr(name string, fi fs.FileInfo) Attr {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return Attr{Ino: st.Ino, Dev: uint64(st.Dev), Mode: st.Mode, Nlink: uint32(st.Nlink), UID: st.Uid, GID: st.Gid,
			Rdev: uint64(st.Rdev), Size: st.Size, Blocks: st.Blocks, Blksize: int32(st.Blksize),
			Atime: time.Unix(st.Atim.Unix()), Mtime: time.Unix(st.Mtim.Unix()), Ctime: time.Unix(st.Ctim.Unix())}
	}
	at := Attr{Ino: a.ino(name), Mode: goMode(fi.Mode()), Nlink: 1, Size: fi.Size(), Blksize: 4096,
		Atime: fi.ModTime(), Mtime: fi.ModTime(), Ctime: fi.ModTime()}
	if fi.IsDir() {
		at.Nlink = 2
	}
	at.Blocks = (at.Size + 511) / 512
	return at
}

// ino returns a stable synthesized inode number for name.
func (a *Aferofs) ino(name string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inos == nil {
		a.inos = map[string]uint64{"/": 1}
	}
	n, ok := a.inos[name]
	if !ok {
		n = uint64(len(a.inos) + 1)
		a.inos[name] = n
	}
	return n
}

// goMode converts an fs.FileMode to st_mode.
func goMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	switch {
	case m.IsDir():
		mode |= ModeDir
	case m&fs.ModeSymlink != 0:
		mode |= ModeSymlink
	case m&fs.ModeCharDevice != 0:
		mode |= ModeChar
	case m&fs.ModeDevice != 0:
		mode |= ModeBlock
	case m&fs.ModeNamedPipe != 0:
		mode |= ModeFIFO
	case m&fs.ModeSocket != 0:
		mode |= ModeSocket
	default:
		mode |= ModeRegular
	}
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// aferoErr maps afero and host errors to errno.
func aferoErr(err error) error {
	var errno syscall.Errno
	switch {
	case err == nil:
		return nil
	case err == syscall.EPERM:
		return linux.EROFS // afero.ReadOnlyFs refuses with a bare EPERM
	case errors.As(err, &errno):
		// Before the sentinel checks: Go's Errno.Is calls ENOTEMPTY
		// fs.ErrExist.
		return linux.Errno(errno)
	case errors.Is(err, afero.ErrFileNotFound):
		return linux.ENOENT
	case errors.Is(err, afero.ErrFileExists):
		return linux.EEXIST
	case errors.Is(err, afero.ErrNoSymlink), errors.Is(err, afero.ErrNoReadlink):
		return linux.EPERM
	}
	return linux.ErrnoFromError(err)
}

// Lstat implements Backend.
func (a *Aferofs) Lstat(name string) (Attr, error) {
	fi, err := a.lstatInfo(name)
	if err != nil {
		return Attr{}, err
	}
	return a.attr(name, fi), nil
}

// Readlink implements Backend.
func (a *Aferofs) Readlink(name string) (string, error) {
	if r, ok := a.fs.(afero.LinkReader); ok {
		t, err := r.ReadlinkIfPossible(name)
		if err != nil {
			return "", linux.EINVAL
		}
		return t, nil
	}
	return "", linux.EINVAL
}

// osFlags converts Linux open flags to os flags.
func osFlags(f int) int {
	o := os.O_RDONLY
	switch f & linux.O_ACCMODE {
	case linux.O_WRONLY:
		o = os.O_WRONLY
	case linux.O_RDWR:
		o = os.O_RDWR
	}
	for _, c := range [...][2]int{
		{linux.O_CREAT, os.O_CREATE}, {linux.O_EXCL, os.O_EXCL}, {linux.O_TRUNC, os.O_TRUNC},
	} {
		if f&c[0] != 0 {
			o |= c[1]
		}
	}
	return o
}

// Open implements Backend.
func (a *Aferofs) Open(name string, flags int, perm uint32) (Handle, error) {
	f, err := a.fs.OpenFile(name, osFlags(flags), fs.FileMode(perm&0o777))
	if err != nil {
		return nil, aferoErr(err)
	}
	return &aferoHandle{a: a, name: name, f: f}, nil
}

// Mkdir implements Backend.
func (a *Aferofs) Mkdir(name string, perm uint32) error {
	return aferoErr(a.fs.Mkdir(name, fs.FileMode(perm&0o777)))
}

// Symlink implements Backend. The target is stored as given: it is
// resolved in the guest's namespace.
func (a *Aferofs) Symlink(target, name string) error {
	if a.ro {
		return linux.EROFS
	}
	if l, ok := a.fs.(afero.Linker); ok {
		return aferoErr(l.SymlinkIfPossible(target, name))
	}
	return linux.EPERM
}

// Link implements Backend: afero has no hard links.
func (a *Aferofs) Link(oldname, newname string) error {
	if a.ro {
		return linux.EROFS
	}
	return linux.EPERM
}

// Unlink implements Backend.
func (a *Aferofs) Unlink(name string) error {
	if a.ro {
		return linux.EROFS
	}
	fi, err := a.lstatInfo(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return linux.EISDIR
	}
	return aferoErr(a.fs.Remove(name))
}

// Rmdir implements Backend.
func (a *Aferofs) Rmdir(name string) error {
	if a.ro {
		return linux.EROFS
	}
	fi, err := a.lstatInfo(name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return linux.ENOTDIR
	}
	if ents, err := afero.ReadDir(a.fs, name); err == nil && len(ents) > 0 {
		return linux.ENOTEMPTY
	}
	return aferoErr(a.fs.Remove(name))
}

// Rename implements Backend (afero cannot exchange: EINVAL).
func (a *Aferofs) Rename(oldname, newname string, exchange bool) error {
	if a.ro {
		return linux.EROFS
	}
	if exchange {
		return linux.EINVAL
	}
	return aferoErr(a.fs.Rename(oldname, newname))
}

// SetAttr implements Backend.
func (a *Aferofs) SetAttr(name string, s SetAttr) error {
	if a.ro {
		return linux.EROFS
	}
	if s.Size != nil {
		if err := aferoErr(a.truncate(name, *s.Size)); err != nil {
			return err
		}
	}
	if s.Mode != nil {
		if err := aferoErr(a.fs.Chmod(name, unixPerm(*s.Mode))); err != nil {
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
		if err := aferoErr(a.fs.Chown(name, uid, gid)); err != nil {
			return err
		}
	}
	if s.Atime != nil || s.Mtime != nil {
		cur, err := a.Lstat(name)
		if err != nil {
			return err
		}
		at, mt := cur.Atime, cur.Mtime
		if s.Atime != nil {
			at = *s.Atime
		}
		if s.Mtime != nil {
			mt = *s.Mtime
		}
		return aferoErr(a.fs.Chtimes(name, at, mt))
	}
	return nil
}

// unixPerm converts permission bits (with setuid, setgid, sticky) to an
// fs.FileMode.
func unixPerm(m uint32) fs.FileMode {
	fm := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		fm |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}

func (a *Aferofs) truncate(name string, size int64) error {
	f, err := a.fs.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(size)
}

// Statfs implements Backend.
func (a *Aferofs) Statfs() (Statfs, error) {
	out := Statfs{Type: tmpfsMagic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}
	if a.ro {
		out.Flags |= stRdonly
	}
	return out, nil
}

// stRdonly is ST_RDONLY.
const stRdonly = 1

// aferoHandle is an open afero file.
type aferoHandle struct {
	a    *Aferofs
	name string
	f    afero.File
}

func (h *aferoHandle) ReadAt(p []byte, off int64) (int, error) {
	n, err := h.f.ReadAt(p, off)
	if err == io.EOF {
		err = nil
	}
	return n, aferoErr(err)
}

func (h *aferoHandle) WriteAt(p []byte, off int64) (int, error) {
	n, err := h.f.WriteAt(p, off)
	return n, aferoErr(err)
}

func (h *aferoHandle) Stat() (Attr, error) {
	fi, err := h.f.Stat()
	if err != nil {
		return Attr{}, aferoErr(err)
	}
	return h.a.attr(h.name, fi), nil
}

func (h *aferoHandle) Truncate(size int64) error {
	if h.a.ro {
		return linux.EROFS
	}
	return aferoErr(h.f.Truncate(size))
}
func (h *aferoHandle) Sync() error  { return aferoErr(h.f.Sync()) }
func (h *aferoHandle) Close() error { return aferoErr(h.f.Close()) }

// ReadDir lists the directory in the host's order.
func (h *aferoHandle) ReadDir() ([]Dirent, error) {
	if _, err := h.f.Seek(0, io.SeekStart); err != nil {
		return nil, aferoErr(err)
	}
	fis, err := h.f.Readdir(-1)
	if err != nil {
		return nil, aferoErr(err)
	}
	out := make([]Dirent, 0, len(fis))
	for _, fi := range fis {
		at := h.a.attr(path.Join(h.name, fi.Name()), fi)
		out = append(out, Dirent{Name: fi.Name(), Ino: at.Ino, Type: DirentType(at.Mode)})
	}
	return out, nil
}
