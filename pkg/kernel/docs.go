package kernel

import (
	"fmt"
	"io"
	"strings"
)

// WriteSyscallReference writes the Markdown table of the guest ABI: every
// system call of the table with its support level (docs/syscalls.md).
func WriteSyscallReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Guest ABI: system calls\n\n")
	b.WriteString("<!-- Generated from the syscall table by\n")
	b.WriteString("     `go test ./pkg/sis -run TestDocs -update`. Do not edit. -->\n\n")
	b.WriteString("Guests are static or dynamic AArch64 Linux programs; `svc #0` with the\n")
	b.WriteString("number in `x8` enters the kernel. Support levels: **full** (as Linux),\n")
	b.WriteString("**partial** (the common cases; see the note), **enosys** (fails with\n")
	b.WriteString("ENOSYS, which the C library handles), **eperm** (refused with EPERM, as\n")
	b.WriteString("a container's seccomp policy refuses it). Any other number returns\n")
	b.WriteString("-ENOSYS and is counted.\n\n")
	b.WriteString("| Nr | Name | Support | Note |\n|---:|---|---|---|\n")
	for _, s := range Syscalls() {
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s |\n", s.Nr, s.Name, s.Support, strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s.Note))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
