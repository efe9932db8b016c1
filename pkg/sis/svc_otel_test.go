package sis_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/otel"
)

// spanAttrs returns a span's attributes by key (string, int64 or bool).
func spanAttrs(s *tracepb.Span) map[string]any {
	out := map[string]any{}
	for _, kv := range s.Attributes {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.Key] = v.BoolValue
		}
	}
	return out
}

// auditLine is one line of the AgentSys audit log.
type auditLine struct {
	Seq     int64  `json:"seq"`
	Agent   int64  `json:"agent"`
	Op      string `json:"op"`
	Name    string `json:"name"`
	Time    string `json:"time"`
	Allowed bool   `json:"allowed"`
	Result  string `json:"result"`
}

// TestOTelAgentSysSpans: AgentSys operations, from the shell's self-test
// and from a guest over /dev/agentsys (allowed and denied), each give one
// span that matches its audit record: name, agent, allowed, result and the
// machine-clock time.
func TestOTelAgentSysSpans(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 7}, nil)
	sh(t, m, "otelctl enable-tracing")
	require.Contains(t, sh(t, m, "agentsys test-fs-list"), "[AgentSys] Test PASSED")
	out, _ := m.Shell().Exec("run /bin/agentctl-demo -a 2 read /etc/hostname")
	require.Contains(t, out, "[AgentSys] FS_READ denied: Path outside allowed scope\n")
	out, _ = m.Shell().Exec("run /bin/agentctl-demo -a 77 stat /tmp")
	require.Contains(t, out, "[AgentSys] FS_STAT denied: Agent not registered\n")
	require.Contains(t, sh(t, m, "run /bin/agentctl-demo create /tmp/otel-demo dir"), "[FS] Created: /tmp/otel-demo (dir)")
	sh(t, m, "otelctl disable-tracing")
	// Not traced: tracing is off.
	sh(t, m, "agentsys test-fs-stat")
	require.Regexp(t, `Exported [1-9]\d* span\(s\)`, sh(t, m, "otelctl export-traces"))

	logData, err := m.FS().ReadFile("/var/log/agentsys-audit.jsonl")
	require.NoError(t, err)
	audit := map[int64]auditLine{}
	sc := bufio.NewScanner(bytes.NewReader(logData))
	for sc.Scan() {
		var l auditLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		audit[l.Seq] = l
	}

	var spans []*tracepb.Span
	for _, s := range fileSpans(t, m) {
		if len(s.Name) > 9 && s.Name[:9] == "agentsys." {
			spans = append(spans, s)
		}
	}
	// One span per traced operation: the four above (the stat after
	// disable-tracing is audited but not traced).
	require.Len(t, spans, 4)
	require.Len(t, audit, 5)
	ids := map[string]bool{}
	var denied int
	for _, s := range spans {
		a := spanAttrs(s)
		l, ok := audit[a["agentsys.seq"].(int64)]
		require.True(t, ok, "span %s has no audit record", s.Name)
		require.Equal(t, "agentsys."+l.Name, s.Name)
		require.Equal(t, "0x"+strings.ToUpper(strconv.FormatInt(a["agentsys.op"].(int64), 16)), l.Op)
		require.Equal(t, l.Agent, a["agentsys.agent"])
		require.Equal(t, l.Allowed, a["agentsys.allowed"])
		require.Equal(t, l.Result, a["agentsys.result"])
		require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, s.Kind)
		at, err := time.Parse(time.RFC3339Nano, l.Time)
		require.NoError(t, err)
		require.EqualValues(t, at.UnixNano(), s.StartTimeUnixNano, "machine-clock time of %s", s.Name)
		require.GreaterOrEqual(t, s.EndTimeUnixNano, s.StartTimeUnixNano)
		require.Len(t, s.TraceId, 16)
		require.Empty(t, s.ParentSpanId)
		ids[hex.EncodeToString(s.SpanId)] = true
		if l.Allowed {
			require.Nil(t, s.Status)
			continue
		}
		denied++
		require.Equal(t, tracepb.Status_STATUS_CODE_ERROR, s.Status.GetCode())
		require.Equal(t, l.Result, s.Status.GetMessage())
	}
	require.Len(t, ids, 4, "span ids are distinct")
	require.Equal(t, 2, denied)
	names := map[string]bool{}
	for _, s := range spans {
		names[s.Name] = true
	}
	require.Equal(t, map[string]bool{"agentsys.FS_LIST": true, "agentsys.FS_READ": true, "agentsys.FS_STAT": true, "agentsys.FS_CREATE": true}, names)
}

// collector is an in-test OTLP/HTTP receiver: it reads each body as the
// OTLP request type (protojson, and the OTLP/JSON reading with hex ids)
// and counts span ids.
type collector struct {
	mu    sync.Mutex
	spans map[string]int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.URL.Path != otel.TracesPath || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var raw coltracepb.ExportTraceServiceRequest
	if err := protojson.Unmarshal(body, &raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := otel.DecodeRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans[hex.EncodeToString(s.SpanId)]++
			}
		}
	}
	c.mu.Unlock()
	_, _ = w.Write([]byte("{}"))
}

// TestOTelHTTPCollectorDownThenUp: a machine exporting to a collector
// that is down keeps running (its commands answer, its file export goes
// on), `otelctl status` shows the failures, and when the collector comes
// up every span of the file arrives exactly once.
func TestOTelHTTPCollectorDownThenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	m := bootSys(t, kernel.Config{Seed: 3}, nil)
	out := sh(t, m, "otelctl init --endpoint http://"+addr+"; otelctl enable-tracing; llmctl load; llmctl budget")
	require.Contains(t, out, "[OTEL] OTLP/HTTP exporter: http://"+addr+"/v1/traces")
	for i := 0; i < 3; i++ {
		sh(t, m, "llminfer the agent --max-tokens 8; agentsys test-fs-list; otelctl export-traces")
	}
	e := m.Tracer().Exporter()
	require.NotNil(t, e)
	require.Eventually(t, func() bool { return e.Stats().Retried > 0 }, 20*time.Second, 5*time.Millisecond)
	status := sh(t, m, "otelctl status")
	require.Regexp(t, `OTLP/HTTP: http://\S+/v1/traces sent=0 batches=0 retried=[1-9]\d* dropped=0 queued=[1-9]`, status)
	require.Contains(t, status, "Last HTTP error: post http://"+addr)

	ln, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	rc := &collector{spans: map[string]int{}}
	srv := httptest.NewUnstartedServer(rc)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	// The exporter's backoff is capped at 5 s.
	require.True(t, e.Wait(30*time.Second), "queue did not drain")
	var want []string
	for _, s := range fileSpans(t, m) {
		want = append(want, hex.EncodeToString(s.SpanId))
	}
	require.NotEmpty(t, want)
	rc.mu.Lock()
	require.Len(t, rc.spans, len(want))
	for _, id := range want {
		require.Equal(t, 1, rc.spans[id], "span %s", id)
	}
	rc.mu.Unlock()
	st := e.Stats()
	require.EqualValues(t, len(want), st.Sent)
	require.Zero(t, st.Dropped)
}

// TestOTelFileErrorMachineGoesOn: when /otel/spans.json cannot be written
// (here a directory stands in its place), export-traces says why, the
// lost spans are counted in `otelctl status`, the machine keeps running,
// and export works again once the path is free.
func TestOTelFileErrorMachineGoesOn(t *testing.T) {
	m := bootSys(t, kernel.Config{Seed: 5}, nil)
	fs := m.FS().Afero()
	sh(t, m, "otelctl enable-tracing")
	require.NoError(t, fs.MkdirAll(otel.SpansFile, 0o755))
	sh(t, m, "agentsys test-fs-list; agentsys test-fs-stat")
	out, err := m.Shell().Exec("otelctl export-traces")
	require.Error(t, err)
	require.Regexp(t, `\[OTEL\] Export failed: otel: write /otel/spans.json: open /otel/spans.json: .* \(2 span\(s\) dropped, counted\)`, out)
	status := sh(t, m, "otelctl status")
	require.Contains(t, status, "Spans: recorded=2 pending=0 exported=0 batches=0")
	require.Contains(t, status, "errors=1 dropped=2")
	require.Contains(t, status, "Last file error: otel: write /otel/spans.json: open /otel/spans.json")

	require.NoError(t, fs.Remove(otel.SpansFile))
	require.Contains(t, sh(t, m, "agentsys test-fs-list"), "Test PASSED")
	require.Contains(t, sh(t, m, "otelctl export-traces"), "Exported 1 span(s)")
	require.Len(t, fileSpans(t, m), 1)
	require.Contains(t, sh(t, m, "otelctl status"), "recorded=3 pending=0 exported=1 batches=1")
}
