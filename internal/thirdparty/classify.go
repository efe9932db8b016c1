package thirdparty

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Diagnosis is what the system-call traces of a mismatching case's rerun
// show: the calls that failed on each side, in order. The qemu side traces
// only the case's first process.
type Diagnosis struct {
	SimFailed, QemuFailed []failedCall
	// Traced says whether qemu's trace was taken (not for a case where
	// qemu-user is wrong).
	Traced bool
	// HostFiles are paths that qemu-user found on the host because the
	// guest root lacks them (-L falls back to the host's file; an execve
	// runs the host's program).
	HostFiles []string
	// inRoot reports whether a guest path exists in the guest root;
	// dynamic whether a guest path is a dynamically linked program.
	inRoot, dynamic func(string) bool
}

// Classify names the cause of a mismatch, as precisely as the outcome and
// its diagnosis (nil: none was made) tell, in this order: the harness, a
// program the kernel refused to start, a hang, calls without a handler
// (ENOSYS, leaving out those in coped) when the program says "Function not
// implemented", a nested exec that failed, the first call that failed
// under sissim alone (with its path; not ENOENT for a path that only the
// host has), the other ENOSYS calls, a fault, and else which outputs
// differ.
func Classify(o Outcome, d *Diagnosis, coped map[string]bool) string {
	r := o.SimResult
	switch {
	case strings.Contains(o.Sim.Err, "did not finish"):
		return "sissim hangs (killed by the harness)"
	case o.Sim.Err != "":
		return "sissim fails: " + firstLines(o.Sim.Err, 1)
	case o.Ref.Err != "":
		return "qemu-user fails: " + firstLines(o.Ref.Err, 1)
	case r.ExecError != "":
		return "exec refused: " + r.ExecError
	case strings.Contains(r.Report, "instruction budget"):
		return "never finishes (instruction budget exhausted)"
	}
	var enosys []string
	for _, name := range sortedKeys(r.Unimplemented) {
		if !coped[name] {
			enosys = append(enosys, name)
		}
	}
	said := bytes.Contains(bytes.ToLower(append(o.Sim.Stderr, o.Sim.Stdout...)), []byte("function not implemented"))
	if len(enosys) > 0 && said {
		return "ENOSYS " + strings.Join(enosys, ", ")
	}
	if d != nil {
		for _, f := range d.SimFailed {
			if f.name == "execve" && f.errno != "ENOENT" {
				if d.dynamic != nil && d.dynamic(f.path) {
					return fmt.Sprintf("nested execve of a dynamically linked program fails with %s", f.errno)
				}
				return fmt.Sprintf("nested execve fails with %s", f.errno)
			}
		}
		if d.Traced {
			if f, ok := firstMissing(d.SimFailed, d.QemuFailed, d.hostOnly); ok {
				return f.String() + " (qemu-user: no such failure)"
			}
		}
	}
	if len(enosys) > 0 {
		return "ENOSYS " + strings.Join(enosys, ", ")
	}
	if r.Report != "" {
		return "killed: " + r.Report
	}
	return "output differs: " + strings.Join(o.Differences(), ", ")
}

// Diagnose parses the traces of a rerun (either may be empty); inRoot
// tells whether a guest path exists in the guest root, dynamic whether it
// is a dynamically linked program.
func Diagnose(o Outcome, simTrace, qemuTrace []byte, qemuTraced bool, inRoot, dynamic func(string) bool) *Diagnosis {
	work := o.Work
	d := &Diagnosis{
		SimFailed:  failedCalls(simTrace, simLine, work),
		QemuFailed: failedCalls(qemuTrace, qemuLine, work),
		Traced:     qemuTraced,
		inRoot:     inRoot,
		dynamic:    dynamic,
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(qemuTrace))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := qemuPathOK.FindStringSubmatch(sc.Text())
		if m == nil {
			// A successful execve has no result line: the image is gone.
			if e := qemuExec.FindStringSubmatch(sc.Text()); e != nil && !strings.Contains(sc.Text(), " = -1 ") {
				m = []string{"", "execve", e[1]}
			}
		}
		if m == nil || seen[m[2]] || !d.hostOnly(m[2]) {
			continue
		}
		seen[m[2]] = true
		d.HostFiles = append(d.HostFiles, m[2])
	}
	return d
}

// hostOnly reports whether p is an absolute path of the guest root's
// namespace that the root lacks (so that qemu-user's -L falls back to the
// host for it), leaving out the kernel's own trees and $WORK.
func (d *Diagnosis) hostOnly(p string) bool {
	if d.inRoot == nil || !strings.HasPrefix(p, "/") {
		return false
	}
	for _, special := range []string{"/proc", "/dev", "/sys", "/tmp", "/"} {
		if p == special || special != "/" && strings.HasPrefix(p, special+"/") {
			return false
		}
	}
	return !d.inRoot(p)
}

// CopedENOSYS are the unimplemented calls that never explain a mismatch:
// glibc and coreutils go on without them (the "only a warning"
// calls fadvise64, copy_file_range and mremap), and rseq, which may stay
// ENOSYS.
var CopedENOSYS = map[string]bool{
	"fadvise64": true, "copy_file_range": true, "mremap": true, "rseq": true,
}

// AlsoMatching returns the unimplemented calls that matching cases made
// (information for the summary: a call that a matching case made can
// still break another program).
func AlsoMatching(outcomes []Outcome) map[string]bool {
	seen := map[string]bool{}
	for _, o := range outcomes {
		if o.Match {
			for name := range o.SimResult.Unimplemented {
				seen[name] = true
			}
		}
	}
	return seen
}

// failedCall is one system call that returned an error.
type failedCall struct{ name, path, errno string }

func (f failedCall) key() string { return f.name + "\x00" + f.path + "\x00" + f.errno }

func (f failedCall) String() string {
	if f.path != "" {
		return fmt.Sprintf("%s %s -> %s", f.name, f.path, f.errno)
	}
	return fmt.Sprintf("%s -> %s", f.name, f.errno)
}

var (
	// [pid 3] openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory)
	simLine = regexp.MustCompile(`^(?:\[pid +\d+\] )?(\w+)\((.*)\) += -1 (E[A-Z0-9]+)`)
	// 1234 openat(AT_FDCWD,"/x",O_RDONLY) = -1 errno=2 (No such file or directory)
	qemuLine = regexp.MustCompile(`^\d+ (\w+)\((.*)\) += -1 errno=(\d+)`)
	// 1234 Unknown syscall 293 (qemu-user answers ENOSYS)
	qemuUnknown = regexp.MustCompile(`^\d+ Unknown syscall (\d+)`)
	// 1234 openat(AT_FDCWD,"/x",O_RDONLY) = 3: a call on a path that worked
	qemuPathOK = regexp.MustCompile(`^\d+ (openat|newfstatat|faccessat|faccessat2|statx|readlinkat|execve)\([^"]*"([^"]*)".*\) = \d+$`)
	qemuExec   = regexp.MustCompile(`^\d+ execve\("([^"]*)"`)
	quoted     = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

// failedCalls parses the failing calls of a trace, in order, with the
// first quoted argument (a path) and the working directory written $WORK.
func failedCalls(trace []byte, re *regexp.Regexp, work string) []failedCall {
	var out []failedCall
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil && re == qemuLine {
			if u := qemuUnknown.FindStringSubmatch(sc.Text()); u != nil {
				nr, _ := strconv.ParseUint(u[1], 10, 64)
				out = append(out, failedCall{name: linux.SyscallName(nr), errno: "ENOSYS"})
			}
			continue
		}
		if m == nil {
			continue
		}
		f := failedCall{name: m[1], errno: m[3]}
		if n, err := strconv.Atoi(m[3]); err == nil {
			f.errno = linux.Errno(n).Name()
		}
		if q := quoted.FindStringSubmatch(m[2]); q != nil {
			f.path = strings.ReplaceAll(q[1], work, "$WORK")
		}
		// Only calls whose argument is a path name a useful path.
		if !strings.HasPrefix(f.path, "/") && !strings.HasPrefix(f.path, "$WORK") && !strings.HasPrefix(f.path, ".") {
			f.path = ""
		}
		if f.name == "fcntl" || f.name == "ioctl" {
			f.name += "(" + command(f.name, m[2]) + ")"
		}
		out = append(out, f)
	}
	return out
}

// Command names of fcntl(2) and ioctl(2), for traces that print numbers.
var (
	fcntlNames = map[uint64]string{
		0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
		5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN",
		36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
		1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC",
		1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
	}
	ioctlNames = map[uint64]string{
		0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
		0x540e: "TIOCSCTTY", 0x540f: "TIOCGPGRP", 0x5410: "TIOCSPGRP", 0x5413: "TIOCGWINSZ",
		0x5414: "TIOCSWINSZ", 0x541b: "FIONREAD", 0x5421: "FIONBIO", 0x5422: "TIOCNOTTY",
		0x5429: "TIOCGSID", 0x80086601: "FS_IOC_GETFLAGS", 0x40086602: "FS_IOC_SETFLAGS",
	}
)

// command returns the command (second) argument of an fcntl or ioctl
// trace line, by name.
func command(call, args string) string {
	parts := strings.Split(args, ",")
	if len(parts) < 2 {
		return "?"
	}
	arg := strings.TrimSpace(parts[1])
	n, err := strconv.ParseUint(arg, 0, 64)
	if err != nil {
		return arg // already a name
	}
	names := fcntlNames
	if call == "ioctl" {
		names = ioctlNames
	}
	if name, ok := names[n]; ok {
		return name
	}
	return arg
}

// firstMissing returns the first failure in a that b does not have,
// leaving out what is no cause: ENOSYS (the unimplemented calls are
// counted apart), ENOENT for paths that exist only on the host (hostOnly)
// or in the working directory (the same on both sides: a program that
// looks for a file there only under sissim took another path before), and
// glibc's TCGETS probe of a character device (sissim's standard streams
// are its console, qemu's are pipes).
func firstMissing(a, b []failedCall, hostOnly func(string) bool) (failedCall, bool) {
	have := map[string]bool{}
	for _, f := range b {
		have[f.key()] = true
	}
	for _, f := range a {
		switch {
		case have[f.key()], f.errno == "ENOSYS",
			f.errno == "ENOENT" && (hostOnly(f.path) || strings.HasPrefix(f.path, "$WORK")),
			f.name == "ioctl(TCGETS)" && f.errno == "ENOTTY":
			continue
		}
		return f, true
	}
	return failedCall{}, false
}

// Unimplemented returns the ENOSYS calls of outcomes, by name, with the
// number of cases that met each, most first.
func Unimplemented(outcomes []Outcome) []ClassCount {
	by := map[string][]string{}
	for _, o := range outcomes {
		for name := range o.SimResult.Unimplemented {
			by[name] = append(by[name], o.Case.ID())
		}
	}
	out := make([]ClassCount, 0, len(by))
	for name, ids := range by {
		sort.Strings(ids)
		out = append(out, ClassCount{Class: name, Cases: ids})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Cases) != len(out[j].Cases) {
			return len(out[i].Cases) > len(out[j].Cases)
		}
		return out[i].Class < out[j].Class
	})
	return out
}
