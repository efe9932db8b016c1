// Package thirdparty is the third-party differential suite: real programs
// from Debian's arm64 packages (busybox, toybox, coreutils, bash, zsh,
// sqlite3, jq, lua, gawk, dash, tini, e2fsck, gpgv), each case one real
// invocation, run under sissim and under qemu-aarch64-static (with -L for
// the guest root) with stdout, stderr and exit status compared.
//
// The programs come from a root tree that scripts/arm64-root.sh builds in
// .cache with `apt-get download` and `dpkg -x` (the package list is
// testdata/packages.txt) and from Debian's busybox-static in .cache/busybox.
// Each case runs in a fresh working directory holding its input files; under
// sissim that directory is a copy in the machine's tmpfs at the same path,
// and the root's top-level directories are read-only host mounts.
//
// qemu-user without binfmt_misc cannot run a guest's execve of another
// AArch64 program, so a directory on PATH holds every root program under its
// name: under qemu a hard link to the binfmt command (which re-enters qemu,
// as binfmt_misc would), under sissim a symbolic link to the program. Cases
// where qemu-user is still no reference name the reason (Case.QemuWrong) and
// state Linux's result instead (Case.Want).
package thirdparty

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Busybox is the Case.Prog of Debian's busybox-static (outside the root).
const Busybox = "busybox"

// Case is one invocation of a third-party program.
type Case struct {
	// Suite groups cases by source ("busybox", "coreutils", ...) and Name
	// identifies the case in its suite (no spaces; see ID).
	Suite, Name string
	// Prog is the program: a name found on the guest root's PATH ("jq"),
	// a path in the guest root ("/usr/bin/jq"), or Busybox.
	Prog string
	// Args are argv[1:]; Argv0 is argv[0] (default: Prog's base name, as a
	// shell gives a program found on PATH).
	Args  []string
	Argv0 string
	// Stdin is the standard input (empty: end of file at once).
	Stdin string
	// Files are written into the working directory, keyed by relative
	// slash-separated path; a key ending in "/" makes an empty directory.
	Files map[string]string
	// Fixtures are files of testdata/fixtures copied into the working
	// directory; a name "x.img" whose fixture is "x.img.gz" is unpacked.
	Fixtures []string
	// Env is added to the base environment (BaseEnv), replacing a variable
	// of the same name.
	Env []string
	// NoPrefix, when set, says why qemu-user runs this (static) program
	// without -L: qemu's -L also maps "/" itself into the guest root,
	// which breaks programs that walk up to "/" by inode (zsh finding its
	// working directory). The program's own files then come from the host.
	NoPrefix string
	// QemuWrong, when set, says why qemu-user is no reference for this case
	// (a host-only fact, an exec it cannot follow). The case then runs
	// under sissim alone and is checked against Want.
	QemuWrong string
	Want      *Want
}

// Want is the result Linux gives for a case where qemu-user is wrong;
// "$WORK" in Stdout and Stderr stands for the working directory.
type Want struct {
	Stdout, Stderr string
	Exit           int
}

// ID is the case's name in reports and in the expectations file:
// "suite/name".
func (c Case) ID() string { return c.Suite + "/" + c.Name }

// argv returns the program's whole argv.
func (c Case) argv() []string {
	a0 := c.Argv0
	if a0 == "" {
		a0 = path.Base(c.Prog)
	}
	return append([]string{a0}, c.Args...)
}

// Validate reports a malformed case.
func (c Case) Validate() error {
	switch {
	case c.Suite == "" || c.Name == "":
		return fmt.Errorf("case %q: empty suite or name", c.ID())
	case strings.ContainsAny(c.ID(), " \t\n"), strings.Count(c.ID(), "/") != 1:
		return fmt.Errorf("case %q: the name has blanks or a slash", c.ID())
	case c.Prog == "" || !path.IsAbs(c.Prog) && strings.Contains(c.Prog, "/"):
		return fmt.Errorf("case %s: program %q is neither a name nor an absolute guest path", c.ID(), c.Prog)
	case (c.QemuWrong == "") != (c.Want == nil):
		return fmt.Errorf("case %s: QemuWrong and Want go together", c.ID())
	}
	for name := range c.Files {
		name = strings.TrimSuffix(name, "/")
		if name == "" || path.IsAbs(name) || path.Clean(name) != name || strings.HasPrefix(name, "../") {
			return fmt.Errorf("case %s: file %q is not a local relative path", c.ID(), name)
		}
	}
	return nil
}

// CheckCases validates every case and that IDs are unique.
func CheckCases(cases []Case) error {
	seen := map[string]bool{}
	for _, c := range cases {
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.ID()] {
			return fmt.Errorf("case %s is defined twice", c.ID())
		}
		seen[c.ID()] = true
	}
	return nil
}

// Expectations are the known mismatches: case ID -> the cause.
type Expectations map[string]string

// ParseExpectations reads the expectations file: one "suite/name<TAB>cause"
// per line; blank lines and lines starting with # are ignored.
func ParseExpectations(r io.Reader) (Expectations, error) {
	exp := Expectations{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, cause, ok := strings.Cut(line, "\t")
		id, cause = strings.TrimSpace(id), strings.TrimSpace(cause)
		if !ok || cause == "" || strings.Count(id, "/") != 1 || strings.ContainsAny(id, " ") {
			return nil, fmt.Errorf("line %d: want \"suite/name<TAB>cause\", got %q", n, line)
		}
		if _, dup := exp[id]; dup {
			return nil, fmt.Errorf("line %d: %s is listed twice", n, id)
		}
		exp[id] = cause
	}
	return exp, sc.Err()
}

// expectationsHeader heads the file that Format writes.
const expectationsHeader = `# Known mismatches of the third-party suite (internal/thirdparty): cases
# whose sissim run does not yet match qemu-user, one per line as
# "suite/name<TAB>cause". TestThirdParty fails on any mismatch not listed
# here and reports the listed cases that now match, so that the list only
# shrinks. Regenerate it from a run with
#   go test ./internal/thirdparty -run TestThirdParty -update
# which reruns every mismatch with system-call traces and writes its cause.
`

// Format writes the expectations sorted by ID, under the explanatory
// header.
func (e Expectations) Format(w io.Writer) error {
	ids := make([]string, 0, len(e))
	for id := range e {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	bw := bufio.NewWriter(w)
	bw.WriteString(expectationsHeader)
	for _, id := range ids {
		fmt.Fprintf(bw, "%s\t%s\n", id, e[id])
	}
	return bw.Flush()
}
