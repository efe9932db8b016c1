package kernel

import (
	"io"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

func registerMemSyscalls(reg registerFn) {
	reg(linux.SysBrk, syscallEntry{fn: sysBrk, args: []argKind{argHex}})
	reg(linux.SysMmap, syscallEntry{fn: sysMmap, support: Partial,
		note: "MAP_SHARED file mappings are private copies; W+X is refused (EACCES)",
		args: []argKind{argHex, argUint, argProt, argMap, argFD, argHex}})
	reg(linux.SysMunmap, syscallEntry{fn: sysMunmap, args: []argKind{argHex, argUint}})
	reg(linux.SysMprotect, syscallEntry{fn: sysMprotect, support: Partial, note: "W+X is refused (EACCES)",
		args: []argKind{argHex, argUint, argProt}})
	reg(linux.SysMadvise, syscallEntry{fn: sysMadvise, support: Partial, note: "MADV_DONTNEED zeroes; other advice is accepted and ignored",
		args: []argKind{argHex, argUint, argInt}})
}

// Brk implements brk(2).
func sysBrk(t *Task, a *args) (uint64, error) {
	return t.as.setBrk(a[0]), nil
}

// guestProt validates PROT_* bits, refusing writable+executable memory.
func guestProt(prot uint64) (cpu.Prot, error) {
	if prot&^uint64(linux.PROT_READ|linux.PROT_WRITE|linux.PROT_EXEC|linux.PROT_BTI) != 0 {
		return 0, linux.EINVAL
	}
	p := cpu.Prot(prot & 7)
	if p&cpu.ProtWrite != 0 && p&cpu.ProtExec != 0 {
		return 0, linux.EACCES
	}
	return p, nil
}

// Mmap implements mmap(2).
func sysMmap(t *Task, a *args) (uint64, error) {
	addr, length, flags, off := a[0], a[1], int(a[3]), a[5]
	prot, err := guestProt(a[2])
	if err != nil {
		return 0, err
	}
	typ := flags & linux.MAP_TYPE
	if length == 0 || off%pageSize != 0 || (typ != linux.MAP_SHARED && typ != linux.MAP_PRIVATE && typ != linux.MAP_SHARED_VALIDATE) {
		return 0, linux.EINVAL
	}
	if length > maxMapLength {
		return 0, linux.ENOMEM
	}
	length = pageUp(length)
	var src *openFile
	name := ""
	if flags&linux.MAP_ANONYMOUS == 0 {
		if src, err = t.fds.get(a.int32(4)); err != nil {
			return 0, err
		}
		vf, ok := src.f.(*vfs.File)
		if !ok {
			return 0, linux.ENODEV
		}
		if _, no := vf.Handle().(vfs.Unmappable); no {
			return 0, linux.ENODEV
		}
		if src.flags&linux.O_ACCMODE == linux.O_WRONLY {
			return 0, linux.EACCES
		}
		name = vf.Path
	}
	fixed := flags&(linux.MAP_FIXED|linux.MAP_FIXED_NOREPLACE) != 0
	switch {
	case fixed && addr%pageSize != 0:
		return 0, linux.EINVAL
	case fixed && (addr+length < addr || addr+length > maxUserAddr || addr < pageSize):
		return 0, linux.ENOMEM
	case flags&linux.MAP_FIXED_NOREPLACE != 0 && flags&linux.MAP_FIXED == 0 && t.as.overlaps(addr, addr+length):
		return 0, linux.EEXIST
	case !fixed:
		hint := pageDown(addr)
		if hint < 0x10000 || hint+length > maxUserAddr || t.as.overlaps(hint, hint+length) {
			var ok bool
			if hint, ok = t.as.findFree(length); !ok {
				t.as.stats.Failures++
				return 0, linux.ENOMEM
			}
		}
		addr = hint
	}
	if err := t.as.mapFixed(addr, length, prot, name, off); err != nil {
		return 0, linux.ENOMEM
	}
	if src != nil {
		ra, ok := src.f.(io.ReaderAt)
		if !ok {
			t.as.unmap(addr, length)
			return 0, linux.ENODEV
		}
		buf := make([]byte, length)
		n, err := ra.ReadAt(buf, int64(off))
		if err != nil && err != io.EOF {
			t.as.unmap(addr, length)
			return 0, fileErr(err)
		}
		if err := t.eng.WriteMem(addr, buf[:n]); err != nil {
			t.as.unmap(addr, length)
			return 0, linux.ENOMEM
		}
	}
	return addr, nil
}

// rangeArgs validates an (addr, length) pair of munmap/mprotect/madvise.
func rangeArgs(a *args) (addr, length uint64, err error) {
	addr, length = a[0], pageUp(a[1])
	if addr%pageSize != 0 || addr+length < addr || addr+length > maxUserAddr {
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
	return 0, t.as.unmap(addr, length)
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

// Madvise implements madvise(2).
func sysMadvise(t *Task, a *args) (uint64, error) {
	addr, length, err := rangeArgs(a)
	if err != nil {
		return 0, err
	}
	if !t.as.check(addr, length, cpu.ProtNone) {
		return 0, linux.ENOMEM
	}
	const madvDontneed = 4
	if a[2] == madvDontneed {
		for off := uint64(0); off < length; off += 1 << 20 {
			n := min(length-off, 1<<20)
			if err := t.eng.WriteMem(addr+off, make([]byte, n)); err != nil {
				return 0, linux.ENOMEM
			}
		}
	}
	return 0, nil
}
