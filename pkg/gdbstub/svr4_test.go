package gdbstub

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// dynamicImage lays out, in p's memory, what a dynamic program has once
// its dynamic linker has run: program headers (PT_PHDR, PT_DYNAMIC) of a
// program loaded at bias 0x400000, a DT_DEBUG entry pointing to r_debug,
// and a link_map list: the program, libc and the dynamic linker.
func dynamicImage(t *testing.T, p *fakeProc) {
	t.Helper()
	const bias = 0x400000
	p.mem.mapRange(bias, 0x4000)
	w64 := func(addr, v uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		require.NoError(t, p.mem.write(addr, b[:]))
	}
	phdr := func(i int, typ uint32, vaddr, memsz uint64) {
		var b [56]byte
		binary.LittleEndian.PutUint32(b[0:], typ)
		binary.LittleEndian.PutUint64(b[16:], vaddr)
		binary.LittleEndian.PutUint64(b[40:], memsz)
		require.NoError(t, p.mem.write(bias+0x40+uint64(56*i), b[:]))
	}
	phdr(0, 6, 0x40, 2*56)   // PT_PHDR
	phdr(1, 2, 0x1000, 0x40) // PT_DYNAMIC
	w64(bias+0x1000, 1)      // DT_NEEDED (ignored)
	w64(bias+0x1008, 0)
	w64(bias+0x1010, 21) // DT_DEBUG
	w64(bias+0x1018, bias+0x2000)
	w64(bias+0x1020, 0)           // DT_NULL
	w64(bias+0x2008, bias+0x3000) // r_debug.r_map
	link := func(at, addr, name, ld, next, prev uint64) {
		w64(at, addr)
		w64(at+8, name)
		w64(at+16, ld)
		w64(at+24, next)
		w64(at+32, prev)
	}
	link(bias+0x3000, 0, bias+0x3f00, bias+0x1000, bias+0x3100, 0)
	link(bias+0x3100, 0x7f000000, bias+0x3f10, 0x7f001000, bias+0x3200, bias+0x3000)
	link(bias+0x3200, 0x7f100000, bias+0x3f40, 0x7f101000, 0, bias+0x3100)
	require.NoError(t, p.mem.write(bias+0x3f00, []byte{0}))
	require.NoError(t, p.mem.write(bias+0x3f10, []byte("/lib/aarch64-linux-gnu/libc.so.6\x00")))
	require.NoError(t, p.mem.write(bias+0x3f40, []byte("/lib/ld-linux-aarch64.so.1\x00")))
	auxv := []uint64{3, bias + 0x40, 5, 2, 0, 0}
	p.auxv = make([]byte, 8*len(auxv))
	for i, v := range auxv {
		binary.LittleEndian.PutUint64(p.auxv[8*i:], v)
	}
}

func TestLibrariesSVR4(t *testing.T) {
	m, p := newProgram(nop())
	dynamicImage(t, p)
	c := connect(t, m, gdbFeatures)
	require.Equal(t, `<library-list-svr4 version="1.0" main-lm="0x403000">
<library name="/lib/aarch64-linux-gnu/libc.so.6" lm="0x403100" l_addr="0x7f000000" l_ld="0x7f001000" lmid="0x0"/>
<library name="/lib/ld-linux-aarch64.so.1" lm="0x403200" l_addr="0x7f100000" l_ld="0x7f101000" lmid="0x0"/>
</library-list-svr4>
`, readXfer(t, c, "libraries-svr4", ""))
	// gdb continues from a known entry with start and prev.
	require.Equal(t, `<library-list-svr4 version="1.0">
<library name="/lib/ld-linux-aarch64.so.1" lm="0x403200" l_addr="0x7f100000" l_ld="0x7f101000" lmid="0x0"/>
</library-list-svr4>
`, readXfer(t, c, "libraries-svr4", "start=403200;prev=403100"))
	require.Equal(t, "E03", c.cmd("qXfer:libraries-svr4:read:start=zz:0,100"))
}

func TestLibrariesSVR4Damaged(t *testing.T) {
	m, p := newProgram(nop())
	dynamicImage(t, p)
	read := func() ([]byte, error) { return librariesSVR4(p.pid, p.mem2(), p.auxv, "") }

	// A loop in the list ends the walk.
	require.NoError(t, p.mem.write(0x403200+24, le(0x403000)))
	doc, err := read()
	require.NoError(t, err)
	require.Contains(t, string(doc), "ld-linux")

	// An entry whose l_prev does not point back ends the list there.
	require.NoError(t, p.mem.write(0x403200+32, le(0x999)))
	doc, err = read()
	require.NoError(t, err)
	require.NotContains(t, string(doc), "ld-linux")
	require.Contains(t, string(doc), "libc.so.6")

	// A name without an end is refused.
	long := make([]byte, maxPathLen+64)
	for i := range long {
		long[i] = 'a'
	}
	p.mem.mapRange(0x500000, uint64(len(long)))
	require.NoError(t, p.mem.write(0x500000, long))
	require.NoError(t, p.mem.write(0x403100+8, le(0x500000)))
	_, err = read()
	require.Error(t, err)

	// A list pointer into unmapped memory is an error, not a crash.
	require.NoError(t, p.mem.write(0x402008, le(0xdead0000)))
	_, err = read()
	require.Error(t, err)

	// No r_map yet (the dynamic linker has not run): an empty list.
	require.NoError(t, p.mem.write(0x402008, le(0)))
	doc, err = read()
	require.NoError(t, err)
	require.Equal(t, "<library-list-svr4 version=\"1.0\"/>\n", string(doc))

	// An absurd AT_PHNUM, or none, is no dynamic program.
	binary.LittleEndian.PutUint64(p.auxv[24:], 100000)
	doc, err = read()
	require.NoError(t, err)
	require.Equal(t, "<library-list-svr4 version=\"1.0\"/>\n", string(doc))
	doc, err = librariesSVR4(p.pid, p.mem2(), nil, "")
	require.NoError(t, err)
	require.Equal(t, "<library-list-svr4 version=\"1.0\"/>\n", string(doc))
	_ = m
}

func le(v uint64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return b[:]
}

// mem2 adapts the process memory to memReader.
func (p *fakeProc) mem2() memReader { return procMem{p} }

type procMem struct{ p *fakeProc }

func (m procMem) ReadMemory(pid int, addr uint64, buf []byte) (int, error) {
	return m.p.mem.read(addr, buf)
}
