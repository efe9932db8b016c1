package sis

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/kernel"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Version is the kernel version the shell reports.
const Version = "0.1.0"

// registerBuiltins registers the shell's own commands (in an order that
// does not matter: help lists them sorted).
func (s *Shell) registerBuiltins() {
	withSubs := func(name, usage string, subs func() []Subcommand) Command {
		return Command{Name: name, Usage: usage, Subs: subs(), Run: func(w io.Writer, args []string) error {
			return shellcmd.Dispatch(name, subs(), w, args)
		}}
	}
	for _, c := range []Command{
		{Name: "help", Usage: "help [<command> [<subcommand>]]  list the commands, or describe one", Run: s.cmdHelp},
		{Name: "version", Usage: "version  print the kernel version", Run: s.cmdVersion},
		{Name: "uptime", Usage: "uptime  time since boot", Run: s.cmdUptime},
		{Name: "ls", Usage: "ls [-l] [<path>]  list a directory (-l: type, mode, links, size, symlink targets)", Run: s.cmdLs},
		{Name: "cat", Usage: "cat [-x] <file>  print a file, up to 4 KiB (-x: as a hex dump)", Run: s.cmdCat},
		{Name: "echo", Usage: "echo [<text>...]  print the text", Run: cmdEcho, Text: true},
		{Name: "ps", Usage: "ps  list the processes: state, CPU time, threads", Run: s.cmdPs},
		{Name: "run", Usage: "run [--gdb <port>] <prog> [<arg>...] [&]  run a program from the file system and print its exit status (& runs it in the background; --gdb: under a debugger, gdb-multiarch's target remote 127.0.0.1:<port>)", Run: s.cmdRun},
		{Name: "kill", Usage: "kill [-SIGNAL] <pid>...  send a signal (SIGTERM by default) to processes", Run: s.cmdKill},
		{Name: "wait", Usage: "wait [<pid>...]  run the machine until background jobs exit or stop (Ctrl-C ends the wait)", Run: s.cmdWait},
		withSubs("metricsctl", "metricsctl  print changed METRIC lines after each command", s.metricsctlSubs),
		{Name: "jobs", Usage: "jobs  list the background jobs: running, stopped or done", Run: s.cmdJobs},
		{Name: "fg", Usage: "fg [<pid>]  continue a job (the newest by default) in the foreground", Run: s.cmdFg},
		{Name: "bg", Usage: "bg [<pid>]  continue a stopped job (the newest by default) in the background", Run: s.cmdBg},
		{Name: "memstats", Usage: "memstats  guest memory accounting", Run: s.cmdMemstats},
		withSubs("det", "det  a hard CBS+EDF reservation for processes", s.m.det.subs),
		{Name: "metrics", Usage: "metrics [prometheus|openmetrics|json|lines]  print the machine's metrics", Run: s.cmdMetrics},
		{Name: "clear", Usage: "clear  clear the terminal screen", Run: cmdClear},
		{Name: "exit", Usage: "exit [<status>]  leave the shell (status 0-255; by default 0, or 1 after a failed command of a script)", Run: cmdExit},
	} {
		if err := s.Register(c); err != nil {
			panic(err) // the built-in names are distinct constants
		}
	}
}

// errStream is where commands write notes that are not their output
// (the console's standard error, redirected by ExecStreams).
func (s *Shell) errStream() io.Writer { return s.m.Stderr() }

func (s *Shell) cmdHelp(w io.Writer, args []string) error {
	if len(args) > 0 {
		if len(args) > 2 {
			return shellcmd.ErrUsage
		}
		c, err := s.command(args[0])
		if err != nil {
			return err
		}
		return s.writeHelp(w, c, args[1:])
	}
	fmt.Fprintln(w, "Available commands:")
	for _, c := range s.Commands() {
		fmt.Fprintf(w, "  %s\n", s.usageOf(c))
	}
	fmt.Fprintln(w, "'help <command>' or '<command> help' describes a command and its subcommands.")
	return nil
}

func (s *Shell) cmdVersion(w io.Writer, args []string) error {
	if len(args) != 0 {
		return shellcmd.ErrUsage
	}
	fmt.Fprintf(w, "SIS Kernel %s (sissim, AArch64 on Unicorn %s, %s clock)\n", Version, cpu.Version(), s.m.Clock())
	fmt.Fprintf(w, "features: %s\n", s.m.Features())
	return nil
}

func cmdEcho(w io.Writer, args []string) error {
	if _, err := fmt.Fprintln(w, strings.Join(args, " ")); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	return nil
}

// clearScreen moves the cursor home and erases the screen and its
// scroll-back (ECMA-48, as clear(1) does on xterm-like terminals).
const clearScreen = "\x1b[H\x1b[2J\x1b[3J"

func cmdClear(w io.Writer, args []string) error {
	if len(args) != 0 {
		return shellcmd.ErrUsage
	}
	_, err := io.WriteString(w, clearScreen)
	return err
}

func cmdExit(w io.Writer, args []string) error {
	switch len(args) {
	case 0:
		fmt.Fprintln(w, "Goodbye!")
		return ErrExit
	case 1:
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 || n > 255 {
			return shellcmd.BadArgs("exit: status %q is not a number from 0 to 255", args[0])
		}
		fmt.Fprintln(w, "Goodbye!")
		return &ExitError{Code: n}
	}
	return shellcmd.BadArgs("exit: too many arguments")
}

func (s *Shell) cmdUptime(w io.Writer, args []string) error {
	if len(args) != 0 {
		return shellcmd.ErrUsage
	}
	d := s.m.Now()
	fmt.Fprintf(w, "up %s (%d ms, %d instructions)\n", d.Truncate(time.Microsecond), d.Milliseconds(), s.m.Insns())
	return nil
}

func (s *Shell) cmdMemstats(w io.Writer, args []string) error {
	if len(args) != 0 {
		return shellcmd.ErrUsage
	}
	ms := s.m.MemStats()
	size := s.m.MemSize()
	fmt.Fprintf(w, "ram:    %d KiB used of %d KiB (%.1f%%), peak %d KiB\n", ms.Used/1024, size/1024, 100*float64(ms.Used)/float64(max(size, 1)), ms.Peak/1024)
	fmt.Fprintf(w, "mapped: %d KiB (virtual, every address space)\n", ms.Mapped/1024)
	fmt.Fprintf(w, "allocs: %d  frees: %d  failures: %d\n", ms.Allocs, ms.Frees, ms.Failures)
	fmt.Fprintf(w, "oom kills: %d\n", s.m.OOMKills())
	fmt.Fprintf(w, "processes: %d\n", len(s.m.Processes()))
	return nil
}

func (s *Shell) cmdMetrics(w io.Writer, args []string) error {
	format := "prometheus"
	if len(args) > 1 {
		return shellcmd.BadArgs("metrics: too many arguments")
	}
	if len(args) == 1 {
		format = args[0]
	}
	mt := s.m.Metrics()
	switch format {
	case "prometheus":
		return mt.WritePrometheus(w)
	case "openmetrics":
		return mt.WriteOpenMetrics(w)
	case "json":
		return mt.WriteJSON(w)
	case "lines":
		if err := mt.WriteLines(w); err != nil {
			return err
		}
		fmt.Fprintln(w, "CMD_DONE")
		return nil
	}
	return shellcmd.BadArgs("metrics: unknown format %q", format)
}

func (s *Shell) metricsctlSubs() []Subcommand {
	state := func(w io.Writer) {
		fmt.Fprintf(w, "metrics streaming: %s\n", onOff(s.streamOn))
	}
	return []Subcommand{
		{Name: "on", Usage: "on  print the METRIC lines that changed after each command", Run: noArgs(func(w io.Writer) error {
			s.streamOn = true
			s.lastLine = nil
			state(w)
			return nil
		})},
		{Name: "off", Usage: "off  stop printing METRIC lines", Run: noArgs(func(w io.Writer) error {
			s.streamOn = false
			state(w)
			return nil
		})},
		{Name: "status", Usage: "status  whether METRIC lines are printed", Run: noArgs(func(w io.Writer) error {
			state(w)
			return nil
		})},
	}
}

// noArgs is a subcommand that takes no arguments.
func noArgs(f func(w io.Writer) error) CommandFunc {
	return func(w io.Writer, args []string) error {
		if len(args) != 0 {
			return shellcmd.BadArgs("unexpected argument %q", args[0])
		}
		return f(w)
	}
}

func (s *Shell) cmdRun(w io.Writer, args []string) error {
	gdbAddr, args, err := gdbFlag(args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return shellcmd.ErrUsage
	}
	background := args[len(args)-1] == "&"
	if background {
		args = args[:len(args)-1]
		if len(args) == 0 {
			return shellcmd.BadArgs("run: no program before &")
		}
	}
	p := args[0]
	if !strings.HasPrefix(p, "/") {
		p = "/bin/" + p
	}
	proc, err := s.m.Spawn(kernel.ProcessSpec{Path: p, Argv: args, Env: []string{"PATH=/bin", "HOME=/", "TERM=vt100"}})
	if err != nil {
		var ee *kernel.ExecError
		if errors.As(err, &ee) {
			return fmt.Errorf("run %s: %s", args[0], ee.Reason)
		}
		return fmt.Errorf("run %s: %w", args[0], err)
	}
	if background {
		s.startJob(w, proc)
		return nil
	}
	if gdbAddr != "" {
		srv, err := s.serveGDB(w, proc, gdbAddr)
		if err != nil {
			proc.Signal(linux.SIGKILL)
			proc.Wait()
			return err
		}
		defer srv.Close() // the debugger is told of the exit, then goes
	}
	return s.waitForeground(w, proc, "run "+args[0])
}

// waitForeground runs the machine until the foreground program p exits,
// and prints its status; a program stopped by Ctrl-Z (or SIGSTOP) becomes
// a background job that fg and bg continue.
func (s *Shell) waitForeground(w io.Writer, p *kernel.Process, what string) error {
	status, err := p.Wait()
	var se *kernel.StoppedError
	if errors.As(err, &se) && !p.Exited() {
		fmt.Fprintln(w)
		s.addJob(p)
		fmt.Fprintf(w, "[pid %d] stopped (%s); fg continues it\n", p.PID, se.Signal)
		return nil
	}
	if status.Signal == linux.SIGINT {
		fmt.Fprintln(w) // after the terminal's ^C
	}
	if status.Report != "" {
		fmt.Fprintf(w, "[pid %d] %s\n", p.PID, status.Report)
		io.WriteString(w, status.Detail)
	}
	fmt.Fprintf(w, "[pid %d] %s\n", p.PID, status)
	if err != nil {
		return fmt.Errorf("%s: kernel error: %w", what, err)
	}
	if status.ShellCode() != 0 {
		return fmt.Errorf("%s: %s", what, status)
	}
	return nil
}

// pathArg makes a shell path argument absolute (relative to /).
func pathArg(p string) string { return path.Clean("/" + p) }

// shortFlags splits leading single-letter flags (of allowed) off args.
func shortFlags(cmd string, args []string, allowed string) (flags map[rune]bool, rest []string, err error) {
	flags = map[rune]bool{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		if args[0] == "--" {
			return flags, args[1:], nil
		}
		for _, r := range args[0][1:] {
			if !strings.ContainsRune(allowed, r) {
				return nil, nil, shellcmd.BadArgs("%s: unknown option -%c", cmd, r)
			}
			flags[r] = true
		}
		args = args[1:]
	}
	return flags, args, nil
}

// fileError says which command failed on which file: "ls: /x: No such
// file or directory" rather than the VFS's "lstat /x: ...".
func fileError(cmd string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %w", cmd, pe.Path, pe.Err)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}
