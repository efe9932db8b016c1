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
	"os/signal"

	"golang.org/x/term"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// machineFlags are the flags of boot and shell.
type machineFlags struct {
	clock       *string
	seed        *uint64
	maxInsns    *uint64
	strace      straceFlags
	verbose     *bool
	metricsAddr *string
	features    *string
	root        *string
	mounts      *mountFlag
	trustKeys   *keyFlag
}

func addMachineFlags(f *flag.FlagSet) machineFlags {
	return machineFlags{
		clock:       f.String("clock", "auto", "clock `mode`: deterministic, realtime, or auto (realtime on a terminal)"),
		seed:        f.Uint64("seed", 0, "seed for AT_RANDOM, getrandom and /dev/urandom"),
		maxInsns:    f.Uint64("max-insns", 0, "stop a guest after `N` instructions (0: no limit)"),
		strace:      addStraceFlags(f),
		verbose:     f.Bool("v", false, "log kernel debug messages"),
		metricsAddr: f.String("metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (e.g. 127.0.0.1:9100)"),
		features:    f.String("features", "", "enabled `features`: agentsys,llm,model-lifecycle,shadow-mode,otel,decision-traces, ai-ops, all or none\n(default: $SIS_FEATURES, else all)"),
		root:        f.String("root", "", "fill the root file system from the host directory `DIR` (copied at boot; DIR is never changed)\ninstead of the built-in image"),
		mounts:      mountVar(f),
		trustKeys:   trustKeyVar(f),
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
func parseFeatures(flags *flag.FlagSet, value string) (kernel.Features, error) {
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == "features" })
	if !set {
		env, ok := os.LookupEnv("SIS_FEATURES")
		if !ok {
			return nil, nil
		}
		value = env
	}
	return kernel.ParseFeatures(value)
}

// cmdBoot boots the machine from the embedded image, printing the SIS boot
// markers, and runs the shell on the console (quiet: no markers, no banner
// unless interactive; script: the commands of -c).
func cmdBoot(name string, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	mf := addMachineFlags(flags)
	var script *string
	if name == "shell" {
		script = flags.String("c", "", "run the `commands` (separated by ';') and exit")
	}
	flags.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sissim %s [flags]\n\nFlags:\n", name)
		flags.PrintDefaults()
	}
	if err := flags.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "sissim %s: unexpected argument %q\n", name, flags.Arg(0))
		return 2
	}
	inFile, _ := stdin.(*os.File)
	interactive := inFile != nil && term.IsTerminal(int(inFile.Fd())) && (script == nil || *script == "")
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
		Stdin:             stdin,
		Stdout:            stdout,
		Stderr:            stdout,
		ConsoleIsTerminal: isTerminal(stdout),
		MaxInsns:          *mf.maxInsns,
		Log:               newLogger(stderr, *mf.verbose),
		TrustedModelKeys:  mf.trustKeys.keys,
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
	bc := kernel.BootConfig{Config: cfg, Image: image, Console: stdout, Features: features,
		Services: kernel.DefaultServices(), Setup: mf.mounts.apply}
	if name == "shell" {
		bc.Console = io.Discard
	}
	m, err := kernel.Boot(bc)
	if err != nil {
		fmt.Fprintln(stderr, "sissim:", err)
		return 2
	}
	defer m.Close()
	sh := m.Shell()

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
		if err := sh.ExecTo(stdout, *script); err != nil && err != kernel.ErrExit {
			return 1
		}
		return 0
	}

	opts := kernel.ReplOptions{Prompt: name != "shell" || interactive}
	out := stdout
	if interactive {
		fd := int(inFile.Fd())
		defer takeForeground(fd)()
		old, err := term.MakeRaw(fd)
		if err != nil {
			fmt.Fprintln(stderr, "sissim:", err)
			return 2
		}
		defer term.Restore(fd, old)
		// Guests get the terminal in its normal mode, where Ctrl-C raises
		// SIGINT: it interrupts the guest, not sissim.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt)
		defer signal.Stop(sigs)
		go func() {
			for range sigs {
				m.Interrupt()
			}
		}()
		opts.Echo = true
		opts.BeforeGuest = func() { term.Restore(fd, old) }
		opts.AfterGuest = func() { term.MakeRaw(fd) }
		out = &crlfWriter{w: stdout}
	}
	failures, err := sh.Serve(stdin, out, opts)
	if err != nil && !errors.Is(err, kernel.ErrExit) {
		fmt.Fprintln(stderr, "sissim:", err)
		return 2
	}
	if failures > 0 && !interactive {
		return 1
	}
	return 0
}

// crlfWriter turns "\n" into "\r\n" for a terminal in raw mode.
type crlfWriter struct {
	w      io.Writer
	lastCR bool
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+8)
	for _, b := range p {
		if b == '\n' && !c.lastCR {
			out = append(out, '\r')
		}
		out = append(out, b)
		c.lastCR = b == '\r'
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
