package thirdparty

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
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
	"time"
)

// SpecEnv names the environment variable that makes a test binary run one
// SimSpec (ChildMain) instead of its tests.
const SpecEnv = "SISSIM_THIRDPARTY_SPEC"

// ChildMain runs the SimSpec named by $SISSIM_THIRDPARTY_SPEC and exits,
// when that variable is set; a test's TestMain calls it first.
func ChildMain() {
	spec := os.Getenv(SpecEnv)
	if spec == "" {
		return
	}
	if err := RunSpecFile(spec); err != nil {
		fmt.Fprintln(os.Stderr, "thirdparty:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// fixtureTime is the modification time of every input file, so that
// listings agree and do not change from run to run.
var fixtureTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Runner runs cases under sissim (in a child process running SimExe) and
// under qemu-user.
type Runner struct {
	// Root is the arm64 guest root tree, Busybox the host path of
	// busybox-static, Qemu the path of qemu-aarch64-static, Fixtures the
	// directory of committed input files.
	Root, Busybox, Qemu, Fixtures string
	// Binfmt is the built binfmt command (see package binfmt).
	Binfmt string
	// Scratch receives the cases' working directories and outputs.
	Scratch string
	// SimExe is the executable that runs a SimSpec when SpecEnv is set
	// (the test binary, see ChildMain).
	SimExe string
	// MaxInsns bounds a sissim run; Timeout bounds either side's wall time
	// (a safety net against a hung kernel or reference, never a verdict
	// on speed).
	MaxInsns uint64
	Timeout  time.Duration

	// ViaInterpreter runs a dynamically linked program under sissim through
	// its interpreter named as the program (ld.so --argv0 NAME PROG ARGS),
	// a diagnostic that shows what fails after loading while the kernel
	// refuses PT_INTERP. /proc/self/exe and the auxv then differ from a
	// direct exec, and execs inside the case are still direct.
	ViaInterpreter bool
	// CheckStable runs every qemu side twice and reports a case whose two
	// runs differ (a case must not depend on time, randomness or races).
	CheckStable bool

	xbin     string
	programs map[string]string // name -> guest path
	hosts    map[string]string // name -> host path
}

// Prepare finds the root's programs and fills the PATH directory with
// binfmt links (for qemu) and notes their symbolic links (for sissim).
func (r *Runner) Prepare() error {
	r.programs = map[string]string{}
	r.hosts = map[string]string{}
	// PATH order: the first directory holding a name wins.
	for _, dir := range []string{"/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"} {
		entries, err := os.ReadDir(filepath.Join(r.Root, dir))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if _, dup := r.programs[name]; dup || name == "binfmt.json" {
				continue
			}
			host, err := resolveInRoot(r.Root, path.Join(dir, name))
			if err != nil {
				continue // a dangling link (an alternative dpkg never set up)
			}
			fi, err := os.Stat(host)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			r.programs[name] = path.Join(dir, name)
			r.hosts[name] = host
		}
	}
	if len(r.programs) == 0 {
		return fmt.Errorf("no programs in %s/{usr/,}{bin,sbin}", r.Root)
	}
	// busybox-static lives outside the root, at the same path on both sides.
	r.programs[Busybox] = filepath.ToSlash(r.Busybox)
	r.hosts[Busybox] = r.Busybox
	r.xbin = filepath.Join(r.Scratch, "xbin")
	if err := os.MkdirAll(r.xbin, 0o755); err != nil {
		return err
	}
	cfg, err := json.MarshalIndent(map[string]any{"qemu": r.Qemu, "root": r.Root, "programs": r.hosts}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.xbin, "binfmt.json"), cfg, 0o644); err != nil {
		return err
	}
	// Hard links need one file system: copy the command into the directory.
	wrapper := filepath.Join(r.xbin, ".binfmt")
	if err := copyFile(r.Binfmt, wrapper, 0o755); err != nil {
		return err
	}
	for name := range r.programs {
		if err := os.Link(wrapper, filepath.Join(r.xbin, name)); err != nil {
			return err
		}
	}
	return nil
}

// resolveInRoot returns the host path of the guest path p in the root tree
// root, following symbolic links as the guest sees them (an absolute
// target is relative to the root).
func resolveInRoot(root, p string) (string, error) {
	for hops := 0; hops < 40; hops++ {
		// Resolve the directory first, then the last component.
		dir, base := path.Split(path.Clean(p))
		if dir != "/" {
			d, err := resolveInRoot(root, dir)
			if err != nil {
				return "", err
			}
			rel, err := filepath.Rel(root, d)
			if err != nil || strings.HasPrefix(rel, "..") {
				return "", fmt.Errorf("%s leaves the root", p)
			}
			dir = "/" + filepath.ToSlash(rel)
		}
		host := filepath.Join(root, filepath.FromSlash(dir), base)
		fi, err := os.Lstat(host)
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return host, nil
		}
		target, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if !path.IsAbs(target) {
			target = path.Join(dir, target)
		}
		p = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// inRoot reports whether the guest path p exists in the guest root (or is
// the busybox binary, which the machine has at its host path).
func (r *Runner) inRoot(p string) bool {
	if strings.HasPrefix(p, filepath.ToSlash(r.Scratch)+"/") || p == filepath.ToSlash(r.Busybox) {
		return true
	}
	_, err := resolveInRoot(r.Root, p)
	return err == nil
}

// dynamic reports whether the guest path p (a program of the PATH
// directory or of the root) has a PT_INTERP.
func (r *Runner) dynamic(p string) bool {
	host, ok := r.hosts[path.Base(p)]
	if !ok || path.Dir(p) != filepath.ToSlash(r.xbin) {
		h, err := resolveInRoot(r.Root, p)
		if err != nil {
			return false
		}
		host = h
	}
	return interpreter(host) != ""
}

// Programs returns the root's programs by name, with their guest paths.
func (r *Runner) Programs() map[string]string { return r.programs }

// BaseEnv is the environment of every case: nothing from the host, the
// binfmt directory first on PATH, HOME in the working directory.
func (r *Runner) BaseEnv(work string) []string {
	return []string{
		"PATH=" + r.xbin + ":/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
		"HOME=" + work,
		"LC_ALL=C",
		"TZ=UTC0",
	}
}

// Side is how one side ran a case.
type Side struct {
	Stdout, Stderr []byte
	Exit           int
	// Err is a failure of the harness or the reference itself (the
	// emulator could not start, did not finish, or crashed), not of the
	// guest.
	Err string
}

// Outcome is a case's result.
type Outcome struct {
	Case Case
	Sim  Side
	// SimResult is the kernel's side of the sissim run.
	SimResult SimResult
	// Ref is qemu's run, or the case's Want when qemu-user is wrong.
	Ref Side
	// Match says whether stdout, stderr and exit status agree.
	Match bool
	// Dir holds the case's outputs, Work its working directory.
	Dir, Work string
	// Diagnosis is set for a mismatch that was rerun with traces.
	Diagnosis *Diagnosis
	// SimTime and RefTime are how long each side took (information only).
	SimTime, RefTime time.Duration
}

// Differences lists what differs: "stdout", "stderr", "exit".
func (o Outcome) Differences() []string {
	var d []string
	if !bytes.Equal(o.Sim.Stdout, o.Ref.Stdout) {
		d = append(d, "stdout")
	}
	if !bytes.Equal(o.Sim.Stderr, o.Ref.Stderr) {
		d = append(d, "stderr")
	}
	if o.Sim.Exit != o.Ref.Exit {
		d = append(d, "exit")
	}
	return d
}

// Run runs one case on both sides (sissim first: each side gets its own
// fresh copy of the working directory at the same path).
func (r *Runner) Run(c Case, dir string) Outcome {
	o := Outcome{Case: c, Dir: dir}
	work := filepath.Join(dir, "work")
	o.Work = work
	if err := r.prepareWork(c, dir, work); err != nil {
		o.Sim.Err = "preparing the working directory: " + err.Error()
		o.Ref.Err = o.Sim.Err
		return o
	}
	if _, _, err := r.resolve(c); err != nil {
		o.Sim.Err, o.Ref.Err = err.Error(), err.Error()
		return o
	}
	env := mergeEnv(r.BaseEnv(work), c.Env)
	start := time.Now()
	o.Sim, o.SimResult = r.runSim(c, dir, work, env, false)
	o.SimTime = time.Since(start)
	start = time.Now()
	o.Ref = r.runRef(c, dir, work, env)
	o.RefTime = time.Since(start)
	o.Match = o.Sim.Err == "" && o.Ref.Err == "" && len(o.Differences()) == 0
	return o
}

// runRef returns the reference result: qemu's run (twice with
// CheckStable), or the case's Want where qemu-user is wrong.
func (r *Runner) runRef(c Case, dir, work string, env []string) Side {
	if c.QemuWrong != "" {
		return Side{
			Stdout: []byte(strings.ReplaceAll(c.Want.Stdout, "$WORK", work)),
			Stderr: []byte(strings.ReplaceAll(c.Want.Stderr, "$WORK", work)),
			Exit:   c.Want.Exit,
		}
	}
	if err := r.prepareWork(c, dir, work); err != nil {
		return Side{Err: "preparing the working directory: " + err.Error()}
	}
	ref := r.runQemu(c, dir, work, env, "")
	if !r.CheckStable || ref.Err != "" {
		return ref
	}
	if err := r.prepareWork(c, dir, work); err != nil {
		return Side{Err: "preparing the working directory: " + err.Error()}
	}
	again := r.runQemu(c, dir, work, env, "")
	if !bytes.Equal(again.Stdout, ref.Stdout) || !bytes.Equal(again.Stderr, ref.Stderr) || again.Exit != ref.Exit {
		ref.Err = fmt.Sprintf("two qemu-user runs differ (the case is not deterministic): %q %q %d, then %q %q %d",
			ref.Stdout, ref.Stderr, ref.Exit, again.Stdout, again.Stderr, again.Exit)
	}
	return ref
}

// Diagnose reruns a mismatching case with system-call traces on both sides
// (sissim's strace; qemu's -strace, into files in the case's directory)
// and parses them.
func (r *Runner) Diagnose(o Outcome) *Diagnosis {
	c := o.Case
	work := o.Work
	if err := r.prepareWork(c, o.Dir, work); err != nil {
		return nil
	}
	env := mergeEnv(r.BaseEnv(work), c.Env)
	r.runSim(c, o.Dir, work, env, true)
	simTrace, _ := os.ReadFile(filepath.Join(o.Dir, simStrace))
	var qemuTrace []byte
	traced := false
	if c.QemuWrong == "" {
		if err := r.prepareWork(c, o.Dir, work); err == nil {
			log := filepath.Join(o.Dir, "qemu.strace")
			r.runQemu(c, o.Dir, work, env, log)
			qemuTrace, _ = os.ReadFile(log)
			traced = true
		}
	}
	return Diagnose(o, simTrace, qemuTrace, traced, r.inRoot, r.dynamic)
}

// prepareWork makes a fresh working directory holding the case's files.
func (r *Runner) prepareWork(c Case, dir, work string) error {
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	for _, name := range sortedKeys(c.Files) {
		p := filepath.Join(work, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(c.Files[name]), mode); err != nil {
			return err
		}
	}
	for _, name := range c.Fixtures {
		if err := r.copyFixture(name, filepath.Join(work, name)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "stdin"), []byte(c.Stdin), 0o644); err != nil {
		return err
	}
	// Fixed times for everything in the directory, the directories last.
	return filepath.WalkDir(work, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixtureTime, fixtureTime)
	})
}

// copyFixture copies testdata/fixtures/name, or unpacks name.gz, to dst.
func (r *Runner) copyFixture(name, dst string) error {
	src := filepath.Join(r.Fixtures, name)
	if _, err := os.Stat(src); err == nil {
		return copyFile(src, dst, 0o644)
	}
	f, err := os.Open(src + ".gz")
	if err != nil {
		return fmt.Errorf("fixture %s: %w", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("fixture %s.gz: %w", name, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		return fmt.Errorf("fixture %s.gz: %w", name, err)
	}
	return out.Close()
}

// resolve returns the guest and host paths of the case's program.
func (r *Runner) resolve(c Case) (guest, host string, err error) {
	if path.IsAbs(c.Prog) {
		host, err := resolveInRoot(r.Root, c.Prog)
		return c.Prog, host, err
	}
	guest, ok := r.programs[c.Prog]
	if !ok {
		return "", "", fmt.Errorf("no program %q on the guest root's PATH (is its package in testdata/packages.txt?)", c.Prog)
	}
	return guest, r.hosts[c.Prog], nil
}

// runSim runs the case under sissim in a child process.
func (r *Runner) runSim(c Case, dir, work string, env []string, strace bool) (Side, SimResult) {
	guest, host, err := r.resolve(c)
	if err != nil {
		return Side{Err: err.Error()}, SimResult{}
	}
	spec := SimSpec{
		Root:     r.Root,
		WorkDir:  work,
		Prog:     guest,
		Argv:     c.argv(),
		Env:      env,
		Stdin:    filepath.Join(dir, "stdin"),
		MaxInsns: r.MaxInsns,
		Out:      dir,
		Strace:   strace,
		Links:    map[string]string{},
	}
	spec.Mounts = map[string]string{filepath.Dir(r.Busybox): filepath.ToSlash(filepath.Dir(r.Busybox))}
	if r.ViaInterpreter {
		if interp := interpreter(host); interp != "" {
			spec.Prog = interp
			spec.Argv = append([]string{interp, "--argv0", spec.Argv[0], guest}, spec.Argv[1:]...)
		}
	}
	for name, guest := range r.programs {
		spec.Links[path.Join(filepath.ToSlash(r.xbin), name)] = guest
	}
	for _, f := range []string{simStdout, simStderr, simStrace, simResult} {
		os.Remove(filepath.Join(dir, f))
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return Side{Err: err.Error()}, SimResult{}
	}
	specFile := filepath.Join(dir, "sim-spec.json")
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		return Side{Err: err.Error()}, SimResult{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.SimExe)
	cmd.Env = append(os.Environ(), SpecEnv+"="+specFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	var side Side
	var res SimResult
	if ctx.Err() != nil {
		side.Err = fmt.Sprintf("sissim did not finish within %v (killed)", r.Timeout)
	} else if runErr != nil {
		side.Err = fmt.Sprintf("sissim's process failed (%v): %s", runErr, firstLines(out.String(), 8))
	} else if b, err := os.ReadFile(filepath.Join(dir, simResult)); err != nil {
		side.Err = "sissim's process wrote no result: " + err.Error()
	} else if err := json.Unmarshal(b, &res); err != nil {
		side.Err = "sissim's result: " + err.Error()
	}
	side.Stdout, _ = os.ReadFile(filepath.Join(dir, simStdout))
	side.Stderr, _ = os.ReadFile(filepath.Join(dir, simStderr))
	side.Exit = res.Exit
	if side.Err == "" && res.Error != "" {
		side.Err = "sissim: " + res.Error
	}
	return side, res
}

// runQemu runs the case under qemu-user with the guest root as -L prefix;
// with straceLog set, qemu's -strace goes to that file.
func (r *Runner) runQemu(c Case, dir, work string, env []string, straceLog string) Side {
	_, host, err := r.resolve(c)
	if err != nil {
		return Side{Err: err.Error()}
	}
	argv := c.argv()
	args := []string{"-L", r.Root, "-0", argv[0]}
	if c.NoPrefix != "" {
		args = args[2:]
	}
	if straceLog != "" {
		args = append(args, "-strace", "-D", straceLog)
	}
	args = append(append(args, host), argv[1:]...)
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Qemu, args...)
	// qemu-user hands the guest its own environment in reverse order.
	cmd.Env = make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		cmd.Env = append(cmd.Env, env[i])
	}
	cmd.Dir = work
	stdin, err := os.Open(filepath.Join(dir, "stdin"))
	if err != nil {
		return Side{Err: err.Error()}
	}
	defer stdin.Close()
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The guest's own children (background jobs) may hold the output pipes
	// after it exits; they belong to its process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	side := Side{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		side.Err = fmt.Sprintf("%s did not finish within %v (killed)", filepath.Base(r.Qemu), r.Timeout)
	case runErr != nil && !errors.As(runErr, &exitErr):
		side.Err = fmt.Sprintf("%s: %v", filepath.Base(r.Qemu), runErr)
	}
	if cmd.ProcessState != nil {
		side.Exit = shellCode(cmd.ProcessState)
	}
	if straceLog == "" { // a traced rerun keeps the first run's outputs
		os.WriteFile(filepath.Join(dir, "qemu.stdout"), side.Stdout, 0o644)
		os.WriteFile(filepath.Join(dir, "qemu.stderr"), side.Stderr, 0o644)
	}
	return side
}

// interpreter returns the PT_INTERP of the ELF file p, or "".
func interpreter(p string) string {
	f, err := elf.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b, err := io.ReadAll(io.LimitReader(prog.Open(), 4096))
			if err == nil {
				return strings.TrimRight(string(b), "\x00")
			}
		}
	}
	return ""
}

// shellCode returns a finished process's status as a shell shows it.
func shellCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// mergeEnv returns base with extra's variables added or replacing those of
// the same name, in base's order.
func mergeEnv(base, extra []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if strings.HasPrefix(old, name+"=") {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func copyFile(src, dst string, perm os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, perm)
}

// firstLines returns at most n lines of s, trimmed.
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// Summary counts outcomes by suite.
type Summary struct {
	Suite                            string
	Cases, Match, Exceptions, Failed int
}

// Summarize counts outcomes per suite, in order of first appearance.
func Summarize(outcomes []Outcome) []Summary {
	idx := map[string]int{}
	var out []Summary
	for _, o := range outcomes {
		i, ok := idx[o.Case.Suite]
		if !ok {
			i = len(out)
			idx[o.Case.Suite] = i
			out = append(out, Summary{Suite: o.Case.Suite})
		}
		s := &out[i]
		s.Cases++
		switch {
		case !o.Match:
			s.Failed++
		case o.Case.QemuWrong != "":
			s.Exceptions++
		default:
			s.Match++
		}
	}
	return out
}

// ClassCount is one cause of mismatches with the cases it explains.
type ClassCount struct {
	Class string
	Cases []string
}

// RankClasses groups mismatching cases by cause, most cases first.
func RankClasses(causes map[string]string) []ClassCount {
	by := map[string][]string{}
	for id, cause := range causes {
		by[cause] = append(by[cause], id)
	}
	out := make([]ClassCount, 0, len(by))
	for class, ids := range by {
		sort.Strings(ids)
		out = append(out, ClassCount{Class: class, Cases: ids})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Cases) != len(out[j].Cases) {
			return len(out[i].Cases) > len(out[j].Cases)
		}
		return out[i].Class < out[j].Class
	})
	return out
}
