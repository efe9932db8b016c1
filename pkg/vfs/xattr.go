package vfs

import (
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Extended attributes. A file system that keeps them implements Xattrer
// (by name) and its handles XattrHandle (open files); on the others every
// call fails with EOPNOTSUPP, as on a Linux file system without xattr
// handlers (procfs).

// Limits of extended attributes (linux/limits.h).
const (
	XattrNameMax = 255
	XattrSizeMax = 65536
	XattrListMax = 65536

	XattrCreate  = 1
	XattrReplace = 2
)

// Xattrer is a Backend with extended attributes. Names are backend paths;
// the last component is never followed.
type Xattrer interface {
	Getxattr(name, attr string) ([]byte, error)
	Setxattr(name, attr string, value []byte, flags int) error
	Listxattr(name string) ([]string, error)
	Removexattr(name, attr string) error
}

// XattrHandle is a Handle with extended attributes.
type XattrHandle interface {
	Getxattr(attr string) ([]byte, error)
	Setxattr(attr string, value []byte, flags int) error
	Listxattr() ([]string, error)
	Removexattr(attr string) error
}

// CheckXattrName validates an attribute name as Linux does: ERANGE when
// empty or longer than XattrNameMax, EINVAL for a bare namespace prefix,
// EOPNOTSUPP for a namespace no file system knows.
func CheckXattrName(attr string) error {
	if attr == "" || len(attr) > XattrNameMax {
		return linux.ERANGE
	}
	for _, ns := range []string{"user.", "trusted.", "security.", "system."} {
		if strings.HasPrefix(attr, ns) {
			if len(attr) == len(ns) {
				return linux.EINVAL // a namespace without a name
			}
			return nil
		}
	}
	return linux.EOPNOTSUPP
}

// xattrAt resolves p for an xattr call.
func (v *FS) xattrAt(c *Ctx, start, p string, follow bool) (*resolved, Xattrer, error) {
	r, err := v.resolve(c, start, p, follow)
	if err != nil {
		return nil, nil, err
	}
	if !r.exists {
		return nil, nil, linux.ENOENT
	}
	if r.link != nil {
		return nil, nil, linux.EOPNOTSUPP // a pipe or anonymous inode
	}
	x, ok := r.mount.Backend.(Xattrer)
	if !ok {
		return nil, nil, linux.EOPNOTSUPP
	}
	return r, x, nil
}

// GetxattrAt returns the attribute attr of p.
func (v *FS) GetxattrAt(c *Ctx, start, p string, follow bool, attr string) ([]byte, error) {
	if err := CheckXattrName(attr); err != nil {
		return nil, err
	}
	r, x, err := v.xattrAt(c, start, p, follow)
	if err != nil {
		return nil, err
	}
	return x.Getxattr(r.rel, attr)
}

// SetxattrAt sets the attribute attr of p (flags: XattrCreate,
// XattrReplace).
func (v *FS) SetxattrAt(c *Ctx, start, p string, follow bool, attr string, value []byte, flags int) error {
	if err := checkSetxattr(attr, value, flags); err != nil {
		return err
	}
	r, x, err := v.xattrAt(c, start, p, follow)
	if err != nil {
		return err
	}
	if err := checkWritable(r.mount); err != nil {
		return err
	}
	return x.Setxattr(r.rel, attr, value, flags)
}

// ListxattrAt lists the attributes of p.
func (v *FS) ListxattrAt(c *Ctx, start, p string, follow bool) ([]string, error) {
	r, x, err := v.xattrAt(c, start, p, follow)
	if err != nil {
		return nil, err
	}
	return x.Listxattr(r.rel)
}

// RemovexattrAt removes the attribute attr of p.
func (v *FS) RemovexattrAt(c *Ctx, start, p string, follow bool, attr string) error {
	if err := CheckXattrName(attr); err != nil {
		return err
	}
	r, x, err := v.xattrAt(c, start, p, follow)
	if err != nil {
		return err
	}
	if err := checkWritable(r.mount); err != nil {
		return err
	}
	return x.Removexattr(r.rel, attr)
}

func checkSetxattr(attr string, value []byte, flags int) error {
	if flags&^(XattrCreate|XattrReplace) != 0 {
		return linux.EINVAL
	}
	if err := CheckXattrName(attr); err != nil {
		return err
	}
	if len(value) > XattrSizeMax {
		return linux.E2BIG
	}
	return nil
}

// fileXattr returns the open file's attribute interface.
func (f *File) fileXattr() (XattrHandle, error) {
	if x, ok := f.h.(XattrHandle); ok {
		return x, nil
	}
	return nil, linux.EOPNOTSUPP
}

// Getxattr returns the open file's attribute attr.
func (f *File) Getxattr(attr string) ([]byte, error) {
	if err := CheckXattrName(attr); err != nil {
		return nil, err
	}
	x, err := f.fileXattr()
	if err != nil {
		return nil, err
	}
	return x.Getxattr(attr)
}

// Setxattr sets the open file's attribute attr.
func (f *File) Setxattr(attr string, value []byte, flags int) error {
	if err := checkSetxattr(attr, value, flags); err != nil {
		return err
	}
	x, err := f.fileXattr()
	if err != nil {
		return err
	}
	if err := checkWritable(f.mount); err != nil {
		return err
	}
	return x.Setxattr(attr, value, flags)
}

// Listxattr lists the open file's attributes.
func (f *File) Listxattr() ([]string, error) {
	x, err := f.fileXattr()
	if err != nil {
		return nil, err
	}
	return x.Listxattr()
}

// Removexattr removes the open file's attribute attr.
func (f *File) Removexattr(attr string) error {
	if err := CheckXattrName(attr); err != nil {
		return err
	}
	x, err := f.fileXattr()
	if err != nil {
		return err
	}
	if err := checkWritable(f.mount); err != nil {
		return err
	}
	return x.Removexattr(attr)
}

// Extended attributes of tmpfs: the user, trusted and security
// namespaces (user ones on regular files and directories only, as
// Linux), at most tmpfsXattrMax bytes of names and values per file
// system; POSIX ACLs (system.*) are not kept.

// tmpfsXattrMax bounds the bytes of a tmpfs's attributes (ENOSPC beyond).
const tmpfsXattrMax = 64 << 20

// xattrAllowed checks attr for inode n: mayWrite for set and remove.
func (n *tmpInode) xattrAllowed(attr string, write bool) error {
	switch {
	case strings.HasPrefix(attr, "system."):
		if write {
			return linux.EOPNOTSUPP
		}
		return linux.ENODATA
	case strings.HasPrefix(attr, "user."):
		if t := n.mode & ModeType; t != ModeRegular && t != ModeDir {
			if write {
				return linux.EPERM
			}
			return linux.ENODATA
		}
	}
	return nil
}

func (t *Tmpfs) getxattr(n *tmpInode, attr string) ([]byte, error) {
	if err := n.xattrAllowed(attr, false); err != nil {
		return nil, err
	}
	v, ok := n.xattrs[attr]
	if !ok {
		return nil, linux.ENODATA
	}
	return append([]byte(nil), v...), nil
}

func (t *Tmpfs) setxattr(n *tmpInode, attr string, value []byte, flags int) error {
	if err := n.xattrAllowed(attr, true); err != nil {
		return err
	}
	if n.appendOnly() {
		return linux.EPERM
	}
	old, exists := n.xattrs[attr]
	switch {
	case flags&XattrCreate != 0 && exists:
		return linux.EEXIST
	case flags&XattrReplace != 0 && !exists:
		return linux.ENODATA
	}
	grow := len(value) - len(old)
	if !exists {
		grow += len(attr)
	}
	if t.xattrBytes+grow > tmpfsXattrMax {
		return linux.ENOSPC
	}
	if n.xattrs == nil {
		n.xattrs = map[string][]byte{}
	}
	n.xattrs[attr] = append([]byte(nil), value...)
	t.xattrBytes += grow
	n.ctime = t.now()
	return nil
}

func (t *Tmpfs) listxattr(n *tmpInode) []string {
	out := make([]string, 0, len(n.xattrs))
	for k := range n.xattrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (t *Tmpfs) removexattr(n *tmpInode, attr string) error {
	if err := n.xattrAllowed(attr, true); err != nil {
		return err
	}
	if n.appendOnly() {
		return linux.EPERM
	}
	v, ok := n.xattrs[attr]
	if !ok {
		return linux.ENODATA
	}
	delete(n.xattrs, attr)
	t.xattrBytes -= len(attr) + len(v)
	n.ctime = t.now()
	return nil
}

// dropXattrs frees an inode's attributes when it goes.
func (t *Tmpfs) dropXattrs(n *tmpInode) {
	for k, v := range n.xattrs {
		t.xattrBytes -= len(k) + len(v)
	}
	n.xattrs = nil
}

// Getxattr implements Xattrer.
func (t *Tmpfs) Getxattr(name, attr string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	return t.getxattr(n, attr)
}

// Setxattr implements Xattrer.
func (t *Tmpfs) Setxattr(name, attr string, value []byte, flags int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return err
	}
	return t.setxattr(n, attr, value, flags)
}

// Listxattr implements Xattrer.
func (t *Tmpfs) Listxattr(name string) ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	return t.listxattr(n), nil
}

// Removexattr implements Xattrer.
func (t *Tmpfs) Removexattr(name, attr string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.lookup(name)
	if err != nil {
		return err
	}
	return t.removexattr(n, attr)
}

func (h *tmpHandle) Getxattr(attr string) ([]byte, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.fs.getxattr(h.n, attr)
}

func (h *tmpHandle) Setxattr(attr string, value []byte, flags int) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.fs.setxattr(h.n, attr, value, flags)
}

func (h *tmpHandle) Listxattr() ([]string, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.fs.listxattr(h.n), nil
}

func (h *tmpHandle) Removexattr(attr string) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.fs.removexattr(h.n, attr)
}

// Extended attributes of host files: the host's own. By name, the file
// is reached through an O_PATH descriptor (never following a symlink)
// and the host's /proc/self/fd link to it; a symlink has none (and
// takes none).

// hostXattrBuf calls get with growing buffers until the value fits.
func hostXattrBuf(get func([]byte) (int, error)) ([]byte, error) {
	n, err := get(nil)
	for tries := 0; err == nil && tries < 4; tries++ {
		buf := make([]byte, max(n, 1))
		var m int
		m, err = get(buf)
		if err == nil {
			return buf[:m], nil
		}
		if err == unix.ERANGE {
			n, err = get(nil)
		}
	}
	return nil, hostErr(err)
}

// splitList splits a NUL-separated name list.
func splitList(b []byte) []string {
	var out []string
	for _, s := range strings.Split(string(b), "\x00") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// byPath runs fn with a host path that leads to name (not following a
// symlink there); symlink is set, and fn not run, when name is one.
func (h *Hostfs) byPath(name string, fn func(path string) error) (symlink bool, err error) {
	p, err := h.parent(name)
	if err != nil {
		return false, err
	}
	defer p.release()
	fd, err := unix.Openat(p.dir, p.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, hostErr(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, hostErr(err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return true, nil
	}
	return false, fn("/proc/self/fd/" + strconv.Itoa(fd))
}

// Getxattr implements Xattrer.
func (h *Hostfs) Getxattr(name, attr string) ([]byte, error) {
	var out []byte
	link, err := h.byPath(name, func(path string) error {
		var err error
		out, err = hostXattrBuf(func(b []byte) (int, error) { return unix.Getxattr(path, attr, b) })
		return err
	})
	if link && err == nil {
		return nil, linux.ENODATA
	}
	return out, err
}

// Setxattr implements Xattrer.
func (h *Hostfs) Setxattr(name, attr string, value []byte, flags int) error {
	if h.ro {
		return linux.EROFS
	}
	link, err := h.byPath(name, func(path string) error { return hostErr(unix.Setxattr(path, attr, value, flags)) })
	if link && err == nil {
		return linux.EPERM
	}
	return err
}

// Listxattr implements Xattrer.
func (h *Hostfs) Listxattr(name string) ([]string, error) {
	var out []string
	_, err := h.byPath(name, func(path string) error {
		b, err := hostXattrBuf(func(b []byte) (int, error) { return unix.Listxattr(path, b) })
		out = splitList(b)
		return err
	})
	return out, err
}

// Removexattr implements Xattrer.
func (h *Hostfs) Removexattr(name, attr string) error {
	if h.ro {
		return linux.EROFS
	}
	link, err := h.byPath(name, func(path string) error { return hostErr(unix.Removexattr(path, attr)) })
	if link && err == nil {
		return linux.EPERM
	}
	return err
}

func (f *hostFD) Getxattr(attr string) ([]byte, error) {
	var out []byte
	err := f.use(func(fd int) error {
		var err error
		out, err = hostXattrBuf(func(b []byte) (int, error) { return unix.Fgetxattr(fd, attr, b) })
		return err
	})
	return out, err
}

func (f *hostFD) Setxattr(attr string, value []byte, flags int) error {
	return hostErr(f.use(func(fd int) error { return unix.Fsetxattr(fd, attr, value, flags) }))
}

func (f *hostFD) Listxattr() ([]string, error) {
	var out []string
	err := f.use(func(fd int) error {
		b, err := hostXattrBuf(func(b []byte) (int, error) { return unix.Flistxattr(fd, b) })
		out = splitList(b)
		return err
	})
	return out, err
}

func (f *hostFD) Removexattr(attr string) error {
	return hostErr(f.use(func(fd int) error { return unix.Fremovexattr(fd, attr) }))
}

// Devfs keeps no attributes (its nodes are devices: Linux's devtmpfs
// refuses user ones on them, and has none of the others).

// Getxattr implements Xattrer.
func (d *Devfs) Getxattr(name, attr string) ([]byte, error) {
	if _, err := d.Lstat(name); err != nil {
		return nil, err
	}
	return nil, linux.ENODATA
}

// Setxattr implements Xattrer.
func (d *Devfs) Setxattr(name, attr string, value []byte, flags int) error {
	if _, err := d.Lstat(name); err != nil {
		return err
	}
	return linux.EPERM
}

// Listxattr implements Xattrer.
func (d *Devfs) Listxattr(name string) ([]string, error) {
	_, err := d.Lstat(name)
	return nil, err
}

// Removexattr implements Xattrer.
func (d *Devfs) Removexattr(name, attr string) error {
	if _, err := d.Lstat(name); err != nil {
		return err
	}
	return linux.ENODATA
}
