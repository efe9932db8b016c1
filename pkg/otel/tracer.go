// Package otel records OpenTelemetry spans of the SIS services (autonomous
// decisions, LLM inferences, AgentSys operations) and exports them as
// OTLP/JSON: to a file on the machine's file system (/otel/spans.json,
// one ExportTraceServiceRequest per line, in batches of up to 100 spans,
// rotated at 64 KiB) and, optionally, to an OTLP/HTTP collector.
//
// Span contents are deterministic: timestamps come from the machine clock
// (a time since boot plus the machine's epoch) and trace and span ids from
// the machine's seeded generator. Only the HTTP exporter's retry timers use
// host time; they decide when a batch is sent, never what it contains.
package otel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/afero"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Defaults of the file exporter, as SIS has them.
const (
	// Dir is the directory of the exported files.
	Dir = "/otel"
	// SpansFile receives one OTLP/JSON request per line.
	SpansFile = Dir + "/spans.json"
	// OldSpansFile receives the content of SpansFile when it rotates.
	OldSpansFile = Dir + "/spans.old.json"
	// DecisionsFile receives one JSON decision record per line.
	DecisionsFile = Dir + "/decisions.jsonl"
	// BatchSize is the largest number of spans per exported request.
	BatchSize = 100
	// RotateBytes is the size SpansFile may reach: a batch that would make
	// it larger first moves the file to OldSpansFile.
	RotateBytes = 64 << 10
)

// ServiceName is the service.name resource attribute of every span.
const ServiceName = "sis-kernel"

// ScopeName names the instrumentation scope of every span.
const ScopeName = "github.com/sis-kernel/sissim/pkg/otel"

// Config is what a Tracer needs from the machine.
type Config struct {
	// FS is the machine's file system (the exported files go to Dir).
	FS afero.Fs
	// Now is the machine clock: the time since boot.
	Now func() time.Duration
	// Epoch is the wall-clock time at boot; span timestamps are
	// Epoch+Now in Unix nanoseconds.
	Epoch time.Time
	// Rand is the seeded generator for trace and span ids.
	Rand io.Reader
	// HostName is the host.name resource attribute ("" leaves it out).
	HostName string
	// HTTP is the template for the exporter `otelctl init --endpoint`
	// starts (its Endpoint is replaced).
	HTTP HTTPConfig
}

// Tracer records spans while tracing is enabled and exports them in
// batches. It is safe for concurrent use.
type Tracer struct {
	cfg Config
	// prefix and suffix enclose a batch's spans in its request.
	prefix, suffix []byte

	mu      sync.Mutex
	enabled bool
	// pending holds the OTLP/JSON of the ended spans not yet exported,
	// separated by commas; npending counts them.
	pending  []byte
	ends     []int // where each pending span's text ends
	npending int
	line     []byte // the request being written (reused)
	scratch  []byte // protojson's output (reused)
	file     fileExporter
	http     *HTTPExporter
	stats    Stats
}

// Stats are the tracer's counters.
type Stats struct {
	Recorded uint64 // spans ended while tracing was enabled
	// Batches counts request lines written to SpansFile (a batch whose
	// line would not fit in RotateBytes is split in several).
	Batches uint64
	// Exported counts spans written to SpansFile.
	Exported uint64
	// FileErrors counts failed writes and span encodings; FileDropped
	// the spans they lost.
	FileErrors, FileDropped uint64
	// Rotations counts moves of SpansFile to OldSpansFile; RotatedOut the
	// spans that left OldSpansFile because a later rotation replaced it.
	Rotations, RotatedOut uint64
	// Decisions counts lines appended to DecisionsFile; DecisionErrors
	// the failed appends.
	Decisions, DecisionErrors uint64
	// LastError is the last file error ("" for none).
	LastError string
}

// New returns a tracer with tracing disabled.
func New(cfg Config) (*Tracer, error) {
	if cfg.FS == nil || cfg.Now == nil || cfg.Rand == nil {
		return nil, errors.New("otel: Config needs FS, Now and Rand")
	}
	res := &resourcepb.Resource{Attributes: []*commonpb.KeyValue{String("service.name", ServiceName).kv()}}
	if cfg.HostName != "" {
		res.Attributes = append(res.Attributes, String("host.name", cfg.HostName).kv())
	}
	prefix, suffix, err := envelope(res, &commonpb.InstrumentationScope{Name: ScopeName})
	if err != nil {
		return nil, fmt.Errorf("otel: encode the resource: %w", err)
	}
	t := &Tracer{cfg: cfg, prefix: prefix, suffix: suffix}
	t.file.fs = cfg.FS
	return t, nil
}

// Init creates the export directory. It is idempotent.
func (t *Tracer) Init() error {
	if err := t.cfg.FS.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("otel: create %s: %w", Dir, err)
	}
	return nil
}

// Enable turns tracing on (creating the export directory).
func (t *Tracer) Enable() error {
	if err := t.Init(); err != nil {
		return err
	}
	t.mu.Lock()
	t.enabled = true
	t.mu.Unlock()
	return nil
}

// Disable turns tracing off. Spans recorded so far stay pending until the
// next Flush.
func (t *Tracer) Disable() {
	t.mu.Lock()
	t.enabled = false
	t.mu.Unlock()
}

// Enabled reports whether tracing is on.
func (t *Tracer) Enabled() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.enabled
}

// Stats returns the counters.
func (t *Tracer) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Pending returns the number of spans waiting for the next batch.
func (t *Tracer) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.npending
}

// SetExporter sets the HTTP exporter that receives every batch after the
// file (nil for none) and returns the previous one, which the caller
// closes.
func (t *Tracer) SetExporter(e *HTTPExporter) *HTTPExporter {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.http
	t.http = e
	return old
}

// Exporter returns the HTTP exporter (nil for none).
func (t *Tracer) Exporter() *HTTPExporter {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.http
}

// Close stops the HTTP exporter, if any. Pending spans stay pending.
func (t *Tracer) Close() {
	if e := t.SetExporter(nil); e != nil {
		e.Close()
	}
}

// Shutdown ends export at exit: it flushes the pending spans, gives the
// HTTP exporter up to wait of host time to deliver what it holds, and
// closes it (what is still undelivered is dropped and counted). It returns
// the exporter's final counters (zero, Endpoint "", when there was none).
func (t *Tracer) Shutdown(wait time.Duration) HTTPStats {
	_, _ = t.Flush() // a failure is counted in Stats
	e := t.SetExporter(nil)
	if e == nil {
		return HTTPStats{}
	}
	e.Wait(wait)
	e.Close()
	return e.Stats()
}

// Flush exports the pending spans as one batch (nothing when none is
// pending) and returns how many it exported. The pending batch is empty
// afterwards, also when the file write failed (the failure is counted and
// returned).
func (t *Tracer) Flush() (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.npending
	return n, t.exportLocked()
}

// exportLocked exports and empties the pending batch: request lines (the
// envelope around encoded spans) to the file and, when set, to the HTTP
// exporter. The batch is one line unless that line would be longer than
// RotateBytes: it is then split so that every line fits in a file of that
// size (a single span larger than that still gets a line of its own). It
// returns the first error; every failure is counted.
func (t *Tracer) exportLocked() error {
	n := t.npending
	if n == 0 {
		return nil
	}
	var first error
	over := len(t.prefix) + len(t.suffix)
	for i := 0; i < n; {
		off := 0
		if i > 0 {
			off = t.ends[i-1] + 1 // after the comma
		}
		j := i + 1
		for j < n && over+t.ends[j]-off <= RotateBytes {
			j++
		}
		if err := t.exportLine(t.pending[off:t.ends[j-1]], j-i); err != nil && first == nil {
			first = err
		}
		i = j
	}
	t.pending, t.ends, t.npending = t.pending[:0], t.ends[:0], 0
	return first
}

// exportLine writes one request of n encoded spans.
func (t *Tracer) exportLine(spans []byte, n int) error {
	line := append(append(append(t.line[:0], t.prefix...), spans...), t.suffix...)
	t.line = line
	if t.http != nil {
		// The exporter keeps the payload: give it its own copy.
		t.http.Enqueue(bytes.Clone(line[:len(line)-1]), n)
	}
	rotated, out, rotErr, err := t.file.append(line, n)
	if rotated {
		t.stats.Rotations++
		t.stats.RotatedOut += uint64(out)
	}
	if rotErr != nil {
		t.stats.FileErrors++
		t.stats.LastError = rotErr.Error()
	}
	if err != nil {
		t.stats.FileErrors++
		t.stats.FileDropped += uint64(n)
		t.stats.LastError = err.Error()
		return err
	}
	t.stats.Batches++
	t.stats.Exported += uint64(n)
	return nil
}

// record encodes a finished span and queues it, exporting a full batch.
// A span that cannot be encoded is dropped and counted.
func (t *Tracer) record(s *tracepb.Span) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.Recorded++
	mark := len(t.pending)
	if t.npending > 0 {
		t.pending = append(t.pending, ',')
	}
	var err error
	if t.pending, err = t.encodeSpan(t.pending, s); err != nil {
		t.pending = t.pending[:mark]
		t.stats.FileErrors++
		t.stats.FileDropped++
		t.stats.LastError = fmt.Sprintf("otel: encode span %q: %v", s.Name, err)
		return
	}
	t.ends = append(t.ends, len(t.pending))
	t.npending++
	if t.npending >= BatchSize {
		_ = t.exportLocked() // counted in stats
	}
}

// unixNano converts machine time to Unix nanoseconds.
func (t *Tracer) unixNano(d time.Duration) uint64 {
	return uint64(t.cfg.Epoch.Add(d).UnixNano())
}

// ids draws a trace id (when trace is non-nil) and a span id from the
// seeded generator; neither is ever all zeros (invalid in OTLP).
func (t *Tracer) ids(trace []byte, span []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range [][]byte{trace, span} {
		if b == nil {
			continue
		}
		for {
			if _, err := io.ReadFull(t.cfg.Rand, b); err != nil {
				// A generator that fails is a wiring bug; keep ids valid.
				b[len(b)-1] = 1
			}
			if !allZero(b) {
				break
			}
		}
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
