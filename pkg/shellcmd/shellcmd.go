// Package shellcmd is what the commands of the sis> shell share, whoever
// provides them (the kernel or a SIS service): the command and subcommand
// types, one usage error, one subcommand dispatcher with its help, and the
// reading of synopses that help, completion and the reference use.
//
// A usage line is one line, "NAME ARGS  WHAT": the synopsis, two spaces,
// and what the command does ("ls [-l] [path]  list a directory"). In a
// synopsis, `--flag` words are flags, `a|b` are alternatives, `[x]` is
// optional, `x...` repeats, and the placeholders <path>, <file>, <dir>,
// <prog>, <pid> and <version> name guest paths, programs, process ids and
// model versions (completion offers them).
package shellcmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Func runs a command: args are the words after the command (or
// subcommand) name; output goes to w. A returned error makes the command
// fail; the shell prints it on its error stream.
type Func func(w io.Writer, args []string) error

// Command is a shell command.
type Command struct {
	Name  string
	Usage string // one line: "NAME ARGS  WHAT"
	Run   Func
	// Feature is the feature that enables the command ("" for the core).
	Feature string
	// Subs are the subcommands, for help, completion and the reference
	// (Run dispatches them, usually with Dispatch).
	Subs []Sub
	// Text says the arguments are free text: `CMD help` reaches Run.
	Text bool
	// Values returns the values of a placeholder kind that only the
	// command's service knows ("version": the model versions), for
	// completion; nil or an unknown kind: none.
	Values func(kind string) []string
}

// Sub is a subcommand.
type Sub struct {
	Name  string
	Usage string // one line: "NAME ARGS  WHAT", without the command's name
	Run   Func
	// Feature is the feature that enables the subcommand ("" for always).
	Feature string
}

// Syntax returns the synopsis of a usage line: "ls [-l] [path]" of
// "ls [-l] [path]  list a directory".
func Syntax(usage string) string {
	s, _, _ := strings.Cut(usage, "  ")
	return strings.TrimSpace(s)
}

// Summary returns what a usage line says the command does.
func Summary(usage string) string {
	_, s, _ := strings.Cut(usage, "  ")
	return strings.TrimSpace(s)
}

// ErrUsage matches every usage error (errors.Is): the arguments were
// wrong. The shell prints a usage error as "error: DETAIL" and
// "usage: SYNTAX".
var ErrUsage = errors.New("usage")

// UsageError is a usage error saying what was wrong and with which
// synopsis. An empty Syntax is filled in by the dispatcher (the
// subcommand's) or the shell (the command's).
type UsageError struct {
	Detail string // what was wrong: `"x" is not a number`; "" for "invalid arguments"
	Syntax string // the synopsis: "det on <wcet_ns> <period_ns> <deadline_ns>"
}

func (e *UsageError) Error() string {
	switch {
	case e.Detail != "" && e.Syntax != "":
		return e.Detail + " (usage: " + e.Syntax + ")"
	case e.Detail != "":
		return e.Detail
	case e.Syntax != "":
		return "usage: " + e.Syntax
	}
	return "usage"
}

// Is makes a UsageError match ErrUsage.
func (e *UsageError) Is(t error) bool { return t == ErrUsage }

// Usage returns a usage error showing syntax.
func Usage(syntax string) error { return &UsageError{Syntax: syntax} }

// BadArgs returns a usage error saying what was wrong; the dispatcher or
// the shell adds the synopsis.
func BadArgs(format string, a ...any) error {
	return &UsageError{Detail: fmt.Sprintf(format, a...)}
}

// AsUsage returns err's usage error with an empty detail replaced by a
// default ("NAME: invalid arguments", or "missing arguments" when there
// were none), a detail that does not name the command prefixed with
// "NAME: ", and an empty synopsis replaced by syntax. It returns nil for
// errors that are not usage errors.
func AsUsage(err error, name, syntax string, args []string) *UsageError {
	if !errors.Is(err, ErrUsage) {
		return nil
	}
	var u UsageError
	var ue *UsageError
	if errors.As(err, &ue) {
		u = *ue
	} else if msg := err.Error(); msg != ErrUsage.Error() {
		// A wrapped ErrUsage ("usage: ..." or "...: usage") says
		// something of its own.
		msg = strings.TrimPrefix(msg, ErrUsage.Error()+": ")
		u.Detail = strings.TrimSuffix(msg, ": "+ErrUsage.Error())
	}
	switch cmd, _, _ := strings.Cut(name, " "); {
	case u.Detail == "" && len(args) == 0:
		u.Detail = name + ": missing arguments"
	case u.Detail == "":
		u.Detail = name + ": invalid arguments"
	case !strings.Contains(u.Detail, cmd):
		u.Detail = name + ": " + u.Detail
	}
	if u.Syntax == "" {
		u.Syntax = syntax
	}
	return &u
}

// Find returns the subcommand name of subs.
func Find(subs []Sub, name string) (Sub, bool) {
	for _, s := range subs {
		if s.Name == name {
			return s, true
		}
	}
	return Sub{}, false
}

// SubsSyntax is the synopsis of command name with subcommands subs:
// "NAME a|b|c" ('help NAME' shows their arguments).
func SubsSyntax(name string, subs []Sub) string {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.Name
	}
	return name + " " + strings.Join(names, "|")
}

// IsHelp reports whether arg asks for help.
func IsHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help"
}

// Dispatch runs `name args...` as subcommand args[0] of subs. `name help
// [SUB]` writes the help; no or an unknown subcommand is a usage error
// with the list of subcommands; a usage error of the subcommand gets its
// synopsis.
func Dispatch(name string, subs []Sub, w io.Writer, args []string) error {
	if len(args) == 0 {
		return &UsageError{Detail: name + ": missing subcommand", Syntax: SubsSyntax(name, subs)}
	}
	if IsHelp(args[0]) {
		return WriteHelp(w, Command{Name: name, Usage: SubsSyntax(name, subs), Subs: subs}, args[1:])
	}
	sub, ok := Find(subs, args[0])
	if !ok {
		return &UsageError{Detail: fmt.Sprintf("%s: unknown subcommand %q", name, args[0]), Syntax: SubsSyntax(name, subs)}
	}
	if len(args) == 2 && IsHelp(args[1]) {
		return WriteHelp(w, Command{Name: name, Usage: SubsSyntax(name, subs), Subs: subs}, args[:1])
	}
	err := sub.Run(w, args[1:])
	if u := AsUsage(err, name+" "+sub.Name, name+" "+Syntax(sub.Usage), args[1:]); u != nil {
		return u
	}
	return err
}

// WriteHelp writes the help of c: with topic [SUB], the subcommand's
// synopsis and what it does; else the command's, and a line per
// subcommand.
func WriteHelp(w io.Writer, c Command, topic []string) error {
	if len(topic) > 1 {
		return &UsageError{Detail: "help: too many arguments", Syntax: "help [command [subcommand]]"}
	}
	if len(topic) == 1 {
		sub, ok := Find(c.Subs, topic[0])
		if !ok {
			return &UsageError{Detail: fmt.Sprintf("help: %s has no subcommand %q", c.Name, topic[0]), Syntax: SubsSyntax(c.Name, c.Subs)}
		}
		fmt.Fprintf(w, "usage: %s %s\n", c.Name, Syntax(sub.Usage))
		if s := Summary(sub.Usage); s != "" {
			fmt.Fprintf(w, "  %s\n", s)
		}
		return nil
	}
	syntax := Syntax(c.Usage)
	if len(c.Subs) > 0 {
		syntax = c.Name + " <subcommand> [args...]"
	}
	fmt.Fprintf(w, "usage: %s\n", syntax)
	if s := Summary(c.Usage); s != "" {
		fmt.Fprintf(w, "  %s\n", s)
	}
	if len(c.Subs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "subcommands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range c.Subs {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.Name, Syntax(s.Usage), Summary(s.Usage))
	}
	return tw.Flush()
}
