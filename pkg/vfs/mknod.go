package vfs

import (
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Mknoder is a Backend that can create special files. The VFS asks only
// for sockets (ModeSocket): the node bind(2) leaves for an AF_UNIX socket
// bound to a path.
type Mknoder interface {
	Mknod(name string, mode uint32, dev uint64) error
}

// MknodAt creates the special file p (mode holds the file type and the
// permission bits, umask already applied) and returns its attributes,
// whose Dev and Ino identify it. Only sockets are supported (EPERM for
// other types, as for an unprivileged mknod of a device); a backend that
// cannot create them refuses with EPERM too.
func (v *FS) MknodAt(c *Ctx, start, p string, mode uint32) (Attr, error) {
	if mode&ModeType != ModeSocket {
		return Attr{}, linux.EPERM
	}
	r, err := v.create(c, start, p)
	if err != nil {
		return Attr{}, err
	}
	if r.slash {
		return Attr{}, linux.ENOENT
	}
	mk, ok := r.mount.Backend.(Mknoder)
	if !ok {
		return Attr{}, linux.EPERM
	}
	if err := mk.Mknod(r.rel, mode&(ModeType|ModePerm), 0); err != nil {
		return Attr{}, err
	}
	return v.StatAt(c, r.dir, r.name, false)
}

// Mknod implements Mknoder: the new inode has no contents.
func (t *Tmpfs) Mknod(name string, mode uint32, dev uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.create(name, mode)
	if err == nil {
		n.rdev = dev
	}
	return err
}

// Mknod implements Mknoder for sockets: the host gets a socket node that
// no host process can connect to (nothing listens on the host side).
func (h *Hostfs) Mknod(name string, mode uint32, dev uint64) error {
	if h.ro {
		return linux.EROFS
	}
	if mode&ModeType != ModeSocket {
		return linux.EPERM
	}
	p, err := h.parent(name)
	if err != nil {
		return err
	}
	defer p.release()
	return hostErr(unix.Mknodat(p.dir, p.name, unix.S_IFSOCK|mode&0o7777, 0))
}
