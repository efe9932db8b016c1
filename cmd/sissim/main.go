// Command sissim runs AArch64 Linux programs on the simulated SIS kernel.
//
//	sissim [boot] [flags]              boot to the sis> shell
//	sissim shell [-c 'cmd; cmd'] [flags] the shell without boot messages
//	sissim run [flags] guest.elf [args...]
//	sissim timeline FILE.json -o FILE.png
//
// The guest's exit status becomes sissim's; sissim's own errors (bad flags,
// a file that is not a static AArch64 program) exit with status 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sis"
)

const usage = `sissim simulates the SIS kernel: real AArch64 Linux programs run under
Unicorn with the kernel written in Go.

Usage:
  sissim [boot] [flags]                    boot the machine to the sis> shell
  sissim shell [-c 'cmd; cmd'] [flags]     the shell alone: interactive, or the
                                           commands of -c or stdin, for scripts
  sissim run [flags] [guest.elf [args...]] run a static AArch64 Linux program
                                           (default: the built-in hello guest)
  sissim timeline FILE.json -o FILE.png    draw a --timeline file as a picture
  sissim model keygen|train|pack|sign|verify
                                           build and sign model packages
  sissim version                           print versions
  sissim help                              show this help

Run 'sissim run -h', 'sissim boot -h' or 'sissim shell -h' for the flags.
`

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runMain is main without the process exit, for tests.
func runMain(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(argv) == 0 || strings.HasPrefix(argv[0], "-") && argv[0] != "-h" && argv[0] != "-help" && argv[0] != "--help" {
		return cmdBoot("boot", argv, stdin, stdout, stderr)
	}
	switch argv[0] {
	case "boot", "shell":
		return cmdBoot(argv[0], argv[1:], stdin, stdout, stderr)
	case "run":
		return cmdRun(argv[1:], stdin, stdout, stderr)
	case "model":
		return cmdModel(argv[1:], stdout, stderr)
	case "timeline":
		return cmdTimeline(argv[1:], stdout, stderr)
	case "version":
		if len(argv) > 1 {
			fmt.Fprintf(stderr, "sissim version: unexpected argument %q\n", argv[1])
			return 2
		}
		bi, _ := debug.ReadBuildInfo()
		writeVersion(stdout, bi)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sissim: unknown command %q (see 'sissim help')\n", argv[0])
	return 2
}

// writeVersion prints sissim's module version and VCS commit from the
// build information the go command stamps into the binary (bi; nil when
// there is none), and the versions of the kernel, Unicorn and Go.
func writeVersion(w io.Writer, bi *debug.BuildInfo) {
	version, commit, when, modified := "(unknown)", "", "", false
	if bi != nil {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	fmt.Fprintf(w, "sissim %s\n", version)
	switch {
	case commit == "":
		fmt.Fprintln(w, "commit: unknown (built without VCS information; go build -buildvcs=true stamps it)")
	case modified:
		fmt.Fprintf(w, "commit: %s (%s, with uncommitted changes)\n", commit, when)
	default:
		fmt.Fprintf(w, "commit: %s (%s)\n", commit, when)
	}
	fmt.Fprintf(w, "SIS Kernel %s, libunicorn %s, %s %s/%s\n", sis.Version, cpu.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// parseFlags parses argv into fs. -h prints the synopsis and the flags on
// stdout; a bad flag prints one line on stderr. When ok is false the
// caller returns code (0 after -h, 2 after a bad flag).
func parseFlags(fs *flag.FlagSet, argv []string, synopsis string, stdout, stderr io.Writer) (ok bool, code int) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(argv)
	switch {
	case err == nil:
		return true, 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "Usage: %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return false, 0
	}
	cmd := strings.Fields(synopsis)
	name := strings.Join(cmd[:min(len(cmd), 2)], " ")
	if len(cmd) > 2 && cmd[1] == "model" {
		name = strings.Join(cmd[:3], " ")
	}
	fmt.Fprintf(stderr, "%s: %v (see '%s -h')\n", name, err, name)
	return false, 2
}

// envFlag collects repeated --env K=V flags.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, ",") }
func (e *envFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want K=V, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func cmdRun(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("run", flag.ContinueOnError)
	var env envFlag
	flags.Var(&env, "env", "set a guest environment variable `K=V` (repeatable)")
	clock := flags.String("clock", "deterministic", "clock `mode`: deterministic or realtime")
	seed := flags.Uint64("seed", 0, "seed for AT_RANDOM, getrandom and /dev/urandom")
	schedSeed := flags.Uint64("sched-seed", 0, "perturb the thread schedule deterministically with this `seed` (0: none): shakes out races; a failing seed replays")
	straceOpts := addStraceFlags(flags)
	maxInsns := flags.Uint64("max-insns", 0, "stop the guest after `N` instructions (0: no limit)")
	verbose := flags.Bool("v", false, "log kernel debug messages")
	mounts := mountVar(flags)
	trustKeys := trustKeyVar(flags)
	nf := addNetFlags(flags)
	featureList := flags.String("features", "none", "SIS services to start for the guest (/dev/agentsys, /models, ...): `list` as for boot, e.g. agentsys or all")
	memSize := flags.String("mem", "", "the machine's RAM, e.g. 1G or 512M (default 2G)")
	cwd := flags.String("cwd", "/", "the guest's working `directory`")
	timelineFile := flags.String("timeline", "", "write the scheduler timeline to the host `FILE` (Chrome trace-event JSON: ui.perfetto.dev opens it; 'sissim timeline' draws it)")
	metricsAddr := flags.String("metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics while the guest runs (e.g. 127.0.0.1:9100)")
	root := flags.String("root", "", "run programs of the host `DIR`, a guest root tree (e.g. Debian arm64 packages unpacked with dpkg -x): the program is a path inside it")
	faultDetail := flags.Bool("fault-detail", true, "after a fault's one-line report, print the registers and a backtrace named with the program's symbols (--fault-detail=false: the line alone)")
	checkpointEvery := flags.String("checkpoint-every", "", "with --gdb and the deterministic clock: copy the machine every `N` instructions at least, so that a step back re-runs at most that many (0: never; default: 2^28, or 128 per byte of guest RAM in use when that is more)")
	gdb := flags.String("gdb", "", "serve a GDB remote stub on `[HOST:]PORT` (127.0.0.1 unless HOST is given; port 0 picks one) and wait for the debugger before the program's first instruction")
	if ok, code := parseFlags(flags, argv, "sissim run [flags] guest.elf [args...]", stdout, stderr); !ok {
		return code
	}
	mem, err := kernel.ParseMemSize(*memSize)
	if err != nil {
		fmt.Fprintln(stderr, "sissim run: --mem:", err)
		return 2
	}
	mode, err := kernel.ParseClockMode(*clock)
	if err != nil {
		fmt.Fprintln(stderr, "sissim run:", err)
		return 2
	}
	if *root != "" {
		if fi, err := os.Stat(*root); err != nil || !fi.IsDir() {
			fmt.Fprintf(stderr, "sissim run: --root: %s is not a directory\n", *root)
			return 2
		}
		if flags.NArg() == 0 {
			fmt.Fprintln(stderr, "sissim run: --root needs the program's path inside the tree")
			return 2
		}
	}
	var gdbAddr string
	if *gdb != "" {
		if gdbAddr, err = kernel.GDBAddr(*gdb); err != nil {
			fmt.Fprintln(stderr, "sissim run: --gdb:", err)
			return 2
		}
	}
	checkpoints := kernel.DefaultCheckpointPolicy()
	if *checkpointEvery != "" && *gdb == "" {
		fmt.Fprintln(stderr, "sissim run: --checkpoint-every needs --gdb")
		return 2
	}
	if *checkpointEvery != "" {
		n, err := strconv.ParseUint(*checkpointEvery, 0, 64)
		if err != nil {
			fmt.Fprintln(stderr, "sissim run: --checkpoint-every: want a count of instructions:", err)
			return 2
		}
		checkpoints.Every, checkpoints.PerByte = n, 0
	}
	features, err := sis.ParseFeatures(*featureList)
	if err != nil {
		fmt.Fprintln(stderr, "sissim run: --features:", err)
		return 2
	}
	var host, guestPath string
	var data []byte
	if *root != "" {
		host, guestPath = flags.Arg(0), path.Clean("/"+flags.Arg(0))
	} else if host, guestPath, data, err = guestProgram(flags.Args()); err != nil {
		fmt.Fprintf(stderr, "sissim: %s: %v\n", host, err)
		return 2
	}
	cfg := kernel.Config{
		Mem:               mem,
		Root:              *root,
		Clock:             mode,
		Seed:              *seed,
		SchedSeed:         *schedSeed,
		Stdin:             stdin,
		Stdout:            stdout,
		Stderr:            stderr,
		ConsoleIsTerminal: isTerminal(stdout),
		MaxInsns:          *maxInsns,
		Log:               newLogger(stderr, *verbose),
	}
	if err := nf.apply(&cfg); err != nil {
		fmt.Fprintln(stderr, "sissim run:", err)
		return 2
	}
	closeStrace, err := straceOpts.apply(&cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sissim run:", err)
		return 2
	}
	defer func() {
		if err := closeStrace(); err != nil {
			fmt.Fprintln(stderr, "sissim run: --strace-file:", err)
		}
	}()
	// setup puts the program, the mounts and the services into a new
	// machine (a debugging session builds it again to go back in time).
	setup := func(m *kernel.Machine) (*sis.System, error) {
		sys := sis.New(m, sis.Options{Features: features, TrustedModelKeys: trustKeys.keys})
		var err error
		if data != nil {
			err = m.FS().MkdirAll(path.Dir(guestPath), 0o755)
			if err == nil {
				err = m.FS().WriteFile(guestPath, data, 0o755)
			}
		}
		if err == nil {
			err = mounts.apply(m.FS())
		}
		if err == nil {
			_, err = sys.StartServices(sis.DefaultServices())
		}
		if err != nil {
			sys.Close()
			return nil, err
		}
		return sys, nil
	}
	var guestArgs []string
	if flags.NArg() > 1 {
		guestArgs = flags.Args()[1:]
	}
	spec := kernel.ProcessSpec{Path: guestPath, Argv: append([]string{host}, guestArgs...), Env: env, Cwd: *cwd}
	if gdbAddr != "" {
		why := irreversible(mode, *mounts, nf, features, *timelineFile != "" || *metricsAddr != "")
		if why == "" {
			// Under a debugger that can go back: a session of machines.
			return runSession(cfg, setup, spec, checkpoints, gdbAddr, host, *faultDetail, stdin, stdout, stderr)
		}
		fmt.Fprintf(stderr, "sissim: reverse execution is off: %s\n", why)
	}
	m, err := kernel.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "sissim:", err)
		return 2
	}
	sys, err := setup(m) // closes m on an error
	if err != nil {
		fmt.Fprintln(stderr, "sissim:", err)
		return 2
	}
	defer sys.Close()
	if *metricsAddr != "" {
		stop, err := serveMetrics(*metricsAddr, sys.MetricsHandler(), stderr)
		if err != nil {
			fmt.Fprintln(stderr, "sissim run:", err)
			return 2
		}
		defer stop()
	}
	nf.report(m, stderr)
	sys.MarkFiles()
	defer finish(sys, stderr)
	if *timelineFile != "" {
		stop, err := startTimeline(sys, *timelineFile, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "sissim run:", err)
			return 2
		}
		defer stop()
	}
	if gdbAddr != "" {
		srv, err := serveGDB(m, gdbAddr, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "sissim run: --gdb:", err)
			return 2
		}
		// After the program, wait for the debugger to go: it is told of
		// the exit first.
		defer srv.Close()
	}
	p, err := m.Spawn(spec)
	if err != nil {
		var ee *kernel.ExecError
		if errors.As(err, &ee) {
			fmt.Fprintf(stderr, "sissim: %s: %s\n", host, ee.Reason)
			return exitUsage
		}
		fmt.Fprintln(stderr, "sissim:", err)
		return exitUsage
	}
	// The terminal's keys, and kill(1) of sissim, reach the guest.
	fwd := forwardSignals(m, stderr, syscall.SIGTERM, syscall.SIGHUP)
	defer fwd.Stop()
	jobControl := isTerminal(stdin)
	status, err := p.Wait()
	for {
		var se *kernel.StoppedError
		if !errors.As(err, &se) || !jobControl {
			break
		}
		// Ctrl-Z: sissim stops with its guest; fg continues both.
		fmt.Fprintf(stderr, "\nsissim: pid %d stopped by %s\n", se.PID, se.Signal)
		fwd.StopSelf()
		m.SignalForeground(linux.SIGCONT)
		status, err = p.Wait()
	}
	reportStatus(stderr, host, status, *faultDetail)
	if err != nil {
		fmt.Fprintln(stderr, "sissim:", err)
		return exitKernel
	}
	// Orphans finish their work; any blocked for good are left behind.
	if err := m.Drain(); err != nil {
		fmt.Fprintf(stderr, "sissim: after %s exited: %v\n", filepath.Base(host), err)
	}
	return status.ShellCode()
}

// reportStatus prints a fault's report (and its detail, when asked for).
func reportStatus(stderr io.Writer, host string, status kernel.ExitStatus, detail bool) {
	if status.Report != "" {
		fmt.Fprintf(stderr, "sissim: %s: %s\n", filepath.Base(host), status.Report)
		if detail {
			io.WriteString(stderr, status.Detail)
		}
	}
}

// defaultGuest is the embedded program run when no guest is named.
const defaultGuest = "hello"

// guestProgram returns the program to run: the host file named by args[0],
// placed in the guest's file system at its host path (as under qemu-user,
// so argv[0] and /proc/self/exe agree), or the embedded default guest at
// /bin/hello.
func guestProgram(args []string) (name, guestPath string, data []byte, err error) {
	if len(args) == 0 {
		data, err = fs.ReadFile(sissim.Guests(), defaultGuest)
		return "/bin/" + defaultGuest, "/bin/" + defaultGuest, data, err
	}
	abs, err := filepath.Abs(args[0])
	if err != nil {
		return args[0], "", nil, err
	}
	data, err = readGuest(abs)
	return args[0], filepath.ToSlash(abs), data, err
}

// readGuest reads a program file from the host, refusing what the kernel
// would refuse before reading it whole.
func readGuest(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, errors.New("is a directory")
	case !fi.Mode().IsRegular():
		return nil, errors.New("not a regular file")
	case fi.Size() > kernel.MaxExecSize:
		return nil, fmt.Errorf("file is %d bytes; the limit is %d", fi.Size(), kernel.MaxExecSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read with a bound: the file may grow while it is read.
	data, err := io.ReadAll(io.LimitReader(f, kernel.MaxExecSize+1))
	if err == nil && len(data) > kernel.MaxExecSize {
		err = fmt.Errorf("file is over %d bytes, the limit", kernel.MaxExecSize)
	}
	return data, err
}

// isTerminal reports whether stream is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	// Through the raw descriptor: File.Fd would make the file blocking.
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	tty := false
	_ = rc.Control(func(fd uintptr) { tty = term.IsTerminal(int(fd)) })
	return tty
}

// newLogger logs kernel messages to w as one human-readable line each,
// "sissim: warning: message (key value, ...): error", without timestamps
// so that deterministic runs stay byte-identical.
func newLogger(w io.Writer, verbose bool) *zap.Logger {
	level := zapcore.WarnLevel
	if verbose {
		level = zapcore.DebugLevel
	}
	return zap.New(&lineCore{LevelEnabler: level, w: zapcore.AddSync(w)})
}

// lineCore is a zapcore.Core writing an entry and its fields as one line.
type lineCore struct {
	zapcore.LevelEnabler
	w      zapcore.WriteSyncer
	fields []zapcore.Field
}

func (c *lineCore) With(fields []zapcore.Field) zapcore.Core {
	return &lineCore{LevelEnabler: c.LevelEnabler, w: c.w, fields: append(append([]zapcore.Field(nil), c.fields...), fields...)}
}

func (c *lineCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *lineCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	all := append(append([]zapcore.Field(nil), c.fields...), fields...)
	var errText string
	var pairs []string
	for _, f := range all {
		if f.Type == zapcore.ErrorType {
			if err, ok := f.Interface.(error); ok {
				errText = err.Error()
				continue
			}
		}
		f.AddTo(enc)
		pairs = append(pairs, fmt.Sprintf("%s %v", f.Key, enc.Fields[f.Key]))
	}
	level := e.Level.String()
	if e.Level == zapcore.WarnLevel {
		level = "warning"
	}
	line := "sissim: " + level + ": " + e.Message
	if len(pairs) > 0 {
		line += " (" + strings.Join(pairs, ", ") + ")"
	}
	if errText != "" {
		line += ": " + errText
	}
	_, err := io.WriteString(c.w, strings.ReplaceAll(line, "\n", " ")+"\n")
	return err
}

func (c *lineCore) Sync() error { return c.w.Sync() }
