package gdbstub

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseID parses one thread-id field: hex, or "-1" (All).
func parseID(s string) (int, error) {
	if s == "-1" {
		return All, nil
	}
	v, err := strconv.ParseUint(s, 16, 31)
	if err != nil {
		return 0, fmt.Errorf("bad thread id %q", s)
	}
	return int(v), nil
}

// parseThreadID parses a thread-id: "pPID.TID", "pPID" (all its threads),
// "TID", "-1" or "0". A bare TID is looked up among the processes.
func (ss *session) parseThreadID(s string) (ThreadID, error) {
	if rest, ok := strings.CutPrefix(s, "p"); ok {
		ps, ts, hasT := strings.Cut(rest, ".")
		pid, err := parseID(ps)
		if err != nil {
			return ThreadID{}, err
		}
		tid := All
		if hasT {
			if tid, err = parseID(ts); err != nil {
				return ThreadID{}, err
			}
		}
		if pid == All {
			tid = All
		}
		return ThreadID{pid, tid}, nil
	}
	tid, err := parseID(s)
	if err != nil {
		return ThreadID{}, err
	}
	if tid == All || tid == Any {
		return ThreadID{tid, tid}, nil
	}
	procs, err := ss.t.Processes()
	if err != nil {
		return ThreadID{}, err
	}
	for _, p := range procs {
		for _, th := range p.Threads {
			if th.ID.Tid == tid {
				return th.ID, nil
			}
		}
	}
	return ThreadID{}, fmt.Errorf("no thread %d", tid)
}

// formatID formats one thread-id field.
func formatID(v int) string {
	if v == All {
		return "-1"
	}
	return strconv.FormatUint(uint64(v), 16)
}

// threadID formats a thread for the debugger.
func (ss *session) threadID(t ThreadID) string {
	if ss.multiprocess {
		return "p" + formatID(t.Pid) + "." + formatID(t.Tid)
	}
	return formatID(t.Tid)
}

// errNoThread means a thread-id matches no thread.
var errNoThread = errors.New("no such thread")

// resolve turns a thread selection (Hg, Hc, wildcards) into one live
// thread: the last thread that stopped when it matches, else the first
// matching thread.
func (ss *session) resolve(sel ThreadID) (ThreadID, error) {
	procs, err := ss.t.Processes()
	if err != nil {
		return ThreadID{}, err
	}
	match := func(t ThreadID) bool {
		return (sel.Pid <= 0 || sel.Pid == t.Pid) && (sel.Tid <= 0 || sel.Tid == t.Tid)
	}
	var first *ThreadID
	for _, p := range procs {
		for i := range p.Threads {
			id := p.Threads[i].ID
			if !match(id) {
				continue
			}
			if id == ss.last.Thread {
				return id, nil
			}
			if first == nil {
				first = &p.Threads[i].ID
			}
		}
	}
	if first == nil {
		return ThreadID{}, errNoThread
	}
	return *first, nil
}

// currentPid returns the process of the general thread (Hg).
func (ss *session) currentPid() (int, error) {
	t, err := ss.resolve(ss.gThread)
	if err != nil {
		return 0, err
	}
	return t.Pid, nil
}

// threadsXML returns the qXfer:threads document: every thread of every
// debugged process, with its name.
func (ss *session) threadsXML() ([]byte, error) {
	procs, err := ss.t.Processes()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<threads>\n")
	for _, p := range procs {
		for _, th := range p.Threads {
			fmt.Fprintf(&b, "<thread id=\"%s\"", ss.threadID(th.ID))
			if th.Name != "" {
				fmt.Fprintf(&b, " name=\"%s\"", xmlEscape(th.Name))
			}
			b.WriteString("/>\n")
		}
	}
	b.WriteString("</threads>\n")
	return []byte(b.String()), nil
}

// xmlEscape escapes text for an XML attribute value.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}
