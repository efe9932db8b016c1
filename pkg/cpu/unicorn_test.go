package cpu

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
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

func newEngine(t *testing.T, count bool, h SyscallHandler, code []byte) (*Unicorn, *Clock) {
	t.Helper()
	clk := NewClock(false)
	t.Cleanup(clk.Close)
	if h == nil {
		h = func(uint64, *[6]uint64) (uint64, SyscallAction) { return 0, Stop }
	}
	u, err := New(Options{Clock: clk, CountInsns: count, Syscall: h})
	require.NoError(t, err)
	t.Cleanup(func() { u.Close() })
	require.NoError(t, u.Map(codeBase, 0x1000, ProtRead|ProtExec))
	require.NoError(t, u.WriteMem(codeBase, code))
	return u, clk
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
	u, _ := newEngine(t, false, h, program(
		0xd2801588, // mov x8, #172
		0xd28000e0, // mov x0, #7
		0xd4000001, // svc #0
		0xaa0003e9, // mov x9, x0
		0xd2800ba8, // mov x8, #93
		0xd4000001, // svc #0
	))
	ex, err := u.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopRequested, ex.Reason)
	require.Equal(t, uint64(172), gotNr)
	require.Equal(t, uint64(7), gotArgs[0])
	x9, err := u.Reg(X9)
	require.NoError(t, err)
	require.Equal(t, uint64(42), x9)
	pc, _ := u.Reg(PC)
	require.Equal(t, uint64(codeBase+24), pc, "PC points past the SVC")
}

func TestGenericTimerIsVirtual(t *testing.T) {
	u, clk := newEngine(t, true, nil, program(
		0xd2a00023, // mov x3, #0x10000
		0xf1000463, // subs x3, x3, #1
		0x54ffffe1, // b.ne -4
		0xd53be041, // mrs x1, cntvct_el0
		0xd53be002, // mrs x2, cntfrq_el0
		0xd4000001, // svc #0
	))
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
	u, clk := newEngine(t, true, nil, program(0x14000000)) // b .
	u.SetStopAt(1000)
	ex, err := u.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopBudget, ex.Reason)
	require.GreaterOrEqual(t, clk.Insns(), uint64(1000))
}

func TestFaultsAreReported(t *testing.T) {
	u, _ := newEngine(t, false, nil, program(
		0xd2a00204, // mov x4, #0x100000
		0xf9400085, // ldr x5, [x4]
	))
	ex, err := u.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopMemFault, ex.Reason)
	require.Equal(t, Fault{Access: AccessRead, Addr: 0x100000, Size: 8, Unmapped: true}, ex.Fault)

	u2, _ := newEngine(t, false, nil, program(0x00000000)) // udf
	ex, err = u2.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopException, ex.Reason)
	require.Equal(t, uint32(ExcpUDEF), ex.Intno)

	u3, _ := newEngine(t, false, nil, program(0xd4200000)) // brk #0
	ex, err = u3.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopException, ex.Reason)
	require.Equal(t, uint32(ExcpBKPT), ex.Intno)

	// Writing to read-only code.
	u4, _ := newEngine(t, false, nil, program(
		0xd2a00024, // mov x4, #0x10000
		0xf9000085, // str x5, [x4]
	))
	ex, err = u4.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopMemFault, ex.Reason)
	require.Equal(t, Fault{Access: AccessWrite, Addr: 0x10000, Size: 8}, ex.Fault)

	// Jumping to unmapped memory.
	u5, _ := newEngine(t, false, nil, program(
		0xd2a00204, // mov x4, #0x100000
		0xd61f0080, // br x4
	))
	ex, err = u5.Run(codeBase)
	require.NoError(t, err)
	require.Equal(t, StopMemFault, ex.Reason)
	require.Equal(t, AccessFetch, ex.Fault.Access)
	require.Equal(t, uint64(0x100000), ex.Fault.Addr)
}

func TestContextSaveRestore(t *testing.T) {
	u, _ := newEngine(t, false, nil, program(0xd4000001))
	require.NoError(t, u.SetReg(X19, 1234))
	require.NoError(t, u.SetReg(TPIDR, 0xabc0))
	ctx, err := u.SaveContext()
	require.NoError(t, err)
	defer ctx.Free()
	require.NoError(t, u.WriteRegs([]Reg{X19, TPIDR}, []uint64{0, 0}))
	require.NoError(t, u.RestoreContext(ctx))
	vals := make([]uint64, 2)
	require.NoError(t, u.ReadRegs([]Reg{X19, TPIDR}, vals))
	require.Equal(t, []uint64{1234, 0xabc0}, vals)
}
