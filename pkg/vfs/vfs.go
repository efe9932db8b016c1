// Package vfs is the simulated machine's file system: a mount table of
// backends (an in-memory tmpfs, host directories through afero, procfs,
// devfs), path resolution done by the VFS itself (".", "..", symlinks,
// mount crossing), and open file descriptions.
//
// Every symlink is resolved in the guest's namespace: a backend is never
// asked to follow one, so a guest cannot leave a host directory mounted at
// a guest path by "..", absolute symlinks or links pointing outside it.
package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// RAM returns the RAM tmpfs file contents live in.
func (v *FS) RAM() *mem.RAM { return v.ram }

// Mount is one file system attached at a path.
type Mount struct {
	Path     string // absolute, cleaned
	Type     string // tmpfs, hostfs, proc, devtmpfs, ...
	Source   string // host directory for hostfs, else the type
	ReadOnly bool
	Backend  Backend
	Dev      uint64 // minor of the anonymous device of the mount's files (unless the backend reports its own)

	parent *Mount // the mount it is attached to; nil for the first root
}

// FS is a mount table. Create one with New or NewDefaultRoot.
//
// Mounts stack as Linux's do: a mount attaches to the mount that is
// visible at its path (the one holding the directory, or the top of the
// mounts already there), hides it and what is mounted below it, and
// unmounting it reveals them again.
type FS struct {
	mu     sync.RWMutex
	mounts []*Mount // in mount order: a mount comes after its parent
	// protected are the directories that cannot be mounted on,
	// unmounted, renamed or removed (Protect).
	protected map[string]bool
	nextDev   uint64
	now       func() time.Time
	ram       *mem.RAM

	// Open files and rename hooks: a rename moves the paths of open
	// files under it (a directory descriptor follows its directory, as it
	// follows the inode on Linux) and tells the hooks (working
	// directories).
	filesMu     sync.Mutex
	files       map[*File]struct{}
	renameHooks []func(move func(p string) (string, bool))
}

// Option configures a new FS.
type Option func(*FS)

// WithRAM makes the FS keep tmpfs file contents in ram, a machine's RAM.
// Without it the FS has RAM of its own (DefaultRAM bytes).
func WithRAM(ram *mem.RAM) Option { return func(v *FS) { v.ram = ram } }

// DefaultRAM is the RAM of an FS made without WithRAM.
const DefaultRAM = 1 << 30

// New returns a VFS with root mounted at "/" (an empty tmpfs when root is
// nil).
func New(root afero.Fs, opts ...Option) *FS {
	v := &FS{nextDev: 1}
	for _, o := range opts {
		o(v)
	}
	if v.ram == nil {
		ram, err := mem.New(DefaultRAM)
		if err != nil {
			panic(fmt.Sprintf("vfs: %v", err)) // reserving address space only
		}
		runtime.SetFinalizer(ram, (*mem.RAM).Close)
		v.ram = ram
	}
	v.now = func() time.Time { return time.Unix(0, 0).UTC() }
	var b Backend
	typ := "rootfs"
	if root == nil {
		b, typ = NewTmpfs(v.Now, 0o755, v.ram, 0), "tmpfs"
	} else {
		b = NewAferofs(root)
	}
	v.mounts = []*Mount{{Path: "/", Type: typ, Source: typ, Backend: b, Dev: v.allocDev()}}
	return v
}

// NewDefaultRoot returns a tmpfs root with the SIS layout: /bin, /dev,
// /proc, /tmp, /etc (passwd, group, hostname), /models, /otel,
// /incidents, /var/log and /tmp/agentsys.
func NewDefaultRoot(hostname string, opts ...Option) (*FS, error) {
	v := New(nil, opts...)
	for _, d := range []string{"/bin", "/dev", "/etc", "/proc", "/tmp", "/models", "/otel", "/incidents", "/var/log", "/tmp/agentsys", "/root"} {
		if err := v.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := v.SetAttr("/tmp", SetAttr{Mode: ptr(uint32(0o1777))}); err != nil {
		return nil, err
	}
	if err := v.writeEtc(hostname); err != nil {
		return nil, err
	}
	return v, nil
}

// writeEtc writes the machine's files of /etc that do not exist yet: the
// users, groups, host name and the network's names (etcnet.go).
func (v *FS) writeEtc(hostname string) error {
	files := []struct{ name, data string }{
		{"/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{"/etc/group", "root:x:0:\nnogroup:x:65534:\n"},
		{"/etc/hostname", hostname + "\n"},
		{"/etc/hosts", etcHosts(hostname)},
		{"/etc/resolv.conf", etcResolvConf},
		{"/etc/services", etcServices},
	}
	for _, f := range files {
		if _, err := v.Lstat(f.name); err == nil {
			continue
		}
		if err := v.WriteFile(f.name, []byte(f.data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// NewTreeRoot returns a root for programs of a host tree, such as a
// Debian arm64 tree made with dpkg -x (as qemu-user's -L uses one): a
// tmpfs root with /dev, /proc and /tmp, where every top-level directory
// of dir is mounted read-only and every top-level symlink is copied (a
// merged-/usr tree's /bin -> usr/bin). /etc is a copy in the tmpfs, given
// the machine's files an installed system has and an unpacked tree lacks
// (passwd, group, hostname, hosts, resolv.conf, services). The guest can
// create files at the top level, in /etc and in /tmp; the tree itself is
// never changed.
func NewTreeRoot(dir, hostname string, opts ...Option) (*FS, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("root tree: %w", err)
	}
	v := New(nil, opts...)
	for _, d := range []string{"/dev", "/proc", "/tmp"} {
		if err := v.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := v.SetAttr("/tmp", SetAttr{Mode: ptr(uint32(0o1777))}); err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if name == "dev" || name == "proc" || name == "tmp" {
			continue
		}
		host := filepath.Join(dir, name)
		switch {
		case name == "etc" && e.IsDir():
			if err := v.copyIn(host, "/etc", maxEtcCopy); err != nil {
				return nil, fmt.Errorf("root tree: copying %s: %w", host, err)
			}
		case e.IsDir():
			if err := v.MountHost(host, "/"+name, true); err != nil {
				return nil, fmt.Errorf("root tree: mounting %s: %w", host, err)
			}
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return nil, fmt.Errorf("root tree: %w", err)
			}
			if err := v.Symlink(target, "/"+name); err != nil {
				return nil, fmt.Errorf("root tree: %s: %w", host, err)
			}
		}
	}
	if err := v.MkdirAll("/etc", 0o755); err != nil {
		return nil, err
	}
	if err := v.writeEtc(hostname); err != nil {
		return nil, err
	}
	return v, nil
}

// maxEtcCopy bounds the bytes of a tree's /etc copied into RAM.
const maxEtcCopy = 64 << 20

// copyIn copies the host directory dir to p: directories, regular files
// and symlinks (other files are left out), at most limit bytes of files.
func (v *FS) copyIn(dir, p string, limit int64) error {
	return filepath.WalkDir(dir, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, host)
		if err != nil {
			return err
		}
		dst := path.Join(p, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return v.MkdirAll(dst, uint32(info.Mode().Perm()))
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return err
			}
			return v.Symlink(target, dst)
		case d.Type().IsRegular():
			if limit -= info.Size(); limit < 0 {
				return fmt.Errorf("more than %d bytes", maxEtcCopy)
			}
			data, err := os.ReadFile(host)
			if err != nil {
				return err
			}
			return v.WriteFile(dst, data, uint32(info.Mode().Perm()))
		}
		return nil
	})
}

// SetClock sets the source of file times (the machine's wall clock).
func (v *FS) SetClock(now func() time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.now = now
}

// Now returns the time the file system stamps on files.
func (v *FS) Now() time.Time {
	v.mu.RLock()
	now := v.now
	v.mu.RUnlock()
	return now()
}

// allocDev returns a fresh anonymous device number (major 0), as Linux
// gives to tmpfs, proc and other virtual file systems.
func (v *FS) allocDev() uint64 {
	d := v.nextDev
	v.nextDev++
	return d
}

// Mount attaches backend b of type typ at the directory p (which must
// exist). A mount already at p is covered, not replaced: Unmount reveals
// it again.
func (v *FS) Mount(p, typ, source string, b Backend, readOnly bool) error {
	if !path.IsAbs(p) {
		return &fs.PathError{Op: "mount", Path: p, Err: linux.EINVAL}
	}
	p = path.Clean(p)
	if p != "/" {
		a, err := v.StatAt(nil, "/", p, true)
		if err != nil {
			return &fs.PathError{Op: "mount", Path: p, Err: err}
		}
		if !a.IsDir() {
			return &fs.PathError{Op: "mount", Path: p, Err: linux.ENOTDIR}
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.protected[p] {
		return &fs.PathError{Op: "mount", Path: p, Err: linux.EBUSY}
	}
	parent, _ := v.mountOfLocked(p)
	v.mounts = append(v.mounts, &Mount{Path: p, Type: typ, Source: source, ReadOnly: readOnly, Backend: b, Dev: v.allocDev(), parent: parent})
	return nil
}

// ReplaceBackend gives the mount visible at p the backend b in place of
// its own (a wrapper of it, say), keeping everything else: its device
// number, flags and the mounts on it. EINVAL if nothing is mounted at p.
func (v *FS) ReplaceBackend(p string, b Backend) error {
	p = path.Clean(p)
	v.mu.Lock()
	defer v.mu.Unlock()
	m, _ := v.mountOfLocked(p)
	if m.Path != p {
		return linux.EINVAL
	}
	m.Backend = b
	return nil
}

// MountHost attaches the host directory dir at the guest path p, creating
// p if needed.
func (v *FS) MountHost(dir, p string, readOnly bool) error {
	b, err := NewHostfs(dir, readOnly)
	if err != nil {
		return err
	}
	if err := v.MkdirAll(p, 0o755); err != nil {
		return err
	}
	return v.Mount(p, "hostfs", b.Dir(), b, readOnly)
}

// MountAfero attaches an afero file system at p.
func (v *FS) MountAfero(p string, afs afero.Fs, readOnly bool) error {
	if readOnly {
		afs = afero.NewReadOnlyFs(afs)
	}
	return v.Mount(p, "afero", afs.Name(), NewAferofs(afs), readOnly)
}

// Unmount detaches the file system visible at p, revealing what it
// covered (EINVAL if nothing is mounted at p; EBUSY for the first root or
// a mount that others are attached to).
func (v *FS) Unmount(p string) error {
	p = path.Clean(p)
	v.mu.Lock()
	defer v.mu.Unlock()
	m, _ := v.mountOfLocked(p)
	if m.Path != p {
		return linux.EINVAL
	}
	if m.parent == nil || v.protected[p] {
		return linux.EBUSY
	}
	idx := -1
	for i, x := range v.mounts {
		if x.parent == m {
			return linux.EBUSY
		}
		if x == m {
			idx = i
		}
	}
	v.mounts = append(v.mounts[:idx:idx], v.mounts[idx+1:]...)
	return nil
}

// Mounts returns every mount, covered ones included, in mount order (as
// /proc/mounts lists them).
func (v *FS) Mounts() []Mount {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Mount, len(v.mounts))
	for i, m := range v.mounts {
		out[i] = *m
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Dev < out[j].Dev })
	return out
}

// mountOf returns the mount visible at the canonical path p and p
// relative to the mount's root.
func (v *FS) mountOf(p string) (*Mount, string) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.mountOfLocked(p)
}

// mountOfLocked walks the mounts whose path leads to p, shortest path
// first and in mount order: each one attached to the mount visible so far
// covers it.
func (v *FS) mountOfLocked(p string) (*Mount, string) {
	var cur *Mount
	for {
		var next *Mount
		for _, m := range v.mounts {
			if m.parent == cur && covers(m.Path, p) && (next == nil || len(m.Path) < len(next.Path)) {
				next = m
			}
		}
		if next == nil {
			break
		}
		cur = next
	}
	if cur == nil {
		panic("vfs: no root mount")
	}
	switch {
	case cur.Path == "/":
		return cur, p
	case p == cur.Path:
		return cur, "/"
	}
	return cur, p[len(cur.Path):]
}

// covers reports whether a mount at mp holds the canonical path p.
func covers(mp, p string) bool {
	return mp == "/" || p == mp || strings.HasPrefix(p, mp) && p[len(mp)] == '/'
}

// isMountPoint reports whether a mount is visible at p.
func (v *FS) isMountPoint(p string) bool {
	m, _ := v.mountOf(p)
	return m.Path == p
}

// lstat describes the canonical path p without following a final symlink.
func (v *FS) lstat(p string) (Attr, *Mount, string, error) {
	m, rel := v.mountOf(p)
	a, err := m.Backend.Lstat(rel)
	if a.Dev == 0 {
		a.Dev = Makedev(0, uint32(m.Dev))
	}
	return a, m, rel, err
}

func (v *FS) readlink(c *Ctx, m *Mount, rel string) (string, error) {
	if cx, ok := m.Backend.(Contexter); ok && c != nil {
		return cx.ReadlinkCtx(c, rel)
	}
	return m.Backend.Readlink(rel)
}

// parentOf returns the canonical parent of the canonical path p.
func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// components splits p into its non-empty components.
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// resolved is the result of a path walk.
type resolved struct {
	path   string // canonical absolute path of the object
	dir    string // canonical path of the parent directory
	name   string // last component; "." or ".." when the path ended so, "" for "/"
	mount  *Mount
	rel    string // path within mount
	attr   Attr
	exists bool
	slash  bool       // the path ended in "/"
	link   *MagicLink // the path ended at a magic link to an object outside the VFS
}

// checkPath rejects paths Linux rejects before walking.
func checkPath(p string) error {
	switch {
	case p == "":
		return linux.ENOENT
	case len(p) >= PathMax:
		return linux.ENAMETOOLONG
	case strings.IndexByte(p, 0) >= 0:
		return linux.EINVAL
	}
	return nil
}

// resolve walks p from the canonical directory start. The parent of the
// result always exists and is a directory; the last component is followed
// when it is a symlink and follow is set (or the path ends in "/").
func (v *FS) resolve(c *Ctx, start, p string, follow bool) (*resolved, error) {
	return v.walk(c, start, p, follow, false)
}

// walk is resolve; with missingOK a missing directory ends the walk
// without an error: the rest of the path is taken as it is (cleaned), and
// the result does not exist.
func (v *FS) walk(c *Ctx, start, p string, follow, missingOK bool) (*resolved, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	root := c.root()
	cur := start
	if p[0] == '/' || cur == "" {
		cur = root
	}
	slash := strings.HasSuffix(p, "/")
	todo := components(p)
	links := 0
	at := func(dir, name string) (*resolved, error) {
		a, m, rel, err := v.lstat(dir)
		if err != nil {
			return nil, err
		}
		return &resolved{path: dir, dir: parentOf(dir), name: name, mount: m, rel: rel, attr: a, exists: true, slash: slash}, nil
	}
	if len(todo) == 0 {
		return at(cur, "")
	}
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		last := len(todo) == 0
		if len(comp) > NameMax {
			return nil, linux.ENAMETOOLONG
		}
		switch comp {
		case ".":
			if last {
				return at(cur, ".")
			}
			continue
		case "..":
			if cur != root { // ".." of the process's root is the root
				cur = parentOf(cur)
			}
			if last {
				return at(cur, "..")
			}
			continue
		}
		next := join(cur, comp)
		a, m, rel, err := v.lstat(next)
		if err == linux.ENOENT && last {
			return &resolved{path: next, dir: cur, name: comp, mount: m, rel: rel, slash: slash}, nil
		}
		if err == linux.ENOENT && missingOK {
			full := path.Clean(next + "/" + strings.Join(todo, "/"))
			return &resolved{path: full, dir: parentOf(full), name: path.Base(full), slash: slash}, nil
		}
		if err != nil {
			return nil, err
		}
		if a.IsSymlink() && (!last || follow || slash) {
			if ml, ok := m.Backend.(MagicLinker); ok {
				ln, err := ml.MagicLink(c, rel)
				if err != nil {
					return nil, err
				}
				if ln != nil {
					if !last || slash {
						return nil, linux.ENOTDIR
					}
					return &resolved{path: next, dir: cur, name: comp, mount: m, rel: rel, attr: ln.Attr, exists: true, link: ln}, nil
				}
			}
			links++
			if links > MaxSymlinks {
				return nil, linux.ELOOP
			}
			target, err := v.readlink(c, m, rel)
			if err != nil {
				return nil, err
			}
			if target == "" {
				return nil, linux.ENOENT
			}
			if target[0] == '/' {
				cur = root
			}
			if last && strings.HasSuffix(target, "/") {
				slash = true // the link's own trailing slash: a directory or ENOTDIR
			}
			tc := components(target)
			if len(tc) == 0 && last {
				return at(cur, "")
			}
			todo = append(tc, todo...)
			continue
		}
		if last {
			if slash && !a.IsDir() {
				return nil, linux.ENOTDIR
			}
			return &resolved{path: next, dir: cur, name: comp, mount: m, rel: rel, attr: a, exists: true, slash: slash}, nil
		}
		if !a.IsDir() {
			return nil, linux.ENOTDIR
		}
		cur = next
	}
	panic("unreachable")
}

// Resolve returns the canonical path of p walked from start, following
// every symlink (realpath).
func (v *FS) Resolve(c *Ctx, start, p string) (string, Attr, error) {
	r, err := v.resolve(c, start, p, true)
	if err != nil {
		return "", Attr{}, err
	}
	if !r.exists {
		return "", Attr{}, linux.ENOENT
	}
	return r.path, r.attr, nil
}

// Realpath returns the canonical path that p, walked from "/", leads to,
// following every symlink (the last one only when followLast), as the
// VFS itself resolves it. Missing files and directories are no error:
// from the first one on, the rest of the path is taken as it is, as
// `realpath -m` does. More than MaxSymlinks links fail with ELOOP.
func (v *FS) Realpath(c *Ctx, p string, followLast bool) (string, error) {
	r, err := v.walk(c, "/", p, followLast, true)
	if err != nil {
		return "", err
	}
	return r.path, nil
}

// StatAt describes p walked from start; follow says whether a final
// symlink is followed.
func (v *FS) StatAt(c *Ctx, start, p string, follow bool) (Attr, error) {
	r, err := v.resolve(c, start, p, follow)
	if err != nil {
		return Attr{}, err
	}
	if !r.exists {
		return Attr{}, linux.ENOENT
	}
	return r.attr, nil
}

// checkWritable fails with EROFS on a read-only mount.
func checkWritable(m *Mount) error {
	if m.ReadOnly {
		return linux.EROFS
	}
	return nil
}

// OpenAt opens p walked from start with Linux open flags; perm is the mode
// of a created file (umask already applied). A FIFO is opened by its file
// system (see OpenNodeAt); a magic link to an object outside the VFS
// fails with ENXIO.
func (v *FS) OpenAt(c *Ctx, start, p string, flags int, perm uint32) (*File, error) {
	f, n, err := v.openAt(c, start, p, flags, perm, false)
	if err == nil && n != nil {
		err = linux.ENXIO
	}
	return f, err
}

func (v *FS) openAt(c *Ctx, start, p string, flags int, perm uint32, nodes bool) (*File, *Node, error) {
	creat := flags&linux.O_CREAT != 0
	excl := creat && flags&linux.O_EXCL != 0
	follow := flags&linux.O_NOFOLLOW == 0 && !excl
	if flags&linux.O_TMPFILE == linux.O_TMPFILE {
		return nil, nil, linux.EOPNOTSUPP
	}
	r, err := v.resolve(c, start, p, follow)
	if err != nil {
		return nil, nil, err
	}
	if creat && flags&linux.O_DIRECTORY != 0 {
		return nil, nil, linux.EINVAL // Linux 6.4 and later
	}
	acc := flags & linux.O_ACCMODE
	if acc == linux.O_ACCMODE && flags&linux.O_PATH == 0 {
		return nil, nil, linux.EINVAL
	}
	writes := acc != linux.O_RDONLY || flags&linux.O_TRUNC != 0
	if !r.exists {
		switch {
		case !creat:
			return nil, nil, linux.ENOENT
		case r.slash:
			return nil, nil, linux.EISDIR
		case flags&linux.O_DIRECTORY != 0:
			return nil, nil, linux.EINVAL
		}
		if err := checkWritable(r.mount); err != nil {
			return nil, nil, err
		}
		h, err := r.mount.Backend.Open(r.rel, flags&(linux.O_ACCMODE|linux.O_CREAT|linux.O_EXCL|linux.O_TRUNC), perm&ModePerm)
		if err != nil {
			return nil, nil, err
		}
		return newFile(v, r.path, r.mount, h, flags), nil, nil
	}
	switch {
	case excl:
		return nil, nil, linux.EEXIST
	case r.attr.IsSymlink():
		return nil, nil, linux.ELOOP
	case r.attr.IsDir() && (creat || acc != linux.O_RDONLY):
		return nil, nil, linux.EISDIR
	case !r.attr.IsDir() && flags&linux.O_DIRECTORY != 0:
		return nil, nil, linux.ENOTDIR
	case writes && r.attr.Mode&ModeType == ModeRegular && r.mount.ReadOnly:
		return nil, nil, linux.EROFS
	case writes && r.attr.IsDir() && r.mount.ReadOnly:
		return nil, nil, linux.EROFS
	case r.attr.Flags&linux.FS_APPEND_FL != 0 && (acc != linux.O_RDONLY && flags&linux.O_APPEND == 0 || flags&linux.O_TRUNC != 0):
		return nil, nil, linux.EPERM // append-only: writes must append
	}
	if t := r.attr.Mode & ModeType; t != ModeRegular && t != ModeDir || r.link != nil {
		h, n, err := v.openSpecial(r, flags)
		switch {
		case err != nil:
			return nil, nil, err
		case n != nil && (nodes || n.Link != nil):
			return nil, n, nil
		case h != nil:
			return newFile(v, r.path, r.mount, h, flags), nil, nil
		}
	}
	bflags := flags & (linux.O_ACCMODE | linux.O_TRUNC)
	if r.attr.Mode&ModeType != ModeRegular {
		bflags &^= linux.O_TRUNC
	}
	h, err := r.mount.Backend.Open(r.rel, bflags, 0)
	if err != nil {
		return nil, nil, err
	}
	return newFile(v, r.path, r.mount, h, flags), nil, nil
}

// create resolves p for creating a new entry: the parent must exist, the
// entry must not.
func (v *FS) create(c *Ctx, start, p string) (*resolved, error) {
	// A trailing slash does not make creation follow a final symlink
	// (mkdir "link/" of a dangling link is EEXIST, as on Linux).
	q := strings.TrimRight(p, "/")
	if q == "" {
		q = p
	}
	r, err := v.resolve(c, start, q, false)
	if err != nil {
		return nil, err
	}
	r.slash = strings.HasSuffix(p, "/")
	if r.exists {
		return nil, linux.EEXIST
	}
	return r, checkWritable(r.mount)
}

// MkdirAt creates the directory p.
func (v *FS) MkdirAt(c *Ctx, start, p string, perm uint32) error {
	r, err := v.create(c, start, p)
	if err != nil {
		return err
	}
	return r.mount.Backend.Mkdir(r.rel, perm&ModePerm)
}

// SymlinkAt creates the symlink p pointing to target.
func (v *FS) SymlinkAt(c *Ctx, target, start, p string) error {
	if err := checkPath(target); err != nil {
		return err
	}
	r, err := v.create(c, start, p)
	if err != nil {
		return err
	}
	if r.slash {
		return linux.ENOENT
	}
	return r.mount.Backend.Symlink(target, r.rel)
}

// LinkAt creates the hard link newp to oldp; follow says whether a
// symlink oldp is followed (AT_SYMLINK_FOLLOW).
func (v *FS) LinkAt(c *Ctx, oldStart, oldp, newStart, newp string, follow bool) error {
	o, err := v.resolve(c, oldStart, oldp, follow)
	if err != nil {
		return err
	}
	if !o.exists {
		return linux.ENOENT
	}
	if o.attr.IsDir() {
		return linux.EPERM
	}
	n, err := v.resolve(c, newStart, newp, false)
	if err != nil {
		return err
	}
	if n.exists {
		return linux.EEXIST
	}
	if n.slash {
		return linux.ENOENT
	}
	if o.mount != n.mount {
		return linux.EXDEV
	}
	if err := checkWritable(n.mount); err != nil {
		return err
	}
	return n.mount.Backend.Link(o.rel, n.rel)
}

// ReadlinkAt returns the target of the symlink p.
func (v *FS) ReadlinkAt(c *Ctx, start, p string) (string, error) {
	r, err := v.resolve(c, start, p, false)
	if err != nil {
		return "", err
	}
	if !r.exists {
		return "", linux.ENOENT
	}
	if !r.attr.IsSymlink() {
		return "", linux.EINVAL
	}
	return v.readlink(c, r.mount, r.rel)
}

// UnlinkAt removes p: a directory (rmdir) when dir is set, else any other
// file.
func (v *FS) UnlinkAt(c *Ctx, start, p string, dir bool) error {
	r, err := v.resolve(c, start, p, false)
	if err != nil {
		return err
	}
	if !r.exists {
		return linux.ENOENT
	}
	if dir {
		switch {
		case r.name == ".":
			return linux.EINVAL
		case r.name == "..":
			return linux.ENOTEMPTY
		case !r.attr.IsDir():
			return linux.ENOTDIR
		case r.path == "/" || v.isMountPoint(r.path) || v.isProtected(r.path):
			return linux.EBUSY
		}
		if err := checkWritable(r.mount); err != nil {
			return err
		}
		return r.mount.Backend.Rmdir(r.rel)
	}
	if r.attr.IsDir() {
		return linux.EISDIR
	}
	if r.slash {
		return linux.ENOTDIR
	}
	if err := checkWritable(r.mount); err != nil {
		return err
	}
	return r.mount.Backend.Unlink(r.rel)
}

// Rename flags (renameat2).
const (
	RenameNoreplace = 1
	RenameExchange  = 2
	RenameWhiteout  = 4
)

// RenameAt renames oldp to newp with renameat2 flags.
func (v *FS) RenameAt(c *Ctx, oldStart, oldp, newStart, newp string, flags uint) error {
	if flags&^(RenameNoreplace|RenameExchange|RenameWhiteout) != 0 ||
		flags&RenameExchange != 0 && flags&(RenameNoreplace|RenameWhiteout) != 0 {
		return linux.EINVAL
	}
	if flags&RenameWhiteout != 0 {
		return linux.EINVAL
	}
	o, err := v.resolve(c, oldStart, oldp, false)
	if err != nil {
		return err
	}
	if !o.exists {
		return linux.ENOENT
	}
	n, err := v.resolve(c, newStart, newp, false)
	if err != nil {
		return err
	}
	switch {
	case o.name == "." || o.name == ".." || o.name == "" || n.name == "." || n.name == ".." || n.name == "":
		return linux.EBUSY
	case o.slash && !o.attr.IsDir():
		return linux.ENOTDIR
	case v.parentMount(o) != v.parentMount(n):
		return linux.EXDEV
	case v.isMountPoint(o.path) || v.isMountPoint(n.path) || v.isProtected(o.path) || v.isProtected(n.path):
		return linux.EBUSY
	case flags&RenameNoreplace != 0 && n.exists:
		return linux.EEXIST
	case flags&RenameExchange != 0 && !n.exists:
		return linux.ENOENT
	case o.attr.IsDir() && (n.path == o.path || strings.HasPrefix(n.path, o.path+"/")):
		if n.path == o.path {
			return nil
		}
		return linux.EINVAL
	case n.exists && flags&RenameExchange == 0 && o.attr.Ino == n.attr.Ino:
		return nil
	case n.exists && flags&RenameExchange == 0 && o.attr.IsDir() && !n.attr.IsDir():
		return linux.ENOTDIR
	case n.exists && flags&RenameExchange == 0 && !o.attr.IsDir() && n.attr.IsDir():
		return linux.EISDIR
	case !n.exists && n.slash && !o.attr.IsDir():
		return linux.ENOTDIR
	}
	if err := checkWritable(o.mount); err != nil {
		return err
	}
	if err := o.mount.Backend.Rename(o.rel, n.rel, flags&RenameExchange != 0); err != nil {
		return err
	}
	v.renamed(o.path, n.path, flags&RenameExchange != 0)
	return nil
}

// OnRename calls f after every rename with the function that maps a path
// to where the rename moved it (both ways for an exchange).
func (v *FS) OnRename(f func(move func(p string) (string, bool))) {
	v.filesMu.Lock()
	defer v.filesMu.Unlock()
	v.renameHooks = append(v.renameHooks, f)
}

// MovedPath returns p with the prefix from replaced by to, when p is
// from or under it (where a rename of from to to moved p).
func MovedPath(p, from, to string) (string, bool) {
	switch {
	case p == from:
		return to, true
	case strings.HasPrefix(p, from+"/"):
		return to + p[len(from):], true
	}
	return p, false
}

// renamed moves the paths of open files after a rename of oldp to newp.
func (v *FS) renamed(oldp, newp string, exchange bool) {
	move := func(p string) (string, bool) {
		if q, ok := MovedPath(p, oldp, newp); ok {
			return q, true
		}
		if exchange {
			return MovedPath(p, newp, oldp)
		}
		return p, false
	}
	v.filesMu.Lock()
	hooks := v.renameHooks
	for f := range v.files {
		f.mu.Lock()
		f.Path, _ = move(f.Path)
		f.mu.Unlock()
	}
	v.filesMu.Unlock()
	for _, h := range hooks {
		h(move)
	}
}

// parentMount returns the mount holding r's directory entry (for a mount
// point, the mount below it).
func (v *FS) parentMount(r *resolved) *Mount {
	m, _ := v.mountOf(r.dir)
	return m
}

// SetAttrAt changes attributes of p.
func (v *FS) SetAttrAt(c *Ctx, start, p string, follow bool, s SetAttr) error {
	r, err := v.resolve(c, start, p, follow)
	if err != nil {
		return err
	}
	if !r.exists {
		return linux.ENOENT
	}
	if s.Size != nil {
		switch {
		case r.attr.IsDir():
			return linux.EISDIR
		case r.attr.Mode&ModeType != ModeRegular:
			return linux.EINVAL
		case *s.Size < 0:
			return linux.EINVAL
		}
	}
	if err := checkWritable(r.mount); err != nil {
		return err
	}
	if r.attr.IsSymlink() && s.Mode != nil {
		return linux.EOPNOTSUPP
	}
	return r.mount.Backend.SetAttr(r.rel, s)
}

// Access bits of faccessat.
const (
	AccessX = 1
	AccessW = 2
	AccessR = 4
)

// AccessAt checks whether a caller with the given credentials may access p
// with mode (R_OK|W_OK|X_OK bits; 0 checks existence).
func (v *FS) AccessAt(c *Ctx, start, p string, mode uint32, follow bool, uid, gid uint32) error {
	if mode&^7 != 0 {
		return linux.EINVAL
	}
	r, err := v.resolve(c, start, p, follow)
	if err != nil {
		return err
	}
	if !r.exists {
		return linux.ENOENT
	}
	if mode&AccessW != 0 && r.mount.ReadOnly && (r.attr.Mode&ModeType == ModeRegular || r.attr.IsDir() || r.attr.IsSymlink()) {
		return linux.EROFS
	}
	return permits(r.attr, mode, uid, gid)
}

// permits applies the Unix permission check (root passes everything but
// execute on files with no execute bit).
func permits(a Attr, mode, uid, gid uint32) error {
	if uid == 0 {
		if mode&AccessX != 0 && !a.IsDir() && a.Mode&0o111 == 0 {
			return linux.EACCES
		}
		return nil
	}
	perm := a.Mode & 7
	switch {
	case a.UID == uid:
		perm = a.Mode >> 6 & 7
	case a.GID == gid:
		perm = a.Mode >> 3 & 7
	}
	if mode&perm != mode {
		return linux.EACCES
	}
	return nil
}

// StatfsAt describes the file system holding p.
func (v *FS) StatfsAt(c *Ctx, start, p string) (Statfs, error) {
	r, err := v.resolve(c, start, p, true)
	if err != nil {
		return Statfs{}, err
	}
	if !r.exists {
		return Statfs{}, linux.ENOENT
	}
	return mountStatfs(r.mount)
}

func mountStatfs(m *Mount) (Statfs, error) {
	st, err := m.Backend.Statfs()
	if m.ReadOnly {
		st.Flags |= stRdonly
	}
	if st.Fsid == [2]int32{} {
		// As Linux's file systems derive it from the device
		// (huge_encode_dev).
		dev := Makedev(0, uint32(m.Dev))
		st.Fsid = [2]int32{int32(uint32(dev)), int32(dev >> 32)}
	}
	return st, err
}

// Convenience methods for the kernel and embedders: absolute paths, every
// symlink followed, errors as *fs.PathError wrapping a linux.Errno.

// Stat describes the file at the absolute path p, following symlinks.
// The FileInfo's Sys is the *Attr.
func (v *FS) Stat(p string) (fs.FileInfo, error) {
	a, err := v.StatAt(nil, "/", p, true)
	if err != nil {
		return nil, pathErr("stat", p, err)
	}
	return &FileInfo{name: path.Base(p), a: a}, nil
}

// Lstat describes the file at p without following a final symlink.
func (v *FS) Lstat(p string) (fs.FileInfo, error) {
	a, err := v.StatAt(nil, "/", p, false)
	if err != nil {
		return nil, pathErr("lstat", p, err)
	}
	return &FileInfo{name: path.Base(p), a: a}, nil
}

// FileInfo is an fs.FileInfo over an Attr.
type FileInfo struct {
	name string
	a    Attr
}

// NewFileInfo returns the FileInfo of a file called name with attributes a.
func NewFileInfo(name string, a Attr) *FileInfo { return &FileInfo{name: name, a: a} }

func (fi *FileInfo) Name() string       { return fi.name }
func (fi *FileInfo) Size() int64        { return fi.a.Size }
func (fi *FileInfo) ModTime() time.Time { return fi.a.Mtime }
func (fi *FileInfo) IsDir() bool        { return fi.a.IsDir() }
func (fi *FileInfo) Sys() any           { return &fi.a }

// Mode converts st_mode to an fs.FileMode.
func (fi *FileInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.a.Mode & 0o777)
	switch fi.a.Mode & ModeType {
	case ModeDir:
		m |= fs.ModeDir
	case ModeSymlink:
		m |= fs.ModeSymlink
	case ModeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case ModeBlock:
		m |= fs.ModeDevice
	case ModeFIFO:
		m |= fs.ModeNamedPipe
	case ModeSocket:
		m |= fs.ModeSocket
	}
	if fi.a.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if fi.a.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if fi.a.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// Open opens the file at p with Linux O_* flags.
func (v *FS) Open(p string, flags int, perm uint32) (*File, error) {
	f, err := v.OpenAt(nil, "/", p, flags, perm)
	return f, pathErr("open", p, err)
}

// Mkdir creates a directory.
func (v *FS) Mkdir(p string, perm uint32) error {
	return pathErr("mkdir", p, v.MkdirAt(nil, "/", p, perm))
}

// MkdirAll creates a directory and its missing parents.
func (v *FS) MkdirAll(p string, perm uint32) error {
	p = path.Clean("/" + p)
	cur := "/"
	for _, c := range components(p) {
		cur = join(cur, c)
		err := v.MkdirAt(nil, "/", cur, perm)
		if err == linux.EEXIST {
			if a, serr := v.StatAt(nil, "/", cur, true); serr == nil && a.IsDir() {
				continue
			}
			err = linux.ENOTDIR
		}
		if err != nil {
			return pathErr("mkdir", cur, err)
		}
	}
	return nil
}

// Remove removes a file or an empty directory.
func (v *FS) Remove(p string) error {
	err := v.UnlinkAt(nil, "/", p, false)
	if err == linux.EISDIR {
		err = v.UnlinkAt(nil, "/", p, true)
	}
	return pathErr("remove", p, err)
}

// Symlink creates the symlink p pointing to target.
func (v *FS) Symlink(target, p string) error {
	return pathErr("symlink", p, v.SymlinkAt(nil, target, "/", p))
}

// Readlink returns the target of the symlink p.
func (v *FS) Readlink(p string) (string, error) {
	t, err := v.ReadlinkAt(nil, "/", p)
	return t, pathErr("readlink", p, err)
}

// Rename renames oldp to newp.
func (v *FS) Rename(oldp, newp string) error {
	return pathErr("rename", oldp, v.RenameAt(nil, "/", oldp, "/", newp, 0))
}

// SetAttr changes attributes of p, following symlinks.
func (v *FS) SetAttr(p string, s SetAttr) error {
	return pathErr("setattr", p, v.SetAttrAt(nil, "/", p, true, s))
}

// SetAppendOnly gives the regular file p the append-only inode flag
// (chattr +a): writes only append; it cannot be truncated, unlinked,
// renamed, replaced, linked or changed in its attributes, by guests or by
// Go code. Backends without inode flags return EOPNOTSUPP.
func (v *FS) SetAppendOnly(p string) error {
	return pathErr("set append-only", p, v.setAppendOnly(p, true))
}

// ClearAppendOnly takes the append-only flag off the file p (chattr -a;
// for the service that owns a log, to rotate it: guests cannot).
func (v *FS) ClearAppendOnly(p string) error {
	return pathErr("clear append-only", p, v.setAppendOnly(p, false))
}

func (v *FS) setAppendOnly(p string, on bool) error {
	r, err := v.resolve(nil, "/", p, true)
	if err != nil {
		return err
	}
	if !r.exists {
		return linux.ENOENT
	}
	fb, ok := r.mount.Backend.(interface{ SetFlags(string, uint32) error })
	if !ok {
		return linux.EOPNOTSUPP
	}
	flags := r.attr.Flags &^ linux.FS_APPEND_FL
	if on {
		flags |= linux.FS_APPEND_FL
	}
	return fb.SetFlags(r.rel, flags)
}

// Protect fixes the directory p and every directory above it in the
// namespace, for good: mounting on one of them, unmounting one, renaming
// one (from or to) or removing one fails with EBUSY. A service that keeps
// a file at a fixed path (an audit log) protects its directory so that no
// guest can make the path lead elsewhere.
func (v *FS) Protect(p string) error {
	if !path.IsAbs(p) {
		return pathErr("protect", p, linux.EINVAL)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.protected == nil {
		v.protected = map[string]bool{}
	}
	for q := path.Clean(p); ; q = parentOf(q) {
		v.protected[q] = true
		if q == "/" {
			return nil
		}
	}
}

// isProtected reports whether the canonical path p is a protected
// directory.
func (v *FS) isProtected(p string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.protected[p]
}

// WriteFile creates or replaces the file at p with data.
func (v *FS) WriteFile(p string, data []byte, perm uint32) error {
	f, err := v.Open(p, linux.O_WRONLY|linux.O_CREAT|linux.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	return pathErr("write", p, errors.Join(werr, cerr))
}

// ReadFile reads the whole file at p.
func (v *FS) ReadFile(p string) ([]byte, error) {
	f, err := v.Open(p, linux.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return nil, pathErr("read", p, err)
		}
		if n == 0 {
			return out, nil
		}
	}
}

// ReadDir lists the directory p (without "." and "..").
func (v *FS) ReadDir(p string) ([]Dirent, error) {
	f, err := v.Open(p, linux.O_RDONLY|linux.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.h.ReadDir()
	return ents, pathErr("readdir", p, err)
}

// pathErr wraps a non-nil errno with the operation and path.
func pathErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// String describes a mount as a /proc/mounts line.
func (m *Mount) String() string {
	opt := "rw"
	if m.ReadOnly {
		opt = "ro"
	}
	return fmt.Sprintf("%s %s %s %s 0 0", m.Source, m.Path, m.Type, opt)
}
