package otel_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sis-kernel/sissim/pkg/otel"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// clock is a fake machine clock.
type clock struct{ now time.Duration }

func (c *clock) Now() time.Duration { return c.now }

func newTracer(t testing.TB, fs afero.Fs, seed byte) (*otel.Tracer, *clock) {
	t.Helper()
	c := &clock{}
	tr, err := otel.New(otel.Config{
		FS: fs, Now: c.Now, Epoch: time.Unix(1_700_000_000, 0),
		Rand: rand.NewChaCha8([32]byte{seed}), HostName: "sis",
	})
	require.NoError(t, err)
	require.NoError(t, tr.Enable())
	t.Cleanup(tr.Close)
	return tr, c
}

// decodeLines decodes every line of the files into the collector's
// request type and returns the span ids in order, failing on a bad line.
func decodeLines(t testing.TB, fs afero.Fs, paths ...string) (ids []string, reqs []*coltracepb.ExportTraceServiceRequest) {
	t.Helper()
	for _, p := range paths {
		data, err := afero.ReadFile(fs, p)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			req := decodeOTLP(t, sc.Bytes())
			reqs = append(reqs, req)
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					for _, s := range ss.Spans {
						ids = append(ids, hex.EncodeToString(s.SpanId))
					}
				}
			}
		}
		require.NoError(t, sc.Err())
	}
	return ids, reqs
}

// decodeOTLP checks that line is an ExportTraceServiceRequest for
// protojson and for an OTLP/JSON reader (hex ids, integer enums) and
// returns the latter's decoding.
func decodeOTLP(t testing.TB, line []byte) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	var raw coltracepb.ExportTraceServiceRequest
	require.NoError(t, protojson.Unmarshal(line, &raw), "%s", line)
	req, err := otel.DecodeRequest(line)
	require.NoError(t, err, "%s", line)
	// The OpenTelemetry Collector's own reader accepts it too.
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
	require.NoError(t, err, "%s", line)
	require.Equal(t, td.SpanCount(), countSpans(req))
	// The OTLP/JSON rules protojson does not follow by itself.
	require.Regexp(t, `^\{"resourceSpans":\[\{"resource":`, string(line))
	require.NotRegexp(t, `"(traceId|spanId|parentSpanId)":"[^"]*[^0-9a-f"][^"]*"`, string(line))
	require.NotContains(t, string(line), `"SPAN_KIND_`)
	require.NotContains(t, string(line), `"STATUS_CODE_`)
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				require.Len(t, s.TraceId, 16)
				require.Len(t, s.SpanId, 8)
				if len(s.ParentSpanId) > 0 {
					require.Len(t, s.ParentSpanId, 8)
				}
			}
		}
	}
	return req
}

// countSpans counts the spans of req.
func countSpans(req *coltracepb.ExportTraceServiceRequest) int {
	n := 0
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			n += len(ss.Spans)
		}
	}
	return n
}

func decision(id uint64, at time.Duration) otel.Decision {
	return otel.Decision{
		ID: id, ModelVersion: "v1", ModelHash: "abc123", Action: 1, Confidence: 870,
		MemPressure: 0.9, DeadlineMisses: 2, Start: at, End: at + 1500,
		Checks: []otel.PolicyCheck{
			{Name: "confidence", Passed: true, Value: 870, Threshold: 600},
			{Name: "rate_limit", Passed: false, Value: 11, Threshold: 10},
		},
	}
}

func TestDecisionSpanIsOTLP(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 1)
	tr.RecordDecision(decision(7, 5*time.Millisecond))
	n, err := tr.Flush()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ids, reqs := decodeLines(t, fs, otel.SpansFile)
	require.Len(t, ids, 1)
	rs := reqs[0].ResourceSpans[0]
	require.Equal(t, "service.name", rs.Resource.Attributes[0].Key)
	require.Equal(t, otel.ServiceName, rs.Resource.Attributes[0].Value.GetStringValue())
	s := rs.ScopeSpans[0].Spans[0]
	require.Equal(t, "autonomous_decision", s.Name)
	require.Len(t, s.TraceId, 16)
	require.Len(t, s.SpanId, 8)
	require.Empty(t, s.ParentSpanId)
	base := uint64(time.Unix(1_700_000_000, 0).UnixNano())
	require.Equal(t, base+uint64(5*time.Millisecond), s.StartTimeUnixNano)
	require.Equal(t, base+uint64(5*time.Millisecond)+1500, s.EndTimeUnixNano)
	attrs := map[string]string{}
	for _, kv := range s.Attributes {
		attrs[kv.Key] = kv.Value.String()
	}
	for _, k := range []string{"model.version", "model.hash", "action", "confidence", "mem_pressure", "deadline_misses"} {
		require.Contains(t, attrs, k)
	}
	require.Contains(t, attrs["model.version"], "v1")
	require.Contains(t, attrs["confidence"], "870")
	require.Len(t, s.Events, 2)
	require.Equal(t, "policy_check.confidence", s.Events[0].Name)
	require.Equal(t, "policy_check.rate_limit", s.Events[1].Name)
	require.False(t, s.Events[1].Attributes[0].Value.GetBoolValue())
}

func TestDisabledRecordsNothing(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 1)
	tr.Disable()
	tr.RecordDecision(decision(1, 0))
	require.NoError(t, tr.LogDecision([]byte(`{"id":1}`)))
	require.Nil(t, tr.Start("x", nil, 0))
	n, err := tr.Flush()
	require.NoError(t, err)
	require.Zero(t, n)
	ok, _ := afero.Exists(fs, otel.DecisionsFile)
	require.False(t, ok)
	require.Zero(t, tr.Stats().Recorded)
}

func TestLogDecision(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 1)
	require.NoError(t, tr.LogDecision([]byte(`{"id":1,"action":2}`)))
	require.NoError(t, tr.LogDecision([]byte("{\n \"id\": 2\n}\n")))
	require.Error(t, tr.LogDecision([]byte(`{"id":`)))
	data, err := afero.ReadFile(fs, otel.DecisionsFile)
	require.NoError(t, err)
	require.Equal(t, "{\"id\":1,\"action\":2}\n{\"id\":2}\n", string(data))
	require.EqualValues(t, 2, tr.Stats().Decisions)
}

func TestParentChild(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 1)
	req := tr.Start("llm.request", nil, 10)
	inf := tr.Start("llm.inference", req, 20)
	inf.End(90)
	req.End(100)
	_, err := tr.Flush()
	require.NoError(t, err)
	_, reqs := decodeLines(t, fs, otel.SpansFile)
	spans := reqs[0].ResourceSpans[0].ScopeSpans[0].Spans
	require.Len(t, spans, 2)
	require.Equal(t, "llm.inference", spans[0].Name)
	require.Equal(t, spans[1].SpanId, spans[0].ParentSpanId)
	require.Equal(t, spans[1].TraceId, spans[0].TraceId)
	require.EqualValues(t, 70, spans[0].EndTimeUnixNano-spans[0].StartTimeUnixNano)
}

// TestBatchesAndRotation records enough spans for several batches and
// two rotations: every line decodes, batches hold at most 100 spans, the
// files stay within 64 KiB, and the spans in the two files plus the ones
// counted as rotated out are exactly the recorded ones, each once.
func TestBatchesAndRotation(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 3)
	var want []string
	var rotatedOnce []string
	for i := 0; i < 1000; i++ {
		s := tr.Start("op", nil, time.Duration(i), otel.Int("i", int64(i)), otel.String("pad", strings.Repeat("x", 40)))
		want = append(want, hex.EncodeToString(s.SpanID()))
		s.End(time.Duration(i + 1))
		if st := tr.Stats(); st.Rotations == 1 && rotatedOnce == nil {
			// After the first rotation nothing is lost yet.
			ids, _ := decodeLines(t, fs, otel.OldSpansFile, otel.SpansFile)
			require.Equal(t, want[:st.Exported], ids)
			rotatedOnce = ids
		}
	}
	_, err := tr.Flush()
	require.NoError(t, err)
	st := tr.Stats()
	require.EqualValues(t, 1000, st.Recorded)
	require.EqualValues(t, 1000, st.Exported)
	require.EqualValues(t, 10, st.Batches)
	require.GreaterOrEqual(t, st.Rotations, uint64(2))
	require.NotNil(t, rotatedOnce)
	for _, p := range []string{otel.SpansFile, otel.OldSpansFile} {
		fi, err := fs.Stat(p)
		require.NoError(t, err)
		require.LessOrEqual(t, fi.Size(), int64(otel.RotateBytes))
	}
	ids, reqs := decodeLines(t, fs, otel.OldSpansFile, otel.SpansFile)
	for _, r := range reqs {
		require.LessOrEqual(t, len(r.ResourceSpans[0].ScopeSpans[0].Spans), otel.BatchSize)
	}
	// Kept spans are the newest, in order, each once; the rest are counted.
	require.Equal(t, want[st.RotatedOut:], ids)
	require.EqualValues(t, len(want), int(st.RotatedOut)+len(ids))
}

// TestLargeSpansSplitBatches: a batch of spans too large for one 64 KiB
// line is written as several lines, each fitting the file limit; no span
// is lost or duplicated.
func TestLargeSpansSplitBatches(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 11)
	var want []string
	for i := 0; i < 250; i++ {
		s := tr.Start("big", nil, time.Duration(i), otel.String("blob", strings.Repeat("y", 1500)))
		want = append(want, hex.EncodeToString(s.SpanID()))
		s.End(time.Duration(i + 1))
	}
	_, err := tr.Flush()
	require.NoError(t, err)
	st := tr.Stats()
	require.EqualValues(t, 250, st.Exported)
	require.Greater(t, st.Batches, uint64(3))
	for _, p := range []string{otel.SpansFile, otel.OldSpansFile} {
		data, err := afero.ReadFile(fs, p)
		require.NoError(t, err)
		require.LessOrEqual(t, len(data), otel.RotateBytes, p)
	}
	ids, reqs := decodeLines(t, fs, otel.OldSpansFile, otel.SpansFile)
	for _, r := range reqs {
		require.LessOrEqual(t, len(r.ResourceSpans[0].ScopeSpans[0].Spans), otel.BatchSize)
	}
	require.Equal(t, want[st.RotatedOut:], ids)
	require.EqualValues(t, len(want), int(st.RotatedOut)+len(ids))
}

func TestDeterministicFiles(t *testing.T) {
	run := func() []byte {
		fs := afero.NewMemMapFs()
		tr, c := newTracer(t, fs, 9)
		for i := 0; i < 150; i++ {
			c.now += time.Millisecond
			tr.RecordDecision(decision(uint64(i), c.now))
		}
		_, err := tr.Flush()
		require.NoError(t, err)
		old, err := afero.ReadFile(fs, otel.OldSpansFile)
		require.NoError(t, err)
		cur, err := afero.ReadFile(fs, otel.SpansFile)
		require.NoError(t, err)
		return append(old, cur...)
	}
	a, b := run(), run()
	require.Equal(t, a, b)
	require.Equal(t, 2, bytes.Count(a, []byte("\n")))
}

// faultFS fails every write-side operation with ENOSPC while full is set.
type faultFS struct {
	afero.Fs
	full atomic.Bool
}

type faultFile struct {
	afero.File
	fs *faultFS
}

func (f faultFile) Write(p []byte) (int, error) {
	if f.fs.full.Load() {
		// A partial write, as a disk that fills up mid-way gives.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return faultFile{file, f}, nil
}

func TestFullDisk(t *testing.T) {
	fs := &faultFS{Fs: afero.NewMemMapFs()}
	tr, _ := newTracer(t, fs, 4)
	tr.RecordDecision(decision(1, 0))
	_, err := tr.Flush()
	require.NoError(t, err)
	before, err := afero.ReadFile(fs, otel.SpansFile)
	require.NoError(t, err)

	fs.full.Store(true)
	tr.RecordDecision(decision(2, 0))
	tr.RecordDecision(decision(3, 0))
	n, err := tr.Flush()
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Equal(t, 2, n)
	require.Error(t, tr.LogDecision([]byte(`{"id":2}`)))
	st := tr.Stats()
	require.EqualValues(t, 1, st.FileErrors)
	require.EqualValues(t, 2, st.FileDropped)
	require.EqualValues(t, 1, st.DecisionErrors)
	require.Contains(t, st.LastError, "no space left")
	// The partial line was cut off: the file is as before.
	after, err := afero.ReadFile(fs, otel.SpansFile)
	require.NoError(t, err)
	require.Equal(t, before, after)
	var status bytes.Buffer
	tr.WriteStatus(&status)
	require.Contains(t, status.String(), "errors=1 dropped=2")

	// Space again: tracing goes on.
	fs.full.Store(false)
	tr.RecordDecision(decision(4, 0))
	_, err = tr.Flush()
	require.NoError(t, err)
	ids, _ := decodeLines(t, fs, otel.SpansFile)
	require.Len(t, ids, 2)
}

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":           "http://127.0.0.1:4318/v1/traces",
		"http://localhost":                "http://localhost:4318/v1/traces",
		"https://collector:443/v1/traces": "https://collector:443/v1/traces",
		"http://[::1]:9000/":              "http://[::1]:9000/v1/traces",
	} {
		got, err := otel.ParseEndpoint(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "127.0.0.1:4318", "ftp://h:1", "http://", "http://h:99999", "http://h:1/other", "http://u@h:1", "http://h:1?x=1", "::"} {
		_, err := otel.ParseEndpoint(in)
		require.Error(t, err, in)
	}
}

func TestCommandBadInput(t *testing.T) {
	fs := afero.NewMemMapFs()
	tr, _ := newTracer(t, fs, 1)
	var out bytes.Buffer
	require.ErrorIs(t, tr.Command(&out, nil), shellcmd.ErrUsage)
	require.ErrorIs(t, tr.Command(&out, []string{"bogus"}), shellcmd.ErrUsage)
	require.ErrorIs(t, tr.Command(&out, []string{"init", "--endpoint"}), shellcmd.ErrUsage)
	err := tr.Command(&out, []string{"init", "--endpoint", "gopher://x"})
	require.ErrorContains(t, err, "scheme must be http or https")
	require.Nil(t, tr.Exporter())
	for _, f := range []string{otel.SpansFile, "otel/spans.old.json", "/otel//spans.json"} {
		err := tr.Command(&out, []string{"export-traces", "--output", f})
		require.ErrorContains(t, err, "is one of the exported files", f)
	}
}

// receiver is an in-test OTLP/HTTP collector: it decodes each request
// with the OpenTelemetry Collector's OTLP/JSON reader (pdata ptraceotlp)
// and counts every span id.
type receiver struct {
	// once skips the extra protojson check (benchmarks: one decoding per
	// request, as a collector does).
	once  bool
	mu    sync.Mutex
	spans map[string]int
	reqs  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != otel.TracesPath || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if !r.once {
		var raw coltracepb.ExportTraceServiceRequest
		if err := protojson.Unmarshal(body, &raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	msg := ptraceotlp.NewExportRequest()
	if err := msg.UnmarshalJSON(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.reqs++
	rss := msg.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				r.spans[spans.At(k).SpanID().String()]++
			}
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

func (r *receiver) exactlyOnce(t *testing.T, want []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.spans, len(want))
	for _, id := range want {
		require.Equal(t, 1, r.spans[id], "span %s", id)
	}
}

func initEndpoint(t *testing.T, tr *otel.Tracer, url string) *otel.HTTPExporter {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, tr.Command(&out, []string{"init", "--endpoint", url}))
	require.Contains(t, out.String(), "/v1/traces")
	return tr.Exporter()
}

func newHTTPTracer(t *testing.T, seed byte, cfg otel.HTTPConfig) (*otel.Tracer, afero.Fs) {
	fs := afero.NewMemMapFs()
	c := &clock{}
	tr, err := otel.New(otel.Config{FS: fs, Now: c.Now, Rand: rand.NewChaCha8([32]byte{seed}), HTTP: cfg})
	require.NoError(t, err)
	require.NoError(t, tr.Enable())
	t.Cleanup(tr.Close)
	return tr, fs
}

func recordN(tr *otel.Tracer, n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		s := tr.Start("op", nil, time.Duration(i))
		ids = append(ids, hex.EncodeToString(s.SpanID()))
		s.End(time.Duration(i + 1))
	}
	_, _ = tr.Flush()
	return ids
}

func TestHTTPExportExactlyOnce(t *testing.T) {
	rc := &receiver{spans: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	tr, fs := newHTTPTracer(t, 5, otel.HTTPConfig{})
	e := initEndpoint(t, tr, srv.URL)
	want := recordN(tr, 250)
	require.True(t, e.Wait(10*time.Second))
	rc.exactlyOnce(t, want)
	st := e.Stats()
	require.EqualValues(t, 250, st.Sent)
	require.EqualValues(t, 3, st.SentBatches)
	require.Zero(t, st.Dropped)
	// The file holds the same spans.
	ids, _ := decodeLines(t, fs, otel.SpansFile)
	require.Equal(t, want, ids)
}

// TestHTTPCollectorDownThenUp: the collector's port refuses connections
// for a while; the exporter retries with backoff, the machine side never
// blocks, and once the collector listens every span arrives once.
func TestHTTPCollectorDownThenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	tr, _ := newHTTPTracer(t, 6, otel.HTTPConfig{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	e := initEndpoint(t, tr, "http://"+addr)
	// Recording returns while the port refuses connections: it does not
	// wait for the collector (no timing threshold: a wait would hang).
	want := recordN(tr, 230)
	require.Eventually(t, func() bool { return e.Stats().Retried >= 3 }, 10*time.Second, 2*time.Millisecond)
	require.Zero(t, e.Stats().Sent)

	ln, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	rc := &receiver{spans: map[string]int{}}
	srv := httptest.NewUnstartedServer(rc)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	require.True(t, e.Wait(10*time.Second))
	rc.exactlyOnce(t, want)
	st := e.Stats()
	require.EqualValues(t, 230, st.Sent)
	require.Zero(t, st.Dropped)
	var out bytes.Buffer
	tr.WriteStatus(&out)
	require.Contains(t, out.String(), "sent=230")
	require.Regexp(t, `retried=[1-9]`, out.String())
}

func TestHTTPCollector500(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	tr, fs := newHTTPTracer(t, 7, otel.HTTPConfig{})
	e := initEndpoint(t, tr, srv.URL)
	recordN(tr, 150)
	require.True(t, e.Wait(10*time.Second))
	st := e.Stats()
	require.Zero(t, st.Sent)
	require.EqualValues(t, 150, st.Dropped) // counted, never silent
	require.Contains(t, st.LastError, "500")
	require.EqualValues(t, 2, hits.Load())
	// The file export is unaffected.
	ids, _ := decodeLines(t, fs, otel.SpansFile)
	require.Len(t, ids, 150)
}

// TestHTTPCollectorHangs: a collector that never answers. Requests time
// out and are retried, batches beyond the bounded queue are dropped and
// counted, recording never blocks, and Close returns promptly.
func TestHTTPCollectorHangs(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tr, _ := newHTTPTracer(t, 8, otel.HTTPConfig{Timeout: 20 * time.Millisecond, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, QueueSize: 2})
	e := initEndpoint(t, tr, srv.URL)
	// Recording returns although no request ever completes (a wait would
	// hang the test); the dropped count below shows batches were dropped,
	// not waited for.
	for i := 0; i < 10; i++ {
		recordN(tr, 100)
	}
	// Wait for a timeout after the last batch was queued.
	retried := e.Stats().Retried
	require.Eventually(t, func() bool { return e.Stats().Retried > retried }, 10*time.Second, 2*time.Millisecond)
	st := e.Stats()
	require.Zero(t, st.Sent)
	// 10 batches: at most one in flight and two queued; the rest dropped.
	require.GreaterOrEqual(t, st.Dropped, uint64(700))
	require.Contains(t, st.LastError, "deadline exceeded")
	done := make(chan struct{})
	go func() { tr.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hanging collector")
	}
	st = e.Stats()
	require.EqualValues(t, 1000, st.Dropped)
	require.Zero(t, st.Queued)
}

func BenchmarkExportBatch100(b *testing.B) {
	fs := afero.NewMemMapFs()
	tr, c := newTracer(b, fs, 1)
	b.ReportAllocs()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < otel.BatchSize-1; j++ {
			c.now++
			tr.RecordDecision(decision(uint64(j), c.now))
		}
		b.StartTimer()
		// The 100th span fills the batch: encode, write (and rotate).
		tr.RecordDecision(decision(99, c.now))
		b.StopTimer()
	}
	require.EqualValues(b, 100*b.N, tr.Stats().Exported)
}

// BenchmarkRecordExport100 is the whole cost of 100 decision spans:
// recording, encoding each once and exporting their batch.
func BenchmarkRecordExport100(b *testing.B) {
	fs := afero.NewMemMapFs()
	tr, c := newTracer(b, fs, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j := 0; j < otel.BatchSize; j++ {
			c.now++
			tr.RecordDecision(decision(uint64(j), c.now))
		}
	}
	require.EqualValues(b, 100*b.N, tr.Stats().Exported)
}

// BenchmarkHTTPSpans: spans per second from recording to an in-process
// receiver on the same two cores: "decode" decodes every request with
// otel.DecodeRequest (most of the time goes there), "discard" only reads
// the body (the exporter's own throughput).
func BenchmarkHTTPSpans(b *testing.B) {
	b.Run("decode", func(b *testing.B) { benchHTTP(b, &receiver{spans: map[string]int{}, once: true}) })
	b.Run("discard", func(b *testing.B) {
		benchHTTP(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write([]byte("{}"))
		}))
	})
}

func benchHTTP(b *testing.B, h http.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	fs := afero.NewMemMapFs()
	c := &clock{}
	tr, err := otel.New(otel.Config{FS: fs, Now: c.Now, Rand: rand.NewChaCha8([32]byte{1}), HTTP: otel.HTTPConfig{QueueSize: 1 << 16}})
	require.NoError(b, err)
	require.NoError(b, tr.Enable())
	defer tr.Close()
	var out bytes.Buffer
	require.NoError(b, tr.Command(&out, []string{"init", "--endpoint", srv.URL}))
	e := tr.Exporter()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.now++
		s := tr.Start("op", nil, c.now)
		s.End(c.now + 1)
	}
	_, _ = tr.Flush()
	require.True(b, e.Wait(time.Minute))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "spans/s")
	require.EqualValues(b, b.N, e.Stats().Sent)
}
