package cpu

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/mem"
)

const codeBase = 0x10000

// program assembles A64 words into little-endian bytes.
func program(words ...uint32) []byte {
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// testMachine is a CPU over 16 MiB of RAM with one page table, code at
// codeBase and a fault handler that maps zero pages on demand in
// [demandLo, demandHi).
type testMachine struct {
	ram                *mem.RAM
	cpu                *CPU
	clk                *Clock
	pt                 *PageTable
	demandLo, demandHi uint64
	faults             []uint64
}

func newTestMachine(t testing.TB, count bool, h SyscallHandler, code []byte) *testMachine {
	t.Helper()
	ram, err := mem.New(16 << 20)
	require.NoError(t, err)
	t.Cleanup(func() { ram.Close() })
	tm := &testMachine{ram: ram, clk: NewClock(false)}
	t.Cleanup(tm.clk.Close)
	if h == nil {
		h = func(uint64, *[6]uint64) (uint64, SyscallAction) { return 0, Stop }
	}
	c, err := New(Options{Clock: tm.clk, CountInsns: count, RAM: ram.Arena(), Syscall: h, PageFault: tm.fault})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	ram.SetInvalidator(c.Invalidate)
	tm.cpu = c
	tm.pt, err = NewPageTable(ram)
	require.NoError(t, err)
	c.SetPageTable(tm.pt.Root())
	if code != nil {
		tm.mapPage(t, codeBase, ProtRead|ProtExec, code)
	}
	return tm
}

// mapPage maps a new frame holding data at va.
func (tm *testMachine) mapPage(t testing.TB, va uint64, p Prot, data []byte) mem.Frame {
	f, err := tm.ram.Alloc(mem.Anon)
	require.NoError(t, err)
	copy(tm.ram.Page(f), data)
	if p&ProtExec != 0 {
		tm.ram.MarkCode(f)
	}
	require.NoError(t, tm.pt.Set(va, MakePTE(f, p, 0)))
	return f
}

func (tm *testMachine) fault(va uint64, acc Access) bool {
	tm.faults = append(tm.faults, va)
	if va < tm.demandLo || va >= tm.demandHi {
		return false
	}
	f, err := tm.ram.Alloc(mem.Anon)
	if err != nil {
		return false
	}
	return tm.pt.Set(va&^(mem.PageSize-1), MakePTE(f, ProtRead|ProtWrite, 0)) == nil
}

func TestSyscallEntersGoWithArgsAndResult(t *testing.T) {
	var gotNr uint64
	var gotArgs [6]uint64
	h := func(nr uint64, a *[6]uint64) (uint64, SyscallAction) {
		if nr == 93 {
			return 0, Stop
		}
		gotNr, gotArgs = nr, *a
		return 42, SetX0
	}
	tm := newTestMachine(t, false, h, program(
		0xd2801588, // mov x8, #172
		0xd28000e0, // mov x0, #7
		0xd4000001, // svc #0
		0xaa0003e9, // mov x9, x0
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
	))
	ex, err := tm.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopRequested, ex.Reason)
	require.Equal(t, uint64(172), gotNr)
	require.Equal(t, uint64(7), gotArgs[0])
	x9, err := tm.cpu.Reg(X9)
	require.NoError(t, err)
	require.Equal(t, uint64(42), x9)
	pc, _ := tm.cpu.Reg(PC)
	require.Equal(t, uint64(codeBase+24), pc, "PC points past the SVC")
}

func TestGenericTimerIsVirtual(t *testing.T) {
	tm := newTestMachine(t, true, nil, program(
		0xd2a00023, // mov x3, #0x10000
		0xf1000463, // subs x3, x3, #1
		0x54ffffe1, // b.ne -4
		0xd53be041, // mrs x1, cntvct_el0
		0xd53be002, // mrs x2, cntfrq_el0
		0xd4000001, // svc #0
	))
	u, clk := tm.cpu, tm.clk
	_, err := u.Run(codeBase)
	require.NoError(t, err)
	vals := make([]uint64, 2)
	require.NoError(t, u.ReadRegs([]Reg{X1, X2}, vals))
	require.Equal(t, uint64(CounterHz), vals[1])
	// 1 + 2*65536 instructions, then the block holding the MRS.
	require.GreaterOrEqual(t, u.Insns(), uint64(2*0x10000))
	require.Equal(t, u.Insns(), clk.Insns())
	require.InDelta(t, float64(clk.Now())/16, float64(vals[0]), 2)
	clk.Skip(1600)
	require.Equal(t, u.Insns()*NsPerInsn+1600, clk.Now())
}

func TestBudgetStopsRunawayLoop(t *testing.T) {
	tm := newTestMachine(t, true, nil, program(0x14000000)) // b .
	tm.cpu.SetStopAt(1000)
	ex, err := tm.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopBudget, ex.Reason)
	require.GreaterOrEqual(t, tm.clk.Insns(), uint64(1000))
}

// TestFaultsArePrecise: an access the fault handler refuses stops the run
// at the faulting instruction, with the access kind and page.
func TestFaultsArePrecise(t *testing.T) {
	tm := newTestMachine(t, false, nil, program(
		0xd2800021, // mov x1, #1
		0xd2a00204, // mov x4, #0x100000
		0xd2800022, // mov x2, #1
		0xf9440885, // ldr x5, [x4, #0x810]
		0xd2800023, // mov x3, #1
	))
	ex, err := tm.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopMemFault, ex.Reason)
	require.Equal(t, Fault{Access: AccessRead, Page: 0x100800}, ex.Fault)
	pc, _ := tm.cpu.Reg(PC)
	require.Equal(t, uint64(codeBase+12), pc, "PC is the faulting load")
	x2, _ := tm.cpu.Reg(X2)
	x3, _ := tm.cpu.Reg(X3)
	require.Equal(t, uint64(1), x2, "instructions before the fault ran")
	require.Zero(t, x3, "instructions after the fault did not")

	tm2 := newTestMachine(t, false, nil, program(0x00000000)) // udf
	ex, err = tm2.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopException, ex.Reason)
	require.Equal(t, uint32(ExcpUDEF), ex.Intno)

	tm3 := newTestMachine(t, false, nil, program(0xd4200000)) // brk #0
	ex, err = tm3.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopException, ex.Reason)
	require.Equal(t, uint32(ExcpBKPT), ex.Intno)

	// Writing to read-only code.
	tm4 := newTestMachine(t, false, nil, program(
		0xd2a00024, // mov x4, #0x10000
		0xf9000085, // str x5, [x4]
	))
	ex, err = tm4.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopMemFault, ex.Reason)
	require.Equal(t, Fault{Access: AccessWrite, Page: 0x10000}, ex.Fault)

	// Jumping to unmapped memory.
	tm5 := newTestMachine(t, false, nil, program(
		0xd2a00204, // mov x4, #0x100000
		0xd61f0080, // br x4
	))
	ex, err = tm5.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopMemFault, ex.Reason)
	require.Equal(t, Fault{Access: AccessFetch, Page: 0x100000}, ex.Fault)
	pc, _ = tm5.cpu.Reg(PC)
	require.Equal(t, uint64(0x100000), pc)
}

// TestDemandPaging: the fault handler maps pages as they are touched, and
// the access completes.
func TestDemandPaging(t *testing.T) {
	tm := newTestMachine(t, false, nil, program(
		0xd2a00204, // mov x4, #0x100000
		0xd2800545, // mov x5, #42
		0xf9000085, // str x5, [x4]
		0xf9400086, // ldr x6, [x4]
		0xf9480486, // ldr x6, [x4, #0x1008]  (a second page: read fault)
		0xd4000001, // svc #0
	))
	tm.demandLo, tm.demandHi = 0x100000, 0x102000
	ex, err := tm.cpu.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopRequested, ex.Reason)
	pte := tm.pt.Lookup(0x100000)
	require.NotZero(t, pte&PTEValid)
	require.EqualValues(t, 42, binary.LittleEndian.Uint64(tm.ram.Page(PTEFrame(pte))))
	require.Len(t, tm.faults, 2)
	require.Equal(t, tm.cpu.Lookup(0x101000), tm.pt.Lookup(0x101000))
}

// TestCopyOnWrite: two tables share a read-only frame; a write fault gives
// the writer its own copy, and switching tables switches what loads see.
func TestCopyOnWrite(t *testing.T) {
	tm := newTestMachine(t, false, nil, program(
		0xd2a00204, // mov x4, #0x100000
		0xf9400086, // ldr x6, [x4]
		0xd2800545, // mov x5, #42
		0xf9000085, // str x5, [x4]
		0xf9400087, // ldr x7, [x4]
		0xd4000001, // svc #0
	))
	shared := tm.mapPage(t, 0x100000, ProtRead, program(7))
	pt2, err := NewPageTable(tm.ram)
	require.NoError(t, err)
	code := PTEFrame(tm.pt.Lookup(codeBase))
	tm.ram.Ref(code)
	tm.ram.Ref(shared)
	require.NoError(t, pt2.Set(codeBase, MakePTE(code, ProtRead|ProtExec, 0)))
	require.NoError(t, pt2.Set(0x100000, MakePTE(shared, ProtRead, 0)))
	active := tm.pt
	tm.cpu.fault = func(va uint64, acc Access) bool {
		if acc != AccessWrite || va&^0xfff != 0x100000 {
			return false
		}
		old := PTEFrame(active.Lookup(0x100000))
		f, err := tm.ram.AllocCopy(mem.Anon, old)
		if err != nil {
			return false
		}
		tm.ram.Unref(old)
		return active.Set(0x100000, MakePTE(f, ProtRead|ProtWrite, 0)) == nil
	}
	ctx1, err := tm.cpu.NewContext()
	require.NoError(t, err)
	defer ctx1.Free()
	_, err = tm.cpu.Run(codeBase)
	require.NoError(t, err)
	x6, _ := tm.cpu.Reg(X6)
	x7, _ := tm.cpu.Reg(X7)
	require.EqualValues(t, 7, x6)
	require.EqualValues(t, 42, x7)
	require.NoError(t, tm.cpu.Save(ctx1))

	// The second address space still sees the shared value.
	ctx2, err := tm.cpu.NewContext()
	require.NoError(t, err)
	defer ctx2.Free()
	active = pt2
	tm.cpu.SetPageTable(pt2.Root())
	tm.cpu.SetReg(X4, 0x100000)
	_, err = tm.cpu.Run(codeBase + 4*4) // ldr x7, [x4]
	require.NoError(t, err)
	x7, _ = tm.cpu.Reg(X7)
	require.EqualValues(t, 7, x7)
	require.EqualValues(t, 1, tm.ram.Refs(shared))

	// Contexts move registers between tasks.
	require.NoError(t, tm.cpu.Load(ctx1))
	x6, _ = tm.cpu.Reg(X6)
	require.EqualValues(t, 7, x6)
	require.EqualValues(t, 7, ctx1.Reg(X6))
	ctx2.CopyFrom(ctx1)
	ctx2.SetReg(X6, 99)
	require.EqualValues(t, 99, ctx2.Reg(X6))
	require.EqualValues(t, 7, ctx1.Reg(X6))
}

// TestCodeWritesInvalidateTranslations: code rewritten through RAM.Write
// runs as written the next time, though its old translation was cached.
func TestCodeWritesInvalidateTranslations(t *testing.T) {
	tm := newTestMachine(t, false, nil, program(
		0xd2800020, // mov x0, #1
		0xd4000001, // svc #0
	))
	run := func() uint64 {
		_, err := tm.cpu.Run(codeBase)
		require.NoError(t, err)
		x0, _ := tm.cpu.Reg(X0)
		return x0
	}
	require.EqualValues(t, 1, run())
	f := PTEFrame(tm.pt.Lookup(codeBase))
	tm.ram.Write(f, 0, program(0xd2800040)) // mov x0, #2
	require.EqualValues(t, 2, run())
}

// TestPageTableRange: Range visits only present entries, and frees tables
// it empties.
func TestPageTableRange(t *testing.T) {
	ram, err := mem.New(1 << 20)
	require.NoError(t, err)
	defer ram.Close()
	pt, err := NewPageTable(ram)
	require.NoError(t, err)
	vas := []uint64{0x1000, 0x2000, 0x40_0000_0000, 0x7fff_ffff_f000}
	for _, va := range vas {
		f, err := ram.Alloc(mem.Anon)
		require.NoError(t, err)
		require.NoError(t, pt.Set(va, MakePTE(f, ProtRead, 0)))
	}
	var seen []uint64
	pt.Range(0, 1<<48, func(va uint64, pte *uint64) { seen = append(seen, va) })
	require.Equal(t, vas, seen)
	seen = nil
	pt.Range(0x2000, 0x40_0000_1000, func(va uint64, pte *uint64) {
		seen = append(seen, va)
		ram.Unref(PTEFrame(*pte))
		*pte = 0
	})
	require.Equal(t, vas[1:3], seen)
	require.Zero(t, pt.Lookup(0x2000))
	require.NotZero(t, pt.Lookup(0x1000))
	before := ram.Stats().ByKind(mem.PageTable)
	pt.Range(0, 1<<48, func(va uint64, pte *uint64) { ram.Unref(PTEFrame(*pte)); *pte = 0 })
	require.Less(t, ram.Stats().ByKind(mem.PageTable), before)
	require.Equal(t, 1, pt.Tables())
	pt.Free()
	require.Zero(t, ram.Stats().ByKind(mem.PageTable))
	require.Zero(t, ram.Stats().ByKind(mem.Anon))
}

// A deterministic clock's guest reads are late by a seeded jitter of
// 0..max ns: monotonic, varied, the same sequence for the same seed, and
// the clock itself does not move.
func TestClockReadJitter(t *testing.T) {
	reads := func(seed uint64) []uint64 {
		k := NewClock(false)
		defer k.Close()
		k.SetJitter(seed, 15)
		var out []uint64
		prev := uint64(0)
		for i := range 1000 {
			k.Skip(20) // time passes between reads
			now := k.Read()
			require.GreaterOrEqual(t, now, prev)
			require.GreaterOrEqual(t, now, k.Now())
			require.LessOrEqual(t, now, k.Now()+15)
			require.Equal(t, uint64(20*(i+1)), k.Now(), "reads do not move the clock")
			out = append(out, now-prev)
			prev = now
		}
		return out
	}
	a := reads(1)
	require.Equal(t, a, reads(1))
	require.NotEqual(t, a, reads(2))
	seen := map[uint64]bool{}
	for _, d := range a[1:] {
		seen[d] = true
	}
	require.Len(t, seen, 31, "deltas from 5 to 35 ns")

	k := NewClock(false)
	defer k.Close()
	k.SetJitter(1, 0)
	require.Equal(t, k.Now(), k.Read(), "no jitter")
}
