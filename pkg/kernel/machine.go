// Package kernel is the simulated SIS kernel: it loads static AArch64 Linux
// programs into CPU engines, implements the Linux system call ABI on top of
// the VFS and the SIS services, and keeps the machine's clock.
//
// A Machine is the embedding API: create one with New, start programs with
// Spawn or Run, and inspect its file system and counters.
package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/netstack"
	"github.com/sis-kernel/sissim/pkg/sched"
	"github.com/sis-kernel/sissim/pkg/strace"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// ClockMode selects the machine's time source.
type ClockMode int

const (
	// Deterministic time advances with executed instructions and jumps
	// forward when the guest sleeps; nothing reads the host clock.
	Deterministic ClockMode = iota
	// Realtime time follows the host's monotonic clock.
	Realtime
)

func (c ClockMode) String() string {
	if c == Realtime {
		return "realtime"
	}
	return "deterministic"
}

// ParseClockMode parses "deterministic" or "realtime".
func ParseClockMode(s string) (ClockMode, error) {
	switch s {
	case "deterministic", "det", "":
		return Deterministic, nil
	case "realtime", "rt":
		return Realtime, nil
	}
	return 0, fmt.Errorf("unknown clock mode %q (want deterministic or realtime)", s)
}

// DefaultEpochUnix is the wall-clock time at boot in deterministic mode,
// 2026-01-01T00:00:00Z.
const DefaultEpochUnix = 1767225600

// Config configures a Machine. The zero value is a deterministic machine
// with an empty tmpfs root and discarded output.
type Config struct {
	Clock ClockMode
	// Seed drives AT_RANDOM, getrandom and /dev/urandom.
	Seed uint64
	// SchedSeed, when not 0, perturbs the schedule deterministically
	// (random picks among runnable threads, random slice lengths, random
	// futex wake order), so that runs under many seeds shake out races
	// and a failing seed replays exactly. See docs/scheduling.md.
	SchedSeed uint64
	// Epoch is the wall-clock time at boot in deterministic mode
	// (DefaultEpochUnix when zero).
	Epoch time.Time
	// Console streams: the guest's fds 0, 1 and 2.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// ConsoleIsTerminal makes TCGETS on the console succeed.
	ConsoleIsTerminal bool
	// MaxInsns stops the machine after this many instructions (0: none).
	MaxInsns uint64
	// Strace receives one line per system call when set, as strace(1)
	// prints them; StraceOptions filters and formats them.
	Strace        io.Writer
	StraceOptions strace.Options
	// Log receives kernel messages (zap.NewNop when nil).
	Log *zap.Logger
	// FS is the machine's file system (a fresh tmpfs root when nil).
	FS *vfs.FS
	// Root, when FS is nil, is a host directory holding a guest root
	// tree (a Debian arm64 tree made with dpkg -x): its top-level
	// directories are mounted read-only over a tmpfs root
	// (vfs.NewTreeRoot). Empty: the SIS layout (vfs.NewDefaultRoot).
	Root string
	// Mem is the machine's RAM in bytes (DefaultMem when zero): every
	// guest page, page table, tmpfs file page and pipe buffer comes from
	// it. Untouched RAM costs the host nothing.
	Mem uint64
	// Publish forwards host ports into the guest (--publish), NAT lets
	// guests connect out through host sockets (--net). Both are off by
	// default (a machine is a sandbox), and host traffic is not
	// deterministic.
	Publish []netstack.Port
	NAT     netstack.NATMode
}

// Machine is one simulated SIS machine.
type Machine struct {
	cfg      Config
	log      *zap.Logger
	clock    *cpu.Clock
	epoch    time.Time
	rng      *rand.ChaCha8
	fs       *vfs.FS
	syscalls *syscallTable

	ram     *mem.RAM
	ownRAM  bool // the machine made ram (and closes it)
	cpu     *cpu.CPU
	initCtx *cpu.Context // the CPU's registers at reset, for new programs
	// cpuTask is the thread whose registers are in the CPU.
	cpuTask *Task
	// hostObjects are the page caches of mapped host files.
	hostObjects map[fileKey]*memObject
	// futexes are the wait queues of futex words with waiters.
	futexes map[futexKey]*waitQueue
	// files are the kernel's locks, FIFOs and pipe inodes (sys_fifo.go).
	files fileState

	mu           sync.Mutex
	nextPID      int
	init         *Process                  // PID 1: adopts orphans and reaps them
	procs        map[int]*Process          // thread groups by PID
	tasks        map[int]*Task             // threads by TID
	unknown      map[uint64]uint64         // unimplemented syscall number -> calls
	counts       [maxSyscall]atomic.Uint64 // calls by syscall number
	kernelErrors uint64                    // kernel failures caused by guests (panics, EIO)
	closed       bool
	insnStop     bool // MaxInsns was reached

	// Scheduling (sched.go); used only by the goroutine in runUntil.
	runMu   sync.Mutex
	sched   *sched.Scheduler
	serving serving // CBS server -> threads or a layer's work (serve.go)
	cur     *Task   // the thread on the CPU during a run
	// scratch is the transfer buffer of read- and write-like calls; system
	// calls run one at a time, and no file keeps the bytes it is given.
	scratch  []byte
	lastTask *Task         // the thread that ran last
	lastStop uint64        // machine time when it stopped
	busy     atomic.Uint64 // machine time spent running guest slices (/proc/uptime)
	// interrupts counts the Ctrl-Cs delivered (a shell's wait ends on one).
	interrupts int
	// Host events (host.go): work other goroutines queued for the runner,
	// the channel that wakes an idle runner, and the run's context.
	posted  []func()
	nposted atomic.Int64
	wake    chan struct{}
	runCtx  context.Context
	console *consoleIn
	// openFDs counts the descriptors of the machine's processes
	// (fs.file-max bounds it).
	openFDs int
	// ttyPgrp is the console's foreground process group as a guest set
	// it with TIOCSPGRP (0: the programs the host started).
	ttyPgrp int
	// oomKills counts processes the OOM killer ended.
	oomKills atomic.Uint64
	// timers are the threads' timeouts and the machine-time callbacks
	// (atTime), guarded by mu.
	timers timerHeap

	introspect introspection // memory totals, console switch, event hooks (introspect.go)

	straceTracer *strace.Tracer // Config.Strace's writer (strace.go)

	net *machineNet // the network and the sockets' state (net.go)

	dbg atomic.Pointer[debugger] // the debugger's state, once one is used (debug.go)
}

// New creates a machine.
func New(cfg Config) (*Machine, error) {
	if cfg.Stdin == nil {
		cfg.Stdin = eofReader{}
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	var ram *mem.RAM
	ownRAM := cfg.FS == nil
	if cfg.FS == nil {
		if cfg.Mem == 0 {
			cfg.Mem = DefaultMem
		}
		var err error
		if ram, err = mem.New(cfg.Mem); err != nil {
			return nil, err
		}
		var root *vfs.FS
		if cfg.Root != "" {
			root, err = vfs.NewTreeRoot(cfg.Root, hostname, vfs.WithRAM(ram))
		} else {
			root, err = vfs.NewDefaultRoot(hostname, vfs.WithRAM(ram))
		}
		if err != nil {
			ram.Close()
			return nil, err
		}
		cfg.FS = root
	} else {
		// The machine's RAM is the file system's, where its tmpfs files
		// live (mmap maps their frames).
		ram = cfg.FS.RAM()
		if cfg.Mem != 0 && cfg.Mem != ram.Size() {
			return nil, fmt.Errorf("kernel: Config.Mem (%d) differs from the RAM of Config.FS (%d)", cfg.Mem, ram.Size())
		}
		cfg.Mem = ram.Size()
	}
	epoch := cfg.Epoch
	if epoch.IsZero() {
		epoch = time.Unix(DefaultEpochUnix, 0).UTC()
	}
	if cfg.Clock == Realtime {
		epoch = time.Now()
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], cfg.Seed)
	m := &Machine{
		cfg:         cfg,
		log:         cfg.Log,
		clock:       cpu.NewClock(cfg.Clock == Realtime),
		epoch:       epoch,
		rng:         rand.NewChaCha8(key),
		fs:          cfg.FS,
		ram:         ram,
		ownRAM:      ownRAM,
		syscalls:    newSyscallTable(),
		nextPID:     1,
		procs:       map[int]*Process{},
		tasks:       map[int]*Task{},
		unknown:     map[uint64]uint64{},
		sched:       sched.New(),
		serving:     newServing(),
		hostObjects: map[fileKey]*memObject{},
		futexes:     map[futexKey]*waitQueue{},
		wake:        make(chan struct{}, 1),
		runCtx:      context.Background(),
	}
	m.clock.SetJitter(cfg.Seed^clockJitterSalt, ClockJitterNs)
	m.console = newConsoleIn(m, cfg.Stdin)
	if err := m.startCPU(); err != nil {
		m.clock.Close()
		if ownRAM {
			ram.Close()
		}
		return nil, err
	}
	m.sched.Perturb(cfg.SchedSeed)
	m.wrapConsole()
	if err := m.mountSynthetic(); err != nil {
		return nil, err
	}
	if err := m.startNetwork(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// DefaultMem is the RAM of a machine whose Config.Mem is zero.
const DefaultMem = 2 << 30

// MaxMem is the largest RAM a machine may have.
const MaxMem = 1 << 40

// ParseMemSize parses a RAM size: bytes with an optional K, M, G or T
// suffix (powers of 1024). The empty string is DefaultMem.
func ParseMemSize(s string) (uint64, error) {
	if s == "" {
		return DefaultMem, nil
	}
	n, err := parseSize(strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B"), 0)
	switch {
	case err != nil || strings.HasSuffix(s, "%"):
		return 0, fmt.Errorf("bad size %q (want e.g. 512M, 1G)", s)
	case n < 16<<20:
		return 0, fmt.Errorf("%s is too little RAM (at least 16M)", s)
	case n > MaxMem:
		return 0, fmt.Errorf("%s is more RAM than a machine may have (%d)", s, uint64(MaxMem))
	}
	return n, nil
}

// startCPU opens the machine's CPU over its RAM and creates PID 1, the
// kernel's init: it runs no program, adopts orphans and reaps them.
func (m *Machine) startCPU() error {
	c, err := cpu.New(cpu.Options{Clock: m.clock, CountInsns: true, RAM: m.ram.Arena(),
		Syscall: m.syscall, PageFault: m.pageFault})
	if err != nil {
		return err
	}
	m.cpu = c
	m.ram.SetInvalidator(c.Invalidate)
	if m.initCtx, err = c.NewContext(); err != nil {
		c.Close()
		return err
	}
	pid, _ := m.allocPID()
	m.init = &Process{m: m, PID: pid, exe: "/sbin/init", argv: []string{"init"}, cwd: "/", pgid: pid, sid: pid,
		rlimits: defaultRlimits()}
	m.procs[pid] = m.init
	return nil
}

// pageFault is the CPU's fault handler: the running thread's address
// space resolves the access, or the fault is kept for its signal.
func (m *Machine) pageFault(va uint64, acc cpu.Access) bool {
	t := m.cur
	if t == nil {
		return false
	}
	r := t.as.fault(va, acc)
	if r.sig == 0 {
		return true
	}
	if r.sig == linux.SIGKILL && !t.dying {
		t.kill(linux.SIGKILL, "out of memory")
	}
	t.fault = &faultInfo{acc: acc, page: va, res: r}
	return false
}

// SetSchedSeed changes the schedule perturbation seed (0: none) for what
// runs from now on. Call it while no guest runs.
func (m *Machine) SetSchedSeed(seed uint64) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	m.sched.Perturb(seed)
}

// hostname is the node name of every machine (uname, /etc/hostname).
const hostname = "sis"

// Hostname is the machine's node name.
func (m *Machine) Hostname() string { return hostname }

// FS returns the machine's file system.
func (m *Machine) FS() *vfs.FS { return m.fs }

// Now returns the time since boot.
func (m *Machine) Now() time.Duration { return time.Duration(m.clock.Now()) }

// Insns returns the number of guest instructions executed so far (counted in
// deterministic mode or with an instruction budget).
func (m *Machine) Insns() uint64 { return m.clock.Insns() }

// UnknownSyscalls returns how often each unimplemented syscall was called.
func (m *Machine) UnknownSyscalls() map[uint64]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[uint64]uint64, len(m.unknown))
	for k, v := range m.unknown {
		out[k] = v
	}
	return out
}

// SyscallCounts returns how often each syscall was called, by name.
func (m *Machine) SyscallCounts() map[string]uint64 {
	out := map[string]uint64{}
	for nr := range m.counts {
		if v := m.counts[nr].Load(); v > 0 {
			out[syscallName(uint64(nr))] += v
		}
	}
	return out
}

// Close releases every process and the clock.
func (m *Machine) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	procs := m.procs
	m.procs = map[int]*Process{}
	m.mu.Unlock()
	m.runMu.Lock()
	defer m.runMu.Unlock()
	for _, p := range procs {
		if p.fds != nil {
			p.fds.release()
		}
		for _, t := range p.tasks {
			t.ctx.Free()
		}
	}
	m.initCtx.Free()
	m.console.close()
	err := errors.Join(m.closeNetwork(), m.cpu.Close())
	m.clock.Close()
	if m.ownRAM {
		err = errors.Join(err, m.ram.Close())
	}
	return err
}

// wallTime returns the wall-clock time now.
func (m *Machine) wallTime() time.Time { return m.epoch.Add(m.Now()) }

// ClockJitterNs is how late, at most, a guest's read of the deterministic
// clock is (cpu.Clock.SetJitter): reading a real clock gives a varying
// answer, and CPU-jitter entropy sources (Go's FIPS 140-3 DRBG,
// jitterentropy) measure exactly that.
const ClockJitterNs = 15

// clockJitterSalt separates the jitter's generator from the seed's other
// uses.
const clockJitterSalt = 0x6a09e667f3bcc908

// randomBytes fills b from the machine's seeded generator.
func (m *Machine) randomBytes(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.rng.Read(b)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
