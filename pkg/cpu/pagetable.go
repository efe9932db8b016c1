package cpu

import (
	"github.com/sis-kernel/sissim/pkg/mem"
)

// Page-table entry bits (shim.h). Leaves map a 4 KiB page to a frame with
// the permissions the CPU may use; an access without the permission, or to
// a page without a valid entry, goes to the FaultHandler.
const (
	PTEValid uint64 = 1
	PTERead  uint64 = 2
	PTEWrite uint64 = 4
	PTEExec  uint64 = 8
	// PTEAddr masks the frame's physical address.
	PTEAddr uint64 = 0x0000_ffff_ffff_f000
	// PTESoft bits (4..11) are the kernel's own; the CPU ignores them.
	PTESoft uint64 = 0xff0
)

// PTEFrame returns the frame a leaf entry maps.
func PTEFrame(pte uint64) mem.Frame { return mem.Frame((pte & PTEAddr) >> mem.PageShift) }

// PTEProt returns the permissions of a leaf entry.
func PTEProt(pte uint64) Prot { return Prot(pte>>1) & ProtAll }

// MakePTE returns a valid leaf entry for frame f with permissions p and
// software bits soft.
func MakePTE(f mem.Frame, p Prot, soft uint64) uint64 {
	return f.Addr() | uint64(p&ProtAll)<<1 | soft&PTESoft | PTEValid
}

// VABits is the width of a user virtual address.
const VABits = 48

const (
	levels      = 4
	entries     = 512
	leafShift   = mem.PageShift
	levelShift  = 9
	tableMask   = entries - 1
	topShift    = leafShift + levelShift*(levels-1) // 39
	maxVA       = uint64(1) << VABits
	entrySize   = 8
	tablesPerPT = 1 // the root
)

// PageTable is a 4-level table of 4 KiB pages over 48-bit virtual
// addresses, kept in frames of the machine's RAM, in the format the CPU's
// TLB fill reads. It is not safe for concurrent use; the kernel edits it
// between runs and in fault handlers.
type PageTable struct {
	ram    *mem.RAM
	root   mem.Frame
	tables int // frames holding tables, the root included
}

// NewPageTable allocates an empty table.
func NewPageTable(ram *mem.RAM) (*PageTable, error) {
	root, err := ram.Alloc(mem.PageTable)
	if err != nil {
		return nil, err
	}
	return &PageTable{ram: ram, root: root, tables: tablesPerPT}, nil
}

// Root returns the physical address of the root table (CPU.SetPageTable).
func (pt *PageTable) Root() uint64 { return pt.root.Addr() }

// Tables returns the number of frames the table uses.
func (pt *PageTable) Tables() int { return pt.tables }

func index(va uint64, level int) uint64 {
	return (va >> (topShift - levelShift*uint(level))) & tableMask
}

// Lookup returns the leaf entry of va, or 0.
func (pt *PageTable) Lookup(va uint64) uint64 {
	if va >= maxVA {
		return 0
	}
	t := pt.root.Addr()
	for l := 0; l < levels-1; l++ {
		e := pt.ram.Load64(t + index(va, l)*entrySize)
		if e&PTEValid == 0 {
			return 0
		}
		t = e & PTEAddr
	}
	return pt.ram.Load64(t + index(va, levels-1)*entrySize)
}

// leafSlot returns the physical address of va's leaf entry, allocating
// the tables on the way when alloc is set (0 when absent or out of RAM).
func (pt *PageTable) leafSlot(va uint64, alloc bool) (uint64, error) {
	t := pt.root.Addr()
	for l := 0; l < levels-1; l++ {
		slot := t + index(va, l)*entrySize
		e := pt.ram.Load64(slot)
		if e&PTEValid == 0 {
			if !alloc {
				return 0, nil
			}
			f, err := pt.ram.Alloc(mem.PageTable)
			if err != nil {
				return 0, err
			}
			pt.tables++
			e = f.Addr() | PTEValid
			pt.ram.Store64(slot, e)
		}
		t = e & PTEAddr
	}
	return t + index(va, levels-1)*entrySize, nil
}

// Set stores the leaf entry of va (va < 2^48), allocating tables as
// needed; it fails only when RAM is out (mem.ErrNoMem). The caller flushes
// the TLB when it replaces a valid entry.
func (pt *PageTable) Set(va, pte uint64) error {
	slot, err := pt.leafSlot(va, true)
	if err != nil {
		return err
	}
	pt.ram.Store64(slot, pte)
	return nil
}

// Range calls fn for the slot of every valid leaf entry in [start, end),
// in address order, skipping absent subtrees, so its cost follows the
// pages present, not the size of the range. fn may rewrite *pte (0 clears
// it). Tables left empty by fn are freed.
func (pt *PageTable) Range(start, end uint64, fn func(va uint64, pte *uint64)) {
	if end > maxVA {
		end = maxVA
	}
	if start >= end {
		return
	}
	pt.walk(pt.root.Addr(), 0, 0, start, end, fn)
}

// walk visits table t (covering va base) at level l; it reports whether
// the table is empty afterwards.
func (pt *PageTable) walk(t uint64, l int, base, start, end uint64, fn func(uint64, *uint64)) bool {
	shift := topShift - levelShift*uint(l)
	span := uint64(1) << shift
	first, last := uint64(0), uint64(entries-1)
	if start > base {
		first = (start - base) >> shift
	}
	if end-1 < base+entries*span-1 {
		last = (end - 1 - base) >> shift
	}
	for i := first; i <= last; i++ {
		slot := t + i*entrySize
		e := pt.ram.Load64(slot)
		if e&PTEValid == 0 {
			continue
		}
		va := base + i*span
		if l == levels-1 {
			p := (*uint64)(pt.ram.Ptr(slot))
			fn(va, p)
			continue
		}
		if pt.walk(e&PTEAddr, l+1, va, start, end, fn) {
			pt.ram.Store64(slot, 0)
			pt.ram.Unref(mem.Frame((e & PTEAddr) >> mem.PageShift))
			pt.tables--
		}
	}
	if l == 0 {
		return false // the root stays
	}
	return pt.ram.IsZero(mem.Frame(t >> mem.PageShift))
}

// Free releases the tables (the root included). The frames the leaves map
// are the caller's: clear them with Range first.
func (pt *PageTable) Free() {
	pt.Range(0, maxVA, func(_ uint64, pte *uint64) { *pte = 0 })
	pt.ram.Unref(pt.root)
	pt.tables = 0
}
