package vfs

import (
	"io"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/mem"
)

// File type bits of Attr.Mode (st_mode).
const (
	ModeType    = 0o170000
	ModeSocket  = 0o140000
	ModeSymlink = 0o120000
	ModeRegular = 0o100000
	ModeBlock   = 0o060000
	ModeDir     = 0o040000
	ModeChar    = 0o020000
	ModeFIFO    = 0o010000
	ModePerm    = 0o7777
)

// Directory entry types (d_type of linux_dirent64).
const (
	DTUnknown = 0
	DTFIFO    = 1
	DTChar    = 2
	DTDir     = 4
	DTBlock   = 6
	DTReg     = 8
	DTLink    = 10
	DTSocket  = 12
)

// Limits of path resolution.
const (
	PathMax     = 4096 // bytes in a path, including the NUL
	NameMax     = 255  // bytes in one component
	MaxSymlinks = 40   // symlinks followed in one resolution (ELOOP beyond)
)

// Attr is what stat(2) reports about a file.
type Attr struct {
	Ino     uint64
	Dev     uint64 // filled in by the VFS from the mount
	Mode    uint32 // file type and permission bits, as st_mode
	Nlink   uint32
	UID     uint32
	GID     uint32
	Rdev    uint64
	Size    int64
	Blocks  int64 // 512-byte blocks
	Blksize int32
	Atime   time.Time
	Mtime   time.Time
	Ctime   time.Time
	Btime   time.Time // birth (statx's btime); zero where the backend does not know it
	Flags   uint32    // inode flags (linux.FS_APPEND_FL), where the backend keeps them
}

// IsDir reports whether a is a directory.
func (a *Attr) IsDir() bool { return a.Mode&ModeType == ModeDir }

// IsSymlink reports whether a is a symbolic link.
func (a *Attr) IsSymlink() bool { return a.Mode&ModeType == ModeSymlink }

// DirentType returns the d_type for a file mode.
func DirentType(mode uint32) uint8 {
	switch mode & ModeType {
	case ModeFIFO:
		return DTFIFO
	case ModeChar:
		return DTChar
	case ModeDir:
		return DTDir
	case ModeBlock:
		return DTBlock
	case ModeRegular:
		return DTReg
	case ModeSymlink:
		return DTLink
	case ModeSocket:
		return DTSocket
	}
	return DTUnknown
}

// Dirent is one directory entry.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // DT_*
}

// SetAttr says which attributes to change; nil fields stay.
type SetAttr struct {
	Mode  *uint32 // permission bits only
	UID   *uint32
	GID   *uint32
	Size  *int64
	Atime *time.Time
	Mtime *time.Time
}

// Statfs is what statfs(2) reports about a file system.
type Statfs struct {
	Type    int64 // magic number
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namelen int64
	Frsize  int64
	Flags   int64    // ST_* mount flags
	Fsid    [2]int32 // f_fsid; the VFS gives a file system without one its device number
}

// Backend is a file system the VFS mounts. Every name is absolute within
// the backend ("/" is its root), clean, and free of symlinks except maybe
// in its last component: the VFS resolves paths itself and never asks a
// backend to follow a link. Errors are linux.Errno values (or errors that
// linux.ErrnoFromError maps).
type Backend interface {
	Lstat(name string) (Attr, error)
	Readlink(name string) (string, error)
	// Open opens name with Linux O_* flags (access mode, O_CREAT,
	// O_EXCL, O_TRUNC); it never follows a symlink in the last component.
	Open(name string, flags int, perm uint32) (Handle, error)
	Mkdir(name string, perm uint32) error
	Symlink(target, name string) error
	Link(oldname, newname string) error
	Unlink(name string) error
	Rmdir(name string) error
	// Rename moves oldname to newname, replacing newname as rename(2)
	// does; exchange swaps the two (RENAME_EXCHANGE).
	Rename(oldname, newname string, exchange bool) error
	SetAttr(name string, s SetAttr) error
	Statfs() (Statfs, error)
}

// Handle is an open file of a backend.
type Handle interface {
	io.ReaderAt
	io.WriterAt
	Stat() (Attr, error)
	Truncate(size int64) error
	Sync() error
	Close() error
	// ReadDir lists a directory handle (without "." and "..").
	ReadDir() ([]Dirent, error)
}

// Stream is a Handle without offsets (a terminal, a pipe): the VFS calls
// Read and Write instead of ReadAt and WriteAt, and lseek fails with ESPIPE.
type Stream interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
}

// Contexter is a Backend whose symlinks depend on the caller (procfs's
// "self").
type Contexter interface {
	ReadlinkCtx(c *Ctx, name string) (string, error)
}

// Ctx identifies who resolves a path: its process (for /proc/self).
type Ctx struct {
	PID int
	// Root is the canonical path of the caller's root directory
	// (chroot): absolute paths and absolute symlinks start there and ".."
	// does not leave it. "" is the file system's root.
	Root string
}

// root returns the directory absolute paths start from.
func (c *Ctx) root() string {
	if c == nil || c.Root == "" {
		return "/"
	}
	return c.Root
}

// Rel returns the canonical path p as the caller sees it from its root:
// a path outside the root is returned whole.
func (c *Ctx) Rel(p string) string {
	root := c.root()
	switch {
	case root == "/":
		return p
	case p == root:
		return "/"
	case strings.HasPrefix(p, root+"/"):
		return p[len(root):]
	}
	return p
}

// Pager is a Handle whose contents live in frames of the machine's RAM
// (tmpfs): mmap maps those frames directly, so mappings, read and write
// see one copy of the file.
type Pager interface {
	// Page returns the frame holding page i of the file with a reference
	// for the caller, allocating a zeroed one for a hole; io.EOF when the
	// page is past the end of the file.
	Page(i uint64) (mem.Frame, error)
}
