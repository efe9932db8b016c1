package gdbstub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// This file is the fake target's CPU: a small interpreter for the A64
// instructions the test programs use. Anything else is an undefined
// instruction (SIGILL), as on a CPU without it.

const fakePageSize = 4096

// fakeMem is a sparse little-endian memory of 4 KiB pages.
type fakeMem struct {
	pages map[uint64]*[fakePageSize]byte
}

func newFakeMem() *fakeMem { return &fakeMem{pages: map[uint64]*[fakePageSize]byte{}} }

// mapRange makes [addr, addr+n) accessible (zero-filled).
func (m *fakeMem) mapRange(addr, n uint64) {
	for p := addr &^ (fakePageSize - 1); p < addr+n; p += fakePageSize {
		if m.pages[p] == nil {
			m.pages[p] = new([fakePageSize]byte)
		}
	}
}

// clone copies the memory (fork).
func (m *fakeMem) clone() *fakeMem {
	c := newFakeMem()
	for a, p := range m.pages {
		cp := *p
		c.pages[a] = &cp
	}
	return c
}

var errFault = errors.New("unmapped address")

// read copies memory into buf; it returns how much was readable.
func (m *fakeMem) read(addr uint64, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		p := m.pages[a&^(fakePageSize-1)]
		if p == nil {
			return n, fmt.Errorf("read %#x: %w", a, errFault)
		}
		n += copy(buf[n:], p[a&(fakePageSize-1):])
	}
	return n, nil
}

// write copies data into memory; nothing is written unless all of it is
// mapped.
func (m *fakeMem) write(addr uint64, data []byte) error {
	for a := addr &^ (fakePageSize - 1); a < addr+uint64(len(data)); a += fakePageSize {
		if m.pages[a] == nil {
			return fmt.Errorf("write %#x: %w", max(a, addr), errFault)
		}
	}
	n := 0
	for n < len(data) {
		a := addr + uint64(n)
		n += copy(m.pages[a&^(fakePageSize-1)][a&(fakePageSize-1):], data[n:])
	}
	return nil
}

func (m *fakeMem) u64(addr uint64) (uint64, error) {
	var b [8]byte
	_, err := m.read(addr, b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}

// access is one memory access an instruction makes.
type access struct {
	addr, size uint64
	write      bool
}

// insnKind classifies what an instruction does beyond registers/memory.
type insnKind int

const (
	insnNormal insnKind = iota
	insnSVC
	insnBRK
	insnUndef
)

// decoded is an instruction ready to execute: its memory accesses (for
// watchpoints) and the function that executes it.
type decoded struct {
	kind     insnKind
	accesses []access
	exec     func(r *Registers, mem *fakeMem) error
}

// reg reads Xn (31 is XZR, or SP when sp is set).
func reg(r *Registers, n uint32, sp bool) uint64 {
	if n == 31 {
		if sp {
			return r.SP
		}
		return 0
	}
	return r.X[n]
}

// setRegister writes Xn (31 is XZR, or SP when sp is set); a 32-bit result
// is zero-extended.
func setRegister(r *Registers, n uint32, v uint64, sp bool) {
	if n == 31 {
		if sp {
			r.SP = v
		}
		return
	}
	r.X[n] = v
}

func signExtend(v uint64, nbits uint) int64 {
	return int64(v<<(64-nbits)) >> (64 - nbits)
}

// condHolds evaluates an A64 condition against NZCV.
func condHolds(cond uint32, cpsr uint32) bool {
	n, z, c, v := cpsr>>31&1 == 1, cpsr>>30&1 == 1, cpsr>>29&1 == 1, cpsr>>28&1 == 1
	var res bool
	switch cond >> 1 {
	case 0:
		res = z
	case 1:
		res = c
	case 2:
		res = n
	case 3:
		res = v
	case 4:
		res = c && !z
	case 5:
		res = n == v
	case 6:
		res = n == v && !z
	case 7:
		return true
	}
	if cond&1 == 1 {
		return !res
	}
	return res
}

// addWithFlags computes a + b + carry and NZCV for 64 or 32 bits.
func addWithFlags(a, b, carry uint64, is64 bool) (uint64, uint32) {
	if !is64 {
		a, b = a&0xffffffff, b&0xffffffff
		sum := a + b + carry
		res := sum & 0xffffffff
		var f uint32
		if res>>31 == 1 {
			f |= 1 << 31
		}
		if res == 0 {
			f |= 1 << 30
		}
		if sum>>32 != 0 {
			f |= 1 << 29
		}
		if (a>>31 == b>>31) && (res>>31 != a>>31) {
			f |= 1 << 28
		}
		return res, f
	}
	s1, c1 := bits.Add64(a, b, carry)
	var f uint32
	if s1>>63 == 1 {
		f |= 1 << 31
	}
	if s1 == 0 {
		f |= 1 << 30
	}
	if c1 != 0 {
		f |= 1 << 29
	}
	if (a>>63 == b>>63) && (s1>>63 != a>>63) {
		f |= 1 << 28
	}
	return s1, f
}

// decode decodes the instruction insn at pc.
func decode(insn uint32, pc uint64) decoded {
	rd, rn := insn&31, insn>>5&31
	next := func(r *Registers) { r.PC = pc + 4 }
	switch {
	case insn == 0xd503201f: // NOP
		return decoded{exec: func(r *Registers, _ *fakeMem) error { next(r); return nil }}
	case insn&0xffe0001f == 0xd4200000: // BRK
		return decoded{kind: insnBRK}
	case insn&0xffe0001f == 0xd4000001: // SVC
		return decoded{kind: insnSVC}
	case insn&0x1f000000 == 0x11000000: // ADD/ADDS/SUB/SUBS (immediate)
		is64, sub, setFlags := insn>>31 == 1, insn>>30&1 == 1, insn>>29&1 == 1
		imm := uint64(insn >> 10 & 0xfff)
		if insn>>22&1 == 1 {
			imm <<= 12
		}
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			a := reg(r, rn, true)
			b, carry := imm, uint64(0)
			if sub {
				b, carry = ^imm, 1
				if !is64 {
					b &= 0xffffffff
				}
			}
			res, f := addWithFlags(a, b, carry, is64)
			if setFlags {
				r.CPSR = r.CPSR&0x0fffffff | f
			}
			setRegister(r, rd, res, !setFlags)
			next(r)
			return nil
		}}
	case insn&0x1f800000 == 0x12800000: // MOVN/MOVZ/MOVK
		is64, opc := insn>>31 == 1, insn>>29&3
		hw := uint(insn >> 21 & 3)
		imm := uint64(insn>>5&0xffff) << (16 * hw)
		if opc == 1 || (!is64 && hw > 1) {
			break
		}
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			var v uint64
			switch opc {
			case 0:
				v = ^imm
			case 2:
				v = imm
			case 3:
				v = reg(r, rd, false)&^(0xffff<<(16*hw)) | imm
			}
			if !is64 {
				v &= 0xffffffff
			}
			setRegister(r, rd, v, false)
			next(r)
			return nil
		}}
	case insn&0x7f200000 == 0x2a000000 && insn>>22&3 == 0: // ORR (shifted register, LSL)
		is64 := insn>>31 == 1
		rm, sh := insn>>16&31, uint(insn>>10&63)
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			v := reg(r, rn, false) | reg(r, rm, false)<<sh
			if !is64 {
				v &= 0xffffffff
			}
			setRegister(r, rd, v, false)
			next(r)
			return nil
		}}
	case insn&0x7c000000 == 0x14000000: // B, BL
		off := signExtend(uint64(insn&0x3ffffff), 26) * 4
		link := insn>>31 == 1
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			if link {
				r.X[30] = pc + 4
			}
			r.PC = pc + uint64(off)
			return nil
		}}
	case insn&0xff000010 == 0x54000000: // B.cond
		off := signExtend(uint64(insn>>5&0x7ffff), 19) * 4
		cond := insn & 15
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			if condHolds(cond, r.CPSR) {
				r.PC = pc + uint64(off)
			} else {
				next(r)
			}
			return nil
		}}
	case insn&0x7e000000 == 0x34000000: // CBZ, CBNZ
		is64, nz := insn>>31 == 1, insn>>24&1 == 1
		off := signExtend(uint64(insn>>5&0x7ffff), 19) * 4
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			v := reg(r, rd, false)
			if !is64 {
				v &= 0xffffffff
			}
			if (v != 0) == nz {
				r.PC = pc + uint64(off)
			} else {
				next(r)
			}
			return nil
		}}
	case insn&0xfffffc1f == 0xd65f0000, insn&0xfffffc1f == 0xd61f0000, insn&0xfffffc1f == 0xd63f0000: // RET, BR, BLR
		link := insn&0xfffffc1f == 0xd63f0000
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			target := reg(r, rn, false)
			if link {
				r.X[30] = pc + 4
			}
			r.PC = target
			return nil
		}}
	case insn&0x1f000000 == 0x10000000: // ADR, ADRP
		imm := signExtend(uint64(insn>>5&0x7ffff)<<2|uint64(insn>>29&3), 21)
		page := insn>>31 == 1
		return decoded{exec: func(r *Registers, _ *fakeMem) error {
			v := pc + uint64(imm)
			if page {
				v = pc&^0xfff + uint64(imm<<12)
			}
			setRegister(r, rd, v, false)
			next(r)
			return nil
		}}
	case insn&0xff000000 == 0x58000000: // LDR (literal, 64-bit)
		addr := pc + uint64(signExtend(uint64(insn>>5&0x7ffff), 19)*4)
		return decoded{accesses: []access{{addr, 8, false}}, exec: func(r *Registers, m *fakeMem) error {
			v, err := m.u64(addr)
			if err != nil {
				return err
			}
			setRegister(r, rd, v, false)
			next(r)
			return nil
		}}
	}
	return decoded{kind: insnUndef}
}

// decodeAt decodes the instruction at pc with the registers at hand, so
// the memory accesses of loads and stores are known.
func decodeAt(insn uint32, r *Registers) decoded {
	pc := r.PC
	if d := decode(insn, pc); d.kind != insnUndef {
		return d
	}
	rt, rn := insn&31, insn>>5&31
	next := func(r *Registers) { r.PC = pc + 4 }
	switch {
	case insn&0x3b000000 == 0x39000000 && insn>>26&1 == 0 && insn>>23&1 == 0: // LDR/STR (unsigned offset)
		size := uint64(1) << (insn >> 30)
		load := insn>>22&1 == 1
		addr := reg(r, rn, true) + uint64(insn>>10&0xfff)*size
		return decoded{accesses: []access{{addr, size, !load}}, exec: func(r *Registers, m *fakeMem) error {
			var b [8]byte
			if load {
				if _, err := m.read(addr, b[:size]); err != nil {
					return err
				}
				setRegister(r, rt, binary.LittleEndian.Uint64(b[:]), false)
			} else {
				binary.LittleEndian.PutUint64(b[:], reg(r, rt, false))
				if err := m.write(addr, b[:size]); err != nil {
					return err
				}
			}
			next(r)
			return nil
		}}
	}
	if insn>>30 == 2 && insn>>25&0x1f == 0x14 && insn>>23&3 != 0 { // LDP/STP 64-bit
		mode := insn >> 23 & 3 // 1 post-index, 2 offset, 3 pre-index
		load := insn>>22&1 == 1
		off := uint64(signExtend(uint64(insn>>15&0x7f), 7) * 8)
		rt2 := insn >> 10 & 31
		base := reg(r, rn, true)
		addr := base
		if mode != 1 {
			addr = base + off
		}
		return decoded{accesses: []access{{addr, 16, !load}}, exec: func(r *Registers, m *fakeMem) error {
			var b [16]byte
			if load {
				if _, err := m.read(addr, b[:]); err != nil {
					return err
				}
				setRegister(r, rt, binary.LittleEndian.Uint64(b[:8]), false)
				setRegister(r, rt2, binary.LittleEndian.Uint64(b[8:]), false)
			} else {
				binary.LittleEndian.PutUint64(b[:8], reg(r, rt, false))
				binary.LittleEndian.PutUint64(b[8:], reg(r, rt2, false))
				if err := m.write(addr, b[:]); err != nil {
					return err
				}
			}
			if mode != 2 {
				setRegister(r, rn, base+off, true)
			}
			next(r)
			return nil
		}}
	}
	return decoded{kind: insnUndef}
}
