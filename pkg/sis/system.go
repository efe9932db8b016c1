// Package sis is the SIS layer of a simulated machine: the boot markers,
// the `sis>` shell and its commands, the wiring of the SIS services
// (AgentSys, the model registry, OpenTelemetry, the LLM service, the
// shadow agent), the autonomy loop and its telemetry, and the metrics
// registry.
//
// It sits on pkg/kernel and uses only the kernel's public API: the
// machine clock and timers, process listing and signals, scheduler
// budgets, memory statistics, the console and the event hooks. The kernel
// knows nothing of it.
package sis

import (
	"crypto/ed25519"
	"errors"
	"sync"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/metrics"
)

// System is one machine with its SIS layer: the kernel machine (embedded,
// so its methods are the System's), the shell, the metrics registry and
// the started services.
type System struct {
	*kernel.Machine

	features Features
	counters *metrics.Counters // disk operations of the root (boot_disk.go)
	metrics  *metrics.Metrics
	shell    *Shell
	det      *det
	svc      services // started services (services.go)
	opts     Options

	closeOnce sync.Once
	closers   []func() // run by Close, last added first (onClose)
	ram       *mem.RAM // the RAM Boot made, closed after the machine
}

// Options configures the SIS layer of a machine.
type Options struct {
	// Features selects the services that may start and the commands the
	// shell offers (nil: every feature).
	Features Features
	// TrustedModelKeys are the Ed25519 public keys model packages must
	// be signed with (nil: the built-in test key of testdata/models).
	TrustedModelKeys []ed25519.PublicKey
	// MinPromoteComparisons is how many decisions the shadow agent must
	// have compared before `shadowctl promote` may promote
	// (shadow.DefaultMinPromote, 20, when 0).
	MinPromoteComparisons int
	// ModelSigningKey is the key the machine signs the packages it
	// builds with (`llmctl register`); nil: the built-in test key, when
	// TrustedModelKeys is nil too.
	ModelSigningKey ed25519.PrivateKey
}

// New adds the SIS layer to a machine made by kernel.New: the shell and
// the metrics registry, and no service (StartServices starts them). Call
// it before the machine's first process.
func New(m *kernel.Machine, o Options) *System {
	return newSystem(m, o, nil)
}

func newSystem(m *kernel.Machine, o Options, disk *metrics.Counters) *System {
	s := &System{Machine: m, features: o.Features, counters: disk, opts: o}
	s.metrics = metrics.New(s.metricsSnapshot, s.counters)
	s.det = newDet(s)
	s.shell = newShell(s)
	return s
}

// Kernel returns the kernel machine.
func (s *System) Kernel() *kernel.Machine { return s.Machine }

// Shell returns the machine's shell.
func (s *System) Shell() *Shell { return s.shell }

// Metrics returns the machine's metrics registry.
func (s *System) Metrics() *metrics.Metrics { return s.metrics }

// Features returns the machine's enabled features.
func (s *System) Features() Features { return s.features }

// onClose registers f to run when the system closes (a service's
// goroutines, buffered logs).
func (s *System) onClose(f func()) { s.closers = append(s.closers, f) }

// Close stops the services (last started first) and closes the machine.
func (s *System) Close() error {
	var err error
	s.closeOnce.Do(func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
		err = s.Machine.Close()
		if s.ram != nil {
			err = errors.Join(err, s.ram.Close())
		}
	})
	return err
}

// metricsSnapshot reads the kernel's current values for the registry.
func (s *System) metricsSnapshot() metrics.Snapshot {
	ms := s.MemStats()
	snap := metrics.Snapshot{
		HeapCurrent: ms.Used,
		HeapPeak:    ms.Peak,
		MemSize:     s.MemSize(),
		OOMKills:    s.OOMKills(),
		Allocs:      ms.Allocs,
		Deallocs:    ms.Frees,
		Failures:    ms.Failures,
		Panics:      s.KernelErrors(),
		Uptime:      s.Now(),
		Syscalls:    s.SyscallCounts(),
		// Read between commands (the shell) or under the shell's lock
		// (MetricsHandler), when no process runs.
		DeadlineMisses: s.Scheduler().TotalMisses(),
	}
	sw := s.Scheduler().Switches
	snap.SwitchGaps = metrics.Quantiles{Count: sw.Count(), Sum: sw.Sum(),
		P50: sw.Quantile(0.5), P95: sw.Quantile(0.95), P99: sw.Quantile(0.99)}
	for _, n := range s.NetStats() {
		snap.Net = append(snap.Net, metrics.Interface{Name: n.Name,
			RxPackets: n.RxPackets, RxBytes: n.RxBytes, RxDropped: n.RxDropped, RxErrors: n.RxErrors,
			TxPackets: n.TxPackets, TxBytes: n.TxBytes, TxDropped: n.TxDropped, TxErrors: n.TxErrors})
	}
	return snap
}
