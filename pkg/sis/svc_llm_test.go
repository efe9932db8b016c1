package sis_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/otel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// fileSpans decodes every line of the span files with protojson into the
// collector's request type.
func fileSpans(t testing.TB, m *sis.System) []*tracepb.Span {
	t.Helper()
	var spans []*tracepb.Span
	for _, p := range []string{otel.OldSpansFile, otel.SpansFile} {
		data, err := afero.ReadFile(m.FS().Afero(), p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			// protojson reads the line as the OTLP request type; the
			// OTLP/JSON reading (hex ids) gives the spans.
			var raw coltracepb.ExportTraceServiceRequest
			require.NoError(t, protojson.Unmarshal(sc.Bytes(), &raw))
			req, err := otel.DecodeRequest(sc.Bytes())
			require.NoError(t, err)
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					spans = append(spans, ss.Spans...)
				}
			}
		}
	}
	return spans
}

var latencyRe = regexp.MustCompile(`\[LLM\]\[DEADLINE\] (ok|miss) actual=(\d+)ns expected=(\d+)ns slack=(-?\d+)ns`)

func TestLLMInferenceSpans(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 1}, nil)
	sh(t, m, "otelctl enable-tracing; llmctl load; llmctl budget")
	out := sh(t, m, "llminfer 'test prompt'")
	require.Regexp(t, `(?m)^\[LLM\] infer id=1 tokens=\d+ latency_us=\d+$`, out)
	require.Regexp(t, `(?m)^\[LLM\] output: \S.*$`, out)
	mm := latencyRe.FindStringSubmatch(out)
	require.NotNil(t, mm, out)
	require.Equal(t, "ok", mm[1])
	actual, _ := strconv.ParseUint(mm[2], 10, 64)
	expected, _ := strconv.ParseUint(mm[3], 10, 64)
	slack, _ := strconv.ParseInt(mm[4], 10, 64)
	require.EqualValues(t, int64(expected)-int64(actual), slack)

	out = sh(t, m, "otelctl export-traces")
	require.Regexp(t, `Exported \d+ span\(s\) to /otel/spans.json`, out)
	spans := fileSpans(t, m)
	byName := map[string][]*tracepb.Span{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	require.Len(t, byName["llm.request"], 1)
	require.Len(t, byName["llm.inference"], 1)
	req, inf := byName["llm.request"][0], byName["llm.inference"][0]
	require.Empty(t, req.ParentSpanId)
	require.Equal(t, req.SpanId, inf.ParentSpanId)
	require.Equal(t, req.TraceId, inf.TraceId)
	// The request lasts as long as the machine measured.
	require.EqualValues(t, actual, req.EndTimeUnixNano-req.StartTimeUnixNano)
	require.NotEmpty(t, byName["llm.cbs_slice"])
	var sliced uint64
	for _, s := range byName["llm.cbs_slice"] {
		require.Equal(t, inf.SpanId, s.ParentSpanId)
		sliced += s.EndTimeUnixNano - s.StartTimeUnixNano
	}
	// The slices add up to the documented cost charged to the server.
	var cost int64
	for _, kv := range inf.Attributes {
		if kv.Key == "llm.cost_ns" {
			cost = kv.Value.GetIntValue()
		}
	}
	require.Positive(t, cost)
	require.EqualValues(t, cost, sliced)

	// --output copies the exported spans to a file of the VFS.
	out = sh(t, m, "otelctl export-traces --output /tmp/traces.json")
	require.Contains(t, out, "Traces written to /tmp/traces.json")
	got, err := afero.ReadFile(m.FS().Afero(), "/tmp/traces.json")
	require.NoError(t, err)
	want, err := afero.ReadFile(m.FS().Afero(), otel.SpansFile)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Contains(t, sh(t, m, "otelctl status"), "Tracing: enabled")
}

func TestLLMQuotaRejection(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 1}, nil)
	sh(t, m, "llmctl load")
	out := sh(t, m, "llmctl budget --max-tokens-per-period 5")
	require.Contains(t, out, "[LLM] budget configured\n")
	sh(t, m, "llminfer hello kernel --max-tokens 5")
	out, err := m.Shell().Exec("llminfer hello again --max-tokens 5")
	require.Error(t, err)
	require.Regexp(t, `\[LLM\] rejected id=2: token quota exceeded: used=[1-5] requested=5 quota=5 per period`, out)
	out = sh(t, m, "llmctl status")
	require.Regexp(t, `(?m)^\[LLM\]\[DET\] used_ppm=\d+ accepted=1 rejected=1 deadline_misses=0 jitter_p99_ns=0$`, out)
	out = sh(t, m, "llmctl audit")
	require.Contains(t, out, "id=2")
	require.Contains(t, out, "outcome=rejected")
	out = sh(t, m, "metrics")
	require.Contains(t, out, "llm_rejects_total 1")
	require.Regexp(t, `llm_tokens_out_total [1-5]\n`, out)
	require.Contains(t, out, "llm_infer_us_count 1")
}

func TestLLMDeadlineMiss(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 1}, nil)
	// 200 ns per 1 ms: an inference of a few hundred ns of operations
	// spans periods and ends after its deadline (the first period's end).
	sh(t, m, "llmctl load; llmctl budget --wcet-cycles 200 --period-ns 1000000")
	out := sh(t, m, "llminfer 'test prompt'")
	mm := latencyRe.FindStringSubmatch(out)
	require.NotNil(t, mm, out)
	require.Equal(t, "miss", mm[1])
	require.Regexp(t, `slack=-\d+ns`, out)
	out = sh(t, m, "llmctl status")
	require.Contains(t, out, "deadline_misses=1")
	require.Contains(t, sh(t, m, "metrics"), "llm_deadline_misses_total 1")
	// A budget too large for admission control is refused; the old stays.
	out, err := m.Shell().Exec("llmctl budget --wcet-cycles 99000000 --period-ns 100000000")
	require.Error(t, err)
	require.Contains(t, out, "[LLM] budget rejected")
	require.Contains(t, sh(t, m, "llmctl status"), "wcet_cycles=200 period_ns=1000000")
}

func TestLLMBadInput(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 1}, nil)
	out, err := m.Shell().Exec("llminfer hello")
	require.Error(t, err)
	require.Contains(t, out, "no model loaded")
	sh(t, m, "llmctl load")
	for _, line := range []string{"llminfer", "llminfer x --max-tokens 0", "llminfer x --max-tokens", "llmctl budget --period-ns abc", "llmctl budget --bogus 1", "llmctl load /nonexistent", "llmctl audit -1"} {
		_, err := m.Shell().Exec(line)
		require.Error(t, err, line)
	}
	// A corpus from the VFS.
	require.NoError(t, afero.WriteFile(m.FS().Afero(), "/tmp/c.txt", []byte("the cat sat on the mat. the dog sat on the log."), 0o644))
	require.Contains(t, sh(t, m, "llmctl load /tmp/c.txt"), "vocab=")
	// (on, the) was followed by mat and log once each: the tie goes to
	// the lower token id, and the vocabulary is sorted.
	require.Contains(t, sh(t, m, "llminfer the cat"), "[LLM] output: sat on the log.\n")
	// A period too long for machine time is refused (an inference that
	// waited for it would never end), and a directory is no corpus.
	out, err = m.Shell().Exec("llmctl budget --wcet-cycles 1 --period-ns 9223372036854775809")
	require.Error(t, err)
	require.Contains(t, out, "longer than 3600000000000 ns")
	require.Contains(t, sh(t, m, "llminfer the cat"), "[LLM] output: ")
	out, err = m.Shell().Exec("llmctl load /tmp")
	require.Error(t, err)
	require.Contains(t, out, "not a text file")
}

func TestOTelBadEndpoint(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 1}, nil)
	out, err := m.Shell().Exec("otelctl init --endpoint not-a-url")
	require.Error(t, err)
	require.Contains(t, out, "invalid endpoint")
	require.Contains(t, sh(t, m, "otelctl status"), "OTLP/HTTP: off")
}

// TestOTelDeterministic: two machines with the same seed and commands
// write byte-identical span files.
func TestOTelDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		m := bootSys(t, kernel.Config{Seed: seed}, nil)
		sh(t, m, "otelctl enable-tracing; llmctl load; llmctl budget --wcet-cycles 500000 --period-ns 2000000")
		sh(t, m, "llminfer 'test prompt'; llminfer the scheduler --max-tokens 12; otelctl export-traces")
		data, err := afero.ReadFile(m.FS().Afero(), otel.SpansFile)
		require.NoError(t, err)
		return data
	}
	a, b := run(42), run(42)
	require.NotEmpty(t, a)
	require.Equal(t, a, b)
	// The ids come from the seed: another seed gives other ids (and the
	// same spans otherwise).
	c := run(43)
	require.NotEqual(t, a, c)
	idRe := regexp.MustCompile(`"(trace|span|parentSpan)Id":"[0-9a-f]+"`)
	require.Equal(t, idRe.ReplaceAll(a, nil), idRe.ReplaceAll(c, nil))
	// Span ids are the seeded generator's, not zero.
	require.NotContains(t, string(a), `"spanId":"`+hex.EncodeToString(make([]byte, 8))+`"`)
	require.True(t, strings.HasSuffix(string(a), "\n"))
}
