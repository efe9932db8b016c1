// Package kernel is the simulated SIS kernel: it loads static AArch64 Linux
// programs into CPU engines, implements the Linux system call ABI on top of
// the VFS and the SIS services, and keeps the machine's clock.
//
// A Machine is the embedding API: create one with New, start programs with
// Spawn or Run, and inspect its file system and counters.
package kernel

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/pkg/cpu"
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
	// MemBudget is the guest memory the machine has, in bytes, against
	// which the autonomy loop measures memory pressure
	// (DefaultMemBudget when zero; see Machine.MemBudget).
	MemBudget uint64
	// TrustedModelKeys are the Ed25519 keys model packages must be signed
	// with (the built-in test key of testdata/models when empty).
	TrustedModelKeys []ed25519.PublicKey
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

	mu           sync.Mutex
	nextPID      int
	procs        map[int]*Process
	unknown      map[uint64]uint64         // unimplemented syscall number -> calls
	counts       [maxSyscall]atomic.Uint64 // calls by syscall number
	kernelErrors uint64                    // kernel failures caused by guests (panics, EIO)
	closed       bool
	insnStop     bool // MaxInsns was reached

	// Scheduling (sched.go); used only by the goroutine in runUntil.
	runMu    sync.Mutex
	sched    *sched.Scheduler
	det      *sched.Det
	bySrv    map[int]*Process // CBS server id -> process
	cur      *Process         // the process whose engine runs
	lastProc *Process         // the process that ran last
	lastStop uint64           // machine time when it stopped
	busy     atomic.Uint64    // machine time spent running guest slices (/proc/uptime)
	// interrupts counts Interrupt calls not yet delivered.
	interrupts atomic.Int64
	// timers are the machine-time callbacks (atTime), guarded by mu.
	timers []*machineTimer

	sisState sisState // shell, metrics and console switch (introspect.go)

	straceTracer *strace.Tracer // Config.Strace's writer (strace.go)
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
	if cfg.FS == nil {
		root, err := vfs.NewDefaultRoot(hostname)
		if err != nil {
			return nil, err
		}
		cfg.FS = root
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
		cfg:      cfg,
		log:      cfg.Log,
		clock:    cpu.NewClock(cfg.Clock == Realtime),
		epoch:    epoch,
		rng:      rand.NewChaCha8(key),
		fs:       cfg.FS,
		syscalls: newSyscallTable(),
		nextPID:  1,
		procs:    map[int]*Process{},
		unknown:  map[uint64]uint64{},
		sched:    sched.New(),
		bySrv:    map[int]*Process{},
	}
	m.det = sched.NewDet(m.sched)
	m.wrapConsole()
	if err := m.mountSynthetic(); err != nil {
		return nil, err
	}
	return m, nil
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
	closers := m.sisState.svc.closers
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	var errs []error
	for _, p := range procs {
		errs = append(errs, p.release())
	}
	m.clock.Close()
	return errors.Join(errs...)
}

// wallTime returns the wall-clock time now.
func (m *Machine) wallTime() time.Time { return m.epoch.Add(m.Now()) }

// randomBytes fills b from the machine's seeded generator.
func (m *Machine) randomBytes(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.rng.Read(b)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
