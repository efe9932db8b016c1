package backtrace

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// stack is a fake memory: one readable range.
type stack struct {
	base uint64
	data []byte
}

func (s stack) ReadMemory(addr uint64, buf []byte) (int, error) {
	if addr < s.base || addr-s.base >= uint64(len(s.data)) {
		return 0, errors.New("unmapped")
	}
	n := copy(buf, s.data[addr-s.base:])
	if n < len(buf) {
		return n, errors.New("unmapped")
	}
	return n, nil
}

// records builds a stack at base holding frame records at the given
// offsets: each {next record, return address}.
func records(base uint64, size int, recs map[uint64][2]uint64) stack {
	s := stack{base: base, data: make([]byte, size)}
	for off, r := range recs {
		binary.LittleEndian.PutUint64(s.data[off:], r[0])
		binary.LittleEndian.PutUint64(s.data[off+8:], r[1])
	}
	return s
}

func pcs(t Trace) []uint64 {
	var out []uint64
	for _, f := range t.Frames {
		out = append(out, f.PC)
	}
	return out
}

func TestWalkChain(t *testing.T) {
	const base = 0x7000
	mem := records(base, 0x100, map[uint64][2]uint64{
		0x10: {base + 0x40, 0x401010},
		0x40: {base + 0x80, 0x402020 | 0xff00<<48}, // PAC bits are dropped
		0x80: {0, 0x403030},
	})
	tr := Walk(Regs{PC: 0x400000, FP: base + 0x10, LR: 0x401010}, mem, nil, 0)
	require.Equal(t, []uint64{0x400000, 0x401010, 0x402020, 0x403030}, pcs(tr))
	require.Equal(t, endOfChain, tr.End)
	require.Equal(t, uint64(base+0x40), tr.Frames[2].FP)
	require.Equal(t, "#0 0x0000000000400000 in ??\n#1 0x0000000000401010 in ??\n"+
		"#2 0x0000000000402020 in ??\n#3 0x0000000000403030 in ??\n", tr.String())
}

func TestWalkStops(t *testing.T) {
	const base = 0x7000
	for _, tc := range []struct {
		name string
		recs map[uint64][2]uint64
		fp   uint64
		max  int
		n    int
		end  string
	}{
		{"zero return address", map[uint64][2]uint64{0x10: {base + 0x40, 0}}, base + 0x10, 0, 1, endOfChain},
		{"misaligned", map[uint64][2]uint64{0x10: {base + 0x43, 0x401000}}, base + 0x10, 0, 2, "misaligned"},
		{"loop", map[uint64][2]uint64{0x10: {base + 0x40, 0x401000}, 0x40: {base + 0x10, 0x402000}}, base + 0x10, 0, 3, "does not go up"},
		{"self loop", map[uint64][2]uint64{0x10: {base + 0x10, 0x401000}}, base + 0x10, 0, 2, "does not go up"},
		{"unreadable", map[uint64][2]uint64{0x10: {0x9000, 0x401000}}, base + 0x10, 0, 2, "unreadable"},
		{"off the end", nil, base + 0xf8, 0, 1, "unreadable"},
		{"bounded", map[uint64][2]uint64{0x10: {base + 0x20, 1}, 0x20: {base + 0x30, 2}, 0x30: {base + 0x40, 3}}, base + 0x10, 3, 3, "more than 3 frames"},
		{"no frame pointer", nil, 0, 0, 1, endOfChain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := Walk(Regs{PC: 0x400000, FP: tc.fp}, records(base, 0x100, tc.recs), nil, tc.max)
			require.Len(t, tr.Frames, tc.n)
			require.Contains(t, tr.End, tc.end)
			if tc.end != endOfChain {
				require.Contains(t, tr.String(), "(backtrace stopped: ")
			}
		})
	}
}

func TestRegisterDump(t *testing.T) {
	var x [31]uint64
	for i := range x {
		x[i] = uint64(i)
	}
	d := RegisterDump(x, 0x7ff0, 0x400000, 0x60000000)
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	require.Len(t, lines, 9)
	require.Equal(t, " x0 0000000000000000  x1 0000000000000001  x2 0000000000000002  x3 0000000000000003", lines[0])
	require.Equal(t, "x28 000000000000001c x29 000000000000001d x30 000000000000001e  sp 0000000000007ff0", lines[7])
	require.Equal(t, " pc 0000000000400000 pstate 60000000", lines[8])
}

func TestSymbolsRejectBadFiles(t *testing.T) {
	var s Symbols
	require.Error(t, s.Add("empty", bytes.NewReader(nil), 0))
	require.Error(t, s.Add("junk", bytes.NewReader([]byte("\x7fELF\x02\x01\x01junkjunkjunkjunk")), 0))
	require.Empty(t, s.images)
	require.Equal(t, Location{}, (*Symbols)(nil).Lookup(0x400000))
}

// FuzzSymbols feeds arbitrary files to the symbol reader and looks up
// addresses: no panic, whatever the file.
func FuzzSymbols(f *testing.F) {
	if prog, err := os.ReadFile("/bin/true"); err == nil {
		f.Add(prog[:min(len(prog), 4096)], uint64(0x1000))
	}
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, pc uint64) {
		var s Symbols
		if err := s.Add("fuzz", bytes.NewReader(data), 0); err != nil {
			return
		}
		_ = s.Lookup(pc).String()
		_ = Walk(Regs{PC: pc, FP: 0x7000, LR: pc + 4}, records(0x7000, 0x100, nil), &s, 0)
	})
}

// guestRun is what testdata/frames.c printed under qemu-aarch64-static.
type guestRun struct {
	regs  Regs
	leaf  uint64 // the run-time address of leaf
	stack stack
}

// runFrames builds testdata/frames.c with flags and runs it.
func runFrames(t *testing.T, flags ...string) (string, guestRun) {
	t.Helper()
	for _, tool := range []string{"aarch64-linux-gnu-gcc", "qemu-aarch64-static"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it)", tool)
		}
	}
	prog := filepath.Join(t.TempDir(), "frames")
	args := append(append([]string{}, flags...), "-o", prog, "testdata/frames.c")
	out, err := exec.Command("aarch64-linux-gnu-gcc", args...).CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command("qemu-aarch64-static", prog).Output()
	require.NoError(t, err)
	var g guestRun
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		num := func(i int) uint64 {
			v, err := strconv.ParseUint(f[i], 16, 64)
			require.NoError(t, err, line)
			return v
		}
		switch f[0] {
		case "regs":
			g.regs = Regs{PC: num(1), SP: num(2), FP: num(3), LR: num(4)}
		case "leaf":
			g.leaf = num(1)
		case "stack":
			g.stack.base = num(1)
			g.stack.data, err = hex.DecodeString(f[2])
			require.NoError(t, err)
		}
	}
	require.NotZero(t, g.regs.PC, string(out))
	require.NotEmpty(t, g.stack.data)
	return prog, g
}

// symbolValue returns a symbol's link address.
func symbolValue(t *testing.T, prog, name string) uint64 {
	t.Helper()
	f, err := elf.Open(prog)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("no symbol %s", name)
	return 0
}

// TestWalkRealStack walks a stack that real compiled code built, under
// qemu-aarch64-static, with the program's own symbol table: static and
// static-PIE (loaded with a bias), with and without
// -fno-omit-frame-pointer.
func TestWalkRealStack(t *testing.T) {
	for _, flags := range [][]string{
		{"-static", "-O2", "-fno-omit-frame-pointer"},
		{"-static", "-O2"},
		{"-static-pie", "-O2"},
		{"-static", "-O0"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			prog, g := runFrames(t, flags...)
			bias := g.leaf - symbolValue(t, prog, "leaf")
			f, err := os.Open(prog)
			require.NoError(t, err)
			defer f.Close()
			var syms Symbols
			require.NoError(t, syms.Add(prog, f, bias))

			tr := Walk(g.regs, g.stack, &syms, 0)
			t.Logf("\n%s", tr)
			require.GreaterOrEqual(t, len(tr.Frames), 5, tr.String())
			require.Equal(t, endOfChain, tr.End, "the chain ends at _start")
			want := []struct {
				fn     string
				fromLR bool
			}{{"leaf", false}, {"parent", true}, {"grandparent", false}, {"main", false}}
			for i, w := range want {
				fr := tr.Frames[i]
				require.Equal(t, w.fn, fr.Loc.Func, "frame %d: %s", i, fr)
				require.Equal(t, w.fromLR, fr.FromLR, "frame %d: %s", i, fr)
				require.Equal(t, "frames", fr.Loc.Image)
				start := symbolValue(t, prog, w.fn) + bias
				require.Equal(t, fr.PC-start, fr.Loc.Offset, "frame %d: %s", i, fr)
			}
			require.Equal(t, uint64(8), tr.Frames[0].Loc.Offset, "leaf's adr is its third instruction")
			// glibc's start-up code calls main; the walk goes on into it.
			require.Contains(t, tr.Frames[4].Loc.Func, "libc_start")
			require.Contains(t, tr.String(), fmt.Sprintf("#1 %#016x in parent+", tr.Frames[1].PC))
			require.Contains(t, tr.String(), " (frames) [lr]\n")
		})
	}
}

// TestWalkStaleLR: after a call returned, LR points into the function
// itself and is not a frame.
func TestWalkStaleLR(t *testing.T) {
	prog, g := runFrames(t, "-static", "-O2")
	bias := g.leaf - symbolValue(t, prog, "leaf")
	f, err := os.Open(prog)
	require.NoError(t, err)
	defer f.Close()
	var syms Symbols
	require.NoError(t, syms.Add(prog, f, bias))
	// Stopped in parent (at the return from leaf) with LR still holding
	// that return address: LR is in parent itself.
	regs := Regs{PC: g.regs.LR, SP: g.regs.SP, FP: g.regs.FP, LR: g.regs.LR}
	tr := Walk(regs, g.stack, &syms, 0)
	require.Equal(t, "parent", tr.Frames[0].Loc.Func)
	require.Equal(t, "grandparent", tr.Frames[1].Loc.Func)
	require.False(t, tr.Frames[1].FromLR)
	// Without symbols the link register is not used.
	tr = Walk(g.regs, g.stack, nil, 0)
	require.False(t, tr.Frames[1].FromLR)
	require.Equal(t, "??", tr.Frames[1].Loc.String())
}
