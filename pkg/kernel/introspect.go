package kernel

import (
	"io"
	"sync"

	"github.com/sis-kernel/sissim/pkg/metrics"
)

// ProcessInfo describes a live process, for ps and /proc-like listings.
type ProcessInfo struct {
	PID, PPID int
	Exe       string   // program path
	Argv      []string // command line
	State     byte     // R running or runnable, S sleeping, T stopped, Z zombie
	Threads   int
	CPUNs     uint64 // CPU time used
	VmSize    uint64 // bytes mapped
	RSS       uint64 // bytes of machine RAM its pages use
	StartNs   uint64 // machine time at start, in ns
}

// Processes returns the live processes, by PID.
func (m *Machine) Processes() []ProcessInfo {
	var out []ProcessInfo
	for _, p := range m.liveProcs() {
		pi := ProcessInfo{PID: p.PID, PPID: p.PPID, Exe: p.exe, Argv: append([]string(nil), p.argv...),
			State: p.stateLetter(), Threads: len(p.tasks), CPUNs: p.cpuNs(), StartNs: p.startNs, RSS: p.rss()}
		if p.as != nil {
			pi.VmSize = p.as.mapped
		}
		out = append(out, pi)
	}
	return out
}

// stateLetter is the process state as ps and /proc/<pid>/stat show it.
func (p *Process) stateLetter() byte {
	switch {
	case p.zombie:
		return 'Z'
	case p.stopped:
		return 'T'
	}
	for _, t := range p.tasks {
		if t.state == taskRunnable {
			return 'R'
		}
	}
	return 'S'
}

// MemStats returns the machine's memory: the RAM in use now and at most,
// what live address spaces map, and the mapping operations of live and
// exited address spaces. It reads process state: call it while no guest
// runs.
func (m *Machine) MemStats() MemStats {
	st := m.sis()
	rs := m.ram.Stats()
	spaces := map[*addressSpace]bool{}
	for _, p := range m.liveProcs() {
		if p.as != nil {
			spaces[p.as] = true
		}
	}
	st.memMu.Lock()
	defer st.memMu.Unlock()
	total := st.retired
	total.Used, total.Peak = rs.Total-rs.Free, rs.Peak
	total.Failures += rs.Failures
	for as := range spaces {
		total.Mapped += as.mapped
		total.Allocs += as.ops.Allocs
		total.Frees += as.ops.Frees
		total.Failures += as.ops.Failures
	}
	return total
}

// accountExit adds the mapping operations of an exited process's address
// space to the machine's totals, once per address space.
func (m *Machine) accountExit(p *Process) {
	if p == nil || p.as == nil || p.as.users > 1 {
		return
	}
	st := m.sis()
	st.memMu.Lock()
	defer st.memMu.Unlock()
	s := p.as.ops
	st.retired.Allocs += s.Allocs
	// The mappings left at exit are freed with the address space.
	st.retired.Frees += s.Frees + uint64(p.as.vmas.Len())
	st.retired.Failures += s.Failures
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
		HeapCurrent: ms.Used,
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
		Net:            m.netStats(),
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

	memMu   sync.Mutex
	retired MemStats // mapping operations of exited address spaces
}

// sis returns the machine's SIS state, creating it on first use.
func (m *Machine) sis() *sisState {
	st := &m.sisState
	st.once.Do(func() {
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
