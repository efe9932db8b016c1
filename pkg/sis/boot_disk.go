package sis

import (
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/metrics"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// countingBackend counts the reads and writes of files opened through a
// VFS backend as disk operations. Streams (terminals, pipes) are not disk
// and pass through uncounted.
type countingBackend struct {
	vfs.Backend
	c *metrics.Counters
}

// Open implements vfs.Backend.
func (b *countingBackend) Open(name string, flags int, perm uint32) (vfs.Handle, error) {
	h, err := b.Backend.Open(name, flags, perm)
	if err != nil {
		return nil, err
	}
	if _, ok := h.(vfs.Stream); ok {
		return h, nil
	}
	ch := &countingHandle{Handle: h, c: b.c}
	if sa, ok := h.(interface{ SetAttr(vfs.SetAttr) error }); ok {
		return &countingAttrHandle{countingHandle: ch, sa: sa}, nil
	}
	return ch, nil
}

// SetFlags passes inode flags (vfs.FS.SetAppendOnly) to the backend.
func (b *countingBackend) SetFlags(name string, flags uint32) error {
	if fb, ok := b.Backend.(interface{ SetFlags(string, uint32) error }); ok {
		return fb.SetFlags(name, flags)
	}
	return linux.EOPNOTSUPP
}

// countingHandle counts ReadAt and WriteAt calls.
type countingHandle struct {
	vfs.Handle
	c *metrics.Counters
}

func (h *countingHandle) ReadAt(p []byte, off int64) (int, error) {
	h.c.DiskReads.Add(1)
	return h.Handle.ReadAt(p, off)
}

func (h *countingHandle) WriteAt(p []byte, off int64) (int, error) {
	h.c.DiskWrites.Add(1)
	return h.Handle.WriteAt(p, off)
}

// Ioctl passes the file's own ioctl requests (inode flags) through.
func (h *countingHandle) Ioctl(req, arg uint64, mem vfs.UserMemory) (uint64, error) {
	if d, ok := h.Handle.(vfs.Ioctler); ok {
		return d.Ioctl(req, arg, mem)
	}
	return 0, linux.ENOTTY
}

// countingAttrHandle keeps a handle's own SetAttr (attributes of an open,
// possibly unlinked file).
type countingAttrHandle struct {
	*countingHandle
	sa interface{ SetAttr(vfs.SetAttr) error }
}

func (h *countingAttrHandle) SetAttr(s vfs.SetAttr) error { return h.sa.SetAttr(s) }

// countRootDisk wraps the backend of v's root mount to count disk
// operations in c.
func countRootDisk(v *vfs.FS, c *metrics.Counters) error {
	var root vfs.Backend
	for _, mt := range v.Mounts() {
		if mt.Path == "/" {
			root = mt.Backend // the last one is visible
		}
	}
	return v.ReplaceBackend("/", &countingBackend{Backend: root, c: c})
}
