package kernel

import (
	"github.com/google/btree"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Memory management. Every address space has a page table in machine RAM
// that the CPU's TLB fill reads (cpu.PageTable) and a tree of mappings
// (vmas) that say what each range is. Pages get frames when first touched
// (fault): private anonymous memory reads the zero frame and gets its own
// frame on the first write; file mappings map the file's pages (a tmpfs
// file's own frames, or a host file's page cache) and private ones copy a
// page on its first write; fork shares every page copy-on-write. So mmap,
// munmap, mprotect and fork cost what the pages present cost, never what
// the size of a mapping is.

// Guest address-space layout.
const (
	pageSize     = mem.PageSize
	stackTop     = 0x0000_7fff_ffff_0000
	stackSize    = 8 << 20
	mmapTop      = stackTop - stackSize - 128<<20 // top-down mmap area starts here
	mmapBottom   = 0x0000_1000_0000_0000          // and never goes below
	pieBase      = 0x0000_5555_5555_0000          // static-PIE load bias
	interpBase   = 0x0000_7fff_b000_0000          // ET_DYN interpreter load base
	maxUserAddr  = 0x0000_8000_0000_0000
	maxMapCount  = 65530 // vm.max_map_count
	maxMapLength = maxUserAddr
)

func pageDown(a uint64) uint64 { return a &^ (pageSize - 1) }
func pageUp(a uint64) uint64   { return (a + pageSize - 1) &^ (pageSize - 1) }

// vmaFlags are properties of a mapping.
type vmaFlags uint8

const (
	vmShared    vmaFlags = 1 << iota // MAP_SHARED: writes reach the object
	vmGrowsDown                      // the stack
	vmNoReserve                      // not counted against overcommit
)

// vma is one mapped range of guest memory.
type vma struct {
	start, end uint64 // [start, end), page aligned
	prot       cpu.Prot
	maxProt    cpu.Prot // what mprotect may grant (a shared mapping of a read-only file lacks Write)
	flags      vmaFlags
	obj        *memObject // the pages a shared or file mapping maps; nil for private anonymous memory
	pgoff      uint64     // page index in obj of start
	name       string     // "[heap]", "[stack]", a file path, or "" (anonymous)
}

func (v *vma) shared() bool { return v.flags&vmShared != 0 }

// objIndex returns the page index in the object of address a.
func (v *vma) objIndex(a uint64) uint64 { return v.pgoff + (a-v.start)/pageSize }

// MemStats counts a machine's memory: the RAM in use and the mapping
// operations of its address spaces.
type MemStats struct {
	// Used and Peak are the bytes of machine RAM in use now and at most
	// (guest pages, page tables, tmpfs, pipes).
	Used, Peak uint64
	// Mapped is the size of every mapping of every address space.
	Mapped uint64
	// Allocs counts mappings created (splitting one creates one more),
	// Frees mappings removed, Failures mappings or pages that could not be
	// made (ENOMEM).
	Allocs, Frees, Failures uint64
}

// addressSpace is the memory of one or more processes (CLONE_VM).
type addressSpace struct {
	m    *Machine
	ram  *mem.RAM
	pt   *cpu.PageTable
	vmas *btree.BTreeG[*vma]

	brkBase   uint64
	brk       uint64
	brkMapped uint64 // end of the mapped heap (page aligned)
	freeHint  uint64 // where the top-down search for free space starts

	users    int    // processes using it
	mapped   uint64 // bytes mapped
	reserved uint64 // bytes of private writable mappings (overcommit accounting)
	// rss counts the present pages by kind of frame (the zero frame
	// excluded).
	rss [rssKinds]int64
	// peakMapped and hwm are the most ever mapped and resident (bytes).
	peakMapped, hwm uint64
	ops             MemStats // Allocs, Frees, Failures
}

// Kinds of resident pages (/proc/<pid>/status).
const (
	rssAnon = iota
	rssFile
	rssShmem
	rssKinds
)

func rssKindOf(k mem.Kind) int {
	switch k {
	case mem.Anon:
		return rssAnon
	case mem.Cache:
		return rssFile
	}
	return rssShmem
}

func vmaLess(a, b *vma) bool { return a.start < b.start }

// newAddressSpace returns an empty address space.
func (m *Machine) newAddressSpace() (*addressSpace, error) {
	pt, err := cpu.NewPageTable(m.ram)
	if err != nil {
		return nil, linux.ENOMEM
	}
	return &addressSpace{m: m, ram: m.ram, pt: pt, vmas: btree.NewG(8, vmaLess), users: 1, freeHint: mmapTop}, nil
}

// find returns the mapping that contains addr, or nil.
func (as *addressSpace) find(addr uint64) *vma {
	var v *vma
	as.vmas.DescendLessOrEqual(&vma{start: addr}, func(x *vma) bool {
		v = x
		return false
	})
	if v != nil && addr < v.end {
		return v
	}
	return nil
}

// each calls fn for every mapping that intersects [start, end), in address
// order, until fn returns false. fn must not change the tree.
func (as *addressSpace) each(start, end uint64, fn func(v *vma) bool) {
	if v := as.find(start); v != nil {
		if !fn(v) {
			return
		}
		start = v.end
	}
	if start >= end {
		return
	}
	as.vmas.AscendRange(&vma{start: start}, &vma{start: end}, fn)
}

// vmasIn returns the mappings that intersect [start, end).
func (as *addressSpace) vmasIn(start, end uint64) []*vma {
	var out []*vma
	as.each(start, end, func(v *vma) bool {
		out = append(out, v)
		return true
	})
	return out
}

// check reports whether [addr, addr+n) is mapped with at least prot.
func (as *addressSpace) check(addr, n uint64, prot cpu.Prot) bool {
	if n == 0 {
		return true
	}
	end := addr + n
	if end < addr || end > maxUserAddr {
		return false
	}
	ok := true
	next := addr
	as.each(addr, end, func(v *vma) bool {
		if v.start > next || v.prot&prot != prot {
			ok = false
			return false
		}
		next = v.end
		return next < end
	})
	return ok && next >= end
}

// overlaps reports whether any mapping intersects [start, end).
func (as *addressSpace) overlaps(start, end uint64) bool {
	found := false
	as.each(start, end, func(*vma) bool {
		found = true
		return false
	})
	return found
}

// split makes addr a mapping boundary if it falls inside one.
func (as *addressSpace) split(addr uint64) {
	v := as.find(addr)
	if v == nil || v.start == addr {
		return
	}
	hi := *v
	hi.start = addr
	hi.pgoff = v.objIndex(addr)
	if hi.obj != nil {
		hi.obj.refs++
	}
	v.end = addr
	as.vmas.ReplaceOrInsert(&hi)
	as.ops.Allocs++
}

// insert adds v, merging it with compatible neighbours.
func (as *addressSpace) insert(v *vma) {
	as.vmas.ReplaceOrInsert(v)
	as.ops.Allocs++
	as.mapped += v.end - v.start
	as.peakMapped = max(as.peakMapped, as.mapped)
	if v.prot&cpu.ProtWrite != 0 && !v.shared() && v.flags&vmNoReserve == 0 {
		as.reserved += v.end - v.start
	}
	as.merge(v)
}

// mergeable reports whether a (below) and b (above, adjacent) can be one
// mapping.
func mergeable(a, b *vma) bool {
	if a.end != b.start || a.prot != b.prot || a.maxProt != b.maxProt || a.flags != b.flags ||
		a.obj != b.obj || a.name != b.name {
		return false
	}
	return a.obj == nil || a.objIndex(a.end) == b.pgoff
}

// merge joins v with its neighbours where they are compatible, as Linux
// merges adjacent anonymous mappings.
func (as *addressSpace) merge(v *vma) {
	if next := as.find(v.end); next != nil && mergeable(v, next) {
		as.vmas.Delete(next)
		v.end = next.end
		if next.obj != nil {
			next.obj.release(as.m)
		}
		as.ops.Frees++
	}
	if v.start > 0 {
		if prev := as.find(v.start - 1); prev != nil && mergeable(prev, v) {
			as.vmas.Delete(v)
			prev.end = v.end
			if v.obj != nil {
				v.obj.release(as.m)
			}
			as.ops.Frees++
		}
	}
}

// mapRange maps [start, start+length) replacing whatever was there. obj
// (with a reference for the mapping) backs shared and file mappings.
func (as *addressSpace) mapRange(start, length uint64, prot, maxProt cpu.Prot, flags vmaFlags, obj *memObject, pgoff uint64, name string) error {
	end := start + length
	as.unmap(start, length)
	if as.vmas.Len() >= maxMapCount {
		as.ops.Failures++
		if obj != nil {
			obj.release(as.m)
		}
		return linux.ENOMEM
	}
	if prot&cpu.ProtWrite != 0 && flags&(vmShared|vmNoReserve) == 0 && !as.m.canReserve(length) {
		as.ops.Failures++
		if obj != nil {
			obj.release(as.m)
		}
		return linux.ENOMEM
	}
	as.insert(&vma{start: start, end: end, prot: prot, maxProt: maxProt, flags: flags, obj: obj, pgoff: pgoff, name: name})
	return nil
}

// unmap removes every mapping in [start, start+length) and frees its
// pages.
func (as *addressSpace) unmap(start, length uint64) {
	end := start + length
	if !as.overlaps(start, end) {
		return
	}
	as.split(start)
	as.split(end)
	for _, v := range as.vmasIn(start, end) {
		as.dropPages(v, v.start, v.end)
		as.vmas.Delete(v)
		as.mapped -= v.end - v.start
		if v.prot&cpu.ProtWrite != 0 && !v.shared() && v.flags&vmNoReserve == 0 {
			as.reserved -= v.end - v.start
		}
		if v.obj != nil {
			v.obj.release(as.m)
		}
		as.ops.Frees++
	}
	if end > as.freeHint {
		as.freeHint = min(pageUp(end), mmapTop)
	}
	as.m.flushTLB(as)
}

// dropPages clears the page-table entries of [start, end) in v, writing
// shared host-file pages back first.
func (as *addressSpace) dropPages(v *vma, start, end uint64) {
	as.pt.Range(start, end, func(va uint64, pte *uint64) {
		if v.obj != nil && v.shared() && *pte&cpu.PTEWrite != 0 {
			v.obj.markDirty(v.objIndex(va))
		}
		as.unrefPTE(*pte)
		*pte = 0
	})
	if v.obj != nil && v.shared() {
		v.obj.writeBack(as.m, v.objIndex(start), v.objIndex(end))
	}
}

// unrefPTE drops the reference a page-table entry holds.
func (as *addressSpace) unrefPTE(pte uint64) {
	f := cpu.PTEFrame(pte)
	if f != mem.ZeroFrame {
		as.rss[rssKindOf(as.ram.Kind(f))]--
	}
	as.ram.Unref(f)
}

// setPTE installs the entry of page va mapping frame f (whose reference
// the entry takes over).
func (as *addressSpace) setPTE(va uint64, f mem.Frame, p cpu.Prot) error {
	if err := as.pt.Set(va, cpu.MakePTE(f, p, 0)); err != nil {
		as.ram.Unref(f)
		return err
	}
	if f != mem.ZeroFrame {
		as.rss[rssKindOf(as.ram.Kind(f))]++
		as.hwm = max(as.hwm, as.rssBytes())
	}
	if p&cpu.ProtExec != 0 {
		as.ram.MarkCode(f)
	}
	return nil
}

// protect changes the permissions of [start, start+length), which must be
// mapped entirely.
func (as *addressSpace) protect(start, length uint64, prot cpu.Prot) error {
	end := start + length
	if !as.check(start, length, cpu.ProtNone) {
		return linux.ENOMEM
	}
	for _, v := range as.vmasIn(start, end) {
		if prot&^v.maxProt != 0 {
			return linux.EACCES
		}
	}
	var grow uint64
	for _, v := range as.vmasIn(start, end) {
		if prot&cpu.ProtWrite != 0 && v.prot&cpu.ProtWrite == 0 && !v.shared() && v.flags&vmNoReserve == 0 {
			grow += min(v.end, end) - max(v.start, start)
		}
	}
	if grow > 0 && !as.m.canReserve(grow) {
		return linux.ENOMEM
	}
	as.split(start)
	as.split(end)
	for _, v := range as.vmasIn(start, end) {
		acct := !v.shared() && v.flags&vmNoReserve == 0
		if acct && v.prot&cpu.ProtWrite != 0 {
			as.reserved -= v.end - v.start
		}
		if acct && prot&cpu.ProtWrite != 0 {
			as.reserved += v.end - v.start
		}
		v.prot = prot
		as.pt.Range(v.start, v.end, func(va uint64, pte *uint64) {
			p := prot
			if !v.shared() && !as.ownsPage(*pte) {
				p &^= cpu.ProtWrite // copy on the next write
			}
			if p&cpu.ProtExec != 0 {
				as.ram.MarkCode(cpu.PTEFrame(*pte))
			}
			*pte = cpu.MakePTE(cpu.PTEFrame(*pte), p, 0)
		})
	}
	for _, v := range as.vmasIn(start, end) {
		as.merge(v)
	}
	as.m.flushTLB(as)
	return nil
}

// ownsPage reports whether the private page an entry maps is this address
// space's alone, so that a write needs no copy.
func (as *addressSpace) ownsPage(pte uint64) bool {
	f := cpu.PTEFrame(pte)
	return f != mem.ZeroFrame && as.ram.Kind(f) == mem.Anon && as.ram.Refs(f) == 1
}

// findFree returns a free range of length bytes below mmapTop, searching
// down from the last allocation first (mappings are made top-down) and
// then from the top.
func (as *addressSpace) findFree(length uint64) (uint64, bool) {
	if a, ok := as.freeBelow(as.freeHint, length); ok {
		return a, true
	}
	return as.freeBelow(mmapTop, length)
}

// freeBelow returns the highest free range of length bytes ending at or
// below top and above mmapBottom.
func (as *addressSpace) freeBelow(top, length uint64) (uint64, bool) {
	if top < mmapBottom+length {
		return 0, false
	}
	var found uint64
	ok := false
	if v := as.find(top - 1); v != nil {
		top = v.start
	}
	as.vmas.DescendLessOrEqual(&vma{start: top}, func(v *vma) bool {
		if v.end <= top && top-v.end >= length {
			found, ok = top-length, true
			return false
		}
		top = min(top, v.start)
		return top >= mmapBottom+length
	})
	if !ok && top >= mmapBottom+length {
		found, ok = top-length, true
	}
	return found, ok
}

// setBrk moves the program break, mapping or unmapping heap pages. It
// returns the new break (the old one on failure, as Linux does).
func (as *addressSpace) setBrk(addr uint64) uint64 {
	if addr < as.brkBase || addr > as.brkBase+(1<<36) {
		return as.brk
	}
	want := pageUp(addr)
	switch {
	case want > as.brkMapped:
		if as.overlaps(as.brkMapped, want) {
			return as.brk
		}
		if err := as.mapRange(as.brkMapped, want-as.brkMapped, cpu.ProtRead|cpu.ProtWrite, cpu.ProtAll, 0, nil, 0, "[heap]"); err != nil {
			return as.brk
		}
	case want < as.brkMapped:
		as.unmap(want, as.brkMapped-want)
	}
	as.brkMapped = want
	as.brk = addr
	return addr
}

// release drops a user; the last one frees every page and the tables.
func (as *addressSpace) release() {
	as.users--
	if as.users > 0 {
		return
	}
	as.unmap(0, maxUserAddr)
	as.pt.Free()
	as.m.forgetAddressSpace(as)
}

// fork returns a copy-on-write copy of as for a child process: the same
// mappings, sharing every page; private pages become read-only in both
// until one of them writes.
func (as *addressSpace) fork() (*addressSpace, error) {
	c, err := as.m.newAddressSpace()
	if err != nil {
		return nil, err
	}
	c.brkBase, c.brk, c.brkMapped, c.freeHint = as.brkBase, as.brk, as.brkMapped, as.freeHint
	var ferr error
	as.vmas.Ascend(func(v *vma) bool {
		cv := *v
		if cv.obj != nil {
			cv.obj.refs++
		}
		c.vmas.ReplaceOrInsert(&cv)
		c.mapped += v.end - v.start
		if v.prot&cpu.ProtWrite != 0 && !v.shared() && v.flags&vmNoReserve == 0 {
			c.reserved += v.end - v.start
		}
		as.pt.Range(v.start, v.end, func(va uint64, pte *uint64) {
			if ferr != nil {
				return
			}
			if !v.shared() {
				*pte &^= cpu.PTEWrite
			}
			f := cpu.PTEFrame(*pte)
			as.ram.Ref(f)
			if err := c.setPTE(va, f, cpu.PTEProt(*pte)); err != nil {
				ferr = err
			}
		})
		return ferr == nil
	})
	as.m.flushTLB(as)
	if ferr != nil {
		c.release()
		return nil, linux.ENOMEM
	}
	c.ops.Allocs = uint64(c.vmas.Len())
	return c, nil
}

// madvDontneed drops the pages of [start, end): the next touch reads zeros
// (private anonymous memory) or the file again.
func (as *addressSpace) madvDontneed(start, end uint64) {
	for _, v := range as.vmasIn(start, end) {
		as.dropPages(v, max(v.start, start), min(v.end, end))
	}
	as.m.flushTLB(as)
}

// rollup sums the proportional set size of the resident pages: each
// counts 1/n of a page mapped n times (/proc/<pid>/smaps_rollup). A file
// or shared page's frame has one more reference, its page cache's.
func (as *addressSpace) rollup() vfs.ProcRollup {
	var r vfs.ProcRollup
	if as.users == 0 {
		return r // released: nothing resident
	}
	if lo, ok := as.vmas.Min(); ok {
		hi, _ := as.vmas.Max()
		r.Start, r.End = lo.start, hi.end
	}
	as.pt.Range(0, maxUserAddr, func(_ uint64, pte *uint64) {
		f := cpu.PTEFrame(*pte)
		if f == mem.ZeroFrame {
			return
		}
		kind := rssKindOf(as.ram.Kind(f))
		maps := as.ram.Refs(f)
		if kind != rssAnon {
			maps--
		}
		pss := uint64(pageSize / max(maps, 1))
		r.Pss += pss
		switch kind {
		case rssAnon:
			r.PssAnon += pss
		case rssFile:
			r.PssFile += pss
		default:
			r.PssShmem += pss
		}
	})
	return r
}

// rssBytes is the size of the present pages (the zero frame excluded).
func (as *addressSpace) rssBytes() uint64 {
	var n int64
	for _, k := range as.rss {
		n += k
	}
	return uint64(n) * pageSize
}

// extend grows mapping v (ending at from) to end to, with the same
// attributes (mremap in place).
func (as *addressSpace) extend(v *vma, from, to uint64) error {
	if v.end != from {
		return linux.EFAULT
	}
	if v.obj != nil {
		v.obj.refs++
	}
	return as.mapRange(from, to-from, v.prot, v.maxProt, v.flags, v.obj, v.objIndex(from), v.name)
}

// move moves the mapping of [old, old+oldSize) to newAddr, with its
// pages (mremap): the page-table entries move, the frames do not. A
// larger newSize extends the moved mapping.
func (as *addressSpace) move(old, oldSize, newAddr, newSize uint64) error {
	v := as.find(old)
	n := min(oldSize, newSize)
	if v.prot&cpu.ProtWrite != 0 && !v.shared() && v.flags&vmNoReserve == 0 && newSize > oldSize && !as.m.canReserve(newSize-oldSize) {
		return linux.ENOMEM
	}
	nv := *v
	nv.start, nv.end, nv.pgoff = newAddr, newAddr+n, v.objIndex(old)
	if nv.obj != nil {
		nv.obj.refs++
	}
	if err := as.mapRange(nv.start, n, nv.prot, nv.maxProt, nv.flags, nv.obj, nv.pgoff, nv.name); err != nil {
		return err
	}
	var merr error
	as.pt.Range(old, old+n, func(va uint64, pte *uint64) {
		if merr == nil {
			if merr = as.pt.Set(newAddr+(va-old), *pte); merr == nil {
				*pte = 0
			}
		}
	})
	if merr != nil {
		as.unmap(newAddr, n)
		return linux.ENOMEM
	}
	as.unmap(old, oldSize)
	if newSize > n {
		if nv := as.find(newAddr); nv != nil {
			return as.extend(nv, newAddr+n, newAddr+newSize)
		}
	}
	return nil
}

// sync writes back the dirty pages of shared host-file mappings in
// [start, end) (msync) and write-protects them again, so that the next
// write marks them dirty.
func (as *addressSpace) sync(start, end uint64) {
	for _, v := range as.vmasIn(start, end) {
		if v.obj == nil || !v.shared() || !v.obj.tracksDirty() {
			continue
		}
		lo, hi := max(v.start, start), min(v.end, end)
		as.pt.Range(lo, hi, func(va uint64, pte *uint64) {
			if *pte&cpu.PTEWrite != 0 {
				v.obj.markDirty(v.objIndex(va))
				*pte &^= cpu.PTEWrite
			}
		})
		v.obj.writeBack(as.m, v.objIndex(lo), v.objIndex(hi))
	}
	as.m.flushTLB(as)
}
