package vfs

import (
	"fmt"
	"sort"
	"strings"
	"sync"
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
// console, tty, the fd, stdin, stdout, stderr links into /proc, the shm
// directory (where the machine mounts a tmpfs, as Linux systems do for
// POSIX shared memory and semaphores), and the character devices the
// machine adds with AddDevice.
type Devfs struct {
	dev  Devices
	boot time.Time

	mu    sync.RWMutex
	added map[string]addedDev // AddDevice's devices by name
}

// Device is a character device the machine adds to /dev (AddDevice).
type Device struct {
	Name         string // file name in /dev
	Major, Minor uint32
	Perm         uint32 // permission bits of the node
	// Open opens the device with Linux O_* flags. stat describes the
	// node; the handle's Stat may return it. The handle may also be a
	// Stream (no offsets) or an Ioctler.
	Open func(flags int, stat func() (Attr, error)) (Handle, error)
}

type addedDev struct {
	Device
	ino uint64
}

// Ioctler is a Handle with device-specific ioctl(2) requests.
type Ioctler interface {
	// Ioctl runs request req with argument arg (often the address of a
	// structure, read and written through mem). Unknown requests return
	// linux.ENOTTY.
	Ioctl(req, arg uint64, mem UserMemory) (uint64, error)
}

// Unmappable is a Handle whose file mmap(2) refuses (ENODEV), as Linux
// does for a device without an mmap operation.
type Unmappable interface{ NoMmap() }

// AnonMapper is a device whose mapping is anonymous memory when
// MapsAnonymous says so (/dev/zero), and refused (ENODEV) otherwise.
type AnonMapper interface{ MapsAnonymous() bool }

// UserMemory is the calling process's memory, as an ioctl sees it.
type UserMemory interface {
	CopyIn(addr uint64, b []byte) error
	CopyOut(addr uint64, b []byte) error
}

// maxDevices bounds the nodes of a devfs (its statfs f_files).
const maxDevices = 64

// AddDevice adds a character device node. Names are single components and
// must be new; major/minor pairs must be unused.
func (d *Devfs) AddDevice(dev Device) error {
	if dev.Name == "" || strings.ContainsAny(dev.Name, "/\x00") || dev.Name == "." || dev.Name == ".." || len(dev.Name) > NameMax {
		return fmt.Errorf("devfs: invalid device name %q", dev.Name)
	}
	if dev.Open == nil {
		return fmt.Errorf("devfs: device %q has no open function", dev.Name)
	}
	if dev.Perm&^ModePerm != 0 {
		return fmt.Errorf("devfs: device %q: permission %#o has non-permission bits", dev.Name, dev.Perm)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	nodes := devNodes()
	if _, dup := nodes[dev.Name]; dup {
		return fmt.Errorf("devfs: %s exists", dev.Name)
	}
	if _, dup := d.added[dev.Name]; dup {
		return fmt.Errorf("devfs: %s exists", dev.Name)
	}
	if len(nodes)+len(d.added) >= maxDevices {
		return fmt.Errorf("devfs: no room for %s (%d nodes)", dev.Name, maxDevices)
	}
	for name, n := range nodes {
		if n.device() && n.major == dev.Major && n.minor == dev.Minor {
			return fmt.Errorf("devfs: device %d,%d is taken by %s", dev.Major, dev.Minor, name)
		}
	}
	ino := uint64(100)
	for name, a := range d.added {
		if a.Major == dev.Major && a.Minor == dev.Minor {
			return fmt.Errorf("devfs: device %d,%d is taken by %s", dev.Major, dev.Minor, name)
		}
		ino = max(ino, a.ino+1)
	}
	if d.added == nil {
		d.added = map[string]addedDev{}
	}
	d.added[dev.Name] = addedDev{Device: dev, ino: ino}
	return nil
}

// addedDevice returns the added device called name (a path in devfs).
func (d *Devfs) addedDevice(name string) (addedDev, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.added[strings.TrimPrefix(name, "/")]
	return a, ok
}

// nodeCount is the number of nodes in the root.
func (d *Devfs) nodeCount() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(devNodes()) + len(d.added)
}

// devfsMagic is TMPFS_MAGIC: Linux's devtmpfs is a tmpfs.
const devfsMagic = tmpfsMagic

type devNode struct {
	ino          uint64
	major, minor uint32
	perm         uint32
	link         string // symlink target
	dir          bool   // an empty directory (a mount point)
}

// device reports whether the node is a character device.
func (n devNode) device() bool { return n.link == "" && !n.dir }

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
		"shm":     {ino: 14, perm: 0o1777, dir: true},
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
	if !ok {
		if a, found := d.addedDevice(name); found {
			return devNode{ino: a.ino, major: a.Major, minor: a.Minor, perm: a.Perm}, true
		}
	}
	return n, ok
}

// Lstat implements Backend.
func (d *Devfs) Lstat(name string) (Attr, error) {
	a := Attr{Blksize: 4096, Atime: d.boot, Mtime: d.boot, Ctime: d.boot, Nlink: 1}
	if name == "/" {
		a.Ino, a.Mode, a.Nlink, a.Size = 1, ModeDir|0o755, 3, 40+20*int64(d.nodeCount()) // shm is a subdirectory
		return a, nil
	}
	n, ok := d.node(name)
	if !ok {
		return Attr{}, linux.ENOENT
	}
	a.Ino = n.ino
	switch {
	case n.link != "":
		a.Mode, a.Size = ModeSymlink|0o777, int64(len(n.link))
	case n.dir:
		a.Mode, a.Nlink, a.Size = ModeDir|n.perm, 2, 40
	default:
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
	if a, ok := d.addedDevice(name); ok {
		return a.Open(flags, func() (Attr, error) { return d.Lstat(name) })
	}
	if n.major == 5 {
		return &consoleNode{h: d.dev.Console(), stat: func() (Attr, error) { return d.Lstat(name) }}, nil
	}
	return &devHandle{d: d, name: name}, nil
}

// OpenDevice implements DeviceOpener: the device numbered rdev, for a
// device node made elsewhere (mknod in a tmpfs).
func (d *Devfs) OpenDevice(rdev uint64, flags int) (Handle, error) {
	for name, n := range devNodes() {
		if n.device() && Makedev(n.major, n.minor) == rdev {
			return d.Open("/"+name, flags&linux.O_ACCMODE, 0)
		}
	}
	d.mu.RLock()
	var found string
	for name, a := range d.added {
		if Makedev(a.Major, a.Minor) == rdev {
			found = name
		}
	}
	d.mu.RUnlock()
	if found == "" {
		return nil, linux.ENXIO
	}
	return d.Open("/"+found, flags&linux.O_ACCMODE, 0)
}

// consoleNode is the console opened through one of its nodes (tty,
// console): the machine's console stream, described as that node.
type consoleNode struct {
	h    Handle
	stat func() (Attr, error)
}

func (c *consoleNode) Read(p []byte) (int, error) {
	if s, ok := c.h.(Stream); ok {
		return s.Read(p)
	}
	return c.h.ReadAt(p, 0)
}

func (c *consoleNode) Write(p []byte) (int, error) {
	if s, ok := c.h.(Stream); ok {
		return s.Write(p)
	}
	return c.h.WriteAt(p, 0)
}

func (c *consoleNode) ReadAt(p []byte, off int64) (int, error)  { return c.h.ReadAt(p, off) }
func (c *consoleNode) WriteAt(p []byte, off int64) (int, error) { return c.h.WriteAt(p, off) }
func (c *consoleNode) Stat() (Attr, error)                      { return c.stat() }
func (c *consoleNode) Truncate(size int64) error                { return c.h.Truncate(size) }
func (c *consoleNode) Sync() error                              { return c.h.Sync() }
func (c *consoleNode) Close() error                             { return c.h.Close() }
func (c *consoleNode) ReadDir() ([]Dirent, error)               { return c.h.ReadDir() }

// IsTerminal reports whether the console is a terminal.
func (c *consoleNode) IsTerminal() bool {
	t, ok := c.h.(interface{ IsTerminal() bool })
	return ok && t.IsTerminal()
}

// SetAttr changes nothing persistent: the console's node is fixed.
func (c *consoleNode) SetAttr(s SetAttr) error {
	if hs, ok := c.h.(interface{ SetAttr(SetAttr) error }); ok {
		return hs.SetAttr(s)
	}
	return nil
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
	return Statfs{Type: devfsMagic, Bsize: 4096, Frsize: 4096, Namelen: NameMax, Files: maxDevices, Ffree: maxDevices - uint64(d.nodeCount())}, nil
}

// devHandle is an open device of the memory class (null, zero, full,
// random, urandom), the devfs root or one of its directories.
type devHandle struct {
	d    *Devfs
	name string
}

// dir reports whether the handle is a directory's.
func (h *devHandle) dir() bool {
	n, ok := h.d.node(h.name)
	return h.name == "/" || ok && n.dir
}

func (h *devHandle) ReadAt(p []byte, off int64) (int, error) {
	if h.dir() {
		return 0, linux.EISDIR
	}
	switch h.name {
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
	if h.dir() {
		return 0, linux.EISDIR
	}
	switch h.name {
	case "/full":
		return 0, linux.ENOSPC
	}
	return len(p), nil
}

func (h *devHandle) Stat() (Attr, error) { return h.d.Lstat(h.name) }

// MapsAnonymous implements AnonMapper: mmap of /dev/zero is anonymous
// memory; the other memory devices cannot be mapped.
func (h *devHandle) MapsAnonymous() bool { return h.name == "/zero" }
func (h *devHandle) Truncate(int64) error {
	if h.dir() {
		return linux.EISDIR
	}
	return nil
}
func (h *devHandle) Sync() error  { return linux.EINVAL }
func (h *devHandle) Close() error { return nil }

func (h *devHandle) ReadDir() ([]Dirent, error) {
	if !h.dir() {
		return nil, linux.ENOTDIR
	}
	if h.name != "/" {
		return nil, nil // an empty directory
	}
	out := make([]Dirent, 0, h.d.nodeCount())
	for name, n := range devNodes() {
		t := uint8(DTChar)
		switch {
		case n.link != "":
			t = DTLink
		case n.dir:
			t = DTDir
		}
		out = append(out, Dirent{Name: name, Ino: n.ino, Type: t})
	}
	h.d.mu.RLock()
	for name, a := range h.d.added {
		out = append(out, Dirent{Name: name, Ino: a.ino, Type: DTChar})
	}
	h.d.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
