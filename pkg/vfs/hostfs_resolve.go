package vfs

import (
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// How Hostfs resolves a name: the two ways of opening a parent directory
// without following a symlink: openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS (Linux 5.6 and later), and a walk of O_NOFOLLOW
// opens, one component at a time, where the host has no openat2.

// resolveFlags are the openat2 resolve flags of every parent lookup.
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openDir opens the directory rel (relative to the root, "" for the root
// itself, no symlinks expected) as an O_PATH descriptor; release closes
// it.
func (h *Hostfs) openDir(rel string) (fd int, release func(), err error) {
	if rel == "" {
		return h.root, func() { runtime.KeepAlive(h) }, nil
	}
	if !h.noOpenat2.Load() {
		how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolveFlags}
		for range 8 {
			fd, err = unix.Openat2(h.root, rel, how)
			if err != unix.EAGAIN && err != unix.EINTR {
				break
			}
		}
		switch err {
		case nil:
			return fd, func() { unix.Close(fd) }, nil
		case unix.ENOSYS:
			h.noOpenat2.Store(true)
		case unix.EXDEV:
			return -1, nil, linux.ELOOP // an escape attempt
		default:
			return -1, nil, hostErr(err)
		}
	}
	return h.walk(rel)
}

// walk opens the directory rel one component at a time, refusing
// symlinks (O_PATH|O_DIRECTORY|O_NOFOLLOW fails with ENOTDIR on one).
func (h *Hostfs) walk(rel string) (int, func(), error) {
	cur := h.root
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." || c == ".." {
			if cur != h.root {
				unix.Close(cur)
			}
			return -1, nil, linux.EINVAL
		}
		next, err := unix.Openat(cur, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if cur != h.root {
			unix.Close(cur)
		}
		if err != nil {
			return -1, nil, hostErr(err)
		}
		cur = next
	}
	runtime.KeepAlive(h)
	return cur, func() { unix.Close(cur) }, nil
}

// at is a name split for a *at call: the parent directory's descriptor
// and the last component ("." for the root).
type at struct {
	dir     int
	name    string
	release func()
}

// parent opens the parent directory of the backend name (clean, absolute,
// symlink-free but for its last component).
func (h *Hostfs) parent(name string) (at, error) {
	defer runtime.KeepAlive(h)
	rel := strings.Trim(name, "/")
	if rel == "" {
		return at{dir: h.root, name: ".", release: func() { runtime.KeepAlive(h) }}, nil
	}
	dir, last := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, last = rel[:i], rel[i+1:]
	}
	if last == "." || last == ".." || strings.Contains(rel, "//") {
		return at{}, linux.EINVAL
	}
	fd, release, err := h.openDir(dir)
	if err != nil {
		return at{}, err
	}
	return at{dir: fd, name: last, release: release}, nil
}
