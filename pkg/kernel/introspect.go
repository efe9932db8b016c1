package kernel

import (
	"io"
	"sync"
)

// What the machine tells about itself: its processes, its memory, and
// event hooks. These are the parts of the API that a layer built on the
// kernel (the SIS layer, pkg/sis) reads; layer.go has the parts it acts
// with (clock, timers, budgets, console).

// ProcessInfo describes a live process, for ps and /proc-like listings.
type ProcessInfo struct {
	PID, PPID int
	Exe       string   // program path
	Argv      []string // command line
	State     byte     // R running or runnable, S sleeping, T stopped, Z zombie
	// Exiting is set once the process has begun to exit (its threads
	// are dying) or has exited.
	Exiting bool
	Threads int
	CPUNs   uint64 // CPU time used
	VmSize  uint64 // bytes mapped
	RSS     uint64 // bytes of machine RAM its pages use
	StartNs uint64 // machine time at start, in ns
}

// Processes returns the live processes, by PID. Call it while no guest
// runs (between runs, from a machine timer, or within Exclusive).
func (m *Machine) Processes() []ProcessInfo {
	var out []ProcessInfo
	for _, p := range m.liveProcs() {
		pi := ProcessInfo{PID: p.PID, PPID: p.PPID, Exe: p.exe, Argv: append([]string(nil), p.argv...),
			State: p.stateLetter(), Exiting: p.exiting || p.zombie, Threads: len(p.tasks), CPUNs: p.cpuNs(),
			StartNs: p.startNs, RSS: p.rss()}
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
	in := &m.introspect
	rs := m.ram.Stats()
	spaces := map[*addressSpace]bool{}
	for _, p := range m.liveProcs() {
		if p.as != nil {
			spaces[p.as] = true
		}
	}
	in.memMu.Lock()
	defer in.memMu.Unlock()
	total := in.retired
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

// MemSize returns the machine's RAM in bytes.
func (m *Machine) MemSize() uint64 { return m.ram.Size() }

// accountExit is called as process p exits: it adds the mapping
// operations of its address space to the machine's totals (once per
// address space) and calls the process-exit hooks.
func (m *Machine) accountExit(p *Process) {
	in := &m.introspect
	if p.as != nil && p.as.users <= 1 {
		in.memMu.Lock()
		s := p.as.ops
		in.retired.Allocs += s.Allocs
		// The mappings left at exit are freed with the address space.
		in.retired.Frees += s.Frees + uint64(p.as.vmas.Len())
		in.retired.Failures += s.Failures
		in.memMu.Unlock()
	}
	delete(m.serving.served, p.PID)
	for _, f := range in.onExit {
		f(p.PID, p.status)
	}
}

// KernelErrors returns how many kernel failures guests caused.
func (m *Machine) KernelErrors() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kernelErrors
}

// introspection is the machine's bookkeeping for its observers: memory
// totals of exited processes, the console switch and the event hooks.
type introspection struct {
	memMu   sync.Mutex
	retired MemStats // mapping operations of exited address spaces

	stdout, stderr *consoleSwitch

	// Event hooks (hooks.go); set while no guest runs.
	onStart   []func(pid int)
	onExit    []func(pid int, status ExitStatus)
	onSyscall []func(SyscallEvent)
	onOpen    []func(FileEvent)
}

// wrapConsole puts switchable writers in front of the console streams so
// that RedirectConsole can capture guest output. Called by New.
func (m *Machine) wrapConsole() {
	m.introspect.stdout = &consoleSwitch{w: m.cfg.Stdout}
	m.introspect.stderr = &consoleSwitch{w: m.cfg.Stderr}
	m.cfg.Stdout, m.cfg.Stderr = m.introspect.stdout, m.introspect.stderr
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
