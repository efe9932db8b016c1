package shadow

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/decision"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	reg     *model.Registry
	ag      *Agent
	fs      afero.Fs
	console *bytes.Buffer
	now     time.Duration
}

func newEnv(t testing.TB, reg *model.Registry) *env {
	e := &env{reg: reg, fs: afero.NewMemMapFs(), console: &bytes.Buffer{}}
	e.ag = New(Config{Models: FromRegistry(reg), Fs: e.fs, Console: e.console,
		Wall: func() time.Time { return epoch.Add(e.now) }})
	return e
}

// run makes n decisions with the active model on synthetic telemetry
// (model.Dataset: half the samples close to the policy thresholds), as
// the autonomy loop does, returning the results.
func (e *env) run(t testing.TB, n int) []Result {
	return e.runInputs(t, model.Dataset(5, n).Inputs)
}

// runInputs makes one decision per input.
func (e *env) runInputs(t testing.TB, inputs [][]float32) []Result {
	act := e.reg.Active()
	require.NotNil(t, act)
	var out []Result
	for i, in := range inputs {
		e.now += 500 * time.Millisecond
		prod := decision.Output(act.Model.Infer(in))
		out = append(out, e.ag.Decide(uint64(i+1), in, prod))
	}
	return out
}

func exec(t testing.TB, a *Agent, line string) (string, error) {
	var b bytes.Buffer
	err := a.Command(&b, strings.Fields(line))
	return b.String(), err
}

func TestDisagreeingShadowRollsBackAtThreshold(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	out, err := exec(t, e.ag, "enable 2.0.0")
	require.NoError(t, err)
	assert.Equal(t, "Shadow agent enabled (LogOnly mode)\n", out)
	_, shadowV, _ := e.reg.Status()
	assert.Equal(t, "2.0.0", shadowV)

	// LogOnly runs the shadow but compares nothing.
	for _, r := range e.run(t, 20) {
		assert.True(t, r.Ran)
		assert.False(t, r.Compared)
	}
	out, err = exec(t, e.ag, "threshold 5")
	require.NoError(t, err)
	assert.Equal(t, "Divergence threshold set to: 5\n", out)
	out, err = exec(t, e.ag, "mode compare")
	require.NoError(t, err)
	assert.Equal(t, "Shadow mode set to: Compare\n", out)

	res := e.run(t, 200)
	var divergences, rolled int
	for i, r := range res {
		if r.Diverged {
			divergences++
		}
		if r.RolledBack {
			rolled++
			assert.Equal(t, 5, divergences, "rollback at the 5th divergence")
			for _, later := range res[i+1:] {
				assert.False(t, later.Ran, "the shadow stops after the rollback")
			}
		}
	}
	require.Equal(t, 1, rolled)
	st := e.ag.Stats()
	assert.Equal(t, Disabled, st.Mode)
	assert.Equal(t, uint64(1), st.Rollbacks)
	_, shadowV, _ = e.reg.Status()
	assert.Equal(t, "", shadowV, "the registry's shadow slot is cleared")
	assert.Equal(t, "1.0.0", e.reg.Active().Version)

	assert.Equal(t, "[ROLLBACK] Triggered: divergence threshold reached (5 divergences >= 5)\n"+
		"[ROLLBACK] Complete - reverted to production model\n", e.console.String())
	log, err := afero.ReadFile(e.fs, DefaultRollbackLog)
	require.NoError(t, err)
	assert.Regexp(t, `^\{"event":"rollback","from":"2\.0\.0","to":"1\.0\.0","time":"2026-01-02T03:04:[0-9.]+Z","reason":"divergence threshold reached \(5 divergences >= 5\)"\}\n$`, string(log))
}

func TestDisagreeingShadowRollsBackOnRate(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	require.NoError(t, e.ag.Enable("2.0.0"))
	require.NoError(t, e.ag.SetTraffic(10)) // CanaryPartial
	require.Equal(t, CanaryPartial, e.ag.Stats().Mode)
	res := e.run(t, 200)
	at := -1
	for i, r := range res {
		if r.RolledBack {
			at = i
		}
	}
	require.GreaterOrEqual(t, at, MinRateSample-1, "no rate rollback before the minimum sample")
	assert.Less(t, at, 200)
	assert.Contains(t, e.console.String(), "[ROLLBACK] Triggered: divergence rate exceeded (")
	assert.Contains(t, e.console.String(), "[ROLLBACK] Complete - reverted to production model\n")
	log, err := afero.ReadFile(e.fs, DefaultRollbackLog)
	require.NoError(t, err)
	assert.Contains(t, string(log), `"reason":"divergence rate exceeded`)
}

func TestAgreeingShadowPromotes(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	_, err := exec(t, e.ag, "promote")
	require.ErrorIs(t, err, ErrNoShadow, "promote without a shadow")

	_, err = exec(t, e.ag, "enable 1.1.0")
	require.NoError(t, err)
	_, err = exec(t, e.ag, "mode canary10")
	require.NoError(t, err)
	// A mixed workload (tracectl demo's inputs): two models trained with
	// different seeds agree on all but a few decisions near the policy
	// thresholds.
	res := e.runInputs(t, decision.DemoInputs(300))
	routed := 0
	for _, r := range res {
		require.False(t, r.RolledBack)
		if r.UseShadow {
			routed++
		}
	}
	assert.InDelta(t, 30, routed, 15, "about 10%% of decisions go to the canary")
	st := e.ag.Stats()
	assert.LessOrEqual(t, st.Rate(), PromoteMaxRate)
	out, err := exec(t, e.ag, "status")
	require.NoError(t, err)
	assert.Contains(t, out, "Shadow Agent Status:\n  Mode: CanaryPartial\n  Decisions: 300\n  Divergences: ")
	assert.Regexp(t, `  Divergences: \d+ \(\d+\.\d\d%\)\n`, out)

	out, err = exec(t, e.ag, "promote")
	require.NoError(t, err)
	assert.Equal(t, "Promotion complete: 1.1.0 is now active\n", out)
	active, shadowV, rollback := e.reg.Status()
	assert.Equal(t, []string{"1.1.0", "", "1.0.0"}, []string{active, shadowV, rollback})
	assert.Equal(t, "1.1.0", e.reg.Active().Version)
	assert.Equal(t, Disabled, e.ag.Stats().Mode)
}

// Promotion needs evidence: MinPromote decisions compared with
// production. Decisions seen in log-only mode are not comparisons.
func TestPromoteRefusedWithoutEvidence(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	require.NoError(t, e.ag.Enable("1.1.0"))
	_, err := exec(t, e.ag, "promote")
	require.ErrorIs(t, err, ErrTooFewComparisons, "no decision at all")
	e.run(t, 30) // LogOnly: seen, not compared
	_, err = exec(t, e.ag, "promote")
	require.ErrorIs(t, err, ErrTooFewComparisons)
	require.ErrorContains(t, err, "0 of the 20 needed")
	require.NoError(t, e.ag.SetMode(Compare))
	e.run(t, DefaultMinPromote-1)
	_, err = exec(t, e.ag, "promote")
	require.ErrorContains(t, err, "19 of the 20 needed")
	assert.Equal(t, "1.0.0", e.reg.Active().Version, "nothing promoted")
	e.run(t, 1)
	out, err := exec(t, e.ag, "promote")
	require.NoError(t, err, out)
	assert.Equal(t, "1.1.0", e.reg.Active().Version)
}

func TestPromoteRefusedAboveTenPercent(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	require.NoError(t, e.ag.Enable("2.0.0"))
	require.NoError(t, e.ag.SetMode(Compare))
	require.NoError(t, e.ag.SetThreshold(MaxThreshold))
	e.ag.cfg.MinPromote = 10
	e.run(t, 15) // below the rate rollback's minimum sample
	require.Greater(t, e.ag.Stats().Rate(), PromoteMaxRate)
	out, err := exec(t, e.ag, "promote")
	require.ErrorIs(t, err, ErrRateTooHigh)
	assert.Equal(t, "WARNING: Divergence rate > 10%\n", out)
	assert.Equal(t, "1.0.0", e.reg.Active().Version, "nothing promoted")
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	for _, c := range []struct{ line, err string }{
		{"threshold 0", "out of range"},
		{"threshold -3", "out of range"},
		{"threshold 1000001", "out of range"},
		{"threshold many", "not a number"},
		{"enable 9.9.9", "9.9.9"},
		{"enable 1.0.0", "active model"},
		{"mode compare", "no shadow model"},
		{"mode fast", "unknown mode"},
		{"promote", "no shadow model"},
		{"frobnicate", "unknown subcommand"},
		{"", "usage: shadowctl"},
		{"enable", "usage: shadowctl enable"},
	} {
		_, err := exec(t, e.ag, c.line)
		require.Error(t, err, c.line)
		assert.Contains(t, err.Error(), c.err, c.line)
	}
	assert.Equal(t, DefaultThreshold, e.ag.Stats().Threshold, "bad thresholds change nothing")
	out, err := exec(t, e.ag, "disable")
	require.NoError(t, err)
	assert.Equal(t, "Shadow agent disabled (it was not enabled)\n", out)
}

// TestShadowctlCompare: shadowctl compare lists the recent comparisons,
// and says when there is no shadow.
func TestShadowctlCompare(t *testing.T) {
	e := newEnv(t, testRegistry(t))
	_, err := exec(t, e.ag, "compare")
	require.ErrorIs(t, err, ErrNoShadow)
	_, err = exec(t, e.ag, "enable 1.1.0")
	require.NoError(t, err)
	_, err = exec(t, e.ag, "mode canary100")
	require.NoError(t, err)
	e.run(t, 5)
	out, err := exec(t, e.ag, "compare")
	require.NoError(t, err)
	assert.Contains(t, out, "Shadow Comparison (1.1.0 vs production, mode CanaryFull):\n")
	assert.Contains(t, out, "(executed by shadow)")
	_, err = exec(t, e.ag, "compare x")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
}

func TestCanaryRoutingDeterministic(t *testing.T) {
	n := 0
	for id := uint64(1); id <= 10000; id++ {
		if Routed(id, 10) {
			n++
		}
		assert.Equal(t, Routed(id, 10), Routed(id, 10))
		if Routed(id, 10) {
			assert.True(t, Routed(id, 50), "a larger share keeps the smaller one's decisions")
		}
	}
	assert.InDelta(t, 1000, n, 100)
	assert.False(t, Routed(1, 0))
	assert.True(t, Routed(1, 100))
}

func TestDivergesRule(t *testing.T) {
	p := decision.Output{Action: 1, Confidence: 900}
	assert.False(t, Diverges(p, decision.Output{Action: 1, Confidence: 700}))
	assert.True(t, Diverges(p, decision.Output{Action: 1, Confidence: 699}))
	assert.True(t, Diverges(p, decision.Output{Action: 2, Confidence: 900}))
}

// TestRollbackLogDeterministic runs the same disagreeing shadow twice and
// compares the rollback logs and console output byte for byte.
func TestRollbackLogDeterministic(t *testing.T) {
	reg := testRegistry(t)
	var logs, consoles []string
	for range 2 {
		e := newEnv(t, reg)
		require.NoError(t, e.ag.Enable("2.0.0"))
		require.NoError(t, e.ag.SetMode(CanaryFull))
		e.run(t, 300)
		b, err := afero.ReadFile(e.fs, DefaultRollbackLog)
		require.NoError(t, err)
		logs = append(logs, string(b))
		consoles = append(consoles, e.console.String())
	}
	require.NotEmpty(t, logs[0])
	assert.Equal(t, logs[0], logs[1])
	assert.Equal(t, consoles[0], consoles[1])
}

func BenchmarkShadowDecide(b *testing.B) {
	e := newEnv(b, testRegistry(b))
	require.NoError(b, e.ag.Enable("1.1.0"))
	require.NoError(b, e.ag.SetMode(Compare))
	require.NoError(b, e.ag.SetThreshold(MaxThreshold))
	shadow, err := e.reg.Get("1.1.0")
	require.NoError(b, err)
	// An input on which the models agree, so that no rollback stops the
	// shadow during the benchmark.
	var in []float32
	var prod decision.Output
	for _, x := range decision.DemoInputs(100) {
		prod = decision.Output(e.reg.Active().Model.Infer(x))
		if !Diverges(prod, decision.Output(shadow.Model.Infer(x))) {
			in = x
			break
		}
	}
	require.NotNil(b, in)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := e.ag.Decide(uint64(i), in, prod); !r.Ran {
			b.Fatal("the shadow did not run")
		}
	}
}
