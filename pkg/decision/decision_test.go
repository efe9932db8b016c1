package decision

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/model"
)

func TestRecorderRingAndLog(t *testing.T) {
	tm := trainModel(t, "1.0.0", 1)
	fs := afero.NewMemMapFs()
	var console bytes.Buffer
	r := NewRecorder(Config{Fs: fs, Console: &console})
	inputs := DemoInputs(1030)
	for i, in := range inputs {
		id := r.Record(decide(tm, in, time.Duration(i+1)*500*time.Millisecond, i%3 != 0))
		require.Equal(t, uint64(i+1), id)
	}
	require.NoError(t, r.Flush())

	// Ring: the last 1024, in order.
	all := r.All()
	require.Len(t, all, DefaultCapacity)
	assert.Equal(t, uint64(7), all[0].TraceID)
	assert.Equal(t, uint64(1030), all[len(all)-1].TraceID)
	_, ok := r.Get(6)
	assert.False(t, ok, "trace 6 left the ring")
	tr, ok := r.Get(500)
	require.True(t, ok)
	assert.Equal(t, uint64(500), tr.TraceID)
	assert.Equal(t, inputs[499], tr.Features)

	// Console: one [DECISION] line per trace.
	lines := strings.Split(strings.TrimSuffix(console.String(), "\n"), "\n")
	require.Len(t, lines, 1030)
	first := decide(tm, inputs[0], 0, false)
	assert.Equal(t, "[DECISION] id=1 action="+itoa(first.ChosenAction)+" conf="+itoa(first.Confidence)+" exec=no", lines[0])
	assert.Regexp(t, `^\[DECISION\] id=2 action=\d conf=\d+ exec=yes$`, lines[1])

	// Log: every trace, one JSON object per line, that parses back.
	data, err := afero.ReadFile(fs, DefaultLogPath)
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var got DecisionTrace
		require.NoError(t, json.Unmarshal(sc.Bytes(), &got))
		n++
		require.Equal(t, uint64(n), got.TraceID)
		if n == 500 {
			assert.Equal(t, tr, got, "the log holds the trace exactly")
		}
	}
	assert.Equal(t, 1030, n)
	s := r.Stats()
	assert.Equal(t, uint64(1030), s.Recorded)
	assert.Equal(t, uint64(1030), s.LogLines)
	assert.Zero(t, s.LogErrors)
	assert.Zero(t, s.Pending)
	assert.Equal(t, 1024, s.Total)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestRecorderLogErrorsKeepRing(t *testing.T) {
	tm := trainModel(t, "1.0.0", 1)
	r := NewRecorder(Config{Fs: afero.NewReadOnlyFs(afero.NewMemMapFs()), FlushEvery: 4})
	for i, in := range DemoInputs(10) {
		r.Record(decide(tm, in, time.Duration(i)*time.Second, true))
	}
	require.Error(t, r.Flush())
	s := r.Stats()
	assert.Equal(t, uint64(10), s.LogErrors, "every lost line is counted")
	assert.Zero(t, s.LogLines)
	assert.Equal(t, 10, s.Total, "the ring keeps every trace")
	assert.Error(t, r.LastLogError())
}

func TestTopAlternatives(t *testing.T) {
	alts := TopAlternatives([]float32{0.1, 0.6, 0.1, 0.2}, 3)
	assert.Equal(t, []Alternative{{1, 600}, {3, 200}, {0, 100}}, alts)
	assert.Len(t, TopAlternatives([]float32{1}, 3), 1)
	assert.Empty(t, TopAlternatives([]float32{1}, -1))
}

// scaled returns m with its output layer scaled by k: the same ranking,
// flatter scores, lower confidence (a degrading model).
func scaled(m *model.Model, k float32) *model.Model {
	c := *m
	c.Weights = append([][]float32(nil), m.Weights...)
	c.Biases = append([][]float32(nil), m.Biases...)
	l := len(c.Weights) - 1
	c.Weights[l] = append([]float32(nil), c.Weights[l]...)
	c.Biases[l] = append([]float32(nil), c.Biases[l]...)
	for i := range c.Weights[l] {
		c.Weights[l][i] *= k
	}
	for i := range c.Biases[l] {
		c.Biases[l][i] *= k
	}
	return &c
}

func TestDriftWarningThenAlert(t *testing.T) {
	tm := trainModel(t, "1.0.0", 1)
	var out bytes.Buffer
	d := NewDriftMonitor(&out)
	inputs := DemoInputs(DriftWindow)
	avgConf := func(m *model.Model) float64 {
		sum := 0
		for _, in := range inputs {
			sum += m.Infer(in).Confidence
		}
		return float64(sum) / float64(len(inputs))
	}
	feed := func(m *model.Model) (last DriftLevel) {
		for _, in := range inputs {
			last = d.Observe(m.Infer(in).Confidence)
		}
		return last
	}
	// Fewer than DriftMinSamples samples are never judged.
	d.Observe(0)
	assert.Equal(t, DriftNone, d.State().Level)
	d.Reset()

	// Degrade the trained model step by step (flatter outputs, same
	// ranking) and pick one at the baseline, one in the warning band and
	// one beyond the alert delta: real inference, falling confidence.
	var okK, warnK, alertK float32
	for k := float32(1); k > 0.01 && alertK == 0; k -= 0.01 {
		delta := avgConf(scaled(tm.m, k)) - DriftBaseline
		switch {
		case okK == 0 && delta < DriftRearmDelta-10 && delta > -DriftRearmDelta+10:
			okK = k
		case okK != 0 && warnK == 0 && delta < -DriftWarnDelta-10 && delta > -DriftAlertDelta+10:
			warnK = k
		case warnK != 0 && delta < -DriftAlertDelta-10:
			alertK = k
		}
	}
	require.NotZero(t, okK)
	require.NotZero(t, warnK)
	require.NotZero(t, alertK)

	// Warm-up: averages of the first few samples may stray (and warn);
	// the full window of the healthy model is at the baseline.
	assert.Equal(t, DriftNone, feed(scaled(tm.m, okK)))
	assert.NotContains(t, out.String(), "ALERT")
	out.Reset()

	assert.Equal(t, DriftWarning, feed(scaled(tm.m, warnK)))
	assert.Regexp(t, `^\[DRIFT WARNING\] confidence: delta=-1\d\d\.\d\d\n$`, out.String())
	assert.False(t, d.State().Alerted)

	assert.Equal(t, DriftAlert, feed(scaled(tm.m, alertK)))
	assert.Regexp(t, `\n\[DRIFT ALERT\] confidence: baseline=800, current=\d+\.\d\d, delta=-\d+\.\d\d\n$`, out.String())
	st := d.State()
	assert.True(t, st.Alerted)
	assert.Less(t, st.Delta, float64(-DriftAlertDelta))
	assert.Equal(t, 2, strings.Count(out.String(), "\n"), "each level is announced once")

	// The alert stays latched while confidence recovers, until Reset.
	assert.Equal(t, DriftNone, feed(scaled(tm.m, okK)))
	assert.True(t, d.State().Alerted)
	d.Reset()
	assert.False(t, d.State().Alerted)
	assert.Zero(t, d.State().Samples)

	// |avg - baseline| as the spec says: a model more confident than the
	// baseline by over 100 warns too (it cannot reach an alert: the
	// confidence is at most 1000).
	out.Reset()
	require.Greater(t, avgConf(tm.m), float64(DriftBaseline+DriftWarnDelta))
	assert.Equal(t, DriftWarning, feed(tm.m))
	assert.Regexp(t, `^\[DRIFT WARNING\] confidence: delta=1\d\d\.\d\d\n$`, out.String())
}

func TestReplay(t *testing.T) {
	v1 := trainModel(t, "1.0.0", 1)
	v2 := trainModel(t, "1.1.0", 7)
	r := NewRecorder(Config{})
	for i, in := range DemoInputs(40) {
		m := v1
		if i >= 20 {
			m = v2 // a swap in the middle
		}
		r.Record(decide(m, in, time.Duration(i)*500*time.Millisecond, true))
	}
	var buf bytes.Buffer
	require.NoError(t, WriteExport(&buf, r.All()))
	fs := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fs, "/tmp/d.json", buf.Bytes(), 0o644))

	rep, err := ReplayFile(fs, "/tmp/d.json", lookupOf(v1, v2))
	require.NoError(t, err)
	assert.Equal(t, ReplayReport{Total: 40, Reproduced: 40}, rep)
	assert.True(t, rep.OK())

	// A model with the recorded version but other weights does not
	// reproduce (hash differs), nor does a tampered record.
	impostor := v2
	impostor.version = "1.0.0"
	rep, err = ReplayFile(fs, "/tmp/d.json", lookupOf(impostor, v2))
	require.NoError(t, err)
	assert.Equal(t, 20, rep.Reproduced)
	assert.Contains(t, rep.Mismatches[0].Reason, "hash")
	traces := r.All()
	traces[3].Predictions = append([]float32(nil), traces[3].Predictions...)
	traces[3].Predictions[0] += 0.001
	traces[5].Confidence++
	rep, err = Replay(traces, lookupOf(v1, v2))
	require.NoError(t, err)
	assert.Equal(t, 38, rep.Reproduced)
	assert.Equal(t, []uint64{4, 6}, []uint64{rep.Mismatches[0].TraceID, rep.Mismatches[1].TraceID})

	// Unknown model versions are errors.
	_, err = ReplayFile(fs, "/tmp/d.json", lookupOf(v1))
	require.ErrorContains(t, err, `trace 21: model version "1.1.0"`)

	// Malformed files.
	for name, content := range map[string]string{
		"notjson":   `{"format":`,
		"format":    `{"format":"other","decisions":[]}`,
		"nodec":     `{"format":"sissim-decisions/1"}`,
		"noversion": `{"format":"sissim-decisions/1","decisions":[{"trace_id":3,"features":[0.1],"predictions":[1]}]}`,
		"nofeat":    `{"format":"sissim-decisions/1","decisions":[{"trace_id":3,"model_version":"1.0.0","predictions":[1]}]}`,
		"unknown":   `{"format":"sissim-decisions/1","decisions":[],"extra":1}`,
		"trailing":  `{"format":"sissim-decisions/1","decisions":[]} {}`,
		"badtype":   `{"format":"sissim-decisions/1","decisions":[{"trace_id":"x"}]}`,
	} {
		require.NoError(t, afero.WriteFile(fs, "/tmp/"+name, []byte(content), 0o644))
		_, err := ReplayFile(fs, "/tmp/"+name, lookupOf(v1, v2))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "decision export", name)
	}
	_, err = ReplayFile(fs, "/tmp/missing", lookupOf(v1))
	require.Error(t, err)
}

func TestBundle(t *testing.T) {
	tm := trainModel(t, "1.0.0", 1)
	r := NewRecorder(Config{})
	for i, in := range DemoInputs(3) {
		r.Record(decide(tm, in, time.Duration(i)*time.Second, true))
	}
	fs := afero.NewMemMapFs()
	commit, stamp := BuildVCS()
	snap := Snapshot{
		Now:    epoch.Add(90 * time.Second),
		Model:  ModelInfo{Version: tm.version, Hash: tm.hash, LoadedAt: epoch.Add(time.Second).Format(time.RFC3339Nano)},
		System: SystemSnapshot{UptimeMs: 90000, HeapStats: map[string]uint64{"rss": 3, "mapped": 7}, Logs: []string{"GIC: INIT"}},
		Config: BuildConfig{Features: []string{"decision-traces"}, GitCommit: commit, BuildTimestamp: stamp},
	}
	p, err := ExportBundle(fs, "", "", snap, r.All())
	require.NoError(t, err)
	assert.Equal(t, "/incidents/INC-20260102-001.json", p)
	p2, err := ExportBundle(fs, "", "", snap, r.Recent(1))
	require.NoError(t, err)
	assert.Equal(t, "/incidents/INC-20260102-002.json", p2)

	data, err := afero.ReadFile(fs, p)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "{\n  \"incident_id\": \"INC-20260102-001\",\n  \"exported_at\": \"2026-01-02T03:05:35Z\",\n"), string(data[:100]))
	var b map[string]any
	require.NoError(t, json.Unmarshal(data, &b))
	for _, k := range []string{"incident_id", "exported_at", "traces", "model_info", "system_snapshot", "config"} {
		assert.Contains(t, b, k)
	}
	assert.Len(t, b["traces"], 3)
	assert.Equal(t, map[string]any{"version": "1.0.0", "hash": tm.hash, "loaded_at": "2026-01-02T03:04:06Z"}, b["model_info"])
	sys := b["system_snapshot"].(map[string]any)
	assert.Equal(t, float64(90000), sys["uptime_ms"])
	assert.Contains(t, sys, "heap_stats")
	assert.Contains(t, sys, "logs")
	cfg := b["config"].(map[string]any)
	assert.Equal(t, commit, cfg["git_commit"])
	assert.Equal(t, stamp, cfg["build_timestamp"])

	// An explicit path; nothing is left behind but the bundle.
	p3, err := ExportBundle(fs, "", "/tmp/mine.json", snap, r.All())
	require.NoError(t, err)
	assert.Equal(t, "/tmp/mine.json", p3)
	d3, err := afero.ReadFile(fs, p3)
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(string(data), "INC-20260102-001", "mine", 1), string(d3))
	_, err = fs.Stat("/tmp/.mine.json.tmp")
	assert.True(t, err != nil)
}

func TestBuildVCS(t *testing.T) {
	commit, stamp := BuildVCS()
	// Test binaries carry no VCS stamp: nothing is invented.
	assert.Equal(t, "unknown", commit)
	assert.Equal(t, "unknown", stamp)
}

// TestDeterministic runs the same decisions twice and compares console
// output, decision log, export file and incident bundle byte for byte.
func TestDeterministic(t *testing.T) {
	tm := trainModel(t, "1.0.0", 1)
	run := func() []string {
		fs := afero.NewMemMapFs()
		var console bytes.Buffer
		r := NewRecorder(Config{Fs: fs, Console: &console})
		for i, in := range DemoInputs(200) {
			r.Record(decide(tm, in, time.Duration(i)*500*time.Millisecond, i%2 == 0))
		}
		tc := &Tracectl{Rec: r, Fs: fs, Snapshot: func() Snapshot {
			return Snapshot{Now: epoch, Model: ModelInfo{Version: tm.version, Hash: tm.hash}, System: SystemSnapshot{HeapStats: map[string]uint64{"a": 1, "b": 2, "c": 3}}}
		}}
		var out bytes.Buffer
		require.NoError(t, tc.Command(&out, []string{"export", "--all"}))
		log, err := afero.ReadFile(fs, DefaultLogPath)
		require.NoError(t, err)
		bundle, err := afero.ReadFile(fs, "/incidents/INC-20260102-001.json")
		require.NoError(t, err)
		var exp bytes.Buffer
		require.NoError(t, WriteExport(&exp, r.All()))
		return []string{console.String(), string(log), string(bundle), exp.String(), out.String()}
	}
	a, b := run(), run()
	for i := range a {
		require.NotEmpty(t, a[i])
		assert.Equal(t, a[i], b[i], "output %d", i)
	}
}

func TestDriftHysteresis(t *testing.T) {
	var out bytes.Buffer
	d := NewDriftMonitor(&out)
	series := func(v, n int) {
		for range n {
			d.Observe(v)
		}
	}
	series(695, DriftWindow) // delta -105: warning, announced
	require.Equal(t, DriftWarning, d.State().Level)
	series(760, 10) // back to -98.5: no warning, not re-armed
	require.Equal(t, DriftNone, d.State().Level)
	series(600, 10) // warning again: not repeated
	require.Equal(t, DriftWarning, d.State().Level)
	assert.Equal(t, 1, strings.Count(out.String(), "[DRIFT WARNING]"))
	series(800, DriftWindow) // re-armed at the baseline
	series(690, DriftWindow)
	assert.Equal(t, 2, strings.Count(out.String(), "[DRIFT WARNING]"))
	assert.Equal(t, "[DRIFT WARNING] confidence: delta=-105.00\n", strings.SplitAfter(out.String(), "\n")[0])
}

// TestTraceJSONFields checks a decision log line against the field names
// of SIS-SPEC.md section 7 (DecisionTrace, its telemetry, system state,
// policy checks and alternatives).
func TestTraceJSONFields(t *testing.T) {
	tm := trainModel(t, "1.0.0", 1)
	fs := afero.NewMemMapFs()
	r := NewRecorder(Config{Fs: fs})
	r.Record(decide(tm, DemoInputs(2)[1], time.Second, true))
	require.NoError(t, r.Flush())
	data, err := afero.ReadFile(fs, DefaultLogPath)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(data), "\n"), "one line per decision")
	var tr map[string]any
	require.NoError(t, json.Unmarshal(data, &tr))
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return out
	}
	assert.ElementsMatch(t, []string{"trace_id", "timestamp_us", "model_version", "model_hash", "telemetry",
		"features", "system_state", "hidden_activations", "policy_checks", "predictions", "chosen_action",
		"confidence", "alternatives", "was_executed", "was_overridden", "override_reason"}, keys(tr))
	assert.Subset(t, keys(tr["telemetry"].(map[string]any)), []string{"mem_pressure", "deadline_misses", "cpu_usage", "network_latency"})
	assert.ElementsMatch(t, []string{"uptime_ms", "heap_used", "processes_running"}, keys(tr["system_state"].(map[string]any)))
	check := tr["policy_checks"].([]any)[0].(map[string]any)
	assert.ElementsMatch(t, []string{"check_name", "passed", "value", "threshold"}, keys(check))
	alts := tr["alternatives"].([]any)
	require.Len(t, alts, 3, "top-3 alternatives")
	assert.ElementsMatch(t, []string{"action", "confidence"}, keys(alts[0].(map[string]any)))
	assert.Equal(t, float64(1), tr["trace_id"])
	assert.Equal(t, float64(1000000), tr["timestamp_us"])
	assert.Len(t, tr["hidden_activations"], 1, "one hidden layer")
	assert.Len(t, tr["predictions"], model.NumActions)
}
