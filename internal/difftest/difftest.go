// Package difftest runs one static AArch64 Linux program twice, under sissim
// (in process) and under qemu-aarch64-static (the baseline for Linux
// behaviour), and compares stdout, stderr and exit status.
//
// A typical test:
//
//	prog := difftest.Guest(t, "hello")
//	sim, ref := difftest.Run(t, prog, []string{"7"}, difftest.Options{Env: []string{"A=b"}})
//	difftest.Equal(t, sim, ref)
//
// The helpers skip the test, naming what is missing, when qemu-aarch64-static
// or a program is not installed; `make test` installs both, so CI skips
// nothing.
package difftest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Qemu is the reference emulator's command name.
const Qemu = "qemu-aarch64-static"

// DefaultMaxInsns bounds a sissim run so that a guest stuck in a loop fails
// the test instead of hanging it.
const DefaultMaxInsns = 2_000_000_000

// qemuTimeout bounds a qemu run for the same reason. It is a safety net for
// a hung reference, never a pass/fail threshold on speed: qemu-user 7.2
// now and then hangs in programs that mix fork and signals, so a run that
// times out is tried once more before the test fails.
const qemuTimeout = 90 * time.Second

// Options describes one run. The same program, arguments, environment,
// standard input, working directory and files are given to both sides.
type Options struct {
	// Argv0 is argv[0] (default: the program path as given to Run).
	Argv0 string
	// Env is the whole environment, "K=V"; nothing is inherited from the
	// test process.
	Env []string
	// Stdin is the program's standard input (empty: end of file at once).
	Stdin []byte
	// Dir is the working directory, an absolute host path. qemu runs in it;
	// sissim's process gets the same path as its working directory, created
	// (empty apart from Files) in the machine's tmpfs, so that each side
	// sees only its own changes. A test that wants sissim to see the host
	// directory itself mounts it in Setup (vfs.FS.MountHost), knowing that
	// the sissim run goes first and its changes are then qemu's input.
	// Default: a fresh temporary directory.
	Dir string
	// Files are written into Dir on the host and at the same absolute paths
	// in sissim's tmpfs before the run, keyed by slash-separated paths
	// relative to Dir.
	Files map[string][]byte
	// Setup, when set, prepares the machine after the program and Files are
	// installed and before the program starts.
	Setup func(m *kernel.Machine) error
	// MaxInsns bounds the sissim run (default DefaultMaxInsns).
	MaxInsns uint64
}

// Result is how one side ran.
type Result struct {
	Stdout, Stderr []byte
	// Exit is the status as a shell shows it: the exit code, or 128+signal
	// for a process killed by a signal.
	Exit int
	// Report is sissim's one-line explanation of a kernel-made death (a
	// fault or an exhausted instruction budget); empty for qemu.
	Report string
	// Strace is sissim's system-call trace, shown when a comparison fails;
	// empty for qemu.
	Strace string
	// Unimplemented counts the calls sissim answered with ENOSYS because it
	// has no handler (the trace leaves them out), by syscall name.
	Unimplemented map[string]uint64
	// Cmd describes the run for messages.
	Cmd string
}

// Run runs the host program prog (an absolute or working-directory-relative
// path to a static AArch64 ELF) with args under sissim and under qemu. It
// skips the test when qemu or prog is missing and fails it when either side
// cannot be started; a guest's own failure is a Result, not an error.
func Run(t testing.TB, prog string, args []string, opt Options) (sim, ref Result) {
	t.Helper()
	qemu := RequireQemu(t)
	abs, data := readProgram(t, prog)
	opt = prepare(t, prog, opt)
	sim = runSim(t, abs, data, args, opt)
	ref = runQemu(t, qemu, prog, args, opt)
	return sim, ref
}

// RunSim runs prog under sissim only, as Run does, for checks that have no
// reference (determinism, sissim-specific behaviour).
func RunSim(t testing.TB, prog string, args []string, opt Options) Result {
	t.Helper()
	abs, data := readProgram(t, prog)
	opt = prepare(t, prog, opt)
	return runSim(t, abs, data, args, opt)
}

// prepare fills in Options defaults and writes Files into Dir on the host.
func prepare(t testing.TB, prog string, opt Options) Options {
	t.Helper()
	if opt.Argv0 == "" {
		opt.Argv0 = prog
	}
	if opt.Dir == "" {
		opt.Dir = t.TempDir()
	}
	if !filepath.IsAbs(opt.Dir) {
		t.Fatalf("difftest: Options.Dir %q is not an absolute path", opt.Dir)
	}
	for _, name := range sortedKeys(opt.Files) {
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			t.Fatalf("difftest: Options.Files key %q is not a local relative path", name)
		}
		p := filepath.Join(opt.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("difftest: %v", err)
		}
		if err := os.WriteFile(p, opt.Files[name], 0o644); err != nil {
			t.Fatalf("difftest: %v", err)
		}
	}
	return opt
}

// runSim runs the program in process on a fresh deterministic machine.
func runSim(t testing.TB, abs string, data []byte, args []string, opt Options) Result {
	t.Helper()
	var stdout, stderr, strace bytes.Buffer
	maxInsns := opt.MaxInsns
	if maxInsns == 0 {
		maxInsns = DefaultMaxInsns
	}
	m, err := kernel.New(kernel.Config{
		Stdin:    bytes.NewReader(opt.Stdin),
		Stdout:   &stdout,
		Stderr:   &stderr,
		Strace:   &strace,
		MaxInsns: maxInsns,
	})
	if err != nil {
		t.Fatalf("difftest: kernel.New: %v", err)
	}
	defer m.Close()
	guestPath := filepath.ToSlash(abs)
	dir := filepath.ToSlash(opt.Dir)
	install := func(p string, b []byte, perm uint32) error {
		if err := m.FS().MkdirAll(path.Dir(p), 0o755); err != nil {
			return err
		}
		return m.FS().WriteFile(p, b, perm)
	}
	if err := install(guestPath, data, 0o755); err != nil {
		t.Fatalf("difftest: installing %s in the machine: %v", guestPath, err)
	}
	if err := m.FS().MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("difftest: creating %s in the machine: %v", dir, err)
	}
	for _, name := range sortedKeys(opt.Files) {
		if err := install(path.Join(dir, name), opt.Files[name], 0o644); err != nil {
			t.Fatalf("difftest: installing %s in the machine: %v", name, err)
		}
	}
	if opt.Setup != nil {
		if err := opt.Setup(m); err != nil {
			t.Fatalf("difftest: Setup: %v", err)
		}
	}
	status, err := m.Run(kernel.ProcessSpec{
		Path: guestPath,
		Argv: append([]string{opt.Argv0}, args...),
		Env:  opt.Env,
		Cwd:  dir,
	})
	if err != nil {
		t.Fatalf("difftest: sissim %s: %v", commandLine(opt.Argv0, args), err)
	}
	unimpl := map[string]uint64{}
	for nr, n := range m.UnknownSyscalls() {
		name := linux.SyscallName(nr)
		if name == "" {
			name = fmt.Sprintf("syscall_%d", nr)
		}
		unimpl[name] += n
	}
	return Result{
		Stdout:        stdout.Bytes(),
		Stderr:        stderr.Bytes(),
		Exit:          status.ShellCode(),
		Report:        status.Report,
		Strace:        strace.String(),
		Unimplemented: unimpl,
		Cmd:           "sissim " + commandLine(opt.Argv0, args),
	}
}

// runQemu runs the program under qemu-aarch64-static with exactly opt.Env.
func runQemu(t testing.TB, qemu, prog string, args []string, opt Options) Result {
	t.Helper()
	noCoreDumps(t)
	for try := 1; ; try++ {
		r, ok := runQemuOnce(t, qemu, prog, args, opt)
		if ok {
			return r
		}
		if try == 2 {
			t.Fatalf("difftest: %s %s did not finish within %v, twice", Qemu, commandLine(opt.Argv0, args), qemuTimeout)
		}
		t.Logf("difftest: %s %s did not finish within %v; trying again", Qemu, commandLine(opt.Argv0, args), qemuTimeout)
	}
}

// runQemuOnce is one qemu run; ok is false when it timed out.
func runQemuOnce(t testing.TB, qemu, prog string, args []string, opt Options) (r Result, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), qemuTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, append([]string{"-0", opt.Argv0, prog}, args...)...)
	// qemu-user hands the guest its own environment in reverse order (its
	// envlist inserts at the head), so give it the reverse of Env. Non-nil:
	// nothing is inherited from the test process.
	cmd.Env = make([]string, 0, len(opt.Env))
	for i := len(opt.Env) - 1; i >= 0; i-- {
		cmd.Env = append(cmd.Env, opt.Env[i])
	}
	cmd.Dir = opt.Dir
	cmd.Stdin = bytes.NewReader(opt.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return Result{}, false
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("difftest: %s %s: %v", Qemu, commandLine(opt.Argv0, args), err)
	}
	return Result{
		Stdout: stdout.Bytes(),
		Stderr: stderr.Bytes(),
		Exit:   shellCode(cmd.ProcessState),
		Cmd:    Qemu + " " + commandLine(opt.Argv0, args),
	}, true
}

// shellCode returns a finished process's status as a shell shows it.
func shellCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// noCoreDumps sets the test process's soft core-file limit to 0, which qemu
// inherits: a guest killed by a signal makes qemu dump core otherwise.
func noCoreDumps(t testing.TB) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil || lim.Cur == 0 {
		return
	}
	lim.Cur = 0
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Logf("difftest: cannot disable core dumps: %v", err)
	}
}

// Equal fails the test unless both sides wrote the same stdout and stderr
// and ended with the same status. It reports every difference at once, with
// the tail of sissim's system-call trace.
func Equal(t testing.TB, sim, ref Result) {
	t.Helper()
	ok := assert.Equal(t, string(ref.Stdout), string(sim.Stdout), "stdout of %s (expected: qemu, actual: sissim)", sim.Cmd)
	ok = assert.Equal(t, string(ref.Stderr), string(sim.Stderr), "stderr of %s (expected: qemu, actual: sissim)", sim.Cmd) && ok
	if !ExitEqual(t, sim, ref) {
		t.FailNow()
	}
	if !ok {
		t.Fatalf("%s differs from %s%s", sim.Cmd, Qemu, diagnostics(sim))
	}
}

// ExitEqual reports whether both sides ended with the same status, failing
// the test (without stopping it) when they did not.
func ExitEqual(t testing.TB, sim, ref Result) bool {
	t.Helper()
	if sim.Exit == ref.Exit {
		return true
	}
	msg := fmt.Sprintf("exit status of %s: qemu %d, sissim %d", sim.Cmd, ref.Exit, sim.Exit)
	if sim.Report != "" {
		msg += "\nsissim: " + sim.Report
	}
	if len(ref.Stderr) > 0 {
		msg += "\nqemu stderr: " + strings.TrimSpace(string(ref.Stderr))
	}
	t.Errorf("%s%s", msg, diagnostics(sim))
	return false
}

// diagnostics formats what sissim's run tells about a difference: the
// unimplemented syscalls it met and the tail of its system-call trace.
func diagnostics(sim Result) string {
	var b strings.Builder
	if len(sim.Unimplemented) > 0 {
		names := make([]string, 0, len(sim.Unimplemented))
		for name, n := range sim.Unimplemented {
			names = append(names, fmt.Sprintf("%s (%dx)", name, n))
		}
		sort.Strings(names)
		b.WriteString("\nsissim: unimplemented syscalls (ENOSYS): " + strings.Join(names, ", "))
	}
	const keep = 40
	trace := sim.Strace
	if trace == "" {
		return b.String()
	}
	lines := strings.Split(strings.TrimRight(trace, "\n"), "\n")
	head := "\nsissim strace:"
	if len(lines) > keep {
		head = fmt.Sprintf("\nsissim strace (last %d of %d lines):", keep, len(lines))
		lines = lines[len(lines)-keep:]
	}
	b.WriteString(head + "\n  " + strings.Join(lines, "\n  "))
	return b.String()
}

// RequireQemu returns the path of qemu-aarch64-static or skips the test.
func RequireQemu(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath(Qemu)
	if err != nil {
		t.Skipf("difftest: %s not found (install Debian's qemu-user-static, or run 'make test')", Qemu)
	}
	return p
}

// Guest returns the absolute path of the test guest testdata/guests/name,
// failing the test when it is missing (the guests are committed).
func Guest(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "testdata", "guests", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("difftest: guest %s: %v (run 'make guests')", name, err)
	}
	return p
}

// Busybox returns the absolute path of Debian's arm64 busybox-static, from
// $SISSIM_BUSYBOX or .cache/busybox/bin/busybox in the repository, or skips
// the test when it has not been fetched.
func Busybox(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SISSIM_BUSYBOX")
	if p == "" {
		p = filepath.Join(repoRoot(t), ".cache", "busybox", "bin", "busybox")
	}
	abs, err := filepath.Abs(p)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		t.Skipf("difftest: busybox not available (%v); run 'make busybox' or set SISSIM_BUSYBOX", err)
	}
	return abs
}

// repoRoot returns the directory of go.mod above the working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("difftest: %v", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("difftest: no go.mod above %s", dir)
		}
	}
}

// readProgram returns the program's absolute path and contents.
func readProgram(t testing.TB, prog string) (string, []byte) {
	t.Helper()
	abs, err := filepath.Abs(prog)
	if err != nil {
		t.Fatalf("difftest: %v", err)
	}
	f, err := os.Open(abs)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("difftest: %s not found", prog)
	}
	if err != nil {
		t.Fatalf("difftest: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, kernel.MaxExecSize+1))
	if err != nil {
		t.Fatalf("difftest: reading %s: %v", prog, err)
	}
	if len(data) > kernel.MaxExecSize {
		t.Fatalf("difftest: %s is larger than kernel.MaxExecSize (%d bytes)", prog, kernel.MaxExecSize)
	}
	return abs, data
}

// commandLine formats argv for messages.
func commandLine(argv0 string, args []string) string {
	parts := make([]string, 0, 1+len(args))
	for _, a := range append([]string{argv0}, args...) {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
