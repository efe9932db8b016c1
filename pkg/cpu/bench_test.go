package cpu_test

import (
	"encoding/binary"
	"testing"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// benchBase is where the benchmarks load their code.
const benchBase = 0x10000

// benchEngine maps code at benchBase on a fresh CPU and returns it.
func benchEngine(b *testing.B, realtime, count bool, h cpu.SyscallHandler, words ...uint32) *cpu.CPU {
	b.Helper()
	clk := cpu.NewClock(realtime)
	b.Cleanup(clk.Close)
	ram, err := mem.New(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ram.Close() })
	refuse := func(uint64, cpu.Access) bool { return false }
	u, err := cpu.New(cpu.Options{Clock: clk, CountInsns: count, RAM: ram.Arena(), Syscall: h, PageFault: refuse})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { u.Close() })
	pt, err := cpu.NewPageTable(ram)
	if err != nil {
		b.Fatal(err)
	}
	f, err := ram.Alloc(mem.Anon)
	if err != nil {
		b.Fatal(err)
	}
	for i, w := range words {
		binary.LittleEndian.PutUint32(ram.Page(f)[4*i:], w)
	}
	if err := pt.Set(benchBase, cpu.MakePTE(f, cpu.ProtRead|cpu.ProtExec, 0)); err != nil {
		b.Fatal(err)
	}
	u.SetPageTable(pt.Root())
	return u
}

// stopOnSVC is a syscall handler that stops the engine.
func stopOnSVC(uint64, *[6]uint64) (uint64, cpu.SyscallAction) { return 0, cpu.Stop }

// runLoop runs the code with x9 = n and expects it to stop at its SVC.
func runLoop(b *testing.B, u *cpu.CPU, n int) {
	b.Helper()
	if err := u.SetReg(cpu.X9, uint64(n)); err != nil {
		b.Fatal(err)
	}
	ex, err := u.Run(benchBase)
	if err != nil {
		b.Fatal(err)
	}
	if ex.Reason != cpu.StopRequested {
		b.Fatalf("stopped for %v", ex.Reason)
	}
}

// modes are the two ways the kernel runs an engine: counting instructions
// for deterministic time, or free-running with the host clock.
var modes = []struct {
	name            string
	realtime, count bool
}{
	{"realtime", true, false},
	{"deterministic", false, true},
}

// BenchmarkSVCRoundTrip measures one SVC from guest code into a trivial Go
// handler and back (ns/op = ns per system call, without any kernel work).
func BenchmarkSVCRoundTrip(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			n := 0
			h := func(nr uint64, a *[6]uint64) (uint64, cpu.SyscallAction) {
				n++
				if n >= b.N {
					return nr, cpu.SetX0 | cpu.Stop
				}
				return nr, cpu.SetX0
			}
			u := benchEngine(b, m.realtime, m.count, h,
				0xd4000001, // 1: svc #0
				0x17ffffff, //    b 1b
			)
			b.ResetTimer()
			ex, err := u.Run(benchBase)
			if err != nil || ex.Reason != cpu.StopRequested {
				b.Fatalf("run: %v %v", ex.Reason, err)
			}
		})
	}
}

// aluLoop is a register-only loop of aluLoopInsns instructions per
// iteration, x9 iterations, then svc.
var aluLoop = []uint32{
	0x8b14014a, // 1: add  x10, x10, x20
	0xca0a016b, //    eor  x11, x11, x10
	0x93cb5d6b, //    ror  x11, x11, #23
	0x9b157d6c, //    mul  x12, x11, x21
	0xca4c758c, //    eor  x12, x12, x12, lsr #29
	0x8b0c01ad, //    add  x13, x13, x12
	0xcacd45ce, //    eor  x14, x14, x13, ror #17
	0x9b157dce, //    mul  x14, x14, x21
	0xca0e016b, //    eor  x11, x11, x14
	0x8b0b0dad, //    add  x13, x13, x11, lsl #3
	0xf1000529, //    subs x9, x9, #1
	0x54fffea1, //    b.ne 1b
	0xd4000001, //    svc  #0
}

const aluLoopInsns = 12

// BenchmarkALULoop measures pure guest compute, with and without the block
// counter that drives deterministic time (ns/op = one 12-instruction
// iteration).
func BenchmarkALULoop(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			u := benchEngine(b, m.realtime, m.count, stopOnSVC, aluLoop...)
			b.ResetTimer()
			runLoop(b, u, b.N)
			b.ReportMetric(float64(b.N)*aluLoopInsns/b.Elapsed().Seconds()/1e6, "Minsn/s")
			if m.count && u.Insns() < uint64(b.N)*aluLoopInsns {
				b.Fatalf("counted %d instructions, ran at least %d", u.Insns(), b.N*aluLoopInsns)
			}
		})
	}
}

// BenchmarkMRSCntvct measures a read of the virtual counter (CNTVCT_EL0),
// which the C system-register hook emulates (ns/op = one read plus a
// two-instruction loop).
func BenchmarkMRSCntvct(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			u := benchEngine(b, m.realtime, m.count, stopOnSVC,
				0xd53be041, // 1: mrs  x1, cntvct_el0
				0xf1000529, //    subs x9, x9, #1
				0x54ffffc1, //    b.ne 1b
				0xd4000001, //    svc  #0
			)
			b.ResetTimer()
			runLoop(b, u, b.N)
			v, err := u.Reg(cpu.X1)
			if err != nil {
				b.Fatal(err)
			}
			if v == 0 && b.N > 1000 {
				b.Fatal("CNTVCT_EL0 read 0")
			}
		})
	}
}

// BenchmarkSVCStopRestart measures the alternative to a Go callback per
// system call: the SVC hook stops the engine, Go handles the call after
// uc_emu_start returns and starts the engine again (ns/op = one round).
func BenchmarkSVCStopRestart(b *testing.B) {
	u := benchEngine(b, true, false, stopOnSVC,
		0xd4000001, // 1: svc #0
		0x17ffffff, //    b 1b
	)
	pc := uint64(benchBase)
	for b.Loop() {
		ex, err := u.Run(pc)
		if err != nil || ex.Reason != cpu.StopRequested {
			b.Fatalf("run: %v %v", ex.Reason, err)
		}
		if pc, err = u.Reg(cpu.PC); err != nil {
			b.Fatal(err)
		}
	}
}
