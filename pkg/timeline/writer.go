// Package timeline writes and draws scheduler timelines in the Chrome
// trace-event JSON format ({"traceEvents": [...]}), which ui.perfetto.dev
// and chrome://tracing open: processes and threads as named tracks, slices
// as complete events, moments as instant events, and counters.
//
// Writer streams the events to a file as they come, so memory stays small
// however long the run, and stops at a size limit, counting what it
// dropped. Render draws a file as a PNG picture.
package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Arg is one named value of an event's args: a string, a bool, or an
// integer or float type.
type Arg struct {
	Key   string
	Value any
}

// Scope is the extent of an instant event.
type Scope byte

// Instant event scopes.
const (
	ScopeThread  Scope = 't'
	ScopeProcess Scope = 'p'
	ScopeGlobal  Scope = 'g'
)

// DefaultLimit is the file size Writer stops at unless told otherwise.
const DefaultLimit = 512 << 20

// trailer closes the file.
const trailer = "\n]}\n"

// Writer streams trace events as JSON. Times are in ns (of any clock: the
// machine's); the file gives them in µs with three decimals, so equal
// inputs give byte-identical files. It is not safe for concurrent use.
type Writer struct {
	w       *bufio.Writer
	limit   int64
	size    int64
	events  uint64
	dropped uint64
	err     error
	closed  bool
	procs   map[int]string
	threads map[[2]int]string
	buf     []byte
}

// NewWriter starts a trace file on w that stops taking events before it
// grows past limit bytes (DefaultLimit when limit <= 0).
func NewWriter(w io.Writer, limit int64) *Writer {
	if limit <= 0 {
		limit = DefaultLimit
	}
	t := &Writer{w: bufio.NewWriterSize(w, 64<<10), limit: limit,
		procs: map[int]string{}, threads: map[[2]int]string{}}
	t.write([]byte(`{"traceEvents":[`))
	return t
}

// Process names the track of process pid (again when the name changes).
func (t *Writer) Process(pid int, name string) {
	if old, ok := t.procs[pid]; ok && old == name {
		return
	}
	if t.meta(pid, 0, "process_name", name) {
		t.procs[pid] = name
	}
}

// Thread names the track of thread tid of process pid.
func (t *Writer) Thread(pid, tid int, name string) {
	k := [2]int{pid, tid}
	if old, ok := t.threads[k]; ok && old == name {
		return
	}
	if t.meta(pid, tid, "thread_name", name) {
		t.threads[k] = name
	}
}

// meta writes a metadata event and reports whether it was written.
func (t *Writer) meta(pid, tid int, what, name string) bool {
	b := t.start("M", pid, tid, "", what)
	b = append(b, `,"args":{"name":`...)
	b = appendJSON(b, name)
	b = append(b, "}}"...)
	return t.emit(b)
}

// Complete adds a slice of thread tid of process pid from start to end.
func (t *Writer) Complete(pid, tid int, cat, name string, start, end uint64, args ...Arg) {
	b := t.start("X", pid, tid, cat, name)
	b = appendTime(append(b, `,"ts":`...), start)
	b = appendTime(append(b, `,"dur":`...), end-min(start, end))
	b = appendArgs(b, args)
	t.emit(append(b, '}'))
}

// Instant adds a moment of thread tid of process pid (or of the process
// or the whole trace, by scope).
func (t *Writer) Instant(pid, tid int, cat, name string, at uint64, scope Scope, args ...Arg) {
	b := t.start("i", pid, tid, cat, name)
	b = appendTime(append(b, `,"ts":`...), at)
	b = append(append(append(b, `,"s":"`...), byte(scope)), '"')
	b = appendArgs(b, args)
	t.emit(append(b, '}'))
}

// Counter sets the series of counter name of process pid at time at (one
// series per arg, numeric values).
func (t *Writer) Counter(pid int, name string, at uint64, args ...Arg) {
	b := t.start("C", pid, 0, "", name)
	b = appendTime(append(b, `,"ts":`...), at)
	b = appendArgs(b, args)
	t.emit(append(b, '}'))
}

// start begins an event in the scratch buffer.
func (t *Writer) start(ph string, pid, tid int, cat, name string) []byte {
	b := append(t.buf[:0], `{"ph":"`...)
	b = append(b, ph...)
	b = append(b, `","pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendInt(b, int64(tid), 10)
	if cat != "" {
		b = appendJSON(append(b, `,"cat":`...), cat)
	}
	return appendJSON(append(b, `,"name":`...), name)
}

// emit writes one event unless the size limit or an error stops it.
func (t *Writer) emit(ev []byte) bool {
	t.buf = ev[:0]
	if t.err != nil || t.closed || t.size+int64(len(ev))+2+int64(len(trailer)) > t.limit {
		t.dropped++
		return false
	}
	if t.events > 0 {
		t.write([]byte(",\n"))
	} else {
		t.write([]byte("\n"))
	}
	t.write(ev)
	t.events++
	return t.err == nil
}

func (t *Writer) write(b []byte) {
	if t.err != nil {
		return
	}
	n, err := t.w.Write(b)
	t.size += int64(n)
	t.err = err
}

// Events returns how many events were written; Dropped how many were not,
// for the size limit or a write error.
func (t *Writer) Events() uint64 { return t.events }

// Dropped returns how many events the size limit (or a write error) kept
// out of the file.
func (t *Writer) Dropped() uint64 { return t.dropped }

// Close ends the JSON document and flushes it; it returns the first write
// error. It does not close the underlying writer.
func (t *Writer) Close() error {
	if t.closed {
		return t.err
	}
	t.closed = true
	t.write([]byte(trailer))
	if t.err == nil {
		t.err = t.w.Flush()
	}
	if t.err != nil {
		return fmt.Errorf("timeline: %w", t.err)
	}
	return nil
}

// appendTime appends ns as µs with three decimals.
func appendTime(b []byte, ns uint64) []byte {
	b = strconv.AppendUint(b, ns/1000, 10)
	frac := ns % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendArgs appends `,"args":{...}` (nothing without args).
func appendArgs(b []byte, args []Arg) []byte {
	if len(args) == 0 {
		return b
	}
	b = append(b, `,"args":{`...)
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, a.Key)
		b = appendJSON(append(b, ':'), a.Value)
	}
	return append(b, '}')
}

// appendJSON appends v in JSON (null when it has no JSON form).
func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		if plain(v) {
			return append(append(append(b, '"'), v...), '"')
		}
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case bool:
		return strconv.AppendBool(b, v)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// plain reports whether s needs no escaping in JSON.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
