package decision

import (
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

type tcEnv struct {
	tc  *Tracectl
	fs  afero.Fs
	now time.Duration
}

func newTracectl(t *testing.T) *tcEnv {
	tm := trainModel(t, "1.0.0", 1)
	e := &tcEnv{fs: afero.NewMemMapFs()}
	rec := NewRecorder(Config{Fs: e.fs})
	e.tc = &Tracectl{Rec: rec, Fs: e.fs,
		Snapshot: func() Snapshot {
			return Snapshot{Now: epoch.Add(e.now), Model: ModelInfo{Version: tm.version, Hash: tm.hash}}
		},
		// As the kernel does: a real decision with the active model,
		// recorded, not executed.
		Decide: func(f []float32) error {
			e.now += time.Millisecond
			rec.Record(decide(tm, f, e.now, false))
			return nil
		},
	}
	return e
}

func (e *tcEnv) run(t *testing.T, line string) (string, error) {
	var b bytes.Buffer
	err := e.tc.Command(&b, strings.Fields(line))
	return b.String(), err
}

func TestTracectl(t *testing.T) {
	e := newTracectl(t)
	out, err := e.run(t, "list")
	require.NoError(t, err)
	assert.Equal(t, "Recent Decision Traces (last 10):\n  (no traces recorded)\n", out)
	out, err = e.run(t, "stats")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "Trace Buffer Statistics:\n  Total Traces: 0\n  Executed: 0 (0.0%)\n  Overridden: 0\n  High Confidence: 0\n"), out)
	_, err = e.run(t, "export --all")
	require.ErrorContains(t, err, "no traces recorded")

	out, err = e.run(t, "demo 40")
	require.NoError(t, err)
	assert.Equal(t, "Generated 40 demo decision(s) with the active model\n", out)
	// The demo inputs exercise every action of the reference policy.
	for i, in := range DemoInputs(40) {
		want := []int{model.ActionNone, model.ActionReclaimMemory, model.ActionThrottleCPU, model.ActionBoostDeadline}[i%4]
		require.Equal(t, want, model.ReferencePolicy(in), "input %d %v", i, in)
		for _, f := range in {
			require.True(t, f >= 0 && f <= 1, "input %d %v", i, in)
		}
	}

	out, err = e.run(t, "list 3")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, "Recent Decision Traces (last 3):", lines[0])
	assert.Regexp(t, `^  \[38\] t=38000us model=1\.0\.0 action=\d conf=\d+ exec=no$`, lines[1])

	out, err = e.run(t, "show 5")
	require.NoError(t, err)
	tr, _ := e.tc.Rec.Get(5)
	assert.True(t, strings.HasPrefix(out, "Decision Trace Details for ID: 5\n  Timestamp: 5000 us\n  Model: 1.0.0 (hash "+tr.ModelHash+")\n"), out)
	assert.Contains(t, out, "  Policy checks:\n    [")
	assert.Contains(t, out, "  Hidden layer 1: [")

	out, err = e.run(t, "stats")
	require.NoError(t, err)
	s := e.tc.Rec.Stats()
	assert.Contains(t, out, "  Total Traces: 40\n  Executed: 0 (0.0%)\n  Overridden: 0\n  High Confidence: "+itoa(s.High)+"\n")
	assert.Greater(t, s.High, 0)

	out, err = e.run(t, "export 3 5 7")
	require.NoError(t, err)
	assert.Equal(t, "Incident bundle exported to: /incidents/INC-20260102-001.json\n", out)
	var b Bundle
	data, err := afero.ReadFile(e.fs, "/incidents/INC-20260102-001.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &b))
	require.Len(t, b.Traces, 3)
	assert.Equal(t, []uint64{3, 5, 7}, []uint64{b.Traces[0].TraceID, b.Traces[1].TraceID, b.Traces[2].TraceID})

	out, err = e.run(t, "export --recent 4 --path /tmp/x.json")
	require.NoError(t, err)
	assert.Equal(t, "Incident bundle exported to: /tmp/x.json\n", out)
	data, err = afero.ReadFile(e.fs, "/tmp/x.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &b))
	assert.Equal(t, uint64(37), b.Traces[0].TraceID)
	assert.Len(t, b.Traces, 4)
	out, err = e.run(t, "export --all")
	require.NoError(t, err)
	assert.Equal(t, "Incident bundle exported to: /incidents/INC-20260102-002.json\n", out)

	// Export flushed the decision log.
	log, err := afero.ReadFile(e.fs, DefaultLogPath)
	require.NoError(t, err)
	assert.Equal(t, 40, strings.Count(string(log), "\n"))

	out, err = e.run(t, "clear")
	require.NoError(t, err)
	assert.Equal(t, "Cleared 40 trace(s) from buffer\n", out)
	out, err = e.run(t, "list")
	require.NoError(t, err)
	assert.Contains(t, out, "  (no traces recorded)\n")
	_, err = e.run(t, "demo 1")
	require.NoError(t, err)
	out, err = e.run(t, "list 1")
	require.NoError(t, err)
	assert.Contains(t, out, "  [41] ", "ids keep counting after clear")
}

func TestTracectlBadInput(t *testing.T) {
	e := newTracectl(t)
	_, err := e.run(t, "demo 2")
	require.NoError(t, err)
	for _, c := range []struct{ line, err string }{
		{"", "usage: tracectl"},
		{"bogus", "unknown subcommand"},
		{"list 0", "not a positive number"},
		{"list x", "not a positive number"},
		{"list 2000", "more than 1024"},
		{"show", "usage: tracectl show"},
		{"show abc", "not a trace id"},
		{"show 99", "trace 99 is not in the buffer"},
		{"export", "usage: tracectl export"},
		{"export --all --recent 3", "usage: tracectl export"},
		{"export 1 --all", "usage: tracectl export"},
		{"export 99", "trace 99 is not in the buffer"},
		{"export --recent", "usage: tracectl export"},
		{"export --bogus", "unknown option"},
		{"export --all --path", "usage: tracectl export"},
		{"demo -1", "not a positive number"},
		{"demo 5000", "more than 1024"},
		{"clear now", "usage: tracectl clear"},
	} {
		_, err := e.run(t, c.line)
		require.Error(t, err, c.line)
		assert.Contains(t, err.Error(), c.err, c.line)
	}
	assert.Equal(t, 2, e.tc.Rec.Stats().Total, "bad commands change nothing")
	e.tc.Decide = nil
	_, err = e.run(t, "demo")
	require.ErrorContains(t, err, "no decision maker")
}
