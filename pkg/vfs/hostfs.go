package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Aferofs is a Backend over an afero.Fs. Over a host directory
// (NewHostfs: afero BasePathFs, wrapped in ReadOnlyFs for a read-only
// mount) it reports the host's inode numbers, links, owners and times; it
// never lets the host follow a symlink (the VFS resolves every link in the
// guest's namespace, and the last component is opened with O_NOFOLLOW).
type Aferofs struct {
	fs   afero.Fs
	base string // host directory for a host mount, "" otherwise
	ro   bool

	mu   sync.Mutex
	inos map[string]uint64 // synthesized inode numbers when the Fs has none
}

// NewHostfs returns a backend for the host directory dir.
func NewHostfs(dir string, readOnly bool) (*Aferofs, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "mount", Path: dir, Err: syscall.ENOTDIR}
	}
	var afs afero.Fs = afero.NewBasePathFs(afero.NewOsFs(), abs)
	if readOnly {
		afs = afero.NewReadOnlyFs(afs)
	}
	return &Aferofs{fs: afs, base: abs, ro: readOnly}, nil
}

// NewAferofs returns a backend for any afero.Fs (symlinks and hard links
// only where the Fs supports them).
func NewAferofs(afs afero.Fs) *Aferofs {
	_, ro := afs.(*afero.ReadOnlyFs)
	return &Aferofs{fs: afs, ro: ro}
}

// real returns the host path of name for a host mount.
func (a *Aferofs) real(name string) (string, error) {
	if a.base == "" {
		return "", linux.EPERM
	}
	return filepath.Join(a.base, filepath.FromSlash(path.Clean("/"+name))), nil
}

func (a *Aferofs) lstatInfo(name string) (fs.FileInfo, error) {
	if l, ok := a.fs.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, hostErr(err)
	}
	fi, err := a.fs.Stat(name)
	return fi, hostErr(err)
}

// attr converts a FileInfo, preferring the host's stat data.
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

// hostErr maps afero and host errors to errno.
func hostErr(err error) error {
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
	if a.base != "" {
		p, err := a.real(name)
		if err != nil {
			return "", err
		}
		t, err := os.Readlink(p)
		return t, hostErr(err)
	}
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
	o := osFlags(flags)
	if a.base != "" {
		o |= syscall.O_NOFOLLOW
	}
	f, err := a.fs.OpenFile(name, o, fs.FileMode(perm&0o777))
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, linux.ELOOP
		}
		return nil, hostErr(err)
	}
	return &aferoHandle{a: a, name: name, f: f}, nil
}

// Mkdir implements Backend.
func (a *Aferofs) Mkdir(name string, perm uint32) error {
	return hostErr(a.fs.Mkdir(name, fs.FileMode(perm&0o777)))
}

// Symlink implements Backend. The target is stored as given: it is
// resolved in the guest's namespace, never by the host.
func (a *Aferofs) Symlink(target, name string) error {
	if a.ro {
		return linux.EROFS
	}
	if a.base != "" {
		p, err := a.real(name)
		if err != nil {
			return err
		}
		return hostErr(os.Symlink(target, p))
	}
	if l, ok := a.fs.(afero.Linker); ok {
		return hostErr(l.SymlinkIfPossible(target, name))
	}
	return linux.EPERM
}

// Link implements Backend.
func (a *Aferofs) Link(oldname, newname string) error {
	if a.ro {
		return linux.EROFS
	}
	o, err := a.real(oldname)
	if err != nil {
		return err
	}
	n, err := a.real(newname)
	if err != nil {
		return err
	}
	// linkat(2) without AT_SYMLINK_FOLLOW: the host never follows oldname.
	return hostErr(unix.Linkat(unix.AT_FDCWD, o, unix.AT_FDCWD, n, 0))
}

// Unlink implements Backend.
func (a *Aferofs) Unlink(name string) error {
	if a.ro {
		return linux.EROFS
	}
	if a.base != "" {
		p, err := a.real(name)
		if err != nil {
			return err
		}
		return hostErr(unix.Unlink(p))
	}
	fi, err := a.lstatInfo(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return linux.EISDIR
	}
	return hostErr(a.fs.Remove(name))
}

// Rmdir implements Backend.
func (a *Aferofs) Rmdir(name string) error {
	if a.ro {
		return linux.EROFS
	}
	if a.base != "" {
		p, err := a.real(name)
		if err != nil {
			return err
		}
		return hostErr(unix.Rmdir(p))
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
	return hostErr(a.fs.Remove(name))
}

// Rename implements Backend.
func (a *Aferofs) Rename(oldname, newname string, exchange bool) error {
	if a.ro {
		return linux.EROFS
	}
	if exchange {
		o, err := a.real(oldname)
		if err != nil {
			return linux.EINVAL
		}
		n, err := a.real(newname)
		if err != nil {
			return linux.EINVAL
		}
		return hostErr(unix.Renameat2(unix.AT_FDCWD, o, unix.AT_FDCWD, n, unix.RENAME_EXCHANGE))
	}
	if a.base != "" {
		// rename(2) itself: os.Rename refuses to replace a directory.
		o, _ := a.real(oldname)
		n, _ := a.real(newname)
		return hostErr(unix.Rename(o, n))
	}
	return hostErr(a.fs.Rename(oldname, newname))
}

// SetAttr implements Backend.
func (a *Aferofs) SetAttr(name string, s SetAttr) error {
	if a.ro {
		return linux.EROFS
	}
	if s.Size != nil {
		if err := hostErr(a.truncate(name, *s.Size)); err != nil {
			return err
		}
	}
	if s.Mode != nil {
		if err := hostErr(a.fs.Chmod(name, unixPerm(*s.Mode))); err != nil {
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
		if p, err := a.real(name); err == nil {
			if err := hostErr(os.Lchown(p, uid, gid)); err != nil {
				return err
			}
		} else if err := hostErr(a.fs.Chown(name, uid, gid)); err != nil {
			return err
		}
	}
	if s.Atime != nil || s.Mtime != nil {
		if p, err := a.real(name); err == nil {
			ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
			if s.Atime != nil {
				ts[0] = unix.NsecToTimespec(s.Atime.UnixNano())
			}
			if s.Mtime != nil {
				ts[1] = unix.NsecToTimespec(s.Mtime.UnixNano())
			}
			return hostErr(unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
		}
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
		return hostErr(a.fs.Chtimes(name, at, mt))
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
	if a.base == "" {
		return Statfs{Type: tmpfsMagic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(a.base, &st); err != nil {
		return Statfs{}, hostErr(err)
	}
	out := Statfs{Type: int64(st.Type), Bsize: int64(st.Bsize), Blocks: st.Blocks, Bfree: st.Bfree, Bavail: st.Bavail,
		Files: st.Files, Ffree: st.Ffree, Namelen: int64(st.Namelen), Frsize: int64(st.Frsize), Flags: int64(st.Flags)}
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
	return n, hostErr(err)
}

func (h *aferoHandle) WriteAt(p []byte, off int64) (int, error) {
	n, err := h.f.WriteAt(p, off)
	return n, hostErr(err)
}

func (h *aferoHandle) Stat() (Attr, error) {
	fi, err := h.f.Stat()
	if err != nil {
		return Attr{}, hostErr(err)
	}
	return h.a.attr(h.name, fi), nil
}

func (h *aferoHandle) Truncate(size int64) error {
	if h.a.ro {
		return linux.EROFS
	}
	return hostErr(h.f.Truncate(size))
}
func (h *aferoHandle) Sync() error  { return hostErr(h.f.Sync()) }
func (h *aferoHandle) Close() error { return hostErr(h.f.Close()) }

// ReadDir lists the directory in the host's order.
func (h *aferoHandle) ReadDir() ([]Dirent, error) {
	if _, err := h.f.Seek(0, io.SeekStart); err != nil {
		return nil, hostErr(err)
	}
	fis, err := h.f.Readdir(-1)
	if err != nil {
		return nil, hostErr(err)
	}
	out := make([]Dirent, 0, len(fis))
	for _, fi := range fis {
		at := h.a.attr(path.Join(h.name, fi.Name()), fi)
		out = append(out, Dirent{Name: fi.Name(), Ino: at.Ino, Type: DirentType(at.Mode)})
	}
	return out, nil
}
