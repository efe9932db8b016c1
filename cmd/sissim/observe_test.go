package main

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// scrape reads uptime_ms and instructions_total from a metrics endpoint.
func scrape(t *testing.T, url string) (uptime, insns float64) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err)
	require.Contains(t, fams, "uptime_ms")
	require.Contains(t, fams, "instructions_total")
	return fams["uptime_ms"].GetMetric()[0].GetGauge().GetValue(), fams["instructions_total"].GetMetric()[0].GetCounter().GetValue()
}

// While a long guest computes, `run --metrics-addr` serves values that
// move from one scrape to the next: a scrape does not wait for the run.
func TestRunMetricsMoveDuringARun(t *testing.T) {
	var errOut lockedBuffer
	done := make(chan int)
	go func() {
		done <- runMain([]string{"run", "--metrics-addr", "127.0.0.1:0", "--max-insns", "2000000000",
			"../../testdata/guests/alu_loop", "1000000000"}, strings.NewReader(""), io.Discard, &errOut)
	}()
	running := func() bool {
		select {
		case code := <-done:
			t.Fatalf("the run ended (status %d) before the scrapes saw it move: %s", code, errOut.String())
		default:
		}
		return true
	}
	addr := regexp.MustCompile(`metrics at (http://\S+/metrics)`)
	var url string
	for running() {
		if m := addr.FindStringSubmatch(errOut.String()); m != nil {
			url = m[1]
			break
		}
	}
	var up0, in0 float64
	for running() {
		if up0, in0 = scrape(t, url); in0 > 0 {
			break // the guest has started
		}
	}
	for running() {
		up, in := scrape(t, url)
		require.GreaterOrEqual(t, up, up0)
		require.GreaterOrEqual(t, in, in0)
		if up > up0 && in > in0 {
			break
		}
	}
	require.Equal(t, 137, <-done, "the instruction budget ends the guest")
}

// otlpReceiver is an OTLP/HTTP collector that keeps the span ids it was
// posted.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string]bool
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	var msg coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = protojson.Unmarshal(body, &msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range msg.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans[hex.EncodeToString(s.SpanId)] = true
			}
		}
	}
}

// Spans still pending when the shell ends are flushed and posted before
// sissim exits: the collector receives every span recorded.
func TestOTLPFlushedAtExit(t *testing.T) {
	rcv := &otlpReceiver{spans: map[string]bool{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	code, out, errOut := run(t, "shell", "--features", "all", "-c",
		"otelctl init --endpoint "+srv.URL+"; otelctl enable-tracing; agentsys test-fs-list; agentsys test-fs-stat; otelctl status")
	require.Equal(t, 0, code, errOut)
	m := regexp.MustCompile(`Spans: recorded=(\d+) pending=(\d+) exported=0`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	recorded, _ := strconv.Atoi(m[1])
	require.Positive(t, recorded)
	require.Equal(t, m[1], m[2], "nothing was exported before the exit")
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	require.Len(t, rcv.spans, recorded)
	require.NotContains(t, errOut, "span(s) lost")
	require.Contains(t, errOut, "/otel/spans.json", "the span file is named among the files gone at exit")
}
