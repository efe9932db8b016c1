// Package vfs is the simulated machine's file system: a mount table over
// afero file systems (an in-memory tmpfs root, host directories, synthetic
// file systems), path resolution, and open file descriptions.
package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/afero"
)

// Mount is one file system attached at a path.
type Mount struct {
	Path     string // absolute, cleaned
	Type     string // tmpfs, hostfs, proc, devtmpfs, ...
	Source   string // host directory for hostfs, else the type
	FS       afero.Fs
	ReadOnly bool
}

// FS is a mount table. The zero value is not usable; call New.
type FS struct {
	mu     sync.RWMutex
	mounts []*Mount // sorted by descending path length
}

// New returns a VFS with root mounted at "/" (an in-memory tmpfs when root
// is nil).
func New(root afero.Fs) *FS {
	typ := "rootfs"
	if root == nil {
		root, typ = afero.NewMemMapFs(), "tmpfs"
	}
	v := &FS{}
	v.mounts = []*Mount{{Path: "/", Type: typ, Source: typ, FS: root}}
	return v
}

// Mount attaches m at m.Path, replacing an earlier mount at the same path.
func (v *FS) Mount(m Mount) error {
	if !path.IsAbs(m.Path) {
		return &fs.PathError{Op: "mount", Path: m.Path, Err: fs.ErrInvalid}
	}
	m.Path = path.Clean(m.Path)
	if m.ReadOnly {
		m.FS = afero.NewReadOnlyFs(m.FS)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.mounts[:0:0]
	for _, old := range v.mounts {
		if old.Path != m.Path {
			out = append(out, old)
		}
	}
	out = append(out, &m)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Path) > len(out[j].Path) })
	v.mounts = out
	return nil
}

// Mounts returns the mount table, root first.
func (v *FS) Mounts() []Mount {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Mount, len(v.mounts))
	for i, m := range v.mounts {
		out[len(out)-1-i] = *m
	}
	return out
}

// Resolve returns the mount holding the absolute path p and p relative to
// that mount's root.
func (v *FS) Resolve(p string) (*Mount, string) {
	p = path.Clean("/" + p)
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, m := range v.mounts {
		if m.Path == "/" || p == m.Path || strings.HasPrefix(p, m.Path+"/") {
			rel := strings.TrimPrefix(p, m.Path)
			if rel == "" {
				rel = "/"
			}
			return m, rel
		}
	}
	panic("vfs: no root mount")
}

// Stat returns information about the file at p.
func (v *FS) Stat(p string) (fs.FileInfo, error) {
	m, rel := v.Resolve(p)
	fi, err := m.FS.Stat(rel)
	return fi, pathErr("stat", p, err)
}

// Open opens the file at p with os.O_* flags.
func (v *FS) Open(p string, flag int, perm fs.FileMode) (*File, error) {
	m, rel := v.Resolve(p)
	if flag&os.O_CREATE != 0 {
		if fi, err := m.FS.Stat(path.Dir(rel)); err != nil {
			return nil, pathErr("open", p, err)
		} else if !fi.IsDir() {
			return nil, &fs.PathError{Op: "open", Path: p, Err: errNotDir}
		}
	}
	f, err := m.FS.OpenFile(rel, flag, perm)
	if err != nil {
		return nil, pathErr("open", p, err)
	}
	return &File{Path: path.Clean(p), Flags: flag, f: f, mount: m}, nil
}

// Mkdir creates a directory.
func (v *FS) Mkdir(p string, perm fs.FileMode) error {
	m, rel := v.Resolve(p)
	if _, err := m.FS.Stat(rel); err == nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: fs.ErrExist}
	}
	if _, err := m.FS.Stat(path.Dir(rel)); err != nil {
		return pathErr("mkdir", p, err)
	}
	return pathErr("mkdir", p, m.FS.Mkdir(rel, perm))
}

// MkdirAll creates a directory and its parents.
func (v *FS) MkdirAll(p string, perm fs.FileMode) error {
	m, rel := v.Resolve(p)
	return pathErr("mkdir", p, m.FS.MkdirAll(rel, perm))
}

// Remove removes a file or an empty directory.
func (v *FS) Remove(p string) error {
	m, rel := v.Resolve(p)
	return pathErr("remove", p, m.FS.Remove(rel))
}

// WriteFile creates or replaces the file at p with data.
func (v *FS) WriteFile(p string, data []byte, perm fs.FileMode) error {
	m, rel := v.Resolve(p)
	return pathErr("write", p, afero.WriteFile(m.FS, rel, data, perm))
}

// ReadFile reads the whole file at p.
func (v *FS) ReadFile(p string) ([]byte, error) {
	m, rel := v.Resolve(p)
	b, err := afero.ReadFile(m.FS, rel)
	return b, pathErr("read", p, err)
}

var errNotDir = errors.New("not a directory")

// ErrNotDir reports a path component that is not a directory.
var ErrNotDir = errNotDir

// pathErr normalises afero's errors to the fs package's sentinel errors.
func pathErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, afero.ErrFileExists):
		err = fs.ErrExist
	case errors.Is(err, afero.ErrFileNotFound):
		err = fs.ErrNotExist
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: p, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}
