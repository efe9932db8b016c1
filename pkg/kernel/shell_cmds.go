package kernel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Version is the kernel version the shell reports.
const Version = "0.1.0"

// maxCat is how much of a file cat prints.
const maxCat = 4096

// registerBuiltins registers the kernel's own commands.
func (s *Shell) registerBuiltins() {
	for _, c := range []Command{
		{Name: "help", Usage: "help  list the available commands", Run: s.cmdHelp},
		{Name: "version", Usage: "version  print the kernel version", Run: s.cmdVersion},
		{Name: "echo", Usage: "echo [text...]  print the text", Run: cmdEcho},
		{Name: "uptime", Usage: "uptime  time since boot", Run: s.cmdUptime},
		{Name: "ls", Usage: "ls [path]  list a directory", Run: s.cmdLs},
		{Name: "cat", Usage: "cat <file>  print a file (up to 4 KiB)", Run: s.cmdCat},
		{Name: "ps", Usage: "ps  list the processes", Run: s.cmdPs},
		{Name: "run", Usage: "run <path> [args...] [&]  run a program from the file system and print its exit status (& runs it in the background)", Run: s.cmdRun},
		{Name: "kill", Usage: "kill [-SIGNAL] <pid...>  send a signal (SIGTERM by default) to processes", Run: s.cmdKill},
		{Name: "wait", Usage: "wait [pid...]  run the machine until background jobs exit", Run: s.cmdWait},
		{Name: "memstats", Usage: "memstats  guest memory accounting", Run: s.cmdMemstats},
		{Name: "metrics", Usage: "metrics [prometheus|json|lines]  print the machine's metrics", Run: s.cmdMetrics},
		{Name: "metricsctl", Usage: "metricsctl on|off|status  print changed METRIC lines after each command", Run: s.cmdMetricsctl},
		{Name: "det", Usage: "det on <wcet_ns> <period_ns> <deadline_ns>|off|status|reset  deterministic CBS+EDF scheduling", Run: s.cmdDet},
		{Name: "exit", Usage: "exit  leave the shell", Run: cmdExit},
	} {
		if err := s.Register(c); err != nil {
			panic(err) // the built-in names are distinct constants
		}
	}
}

func (s *Shell) cmdHelp(w io.Writer, args []string) error {
	fmt.Fprintln(w, "Available commands:")
	for _, c := range s.Commands() {
		fmt.Fprintf(w, "  %s\n", c.Usage)
	}
	return nil
}

func (s *Shell) cmdVersion(w io.Writer, args []string) error {
	fmt.Fprintf(w, "SIS Kernel %s (sissim, AArch64 on Unicorn %s, %s clock)\n", Version, cpu.Version(), s.m.cfg.Clock)
	fmt.Fprintf(w, "features: %s\n", s.m.Features())
	return nil
}

func cmdEcho(w io.Writer, args []string) error {
	fmt.Fprintln(w, strings.Join(args, " "))
	return nil
}

func cmdExit(w io.Writer, args []string) error {
	fmt.Fprintln(w, "Goodbye!")
	return ErrExit
}

func (s *Shell) cmdUptime(w io.Writer, args []string) error {
	d := s.m.Now()
	fmt.Fprintf(w, "up %s (%d ms, %d instructions)\n", d.Truncate(time.Microsecond), d.Milliseconds(), s.m.Insns())
	return nil
}

func (s *Shell) cmdLs(w io.Writer, args []string) error {
	p := "/"
	switch len(args) {
	case 0:
	case 1:
		p = path.Clean("/" + args[0])
	default:
		return ErrUsage
	}
	fi, err := s.m.fs.Stat(p)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Listing %s:\n", p)
	if !fi.IsDir() {
		fmt.Fprintf(w, "f %s\n", fi.Name())
		return nil
	}
	ents, err := s.m.fs.ReadDir(p)
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	for _, e := range ents {
		kind := "f"
		if e.Type == vfs.DTDir {
			kind = "d"
		}
		fmt.Fprintf(w, "%s %s\n", kind, e.Name)
	}
	return nil
}

func (s *Shell) cmdCat(w io.Writer, args []string) error {
	if len(args) != 1 {
		return ErrUsage
	}
	p := path.Clean("/" + args[0])
	if fi, err := s.m.fs.Stat(p); err != nil {
		return err
	} else if fi.IsDir() {
		return &fs.PathError{Op: "cat", Path: p, Err: errors.New("is a directory")}
	}
	f, err := s.m.fs.Open(p, linux.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, maxCat)
	n := 0
	for n < len(buf) { // VFS reads return 0 at end of file, as read(2)
		k, err := f.Read(buf[n:])
		n += k
		if errors.Is(err, io.EOF) || (err == nil && k == 0) {
			break
		}
		if err != nil {
			return err
		}
	}
	w.Write(buf[:n])
	if n > 0 && buf[n-1] != '\n' {
		fmt.Fprintln(w)
	}
	return nil
}

func (s *Shell) cmdPs(w io.Writer, args []string) error {
	fmt.Fprintf(w, "%5s %5s %10s %8s  %s\n", "PID", "PPID", "MEM(KiB)", "START", "COMMAND")
	for _, p := range s.m.Processes() {
		fmt.Fprintf(w, "%5d %5d %10d %7dms  %s\n", p.PID, p.PPID, p.RSS/1024, p.StartNs/1e6, strings.Join(p.Argv, " "))
	}
	return nil
}

func (s *Shell) cmdRun(w io.Writer, args []string) error {
	if len(args) == 0 {
		return ErrUsage
	}
	background := args[len(args)-1] == "&"
	if background {
		args = args[:len(args)-1]
		if len(args) == 0 {
			return ErrUsage
		}
	}
	p := args[0]
	if !strings.HasPrefix(p, "/") {
		p = "/bin/" + p
	}
	proc, err := s.m.Spawn(ProcessSpec{Path: p, Argv: args, Env: []string{"PATH=/bin", "HOME=/", "TERM=vt100"}})
	if err != nil {
		var ee *ExecError
		if errors.As(err, &ee) {
			return fmt.Errorf("run %s: %s", args[0], ee.Reason)
		}
		return fmt.Errorf("run %s: %w", args[0], err)
	}
	if background {
		s.startJob(w, proc)
		return nil
	}
	if s.beforeGuest != nil {
		s.beforeGuest()
	}
	status, err := proc.Wait()
	if s.afterGuest != nil {
		s.afterGuest()
	}
	s.m.accountExit(proc)
	if status.Signal == linux.SIGINT {
		fmt.Fprintln(w) // after the terminal's ^C
	}
	if status.Report != "" {
		fmt.Fprintf(w, "[pid %d] %s\n", proc.PID, status.Report)
	}
	fmt.Fprintf(w, "[pid %d] %s\n", proc.PID, status)
	if err != nil {
		return fmt.Errorf("run %s: kernel error: %w", args[0], err)
	}
	if status.ShellCode() != 0 {
		return errShown // the status line says it
	}
	return nil
}

func (s *Shell) cmdMemstats(w io.Writer, args []string) error {
	ms := s.m.MemStats()
	fmt.Fprintf(w, "mapped: %d bytes (%d KiB)\n", ms.Mapped, ms.Mapped/1024)
	fmt.Fprintf(w, "peak:   %d bytes (%d KiB)\n", ms.Peak, ms.Peak/1024)
	fmt.Fprintf(w, "allocs: %d  frees: %d  failures: %d\n", ms.Allocs, ms.Frees, ms.Failures)
	fmt.Fprintf(w, "processes: %d\n", len(s.m.Processes()))
	return nil
}

func (s *Shell) cmdMetrics(w io.Writer, args []string) error {
	format := "prometheus"
	if len(args) > 1 {
		return ErrUsage
	}
	if len(args) == 1 {
		format = args[0]
	}
	mt := s.m.Metrics()
	switch format {
	case "prometheus":
		return mt.WritePrometheus(w)
	case "json":
		return mt.WriteJSON(w)
	case "lines":
		if err := mt.WriteLines(w); err != nil {
			return err
		}
		fmt.Fprintln(w, "CMD_DONE")
		return nil
	}
	return ErrUsage
}

func (s *Shell) cmdMetricsctl(w io.Writer, args []string) error {
	if len(args) != 1 {
		return ErrUsage
	}
	switch args[0] {
	case "on":
		s.streamOn = true
		s.lastLine = nil
		fmt.Fprintln(w, "metrics streaming: on")
	case "off":
		s.streamOn = false
		fmt.Fprintln(w, "metrics streaming: off")
	case "status":
		state := "off"
		if s.streamOn {
			state = "on"
		}
		fmt.Fprintf(w, "metrics streaming: %s\n", state)
	default:
		return ErrUsage
	}
	return nil
}

func (s *Shell) cmdDet(w io.Writer, args []string) error {
	out := s.m.Det().Command(args, s.m.clock.Now())
	if strings.HasPrefix(out, "Usage:") {
		return ErrUsage
	}
	fmt.Fprintln(w, out)
	if out == "[DET] rejected" {
		return errShown
	}
	return nil
}
