package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
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
