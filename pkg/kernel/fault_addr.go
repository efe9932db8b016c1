package kernel

import (
	"github.com/sis-kernel/sissim/pkg/cpu"
)

// Unicorn's TLB tells the kernel only the 1 KiB page of a faulting access.
// The exact address (si_addr, the fault report) comes from the faulting
// instruction, which the PC points to exactly: decoding its addressing
// mode with the registers gives the effective address.

// ucPage is Unicorn's AArch64 page size.
const ucPage = 1024

// faultAddr returns the address of the access that faulted.
func (t *Task) faultAddr(fi *faultInfo, pc uint64) uint64 {
	if fi.acc == cpu.AccessFetch {
		if pc&^(ucPage-1) == fi.page {
			return pc
		}
		return fi.page
	}
	var w [4]byte
	if t.copyIn(pc, w[:]) != nil {
		return fi.page
	}
	ea, size, ok := effectiveAddr(leU32(w[:]), pc, t.m.cpu.Reg)
	switch {
	case !ok:
		return fi.page
	case ea&^(ucPage-1) == fi.page:
		return ea
	case ea < fi.page && ea+size > fi.page:
		return fi.page // the access crosses into the faulting page
	}
	return fi.page
}

// effectiveAddr decodes the address an A64 load or store accesses and its
// size in bytes; ok is false for other instructions.
func effectiveAddr(w uint32, pc uint64, reg func(cpu.Reg) (uint64, error)) (ea, size uint64, ok bool) {
	x := func(n uint32, sp bool) uint64 {
		if n == 31 {
			if !sp {
				return 0
			}
			v, _ := reg(cpu.SP)
			return v
		}
		v, _ := reg(cpu.X0 + cpu.Reg(n))
		return v
	}
	rn := x((w>>5)&31, true)
	sext := func(v uint32, bits uint) int64 { return int64(int32(v<<(32-bits))) >> (32 - bits) }
	switch {
	case w&0xffffffe0 == 0xd50b7420: // dc zva, Xt
		return x(w&31, false) &^ 63, 64, true
	case (w>>24)&0x3f == 0x08: // load/store exclusive, acquire/release
		return rn, 1 << (w >> 30), true
	case (w>>27)&7 == 3 && (w>>24)&1 == 0: // load literal
		return pc + uint64(sext((w>>5)&0x7ffff, 19)*4), 8, true
	case (w>>27)&7 == 5: // load/store pair
		v, opc := (w>>26)&1, w>>30
		scale := uint64(4) << opc
		if v == 0 {
			scale = 4
			if opc == 2 {
				scale = 8
			}
		}
		imm := uint64(sext((w>>15)&0x7f, 7)) * scale
		if (w>>23)&3 == 1 { // post-index
			return rn, 2 * scale, true
		}
		return rn + imm, 2 * scale, true
	case (w>>27)&7 == 7 && (w>>25)&1 == 0: // load/store register
		size := w >> 30
		if (w>>26)&1 == 1 && size == 0 && (w>>23)&1 == 1 {
			size = 4 // 128-bit SIMD&FP
		}
		n := uint64(1) << size
		if (w>>24)&1 == 1 { // unsigned offset
			return rn + uint64((w>>10)&0xfff)<<size, n, true
		}
		if (w>>21)&1 == 0 {
			switch (w >> 10) & 3 {
			case 1: // post-index
				return rn, n, true
			default: // unscaled, unprivileged, pre-index
				return rn + uint64(sext((w>>12)&0x1ff, 9)), n, true
			}
		}
		switch (w >> 10) & 3 {
		case 2: // register offset
			m := x((w>>16)&31, false)
			switch (w >> 13) & 7 {
			case 2: // uxtw
				m = uint64(uint32(m))
			case 6: // sxtw
				m = uint64(int64(int32(m)))
			}
			if (w>>12)&1 == 1 {
				m <<= size
			}
			return rn + m, n, true
		case 0: // atomic memory operations
			return rn, n, true
		}
	case (w>>31) == 0 && (w>>24)&0x3e == 0x0c: // SIMD structure loads and stores
		return rn, 16, true
	}
	return 0, 0, false
}
