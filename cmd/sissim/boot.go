package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"

	"golang.org/x/term"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// machineFlags are the flags of boot and shell.
type machineFlags struct {
	clock       *string
	seed        *uint64
	schedSeed   *uint64
	maxInsns    *uint64
	strace      straceFlags
	verbose     *bool
	metricsAddr *string
	features    *string
	root        *string
	mounts      *mountFlag
	trustKeys   *keyFlag
	net         *netFlags
}

func addMachineFlags(f *flag.FlagSet) machineFlags {
	return machineFlags{
		clock:       f.String("clock", "auto", "clock `mode`: deterministic, realtime, or auto (realtime when the shell reads a terminal, else deterministic)"),
		seed:        f.Uint64("seed", 0, "seed for AT_RANDOM, getrandom and /dev/urandom"),
		schedSeed:   f.Uint64("sched-seed", 0, "perturb the thread schedule deterministically with this `seed` (0: none): shakes out races; a failing seed replays"),
		maxInsns:    f.Uint64("max-insns", 0, "stop a guest after `N` instructions (0: no limit)"),
		strace:      addStraceFlags(f),
		verbose:     f.Bool("v", false, "log kernel debug messages"),
		metricsAddr: f.String("metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (e.g. 127.0.0.1:9100)"),
		features:    f.String("features", "", "enabled `features`: agentsys,llm,model-lifecycle,shadow-mode,otel,decision-traces, ai-ops, all or none\n(default: $SIS_FEATURES, else all)"),
		root:        f.String("root", "", "fill the root file system from the host directory `DIR` (copied at boot; DIR is never changed)\ninstead of the built-in image"),
		mounts:      mountVar(f),
		trustKeys:   trustKeyVar(f),
		net:         addNetFlags(f),
	}
}

// mountVar adds the repeatable --mount flag to f.
func mountVar(f *flag.FlagSet) *mountFlag {
	var mounts mountFlag
	f.Var(&mounts, "mount", "mount the host directory HOST at the guest path GUEST, read-only with :ro (`HOST:GUEST[:ro]`, repeatable)")
	return &mounts
}

// rootImage returns the image of --root DIR, else the built-in one.
func rootImage(dir string) (map[string]fs.FS, error) {
	if dir == "" {
		return sissim.RootImage(), nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--root: %s is not a directory", dir)
	}
	return map[string]fs.FS{"/": os.DirFS(dir)}, nil
}

// parseFeatures returns the feature set of --features, else of
// $SIS_FEATURES, else nil (every feature).
func parseFeatures(flags *flag.FlagSet, value string) (sis.Features, error) {
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == "features" })
	if !set {
		env, ok := os.LookupEnv("SIS_FEATURES")
		if !ok {
			return nil, nil
		}
		value = env
	}
	return sis.ParseFeatures(value)
}

// cmdBoot boots the machine from the embedded image, printing the SIS boot
// markers, and runs the shell on the console (quiet: no markers, no banner
// unless interactive; script: the commands of -c).
func cmdBoot(name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	mf := addMachineFlags(flags)
	var script *string
	synopsis := "sissim " + name + " [flags]"
	if name == "shell" {
		script = flags.String("c", "", "run the `commands` (separated by ';' or newlines) and exit")
		synopsis = "sissim shell [-c 'commands'] [flags]"
	}
	if ok, code := parseFlags(flags, argv, synopsis, stdout, stderr); !ok {
		return code
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "sissim %s: unexpected argument %q (see 'sissim %s -h')\n", name, flags.Arg(0), name)
		return 2
	}
	inFile, _ := stdin.(*os.File)
	outFile, _ := stdout.(*os.File)
	// The line editor needs a terminal on both sides; with only the input
	// on one, lines are read as the terminal's own line discipline gives them.
	interactive := inFile != nil && term.IsTerminal(int(inFile.Fd())) && (script == nil || *script == "")
	editor := interactive && outFile != nil && term.IsTerminal(int(outFile.Fd()))
	clockName := *mf.clock
	if clockName == "auto" {
		clockName = "deterministic"
		if interactive {
			clockName = "realtime"
		}
	}
	mode, err := kernel.ParseClockMode(clockName)
	if err != nil {
		fmt.Fprintf(stderr, "sissim %s: %v\n", name, err)
		return 2
	}
	features, err := parseFeatures(flags, *mf.features)
	if err != nil {
		fmt.Fprintf(stderr, "sissim %s: %v\n", name, err)
		return 2
	}
	cfg := kernel.Config{
		Clock:             mode,
		Seed:              *mf.seed,
		SchedSeed:         *mf.schedSeed,
		Stdin:             stdin,
		Stdout:            stdout,
		Stderr:            stderr,
		ConsoleIsTerminal: isTerminal(stdout),
		MaxInsns:          *mf.maxInsns,
		Log:               newLogger(stderr, *mf.verbose),
	}
	if err := mf.net.apply(&cfg); err != nil {
		fmt.Fprintf(stderr, "sissim %s: %v\n", name, err)
		return 2
	}
	closeStrace, err := mf.strace.apply(&cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sissim %s: %v\n", name, err)
		return 2
	}
	defer func() {
		if err := closeStrace(); err != nil {
			fmt.Fprintf(stderr, "sissim %s: --strace-file: %v\n", name, err)
		}
	}()
	image, err := rootImage(*mf.root)
	if err != nil {
		fmt.Fprintf(stderr, "sissim %s: %v\n", name, err)
		return 2
	}
	bc := sis.BootConfig{Config: cfg, Image: image, Console: stdout,
		Options:  sis.Options{Features: features, TrustedModelKeys: mf.trustKeys.keys},
		Services: sis.DefaultServices(), Setup: mf.mounts.apply}
	if name == "shell" {
		bc.Console = io.Discard
	}
	m, err := sis.Boot(bc)
	if err != nil {
		fmt.Fprintln(stderr, "sissim:", err)
		return 2
	}
	defer m.Close()
	mf.net.report(m.Machine, stderr)
	sh := m.Shell()
	sh.SetTerminal(isTerminal(stdout))

	if *mf.metricsAddr != "" {
		ln, err := net.Listen("tcp", *mf.metricsAddr)
		if err != nil {
			fmt.Fprintln(stderr, "sissim:", err)
			return 2
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", sh.MetricsHandler())
		srv := &http.Server{Handler: mux}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(stderr, "sissim: metrics at http://%s/metrics\n", ln.Addr())
	}

	if script != nil && *script != "" {
		return scriptStatus(sh.ExecStreams(stdout, stderr, *script), 0)
	}

	opts := sis.ReplOptions{Prompt: name != "shell" || interactive, Stderr: stderr}
	if interactive {
		fd := int(inFile.Fd())
		defer takeForeground(fd)()
		// At the prompt the editor reads keys in raw mode; a command runs
		// with the terminal in its normal mode, where Ctrl-C, Ctrl-\ and
		// Ctrl-Z raise signals: they act on the guest, never on sissim.
		defer forwardSignals(m.Machine, stderr).Stop()
		if editor {
			opts.Lines = newLineEditor(sh, stderr)
		}
	}
	failures, err := sh.Serve(stdin, stdout, opts)
	if err != nil && !errors.Is(err, sis.ErrExit) {
		fmt.Fprintln(stderr, "sissim:", err)
		return 2
	}
	if interactive {
		// A person saw each error: only `exit N` sets the status.
		var ee *sis.ExitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		return 0
	}
	return scriptStatus(err, failures)
}

// scriptStatus is sissim's exit status after the shell ended with err
// (nil, or ErrExit possibly joined with the first failure) and failures
// failed commands: the status of `exit N`, else 1 when a command failed,
// else 0.
func scriptStatus(err error, failures int) int {
	var ee *sis.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case err != nil && err != sis.ErrExit, failures > 0:
		return 1
	}
	return 0
}
