package cpu

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

const dataBase = 0x20000

// loopProgram stores a counter 100 times:
//
//	0  mov x0, #0
//	4  mov x1, #100
//	8  mov x2, #0x20000
//	12 loop: add x0, x0, #1
//	16 str x0, [x2]
//	20 subs x1, x1, #1
//	24 b.ne loop
//	28 svc #0
//
// It runs 3 + 100*4 + 1 = 404 instructions; its blocks are [0, 28),
// [12, 28) and [28, 32).
func loopProgram() []byte {
	return program(0xd2800000, 0xd2800c81, 0xd2a00042, 0x91000400, 0xf9000040, 0xf1000421, 0x54ffffa1, 0xd4000001)
}

const loopInsns = 404

func newLoopMachine(t *testing.T) *testMachine {
	tm := newTestMachine(t, true, nil, loopProgram())
	tm.mapPage(t, dataBase, ProtRead|ProtWrite, nil)
	tm.cpu.SetDebugThread(1, 1)
	return tm
}

func (tm *testMachine) pc(t *testing.T) uint64 {
	pc, err := tm.cpu.Reg(PC)
	require.NoError(t, err)
	return pc
}

func (tm *testMachine) run(t *testing.T, pc uint64) Exit {
	t.Helper()
	ex, err := tm.cpu.Run(pc)
	require.NoError(t, err)
	return ex
}

// finish runs to the final svc and checks that the count is a free run's.
func (tm *testMachine) finish(t *testing.T, want uint64) {
	t.Helper()
	ex := tm.run(t, tm.pc(t))
	require.Equal(t, StopRequested, ex.Reason, "%+v", ex)
	require.Equal(t, want, tm.clk.Insns(), "the stops changed the instruction count")
	x0, _ := tm.cpu.Reg(X0)
	require.Equal(t, uint64(100), x0)
}

func (tm *testMachine) dropCode(t *testing.T, va uint64) {
	pte := tm.pt.Lookup(va &^ 4095)
	require.NotZero(t, pte&PTEValid)
	tm.cpu.Invalidate(PTEFrame(pte).Addr()+va&4095, 4)
}

func TestBreakpointStopsBeforeItsInstructionWithoutChangingTheCount(t *testing.T) {
	tm := newLoopMachine(t)
	bp, err := tm.cpu.AddBreakpoint(1, codeBase+16)
	require.NoError(t, err)
	ex := tm.run(t, codeBase)
	require.Equal(t, StopDebug, ex.Reason)
	require.Equal(t, DebugBreak, ex.Debug)
	require.Equal(t, uint64(codeBase+16), ex.Addr)
	require.Equal(t, uint64(codeBase+16), tm.pc(t))
	require.Equal(t, uint64(4), tm.clk.Insns(), "four instructions ran")
	require.Equal(t, uint64(4), tm.cpu.EndPos())
	var b [8]byte
	copy(b[:], tm.ram.Page(PTEFrame(tm.pt.Lookup(dataBase))))
	require.Zero(t, binary.LittleEndian.Uint64(b[:]), "the store has not run")

	// Going on from the breakpoint stops at its next visit.
	tm.cpu.SkipBreakpointAt(codeBase + 16)
	ex = tm.run(t, codeBase+16)
	require.Equal(t, DebugBreak, ex.Debug)
	require.Equal(t, uint64(8), tm.clk.Insns())

	// Another process's thread does not stop.
	tm.cpu.SetDebugThread(2, 2)
	tm.cpu.SkipBreakpointAt(codeBase + 16)
	tm.finish(t, loopInsns)
	require.NoError(t, bp.Delete())
}

func TestInactiveBreakpointDoesNotStop(t *testing.T) {
	tm := newLoopMachine(t)
	bp, err := tm.cpu.AddBreakpoint(1, codeBase+20)
	require.NoError(t, err)
	bp.SetActive(false)
	require.NoError(t, tm.cpu.SetReg(PC, codeBase))
	tm.finish(t, loopInsns)
}

// seek runs from pc to the target position pos.
func (tm *testMachine) seek(t *testing.T, pc, pos uint64) {
	t.Helper()
	tm.cpu.SetTarget(pos)
	ex := tm.run(t, pc)
	require.Equal(t, DebugTarget, ex.Debug, "pos %d: %+v", pos, ex)
	require.LessOrEqual(t, tm.clk.Insns(), pos)
	at, err := tm.cpu.SeekTarget(1)
	require.NoError(t, err)
	if !at {
		ex = tm.run(t, tm.pc(t))
		require.Equal(t, DebugAt, ex.Debug, "pos %d", pos)
		require.NoError(t, tm.cpu.ClearStopAt())
	}
	tm.cpu.ClearTarget()
	require.Equal(t, pos, tm.clk.Insns(), "pos %d", pos)
}

func TestStepIsTheNextPosition(t *testing.T) {
	tm := newLoopMachine(t)
	pc := uint64(codeBase)
	want := []uint64{4, 8, 12, 16, 20, 24, 12, 16}
	for i, w := range want {
		tm.seek(t, pc, uint64(i+1))
		pc = tm.pc(t)
		require.Equal(t, codeBase+w, pc, "step %d", i)
	}
	tm.finish(t, loopInsns)
}

func TestTargetPositionIsReachedExactly(t *testing.T) {
	for _, pos := range []uint64{0, 1, 7, 50, 403} {
		tm := newLoopMachine(t)
		tm.seek(t, codeBase, pos)
		tm.finish(t, loopInsns)
	}
}

func TestWatchedPageStopsBeforeTheAccess(t *testing.T) {
	tm := newLoopMachine(t)
	require.NoError(t, tm.cpu.SetWatches([]WatchPage{{Page: dataBase, Pid: 1, Write: true}}))
	pc := uint64(codeBase)
	for i := 1; i <= 3; i++ {
		ex := tm.run(t, pc)
		require.Equal(t, DebugWatch, ex.Debug)
		require.Equal(t, AccessWrite, ex.Fault.Access)
		require.Equal(t, uint64(dataBase), ex.Fault.Page)
		pc = tm.pc(t)
		require.Equal(t, uint64(codeBase+16), pc, "stopped at the store")
		require.Equal(t, uint64(4*i), tm.clk.Insns())
		x0, _ := tm.cpu.Reg(X0)
		require.Equal(t, uint64(i), x0)
		require.Equal(t, uint64(i-1), binary.LittleEndian.Uint64(tm.ram.Page(PTEFrame(tm.pt.Lookup(dataBase)))), "the store has not run")

		// Step over the store with the page open.
		tm.cpu.SetWatchBypass(true)
		tm.dropCode(t, pc+4)
		require.NoError(t, tm.cpu.StopAt(pc+4, 1, false))
		ex = tm.run(t, pc)
		require.Equal(t, DebugAt, ex.Debug)
		require.Equal(t, pc+4, tm.pc(t))
		require.NoError(t, tm.cpu.ClearStopAt())
		tm.cpu.SetWatchBypass(false)
		require.Equal(t, uint64(i), binary.LittleEndian.Uint64(tm.ram.Page(PTEFrame(tm.pt.Lookup(dataBase)))))
		pc += 4
	}
	// Reads of the page do not stop a write watch; another process does
	// not stop.
	tm.cpu.SetDebugThread(2, 2)
	tm.finish(t, loopInsns)
}

func TestBudgetStopWithHooksLeavesTheBlockStart(t *testing.T) {
	tm := newLoopMachine(t)
	bp, err := tm.cpu.AddBreakpoint(1, codeBase+28)
	require.NoError(t, err)
	bp.SetActive(false)
	tm.cpu.SetStopAt(20)
	ex := tm.run(t, codeBase)
	require.Equal(t, StopBudget, ex.Reason)
	require.Equal(t, uint64(codeBase+12), tm.pc(t), "the unrun block's start")
	require.Equal(t, uint64(19), tm.cpu.EndPos())
	tm.cpu.SetStopAt(^uint64(0))
	tm.finish(t, loopInsns+4) // the unrun block was counted
}

func TestContextVRegs(t *testing.T) {
	tm := newLoopMachine(t)
	x, err := tm.cpu.NewContext()
	require.NoError(t, err)
	defer x.Free()
	var v, got VRegs
	for i := range v {
		for j := range v[i] {
			v[i][j] = byte(i*16 + j)
		}
	}
	x.SetVRegs(&v)
	x.VRegs(&got)
	require.Equal(t, v, got)
	require.NoError(t, tm.cpu.Load(x))
	var live VRegs
	require.NoError(t, tm.cpu.ReadVRegs(&live))
	require.Equal(t, v, live)
}
