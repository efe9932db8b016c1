package kernel

import (
	"fmt"
	"io"
	"strings"
)

// WriteShellReference writes the Markdown reference of the shell's
// registered commands (docs/shell.md is generated from it).
func (s *Shell) WriteShellReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Shell command reference\n\n")
	b.WriteString("<!-- Generated from the registered shell commands by\n")
	b.WriteString("     `go test ./pkg/kernel -run TestDocs -update`. Do not edit. -->\n\n")
	b.WriteString("The `sis>` kernel shell: `sissim` (or `sissim boot`) boots to it;\n")
	b.WriteString("`sissim shell -c 'cmd; cmd'` and commands piped to `sissim shell` run\n")
	b.WriteString("non-interactively (exit status 1 when a command failed); embedding Go\n")
	b.WriteString("code calls `machine.Shell().Exec(\"cmd\")`.\n\n")
	b.WriteString("Lines are at most 256 bytes. A failed command prints one line\n")
	b.WriteString("(`error: ...`, or `Unknown command: <x>` and\n")
	b.WriteString("`Type 'help' for available commands`) and the shell goes on.\n")
	b.WriteString("Commands separated by `;` run in turn; single or double quotes group words.\n\n")
	b.WriteString("| Command | Usage |\n|---|---|\n")
	for _, c := range s.Commands() {
		args, what, _ := strings.Cut(strings.TrimPrefix(c.Usage, c.Name), "  ")
		fmt.Fprintf(&b, "| `%s%s` | %s |\n", c.Name, strings.ReplaceAll(args, "|", `\|`), mdEscape(what))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSyscallReference writes the Markdown table of the guest ABI: every
// system call of the table with its support level (docs/syscalls.md).
func WriteSyscallReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Guest ABI: system calls\n\n")
	b.WriteString("<!-- Generated from the syscall table by\n")
	b.WriteString("     `go test ./pkg/kernel -run TestDocs -update`. Do not edit. -->\n\n")
	b.WriteString("Guests are static AArch64 Linux programs; `svc #0` with the number in\n")
	b.WriteString("`x8` enters the kernel. Support levels: **full** (as Linux), **partial**\n")
	b.WriteString("(the common cases; see the note), **enosys** (fails with ENOSYS, which\n")
	b.WriteString("the C library handles). Any other number returns -ENOSYS and is counted.\n\n")
	b.WriteString("| Nr | Name | Support | Note |\n|---:|---|---|---|\n")
	for _, s := range Syscalls() {
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s |\n", s.Nr, s.Name, s.Support, mdEscape(s.Note))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps text inside one Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
