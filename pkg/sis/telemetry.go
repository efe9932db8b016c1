package sis

import (
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// Telemetry normalisation, as the model's feature contract fixes it
// (pkg/model/features.go).
const (
	telemetryMissesScale   = 10 // deadline misses per window for 1.0
	telemetryRunQueueScale = 8  // runnable processes for 1.0
	telemetryProcsScale    = 32 // live processes for 1.0
)

// Telemetry is one window of the machine's own numbers, as the autonomy
// loop reads them every 500 ms of machine time.
type Telemetry struct {
	// Start and End bound the window (machine time since boot).
	Start, End time.Duration
	// MemUsed is the machine RAM in use at End (MemStats().Used) and
	// MemSize the machine's RAM (MemSize()).
	MemUsed, MemSize uint64
	// DeadlineMisses counts the CBS deadline misses in the window, of the
	// scheduler's servers alive at End.
	DeadlineMisses uint64
	// GuestNs is the time spent running guest code in the window (retired
	// instructions * cpu.NsPerInsn).
	GuestNs uint64
	// RunQueue counts the runnable processes at End, Processes the live
	// (not exited) ones.
	RunQueue, Processes int
}

// MemPressure is MemUsed/MemSize, clipped to [0,1].
func (t Telemetry) MemPressure() float32 { return ratio(t.MemUsed, t.MemSize) }

// CPUUsage is the fraction of the window spent running guest code.
func (t Telemetry) CPUUsage() float32 {
	if t.End <= t.Start {
		return 0
	}
	return ratio(t.GuestNs, uint64(t.End-t.Start))
}

// Features returns the model inputs in the order of the contract
// (model.FeatureNames).
func (t Telemetry) Features() []float32 {
	f := make([]float32, model.NumFeatures)
	f[model.FeatureMemPressure] = t.MemPressure()
	f[model.FeatureDeadlineMisses] = ratio(t.DeadlineMisses, telemetryMissesScale)
	f[model.FeatureCPUUsage] = t.CPUUsage()
	f[model.FeatureRunQueue] = ratio(uint64(t.RunQueue), telemetryRunQueueScale)
	f[model.FeatureProcesses] = ratio(uint64(t.Processes), telemetryProcsScale)
	f[model.FeatureNetworkLatency] = 0 // no network device
	return f
}

// ratio returns n/d clipped to [0,1] (0 when d is 0).
func ratio(n, d uint64) float32 {
	if d == 0 || n == 0 {
		return 0
	}
	if n >= d {
		return 1
	}
	return float32(float64(n) / float64(d))
}

// telemetryMark is the machine's state at the start of a window, against
// which the next window's deltas are taken.
type telemetryMark struct {
	at     uint64
	insns  uint64
	misses map[*sched.Server]uint64
	cpuNs  map[int]uint64 // pid -> CPU time
}

// markTelemetry snapshots the counters a window is measured against. Call
// it while no process runs.
func (m *System) markTelemetry() telemetryMark {
	mk := telemetryMark{at: uint64(m.Now()), insns: m.Insns(), misses: map[*sched.Server]uint64{}, cpuNs: map[int]uint64{}}
	for _, srv := range m.Scheduler().Servers() {
		mk.misses[srv] = srv.Misses
	}
	for _, p := range m.Processes() {
		if p.State != 'Z' {
			mk.cpuNs[p.PID] = p.CPUNs
		}
	}
	return mk
}

// windowMisses returns the deadline misses since mk of the servers alive
// now. A server whose count went down (det reset) counts what it has now.
func (m *System) windowMisses(mk telemetryMark) uint64 {
	var n uint64
	for _, srv := range m.Scheduler().Servers() {
		before, ok := mk.misses[srv]
		if !ok || srv.Misses < before {
			before = 0
		}
		n += srv.Misses - before
	}
	return n
}

// readTelemetry measures the window from mk to now. Call it while no
// process runs (from a machine timer or between commands).
func (m *System) readTelemetry(mk telemetryMark) Telemetry {
	t := Telemetry{
		Start:          time.Duration(mk.at),
		End:            m.Now(),
		MemUsed:        m.MemStats().Used,
		MemSize:        m.MemSize(),
		DeadlineMisses: m.windowMisses(mk),
		GuestNs:        (m.Insns() - mk.insns) * cpu.NsPerInsn,
	}
	for _, p := range m.Processes() {
		if p.Exiting {
			continue
		}
		t.Processes++
		if p.State == 'R' {
			t.RunQueue++
		}
	}
	return t
}
