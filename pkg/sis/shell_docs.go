package sis

import (
	"fmt"
	"io"
	"strings"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// WriteShellReference writes the Markdown reference of the shell's
// registered commands and subcommands, the services' included
// (docs/shell.md is generated from it).
func (s *Shell) WriteShellReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`# Shell command reference

<!-- Generated from the registered shell commands by
     ` + "`go test ./pkg/sis -run TestDocs -update`" + `. Do not edit. -->

The ` + "`sis>`" + ` kernel shell: ` + "`sissim`" + ` (or ` + "`sissim boot`" + `) boots to it;
` + "`sissim shell -c 'cmd; cmd'`" + ` and commands piped to ` + "`sissim shell`" + ` run
non-interactively; embedding Go code calls ` + "`machine.Shell().Exec(\"cmd\")`" + `.

## Scripts

Commands are separated by ` + "`;`" + ` or newlines (in ` + "`-c`" + ` and on standard
input alike); ` + "`#`" + ` at the start of a word starts a comment that runs to
the end of the line; blank lines do nothing. Single or double quotes group
words (no escapes inside). A command is at most 256 bytes.

A command's output goes to standard output. A failed command prints
` + "`error: ...`" + ` on standard error (bad arguments add a ` + "`usage: ...`" + ` line with
the synopsis; an unknown command adds ` + "`Type 'help' for available commands`" + `)
and the script goes on. ` + "`sissim shell`" + ` exits with status 1 when a command
failed, else 0; ` + "`exit N`" + ` stops the script with status N.

` + "`help`" + ` lists the commands; ` + "`help CMD`" + `, ` + "`CMD help`" + ` and ` + "`CMD --help`" + ` describe
one, ` + "`help CMD SUB`" + ` and ` + "`CMD SUB help`" + ` one of its subcommands.

## Interactive use

On a terminal the shell has a line editor: Left/Right, Home/End (Ctrl-A,
Ctrl-E), Delete, Ctrl-U/Ctrl-K/Ctrl-W to cut, Ctrl-L to clear the
screen, Up/Down for the history and Ctrl-R to search it, and Tab to
complete commands, subcommands, flags, guest paths, programs, process
ids and model versions. The history is kept in ` + "`$HOME/.sissim_history`" + `
(the last 1000 lines). Ctrl-C at the prompt drops the line; while a
guest runs it interrupts the guest (SIGINT), never the shell. Ctrl-D on
an empty line leaves the shell.

## Commands

A command of a service runs when its feature is enabled (` + "`--features`" + `);
otherwise it says which feature enables it.

| Command | Feature | What it does |
|---|---|---|
`)
	for _, c := range s.Commands() {
		feature := c.Feature
		if feature == "" {
			feature = "core"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", mdCode(shellcmd.Syntax(c.Usage)), feature, mdEscape(shellcmd.Summary(c.Usage)))
		for _, sub := range c.Subs {
			f := feature
			if sub.Feature != "" {
				f = sub.Feature
			}
			fmt.Fprintf(&b, "| `%s %s` | %s | %s |\n", c.Name, mdCode(shellcmd.Syntax(sub.Usage)), f, mdEscape(shellcmd.Summary(sub.Usage)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCode keeps text inside a code span of a table cell.
func mdCode(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// mdEscape keeps text inside one Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
