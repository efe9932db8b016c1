package sis

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/sis-kernel/sissim/pkg/kernel"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// ShellBanner is printed when the interactive shell starts.
const ShellBanner = "\n=== SIS Kernel Shell ===\nType 'help' for available commands\n\n"

// ShellPrompt is the shell's prompt.
const ShellPrompt = "sis> "

// MaxShellLine is the longest command the shell accepts, in bytes.
const MaxShellLine = 256

// CommandFunc runs a shell command: args are the words after the command
// name, output goes to w. A returned error makes the command fail; the
// shell prints it on its error stream.
type CommandFunc = shellcmd.Func

// Command is a shell command the kernel or a service registers.
type Command = shellcmd.Command

// Subcommand is one subcommand of a command that several services share
// (llmctl: the LLM service, the model registry and the shadow agent each
// add theirs).
type Subcommand = shellcmd.Sub

// ErrExit is returned by the exit command: the shell stops. `exit N`
// returns an *ExitError, which matches it.
var ErrExit = errors.New("exit")

// ExitError is returned by `exit N`: the shell stops with status Code.
type ExitError struct{ Code int }

func (e *ExitError) Error() string   { return fmt.Sprintf("exit %d", e.Code) }
func (e *ExitError) Is(t error) bool { return t == ErrExit }

// Shell is the machine's `sis>` kernel shell: a thin dispatcher over the
// commands the kernel and its services register.
type Shell struct {
	m *System

	mu     sync.Mutex
	cmds   map[string]Command
	off    map[string]string       // command ("cmd" or "cmd sub") of a service not started -> its feature
	jobs   map[int]*kernel.Process // background jobs by pid (shell_jobs.go)
	term   bool                    // output goes to a terminal (SetTerminal)
	shared map[string]bool         // commands made by RegisterSub

	lineMu   sync.Mutex // one ExecTo at a time (it redirects the console)
	execMu   sync.Mutex // one command at a time; MetricsHandler tries it
	streamOn bool       // metricsctl on: print changed METRIC lines after commands
	lastLine map[string]string
}

func newShell(m *System) *Shell {
	s := &Shell{m: m, cmds: map[string]Command{}}
	s.registerBuiltins()
	return s
}

// SetTerminal says whether the shell's output goes to a terminal: then
// cat refuses to print binary files and clear clears the screen.
func (s *Shell) SetTerminal(on bool) {
	s.mu.Lock()
	s.term = on
	s.mu.Unlock()
}

func (s *Shell) terminal() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term
}

// Register adds a command; a name may be registered once.
func (s *Shell) Register(c Command) error {
	if c.Name == "" || strings.ContainsAny(c.Name, " \t;#") || c.Run == nil {
		return fmt.Errorf("shell: invalid command %q", c.Name)
	}
	if strings.Contains(c.Usage, "\n") {
		return fmt.Errorf("shell: usage of %q must be one line", c.Name)
	}
	for _, sub := range c.Subs {
		if err := checkSub(c.Name, sub); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.cmds[c.Name]; dup {
		return fmt.Errorf("shell: command %q already registered", c.Name)
	}
	s.cmds[c.Name] = c
	return nil
}

func checkSub(name string, sub Subcommand) error {
	if sub.Name == "" || strings.ContainsAny(sub.Name, " \t;#") || shellcmd.IsHelp(sub.Name) || strings.Contains(sub.Usage, "\n") {
		return fmt.Errorf("shell: invalid subcommand %q of %q", sub.Name, name)
	}
	return nil
}

// sharedSummaries say what the commands that several services build with
// RegisterSub do.
var sharedSummaries = map[string]string{
	"llmctl": "the LLM service, its models and their shadow deployment",
}

// RegisterSub adds subcommand sub to command name, creating the command
// (with feature "") on first use. The command runs `name sub args...` as
// sub.Run(w, args) and answers `name help` with the enabled subcommands.
func (s *Shell) RegisterSub(name string, sub Subcommand) error {
	if err := checkSub(name, sub); err != nil || sub.Run == nil {
		return fmt.Errorf("shell: invalid subcommand %q of %q", sub.Name, name)
	}
	s.mu.Lock()
	c, ok := s.cmds[name]
	if ok {
		if !s.shared[name] {
			s.mu.Unlock()
			return fmt.Errorf("shell: command %q already registered", name)
		}
		if _, dup := shellcmd.Find(c.Subs, sub.Name); dup {
			s.mu.Unlock()
			return fmt.Errorf("shell: subcommand %q of %q already registered", sub.Name, name)
		}
		c.Subs = append(c.Subs, sub)
		sort.Slice(c.Subs, func(i, j int) bool { return c.Subs[i].Name < c.Subs[j].Name })
		s.cmds[name] = c
		s.mu.Unlock()
		return nil
	}
	if s.shared == nil {
		s.shared = map[string]bool{}
	}
	s.shared[name] = true
	s.mu.Unlock()
	summary := sharedSummaries[name]
	if summary == "" {
		summary = "subcommands of the SIS services"
	}
	return s.Register(Command{Name: name, Usage: name + "  " + summary, Subs: []Subcommand{sub},
		Run: func(w io.Writer, args []string) error { return s.runSub(name, w, args) }})
}

// runSub dispatches `name sub args...` of a RegisterSub command.
func (s *Shell) runSub(name string, w io.Writer, args []string) error {
	s.mu.Lock()
	c := s.cmds[name]
	off := ""
	if len(args) > 0 {
		off = s.off[name+" "+args[0]]
	}
	s.mu.Unlock()
	if len(args) > 0 {
		sub, ok := shellcmd.Find(c.Subs, args[0])
		if !ok && off != "" {
			return disabledError(name+" "+args[0], off)
		}
		if ok && !s.m.Features().Enabled(sub.Feature) {
			return disabledError(name+" "+sub.Name, sub.Feature)
		}
	}
	return shellcmd.Dispatch(name, s.enabledSubs(c), w, args)
}

// enabledSubs returns the subcommands of c whose feature is enabled.
func (s *Shell) enabledSubs(c Command) []Subcommand {
	var out []Subcommand
	for _, sub := range c.Subs {
		if s.m.Features().Enabled(sub.Feature) {
			out = append(out, sub)
		}
	}
	return out
}

// usageOf is c's usage line as help shows it: a command with
// subcommands lists them (when they fit on a line).
func (s *Shell) usageOf(c Command) string {
	if len(c.Subs) == 0 {
		return c.Usage
	}
	syntax := shellcmd.SubsSyntax(c.Name, s.enabledSubs(c))
	if len(syntax) > 60 {
		syntax = c.Name + " <subcommand>"
	}
	return syntax + "  " + shellcmd.Summary(c.Usage)
}

// Commands returns the enabled commands sorted by name.
func (s *Shell) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Command, 0, len(s.cmds))
	for _, c := range s.cmds {
		if s.m.Features().Enabled(c.Feature) || c.Feature == "" {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// command returns the enabled command name, or why there is none.
func (s *Shell) command(name string) (Command, error) {
	s.mu.Lock()
	c, ok := s.cmds[name]
	off := s.off[name]
	s.mu.Unlock()
	switch {
	case !ok && off != "":
		return c, disabledError(name, off)
	case !ok:
		return c, &unknownCommandError{name: name}
	case c.Feature != "" && !s.m.Features().Enabled(c.Feature):
		return c, disabledError(c.Name, c.Feature)
	}
	return c, nil
}

// Exec runs a script (commands separated by ';' or newlines) and returns
// everything it printed, errors and guest output included. The error is
// the first failure; later commands still run, except after exit.
func (s *Shell) Exec(script string) (string, error) {
	var buf bytes.Buffer
	err := s.ExecTo(&buf, script)
	return buf.String(), err
}

// ExecTo is Exec writing output and errors to w.
func (s *Shell) ExecTo(w io.Writer, script string) error {
	return s.ExecStreams(w, w, script)
}

// ExecStreams runs a script, writing output (guests' standard output
// included) to out and errors (and guests' standard error) to errOut.
// Commands are separated by ';' and newlines; '#' starts a comment; single
// and double quotes group words. A failed command prints "error: ..." on
// errOut (and "usage: ..." for bad arguments); the error returned is the
// first failure. `exit` stops the script: the error then matches ErrExit
// (joined with the first failure, if any).
func (s *Shell) ExecStreams(out, errOut io.Writer, script string) error {
	s.lineMu.Lock()
	defer s.lineMu.Unlock()
	defer s.m.RedirectConsole(out, errOut)()
	var first error
	for _, c := range parseScript(script) {
		err := s.runCommand(out, errOut, c)
		if errors.Is(err, ErrExit) {
			if first == nil {
				return err
			}
			return errors.Join(first, err)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// runCommand runs one command and prints its error, if any.
func (s *Shell) runCommand(out, errOut io.Writer, c scriptCommand) error {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	err := c.err
	if err == nil {
		err = s.dispatch(out, c.words)
	}
	s.reportJobs(out, errOut)
	if err != nil && !errors.Is(err, ErrExit) {
		s.printError(errOut, c.words, err)
	}
	if s.streamOn {
		s.streamMetrics(out, errOut)
	}
	return err
}

// printError prints a failure: "error: ...", then the synopsis of a
// usage error or the hint of an unknown command.
func (s *Shell) printError(w io.Writer, words []string, err error) {
	oneLine := func(e error) string { return strings.ReplaceAll(e.Error(), "\n", " ") }
	var u *shellcmd.UsageError
	if errors.As(err, &u) {
		fmt.Fprintf(w, "error: %s\nusage: %s\n", strings.ReplaceAll(u.Detail, "\n", " "), u.Syntax)
		return
	}
	fmt.Fprintf(w, "error: %s\n", oneLine(err))
	if errors.Is(err, errUnknownCommand) {
		fmt.Fprintln(w, "Type 'help' for available commands")
	}
}

//lint:ignore ST1005 SIS prints it so
var errUnknownCommand = errors.New("Unknown command")

// unknownCommandError names the command; it prints as SIS prints it.
type unknownCommandError struct{ name string }

func (e *unknownCommandError) Error() string   { return "Unknown command: " + e.name }
func (e *unknownCommandError) Is(t error) bool { return t == errUnknownCommand }

// disabledError says which feature enables command name.
func disabledError(name, feature string) error {
	return fmt.Errorf("%s: disabled; the %s feature enables it (--features %s)", name, feature, feature)
}

// disable records commands of a service that did not start because
// feature is off (StartServices).
func (s *Shell) disable(names []string, feature string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off == nil {
		s.off = map[string]string{}
	}
	for _, n := range names {
		if _, ok := s.off[n]; !ok {
			s.off[n] = feature
		}
	}
}

// dispatch runs the command of words: `CMD help|-h|--help [SUB]` and
// `CMD SUB help` print the help; a usage error gets the synopsis.
func (s *Shell) dispatch(w io.Writer, words []string) error {
	if len(words) == 0 {
		return nil
	}
	c, err := s.command(words[0])
	if err != nil {
		return err
	}
	args := words[1:]
	if !c.Text {
		switch {
		case len(args) >= 1 && len(args) <= 2 && shellcmd.IsHelp(args[0]):
			return s.writeHelp(w, c, args[1:])
		case len(args) == 2 && shellcmd.IsHelp(args[1]):
			if _, ok := shellcmd.Find(c.Subs, args[0]); ok {
				return s.writeHelp(w, c, args[:1])
			}
		}
	}
	err = c.Run(w, args)
	syntax := shellcmd.Syntax(c.Usage)
	if len(c.Subs) > 0 {
		syntax = shellcmd.SubsSyntax(c.Name, s.enabledSubs(c))
	}
	if u := shellcmd.AsUsage(err, c.Name, syntax, args); u != nil {
		return u
	}
	return err
}

// writeHelp writes the help of c, or of its subcommand topic[0].
func (s *Shell) writeHelp(w io.Writer, c Command, topic []string) error {
	c.Subs = s.enabledSubs(c)
	if len(c.Subs) == 0 {
		c.Usage = s.usageOf(c)
	}
	return shellcmd.WriteHelp(w, c, topic)
}

// MetricsHandler serves the machine's metrics over HTTP
// (System.MetricsHandler). While a command runs a scrape serves the copy
// the machine published (at most 50 ms of machine time old); between
// commands, when the machine is idle, it first publishes fresh values
// (in realtime mode uptime moves at the prompt too).
func (s *Shell) MetricsHandler() http.Handler {
	h := s.m.MetricsHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.execMu.TryLock() {
			s.m.metrics.Publish(s.m.metricsSnapshot())
			s.execMu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// streamMetrics prints the METRIC lines whose value changed since the last
// time (metricsctl on).
func (s *Shell) streamMetrics(w, errOut io.Writer) {
	var buf bytes.Buffer
	if err := s.m.Metrics().WriteLines(&buf); err != nil {
		fmt.Fprintf(errOut, "error: metrics: %v\n", err)
		return
	}
	if s.lastLine == nil {
		s.lastLine = map[string]string{}
	}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		name, _, _ := strings.Cut(l, "=")
		if s.lastLine[name] != l {
			s.lastLine[name] = l
			fmt.Fprintln(w, l)
		}
	}
}
