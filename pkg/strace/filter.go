package strace

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Filter selects the system calls and signals a Tracer shows, as strace's
// -e trace=SET and -e signal=SET do. A nil Filter shows everything.
type Filter struct {
	calls   map[uint64]bool // nil: every call
	signals map[linux.Signal]bool
}

// classes maps strace's class names (with or without the leading %) to
// their flags.
var classes = map[string]sysFlags{
	"file": trFile, "process": trProcess, "net": trNetwork, "network": trNetwork,
	"signal": trSignal, "ipc": trIPC, "desc": trDesc, "memory": trMemory,
	"creds": trCreds, "clock": trClock, "pure": trPure,
	"stat": trStat, "lstat": trLstat, "fstat": trFstat, "%stat": trStatLike,
	"statfs": trStatfs, "fstatfs": trFstatfs, "%statfs": trStatfsLike,
}

// bareClasses are the classes strace still accepts without the % (a
// deprecated form).
var bareClasses = map[string]bool{
	"file": true, "process": true, "network": true, "signal": true, "ipc": true, "desc": true, "memory": true,
}

// ParseFilter parses strace -e expressions:
//
//	[trace=][!]VALUE[,VALUE]...   VALUE: a system call name, ?NAME (no
//	                              error if unknown), all, none, /REGEX
//	                              (Go regexp syntax), %file, %process,
//	                              %network (%net), %signal, %ipc, %desc,
//	                              %memory, %creds, %clock, %pure, %stat,
//	                              %lstat, %fstat, %%stat, %statfs,
//	                              %fstatfs, %%statfs
//	signal=[!]SIG[,SIG]...        SIG: SIGCHLD, CHLD, 17, all, none
//
// The qualifiers t, s and signals are accepted as in strace. Several
// trace= expressions add up.
func ParseFilter(exprs ...string) (*Filter, error) {
	f := &Filter{}
	for _, e := range exprs {
		q, v, ok := strings.Cut(e, "=")
		if !ok {
			q, v = "trace", e
		}
		switch q {
		case "trace", "t":
			set, err := parseCalls(v)
			if err != nil {
				return nil, fmt.Errorf("strace filter %q: %w", e, err)
			}
			if f.calls == nil {
				f.calls = set
				continue
			}
			for nr := range set {
				f.calls[nr] = true
			}
		case "signal", "signals", "s":
			set, err := parseSignals(v)
			if err != nil {
				return nil, fmt.Errorf("strace filter %q: %w", e, err)
			}
			f.signals = set
		default:
			return nil, fmt.Errorf("strace filter %q: unsupported qualifier %q (want trace or signal)", e, q)
		}
	}
	return f, nil
}

func parseCalls(v string) (map[uint64]bool, error) {
	neg := strings.HasPrefix(v, "!")
	v = strings.TrimPrefix(v, "!")
	set := map[uint64]bool{}
	if v == "" {
		return nil, fmt.Errorf("empty system call set")
	}
	for _, tok := range strings.Split(v, ",") {
		optional := strings.HasPrefix(tok, "?")
		tok = strings.TrimPrefix(tok, "?")
		n, err := addCalls(set, tok)
		if err != nil {
			return nil, err
		}
		if n == 0 && !optional && tok != "none" {
			return nil, fmt.Errorf("invalid system call %q", tok)
		}
	}
	if neg {
		inv := map[uint64]bool{}
		for nr := range sysents {
			if !set[nr] {
				inv[nr] = true
			}
		}
		// Numbers strace does not know are traced unless excluded.
		inv[^uint64(0)] = true
		return inv, nil
	}
	return set, nil
}

// addCalls adds the calls tok names to set and returns how many it named.
func addCalls(set map[uint64]bool, tok string) (int, error) {
	n := 0
	switch {
	case tok == "all":
		for nr := range sysents {
			set[nr] = true
		}
		set[^uint64(0)] = true
		return len(sysents), nil
	case tok == "none":
		return 0, nil
	case strings.HasPrefix(tok, "/"):
		re, err := regexp.Compile(tok[1:])
		if err != nil {
			return 0, fmt.Errorf("invalid regular expression %q: %w", tok[1:], err)
		}
		for nr, s := range sysents {
			if re.MatchString(s.name) {
				set[nr] = true
				n++
			}
		}
		return n, nil
	}
	class := strings.TrimPrefix(tok, "%")
	if fl, ok := classes[class]; ok && (tok[0] == '%' || bareClasses[tok]) {
		for nr, s := range sysents {
			if s.flags.has(fl) {
				set[nr] = true
				n++
			}
		}
		if n > 0 || tok[0] == '%' {
			return max(n, 1), nil
		}
	}
	if nr, ok := Number(tok); ok {
		set[nr] = true
		return 1, nil
	}
	return 0, nil
}

func parseSignals(v string) (map[linux.Signal]bool, error) {
	neg := strings.HasPrefix(v, "!")
	v = strings.TrimPrefix(v, "!")
	set := map[linux.Signal]bool{}
	for _, tok := range strings.Split(v, ",") {
		switch strings.ToLower(tok) {
		case "all":
			for s := linux.Signal(1); s <= linux.SIGRTMAX; s++ {
				set[s] = true
			}
			continue
		case "none":
			continue
		}
		if n, err := strconv.Atoi(tok); err == nil {
			if n < 1 || n > int(linux.SIGRTMAX) {
				return nil, fmt.Errorf("invalid signal %q", tok)
			}
			set[linux.Signal(n)] = true
			continue
		}
		name := strings.ToUpper(tok)
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		found := false
		for s := linux.Signal(1); s <= linux.SIGRTMAX; s++ {
			if signalName(s) == name || s.String() == name {
				set[s], found = true, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("invalid signal %q", tok)
		}
	}
	if neg {
		inv := map[linux.Signal]bool{}
		for s := linux.Signal(1); s <= linux.SIGRTMAX; s++ {
			if !set[s] {
				inv[s] = true
			}
		}
		return inv, nil
	}
	return set, nil
}

// syscall reports whether system call nr is shown.
func (f *Filter) syscall(nr uint64) bool {
	if f == nil || f.calls == nil {
		return true
	}
	if _, known := sysents[nr]; !known {
		return f.calls[^uint64(0)]
	}
	return f.calls[nr]
}

// signal reports whether signal lines for sig are shown.
func (f *Filter) signal(sig linux.Signal) bool {
	if f == nil || f.signals == nil {
		return true
	}
	return f.signals[sig]
}
