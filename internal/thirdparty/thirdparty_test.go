package thirdparty

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	update    = flag.Bool("update", false, "rewrite testdata/known-mismatches.txt from this run")
	diagAll   = flag.Bool("diagnose", false, "find the cause of every mismatch, known ones too (reruns them with system-call traces)")
	keep      = flag.Bool("keep", false, "keep the cases' working directories and outputs")
	stable    = flag.Bool("stable", false, "run every qemu side twice and fail a case whose runs differ (checks new cases)")
	viaInterp = flag.Bool("via-interpreter", false, "diagnostic: run dynamically linked programs under sissim as ld.so --argv0 NAME PROG (no verdict, only the summary)")
)

func TestMain(m *testing.M) {
	ChildMain()
	flag.Parse()
	// A case waits part of its time (process start, sleeps, timeouts): run
	// twice as many at once as there are cores, unless -parallel says.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if f := flag.Lookup("test.parallel"); f != nil && !set {
		f.Value.Set(strconv.Itoa(2 * runtime.GOMAXPROCS(0)))
	}
	os.Exit(m.Run())
}

const expectationsFile = "testdata/known-mismatches.txt"

// TestThirdParty runs every case under sissim and qemu-user. It fails on a
// mismatch that testdata/known-mismatches.txt does not list, and reports
// the listed cases that now match; the summary (matches per suite, causes
// ranked by cases) is logged and written to .cache/thirdparty/summary.txt.
func TestThirdParty(t *testing.T) {
	r := setup(t)
	cases := AllCases()
	require.NoError(t, CheckCases(cases))
	exp := readExpectations(t)

	var mu sync.Mutex
	var outcomes []Outcome
	t.Run("case", func(t *testing.T) {
		for i, c := range cases {
			dir := filepath.Join(r.Scratch, "cases", fmt.Sprintf("%03d-%s", i, sanitize(c.Name)))
			t.Run(c.ID(), func(t *testing.T) {
				t.Parallel()
				require.NoError(t, os.MkdirAll(dir, 0o755))
				o := r.Run(c, dir)
				known, listed := exp[c.ID()]
				if !o.Match && (!listed || *diagAll || *update) {
					o.Diagnosis = r.Diagnose(o)
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				switch {
				case o.Match && listed:
					t.Logf("%s now matches: remove it from %s", c.ID(), expectationsFile)
				case !o.Match && listed:
					t.Logf("known mismatch (%s)", known)
				case !o.Match && (*update || *viaInterp):
				case !o.Match:
					t.Errorf("%s: new mismatch: %s\n%s", c.ID(), Classify(o, o.Diagnosis, CopedENOSYS), describe(o))
				}
			})
		}
	})
	if len(outcomes) == 0 {
		return
	}
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].Case.ID() < outcomes[j].Case.ID() })
	alsoMatching := AlsoMatching(outcomes)
	causes := map[string]string{} // mismatching case -> cause
	var fixed []string
	for _, o := range outcomes {
		known, listed := exp[o.Case.ID()]
		switch {
		case o.Match && listed:
			fixed = append(fixed, o.Case.ID())
		case !o.Match && o.Diagnosis == nil && listed:
			causes[o.Case.ID()] = known
		case !o.Match:
			causes[o.Case.ID()] = Classify(o, o.Diagnosis, CopedENOSYS)
		}
	}
	summary := formatSummary(outcomes, causes, fixed, alsoMatching)
	t.Log("\n" + summary)
	writeSummary(t, summary)
	if *update && !*viaInterp {
		next := Expectations{}
		ran := map[string]bool{}
		for _, o := range outcomes {
			ran[o.Case.ID()] = true
		}
		for id, cause := range exp {
			if !ran[id] {
				next[id] = cause // not run this time: keep
			}
		}
		for id, cause := range causes {
			next[id] = cause
		}
		var b bytes.Buffer
		require.NoError(t, next.Format(&b))
		require.NoError(t, os.WriteFile(expectationsFile, b.Bytes(), 0o644))
		t.Logf("wrote %s: %d known mismatches", expectationsFile, len(next))
	}
}

// formatSummary is the run's report: per suite, the cases that match,
// the named exceptions (checked against their stated result), the
// mismatches, and the causes ranked by the number of cases.
func formatSummary(outcomes []Outcome, causes map[string]string, fixed []string, alsoMatching map[string]bool) string {
	var b strings.Builder
	b.WriteString("third-party suite: sissim against qemu-user\n\n")
	fmt.Fprintf(&b, "%-12s %6s %6s %10s %10s\n", "suite", "cases", "match", "exceptions", "mismatches")
	total := Summary{Suite: "all"}
	for _, s := range Summarize(outcomes) {
		fmt.Fprintf(&b, "%-12s %6d %6d %10d %10d\n", s.Suite, s.Cases, s.Match, s.Exceptions, s.Failed)
		total.Cases += s.Cases
		total.Match += s.Match
		total.Exceptions += s.Exceptions
		total.Failed += s.Failed
	}
	fmt.Fprintf(&b, "%-12s %6d %6d %10d %10d\n", total.Suite, total.Cases, total.Match, total.Exceptions, total.Failed)
	if len(causes) > 0 {
		b.WriteString("\nmismatches by cause:\n")
		for _, cc := range RankClasses(causes) {
			ex := cc.Cases
			if len(ex) > 6 {
				ex = append(ex[:6:6], "...")
			}
			fmt.Fprintf(&b, "%4d  %s\n      %s\n", len(cc.Cases), cc.Class, strings.Join(ex, " "))
		}
	}
	if un := Unimplemented(outcomes); len(un) > 0 {
		b.WriteString("\nENOSYS calls (cases that made them; \"coped\": never counted as a cause, see CopedENOSYS; \"also matching\": a matching case made it too):\n")
		for _, cc := range un {
			note := ""
			if CopedENOSYS[cc.Class] {
				note += "  (coped)"
			}
			if alsoMatching[cc.Class] {
				note += "  (also matching)"
			}
			fmt.Fprintf(&b, "%4d  %s%s\n", len(cc.Cases), cc.Class, note)
		}
	}
	host := map[string][]string{}
	for _, o := range outcomes {
		if o.Diagnosis != nil {
			for _, p := range o.Diagnosis.HostFiles {
				host[p] = append(host[p], o.Case.ID())
			}
		}
	}
	if len(host) > 0 {
		b.WriteString("\nhost files qemu-user read because the guest root lacks them (-L falls back to the host; diagnosed cases only):\n")
		for _, p := range sortedKeys(host) {
			fmt.Fprintf(&b, "  %s (%s)\n", p, strings.Join(host[p], " "))
		}
	}
	slow := append([]Outcome(nil), outcomes...)
	sort.Slice(slow, func(i, j int) bool { return slow[i].SimTime+slow[i].RefTime > slow[j].SimTime+slow[j].RefTime })
	if len(slow) > 5 {
		slow = slow[:5]
	}
	b.WriteString("\nslowest cases (sissim + reference):\n")
	for _, o := range slow {
		fmt.Fprintf(&b, "  %-28s %6.2fs + %6.2fs\n", o.Case.ID(), o.SimTime.Seconds(), o.RefTime.Seconds())
	}
	if len(fixed) > 0 {
		fmt.Fprintf(&b, "\nlisted in %s but now matching (remove them, or run with -update):\n  %s\n", expectationsFile, strings.Join(fixed, "\n  "))
	}
	return b.String()
}

// describe shows a mismatch: the outputs that differ and where the run's
// files are.
func describe(o Outcome) string {
	var b strings.Builder
	if o.Sim.Err != "" {
		fmt.Fprintf(&b, "sissim: %s\n", o.Sim.Err)
	}
	if o.Ref.Err != "" {
		fmt.Fprintf(&b, "reference: %s\n", o.Ref.Err)
	}
	ref := "qemu"
	if o.Case.QemuWrong != "" {
		ref = "want (qemu-user is wrong here: " + o.Case.QemuWrong + ")"
	}
	for _, d := range o.Differences() {
		switch d {
		case "stdout":
			fmt.Fprintf(&b, "stdout:\n  %s: %s\n  sissim: %s\n", ref, clip(o.Ref.Stdout), clip(o.Sim.Stdout))
		case "stderr":
			fmt.Fprintf(&b, "stderr:\n  %s: %s\n  sissim: %s\n", ref, clip(o.Ref.Stderr), clip(o.Sim.Stderr))
		case "exit":
			fmt.Fprintf(&b, "exit status: %s %d, sissim %d\n", ref, o.Ref.Exit, o.Sim.Exit)
		}
	}
	if o.SimResult.Report != "" {
		fmt.Fprintf(&b, "sissim: %s\n", o.SimResult.Report)
	}
	fmt.Fprintf(&b, "files (sim.*, qemu.*, traces; with -keep or on failure): %s", o.Dir)
	return b.String()
}

// clip quotes the start of an output.
func clip(b []byte) string {
	const max = 600
	if len(b) > max {
		return fmt.Sprintf("%q... (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

func readExpectations(t *testing.T) Expectations {
	f, err := os.Open(expectationsFile)
	if os.IsNotExist(err) {
		return Expectations{}
	}
	require.NoError(t, err)
	defer f.Close()
	exp, err := ParseExpectations(f)
	require.NoError(t, err, expectationsFile)
	return exp
}

func writeSummary(t *testing.T, summary string) {
	dir := filepath.Join(repoRoot(t), ".cache", "thirdparty")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		name := "summary.txt"
		if *viaInterp {
			name = "summary-via-interpreter.txt"
		}
		err = os.WriteFile(filepath.Join(dir, name), []byte(summary), 0o644)
		if err == nil {
			t.Logf("summary written to %s", filepath.Join(dir, name))
		}
	}
}

// setup fetches what the suite needs (quick when present) and prepares a
// Runner, skipping the test only when the fetch scripts cannot run here.
func setup(t *testing.T) *Runner {
	t.Helper()
	repo := repoRoot(t)
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static not found: run 'make deps' (Debian's qemu-user-static), then 'make thirdparty'")
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found, so scripts/arm64-root.sh cannot build the guest root; on Debian run 'make arm64-root'", tool)
		}
	}
	pkgs := readPackages(t, "testdata/packages.txt")
	runScript(t, repo, append([]string{"scripts/arm64-root.sh"}, pkgs...)...)
	runScript(t, repo, "scripts/fetch-busybox.sh")
	root, err := filepath.EvalSymlinks(filepath.Join(repo, ".cache", "arm64-root"))
	require.NoError(t, err)
	busybox, err := filepath.EvalSymlinks(filepath.Join(repo, ".cache", "busybox", "bin", "busybox"))
	require.NoError(t, err)

	scratch, err := os.MkdirTemp("", "sissim-thirdparty-")
	require.NoError(t, err)
	t.Cleanup(func() {
		if *keep || t.Failed() {
			t.Logf("cases' files kept in %s", scratch)
			return
		}
		os.RemoveAll(scratch)
	})
	binfmt := filepath.Join(scratch, "binfmt")
	goTool := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if _, err := exec.LookPath(goTool); err != nil {
			goTool = filepath.Join(root, "bin", "go") // go test sets GOROOT
		}
	}
	build := exec.Command(goTool, "build", "-o", binfmt, "./binfmt")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the binfmt command: %v\n%s", err, out)
	}
	self, err := os.Executable()
	require.NoError(t, err)
	fixtures, err := filepath.Abs("testdata/fixtures")
	require.NoError(t, err)
	r := &Runner{
		Root:     root,
		Busybox:  busybox,
		Qemu:     qemu,
		Fixtures: fixtures,
		Binfmt:   binfmt,
		Scratch:  scratch,
		SimExe:   self,
		MaxInsns: 20_000_000_000,
		Timeout:  3 * time.Minute,

		ViaInterpreter: *viaInterp,
		CheckStable:    *stable,
	}
	require.NoError(t, r.Prepare())
	return r
}

// runScript runs a repository script, failing the test with its output.
func runScript(t *testing.T, repo string, argv ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo, argv[0]), argv[1:]...)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// readPackages reads a list of Debian packages, one or more a line, with #
// comments.
func readPackages(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	var pkgs []string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		pkgs = append(pkgs, strings.Fields(line)...)
	}
	require.NotEmpty(t, pkgs, name)
	return pkgs
}

// repoRoot returns the directory of go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}
