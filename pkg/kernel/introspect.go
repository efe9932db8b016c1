package kernel

import (
	"io"
	"sort"
	"sync"

	"github.com/sis-kernel/sissim/pkg/metrics"
)

// ProcessInfo describes a live process, for ps and /proc-like listings.
type ProcessInfo struct {
	PID, PPID int
	Exe       string   // program path
	Argv      []string // command line
	Mem       MemStats // guest memory of its address space
	StartNs   uint64   // machine time at start, in ns
}

// Processes returns the live processes, by PID.
func (m *Machine) Processes() []ProcessInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ProcessInfo, 0, len(m.procs))
	for _, p := range m.procs {
		pi := ProcessInfo{PID: p.PID, PPID: p.PPID, Exe: p.exe, Argv: append([]string(nil), p.argv...), StartNs: p.startNs}
		if p.as != nil {
			pi.Mem = p.as.stats
		}
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// MemStats returns the guest memory accounting of the whole machine: what
// live address spaces map now plus the operations of exited ones. Peak is
// the highest machine-wide total seen at a process exit or a call of
// MemStats, and never less than the largest single address space's peak.
// It reads process state: call it while no guest runs.
func (m *Machine) MemStats() MemStats {
	st := m.sis()
	m.mu.Lock()
	spaces := make([]*addressSpace, 0, len(m.procs))
	for _, p := range m.procs {
		if p.as != nil {
			spaces = append(spaces, p.as)
		}
	}
	m.mu.Unlock()
	st.memMu.Lock()
	defer st.memMu.Unlock()
	total := st.retired
	total.Mapped = 0
	seen := map[*addressSpace]bool{}
	for _, as := range spaces {
		if seen[as] || st.retiredAS[as] {
			continue // threads share an address space; exited ones are counted
		}
		seen[as] = true
		total.Mapped += as.stats.Mapped
		total.Allocs += as.stats.Allocs
		total.Frees += as.stats.Frees
		total.Failures += as.stats.Failures
		total.Peak = max(total.Peak, as.stats.Peak)
	}
	total.Peak = max(total.Peak, total.Mapped)
	st.retired.Peak = total.Peak
	return total
}

// accountExit adds the memory operations of an exited process's address
// space to the machine's totals, once per address space.
func (m *Machine) accountExit(p *Process) {
	if p == nil || p.as == nil {
		return
	}
	st := m.sis()
	st.memMu.Lock()
	defer st.memMu.Unlock()
	if st.retiredAS[p.as] {
		return
	}
	st.retiredAS[p.as] = true
	s := p.as.stats
	st.retired.Allocs += s.Allocs
	// The mappings left at exit are freed with the address space.
	st.retired.Frees += s.Frees + uint64(len(p.as.vmas))
	st.retired.Failures += s.Failures
	st.retired.Peak = max(st.retired.Peak, s.Peak)
}

// KernelErrors returns how many kernel failures guests caused.
func (m *Machine) KernelErrors() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kernelErrors
}

// Metrics returns the machine's metrics registry.
func (m *Machine) Metrics() *metrics.Metrics { return m.sis().metrics }

// metricsSnapshot reads the kernel's current values for the registry.
func (m *Machine) metricsSnapshot() metrics.Snapshot {
	ms := m.MemStats()
	return metrics.Snapshot{
		HeapCurrent: ms.Mapped,
		HeapPeak:    ms.Peak,
		Allocs:      ms.Allocs,
		Deallocs:    ms.Frees,
		Failures:    ms.Failures,
		Panics:      m.KernelErrors(),
		Uptime:      m.Now(),
		Syscalls:    m.SyscallCounts(),
		// Read between commands (the shell) or under the shell's lock
		// (MetricsHandler), when no process runs.
		DeadlineMisses: m.Scheduler().Misses(),
	}
}

// sisState is the per-machine state of the SIS services layered on the
// core: the shell, the metrics registry, exited-process accounting and the
// console switch that lets Shell.Exec capture guest output.
type sisState struct {
	once     sync.Once
	counters *metrics.Counters // event counters; set by Boot before first use
	features Features          // enabled features; set by Boot before first use
	metrics  *metrics.Metrics
	shell    *Shell
	stdout   *consoleSwitch
	stderr   *consoleSwitch
	svc      services // started SIS services (services.go)

	memMu     sync.Mutex
	retired   MemStats
	retiredAS map[*addressSpace]bool // exited address spaces already counted
}

// sis returns the machine's SIS state, creating it on first use.
func (m *Machine) sis() *sisState {
	st := &m.sisState
	st.once.Do(func() {
		st.retiredAS = map[*addressSpace]bool{}
		st.metrics = metrics.New(m.metricsSnapshot, st.counters)
		st.shell = newShell(m)
	})
	return st
}

// wrapConsole puts switchable writers in front of the console streams so
// that Shell.Exec can capture guest output. Called by New.
func (m *Machine) wrapConsole() {
	m.sisState.stdout = &consoleSwitch{w: m.cfg.Stdout}
	m.sisState.stderr = &consoleSwitch{w: m.cfg.Stderr}
	m.cfg.Stdout, m.cfg.Stderr = m.sisState.stdout, m.sisState.stderr
}

// consoleSwitch is a writer whose destination can be redirected.
type consoleSwitch struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *consoleSwitch) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}

// redirect sends writes to w until the returned function is called.
func (c *consoleSwitch) redirect(w io.Writer) (restore func()) {
	if c == nil {
		return func() {}
	}
	c.mu.Lock()
	old := c.w
	c.w = w
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.w = old
		c.mu.Unlock()
	}
}
