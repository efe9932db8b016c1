package vfs

import (
	"sort"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Devices is what devfs needs from the machine.
type Devices interface {
	// Random fills b from the machine's generator (seeded in
	// deterministic mode).
	Random(b []byte)
	// Console returns a Stream handle on the machine's console.
	Console() Handle
}

// Devfs is the /dev file system: null, zero, full, random, urandom,
// console, tty, and the fd, stdin, stdout, stderr links into /proc.
type Devfs struct {
	dev  Devices
	boot time.Time
}

// devfsMagic is TMPFS_MAGIC: Linux's devtmpfs is a tmpfs.
const devfsMagic = tmpfsMagic

type devNode struct {
	ino          uint64
	major, minor uint32
	perm         uint32
	link         string // symlink target
}

// devNodes returns the device nodes by name.
func devNodes() map[string]devNode {
	return map[string]devNode{
		"null":    {ino: 3, major: 1, minor: 3, perm: 0o666},
		"zero":    {ino: 4, major: 1, minor: 5, perm: 0o666},
		"full":    {ino: 5, major: 1, minor: 7, perm: 0o666},
		"random":  {ino: 6, major: 1, minor: 8, perm: 0o666},
		"urandom": {ino: 7, major: 1, minor: 9, perm: 0o666},
		"tty":     {ino: 8, major: 5, minor: 0, perm: 0o666},
		"console": {ino: 9, major: 5, minor: 1, perm: 0o600},
		"fd":      {ino: 10, link: "/proc/self/fd"},
		"stdin":   {ino: 11, link: "/proc/self/fd/0"},
		"stdout":  {ino: 12, link: "/proc/self/fd/1"},
		"stderr":  {ino: 13, link: "/proc/self/fd/2"},
	}
}

// NewDevfs returns a devfs over the machine's devices; boot is the time
// stamped on the device nodes.
func NewDevfs(d Devices, boot time.Time) *Devfs { return &Devfs{dev: d, boot: boot} }

// Makedev encodes a device number as Linux's new_encode_dev.
func Makedev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

func (d *Devfs) node(name string) (devNode, bool) {
	n, ok := devNodes()[strings.TrimPrefix(name, "/")]
	return n, ok
}

// Lstat implements Backend.
func (d *Devfs) Lstat(name string) (Attr, error) {
	a := Attr{Blksize: 4096, Atime: d.boot, Mtime: d.boot, Ctime: d.boot, Nlink: 1}
	if name == "/" {
		a.Ino, a.Mode, a.Nlink, a.Size = 1, ModeDir|0o755, 2, 40+20*int64(len(devNodes()))
		return a, nil
	}
	n, ok := d.node(name)
	if !ok {
		return Attr{}, linux.ENOENT
	}
	a.Ino = n.ino
	if n.link != "" {
		a.Mode, a.Size = ModeSymlink|0o777, int64(len(n.link))
	} else {
		a.Mode, a.Rdev = ModeChar|n.perm, Makedev(n.major, n.minor)
	}
	return a, nil
}

// Readlink implements Backend.
func (d *Devfs) Readlink(name string) (string, error) {
	n, ok := d.node(name)
	if !ok {
		return "", linux.ENOENT
	}
	if n.link == "" {
		return "", linux.EINVAL
	}
	return n.link, nil
}

// Open implements Backend.
func (d *Devfs) Open(name string, flags int, perm uint32) (Handle, error) {
	if name == "/" {
		if flags&linux.O_CREAT != 0 && flags&linux.O_EXCL != 0 {
			return nil, linux.EEXIST
		}
		return &devHandle{d: d, name: name}, nil
	}
	n, ok := d.node(name)
	if !ok {
		if flags&linux.O_CREAT != 0 {
			return nil, linux.EACCES
		}
		return nil, linux.ENOENT
	}
	if flags&linux.O_CREAT != 0 && flags&linux.O_EXCL != 0 {
		return nil, linux.EEXIST
	}
	if n.major == 5 {
		return d.dev.Console(), nil
	}
	return &devHandle{d: d, name: name}, nil
}

// Mkdir implements Backend: devfs has a fixed set of nodes.
func (d *Devfs) Mkdir(string, uint32) error { return linux.EACCES }

// Symlink implements Backend.
func (d *Devfs) Symlink(string, string) error { return linux.EACCES }

// Link implements Backend.
func (d *Devfs) Link(string, string) error { return linux.EACCES }

// Unlink implements Backend.
func (d *Devfs) Unlink(string) error { return linux.EACCES }

// Rmdir implements Backend.
func (d *Devfs) Rmdir(string) error { return linux.EACCES }

// Rename implements Backend.
func (d *Devfs) Rename(string, string, bool) error { return linux.EACCES }

// SetAttr implements Backend.
func (d *Devfs) SetAttr(string, SetAttr) error { return linux.EPERM }

// Statfs implements Backend.
func (d *Devfs) Statfs() (Statfs, error) {
	return Statfs{Type: devfsMagic, Bsize: 4096, Frsize: 4096, Namelen: NameMax, Files: 64, Ffree: 64 - uint64(len(devNodes()))}, nil
}

// devHandle is an open device of the memory class (null, zero, full,
// random, urandom) or the devfs root.
type devHandle struct {
	d    *Devfs
	name string
}

func (h *devHandle) ReadAt(p []byte, off int64) (int, error) {
	switch h.name {
	case "/":
		return 0, linux.EISDIR
	case "/null":
		return 0, nil
	case "/zero", "/full":
		clear(p)
		return len(p), nil
	}
	h.d.dev.Random(p)
	return len(p), nil
}

func (h *devHandle) WriteAt(p []byte, off int64) (int, error) {
	switch h.name {
	case "/":
		return 0, linux.EISDIR
	case "/full":
		return 0, linux.ENOSPC
	}
	return len(p), nil
}

func (h *devHandle) Stat() (Attr, error) { return h.d.Lstat(h.name) }
func (h *devHandle) Truncate(int64) error {
	if h.name == "/" {
		return linux.EISDIR
	}
	return nil
}
func (h *devHandle) Sync() error  { return linux.EINVAL }
func (h *devHandle) Close() error { return nil }

func (h *devHandle) ReadDir() ([]Dirent, error) {
	if h.name != "/" {
		return nil, linux.ENOTDIR
	}
	out := make([]Dirent, 0, len(devNodes()))
	for name, n := range devNodes() {
		t := uint8(DTChar)
		if n.link != "" {
			t = DTLink
		}
		out = append(out, Dirent{Name: name, Ino: n.ino, Type: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
