package vfs

import (
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Special files: FIFOs, sockets and device nodes live in a file system
// as names with attributes, but what opening one gives is the kernel's:
// a FIFO's pipe is kept by the kernel per file identity, a socket node
// cannot be opened (ENXIO), and a device node opens the device its
// number names. Magic links (/proc/<pid>/fd/<n>) lead to what a
// descriptor refers to, which may be no file of the VFS at all (a pipe).

// Mknoder is a Backend that creates special files (mknod(2)).
type Mknoder interface {
	// Mknod creates name with mode (file type and permission bits) and,
	// for a device node, the device number dev.
	Mknod(name string, mode uint32, dev uint64) error
}

// NoDever is a Backend whose device nodes cannot be opened (a host
// directory: it is mounted nodev).
type NoDever interface{ NoDev() bool }

// DeviceOpener is a Backend that implements devices (devfs): opening a
// device node anywhere opens the device through it.
type DeviceOpener interface {
	// OpenDevice opens the character device rdev with Linux O_* flags;
	// ENXIO when it has no such device.
	OpenDevice(rdev uint64, flags int) (Handle, error)
}

// MagicLinker is a Backend with magic links (procfs's /proc/<pid>/fd/<n>).
type MagicLinker interface {
	// MagicLink returns the object that the symlink name stands for when
	// it is a link to an object outside the VFS (nil for an ordinary
	// symlink, which is followed by its target).
	MagicLink(c *Ctx, name string) (*MagicLink, error)
}

// MagicLink is a descriptor that a magic link leads to: descriptor FD of
// process PID, whose object has the attributes Attr.
type MagicLink struct {
	PID, FD int
	Attr    Attr
}

// Node is a file that OpenNodeAt leaves to the kernel to open: a FIFO
// (Link nil), or the object behind a magic link.
type Node struct {
	Path string // canonical path of the FIFO, or of the magic link
	Attr Attr   // the FIFO's attributes (Dev and Ino identify it), or the object's
	Link *MagicLink
}

// MknodAt creates the special or regular file p with mode (type and
// permission bits, umask applied) and device number dev, as mknod(2):
// EINVAL for a symlink type, EPERM for a directory type (as Linux) and
// where the file system makes no such nodes.
func (v *FS) MknodAt(c *Ctx, start, p string, mode uint32, dev uint64) error {
	switch mode & ModeType {
	case ModeRegular, ModeFIFO, ModeSocket, ModeChar, ModeBlock:
	case 0:
		mode |= ModeRegular
	case ModeDir:
		return linux.EPERM
	default:
		return linux.EINVAL
	}
	r, err := v.create(c, start, p)
	if err != nil {
		return err
	}
	if r.slash {
		return linux.ENOENT
	}
	mk, ok := r.mount.Backend.(Mknoder)
	if !ok {
		return linux.EPERM
	}
	return mk.Mknod(r.rel, mode, dev)
}

// openSpecial opens what r, an existing file that is not a regular
// file, directory or symlink, stands for; a nil handle and node with a
// nil error mean the backend opens it as any file.
func (v *FS) openSpecial(r *resolved, flags int) (Handle, *Node, error) {
	if r.link != nil {
		return nil, &Node{Path: r.path, Attr: r.attr, Link: r.link}, nil
	}
	if flags&linux.O_PATH != 0 {
		return nil, nil, nil
	}
	switch r.attr.Mode & ModeType {
	case ModeFIFO:
		return nil, &Node{Path: r.path, Attr: r.attr}, nil
	case ModeSocket:
		return nil, nil, linux.ENXIO
	case ModeChar, ModeBlock:
		if nd, ok := r.mount.Backend.(NoDever); ok && nd.NoDev() {
			return nil, nil, linux.EACCES
		}
		if _, ok := r.mount.Backend.(DeviceOpener); ok {
			return nil, nil, nil // devfs opens its own nodes
		}
		if r.attr.Mode&ModeType == ModeBlock {
			return nil, nil, linux.ENXIO // no block devices
		}
		for _, m := range v.Mounts() {
			if d, ok := m.Backend.(DeviceOpener); ok {
				h, err := d.OpenDevice(r.attr.Rdev, flags)
				return h, nil, err
			}
		}
		return nil, nil, linux.ENXIO
	}
	return nil, nil, nil
}

// OpenNodeAt is OpenAt for the kernel: a FIFO, or a magic link to an
// object outside the VFS, is returned as a Node for the kernel to open,
// instead of being opened by its file system.
func (v *FS) OpenNodeAt(c *Ctx, start, p string, flags int, perm uint32) (*File, *Node, error) {
	return v.openAt(c, start, p, flags, perm, true)
}
