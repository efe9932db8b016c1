package mem

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Frozen RAM: a copy of a RAM's frames in use and accounting at one
// moment (a machine checkpoint's), which no CPU maps. Its pages live in
// slabs of host memory; a frozen RAM made with an earlier one as its base
// shares that one's page of every frame whose contents did not change
// (compared byte for byte), and copies only the others into a slab of its
// own. A page goes back to the host when no frozen RAM refers to it any
// more. Thaw makes a live RAM with a frozen one's contents again.

// slab is host memory holding pages of frozen RAMs. A page no frozen RAM
// refers to any more goes back to the host at once (MADV_DONTNEED), the
// slab with its last page. Slabs belong to one goroutine (a machine's).
type slab struct {
	b     []byte
	users []int32 // by page: the frozen RAMs that refer to it
	live  int     // pages with users
	mark  *frozen // the last frozen RAM that counted it (distinct-slab walks)
}

// page returns the index of page p in s.
func (s *slab) page(p *[PageSize]byte) int {
	return int((uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(&s.b[0]))) / PageSize)
}

// frozen is the contents of a frozen RAM.
type frozen struct {
	pages []*[PageSize]byte // by frame (up to fresh); nil: not in use
	owner []*slab           // the slab of each page
	slabs []*slab           // the distinct slabs of its pages
	own   uint64            // bytes of the slab it added
}

// Freeze returns a frozen copy of r: its accounting and the contents of its
// frames in use. A frame whose contents equal its page in base (a frozen
// RAM of the same size, or nil) shares that page; the others are copied.
func (r *RAM) Freeze(base *RAM) (*RAM, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.arena == nil {
		return nil, errors.New("mem: freeze of a closed or frozen RAM")
	}
	var bz *frozen
	if base != nil && base.n == r.n {
		bz = base.frozen
	}
	fz := &frozen{pages: make([]*[PageSize]byte, r.fresh), owner: make([]*slab, r.fresh)}
	changed := 0
	for f := Frame(1); f < r.fresh; f++ {
		if r.refs[f] == 0 {
			continue
		}
		if bz != nil && int(f) < len(bz.pages) && bz.pages[f] != nil && bytes.Equal(bz.pages[f][:], r.Page(f)) {
			fz.pages[f], fz.owner[f] = bz.pages[f], bz.owner[f]
			continue
		}
		changed++
	}
	if changed > 0 {
		b, err := unix.Mmap(-1, 0, changed*PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return nil, fmt.Errorf("mem: %d bytes for a frozen copy: %w", changed*PageSize, err)
		}
		_ = unix.Madvise(b, unix.MADV_POPULATE_WRITE) // fault it in at once (Linux 5.14; else the copy does)
		s := &slab{b: b, users: make([]int32, changed)}
		i := 0
		for f := Frame(1); f < r.fresh; f++ {
			if r.refs[f] == 0 || fz.pages[f] != nil {
				continue
			}
			p := (*[PageSize]byte)(unsafe.Pointer(&b[i*PageSize]))
			copy(p[:], r.Page(f))
			fz.pages[f], fz.owner[f] = p, s
			i++
		}
		fz.own = uint64(len(b))
	}
	for f, s := range fz.owner {
		if s == nil {
			continue
		}
		if s.mark != fz {
			s.mark = fz
			fz.slabs = append(fz.slabs, s)
		}
		i := s.page(fz.pages[f])
		if s.users[i] == 0 {
			s.live++
		}
		s.users[i]++
	}
	c := &RAM{n: r.n, refs: slices.Clone(r.refs[:r.fresh]), kinds: slices.Clone(r.kinds[:r.fresh]),
		flags: slices.Clone(r.flags[:r.fresh]), free: slices.Clone(r.free), fresh: r.fresh, used: r.used,
		peak: r.peak, frozen: fz}
	c.fails.Store(r.fails.Load())
	return c, nil
}

// Thaw returns a live RAM with the contents and accounting of frozen RAM
// r (the same frame numbers; free frames read as zeros, which no one sees:
// a recycled frame is cleared or overwritten when allocated). It has no
// invalidator.
func (r *RAM) Thaw() (*RAM, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen == nil {
		return nil, errors.New("mem: thaw of a RAM that is not frozen")
	}
	size := int(r.n) << PageShift
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("mem: reserving %d bytes of RAM: %w", size, err)
	}
	c := &RAM{arena: b, n: r.n, refs: make([]int32, r.n), kinds: make([]Kind, r.n), flags: make([]uint8, r.n),
		free: slices.Clone(r.free), fresh: r.fresh, used: r.used, peak: r.peak}
	copy(c.refs, r.refs)
	copy(c.kinds, r.kinds)
	copy(c.flags, r.flags)
	c.fails.Store(r.fails.Load())
	pages := r.frozen.pages
	for f := Frame(1); int(f) < len(pages); {
		if pages[f] == nil {
			f++
			continue
		}
		e := f + 1
		for int(e) < len(pages) && pages[e] != nil {
			e++
		}
		_ = unix.Madvise(b[f.Addr():e.Addr()], unix.MADV_POPULATE_WRITE)
		for ; f < e; f++ {
			copy(b[f.Addr():f.Addr()+PageSize], pages[f][:])
		}
	}
	return c, nil
}

// release drops frozen RAM r's references to its pages: the pages no
// frozen RAM refers to any more go back to the host, and the slabs left
// without pages are unmapped.
func (r *RAM) release() error {
	fz := r.frozen
	r.frozen = nil
	dead := map[*slab][]int{}
	for f, s := range fz.owner {
		if s == nil {
			continue
		}
		i := s.page(fz.pages[f])
		if s.users[i]--; s.users[i] == 0 {
			s.live--
			dead[s] = append(dead[s], i)
		}
	}
	var errs []error
	for _, s := range fz.slabs {
		if s.live == 0 {
			errs = append(errs, unix.Munmap(s.b))
			s.b = nil
			continue
		}
		pages := dead[s]
		slices.Sort(pages)
		for j := 0; j < len(pages); {
			k := j + 1
			for k < len(pages) && pages[k] == pages[k-1]+1 {
				k++
			}
			errs = append(errs, unix.Madvise(s.b[pages[j]*PageSize:(pages[k-1]+1)*PageSize], unix.MADV_DONTNEED))
			j = k
		}
	}
	return errors.Join(errs...)
}

// Added returns the bytes of pages frozen RAM r holds that its base did
// not have (0 for a live RAM).
func (r *RAM) Added() uint64 {
	if r.frozen == nil {
		return 0
	}
	return r.frozen.own
}

// HeldBytes returns the host memory the pages of the frozen RAMs rams
// hold together: each page they refer to counted once, with the pages of
// the same slabs other frozen RAMs refer to.
func HeldBytes(rams ...*RAM) uint64 {
	seen := &frozen{} // a mark no frozen RAM has
	var n uint64
	for _, r := range rams {
		if r == nil || r.frozen == nil {
			continue
		}
		for _, s := range r.frozen.slabs {
			if s.mark != seen {
				s.mark = seen
				n += uint64(s.live) * PageSize
			}
		}
	}
	return n
}
