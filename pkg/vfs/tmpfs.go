package vfs

import (
	"encoding/binary"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Tmpfs is an in-memory file system with inodes: hard links, symlinks,
// ownership, permissions and nanosecond times, all deterministic (times
// come from the clock the VFS supplies, never from the host).
type Tmpfs struct {
	mu      sync.Mutex
	now     func() time.Time
	root    *tmpInode
	nextIno uint64
	inodes  int // live inodes
	bytes   int64
}

// tmpfsMagic is TMPFS_MAGIC.
const tmpfsMagic = 0x01021994

// tmpfsBlocks is the size tmpfs reports, in 4 KiB blocks (256 MiB).
const tmpfsBlocks = 65536

type tmpInode struct {
	ino      uint64
	mode     uint32
	nlink    uint32
	uid, gid uint32
	rdev     uint64
	atime    time.Time
	mtime    time.Time
	ctime    time.Time
	flags    uint32               // inode flags: linux.FS_APPEND_FL
	data     []byte               // regular file
	target   string               // symlink
	children map[string]*tmpInode // directory
}

// NewTmpfs returns an empty tmpfs whose root has mode perm. now supplies
// file times.
func NewTmpfs(now func() time.Time, perm uint32) *Tmpfs {
	t := &Tmpfs{now: now, nextIno: 1}
	t.root = t.newInode(ModeDir | perm&ModePerm)
	t.root.nlink = 2
	return t
}

func (t *Tmpfs) newInode(mode uint32) *tmpInode {
	now := t.now()
	n := &tmpInode{ino: t.nextIno, mode: mode, nlink: 1, atime: now, mtime: now, ctime: now}
	t.nextIno++
	t.inodes++
	if mode&ModeType == ModeDir {
		n.children = map[string]*tmpInode{}
	}
	return n
}

// lookup returns the inode at name, whose directory components must be
// directories.
func (t *Tmpfs) lookup(name string) (*tmpInode, error) {
	n := t.root
	for _, c := range strings.Split(name, "/") {
		if c == "" {
			continue
		}
		if n.children == nil {
			return nil, linux.ENOTDIR
		}
		next, ok := n.children[c]
		if !ok {
			return nil, linux.ENOENT
		}
		n = next
	}
	return n, nil
}

// parent returns the directory holding name and name's last component.
func (t *Tmpfs) parent(name string) (*tmpInode, string, error) {
	i := strings.LastIndexByte(name, '/')
	dir, base := name[:i+1], name[i+1:]
	if base == "" {
		return nil, "", linux.EBUSY // the root itself
	}
	d, err := t.lookup(dir)
	if err != nil {
		return nil, "", err
	}
	if d.children == nil {
		return nil, "", linux.ENOTDIR
	}
	return d, base, nil
}

func (n *tmpInode) attr() Attr {
	a := Attr{Ino: n.ino, Mode: n.mode, Nlink: n.nlink, UID: n.uid, GID: n.gid, Rdev: n.rdev,
		Blksize: 4096, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime, Flags: n.flags}
	switch n.mode & ModeType {
	case ModeRegular:
		a.Size = int64(len(n.data))
	case ModeSymlink:
		a.Size = int64(len(n.target))
	case ModeDir:
		a.Size = int64(40 + 20*len(n.children)) // as Linux tmpfs: BOGO_DIRENT_SIZE
	}
	if n.mode&ModeType == ModeRegular {
		a.Blocks = (a.Size + 4095) / 4096 * 8
	}
	return a
}

// appendOnly reports whether n has FS_APPEND_FL: writes may only append,
// and it cannot be unlinked, renamed, replaced, linked, truncated or have
// its attributes changed.
func (n *tmpInode) appendOnly() bool { return n.flags&linux.FS_APPEND_FL != 0 }

// SetFlags sets the inode flags of name: FS_APPEND_FL on a regular
// file, or nothing (EOPNOTSUPP for other flags and file types).
func (t *Tmpfs) SetFlags(name string, flags uint32) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return err
	}
	if flags&^linux.FS_APPEND_FL != 0 || flags != 0 && n.mode&ModeType != ModeRegular {
		return linux.EOPNOTSUPP
	}
	n.flags = flags
	n.ctime = t.now()
	return nil
}

// Lstat implements Backend.
func (t *Tmpfs) Lstat(name string) (Attr, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return Attr{}, err
	}
	return n.attr(), nil
}

// Readlink implements Backend.
func (t *Tmpfs) Readlink(name string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return "", err
	}
	if n.mode&ModeType != ModeSymlink {
		return "", linux.EINVAL
	}
	n.atime = t.now()
	return n.target, nil
}

// create adds a new inode called name.
func (t *Tmpfs) create(name string, mode uint32) (*tmpInode, error) {
	d, base, err := t.parent(name)
	if err != nil {
		return nil, err
	}
	if _, ok := d.children[base]; ok {
		return nil, linux.EEXIST
	}
	n := t.newInode(mode)
	d.children[base] = n
	if n.children != nil {
		n.nlink = 2
		d.nlink++
	}
	d.mtime = n.ctime
	d.ctime = n.ctime
	return n, nil
}

// Open implements Backend.
func (t *Tmpfs) Open(name string, flags int, perm uint32) (Handle, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	switch {
	case err == linux.ENOENT && flags&linux.O_CREAT != 0:
		if n, err = t.create(name, ModeRegular|perm&ModePerm); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case flags&linux.O_CREAT != 0 && flags&linux.O_EXCL != 0:
		return nil, linux.EEXIST
	case flags&linux.O_TRUNC != 0 && n.mode&ModeType == ModeRegular && flags&linux.O_ACCMODE != linux.O_RDONLY:
		if len(n.data) > 0 {
			t.bytes -= int64(len(n.data))
			n.data = nil
		}
		now := t.now()
		n.mtime, n.ctime = now, now
	}
	return &tmpHandle{fs: t, n: n}, nil
}

// Mkdir implements Backend.
func (t *Tmpfs) Mkdir(name string, perm uint32) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := t.create(name, ModeDir|perm&ModePerm)
	return err
}

// Symlink implements Backend.
func (t *Tmpfs) Symlink(target, name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.create(name, ModeSymlink|0o777)
	if err == nil {
		n.target = target
	}
	return err
}

// Link implements Backend.
func (t *Tmpfs) Link(oldname, newname string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(oldname)
	if err != nil {
		return err
	}
	if n.children != nil || n.appendOnly() {
		return linux.EPERM
	}
	d, base, err := t.parent(newname)
	if err != nil {
		return err
	}
	if _, ok := d.children[base]; ok {
		return linux.EEXIST
	}
	d.children[base] = n
	n.nlink++
	now := t.now()
	n.ctime, d.mtime, d.ctime = now, now, now
	return nil
}

// drop removes one link to n.
func (t *Tmpfs) drop(n *tmpInode, now time.Time) {
	n.nlink--
	n.ctime = now
	if n.nlink == 0 || (n.children != nil && n.nlink <= 1) {
		n.nlink = 0
		t.inodes--
		t.bytes -= int64(len(n.data))
	}
}

// Unlink implements Backend.
func (t *Tmpfs) Unlink(name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, base, err := t.parent(name)
	if err != nil {
		return err
	}
	n, ok := d.children[base]
	if !ok {
		return linux.ENOENT
	}
	if n.children != nil {
		return linux.EISDIR
	}
	if n.appendOnly() {
		return linux.EPERM
	}
	delete(d.children, base)
	now := t.now()
	d.mtime, d.ctime = now, now
	t.drop(n, now)
	return nil
}

// Rmdir implements Backend.
func (t *Tmpfs) Rmdir(name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, base, err := t.parent(name)
	if err != nil {
		return err
	}
	n, ok := d.children[base]
	switch {
	case !ok:
		return linux.ENOENT
	case n.children == nil:
		return linux.ENOTDIR
	case len(n.children) > 0:
		return linux.ENOTEMPTY
	}
	delete(d.children, base)
	d.nlink--
	now := t.now()
	d.mtime, d.ctime = now, now
	t.drop(n, now)
	return nil
}

// Rename implements Backend.
func (t *Tmpfs) Rename(oldname, newname string, exchange bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	od, obase, err := t.parent(oldname)
	if err != nil {
		return err
	}
	nd, nbase, err := t.parent(newname)
	if err != nil {
		return err
	}
	n, ok := od.children[obase]
	if !ok {
		return linux.ENOENT
	}
	if n.children != nil && (newname == oldname || strings.HasPrefix(newname, oldname+"/")) {
		if newname == oldname {
			return nil
		}
		return linux.EINVAL
	}
	victim, exists := nd.children[nbase]
	if n.appendOnly() || exists && victim != n && victim.appendOnly() {
		return linux.EPERM
	}
	now := t.now()
	if exchange {
		if !exists {
			return linux.ENOENT
		}
		if victim.children != nil && strings.HasPrefix(oldname, newname+"/") {
			return linux.EINVAL
		}
		od.children[obase], nd.children[nbase] = victim, n
		if (n.children != nil) != (victim.children != nil) && od != nd {
			if n.children != nil {
				od.nlink--
				nd.nlink++
			} else {
				od.nlink++
				nd.nlink--
			}
		}
		n.ctime, victim.ctime = now, now
		od.mtime, od.ctime, nd.mtime, nd.ctime = now, now, now, now
		return nil
	}
	if exists {
		if victim == n {
			return nil
		}
		switch {
		case n.children != nil && victim.children == nil:
			return linux.ENOTDIR
		case n.children == nil && victim.children != nil:
			return linux.EISDIR
		case len(victim.children) > 0:
			return linux.ENOTEMPTY
		}
		if victim.children != nil {
			nd.nlink--
		}
		t.drop(victim, now)
	}
	delete(od.children, obase)
	nd.children[nbase] = n
	if n.children != nil {
		od.nlink--
		nd.nlink++
	}
	n.ctime = now
	od.mtime, od.ctime, nd.mtime, nd.ctime = now, now, now, now
	return nil
}

// SetAttr implements Backend.
func (t *Tmpfs) SetAttr(name string, s SetAttr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return err
	}
	return t.setAttr(n, s)
}

func (t *Tmpfs) setAttr(n *tmpInode, s SetAttr) error {
	if n.appendOnly() {
		return linux.EPERM
	}
	now := t.now()
	if s.Size != nil {
		switch {
		case n.children != nil:
			return linux.EISDIR
		case n.mode&ModeType != ModeRegular:
			return linux.EINVAL
		}
		t.resize(n, *s.Size)
		n.mtime = now
	}
	if s.Mode != nil {
		n.mode = n.mode&ModeType | *s.Mode&ModePerm
	}
	if s.UID != nil {
		n.uid = *s.UID
	}
	if s.GID != nil {
		n.gid = *s.GID
	}
	if s.Atime != nil {
		n.atime = *s.Atime
	}
	if s.Mtime != nil {
		n.mtime = *s.Mtime
	}
	n.ctime = now
	return nil
}

func (t *Tmpfs) resize(n *tmpInode, size int64) {
	t.bytes += size - int64(len(n.data))
	if size <= int64(cap(n.data)) {
		old := len(n.data)
		n.data = n.data[:size]
		if int(size) > old {
			clear(n.data[old:])
		}
		return
	}
	// Grow geometrically (as append does) so that a file written by many
	// appends costs linear, not quadratic, copying.
	nd := make([]byte, size, max(size, int64(cap(n.data))*5/4))
	copy(nd, n.data)
	n.data = nd
}

// Statfs implements Backend.
func (t *Tmpfs) Statfs() (Statfs, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	used := uint64(t.bytes+4095) / 4096
	free := uint64(0)
	if used < tmpfsBlocks {
		free = tmpfsBlocks - used
	}
	return Statfs{Type: tmpfsMagic, Bsize: 4096, Frsize: 4096, Blocks: tmpfsBlocks, Bfree: free, Bavail: free,
		Files: 65536, Ffree: uint64(max(0, 65536-t.inodes)), Namelen: NameMax}, nil
}

// tmpHandle is an open tmpfs inode.
type tmpHandle struct {
	fs *Tmpfs
	n  *tmpInode
}

func (h *tmpHandle) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	switch h.n.mode & ModeType {
	case ModeDir:
		return 0, linux.EISDIR
	case ModeRegular:
	default:
		return 0, linux.EINVAL
	}
	h.n.atime = h.fs.now()
	if off >= int64(len(h.n.data)) {
		return 0, nil
	}
	return copy(p, h.n.data[off:]), nil
}

// maxFileSize bounds one tmpfs file (EFBIG beyond).
const maxFileSize = 1 << 32

func (h *tmpHandle) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.n.mode&ModeType != ModeRegular {
		return 0, linux.EISDIR
	}
	end := off + int64(len(p))
	if end > maxFileSize || end < off {
		return 0, linux.EFBIG
	}
	if end > int64(len(h.n.data)) {
		h.fs.resize(h.n, end)
	}
	copy(h.n.data[off:], p)
	now := h.fs.now()
	h.n.mtime, h.n.ctime = now, now
	return len(p), nil
}

func (h *tmpHandle) Stat() (Attr, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.n.attr(), nil
}

func (h *tmpHandle) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if size > maxFileSize {
		return linux.EFBIG
	}
	return h.fs.setAttr(h.n, SetAttr{Size: &size})
}

// Ioctl implements Ioctler: FS_IOC_GETFLAGS and FS_IOC_SETFLAGS (an int,
// as Linux reads and writes it; changing FS_APPEND_FL is EPERM).
func (h *tmpHandle) Ioctl(req, arg uint64, mem UserMemory) (uint64, error) {
	var b [4]byte
	switch req {
	case linux.FS_IOC_GETFLAGS:
		h.fs.mu.Lock()
		binary.LittleEndian.PutUint32(b[:], h.n.flags)
		h.fs.mu.Unlock()
		return 0, mem.CopyOut(arg, b[:])
	case linux.FS_IOC_SETFLAGS:
		if err := mem.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		h.fs.mu.Lock()
		defer h.fs.mu.Unlock()
		flags := binary.LittleEndian.Uint32(b[:])
		if flags&^linux.FS_APPEND_FL != 0 {
			return 0, linux.EOPNOTSUPP
		}
		if flags != h.n.flags {
			// Guests run without CAP_LINUX_IMMUTABLE: only the kernel
			// (FS.SetAppendOnly) sets or clears the flag.
			return 0, linux.EPERM
		}
		return 0, nil
	}
	return 0, linux.ENOTTY
}

func (h *tmpHandle) SetAttr(s SetAttr) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.fs.setAttr(h.n, s)
}

func (h *tmpHandle) Sync() error  { return nil }
func (h *tmpHandle) Close() error { return nil }

func (h *tmpHandle) ReadDir() ([]Dirent, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.n.children == nil {
		return nil, linux.ENOTDIR
	}
	out := make([]Dirent, 0, len(h.n.children))
	for name, c := range h.n.children {
		out = append(out, Dirent{Name: name, Ino: c.ino, Type: DirentType(c.mode)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	h.n.atime = h.fs.now()
	return out, nil
}
