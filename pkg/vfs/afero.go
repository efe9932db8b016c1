package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"time"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Afero returns the VFS as an afero.Fs, the file system the kernel hands
// to its services: absolute paths through the mount table, symlinks
// followed, errors as *fs.PathError wrapping a linux.Errno (so
// errors.Is(err, fs.ErrNotExist) works). It also implements
// afero.Lstater, afero.Symlinker, and the FS methods Realpath,
// SetAppendOnly and Protect.
func (v *FS) Afero() afero.Fs { return aferoFS{v} }

type aferoFS struct{ v *FS }

var (
	_ afero.Fs        = aferoFS{}
	_ afero.Symlinker = aferoFS{}
	_ afero.File      = (*aferoFile)(nil)
)

// linuxFlags converts os.O_* flags to Linux O_* flags.
func linuxFlags(flag int) int {
	f := 0
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_WRONLY:
		f = linux.O_WRONLY
	case os.O_RDWR:
		f = linux.O_RDWR
	}
	for _, m := range [][2]int{
		{os.O_CREATE, linux.O_CREAT}, {os.O_EXCL, linux.O_EXCL},
		{os.O_TRUNC, linux.O_TRUNC}, {os.O_APPEND, linux.O_APPEND},
		{os.O_SYNC, linux.O_SYNC},
	} {
		if flag&m[0] != 0 {
			f |= m[1]
		}
	}
	return f
}

func (a aferoFS) Name() string { return "sissim-vfs" }

func (a aferoFS) Create(name string) (afero.File, error) {
	return a.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (a aferoFS) Open(name string) (afero.File, error) {
	return a.OpenFile(name, os.O_RDONLY, 0)
}

func (a aferoFS) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := a.v.Open(name, linuxFlags(flag), uint32(perm.Perm()))
	if err != nil {
		return nil, err
	}
	return &aferoFile{f: f, name: name}, nil
}

func (a aferoFS) Mkdir(name string, perm os.FileMode) error {
	return a.v.Mkdir(name, uint32(perm.Perm()))
}

func (a aferoFS) MkdirAll(p string, perm os.FileMode) error {
	return a.v.MkdirAll(p, uint32(perm.Perm()))
}

func (a aferoFS) Remove(name string) error { return a.v.Remove(name) }

func (a aferoFS) RemoveAll(p string) error {
	fi, err := a.v.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		ents, err := a.v.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := a.RemoveAll(path.Join(p, e.Name)); err != nil {
				return err
			}
		}
	}
	return a.v.Remove(p)
}

func (a aferoFS) Rename(oldname, newname string) error { return a.v.Rename(oldname, newname) }

func (a aferoFS) Stat(name string) (os.FileInfo, error) { return a.v.Stat(name) }

func (a aferoFS) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := a.v.Lstat(name)
	return fi, true, err
}

func (a aferoFS) SymlinkIfPossible(oldname, newname string) error {
	return a.v.Symlink(oldname, newname)
}

func (a aferoFS) ReadlinkIfPossible(name string) (string, error) { return a.v.Readlink(name) }

// SetAppendOnly sets or clears the append-only flag of the file name
// (FS.SetAppendOnly, FS.ClearAppendOnly).
func (a aferoFS) SetAppendOnly(name string, on bool) error {
	if on {
		return a.v.SetAppendOnly(name)
	}
	return a.v.ClearAppendOnly(name)
}

// Protect fixes the directory name and those above it (FS.Protect).
func (a aferoFS) Protect(name string) error { return a.v.Protect(name) }

// Realpath returns the canonical path name leads to (FS.Realpath).
func (a aferoFS) Realpath(name string, followLast bool) (string, error) {
	p, err := a.v.Realpath(nil, name, followLast)
	return p, pathErr("realpath", name, err)
}

func (a aferoFS) Chmod(name string, mode os.FileMode) error {
	m := uint32(mode.Perm())
	return a.v.SetAttr(name, SetAttr{Mode: &m})
}

func (a aferoFS) Chown(name string, uid, gid int) error {
	u, g := uint32(uid), uint32(gid)
	return a.v.SetAttr(name, SetAttr{UID: &u, GID: &g})
}

func (a aferoFS) Chtimes(name string, atime, mtime time.Time) error {
	return a.v.SetAttr(name, SetAttr{Atime: &atime, Mtime: &mtime})
}

// aferoFile is an open vfs.File as an afero.File.
type aferoFile struct {
	f    *File
	name string
	dir  []os.FileInfo // directory listing, read on the first Readdir
	dpos int
}

func (f *aferoFile) Name() string { return f.name }
func (f *aferoFile) Close() error { return f.f.Close() }
func (f *aferoFile) Sync() error  { return f.f.Sync() }

func (f *aferoFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := f.f.Read(p)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return n, pathErr("read", f.name, err)
}

func (f *aferoFile) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := f.f.ReadAt(p[total:], off+int64(total))
		total += n
		if err != nil {
			return total, pathErr("read", f.name, err)
		}
		if n == 0 {
			return total, io.EOF
		}
	}
	return total, nil
}

func (f *aferoFile) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	return n, pathErr("write", f.name, err)
}

func (f *aferoFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.f.WriteAt(p, off)
	return n, pathErr("write", f.name, err)
}

func (f *aferoFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *aferoFile) Seek(off int64, whence int) (int64, error) {
	n, err := f.f.Seek(off, whence)
	return n, pathErr("seek", f.name, err)
}

func (f *aferoFile) Stat() (os.FileInfo, error) {
	a, err := f.f.Stat()
	if err != nil {
		return nil, pathErr("stat", f.name, err)
	}
	return &FileInfo{name: path.Base(f.name), a: a}, nil
}

func (f *aferoFile) Truncate(size int64) error {
	return pathErr("truncate", f.name, f.f.SetAttr(SetAttr{Size: &size}))
}

// Readdir lists the directory sorted by name, count entries at a time
// (all when count <= 0), as os.File.Readdir does.
func (f *aferoFile) Readdir(count int) ([]os.FileInfo, error) {
	if f.dir == nil {
		ents, err := f.f.Handle().ReadDir()
		if err != nil {
			return nil, pathErr("readdir", f.name, err)
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
		f.dir = make([]os.FileInfo, 0, len(ents))
		for _, e := range ents {
			a, err := f.f.v.StatAt(nil, "/", path.Join(f.f.Path, e.Name), false)
			if err != nil {
				continue // removed since the listing
			}
			f.dir = append(f.dir, &FileInfo{name: e.Name, a: a})
		}
	}
	rest := f.dir[f.dpos:]
	if count <= 0 {
		f.dpos = len(f.dir)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if count > len(rest) {
		count = len(rest)
	}
	f.dpos += count
	return rest[:count], nil
}

func (f *aferoFile) Readdirnames(n int) ([]string, error) {
	fis, err := f.Readdir(n)
	names := make([]string, len(fis))
	for i, fi := range fis {
		names[i] = fi.Name()
	}
	return names, err
}
