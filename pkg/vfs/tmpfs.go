package vfs

import (
	"encoding/binary"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// Tmpfs is an in-memory file system with inodes: hard links, symlinks,
// ownership, permissions and nanosecond times, all deterministic (times
// come from the clock the VFS supplies, never from the host). File
// contents live in frames of the machine's RAM, which mmap maps directly
// (Pager); the file system has a size in pages (ENOSPC beyond), half the
// RAM by default as on Linux.
type Tmpfs struct {
	mu      sync.Mutex
	now     func() time.Time
	ram     *mem.RAM
	root    *tmpInode
	nextIno uint64
	inodes  int    // live inodes
	pages   uint64 // frames holding file contents
	limit   uint64 // most frames the files may hold
	// xattrBytes are the bytes of extended attributes (xattr.go).
	xattrBytes int
}

// tmpfsMagic is TMPFS_MAGIC.
const tmpfsMagic = 0x01021994

// tmpfsMaxInodes bounds the inodes of one tmpfs (ENOSPC beyond).
const tmpfsMaxInodes = 1 << 20

type tmpInode struct {
	ino      uint64
	mode     uint32
	nlink    uint32
	uid, gid uint32
	rdev     uint64
	atime    time.Time
	mtime    time.Time
	ctime    time.Time
	btime    time.Time            // birth
	flags    uint32               // inode flags: linux.FS_APPEND_FL
	size     int64                // regular file: its length
	pages    map[int64]mem.Frame  // regular file: its pages (absent: a hole)
	opens    int                  // open handles: an unlinked file lives on while open
	target   string               // symlink
	children map[string]*tmpInode // directory
	xattrs   map[string][]byte    // extended attributes (xattr.go)
}

// NewTmpfs returns an empty tmpfs whose root has mode perm, holding at
// most size bytes of file contents in frames of ram (half of ram when
// size is 0). now supplies file times.
func NewTmpfs(now func() time.Time, perm uint32, ram *mem.RAM, size uint64) *Tmpfs {
	if size == 0 {
		size = ram.Size() / 2
	}
	t := &Tmpfs{now: now, ram: ram, nextIno: 1, limit: size / mem.PageSize}
	t.root = t.newInode(ModeDir | perm&ModePerm)
	t.root.nlink = 2
	return t
}

func (t *Tmpfs) newInode(mode uint32) *tmpInode {
	now := t.now()
	n := &tmpInode{ino: t.nextIno, mode: mode, nlink: 1, atime: now, mtime: now, ctime: now, btime: now}
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
		Blksize: 4096, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime, Btime: n.btime, Flags: n.flags}
	switch n.mode & ModeType {
	case ModeRegular:
		a.Size = n.size
	case ModeSymlink:
		a.Size = int64(len(n.target))
	case ModeDir:
		a.Size = int64(40 + 20*len(n.children)) // as Linux tmpfs: BOGO_DIRENT_SIZE
	}
	if n.mode&ModeType == ModeRegular {
		a.Blocks = int64(len(n.pages)) * 8
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
	if t.inodes >= tmpfsMaxInodes {
		return nil, linux.ENOSPC
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
		t.resize(n, 0)
		now := t.now()
		n.mtime, n.ctime = now, now
	}
	n.opens++
	return &tmpHandle{fs: t, n: n}, nil
}

// Mknod implements Mknoder: regular files, FIFOs, sockets and device
// nodes (the caller is root, as every guest is).
func (t *Tmpfs) Mknod(name string, mode uint32, dev uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.create(name, mode&(ModeType|ModePerm))
	if err == nil && (mode&ModeType == ModeChar || mode&ModeType == ModeBlock) {
		n.rdev = dev
	}
	return err
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
		t.release(n)
	}
}

// release frees the contents of an inode that has no links and no open
// handles (mappings keep their own references to its frames).
func (t *Tmpfs) release(n *tmpInode) {
	if n.nlink == 0 && n.opens == 0 {
		t.resize(n, 0)
		t.dropXattrs(n)
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
		if err := t.resize(n, *s.Size); err != nil {
			return err
		}
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

// resize sets the length of a regular file: pages past the end are freed
// and the rest of the last page is zeroed; growing leaves a hole.
func (t *Tmpfs) resize(n *tmpInode, size int64) error {
	if size > maxFileSize {
		return linux.EFBIG
	}
	if size < n.size {
		for i, f := range n.pages {
			if i*mem.PageSize >= size {
				t.ram.Unref(f)
				delete(n.pages, i)
				t.pages--
			}
		}
		if off := size % mem.PageSize; off != 0 {
			if f, ok := n.pages[size/mem.PageSize]; ok {
				t.ram.Write(f, int(off), make([]byte, mem.PageSize-off))
			}
		}
	}
	n.size = size
	return nil
}

// page returns the frame of page i of n, allocating a zeroed one when it
// is a hole (ENOSPC when the file system or the RAM is full).
func (t *Tmpfs) page(n *tmpInode, i int64) (mem.Frame, error) {
	if f, ok := n.pages[i]; ok {
		return f, nil
	}
	if t.pages >= t.limit {
		return 0, linux.ENOSPC
	}
	f, err := t.ram.Alloc(mem.Shmem)
	if err != nil {
		return 0, linux.ENOSPC
	}
	if n.pages == nil {
		n.pages = map[int64]mem.Frame{}
	}
	n.pages[i] = f
	t.pages++
	return f, nil
}

// Statfs implements Backend.
func (t *Tmpfs) Statfs() (Statfs, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	free := uint64(0)
	if t.pages < t.limit {
		free = t.limit - t.pages
	}
	return Statfs{Type: tmpfsMagic, Bsize: mem.PageSize, Frsize: mem.PageSize, Blocks: t.limit, Bfree: free, Bavail: free,
		Files: tmpfsMaxInodes, Ffree: uint64(max(0, tmpfsMaxInodes-t.inodes)), Namelen: NameMax}, nil
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
	if off < 0 {
		return 0, linux.EINVAL
	}
	n := 0
	for n < len(p) && off < h.n.size {
		i, po := off/mem.PageSize, off%mem.PageSize
		k := int(min(int64(len(p)-n), mem.PageSize-po, h.n.size-off))
		if f, ok := h.n.pages[i]; ok {
			copy(p[n:n+k], h.fs.ram.Page(f)[po:])
		} else {
			clear(p[n : n+k])
		}
		n += k
		off += int64(k)
	}
	return n, nil
}

// maxFileSize bounds one tmpfs file (EFBIG beyond).
const maxFileSize = 1 << 40

func (h *tmpHandle) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.n.mode&ModeType != ModeRegular {
		return 0, linux.EISDIR
	}
	end := off + int64(len(p))
	if off < 0 || end > maxFileSize || end < off {
		return 0, linux.EFBIG
	}
	n := 0
	for n < len(p) {
		i, po := off/mem.PageSize, off%mem.PageSize
		k := int(min(int64(len(p)-n), mem.PageSize-po))
		f, err := h.fs.page(h.n, i)
		if err != nil {
			if n > 0 {
				break // a short write; the next one reports the error
			}
			return 0, err
		}
		h.fs.ram.Write(f, int(po), p[n:n+k])
		n += k
		off += int64(k)
		h.n.size = max(h.n.size, off)
	}
	now := h.fs.now()
	h.n.mtime, h.n.ctime = now, now
	return n, nil
}

// Page implements Pager: the frame of page i with a reference for the
// caller, allocated (zeroed) for a hole; io.EOF past the end of the file.
func (h *tmpHandle) Page(i uint64) (mem.Frame, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.n.mode&ModeType != ModeRegular || int64(i) >= (h.n.size+mem.PageSize-1)/mem.PageSize {
		return 0, io.EOF
	}
	f, err := h.fs.page(h.n, int64(i))
	if err != nil {
		return 0, err
	}
	h.fs.ram.Ref(f)
	return f, nil
}

func (h *tmpHandle) Stat() (Attr, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.n.attr(), nil
}

func (h *tmpHandle) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
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

func (h *tmpHandle) Sync() error { return nil }

func (h *tmpHandle) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	h.n.opens--
	h.fs.release(h.n)
	return nil
}

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

// fallocate(2) modes tmpfs implements.
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
)

// Allocate implements Allocator: mode 0 and FALLOC_FL_KEEP_SIZE allocate
// the pages of the range (ENOSPC when the file system is full), the first
// growing the file; FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE) frees whole
// pages and zeroes the partial ones. Other modes are EOPNOTSUPP, as on
// Linux's tmpfs.
func (h *tmpHandle) Allocate(mode int, off, n int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	t, node := h.fs, h.n
	end := off + n
	if end > maxFileSize {
		return linux.EFBIG
	}
	if node.appendOnly() && mode&fallocPunchHole != 0 {
		return linux.EPERM
	}
	now := t.now()
	switch mode {
	case 0, fallocKeepSize:
		for i := off / mem.PageSize; i*mem.PageSize < end; i++ {
			if _, err := t.page(node, i); err != nil {
				return err
			}
		}
		if mode == 0 && end > node.size {
			node.size = end
			node.mtime = now
		}
	case fallocPunchHole | fallocKeepSize:
		for i := off / mem.PageSize; i*mem.PageSize < end && i*mem.PageSize < node.size; i++ {
			f, ok := node.pages[i]
			if !ok {
				continue
			}
			ps, pe := max(off, i*mem.PageSize), min(end, (i+1)*mem.PageSize)
			if ps == i*mem.PageSize && pe == (i+1)*mem.PageSize {
				t.ram.Unref(f)
				delete(node.pages, i)
				t.pages--
				continue
			}
			t.ram.Write(f, int(ps-i*mem.PageSize), make([]byte, pe-ps))
		}
		node.mtime = now
	default:
		return linux.EOPNOTSUPP
	}
	node.ctime = now
	return nil
}
