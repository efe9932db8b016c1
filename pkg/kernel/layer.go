package kernel

import (
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// The API a layer built on the kernel acts with (the SIS layer, pkg/sis:
// its shell, services and autonomy loop): the machine clock and timers,
// exclusive access between runs, processes and signals, scheduler
// budgets, and the console. introspect.go and hooks.go have what it
// reads and hears.
//
// Rules: machine state belongs to the goroutine that runs the machine.
// Methods marked "while no guest runs" are for a caller that holds the
// machine: a machine timer or hook (they run on the machine's goroutine
// between slices), a function passed to Exclusive, or code that runs
// between runs of a machine only it drives (a shell command).

// Realtime reports whether machine time follows the host clock.
func (m *Machine) Realtime() bool { return m.clock.Realtime() }

// Epoch returns the wall-clock time at boot.
func (m *Machine) Epoch() time.Time { return m.epoch }

// WallTime returns the machine's wall-clock time now (Epoch plus Now).
func (m *Machine) WallTime() time.Time { return m.wallTime() }

// Seed returns Config.Seed (a layer seeds its own generators from it,
// separate from the stream guests read).
func (m *Machine) Seed() uint64 { return m.cfg.Seed }

// Clock returns Config.Clock.
func (m *Machine) Clock() ClockMode { return m.cfg.Clock }

// Log returns the machine's logger (Config.Log).
func (m *Machine) Log() *zap.Logger { return m.log }

// AtTime arranges for f to run once machine time reaches at, on the
// machine's goroutine between two slices (no guest runs then) and only
// while the machine runs. The returned function cancels it. Timers due
// at the same time run in the order they were set; f may set new ones.
func (m *Machine) AtTime(at time.Duration, f func()) (cancel func()) {
	if at < 0 {
		at = 0
	}
	return m.atTime(uint64(at), f)
}

// Exclusive runs f while no guest runs: at once when the machine is not
// running, else after the current run ends. f may use everything marked
// "while no guest runs", but not run the machine.
func (m *Machine) Exclusive(f func()) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	f()
}

// RunUntil runs the machine's processes (and timers) until done reports
// true, checking it at each scheduling decision. It returns a
// *DeadlockError when nothing can run or wake before done, and a
// *StoppedError when a program the host started is stopped.
func (m *Machine) RunUntil(done func() bool) error { return m.runUntil(done) }

// Interrupts returns how many Ctrl-Cs (Interrupt) the machine has
// delivered: a command that runs the machine on the user's behalf ends
// when it changes.
func (m *Machine) Interrupts() int { return m.interrupts }

// IdleUntil lets machine time pass, with no guest running, until at:
// machine timers that fall due meanwhile run in order. In deterministic
// mode time jumps from timer to timer; in realtime mode the host time
// passes. Call it while no guest runs and not from a timer.
func (m *Machine) IdleUntil(at time.Duration) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	for {
		now := m.clock.Now()
		m.fireTimers(now)
		if now >= uint64(at) {
			return
		}
		d := m.capAtTimer(now, uint64(at)-now)
		if m.clock.Realtime() {
			time.Sleep(time.Duration(d))
		} else {
			m.clock.Skip(d)
		}
	}
}

// Advance lets d of machine time pass for work the caller did outside
// the guests while no guest ran (it holds the machine), so that
// deterministic time accounts for it; in realtime mode the clock already
// has. Call it while no guest runs.
func (m *Machine) Advance(d time.Duration) {
	if d > 0 && !m.clock.Realtime() {
		m.clock.Skip(uint64(d))
	}
}

// Process returns the live process pid (nil when there is none).
func (m *Machine) Process(pid int) *Process {
	if pid == m.init.PID {
		return nil
	}
	return m.lookup(pid)
}

// CPUNs returns the CPU time the process has used, in ns (its exited
// threads' included; final once it has exited). Call it while no guest
// runs.
func (p *Process) CPUNs() uint64 { return p.cpuNs() }

// Exe returns the path of the program the process runs.
func (p *Process) Exe() string { return p.exe }

// Argv returns the process's command line.
func (p *Process) Argv() []string { return append([]string(nil), p.argv...) }

// Stopped reports whether the process is stopped (job control) and by
// which signal. Call it while no guest runs.
func (p *Process) Stopped() (bool, linux.Signal) { return p.stopped, p.stopSig }

// SetBackground says whether the process is a background job of the
// caller: a stopped background job does not end a run with a
// StoppedError, and terminal signals (SignalForeground) skip it. Safe
// from any goroutine.
func (p *Process) SetBackground(on bool) {
	p.m.Exclusive(func() { p.background = on })
}

// SignalPending reports whether sig is pending for the process (sent and
// not yet acted on). Call it while no guest runs.
func (p *Process) SignalPending(sig linux.Signal) bool { return p.signalPending(sigBit(sig)) }

// KernelSignal sends sig to the process as the kernel does (si_code
// SI_KERNEL), at once. Call it while no guest runs.
func (p *Process) KernelSignal(sig linux.Signal) error {
	if sig < 1 || sig > linux.SIGRTMAX {
		return linux.EINVAL
	}
	if p.zombie || p.exiting {
		return linux.ESRCH
	}
	p.sendSignal(sig, siginfo{code: siKernel})
	return nil
}

// Server returns the CBS server of the process's main thread (nil once
// it is gone), whose budget the scheduler charges. Change its budget with
// Scheduler().SetBudget. Call it while no guest runs.
func (p *Process) Server() *sched.Server { return p.server() }

// RedirectConsole sends what guests (and Stdout/Stderr's users) write to
// the console's standard output and error to out and errOut until the
// returned function is called.
func (m *Machine) RedirectConsole(out, errOut io.Writer) (restore func()) {
	r1 := m.introspect.stdout.redirect(out)
	r2 := m.introspect.stderr.redirect(errOut)
	return func() { r2(); r1() }
}

// Stdout returns the console's standard output (Config.Stdout, or where
// RedirectConsole sends it).
func (m *Machine) Stdout() io.Writer { return m.introspect.stdout }

// Stderr returns the console's standard error.
func (m *Machine) Stderr() io.Writer { return m.introspect.stderr }

// CheckMMU builds an address space, maps a page, writes it through the
// page table (a demand fault gives it a frame), checks that the CPU's
// table walk finds that frame, reads the bytes back and frees it all: the
// address-space machinery works. Call it while no guest runs.
func (m *Machine) CheckMMU() error {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	as, err := m.newAddressSpace()
	if err != nil {
		return err
	}
	defer as.release()
	const va = 0x10000
	if err := as.mapRange(va, pageSize, cpu.ProtRead|cpu.ProtWrite, cpu.ProtAll, 0, nil, 0, ""); err != nil {
		return err
	}
	if err := as.access(va, []byte("SIS"), cpu.AccessWrite); err != nil {
		return err
	}
	old := m.cpu.PageTableRoot()
	m.cpu.SetPageTable(as.pt.Root())
	pte := m.cpu.Lookup(va)
	m.cpu.SetPageTable(old)
	if pte != as.pt.Lookup(va) || pte&cpu.PTEValid == 0 {
		return fmt.Errorf("the CPU's table walk found %#x for %#x, the kernel mapped %#x", pte, va, as.pt.Lookup(va))
	}
	b := make([]byte, 3)
	if err := as.access(va, b, cpu.AccessRead); err != nil {
		return err
	}
	if string(b) != "SIS" {
		return fmt.Errorf("read back %q", b)
	}
	return nil
}
