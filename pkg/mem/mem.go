// Package mem is a machine's physical memory: one arena of RAM reserved
// from the host at boot and divided into 4 KiB frames with reference
// counts. Every page the guests see comes from it: process memory, page
// tables, tmpfs file pages, pipe buffers. When it is used up, allocation
// fails and the kernel does what Linux does (ENOMEM, ENOSPC, the OOM
// killer), so a guest never makes the host grow without bound.
//
// The arena is reserved with MAP_NORESERVE: RAM that was never touched
// costs the host nothing, and freed frames are returned to the host in
// batches (Trim).
package mem

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PageSize is the size of a frame and of a guest page.
const PageSize = 4096

// PageShift is log2(PageSize).
const PageShift = 12

// Frame is a frame number; its physical address is Frame << PageShift.
type Frame uint32

// Addr returns the physical address of f.
func (f Frame) Addr() uint64 { return uint64(f) << PageShift }

// ZeroFrame is a frame of zeros that is never freed and never written:
// reads of untouched anonymous memory and of file holes map it.
const ZeroFrame Frame = 0

// Kind says what a frame holds, for accounting (/proc/meminfo).
type Kind uint8

// Frame kinds.
const (
	Free      Kind = iota
	Anon           // private process memory
	Shmem          // tmpfs file pages and shared anonymous memory
	Cache          // pages of host files mapped by guests
	PageTable      // the kernel's page tables
	Pipe           // pipe and socket buffers
	Kernel         // other kernel memory (the zero frame)
	numKinds
)

var kindNames = [numKinds]string{"free", "anon", "shmem", "cache", "pagetable", "pipe", "kernel"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// ErrNoMem is returned when every frame is in use.
var ErrNoMem = errors.New("mem: out of machine RAM")

// Frame flags.
const (
	flagCode = 1 << 0 // mapped executable: the CPU may hold translated code of it
)

// RAM is a machine's physical memory. Its methods are safe for concurrent
// use.
type RAM struct {
	arena []byte // the whole RAM, mapped once into the CPU
	n     Frame  // frames in the arena

	mu    sync.Mutex
	refs  []int32
	kinds []Kind
	flags []uint8
	free  []Frame // recycled frames (not zeroed)
	fresh Frame   // frames at or past fresh were never used (zero)
	used  [numKinds]int
	trim  []Frame // freed since the last Trim: candidates to return to the host
	peak  int     // most frames in use at once
	fails atomic.Uint64

	// invalidate drops the CPU's translated code of a physical range;
	// set by the CPU (SetInvalidator).
	invalidate func(pa, n uint64)

	// frozen holds the contents of a frozen RAM (freeze.go), which has no
	// arena: only Thaw, InUse, Added and Close apply to it.
	frozen *frozen
}

// New reserves size bytes of RAM (rounded up to whole frames; at least
// 64 KiB).
func New(size uint64) (*RAM, error) {
	size = (size + PageSize - 1) &^ (PageSize - 1)
	if size < 16*PageSize {
		return nil, fmt.Errorf("mem: %d bytes of RAM is too little (at least %d)", size, 16*PageSize)
	}
	if size>>PageShift > 1<<31 {
		return nil, fmt.Errorf("mem: %d bytes of RAM is too much", size)
	}
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("mem: reserving %d bytes of RAM: %w", size, err)
	}
	n := Frame(size >> PageShift)
	r := &RAM{arena: b, n: n, refs: make([]int32, n), kinds: make([]Kind, n), flags: make([]uint8, n), fresh: 1}
	r.refs[ZeroFrame] = 1
	r.kinds[ZeroFrame] = Kernel
	r.used[Kernel] = 1
	return r, nil
}

// InUse returns the bytes of the frames in use.
func (r *RAM) InUse() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return uint64(r.inUse()) << PageShift
}

// Close returns the RAM to the host. No frame may be used afterwards.
func (r *RAM) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen != nil {
		return r.release()
	}
	if r.arena == nil {
		return nil
	}
	err := unix.Munmap(r.arena)
	r.arena = nil
	return err
}

// Size returns the RAM size in bytes.
func (r *RAM) Size() uint64 { return uint64(r.n) << PageShift }

// Arena returns the whole RAM; frame f is Arena()[f.Addr():][:PageSize].
// The CPU maps it as its physical memory.
func (r *RAM) Arena() []byte { return r.arena }

// SetInvalidator installs the function that drops translated code of a
// physical range (the CPU's); writes through Write and the reuse of a
// frame that held code call it.
func (r *RAM) SetInvalidator(f func(pa, n uint64)) {
	r.mu.Lock()
	r.invalidate = f
	r.mu.Unlock()
}

// Page returns the 4 KiB of frame f. Write through it only to a frame
// that is not mapped executable (see Write).
func (r *RAM) Page(f Frame) []byte {
	a := f.Addr()
	return r.arena[a : a+PageSize : a+PageSize]
}

// Alloc returns a zeroed frame of kind k with one reference, or ErrNoMem.
func (r *RAM) Alloc(k Kind) (Frame, error) {
	f, recycled, err := r.alloc(k)
	if err != nil {
		return 0, err
	}
	if recycled {
		r.clearCode(f)
		clear(r.Page(f))
	}
	return f, nil
}

// AllocCopy returns a new frame of kind k holding a copy of src.
func (r *RAM) AllocCopy(k Kind, src Frame) (Frame, error) {
	f, recycled, err := r.alloc(k)
	if err != nil {
		return 0, err
	}
	if recycled {
		r.clearCode(f)
	}
	copy(r.Page(f), r.Page(src))
	return f, nil
}

// alloc takes a frame off the free list (recycled: it holds old
// contents) or a never used one (zero).
func (r *RAM) alloc(k Kind) (f Frame, recycled bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case len(r.free) > 0:
		f = r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
		recycled = true
	case r.fresh < r.n:
		f = r.fresh
		r.fresh++
	default:
		r.fails.Add(1)
		return 0, false, ErrNoMem
	}
	r.refs[f] = 1
	r.kinds[f] = k
	r.used[k]++
	if u := r.inUse(); u > r.peak {
		r.peak = u
	}
	return f, recycled, nil
}

// clearCode drops translated code of f if it may hold some: f is about to
// get new contents.
func (r *RAM) clearCode(f Frame) {
	r.mu.Lock()
	code := r.flags[f]&flagCode != 0
	r.flags[f] &^= flagCode
	inv := r.invalidate
	r.mu.Unlock()
	if code && inv != nil {
		inv(f.Addr(), PageSize)
	}
}

// Ref adds a reference to f.
func (r *RAM) Ref(f Frame) {
	if f == ZeroFrame {
		return
	}
	r.mu.Lock()
	r.refs[f]++
	r.mu.Unlock()
}

// Unref drops a reference to f and frees it with the last one.
func (r *RAM) Unref(f Frame) {
	if f == ZeroFrame {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs[f]--
	switch {
	case r.refs[f] > 0:
		return
	case r.refs[f] < 0:
		panic(fmt.Sprintf("mem: frame %d freed twice", f))
	}
	r.used[r.kinds[f]]--
	r.kinds[f] = Free
	r.free = append(r.free, f)
	r.trim = append(r.trim, f)
}

// Refs returns the number of references to f.
func (r *RAM) Refs(f Frame) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(r.refs[f])
}

// SetKind changes the accounting kind of f.
func (r *RAM) SetKind(f Frame, k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.used[r.kinds[f]]--
	r.kinds[f] = k
	r.used[k]++
}

// MarkCode notes that f is mapped executable, so that its later writes
// and its reuse drop code the CPU translated from it.
func (r *RAM) MarkCode(f Frame) {
	if f == ZeroFrame {
		return
	}
	r.mu.Lock()
	r.flags[f] |= flagCode
	r.mu.Unlock()
}

// Write copies p into frame f at off (off+len(p) <= PageSize), dropping
// translated code of the range when f may hold code.
func (r *RAM) Write(f Frame, off int, p []byte) {
	copy(r.Page(f)[off:], p)
	r.mu.Lock()
	code := r.flags[f]&flagCode != 0
	inv := r.invalidate
	r.mu.Unlock()
	if code && inv != nil {
		inv(f.Addr()+uint64(off), uint64(len(p)))
	}
}

// Load64 and Store64 access a 64-bit word of a frame (page tables).
func (r *RAM) Load64(pa uint64) uint64 {
	return *(*uint64)(unsafe.Pointer(&r.arena[pa]))
}

// Store64 writes a 64-bit word at physical address pa.
func (r *RAM) Store64(pa, v uint64) {
	*(*uint64)(unsafe.Pointer(&r.arena[pa])) = v
}

// Trim returns the memory of the frames freed since the last call to the
// host (madvise MADV_DONTNEED); they read as zeros afterwards. It keeps
// the host's footprint near the guests' use after they free memory.
func (r *RAM) Trim() {
	r.mu.Lock()
	batch := r.trim
	r.trim = nil
	// Only frames still free are trimmed; runs of adjacent frames go in
	// one call.
	var runs [][2]Frame
	for _, f := range batch {
		if r.refs[f] != 0 {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1][1] == f {
			runs[n-1][1]++
			continue
		}
		runs = append(runs, [2]Frame{f, f + 1})
	}
	arena := r.arena
	r.mu.Unlock()
	for _, run := range runs {
		_ = unix.Madvise(arena[run[0].Addr():run[1].Addr()], unix.MADV_DONTNEED)
	}
}

// Stats are the frame counts of a RAM.
type Stats struct {
	Total, Free uint64           // bytes
	Used        [numKinds]uint64 // bytes by kind
	Peak        uint64           // most bytes in use at once
	Failures    uint64           // allocations refused
}

// ByKind returns the bytes in use of kind k.
func (s Stats) ByKind(k Kind) uint64 { return s.Used[k] }

// Stats returns the current counts.
func (r *RAM) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Total: uint64(r.n) << PageShift, Peak: uint64(r.peak) << PageShift, Failures: r.fails.Load()}
	for k, n := range r.used {
		s.Used[k] = uint64(n) << PageShift
	}
	s.Free = s.Total - uint64(r.inUse())<<PageShift
	return s
}

// inUse counts frames in use; called with mu held.
func (r *RAM) inUse() int {
	n := 0
	for k := Anon; k < numKinds; k++ {
		n += r.used[k]
	}
	return n
}

// Available returns the number of frames that can still be allocated.
func (r *RAM) Available() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.free) + int(r.n-r.fresh)
}

// Ptr returns a pointer to physical address pa (8-byte aligned words of
// page tables).
func (r *RAM) Ptr(pa uint64) unsafe.Pointer { return unsafe.Pointer(&r.arena[pa]) }

// IsZero reports whether frame f holds only zeros.
func (r *RAM) IsZero(f Frame) bool {
	w := (*[PageSize / 8]uint64)(r.Ptr(f.Addr()))
	for _, v := range w {
		if v != 0 {
			return false
		}
	}
	return true
}

// Kind returns the accounting kind of f.
func (r *RAM) Kind(f Frame) Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kinds[f]
}
