package kernel

import (
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// File system namespace system calls: everything that resolves a path.

func registerFSSyscalls(reg registerFn) {
	reg(linux.SysOpenat, syscallEntry{fn: sysOpenat})
	reg(linux.SysFstat, syscallEntry{fn: sysFstat})
	reg(linux.SysNewfstatat, syscallEntry{fn: sysNewfstatat})
	reg(linux.SysStatx, syscallEntry{fn: sysStatx})
	reg(linux.SysGetdents64, syscallEntry{fn: sysGetdents64})
	reg(linux.SysMkdirat, syscallEntry{fn: sysMkdirat})
	reg(linux.SysMknodat, syscallEntry{fn: sysMknodat, support: Partial, note: "device nodes only in a tmpfs (EPERM on a host mount); a device node opens the machine's device of that number"})
	reg(linux.SysUnlinkat, syscallEntry{fn: sysUnlinkat})
	reg(linux.SysRenameat, syscallEntry{fn: sysRenameat})
	reg(linux.SysRenameat2, syscallEntry{fn: sysRenameat2})
	reg(linux.SysLinkat, syscallEntry{fn: sysLinkat})
	reg(linux.SysSymlinkat, syscallEntry{fn: sysSymlinkat})
	reg(linux.SysReadlinkat, syscallEntry{fn: sysReadlinkat})
	reg(linux.SysFaccessat, syscallEntry{fn: sysFaccessat})
	reg(linux.SysFaccessat2, syscallEntry{fn: sysFaccessat2})
	reg(linux.SysFchmod, syscallEntry{fn: sysFchmod})
	reg(linux.SysFchmodat, syscallEntry{fn: sysFchmodat})
	reg(linux.SysFchmodat2, syscallEntry{fn: sysFchmodat2})
	reg(linux.SysFchown, syscallEntry{fn: sysFchown})
	reg(linux.SysFchownat, syscallEntry{fn: sysFchownat})
	reg(linux.SysFtruncate, syscallEntry{fn: sysFtruncate})
	reg(linux.SysTruncate, syscallEntry{fn: sysTruncate})
	reg(linux.SysFsync, syscallEntry{fn: sysFsync})
	reg(linux.SysFdatasync, syscallEntry{fn: sysFsync})
	reg(linux.SysSync, syscallEntry{fn: sysSync})
	reg(linux.SysChdir, syscallEntry{fn: sysChdir})
	reg(linux.SysFchdir, syscallEntry{fn: sysFchdir})
	reg(linux.SysUtimensat, syscallEntry{fn: sysUtimensat})
	reg(linux.SysStatfs, syscallEntry{fn: sysStatfs})
	reg(linux.SysFstatfs, syscallEntry{fn: sysFstatfs})
	reg(linux.SysMount, syscallEntry{fn: sysMount, support: Partial, note: "tmpfs only"})
	reg(linux.SysChroot, syscallEntry{fn: sysChroot})
	reg(linux.SysUmount2, syscallEntry{fn: sysUmount2})
}

// vctx identifies the task to the VFS: its process and root directory.
func (t *Task) vctx() *vfs.Ctx { return &vfs.Ctx{PID: t.PID, Root: t.root} }

// vfsFile returns the VFS file behind fd.
func (t *Task) vfsFile(fd int) (*vfs.File, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return nil, err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		return nil, linux.EINVAL
	}
	return vf, nil
}

// dirStart returns the canonical directory a path p given with dirfd is
// resolved from.
func (t *Task) dirStart(dirfd int, p string) (string, error) {
	if p != "" && p[0] == '/' {
		return "/", nil
	}
	if dirfd == linux.AT_FDCWD {
		return t.cwd, nil
	}
	of, err := t.fds.get(dirfd)
	if err != nil {
		return "", err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		return "", linux.ENOTDIR
	}
	if a, err := vf.Stat(); err != nil || !a.IsDir() {
		return "", linux.ENOTDIR
	}
	return vf.Path, nil
}

// pathAt reads a path argument and the directory it starts from. An empty
// path is ENOENT unless allowEmpty (AT_EMPTY_PATH).
func (t *Task) pathAt(dirfd int, addr uint64, allowEmpty bool) (start, p string, err error) {
	p, err = t.readString(addr, linux.PATH_MAX-1)
	if err != nil {
		return "", "", err
	}
	if p == "" {
		if !allowEmpty {
			return "", "", linux.ENOENT
		}
		// The call works on dirfd itself, which need not be a directory.
		if dirfd != linux.AT_FDCWD {
			if _, err := t.fds.get(dirfd); err != nil {
				return "", "", err
			}
		}
		return "", "", nil
	}
	start, err = t.dirStart(dirfd, p)
	return start, p, err
}

// Openat implements openat(2).
func sysOpenat(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	flags := a.int32(2)
	perm := uint32(a.uint32(3)) & 0o7777 &^ t.umask
	existed := true
	if t.cred.fsuid != 0 || t.cred.fsgid != 0 || !t.capable(capDacOverride) {
		// Not root's override: the permission bits of an existing file
		// decide before the open (which may truncate), and a new file
		// is given the process's ids.
		at, serr := t.m.fs.StatAt(t.vctx(), start, p, flags&linux.O_NOFOLLOW == 0)
		existed = serr == nil
		if existed {
			if err := t.mayOpen(at, flags); err != nil {
				return 0, err
			}
		}
	}
	f, node, err := t.m.fs.OpenNodeAt(t.vctx(), start, p, flags, perm)
	if err != nil {
		return 0, err
	}
	if f != nil {
		if err := t.checkOpen(f, flags, existed); err != nil {
			f.Close()
			return 0, err
		}
	}
	if node != nil {
		// A FIFO or a pipe reopened through /proc (sys_fifo.go).
		obj, err := t.openNode(node, flags)
		if err != nil {
			return 0, err
		}
		of := &openFile{f: obj, flags: flags &^ (linux.O_CREAT | linux.O_EXCL | linux.O_NOCTTY | linux.O_TRUNC | linux.O_CLOEXEC)}
		if pe, ok := obj.(*pipeEnd); ok {
			pe.of = of
		}
		fd, err := t.fds.installOpen(of, 0, flags&linux.O_CLOEXEC != 0)
		if err != nil {
			obj.Close()
			return 0, err
		}
		return uint64(fd), nil
	}
	fd, err := t.fds.install(f, f.Flags&^linux.O_CLOEXEC, 0, flags&linux.O_CLOEXEC != 0)
	if err != nil {
		f.Close()
		return 0, err
	}
	return uint64(fd), nil
}

// mayOpen checks the permission bits of an existing file for open flags
// (a process without CAP_DAC_OVERRIDE).
func (t *Task) mayOpen(a vfs.Attr, flags int) error {
	if flags&linux.O_PATH != 0 || t.capable(capDacOverride) {
		return nil
	}
	var want uint32
	if acc := flags & linux.O_ACCMODE; acc != linux.O_WRONLY {
		want |= vfs.AccessR
	}
	if acc := flags & linux.O_ACCMODE; acc != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
		want |= vfs.AccessW
	}
	return t.mayAccess(a, want, false)
}

// checkOpen applies what an open decides beyond the VFS: a file the
// process just created is owned by its file-system ids, and /dev/tty is
// the controlling terminal, ENXIO without one.
func (t *Task) checkOpen(f *vfs.File, flags int, existed bool) error {
	a, err := f.Stat()
	if err != nil {
		return fileErr(err)
	}
	if a.Mode&vfs.ModeType == vfs.ModeChar && a.Rdev == vfs.Makedev(5, 0) && !t.ctty && flags&linux.O_PATH == 0 {
		return linux.ENXIO
	}
	if !existed {
		_ = t.ownNew(f)
	}
	return nil
}

// ownNew gives a file the process created the process's file-system ids
// as owner (the VFS creates files as root). A host file system may
// refuse to give a file away; the file then keeps the owner the host
// gave it, and the error is the caller's to ignore.
func (t *Task) ownNew(f *vfs.File) error {
	uid, gid := t.cred.fsuid, t.cred.fsgid
	if uid == 0 && gid == 0 {
		return nil
	}
	return f.SetAttr(vfs.SetAttr{UID: &uid, GID: &gid})
}

// ownNewAt is ownNew for a file created by name.
func (t *Task) ownNewAt(start, p string) error {
	uid, gid := t.cred.fsuid, t.cred.fsgid
	if uid == 0 && gid == 0 {
		return nil
	}
	return t.m.fs.SetAttrAt(t.vctx(), start, p, false, vfs.SetAttr{UID: &uid, GID: &gid})
}

// Mknodat implements mknodat(2): regular files, FIFOs and socket nodes
// anywhere, device nodes in a tmpfs (every guest is root).
func sysMknodat(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	mode := uint32(a.uint32(2))
	perm := mode & 0o7777 &^ t.umask
	if typ := mode & vfs.ModeType; (typ == vfs.ModeChar || typ == vfs.ModeBlock) && !t.capable(capMknod) {
		return 0, linux.EPERM
	}
	if err := t.m.fs.MknodAt(t.vctx(), start, p, mode&vfs.ModeType|perm, a[3]); err != nil {
		return 0, err
	}
	_ = t.ownNewAt(start, p)
	return 0, nil
}

// fileAttr describes any open file: a VFS file by its attributes, other
// files (console, pipes) by their fs.FileInfo.
func (t *Task) fileAttr(fd int) (vfs.Attr, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return vfs.Attr{}, err
	}
	if vf, ok := of.f.(*vfs.File); ok {
		return vf.Stat()
	}
	st, ok := of.f.(statter)
	if !ok {
		return vfs.Attr{}, linux.EBADF
	}
	fi, err := st.Stat()
	if err != nil {
		return vfs.Attr{}, fileErr(err)
	}
	return infoAttr(fi), nil
}

// infoAttr converts an fs.FileInfo of a non-VFS file.
func infoAttr(fi fs.FileInfo) vfs.Attr {
	if a, ok := fi.Sys().(*vfs.Attr); ok {
		return *a
	}
	m := fi.Mode()
	mode := uint32(m.Perm())
	switch {
	case m.IsDir():
		mode |= vfs.ModeDir
	case m&fs.ModeNamedPipe != 0:
		mode |= vfs.ModeFIFO
	case m&fs.ModeSocket != 0:
		mode |= vfs.ModeSocket
	case m&fs.ModeCharDevice != 0:
		mode |= vfs.ModeChar
	case m&fs.ModeDevice != 0:
		mode |= vfs.ModeBlock
	default:
		mode |= vfs.ModeRegular
	}
	var t time.Time
	if !fi.ModTime().IsZero() {
		t = fi.ModTime()
	}
	// No tty rdev: glibc line-buffers any stream whose rdev is a tty's.
	return vfs.Attr{Mode: mode, Nlink: 1, Size: fi.Size(), Blksize: 4096, Atime: t, Mtime: t, Ctime: t}
}

// timespecOf converts a time to seconds and nanoseconds (0 for the zero
// time).
func timespecOf(t time.Time) (int64, int64) {
	if t.IsZero() {
		return 0, 0
	}
	return t.Unix(), int64(t.Nanosecond())
}

// writeAttr stores a as struct stat at addr.
func (t *Task) writeAttr(addr uint64, a vfs.Attr) error {
	st := linux.Stat{Dev: a.Dev, Ino: a.Ino, Mode: a.Mode, Nlink: a.Nlink, Uid: a.UID, Gid: a.GID, Rdev: a.Rdev,
		Size: a.Size, Blksize: a.Blksize, Blocks: a.Blocks}
	st.Atime, st.AtimeNsec = timespecOf(a.Atime)
	st.Mtime, st.MtimeNsec = timespecOf(a.Mtime)
	st.Ctime, st.CtimeNsec = timespecOf(a.Ctime)
	b, _ := st.MarshalBinary()
	return t.copyOut(addr, b)
}

// Fstat implements fstat(2).
func sysFstat(t *Task, a *args) (uint64, error) {
	at, err := t.fileAttr(a.int32(0))
	if err != nil {
		return 0, err
	}
	return 0, t.writeAttr(a[1], at)
}

// statAt implements the path lookup of newfstatat and statx.
func (t *Task) statAt(dirfd int, addr uint64, flags int) (vfs.Attr, error) {
	start, p, err := t.pathAt(dirfd, addr, flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return vfs.Attr{}, err
	}
	if p == "" {
		if dirfd == linux.AT_FDCWD {
			return t.m.fs.StatAt(t.vctx(), t.cwd, ".", true)
		}
		return t.fileAttr(dirfd)
	}
	return t.m.fs.StatAt(t.vctx(), start, p, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
}

// Newfstatat implements newfstatat(2).
func sysNewfstatat(t *Task, a *args) (uint64, error) {
	flags := a.int32(3)
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH|linux.AT_NO_AUTOMOUNT) != 0 {
		return 0, linux.EINVAL
	}
	at, err := t.statAt(a.int32(0), a[1], flags)
	if err != nil {
		return 0, err
	}
	return 0, t.writeAttr(a[2], at)
}

func statxTime(t time.Time) linux.StatxTimestamp {
	s, ns := timespecOf(t)
	return linux.StatxTimestamp{Sec: s, Nsec: uint32(ns)}
}

// Statx implements statx(2).
func sysStatx(t *Task, a *args) (uint64, error) {
	flags := a.int32(2)
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH|linux.AT_NO_AUTOMOUNT|linux.AT_STATX_SYNC_TYPE) != 0 ||
		flags&linux.AT_STATX_SYNC_TYPE == linux.AT_STATX_SYNC_TYPE || a.uint32(3)&0x80000000 != 0 {
		return 0, linux.EINVAL
	}
	at, err := t.statAt(a.int32(0), a[1], flags)
	if err != nil {
		return 0, err
	}
	sx := linux.Statx{
		Mask:    linux.STATX_BASIC_STATS,
		Blksize: uint32(at.Blksize), Nlink: at.Nlink, Uid: at.UID, Gid: at.GID, Mode: uint16(at.Mode),
		Ino: at.Ino, Size: uint64(at.Size), Blocks: uint64(at.Blocks),
		Atime: statxTime(at.Atime), Mtime: statxTime(at.Mtime), Ctime: statxTime(at.Ctime),
		RdevMajor: uint32(at.Rdev>>8&0xfff | at.Rdev>>32&^0xfff), RdevMinor: uint32(at.Rdev&0xff | at.Rdev>>12&^0xff),
		DevMajor: uint32(at.Dev>>8&0xfff | at.Dev>>32&^0xfff), DevMinor: uint32(at.Dev&0xff | at.Dev>>12&^0xff),
	}
	if !at.Btime.IsZero() {
		sx.Mask |= linux.STATX_BTIME
		sx.Btime = statxTime(at.Btime)
	}
	b, _ := sx.MarshalBinary()
	return 0, t.copyOut(a[4], b)
}

// Getdents64 implements getdents64(2).
func sysGetdents64(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		return 0, linux.ENOTDIR
	}
	size := a[2]
	if size > 1<<20 {
		size = 1 << 20
	}
	if !t.as.check(a[1], size, cpu.ProtWrite) {
		return 0, linux.EFAULT
	}
	b, err := vf.Getdents64(int(size))
	if err != nil {
		return 0, err
	}
	return uint64(len(b)), t.copyOut(a[1], b)
}

// Mkdirat implements mkdirat(2).
func sysMkdirat(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	if err := t.m.fs.MkdirAt(t.vctx(), start, p, uint32(a.uint32(2))&0o7777&^t.umask); err != nil {
		return 0, err
	}
	_ = t.ownNewAt(start, p)
	return 0, nil
}

// Unlinkat implements unlinkat(2).
func sysUnlinkat(t *Task, a *args) (uint64, error) {
	flags := a.int32(2)
	if flags&^linux.AT_REMOVEDIR != 0 {
		return 0, linux.EINVAL
	}
	start, p, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	return 0, t.m.fs.UnlinkAt(t.vctx(), start, p, flags&linux.AT_REMOVEDIR != 0)
}

// Renameat implements renameat(2).
func sysRenameat(t *Task, a *args) (uint64, error) {
	return sysRenameat2(t, &args{a[0], a[1], a[2], a[3], 0})
}

// Renameat2 implements renameat2(2).
func sysRenameat2(t *Task, a *args) (uint64, error) {
	ostart, op, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	nstart, np, err := t.pathAt(a.int32(2), a[3], false)
	if err != nil {
		return 0, err
	}
	return 0, t.m.fs.RenameAt(t.vctx(), ostart, op, nstart, np, uint(a.uint32(4)))
}

// Linkat implements linkat(2).
func sysLinkat(t *Task, a *args) (uint64, error) {
	flags := a.int32(4)
	if flags&^(linux.AT_SYMLINK_FOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, linux.EINVAL
	}
	ostart, op, err := t.pathAt(a.int32(0), a[1], flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	nstart, np, err := t.pathAt(a.int32(2), a[3], false)
	if err != nil {
		return 0, err
	}
	if op == "" {
		// AT_EMPTY_PATH: link the file open at olddirfd.
		vf, err := t.vfsFile(a.int32(0))
		if err != nil {
			return 0, linux.ENOENT
		}
		ostart, op = vf.Path, "."
	}
	return 0, t.m.fs.LinkAt(t.vctx(), ostart, op, nstart, np, flags&linux.AT_SYMLINK_FOLLOW != 0)
}

// Symlinkat implements symlinkat(2).
func sysSymlinkat(t *Task, a *args) (uint64, error) {
	target, err := t.readPath(a[0])
	if err != nil {
		return 0, err
	}
	start, p, err := t.pathAt(a.int32(1), a[2], false)
	if err != nil {
		return 0, err
	}
	if err := t.m.fs.SymlinkAt(t.vctx(), target, start, p); err != nil {
		return 0, err
	}
	_ = t.ownNewAt(start, p)
	return 0, nil
}

// Readlinkat implements readlinkat(2).
func sysReadlinkat(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	if int64(a[3]) <= 0 || a[3] > 1<<31 {
		return 0, linux.EINVAL
	}
	target, err := t.m.fs.ReadlinkAt(t.vctx(), start, p)
	if err != nil {
		return 0, err
	}
	b := []byte(target)
	if uint64(len(b)) > a[3] {
		b = b[:a[3]]
	}
	return uint64(len(b)), t.copyOut(a[2], b)
}

// Faccessat implements faccessat(2).
func sysFaccessat(t *Task, a *args) (uint64, error) {
	return sysFaccessat2(t, &args{a[0], a[1], a[2], 0})
}

// Faccessat2 implements faccessat2(2).
func sysFaccessat2(t *Task, a *args) (uint64, error) {
	flags := a.int32(3)
	if flags&^(linux.AT_EACCESS|linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 || a.uint32(2)&^7 != 0 {
		return 0, linux.EINVAL
	}
	start, p, err := t.pathAt(a.int32(0), a[1], flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	if p == "" {
		vf, err := t.vfsFile(a.int32(0))
		if err != nil {
			return 0, err
		}
		start, p = vf.Path, "."
	}
	mode := uint32(a.uint32(2))
	follow := flags&linux.AT_SYMLINK_NOFOLLOW == 0
	// Existence, read-only mounts and root's rules first; then the
	// permission bits, for the real ids (or, AT_EACCESS, the effective
	// ones), unless those are root's.
	if err := t.m.fs.AccessAt(t.vctx(), start, p, mode, follow, 0, 0); err != nil || mode == 0 {
		return 0, err
	}
	real := flags&linux.AT_EACCESS == 0
	if real && t.cred.ruid == 0 || !real && t.capable(capDacOverride) {
		return 0, nil
	}
	at, err := t.m.fs.StatAt(t.vctx(), start, p, follow)
	if err != nil {
		return 0, err
	}
	return 0, t.mayAccess(at, mode, real)
}

// setFileAttr changes attributes of an open file.
func (t *Task) setFileAttr(fd int, s vfs.SetAttr) error {
	of, err := t.fds.get(fd)
	if err != nil {
		return err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		if s.Size != nil {
			return linux.EINVAL
		}
		return nil // a pipe or the console: nothing persistent to change
	}
	return vf.SetAttr(s)
}

// Fchmod implements fchmod(2).
func sysFchmod(t *Task, a *args) (uint64, error) {
	mode := uint32(a.uint32(1)) & 0o7777
	return 0, t.setFileAttr(a.int32(0), vfs.SetAttr{Mode: &mode})
}

// Fchmodat implements fchmodat(2).
func sysFchmodat(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(a.int32(0), a[1], false)
	if err != nil {
		return 0, err
	}
	mode := uint32(a.uint32(2)) & 0o7777
	return 0, t.m.fs.SetAttrAt(t.vctx(), start, p, true, vfs.SetAttr{Mode: &mode})
}

// Fchmodat2 implements fchmodat2(2): fchmodat with AT_SYMLINK_NOFOLLOW
// (EOPNOTSUPP on a symlink, whose mode Linux never changes) and
// AT_EMPTY_PATH.
func sysFchmodat2(t *Task, a *args) (uint64, error) {
	flags := a.int32(3)
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, linux.EINVAL
	}
	start, p, err := t.pathAt(a.int32(0), a[1], flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	mode := uint32(a.uint32(2)) & 0o7777
	set := vfs.SetAttr{Mode: &mode}
	if p == "" {
		if a.int32(0) == linux.AT_FDCWD {
			return 0, t.m.fs.SetAttrAt(t.vctx(), t.cwd, ".", true, set)
		}
		return 0, t.setFileAttr(a.int32(0), set)
	}
	follow := flags&linux.AT_SYMLINK_NOFOLLOW == 0
	if !follow {
		at, err := t.m.fs.StatAt(t.vctx(), start, p, false)
		if err != nil {
			return 0, err
		}
		if at.Mode&vfs.ModeType == vfs.ModeSymlink {
			return 0, linux.EOPNOTSUPP
		}
	}
	return 0, t.m.fs.SetAttrAt(t.vctx(), start, p, follow, set)
}

// owner decodes chown's uid and gid arguments (-1 keeps the value).
func owner(uid, gid uint64) vfs.SetAttr {
	var s vfs.SetAttr
	if u := uint32(uid); u != ^uint32(0) {
		s.UID = &u
	}
	if g := uint32(gid); g != ^uint32(0) {
		s.GID = &g
	}
	return s
}

// Fchown implements fchown(2).
func sysFchown(t *Task, a *args) (uint64, error) {
	return 0, t.setFileAttr(a.int32(0), owner(a[1], a[2]))
}

// Fchownat implements fchownat(2).
func sysFchownat(t *Task, a *args) (uint64, error) {
	flags := a.int32(4)
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, linux.EINVAL
	}
	start, p, err := t.pathAt(a.int32(0), a[1], flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	if p == "" {
		if a.int32(0) == linux.AT_FDCWD {
			return 0, t.m.fs.SetAttrAt(t.vctx(), t.cwd, ".", true, owner(a[2], a[3]))
		}
		return 0, t.setFileAttr(a.int32(0), owner(a[2], a[3]))
	}
	return 0, t.m.fs.SetAttrAt(t.vctx(), start, p, flags&linux.AT_SYMLINK_NOFOLLOW == 0, owner(a[2], a[3]))
}

// Ftruncate implements ftruncate(2).
func sysFtruncate(t *Task, a *args) (uint64, error) {
	size := a.int(1)
	if size < 0 {
		return 0, linux.EINVAL
	}
	if _, err := t.fds.get(a.int32(0)); err != nil {
		return 0, err
	}
	return 0, t.setFileAttr(a.int32(0), vfs.SetAttr{Size: &size})
}

// Truncate implements truncate(2).
func sysTruncate(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(linux.AT_FDCWD, a[0], false)
	if err != nil {
		return 0, err
	}
	size := a.int(1)
	if size < 0 {
		return 0, linux.EINVAL
	}
	return 0, t.m.fs.SetAttrAt(t.vctx(), start, p, true, vfs.SetAttr{Size: &size})
}

// Fsync implements fsync(2) and fdatasync(2).
func sysFsync(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		return 0, linux.EINVAL
	}
	return 0, fileErr(vf.Sync())
}

// Sync implements sync(2): the VFS writes through, so there is nothing to
// flush.
func sysSync(t *Task, a *args) (uint64, error) { return 0, nil }

// Chdir implements chdir(2).
func sysChdir(t *Task, a *args) (uint64, error) {
	dir, err := t.searchDir(a[0])
	if err != nil {
		return 0, err
	}
	t.cwd = dir
	return 0, nil
}

// searchDir resolves the path at addr to a directory the caller may
// search (chdir and chroot).
func (t *Task) searchDir(addr uint64) (string, error) {
	start, p, err := t.pathAt(linux.AT_FDCWD, addr, false)
	if err != nil {
		return "", err
	}
	dir, at, err := t.m.fs.Resolve(t.vctx(), start, p)
	if err != nil {
		return "", err
	}
	if !at.IsDir() {
		return "", linux.ENOTDIR
	}
	return dir, t.mayAccess(at, vfs.AccessX, false)
}

// Fchdir implements fchdir(2).
func sysFchdir(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		return 0, linux.ENOTDIR
	}
	at, err := vf.Stat()
	if err != nil {
		return 0, fileErr(err)
	}
	if !at.IsDir() {
		return 0, linux.ENOTDIR
	}
	t.cwd = vf.Path
	return 0, nil
}

// Chroot implements chroot(2): the directory becomes the process's root,
// where absolute paths start and ".." stops (the working directory stays
// where it is, as on Linux).
func sysChroot(t *Task, a *args) (uint64, error) {
	dir, err := t.searchDir(a[0])
	if err != nil {
		return 0, err
	}
	if !t.capable(capSysChroot) {
		return 0, linux.EPERM
	}
	if dir == "/" {
		dir = ""
	}
	t.root = dir
	return 0, nil
}

// utimensat's special nanosecond values.
const (
	utimeNow  = 1<<30 - 1
	utimeOmit = 1<<30 - 2
)

// Utimensat implements utimensat(2) (and futimens, a NULL path).
func sysUtimensat(t *Task, a *args) (uint64, error) {
	flags := a.int32(3)
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, linux.EINVAL
	}
	now := t.m.wallTime()
	s := vfs.SetAttr{Atime: &now, Mtime: &now}
	if a[2] != 0 {
		var raw [32]byte
		if err := t.copyIn(a[2], raw[:]); err != nil {
			return 0, err
		}
		var ts [2]linux.Timespec
		ts[0].UnmarshalBinary(raw[:16])
		ts[1].UnmarshalBinary(raw[16:])
		times := [2]*time.Time{}
		for i, v := range ts {
			switch {
			case v.Nsec == utimeNow:
				times[i] = &now
			case v.Nsec == utimeOmit:
			case v.Nsec < 0 || v.Nsec >= 1e9:
				return 0, linux.EINVAL
			default:
				tv := time.Unix(v.Sec, v.Nsec)
				times[i] = &tv
			}
		}
		s.Atime, s.Mtime = times[0], times[1]
		if s.Atime == nil && s.Mtime == nil {
			return 0, nil
		}
	}
	if a[1] == 0 {
		if a.int32(0) == linux.AT_FDCWD {
			return 0, linux.EFAULT
		}
		return 0, t.setFileAttr(a.int32(0), s)
	}
	start, p, err := t.pathAt(a.int32(0), a[1], flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return 0, err
	}
	if p == "" {
		return 0, t.setFileAttr(a.int32(0), s)
	}
	return 0, t.m.fs.SetAttrAt(t.vctx(), start, p, flags&linux.AT_SYMLINK_NOFOLLOW == 0, s)
}

// sizeofStatfs is sizeof(struct statfs) on arm64.
const sizeofStatfs = 120

// writeStatfs stores st as struct statfs at addr.
func (t *Task) writeStatfs(addr uint64, st vfs.Statfs) error {
	var b [sizeofStatfs]byte
	put64(b[0:], uint64(st.Type))
	put64(b[8:], uint64(st.Bsize))
	put64(b[16:], st.Blocks)
	put64(b[24:], st.Bfree)
	put64(b[32:], st.Bavail)
	put64(b[40:], st.Files)
	put64(b[48:], st.Ffree)
	put32(b[56:], uint32(st.Fsid[0]))
	put32(b[60:], uint32(st.Fsid[1]))
	put64(b[64:], uint64(st.Namelen))
	put64(b[72:], uint64(st.Frsize))
	put64(b[80:], uint64(st.Flags)|stValid)
	return t.copyOut(addr, b[:])
}

// stValid is ST_VALID: f_flags is meaningful.
const stValid = 0x20

// Statfs implements statfs(2).
func sysStatfs(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(linux.AT_FDCWD, a[0], false)
	if err != nil {
		return 0, err
	}
	st, err := t.m.fs.StatfsAt(t.vctx(), start, p)
	if err != nil {
		return 0, err
	}
	return 0, t.writeStatfs(a[1], st)
}

// Fstatfs implements fstatfs(2).
func sysFstatfs(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		// Pipes and the console live on pseudo file systems.
		return 0, t.writeStatfs(a[1], vfs.Statfs{Type: 0x50495045, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax})
	}
	st, err := vf.Statfs()
	if err != nil {
		return 0, err
	}
	return 0, t.writeStatfs(a[1], st)
}

// mount(2) flags.
const (
	msRdonly  = 0x1
	msRemount = 0x20
	msBind    = 0x1000
	msMove    = 0x2000
)

// Mount implements mount(2) for tmpfs.
func sysMount(t *Task, a *args) (uint64, error) {
	start, p, err := t.pathAt(linux.AT_FDCWD, a[1], false)
	if err != nil {
		return 0, err
	}
	dir, at, err := t.m.fs.Resolve(t.vctx(), start, p)
	if err != nil {
		return 0, err
	}
	if !at.IsDir() {
		return 0, linux.ENOTDIR
	}
	flags := a[3]
	if flags&(msRemount|msBind|msMove) != 0 {
		return 0, linux.EINVAL
	}
	if a[2] == 0 {
		return 0, linux.EINVAL
	}
	typ, err := t.readString(a[2], 4095)
	if err != nil {
		return 0, err
	}
	if typ != "tmpfs" {
		return 0, linux.ENODEV
	}
	source := typ
	if a[0] != 0 {
		if source, err = t.readString(a[0], 4095); err != nil {
			return 0, err
		}
	}
	perm, size := uint32(0o1777), uint64(0)
	if a[4] != 0 {
		data, err := t.readString(a[4], pageSize-1)
		if err != nil {
			return 0, err
		}
		if perm, size, err = tmpfsOptions(data, t.m.ram.Size()); err != nil {
			return 0, err
		}
	}
	return 0, t.m.fs.Mount(dir, typ, source, vfs.NewTmpfs(t.m.fs.Now, perm, t.m.ram, size), flags&msRdonly != 0)
}

// tmpfsOptions parses tmpfs's mount data: size=N[kmg%], mode=OCTAL (other
// options, such as uid, gid and nr_inodes, are accepted and ignored).
func tmpfsOptions(data string, ram uint64) (perm uint32, size uint64, err error) {
	perm = 0o1777
	for _, opt := range strings.Split(data, ",") {
		k, v, _ := strings.Cut(opt, "=")
		switch k {
		case "size":
			if size, err = parseSize(v, ram); err != nil || size < pageSize {
				return 0, 0, linux.EINVAL
			}
		case "mode":
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m > 0o7777 {
				return 0, 0, linux.EINVAL
			}
			perm = uint32(m)
		}
	}
	return perm, size, nil
}

// parseSize parses a size as tmpfs's size= option does: bytes with an
// optional k, m, g or t suffix, or a percentage of RAM.
func parseSize(v string, ram uint64) (uint64, error) {
	if strings.HasSuffix(v, "%") {
		p, err := strconv.ParseUint(strings.TrimSuffix(v, "%"), 10, 64)
		if err != nil || p == 0 || p > 100 {
			return 0, linux.EINVAL
		}
		return ram / 100 * p, nil
	}
	mult := uint64(1)
	if n := len(v); n > 0 {
		switch v[n-1] | 0x20 {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			v = v[:n-1]
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > (1<<62)/mult {
		return 0, linux.EINVAL
	}
	return n * mult, nil
}

// Umount2 implements umount2(2).
func sysUmount2(t *Task, a *args) (uint64, error) {
	const umountNofollow = 8
	if a[1]&^(1|2|4|umountNofollow) != 0 {
		return 0, linux.EINVAL
	}
	start, p, err := t.pathAt(linux.AT_FDCWD, a[0], false)
	if err != nil {
		return 0, err
	}
	dir, _, err := t.m.fs.Resolve(t.vctx(), start, p)
	if err != nil {
		return 0, err
	}
	return 0, t.m.fs.Unmount(dir)
}
