package vfs

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Hostfs is a Backend over a host directory (--mount). It never lets the
// host follow a symlink or a joined host path: it holds an O_PATH handle
// of the directory and resolves every name relative to it, opening the
// parent directory with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
// RESOLVE_NO_MAGICLINKS) (or, on kernels without openat2, a walk of
// O_NOFOLLOW opens, one component at a time), then acting on the last
// component with a *at system call that does not follow it. A symlink
// that another host process swaps into place meanwhile makes the
// operation fail (ELOOP or ENOTDIR); it is never followed.
//
// Files are opened with O_NONBLOCK: a FIFO is a non-blocking stream
// (reads with no data fail with EAGAIN, opening it for writing with no
// reader fails with ENXIO), so no host file can block the machine.
// Device nodes cannot be opened (EACCES, as on a nodev mount). It reports
// the host's inode numbers, links, owners and times.
type Hostfs struct {
	dir  string // absolute host path of the mount root (for /proc/mounts)
	root int    // O_PATH|O_DIRECTORY descriptor of dir
	ro   bool

	// noOpenat2 is set when openat2 does not work here (and by tests):
	// parents are then found by an O_NOFOLLOW walk.
	noOpenat2 atomic.Bool
}

// NewHostfs returns a backend for the host directory dir; readOnly
// refuses every change with EROFS.
func NewHostfs(dir string, readOnly bool) (*Hostfs, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(abs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "mount", Path: dir, Err: err}
	}
	h := &Hostfs{dir: abs, root: fd, ro: readOnly}
	runtime.AddCleanup(h, func(fd int) { unix.Close(fd) }, fd)
	// Opening the root itself always works where openat2 does; anything
	// else (ENOSYS before Linux 5.6, EPERM from a seccomp filter, EINVAL
	// for unknown resolve flags) means the walk.
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolveFlags}
	if pfd, err := unix.Openat2(fd, ".", how); err == nil {
		unix.Close(pfd)
	} else {
		h.noOpenat2.Store(true)
	}
	return h, nil
}

// Dir returns the host directory's absolute path.
func (h *Hostfs) Dir() string { return h.dir }

// hostErr maps a host error to errno.
func hostErr(err error) error {
	var errno syscall.Errno
	switch {
	case err == nil:
		return nil
	case errors.As(err, &errno):
		return linux.Errno(errno)
	}
	return linux.ErrnoFromError(err)
}

// unixAttr converts host stat data.
func unixAttr(st *unix.Stat_t) Attr {
	return Attr{Ino: st.Ino, Dev: st.Dev, Mode: st.Mode, Nlink: uint32(st.Nlink), UID: st.Uid, GID: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blocks: st.Blocks, Blksize: int32(st.Blksize),
		Atime: time.Unix(st.Atim.Unix()), Mtime: time.Unix(st.Mtim.Unix()), Ctime: time.Unix(st.Ctim.Unix())}
}

// statxAttr describes dir/name (name "" with AT_EMPTY_PATH: dir itself)
// with statx, for the birth time; without statx (before Linux 4.11), as
// fstatat does.
func statxAttr(dir int, name string, flags int) (Attr, error) {
	var sx unix.Statx_t
	err := unix.Statx(dir, name, flags|unix.AT_STATX_SYNC_AS_STAT, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &sx)
	if err == unix.ENOSYS {
		var st unix.Stat_t
		if err := unix.Fstatat(dir, name, &st, flags); err != nil {
			return Attr{}, hostErr(err)
		}
		return unixAttr(&st), nil
	}
	if err != nil {
		return Attr{}, hostErr(err)
	}
	ts := func(t unix.StatxTimestamp) time.Time { return time.Unix(t.Sec, int64(t.Nsec)) }
	a := Attr{Ino: sx.Ino, Dev: unix.Mkdev(sx.Dev_major, sx.Dev_minor), Mode: uint32(sx.Mode), Nlink: sx.Nlink,
		UID: sx.Uid, GID: sx.Gid, Rdev: unix.Mkdev(sx.Rdev_major, sx.Rdev_minor), Size: int64(sx.Size),
		Blocks: int64(sx.Blocks), Blksize: int32(sx.Blksize),
		Atime: ts(sx.Atime), Mtime: ts(sx.Mtime), Ctime: ts(sx.Ctime)}
	if sx.Mask&unix.STATX_BTIME != 0 {
		a.Btime = ts(sx.Btime)
	}
	return a, nil
}

// Lstat implements Backend.
func (h *Hostfs) Lstat(name string) (Attr, error) {
	p, err := h.parent(name)
	if err != nil {
		return Attr{}, err
	}
	defer p.release()
	return statxAttr(p.dir, p.name, unix.AT_SYMLINK_NOFOLLOW)
}

// Readlink implements Backend. The target is returned as stored: the VFS
// resolves it in the guest's namespace.
func (h *Hostfs) Readlink(name string) (string, error) {
	p, err := h.parent(name)
	if err != nil {
		return "", err
	}
	defer p.release()
	for size := 256; size <= PathMax; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(p.dir, p.name, buf)
		if err != nil {
			return "", hostErr(err)
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", linux.ENAMETOOLONG
}

// hostOpenFlags converts the Linux open flags a backend receives (access
// mode, O_CREAT, O_EXCL, O_TRUNC) to the host's, adding O_NOFOLLOW,
// O_NONBLOCK, O_NOCTTY and O_CLOEXEC.
func hostOpenFlags(f int) int {
	o := unix.O_RDONLY
	switch f & linux.O_ACCMODE {
	case linux.O_WRONLY:
		o = unix.O_WRONLY
	case linux.O_RDWR:
		o = unix.O_RDWR
	}
	for _, c := range [...][2]int{
		{linux.O_CREAT, unix.O_CREAT}, {linux.O_EXCL, unix.O_EXCL}, {linux.O_TRUNC, unix.O_TRUNC},
	} {
		if f&c[0] != 0 {
			o |= c[1]
		}
	}
	return o | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC | unix.O_LARGEFILE
}

// writes reports whether Linux open flags ask to change a file.
func writes(flags int) bool {
	return flags&linux.O_ACCMODE != linux.O_RDONLY || flags&(linux.O_CREAT|linux.O_TRUNC) != 0
}

// Open implements Backend. Regular files and directories get a handle
// with offsets; a FIFO is a non-blocking stream; device nodes are
// refused with EACCES and sockets with ENXIO.
func (h *Hostfs) Open(name string, flags int, perm uint32) (Handle, error) {
	p, err := h.parent(name)
	if err != nil {
		return nil, err
	}
	defer p.release()
	var st unix.Stat_t
	exists := unix.Fstatat(p.dir, p.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	if exists {
		if err := openable(st.Mode); err != nil {
			return nil, err
		}
	}
	if h.ro && writes(flags) && !(exists && st.Mode&unix.S_IFMT == unix.S_IFIFO && flags&(linux.O_CREAT|linux.O_TRUNC) == 0) {
		return nil, linux.EROFS
	}
	fd, err := unix.Openat(p.dir, p.name, hostOpenFlags(flags), perm&0o7777)
	if err != nil {
		return nil, hostErr(err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, hostErr(err)
	}
	if err := openable(st.Mode); err != nil {
		unix.Close(fd) // a device swapped in after the check
		return nil, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFIFO {
		return &hostFIFO{hostFD: hostFD{fd: fd}}, nil
	}
	// Regular files and directories never block: drop O_NONBLOCK so the
	// description behaves as an ordinary one.
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
		unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	return &hostFile{hostFD: hostFD{fd: fd}, ro: h.ro}, nil
}

// openable refuses to open host device nodes (EACCES, as a nodev mount
// does) and sockets (ENXIO, as Linux does).
func openable(mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR, unix.S_IFBLK:
		return linux.EACCES
	case unix.S_IFSOCK:
		return linux.ENXIO
	}
	return nil
}

// Mknod implements Mknoder: FIFOs, sockets and regular files. Device
// nodes are refused (EPERM): the mount is nodev, and a guest has no
// business leaving device nodes in a host directory.
func (h *Hostfs) Mknod(name string, mode uint32, dev uint64) error {
	if h.ro {
		return linux.EROFS
	}
	switch mode & ModeType {
	case ModeRegular, ModeFIFO, ModeSocket:
	default:
		return linux.EPERM
	}
	p, err := h.parent(name)
	if err != nil {
		return err
	}
	defer p.release()
	return hostErr(unix.Mknodat(p.dir, p.name, mode&(ModeType|ModePerm), 0))
}

// NoDev implements NoDever: host device nodes are never opened.
func (h *Hostfs) NoDev() bool { return true }

// Mkdir implements Backend.
func (h *Hostfs) Mkdir(name string, perm uint32) error {
	if h.ro {
		return linux.EROFS
	}
	p, err := h.parent(name)
	if err != nil {
		return err
	}
	defer p.release()
	return hostErr(unix.Mkdirat(p.dir, p.name, perm&0o7777))
}

// Symlink implements Backend. The target is stored as given: it is
// resolved in the guest's namespace, never by the host.
func (h *Hostfs) Symlink(target, name string) error {
	if h.ro {
		return linux.EROFS
	}
	p, err := h.parent(name)
	if err != nil {
		return err
	}
	defer p.release()
	return hostErr(unix.Symlinkat(target, p.dir, p.name))
}

// Link implements Backend (linkat without AT_SYMLINK_FOLLOW: the host
// never follows oldname).
func (h *Hostfs) Link(oldname, newname string) error {
	return h.twoParents(oldname, newname, func(o, n at) error {
		return unix.Linkat(o.dir, o.name, n.dir, n.name, 0)
	})
}

// twoParents calls f with the parents of oldname and newname, for the
// calls that name two paths.
func (h *Hostfs) twoParents(oldname, newname string, f func(o, n at) error) error {
	if h.ro {
		return linux.EROFS
	}
	o, err := h.parent(oldname)
	if err != nil {
		return err
	}
	defer o.release()
	n, err := h.parent(newname)
	if err != nil {
		return err
	}
	defer n.release()
	return hostErr(f(o, n))
}

// Unlink implements Backend.
func (h *Hostfs) Unlink(name string) error { return h.unlink(name, 0) }

// Rmdir implements Backend.
func (h *Hostfs) Rmdir(name string) error { return h.unlink(name, unix.AT_REMOVEDIR) }

func (h *Hostfs) unlink(name string, flags int) error {
	if h.ro {
		return linux.EROFS
	}
	p, err := h.parent(name)
	if err != nil {
		return err
	}
	defer p.release()
	return hostErr(unix.Unlinkat(p.dir, p.name, flags))
}

// Rename implements Backend with renameat2 (renameat where the host has
// no renameat2 and exchange is not asked for).
func (h *Hostfs) Rename(oldname, newname string, exchange bool) error {
	return h.twoParents(oldname, newname, func(o, n at) error {
		var flags uint
		if exchange {
			flags = unix.RENAME_EXCHANGE
		}
		err := unix.Renameat2(o.dir, o.name, n.dir, n.name, flags)
		if err == unix.ENOSYS && !exchange {
			err = unix.Renameat(o.dir, o.name, n.dir, n.name)
		}
		return err
	})
}

// SetAttr implements Backend. Nothing follows a symlink in the last
// component: the size is changed through an O_NOFOLLOW open, the mode by
// fchmodat2(AT_SYMLINK_NOFOLLOW) (or, without it, through an O_PATH
// handle), owners and times with AT_SYMLINK_NOFOLLOW.
func (h *Hostfs) SetAttr(name string, s SetAttr) error {
	if h.ro {
		return linux.EROFS
	}
	p, err := h.parent(name)
	if err != nil {
		return err
	}
	defer p.release()
	if s.Size != nil {
		fd, err := unix.Openat(p.dir, p.name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return hostErr(err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
			err = unix.EINVAL
		}
		if err == nil {
			err = unix.Ftruncate(fd, *s.Size)
		}
		unix.Close(fd)
		if err != nil {
			return hostErr(err)
		}
	}
	if s.Mode != nil {
		if err := chmodNofollow(p.dir, p.name, *s.Mode&0o7777); err != nil {
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
		if err := unix.Fchownat(p.dir, p.name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return hostErr(err)
		}
	}
	if s.Atime != nil || s.Mtime != nil {
		return hostErr(unix.UtimesNanoAt(p.dir, p.name, utimes(s), unix.AT_SYMLINK_NOFOLLOW))
	}
	return nil
}

// chmodNofollow changes the mode of dir/name without following a symlink
// there (EOPNOTSUPP on a symlink, as Linux).
func chmodNofollow(dir int, name string, mode uint32) error {
	err := unix.Fchmodat(dir, name, mode, unix.AT_SYMLINK_NOFOLLOW)
	if err != unix.EOPNOTSUPP {
		return hostErr(err)
	}
	// No fchmodat2 (before Linux 6.6), or a symlink: what glibc does,
	// through our own O_PATH descriptor of the file.
	fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return hostErr(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return hostErr(err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return linux.EOPNOTSUPP
	}
	return hostErr(unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode))
}

// utimes returns utimensat's times for s (UTIME_OMIT for a time not set).
func utimes(s SetAttr) []unix.Timespec {
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
	if s.Atime != nil {
		ts[0] = unix.NsecToTimespec(s.Atime.UnixNano())
	}
	if s.Mtime != nil {
		ts[1] = unix.NsecToTimespec(s.Mtime.UnixNano())
	}
	return ts
}

// Statfs implements Backend.
func (h *Hostfs) Statfs() (Statfs, error) {
	var st unix.Statfs_t
	err := unix.Fstatfs(h.root, &st)
	runtime.KeepAlive(h)
	if err != nil {
		return Statfs{}, hostErr(err)
	}
	out := Statfs{Type: int64(st.Type), Bsize: int64(st.Bsize), Blocks: st.Blocks, Bfree: st.Bfree, Bavail: st.Bavail,
		Files: st.Files, Ffree: st.Ffree, Namelen: int64(st.Namelen), Frsize: int64(st.Frsize), Flags: int64(st.Flags),
		Fsid: [2]int32{st.Fsid.Val[0], st.Fsid.Val[1]}}
	if h.ro {
		out.Flags |= stRdonly
	}
	return out, nil
}
