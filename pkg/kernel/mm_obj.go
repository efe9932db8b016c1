package kernel

import (
	"io"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// memObject is the memory a shared or file mapping maps, by page index,
// shared by every mapping of the same memory (and so across fork):
//   - shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, /dev/zero): its
//     own frames, allocated on first touch;
//   - a tmpfs file: the file's own frames (vfs.Pager), so mappings, read
//     and write all see one copy;
//   - a host file: a page cache of frames read from the file; pages
//     written through shared mappings are written back on msync, munmap
//     and when the last mapping goes.
type memObject struct {
	refs  int
	kind  mem.Kind
	anon  map[uint64]mem.Frame // shared anonymous memory and the host page cache
	pager vfs.Pager            // a tmpfs file
	host  io.ReaderAt          // a host file: where pages are read from
	hostW io.WriterAt          // and written back to (nil: not writable)
	size  int64                // host file size at map time: pages past it are SIGBUS
	dirty map[uint64]bool      // host pages written through shared mappings
	of    *openFile            // keeps a mapped file open
	ofW   *openFile            // the writable description hostW belongs to, when another
	key   fileKey              // the host file (Machine.hostObjects)
}

// fileKey identifies a host file for its page cache.
type fileKey struct{ dev, ino uint64 }

// newAnonObject returns shared anonymous memory.
func newAnonObject() *memObject {
	return &memObject{refs: 1, kind: mem.Shmem, anon: map[uint64]mem.Frame{}}
}

// fileObject returns the object of an open file for a new mapping (with a
// reference for it): the file's pager, or the host file's page cache,
// shared by every mapping of that file.
func (m *Machine) fileObject(of *openFile, vf *vfs.File) (*memObject, error) {
	if p, ok := vf.Handle().(vfs.Pager); ok {
		of.refs++
		return &memObject{refs: 1, pager: p, of: of}, nil
	}
	a, err := vf.Stat()
	if err != nil {
		return nil, err
	}
	if a.Mode&vfs.ModeType != vfs.ModeRegular {
		return nil, linux.ENODEV
	}
	key := fileKey{a.Dev, a.Ino}
	writable := vf.Flags&linux.O_ACCMODE != linux.O_RDONLY
	if o := m.hostObjects[key]; o != nil {
		o.refs++
		if o.hostW == nil && writable {
			of.refs++
			o.hostW, o.ofW = vf, of
		}
		return o, nil
	}
	o := &memObject{refs: 1, kind: mem.Cache, anon: map[uint64]mem.Frame{}, host: vf, size: a.Size,
		dirty: map[uint64]bool{}, of: of, key: key}
	if writable {
		o.hostW = vf
	}
	of.refs++
	m.hostObjects[key] = o
	return o, nil
}

// tracksDirty reports whether writes must be noticed (host write-back).
func (o *memObject) tracksDirty() bool { return o.dirty != nil }

// page returns the frame of page i with a reference for the caller;
// io.EOF when i is past the end of a file.
func (o *memObject) page(m *Machine, i uint64) (mem.Frame, error) {
	if o.pager != nil {
		return o.pager.Page(i)
	}
	if f, ok := o.anon[i]; ok {
		m.ram.Ref(f)
		return f, nil
	}
	if o.host != nil && int64(i*pageSize) >= o.size {
		return 0, io.EOF
	}
	f, err := m.allocFrame(o.kind, mem.ZeroFrame)
	if err != nil {
		return 0, err
	}
	if o.host != nil {
		n, err := o.host.ReadAt(m.ram.Page(f), int64(i*pageSize))
		if err != nil && err != io.EOF && n == 0 {
			m.ram.Unref(f)
			return 0, err
		}
	}
	o.anon[i] = f
	m.ram.Ref(f)
	return f, nil
}

// markDirty notes a write to page i through a shared mapping.
func (o *memObject) markDirty(i uint64) {
	if o.dirty != nil {
		o.dirty[i] = true
	}
}

// writeBack writes the dirty host pages in [lo, hi) to the file.
func (o *memObject) writeBack(m *Machine, lo, hi uint64) {
	if o.hostW == nil {
		return
	}
	for i := range o.dirty {
		if i < lo || i >= hi {
			continue
		}
		delete(o.dirty, i)
		f, ok := o.anon[i]
		if !ok {
			continue
		}
		off := int64(i * pageSize)
		n := min(int64(pageSize), o.size-off)
		if n > 0 {
			if _, err := o.hostW.WriteAt(m.ram.Page(f)[:n], off); err != nil {
				m.log.Sugar().Warnf("mmap write-back to %s: %v", o.of.name(), err)
			}
		}
	}
}

// release drops a mapping's reference; the last one writes dirty pages
// back, frees the frames and closes the file.
func (o *memObject) release(m *Machine) {
	o.refs--
	if o.refs > 0 {
		return
	}
	if o.host != nil {
		o.writeBack(m, 0, ^uint64(0))
		if m.hostObjects[o.key] == o {
			delete(m.hostObjects, o.key)
		}
	}
	for _, f := range o.anon {
		m.ram.Unref(f)
	}
	o.anon = nil
	for _, of := range []*openFile{o.of, o.ofW} {
		if of != nil {
			of.release()
		}
	}
	o.of, o.ofW = nil, nil
}
