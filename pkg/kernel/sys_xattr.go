package kernel

import (
	"errors"
	"io"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Extended attributes (kept by tmpfs, the host's on host mounts,
// EOPNOTSUPP elsewhere), fallocate, copy_file_range and the advisory
// calls about caching (fadvise64, sync_file_range), which the VFS, writing
// through, has nothing to do for.

func registerXattrSyscalls(reg registerFn) {
	xnote := "tmpfs keeps the user, trusted and security namespaces (not POSIX ACLs); host mounts have the host's; EOPNOTSUPP elsewhere"
	for _, nr := range []uint64{linux.SysSetxattr, linux.SysLsetxattr, linux.SysFsetxattr, linux.SysGetxattr,
		linux.SysLgetxattr, linux.SysFgetxattr, linux.SysListxattr, linux.SysLlistxattr, linux.SysFlistxattr,
		linux.SysRemovexattr, linux.SysLremovexattr, linux.SysFremovexattr} {
		reg(nr, syscallEntry{fn: xattrCall(nr), support: Partial, note: xnote})
	}
	reg(linux.SysFallocate, syscallEntry{fn: sysFallocate, support: Partial,
		note: "modes 0, FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE in a tmpfs; what the host allows on a host mount"})
	reg(linux.SysCopyFileRange, syscallEntry{fn: sysCopyFileRange})
	reg(linux.SysFadvise64, syscallEntry{fn: sysFadvise64})
	reg(linux.SysSyncFileRange, syscallEntry{fn: sysSyncFileRange})
}

// xattrTarget is the file an xattr call works on: an open file (f*) or a
// path.
type xattrTarget struct {
	vf          *vfs.File
	start, path string
	follow      bool
}

// readXattrName reads an attribute name argument (ERANGE when too long).
func (t *Task) readXattrName(addr uint64) (string, error) {
	s, err := t.readString(addr, vfs.XattrNameMax)
	if errors.Is(err, linux.ENAMETOOLONG) {
		return "", linux.ERANGE
	}
	return s, err
}

// xattrCall implements the twelve extended attribute calls: set, get, list
// and remove, each by path (following a final symlink), by path without
// following it (l*), and by descriptor (f*).
func xattrCall(nr uint64) syscallFn {
	return func(t *Task, a *args) (uint64, error) { return t.xattr(nr, a) }
}

func (t *Task) xattr(nr uint64, a *args) (uint64, error) {
	var x xattrTarget
	switch nr {
	case linux.SysFsetxattr, linux.SysFgetxattr, linux.SysFlistxattr, linux.SysFremovexattr:
		of, err := t.fds.get(a.int32(0))
		if err != nil {
			return 0, err
		}
		if of.flags&linux.O_PATH != 0 {
			return 0, linux.EBADF
		}
		vf, ok := of.f.(*vfs.File)
		if !ok {
			// Pipes and anonymous inodes keep no attributes.
			switch nr {
			case linux.SysFgetxattr:
				return 0, linux.ENODATA
			case linux.SysFlistxattr:
				return 0, nil
			}
			return 0, linux.EPERM
		}
		x.vf = vf
	default:
		start, p, err := t.pathAt(linux.AT_FDCWD, a[0], false)
		if err != nil {
			return 0, err
		}
		x.start, x.path = start, p
		switch nr {
		case linux.SysSetxattr, linux.SysGetxattr, linux.SysListxattr, linux.SysRemovexattr:
			x.follow = true
		}
	}
	switch nr {
	case linux.SysSetxattr, linux.SysLsetxattr, linux.SysFsetxattr:
		return t.setxattr(x, a)
	case linux.SysGetxattr, linux.SysLgetxattr, linux.SysFgetxattr:
		return t.getxattr(x, a)
	case linux.SysListxattr, linux.SysLlistxattr, linux.SysFlistxattr:
		return t.listxattr(x, a)
	}
	return t.removexattr(x, a)
}

func (t *Task) setxattr(x xattrTarget, a *args) (uint64, error) {
	name, err := t.readXattrName(a[1])
	if err != nil {
		return 0, err
	}
	size := a[3]
	if size > vfs.XattrSizeMax {
		return 0, linux.E2BIG
	}
	value := make([]byte, size)
	if err := t.copyIn(a[2], value); err != nil {
		return 0, err
	}
	flags := a.int32(4)
	if x.vf != nil {
		return 0, x.vf.Setxattr(name, value, flags)
	}
	return 0, t.m.fs.SetxattrAt(t.vctx(), x.start, x.path, x.follow, name, value, flags)
}

func (t *Task) getxattr(x xattrTarget, a *args) (uint64, error) {
	name, err := t.readXattrName(a[1])
	if err != nil {
		return 0, err
	}
	var v []byte
	if x.vf != nil {
		v, err = x.vf.Getxattr(name)
	} else {
		v, err = t.m.fs.GetxattrAt(t.vctx(), x.start, x.path, x.follow, name)
	}
	if err != nil {
		return 0, err
	}
	size := min(a[3], vfs.XattrSizeMax)
	if size == 0 {
		return uint64(len(v)), nil
	}
	if uint64(len(v)) > size {
		return 0, linux.ERANGE
	}
	return uint64(len(v)), t.copyOut(a[2], v)
}

func (t *Task) listxattr(x xattrTarget, a *args) (uint64, error) {
	var names []string
	var err error
	if x.vf != nil {
		names, err = x.vf.Listxattr()
	} else {
		names, err = t.m.fs.ListxattrAt(t.vctx(), x.start, x.path, x.follow)
	}
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
	}
	list := b.String()
	if len(list) > vfs.XattrListMax {
		return 0, linux.E2BIG
	}
	size := min(a[2], vfs.XattrListMax)
	if size == 0 {
		return uint64(len(list)), nil
	}
	if uint64(len(list)) > size {
		return 0, linux.ERANGE
	}
	return uint64(len(list)), t.copyOut(a[1], []byte(list))
}

func (t *Task) removexattr(x xattrTarget, a *args) (uint64, error) {
	name, err := t.readXattrName(a[1])
	if err != nil {
		return 0, err
	}
	if x.vf != nil {
		return 0, x.vf.Removexattr(name)
	}
	return 0, t.m.fs.RemovexattrAt(t.vctx(), x.start, x.path, x.follow, name)
}

// fallocate(2) modes.
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
	fallocCollapse  = 0x08
	fallocZero      = 0x10
	fallocInsert    = 0x20
	fallocUnshare   = 0x40
)

// regularFile returns the regular VFS file behind fd: pipeErr for a pipe
// or FIFO, EISDIR for a directory, notReg for anything else.
func (t *Task) regularFile(fd int, notReg, pipeErr linux.Errno) (*openFile, *vfs.File, error) {
	of, err := t.fds.get(fd)
	if err != nil {
		return nil, nil, err
	}
	if of.flags&linux.O_PATH != 0 {
		return nil, nil, linux.EBADF
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		if _, pipe := of.f.(*pipeEnd); pipe {
			return nil, nil, pipeErr
		}
		return nil, nil, notReg
	}
	at, err := vf.Stat()
	if err != nil {
		return nil, nil, fileErr(err)
	}
	switch at.Mode & vfs.ModeType {
	case vfs.ModeRegular:
	case vfs.ModeDir:
		return nil, nil, linux.EISDIR
	case vfs.ModeFIFO:
		return nil, nil, pipeErr
	default:
		return nil, nil, notReg
	}
	return of, vf, nil
}

// Fallocate implements fallocate(2).
func sysFallocate(t *Task, a *args) (uint64, error) {
	mode, off, n := a.int32(1), a.int(2), a.int(3)
	if mode&^(fallocKeepSize|fallocPunchHole|fallocCollapse|fallocZero|fallocInsert|fallocUnshare) != 0 {
		return 0, linux.EOPNOTSUPP
	}
	if mode&fallocPunchHole != 0 && mode&fallocKeepSize == 0 {
		return 0, linux.EOPNOTSUPP
	}
	if off < 0 || n <= 0 {
		return 0, linux.EINVAL
	}
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if of.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return 0, linux.EBADF
	}
	_, vf, err := t.regularFile(a.int32(0), linux.ENODEV, linux.ESPIPE)
	if err != nil {
		return 0, err
	}
	if off+n < 0 {
		return 0, linux.EFBIG
	}
	return 0, vf.Allocate(mode, off, n)
}

// CopyFileRange implements copy_file_range(2) between regular files: up
// to len bytes from fd_in to fd_out, at the given offsets (which are
// advanced) or at the files' offsets.
func sysCopyFileRange(t *Task, a *args) (uint64, error) {
	if a[5] != 0 {
		return 0, linux.EINVAL
	}
	inOF, in, err := t.regularFile(a.int32(0), linux.EINVAL, linux.EINVAL)
	if err != nil {
		return 0, err
	}
	outOF, out, err := t.regularFile(a.int32(2), linux.EINVAL, linux.EINVAL)
	if err != nil {
		return 0, err
	}
	switch {
	case inOF.flags&linux.O_ACCMODE == linux.O_WRONLY, outOF.flags&linux.O_ACCMODE == linux.O_RDONLY,
		outOF.flags&linux.O_APPEND != 0:
		return 0, linux.EBADF
	case in.Mount().Type != out.Mount().Type:
		return 0, linux.EXDEV
	}
	readOff := func(ptr uint64, f *vfs.File) (int64, error) {
		if ptr == 0 {
			return f.Seek(0, io.SeekCurrent)
		}
		var b [8]byte
		if err := t.copyIn(ptr, b[:]); err != nil {
			return 0, err
		}
		off := int64(le64(b[:]))
		if off < 0 {
			return 0, linux.EINVAL
		}
		return off, nil
	}
	inOff, err := readOff(a[1], in)
	if err != nil {
		return 0, err
	}
	outOff, err := readOff(a[3], out)
	if err != nil {
		return 0, err
	}
	n := int64(min(a[4], maxIO))
	if inOff+n < 0 || outOff+n < 0 {
		return 0, linux.EOVERFLOW
	}
	ia, _ := in.Stat()
	oa, _ := out.Stat()
	if ia.Dev == oa.Dev && ia.Ino == oa.Ino && inOff < outOff+n && outOff < inOff+n {
		return 0, linux.EINVAL // overlapping ranges of one file
	}
	var done int64
	for done < n {
		buf := ioBuf(uint64(n - done))
		k, rerr := in.ReadAt(buf, inOff+done)
		if k == 0 {
			if rerr != nil && rerr != io.EOF && done == 0 {
				return 0, fileErr(rerr)
			}
			break
		}
		w, werr := out.WriteAt(buf[:k], outOff+done)
		done += int64(w)
		if werr != nil {
			if done == 0 {
				return 0, fileErr(werr)
			}
			break
		}
	}
	for _, x := range []struct {
		ptr uint64
		f   *vfs.File
		off int64
	}{{a[1], in, inOff}, {a[3], out, outOff}} {
		if x.ptr != 0 {
			var b [8]byte
			put64(b[:], uint64(x.off+done))
			if err := t.copyOut(x.ptr, b[:]); err != nil {
				return uint64(done), err
			}
		} else if _, err := x.f.Seek(x.off+done, io.SeekStart); err != nil {
			return uint64(done), fileErr(err)
		}
	}
	return uint64(done), nil
}

// Fadvise64 implements fadvise64(2): the advice is checked and, with no
// page cache to act on, has no effect.
func sysFadvise64(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if _, pipe := of.f.(*pipeEnd); pipe {
		return 0, linux.ESPIPE
	}
	if a.int(2) < 0 || a.int32(3) < 0 || a.int32(3) > 5 {
		return 0, linux.EINVAL
	}
	return 0, nil
}

// sync_file_range(2) flags.
const syncFileRangeFlags = 1 | 2 | 4

// SyncFileRange implements sync_file_range(2): the VFS writes through, so
// every range is already written out.
func sysSyncFileRange(t *Task, a *args) (uint64, error) {
	off, n := a.int(1), a.int(2)
	if a[3]&^syncFileRangeFlags != 0 || off < 0 || n < 0 || off+n < 0 {
		return 0, linux.EINVAL
	}
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if vf, ok := of.f.(*vfs.File); ok {
		if at, err := vf.Stat(); err == nil {
			switch at.Mode & vfs.ModeType {
			case vfs.ModeRegular, vfs.ModeDir, vfs.ModeSymlink, vfs.ModeBlock:
				return 0, nil
			}
		}
	}
	return 0, linux.ESPIPE
}
