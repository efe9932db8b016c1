package kernel

import (
	"errors"
	"io"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// si_code values of SIGSEGV and SIGBUS.
const (
	segvMapErr = 1 // SEGV_MAPERR: no mapping at the address
	segvAccErr = 2 // SEGV_ACCERR: the mapping forbids the access
	busAdrErr  = 2 // BUS_ADRERR: past the end of a mapped file
)

// faultResult says how a page fault ended.
type faultResult struct {
	sig  linux.Signal // 0: the page is mapped; SIGSEGV or SIGBUS; SIGKILL: out of memory
	code int          // si_code
}

var faultOK = faultResult{}

func protFor(acc cpu.Access) cpu.Prot {
	switch acc {
	case cpu.AccessWrite:
		return cpu.ProtWrite
	case cpu.AccessFetch:
		return cpu.ProtExec
	}
	return cpu.ProtRead
}

// fault makes the page of va accessible for acc if its mapping allows it:
// demand paging, copy on write, dirty tracking of shared host pages.
func (as *addressSpace) fault(va uint64, acc cpu.Access) faultResult {
	v := as.find(va)
	if v == nil {
		return faultResult{linux.SIGSEGV, segvMapErr}
	}
	need := protFor(acc)
	if v.prot&need == 0 {
		return faultResult{linux.SIGSEGV, segvAccErr}
	}
	page := pageDown(va)
	pte := as.pt.Lookup(page)
	if pte&cpu.PTEValid == 0 {
		return as.populate(v, page, acc == cpu.AccessWrite)
	}
	if acc != cpu.AccessWrite {
		// Present with fewer permissions than the mapping has (mprotect
		// added them): grant them, keeping copy-on-write pages read-only.
		p := v.prot
		if !v.shared() && !as.ownsPage(pte) || v.shared() && pte&cpu.PTEWrite == 0 {
			p &^= cpu.ProtWrite
		}
		return as.install(page, cpu.PTEFrame(pte), p)
	}
	if v.shared() {
		if v.obj != nil {
			v.obj.markDirty(v.objIndex(page))
		}
		return as.install(page, cpu.PTEFrame(pte), v.prot)
	}
	if as.ownsPage(pte) {
		return as.install(page, cpu.PTEFrame(pte), v.prot)
	}
	// Copy on write: the page becomes this address space's own.
	old := cpu.PTEFrame(pte)
	f, err := as.m.allocFrame(mem.Anon, old)
	if err != nil {
		return faultResult{sig: linux.SIGKILL}
	}
	as.unrefPTE(pte)
	if err := as.setPTE(page, f, v.prot); err != nil {
		return faultResult{sig: linux.SIGKILL}
	}
	as.m.flushTLB(as) // other 1 KiB pieces of the page may still map the old frame
	return faultOK
}

// install rewrites the entry of a present page (same frame, permissions
// p); the TLB is flushed when permissions shrink.
func (as *addressSpace) install(page uint64, f mem.Frame, p cpu.Prot) faultResult {
	old := as.pt.Lookup(page)
	if p&cpu.ProtExec != 0 {
		as.ram.MarkCode(f)
	}
	if err := as.pt.Set(page, cpu.MakePTE(f, p, 0)); err != nil {
		return faultResult{sig: linux.SIGKILL}
	}
	if cpu.PTEProt(old)&^p != 0 {
		as.m.flushTLB(as)
	}
	return faultOK
}

// populate gives a page that has no entry its frame.
func (as *addressSpace) populate(v *vma, page uint64, write bool) faultResult {
	p := v.prot
	if v.obj == nil {
		// Private anonymous memory: a writable mapping gets its own frame
		// at once (a later write needs no copy and no TLB flush); a
		// read-only one maps the zero frame.
		if p&cpu.ProtWrite == 0 {
			if err := as.setPTE(page, mem.ZeroFrame, p); err != nil {
				return faultResult{sig: linux.SIGKILL}
			}
			return faultOK
		}
		f, err := as.m.allocFrame(mem.Anon, mem.ZeroFrame)
		if err != nil {
			return faultResult{sig: linux.SIGKILL}
		}
		if err := as.setPTE(page, f, p); err != nil {
			return faultResult{sig: linux.SIGKILL}
		}
		return faultOK
	}
	i := v.objIndex(page)
	f, err := v.obj.page(as.m, i)
	switch {
	case errors.Is(err, io.EOF):
		return faultResult{linux.SIGBUS, busAdrErr}
	case err != nil:
		return faultResult{sig: linux.SIGKILL}
	}
	if v.shared() {
		if write {
			v.obj.markDirty(i)
		} else if v.obj.tracksDirty() {
			p &^= cpu.ProtWrite // the first write marks the page dirty
		}
	} else if write {
		c, err := as.m.allocFrame(mem.Anon, f)
		as.ram.Unref(f)
		if err != nil {
			return faultResult{sig: linux.SIGKILL}
		}
		f = c
	} else {
		p &^= cpu.ProtWrite // the file's page: copy on the first write
	}
	if err := as.setPTE(page, f, p); err != nil {
		return faultResult{sig: linux.SIGKILL}
	}
	return faultOK
}

// allocFrame returns a new frame of kind k holding a copy of src (zeros
// for the zero frame). When RAM is out, the OOM killer frees some first;
// it fails when nothing can be freed.
func (m *Machine) allocFrame(k mem.Kind, src mem.Frame) (mem.Frame, error) {
	for {
		var f mem.Frame
		var err error
		if src == mem.ZeroFrame {
			f, err = m.ram.Alloc(k)
		} else {
			f, err = m.ram.AllocCopy(k, src)
		}
		if err == nil || !m.oomKill() {
			return f, err
		}
	}
}

// pageFor returns the frame of the page at va for a kernel access (a
// system call reading or writing guest memory), faulting it in as the CPU
// would; EFAULT when the guest could not access it either.
func (as *addressSpace) pageFor(va uint64, acc cpu.Access) (mem.Frame, error) {
	need := cpu.PTERead
	switch acc {
	case cpu.AccessWrite:
		need = cpu.PTEWrite
	case cpu.AccessFetch:
		need = cpu.PTEExec
	}
	for try := 0; ; try++ {
		pte := as.pt.Lookup(pageDown(va))
		if pte&cpu.PTEValid != 0 && pte&need != 0 {
			return cpu.PTEFrame(pte), nil
		}
		if try > 0 {
			return 0, linux.EFAULT
		}
		if r := as.fault(va, acc); r.sig != 0 {
			if r.sig == linux.SIGKILL {
				return 0, linux.ENOMEM
			}
			return 0, linux.EFAULT
		}
	}
}
