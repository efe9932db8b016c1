package kernel

import (
	"fmt"
	"sort"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Guest address-space layout.
const (
	pageSize     = 4096
	stackTop     = 0x0000_7fff_ffff_0000
	stackSize    = 8 << 20
	mmapTop      = stackTop - stackSize - 128<<20 // top-down mmap area starts here
	mmapBottom   = 0x0000_1000_0000_0000          // and never goes below
	pieBase      = 0x0000_5555_5555_0000          // static-PIE load bias
	maxUserAddr  = 0x0000_8000_0000_0000
	maxMapLength = 1 << 36 // 64 GiB: refuse larger single mappings
)

func pageDown(a uint64) uint64 { return a &^ (pageSize - 1) }
func pageUp(a uint64) uint64   { return (a + pageSize - 1) &^ (pageSize - 1) }

// vma is one mapped range of guest memory.
type vma struct {
	start, end uint64 // [start, end), page aligned
	prot       cpu.Prot
	name       string // "[heap]", "[stack]", a file path, or "" (anonymous)
	offset     uint64 // file offset of start, for file mappings
}

// MemStats counts guest memory operations.
type MemStats struct {
	Mapped, Peak uint64 // bytes mapped now and at most
	// Allocs counts mappings created (splitting one creates one more),
	// Frees mappings removed, Failures mappings that could not be made; so
	// Allocs-Frees is the number of live mappings.
	Allocs, Frees, Failures uint64
}

// addressSpace tracks a guest's mappings and mirrors them into the engine.
type addressSpace struct {
	eng       cpu.Engine
	vmas      []vma // sorted by start, non-overlapping
	brkBase   uint64
	brk       uint64
	brkMapped uint64 // end of the mapped heap (page aligned)
	stats     MemStats
}

func newAddressSpace(eng cpu.Engine) *addressSpace { return &addressSpace{eng: eng} }

// find returns the index of the first vma with end > addr.
func (as *addressSpace) find(addr uint64) int {
	return sort.Search(len(as.vmas), func(i int) bool { return as.vmas[i].end > addr })
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
	for i := as.find(addr); addr < end; i++ {
		if i >= len(as.vmas) || as.vmas[i].start > addr || as.vmas[i].prot&prot != prot {
			return false
		}
		addr = as.vmas[i].end
	}
	return true
}

// overlaps reports whether any mapping intersects [start, end).
func (as *addressSpace) overlaps(start, end uint64) bool {
	i := as.find(start)
	return i < len(as.vmas) && as.vmas[i].start < end
}

// mapFixed maps [start, start+length) replacing whatever was there.
func (as *addressSpace) mapFixed(start, length uint64, prot cpu.Prot, name string, offset uint64) error {
	if err := as.unmap(start, length); err != nil {
		return err
	}
	if err := as.eng.Map(start, length, prot); err != nil {
		as.stats.Failures++
		return fmt.Errorf("map %#x+%#x: %w", start, length, err)
	}
	v := vma{start: start, end: start + length, prot: prot, name: name, offset: offset}
	i := as.find(start)
	as.vmas = append(as.vmas, vma{})
	copy(as.vmas[i+1:], as.vmas[i:])
	as.vmas[i] = v
	as.stats.Allocs++
	as.stats.Mapped += length
	if as.stats.Mapped > as.stats.Peak {
		as.stats.Peak = as.stats.Mapped
	}
	return nil
}

// split makes addr a vma boundary if it falls inside one.
func (as *addressSpace) split(addr uint64) {
	i := as.find(addr)
	if i >= len(as.vmas) || as.vmas[i].start >= addr {
		return
	}
	v := as.vmas[i]
	hi := v
	hi.start = addr
	if v.name != "" {
		hi.offset += addr - v.start
	}
	v.end = addr
	as.vmas[i] = v
	as.stats.Allocs++
	as.vmas = append(as.vmas, vma{})
	copy(as.vmas[i+2:], as.vmas[i+1:])
	as.vmas[i+1] = hi
}

// unmap removes every mapping in [start, start+length).
func (as *addressSpace) unmap(start, length uint64) error {
	end := start + length
	as.split(start)
	as.split(end)
	i := as.find(start)
	j := i
	for j < len(as.vmas) && as.vmas[j].start < end {
		v := as.vmas[j]
		if err := as.eng.Unmap(v.start, v.end-v.start); err != nil {
			return fmt.Errorf("unmap %#x+%#x: %w", v.start, v.end-v.start, err)
		}
		as.stats.Frees++
		as.stats.Mapped -= v.end - v.start
		j++
	}
	as.vmas = append(as.vmas[:i], as.vmas[j:]...)
	return nil
}

// protect changes the permissions of [start, start+length), which must be
// mapped entirely.
func (as *addressSpace) protect(start, length uint64, prot cpu.Prot) error {
	end := start + length
	if !as.check(start, length, cpu.ProtNone) {
		return linux.ENOMEM
	}
	as.split(start)
	as.split(end)
	for i := as.find(start); i < len(as.vmas) && as.vmas[i].start < end; i++ {
		v := &as.vmas[i]
		if err := as.eng.Protect(v.start, v.end-v.start, prot); err != nil {
			return fmt.Errorf("protect %#x: %w", v.start, err)
		}
		v.prot = prot
	}
	return nil
}

// findFree returns the highest free range of length bytes below mmapTop.
func (as *addressSpace) findFree(length uint64) (uint64, bool) {
	top := uint64(mmapTop)
	for i := len(as.vmas) - 1; i >= 0 && top >= mmapBottom+length; i-- {
		v := as.vmas[i]
		if v.start >= top {
			continue
		}
		if v.end <= top && top-v.end >= length {
			return top - length, true
		}
		top = v.start
	}
	if top >= mmapBottom+length {
		return top - length, true
	}
	return 0, false
}

// setBrk moves the program break, mapping or unmapping heap pages. It
// returns the new break (the old one on failure, as Linux does).
func (as *addressSpace) setBrk(addr uint64) uint64 {
	if addr < as.brkBase || addr > as.brkBase+(1<<34) {
		return as.brk
	}
	want := pageUp(addr)
	switch {
	case want > as.brkMapped:
		if as.overlaps(as.brkMapped, want) {
			return as.brk
		}
		if err := as.mapFixed(as.brkMapped, want-as.brkMapped, cpu.ProtRead|cpu.ProtWrite, "[heap]", 0); err != nil {
			return as.brk
		}
	case want < as.brkMapped:
		if err := as.unmap(want, as.brkMapped-want); err != nil {
			return as.brk
		}
	}
	as.brkMapped = want
	as.brk = addr
	return addr
}

// Mappings returns a copy of the mappings, for /proc/<pid>/maps.
func (as *addressSpace) mappings() []vma { return append([]vma(nil), as.vmas...) }
