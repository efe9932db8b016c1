package strace

import (
	"encoding/binary"
	"errors"
	"sort"
)

// fakeMem is guest memory for tests: byte regions at fixed addresses.
type fakeMem struct {
	regions map[uint64][]byte
	next    uint64
	sp      uint64
}

func newMem() *fakeMem { return &fakeMem{regions: map[uint64][]byte{}, next: 0x10000} }

var errFault = errors.New("fault")

func (m *fakeMem) ReadMem(addr uint64, b []byte) error {
	keys := make([]uint64, 0, len(m.regions))
	for k := range m.regions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		r := m.regions[k]
		end := addr + uint64(len(b))
		if addr >= k && end >= addr && end <= k+uint64(len(r)) {
			copy(b, r[addr-k:])
			return nil
		}
	}
	return errFault
}

// put places b at a fresh address and returns it.
func (m *fakeMem) put(b []byte) uint64 {
	a := m.next
	m.regions[a] = append([]byte(nil), b...)
	m.next += (uint64(len(b)) + 0x100) &^ 0xff
	return a
}

// at places b at addr.
func (m *fakeMem) at(addr uint64, b []byte) uint64 {
	m.regions[addr] = append([]byte(nil), b...)
	return addr
}

func (m *fakeMem) str(s string) uint64 { return m.put(append([]byte(s), 0)) }

// ptrs places a NULL-terminated array of pointers.
func (m *fakeMem) ptrs(p ...uint64) uint64 { return m.put(u64s(append(p, 0)...)) }

type spMem struct{ *fakeMem }

func (m spMem) SP() uint64 { return m.sp }

func u16s(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func u32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func u64s(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func zeros(n int) []byte { return make([]byte, n) }

func neg(errno int) uint64 { return uint64(-int64(errno)) }
