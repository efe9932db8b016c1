package goguest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// Go's own standard-library tests, built with `go test -c` for
// linux/arm64 and run inside sissim with -test.short, in the package's
// source directory (GOROOT mounted read-only at its host path). A test
// that fails must be listed, with its cause, in
// testdata/gostd-known-failures.txt; listed tests that pass are reported
// so that the list only shrinks. -gostd.qemu also runs each binary under
// qemu-aarch64-static and reports both pass counts.

var (
	stdPkgs = flag.String("gostd.pkgs", "", "comma-separated standard-library packages to run (default: stdPackages)")
	stdQemu = flag.Bool("gostd.qemu", false, "also run each test binary under qemu-aarch64-static and compare pass counts")
	stdRun  = flag.String("gostd.run", "", "run only the tests matching `regexp` (the binary's -test.run), and log their output")
)

// stdPackages are the packages of the list.
var stdPackages = []string{
	"strings", "sort", "strconv", "bytes", "unicode/utf8", "encoding/json", "bufio", "path/filepath", "io",
	"time", "regexp", "math", "sync", "sync/atomic", "context", "container/heap", "compress/gzip",
	"crypto/sha256", "text/template", "os", "os/exec",
}

// stdResult is one run of a test binary.
type stdResult struct {
	exit                 int
	pass, fail, skip     int
	failed               []string
	out                  string
	took                 time.Duration
	unimplementedSyscall []string
}

var testLine = regexp.MustCompile(`(?m)^--- (PASS|FAIL|SKIP): (\S+)`)

func parseResult(out []byte, exit int, took time.Duration) stdResult {
	r := stdResult{exit: exit, out: string(out), took: took}
	for _, m := range testLine.FindAllSubmatch(out, -1) {
		switch string(m[1]) {
		case "PASS":
			r.pass++
		case "FAIL":
			r.fail++
			r.failed = append(r.failed, string(m[2]))
		case "SKIP":
			r.skip++
		}
	}
	return r
}

// stdArgs are the test binary's flags: short mode, verbose (for the
// counts), and a timeout well inside CI's.
var stdArgs = []string{"-test.short", "-test.v", "-test.timeout=10m"}

// runStdSim runs a test binary inside a fresh machine.
func runStdSim(t *testing.T, pkg, bin string) stdResult {
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// A Debian arm64 root, as the tests expect of a Linux system (/usr/bin,
	// pwd, /etc/hosts), with GOROOT at /goroot.
	m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, Seed: 1, Root: arm64Root(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const goroot = "/goroot"
	if err := m.FS().MountHost(GOROOT(t), goroot, true); err != nil {
		t.Fatal(err)
	}
	guestBin := "/tmp/" + strings.ReplaceAll(pkg, "/", "_") + ".test"
	if err := m.FS().WriteFile(guestBin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	args := append([]string{guestBin}, stdArgs...)
	if *stdRun != "" {
		args = append(args, "-test.run="+*stdRun)
	}
	st, err := m.Run(kernel.ProcessSpec{Path: guestBin, Argv: args,
		Env: []string{"HOME=/root", "TMPDIR=/tmp", "PATH=/usr/bin:/bin", "GOROOT=" + goroot},
		Cwd: goroot + "/src/" + pkg})
	if err != nil {
		fmt.Fprintf(&out, "\nsissim: %v\n", err)
	}
	r := parseResult(out.Bytes(), st.ShellCode(), time.Since(start))
	if *stdRun != "" {
		t.Logf("%s", out.String())
	}
	for nr := range m.UnknownSyscalls() {
		r.unimplementedSyscall = append(r.unimplementedSyscall, fmt.Sprint(nr))
	}
	sort.Strings(r.unimplementedSyscall)
	return r
}

// runStdQemu runs a test binary under qemu-aarch64-static.
func runStdQemu(t *testing.T, pkg, bin string) stdResult {
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static not found")
	}
	cmd := exec.Command(qemu, append([]string{bin}, stdArgs...)...)
	cmd.Dir = PackageDir(t, pkg)
	cmd.Env = []string{"HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(), "PATH=/usr/bin:/bin", "GOROOT=" + GOROOT(t)}
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	exit := 0
	if cmd.ProcessState != nil {
		exit = cmd.ProcessState.ExitCode()
	}
	return parseResult(out, exit, time.Since(start))
}

// knownFailures reads testdata/gostd-known-failures.txt: "pkg Test cause"
// lines.
func knownFailures(t *testing.T) map[string]string {
	b, err := os.ReadFile(filepath.Join("testdata", "gostd-known-failures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(line, "#") {
			continue
		}
		known[f[0]+" "+f[1]] = strings.Join(f[2:], " ")
	}
	return known
}

// arm64Root returns the Debian arm64 tree of scripts/arm64-root.sh.
func arm64Root(t *testing.T) string {
	dir := filepath.Join(Root(t), ".cache", "arm64-root")
	if _, err := os.Stat(filepath.Join(dir, "bin", "pwd")); err != nil {
		t.Skipf("no Debian arm64 root in %s: run `make arm64-root`", dir)
	}
	return dir
}

func TestGoStandardLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	arm64Root(t)
	known := knownFailures(t)
	pkgs := stdPackages
	if *stdPkgs != "" {
		pkgs = strings.Split(*stdPkgs, ",")
	}
	var mu sync.Mutex
	var summary []string
	for _, pkg := range pkgs {
		t.Run(strings.ReplaceAll(pkg, "/", "_"), func(t *testing.T) {
			bin := StdTest(t, pkg)
			sim := runStdSim(t, pkg, bin)
			line := fmt.Sprintf("%-16s sissim: %3d pass %2d fail %3d skip exit %d (%v)", pkg, sim.pass, sim.fail, sim.skip, sim.exit, sim.took.Round(time.Millisecond))
			if *stdQemu {
				ref := runStdQemu(t, pkg, bin)
				line += fmt.Sprintf("   qemu: %3d pass %2d fail %3d skip exit %d (%v)", ref.pass, ref.fail, ref.skip, ref.exit, ref.took.Round(time.Millisecond))
			}
			mu.Lock()
			summary = append(summary, line)
			mu.Unlock()
			var unexpected []string
			failed := map[string]bool{}
			for _, name := range sim.failed {
				failed[name] = true
				if _, ok := known[pkg+" "+name]; !ok {
					unexpected = append(unexpected, name)
				}
			}
			for k := range known {
				if p, name, _ := strings.Cut(k, " "); p == pkg && !failed[name] && *stdRun == "" {
					t.Logf("%s %s now passes: remove it from testdata/gostd-known-failures.txt", pkg, name)
				}
			}
			if len(unexpected) > 0 || sim.exit != 0 && len(sim.failed) == 0 {
				tail := sim.out
				if len(tail) > 8000 {
					tail = "..." + tail[len(tail)-8000:]
				}
				t.Errorf("%s: exit %d, unexpected failures %v, unimplemented syscalls %v\n%s", pkg, sim.exit, unexpected, sim.unimplementedSyscall, tail)
			}
		})
	}
	t.Logf("Go standard library tests inside sissim:\n%s", strings.Join(summary, "\n"))
}
