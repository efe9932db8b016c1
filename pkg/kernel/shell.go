package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// ShellBanner is printed when the interactive shell starts.
const ShellBanner = "\n=== SIS Kernel Shell ===\nType 'help' for available commands\n\n"

// ShellPrompt is the shell's prompt.
const ShellPrompt = "sis> "

// MaxShellLine is the longest command line the shell accepts, in bytes.
const MaxShellLine = 256

// CommandFunc runs a shell command: args are the words after the command
// name, output goes to w. A returned error is printed as one line and makes
// the command count as failed.
type CommandFunc func(w io.Writer, args []string) error

// Command is a shell command a service registers.
type Command struct {
	Name  string
	Usage string // one line: arguments and what it does ("ls <path>  list a directory")
	Run   CommandFunc
	// Feature is the feature that enables the command ("" for the core).
	Feature string
}

// ErrExit is returned by the exit command: the shell stops.
var ErrExit = errors.New("exit")

// ErrUsage is returned by a command given bad arguments; the shell prints
// the command's usage line.
var ErrUsage = errors.New("usage")

// errShown is a failure whose message the command has printed already.
var errShown = errors.New("command failed")

// Shell is the machine's `sis>` kernel shell: a thin dispatcher over the
// commands the kernel and its services register.
type Shell struct {
	m *Machine

	mu   sync.Mutex
	cmds map[string]Command
	subs map[string]map[string]Subcommand // command -> subcommand (RegisterSub)
	off  map[string]string                // command ("cmd" or "cmd sub") of a service not started -> its feature
	jobs map[int]*Process                 // background jobs by pid (shell_jobs.go)

	lineMu   sync.Mutex // one ExecTo at a time (it redirects the console)
	execMu   sync.Mutex // one command at a time; MetricsHandler tries it
	streamOn bool       // metricsctl on: print changed METRIC lines after commands
	lastLine map[string]string
	// guestHooks run around guest execution (the terminal leaves raw mode).
	beforeGuest, afterGuest func()
}

// Shell returns the machine's shell.
func (m *Machine) Shell() *Shell { return m.sis().shell }

func newShell(m *Machine) *Shell {
	s := &Shell{m: m, cmds: map[string]Command{}}
	s.registerBuiltins()
	return s
}

// Register adds a command; a name may be registered once.
func (s *Shell) Register(c Command) error {
	if c.Name == "" || strings.ContainsAny(c.Name, " \t;") || c.Run == nil {
		return fmt.Errorf("shell: invalid command %q", c.Name)
	}
	if strings.Contains(c.Usage, "\n") {
		return fmt.Errorf("shell: usage of %q must be one line", c.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.cmds[c.Name]; dup {
		return fmt.Errorf("shell: command %q already registered", c.Name)
	}
	s.cmds[c.Name] = c
	return nil
}

// Subcommand is one subcommand of a command that several services share
// (llmctl: the LLM service, the model registry and the shadow agent each
// add theirs).
type Subcommand struct {
	Name  string
	Usage string // one line: arguments and what it does ("status  show the counters")
	Run   CommandFunc
	// Feature is the feature that enables the subcommand ("" for always).
	Feature string
}

// RegisterSub adds subcommand sub to command name, creating the command
// (with feature "" and a usage line listing its subcommands) on first use.
// The command runs `name sub args...` as sub.Run(w, args) and answers
// `name help` with the subcommands' usage lines.
func (s *Shell) RegisterSub(name string, sub Subcommand) error {
	if sub.Name == "" || strings.ContainsAny(sub.Name, " \t;") || sub.Run == nil || sub.Name == "help" {
		return fmt.Errorf("shell: invalid subcommand %q of %q", sub.Name, name)
	}
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[string]map[string]Subcommand{}
	}
	subs, ok := s.subs[name]
	if !ok {
		subs = map[string]Subcommand{}
		s.subs[name] = subs
	}
	if _, dup := subs[sub.Name]; dup {
		s.mu.Unlock()
		return fmt.Errorf("shell: subcommand %q of %q already registered", sub.Name, name)
	}
	subs[sub.Name] = sub
	s.mu.Unlock()
	if ok {
		s.updateSubUsage(name)
		return nil
	}
	err := s.Register(Command{Name: name, Run: func(w io.Writer, args []string) error {
		return s.runSub(name, w, args)
	}})
	s.updateSubUsage(name)
	return err
}

// updateSubUsage sets the usage line of a shared command to the list of
// its subcommands.
func (s *Shell) updateSubUsage(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cmds[name]
	c.Usage = fmt.Sprintf("%s %s  ('%s help' lists the subcommands)", name, strings.Join(sortedKeys(s.subs[name]), "|"), name)
	s.cmds[name] = c
}

// runSub dispatches `name sub args...`.
func (s *Shell) runSub(name string, w io.Writer, args []string) error {
	s.mu.Lock()
	subs := s.subs[name]
	var sub Subcommand
	ok, off := false, ""
	if len(args) > 0 {
		sub, ok = subs[args[0]]
		off = s.off[name+" "+args[0]]
	}
	var names []string
	for _, n := range sortedKeys(subs) {
		if s.m.Features().Enabled(subs[n].Feature) {
			names = append(names, n)
		}
	}
	s.mu.Unlock()
	if !ok && off != "" {
		return disabledError(name+" "+args[0], off)
	}
	if ok && !s.m.Features().Enabled(sub.Feature) {
		return disabledError(name+" "+sub.Name, sub.Feature)
	}
	if ok {
		return sub.Run(w, args[1:])
	}
	if len(args) > 0 && args[0] != "help" {
		fmt.Fprintf(w, "Unknown %s subcommand: %s\n", name, args[0])
	}
	fmt.Fprintf(w, "Usage: %s <subcommand>\n", name)
	for _, n := range names {
		fmt.Fprintf(w, "  %s %s\n", name, subs[n].Usage)
	}
	if len(args) > 0 && args[0] == "help" {
		return nil
	}
	return errShown
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// Exec runs a command line (commands separated by ';') and returns
// everything it printed, guest output included. The error is the first
// failure; later commands still run, except after exit.
func (s *Shell) Exec(line string) (string, error) {
	var buf bytes.Buffer
	err := s.ExecTo(&buf, line)
	return buf.String(), err
}

// ExecTo is Exec writing to w. Guest output is redirected to w while the
// commands run.
func (s *Shell) ExecTo(w io.Writer, line string) error {
	s.lineMu.Lock()
	defer s.lineMu.Unlock()
	st := s.m.sis()
	defer st.stdout.redirect(w)()
	defer st.stderr.redirect(w)()
	var first error
	for _, part := range splitCommands(line) {
		err := s.runLine(w, part)
		if errors.Is(err, ErrExit) {
			if first == nil {
				return ErrExit
			}
			return errors.Join(first, ErrExit)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// splitCommands splits a line at ';' outside quotes.
func splitCommands(line string) []string {
	var parts []string
	var quote rune
	start := 0
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ';':
			parts = append(parts, line[start:i])
			start = i + 1
		}
	}
	return append(parts, line[start:])
}

// runLine runs one command and prints its error, if any, as one line.
// Empty lines do nothing.
func (s *Shell) runLine(w io.Writer, line string) error {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	err := s.dispatch(w, line)
	s.reportJobs(w)
	if err != nil && !errors.Is(err, ErrExit) && !errors.Is(err, errShown) {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		if errors.Is(err, errUnknownCommand) {
			fmt.Fprintf(w, "%s\nType 'help' for available commands\n", msg)
		} else {
			fmt.Fprintf(w, "error: %s\n", msg)
		}
	}
	if s.streamOn {
		s.streamMetrics(w)
	}
	return err
}

var errUnknownCommand = errors.New("unknown command")

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

func (s *Shell) dispatch(w io.Writer, line string) error {
	if len(line) > MaxShellLine {
		return fmt.Errorf("line too long (%d bytes; the limit is %d)", len(line), MaxShellLine)
	}
	for _, r := range line {
		if r == 0xfffd || (r < 0x20 && r != '\t') || r == 0x7f {
			return fmt.Errorf("line contains a control or invalid byte")
		}
	}
	words, err := splitWords(line)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return nil
	}
	s.mu.Lock()
	c, ok := s.cmds[words[0]]
	off := s.off[words[0]]
	s.mu.Unlock()
	if !ok && off != "" {
		return disabledError(words[0], off)
	}
	if !ok {
		return &unknownCommandError{name: words[0]}
	}
	if c.Feature != "" && !s.m.Features().Enabled(c.Feature) {
		return disabledError(c.Name, c.Feature)
	}
	err = c.Run(w, words[1:])
	if errors.Is(err, ErrUsage) {
		return fmt.Errorf("usage: %s", c.Usage)
	}
	return err
}

// splitWords splits a command line into words; single and double quotes
// group words (no escapes inside).
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// MetricsHandler serves the machine's metrics over HTTP. A scrape while a
// command runs serves the values gathered after the previous command.
func (s *Shell) MetricsHandler() http.Handler {
	return s.m.Metrics().Handler(s.execMu.TryLock, s.execMu.Unlock)
}

// streamMetrics prints the METRIC lines whose value changed since the last
// time (metricsctl on).
func (s *Shell) streamMetrics(w io.Writer) {
	var buf bytes.Buffer
	if err := s.m.Metrics().WriteLines(&buf); err != nil {
		fmt.Fprintf(w, "error: metrics: %v\n", err)
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
