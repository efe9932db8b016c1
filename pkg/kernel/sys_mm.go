package kernel

import (
	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

func registerMemSyscalls(reg registerFn) {
	reg(linux.SysBrk, syscallEntry{fn: sysBrk})
	reg(linux.SysMmap, syscallEntry{fn: sysMmap, support: Partial,
		note: "W+X is refused (EACCES); MAP_HUGETLB is EINVAL"})
	reg(linux.SysMunmap, syscallEntry{fn: sysMunmap})
	reg(linux.SysMprotect, syscallEntry{fn: sysMprotect, support: Partial, note: "W+X is refused (EACCES)"})
	reg(linux.SysMadvise, syscallEntry{fn: sysMadvise, support: Partial,
		note: "MADV_DONTNEED, MADV_FREE and MADV_REMOVE drop pages; other advice is accepted and has no effect"})
	reg(linux.SysMremap, syscallEntry{fn: sysMremap, support: Partial, note: "MREMAP_DONTUNMAP is EINVAL"})
	reg(linux.SysMsync, syscallEntry{fn: sysMsync})
	reg(linux.SysMincore, syscallEntry{fn: sysMincore})
	for _, nr := range []uint64{linux.SysMlock, linux.SysMunlock, linux.SysMlock2} {
		reg(nr, syscallEntry{fn: sysMlock, support: Partial, note: "memory is never swapped: locking only checks the range"})
	}
	for _, nr := range []uint64{linux.SysMlockall, linux.SysMunlockall} {
		reg(nr, syscallEntry{fn: sysMlockall})
	}
}

// Brk implements brk(2).
func sysBrk(t *Task, a *args) (uint64, error) {
	return t.as.setBrk(a[0]), nil
}

// guestProt validates PROT_* bits, refusing writable+executable memory.
func guestProt(prot uint64) (cpu.Prot, error) {
	if prot&^uint64(linux.PROT_READ|linux.PROT_WRITE|linux.PROT_EXEC|linux.PROT_BTI|linux.PROT_GROWSDOWN) != 0 {
		return 0, linux.EINVAL
	}
	p := cpu.Prot(prot & 7)
	if p&cpu.ProtWrite != 0 && p&cpu.ProtExec != 0 {
		return 0, linux.EACCES
	}
	return p, nil
}

// mmap flags Linux accepts (MAP_SHARED_VALIDATE refuses others).
const mmapKnownFlags = linux.MAP_TYPE | linux.MAP_FIXED | linux.MAP_ANONYMOUS | linux.MAP_GROWSDOWN | linux.MAP_DENYWRITE |
	linux.MAP_EXECUTABLE | linux.MAP_LOCKED | linux.MAP_NORESERVE | linux.MAP_POPULATE | linux.MAP_NONBLOCK |
	linux.MAP_STACK | linux.MAP_HUGETLB | linux.MAP_SYNC | linux.MAP_FIXED_NOREPLACE

// Mmap implements mmap(2).
func sysMmap(t *Task, a *args) (uint64, error) {
	addr, length, flags, off := a[0], a[1], int(a[3]), a[5]
	prot, err := guestProt(a[2])
	if err != nil {
		return 0, err
	}
	typ := flags & linux.MAP_TYPE
	switch {
	case length == 0 || off%pageSize != 0:
		return 0, linux.EINVAL
	case typ != linux.MAP_SHARED && typ != linux.MAP_PRIVATE && typ != linux.MAP_SHARED_VALIDATE:
		return 0, linux.EINVAL
	case typ == linux.MAP_SHARED_VALIDATE && flags&^mmapKnownFlags != 0:
		return 0, linux.EOPNOTSUPP
	case flags&linux.MAP_HUGETLB != 0:
		return 0, linux.EINVAL
	case length > maxMapLength || off+pageUp(length) < off:
		return 0, linux.ENOMEM
	}
	length = pageUp(length)
	shared := typ != linux.MAP_PRIVATE
	var vflags vmaFlags
	if shared {
		vflags |= vmShared
	}
	if flags&linux.MAP_NORESERVE != 0 {
		vflags |= vmNoReserve
	}
	if flags&linux.MAP_GROWSDOWN != 0 {
		vflags |= vmGrowsDown
	}
	maxProt := cpu.ProtAll
	var obj *memObject
	name := ""
	if flags&linux.MAP_ANONYMOUS == 0 {
		of, err := t.fds.get(a.int32(4))
		if err != nil {
			return 0, err
		}
		vf, ok := of.f.(*vfs.File)
		if !ok {
			return 0, linux.ENODEV
		}
		switch h := vf.Handle().(type) {
		case vfs.Unmappable:
			return 0, linux.ENODEV
		case vfs.AnonMapper:
			if !h.MapsAnonymous() {
				return 0, linux.ENODEV
			}
			if shared {
				obj = newAnonObject()
			}
			name = "/dev/zero (deleted)"
			if !shared {
				name = ""
			}
		default:
			acc := of.flags & linux.O_ACCMODE
			if acc == linux.O_WRONLY {
				return 0, linux.EACCES
			}
			if shared && acc == linux.O_RDONLY {
				if prot&cpu.ProtWrite != 0 {
					return 0, linux.EACCES
				}
				maxProt &^= cpu.ProtWrite
			}
			if shared && of.flags&linux.O_APPEND != 0 && prot&cpu.ProtWrite != 0 {
				return 0, linux.EACCES
			}
			if obj, err = t.m.fileObject(of, vf); err != nil {
				return 0, err
			}
			name = vf.Path
		}
	} else if shared {
		obj = newAnonObject()
		name = "/dev/zero (deleted)"
	}
	addr, err = t.placeMapping(addr, length, flags)
	if err != nil {
		if obj != nil {
			obj.release(t.m)
		}
		return 0, err
	}
	if err := t.as.mapRange(addr, length, prot, maxProt, vflags, obj, off/pageSize, name); err != nil {
		return 0, err
	}
	if flags&linux.MAP_POPULATE != 0 {
		t.populate(addr, length, prot)
	}
	return addr, nil
}

// placeMapping chooses where a new mapping of length bytes goes.
func (t *Task) placeMapping(addr, length uint64, flags int) (uint64, error) {
	fixed := flags&(linux.MAP_FIXED|linux.MAP_FIXED_NOREPLACE) != 0
	switch {
	case fixed && addr%pageSize != 0:
		return 0, linux.EINVAL
	case fixed && (addr+length < addr || addr+length > maxUserAddr || addr < pageSize):
		return 0, linux.ENOMEM
	case flags&linux.MAP_FIXED_NOREPLACE != 0 && flags&linux.MAP_FIXED == 0 && t.as.overlaps(addr, addr+length):
		return 0, linux.EEXIST
	case fixed:
		return addr, nil
	}
	hint := pageDown(addr)
	if hint >= 0x10000 && hint+length <= maxUserAddr && hint+length > hint && !t.as.overlaps(hint, hint+length) {
		return hint, nil
	}
	a, ok := t.as.findFree(length)
	if !ok {
		t.as.ops.Failures++
		return 0, linux.ENOMEM
	}
	t.as.freeHint = a
	return a, nil
}

// populate faults in the pages of [addr, addr+length) (MAP_POPULATE),
// stopping at the first that cannot be had.
func (t *Task) populate(addr, length uint64, prot cpu.Prot) {
	acc := cpu.AccessRead
	if prot&cpu.ProtWrite != 0 {
		acc = cpu.AccessWrite
	}
	for a := addr; a < addr+length; a += pageSize {
		if _, err := t.as.pageFor(a, acc); err != nil {
			return
		}
	}
}

// rangeArgs validates an (addr, length) pair of munmap/mprotect/madvise.
func rangeArgs(a *args) (addr, length uint64, err error) {
	addr, length = a[0], pageUp(a[1])
	if addr%pageSize != 0 || a[1] > maxUserAddr || addr+length < addr || addr+length > maxUserAddr {
		return 0, 0, linux.EINVAL
	}
	return addr, length, nil
}

// Munmap implements munmap(2).
func sysMunmap(t *Task, a *args) (uint64, error) {
	addr, length, err := rangeArgs(a)
	if err != nil || length == 0 {
		return 0, linux.EINVAL
	}
	t.as.unmap(addr, length)
	return 0, nil
}

// Mprotect implements mprotect(2).
func sysMprotect(t *Task, a *args) (uint64, error) {
	addr, length, err := rangeArgs(a)
	if err != nil {
		return 0, err
	}
	prot, err := guestProt(a[2])
	if err != nil {
		return 0, err
	}
	if length == 0 {
		return 0, nil
	}
	return 0, t.as.protect(addr, length, prot)
}

// madvise advice (asm-generic/mman-common.h).
const (
	madvDontneed = 4
	madvFree     = 8
	madvRemove   = 9
)

// Madvise implements madvise(2).
func sysMadvise(t *Task, a *args) (uint64, error) {
	addr, length, err := rangeArgs(a)
	if err != nil {
		return 0, err
	}
	switch advice := a[2]; {
	case advice <= 3, advice >= 10 && advice <= 21, advice == 100, advice == 101: // hints, fork and dump control
	case advice == madvDontneed, advice == madvFree, advice == madvRemove:
	default:
		return 0, linux.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	if !t.as.check(addr, length, cpu.ProtNone) {
		return 0, linux.ENOMEM
	}
	if a[2] == madvDontneed || a[2] == madvFree || a[2] == madvRemove {
		t.as.madvDontneed(addr, addr+length)
	}
	return 0, nil
}

// mremap flags.
const (
	mremapMaymove   = 1
	mremapFixed     = 2
	mremapDontunmap = 4
)

// Mremap implements mremap(2): shrinking unmaps the tail, growing extends
// in place when the space after is free, else (MREMAP_MAYMOVE) moves the
// mapping, its pages included, without copying them.
func sysMremap(t *Task, a *args) (uint64, error) {
	old, oldSize, newSize, flags, newAddr := a[0], pageUp(a[1]), pageUp(a[2]), a[3], a[4]
	as := t.as
	switch {
	case old%pageSize != 0 || flags&^(mremapMaymove|mremapFixed|mremapDontunmap) != 0 || newSize == 0:
		return 0, linux.EINVAL
	case flags&mremapFixed != 0 && flags&mremapMaymove == 0, flags&mremapDontunmap != 0:
		return 0, linux.EINVAL
	case oldSize == 0 || newSize > maxMapLength || old+oldSize < old || old+oldSize > maxUserAddr:
		return 0, linux.EINVAL
	}
	v := as.find(old)
	if v == nil || old+oldSize > v.end {
		return 0, linux.EFAULT
	}
	if flags&mremapFixed == 0 {
		if newSize <= oldSize {
			if newSize < oldSize {
				as.unmap(old+newSize, oldSize-newSize)
			}
			return old, nil
		}
		if end := old + newSize; end <= maxUserAddr && end > old && !as.overlaps(old+oldSize, end) {
			if err := as.extend(v, old+oldSize, end); err != nil {
				return 0, err
			}
			return old, nil
		}
		if flags&mremapMaymove == 0 {
			return 0, linux.ENOMEM
		}
		var ok bool
		if newAddr, ok = as.findFree(newSize); !ok {
			return 0, linux.ENOMEM
		}
	} else {
		if newAddr%pageSize != 0 || newAddr+newSize > maxUserAddr || newAddr+newSize < newAddr {
			return 0, linux.EINVAL
		}
		if newAddr < old+oldSize && old < newAddr+newSize {
			return 0, linux.EINVAL
		}
		as.unmap(newAddr, newSize)
	}
	return newAddr, as.move(old, oldSize, newAddr, newSize)
}

// Msync implements msync(2): dirty pages of shared host-file mappings are
// written back (tmpfs pages are the file already).
func sysMsync(t *Task, a *args) (uint64, error) {
	addr, length := a[0], pageUp(a[1])
	flags := a[2]
	const msAsync, msInvalidate, msSync = 1, 2, 4
	if addr%pageSize != 0 || flags&^(msAsync|msInvalidate|msSync) != 0 || flags&(msAsync|msSync) == msAsync|msSync {
		return 0, linux.EINVAL
	}
	if addr+length < addr || addr+length > maxUserAddr {
		return 0, linux.ENOMEM
	}
	if length > 0 && !t.as.check(addr, length, cpu.ProtNone) {
		return 0, linux.ENOMEM
	}
	t.as.sync(addr, addr+length)
	return 0, nil
}

// Mincore implements mincore(2): a page is resident when it has a frame.
func sysMincore(t *Task, a *args) (uint64, error) {
	addr, length := a[0], pageUp(a[1])
	if addr%pageSize != 0 {
		return 0, linux.EINVAL
	}
	if addr+length < addr || addr+length > maxUserAddr || !t.as.check(addr, length, cpu.ProtNone) {
		return 0, linux.ENOMEM
	}
	n := length / pageSize
	vec := make([]byte, min(n, 1<<20))
	for done := uint64(0); done < n; done += uint64(len(vec)) {
		k := min(n-done, uint64(len(vec)))
		clear(vec[:k])
		start := addr + done*pageSize
		t.as.pt.Range(start, start+k*pageSize, func(va uint64, _ *uint64) { vec[(va-start)/pageSize] = 1 })
		if err := t.copyOut(a[2]+done, vec[:k]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Mlock implements mlock(2), munlock(2) and mlock2(2): memory is never
// swapped, so they only check the range.
func sysMlock(t *Task, a *args) (uint64, error) {
	addr, length, err := rangeArgs(&args{pageDown(a[0]), a[1] + a[0]%pageSize})
	if err != nil {
		return 0, err
	}
	if !t.as.check(addr, length, cpu.ProtNone) {
		return 0, linux.ENOMEM
	}
	return 0, nil
}

// Mlockall implements mlockall(2) and munlockall(2).
func sysMlockall(t *Task, a *args) (uint64, error) {
	const mclCurrent, mclFuture, mclOnfault = 1, 2, 4
	if a[0]&^(mclCurrent|mclFuture|mclOnfault) != 0 {
		return 0, linux.EINVAL
	}
	return 0, nil
}
