package sis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/model"
)

// modelbench runs on the machine what Model.Infer computes: the same
// action on every test input of every built-in package that loads, and
// of a tanh model; its latencies are machine time and grow with the
// model's work.
func TestBenchModelMatchesInfer(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	p50 := map[string]time.Duration{}
	check := func(l *model.Loaded) []model.Measured {
		t.Helper()
		before := m.Now()
		res, err := m.benchModel(l)
		require.NoError(t, err, l.Version)
		require.Len(t, res, len(l.Health.Inputs))
		var sum time.Duration
		for i, in := range l.Health.Inputs {
			require.Equal(t, l.Model.Infer(in).Action, res[i].Action, "%s input %d", l.Version, i)
			require.Positive(t, res[i].Latency)
			sum += res[i].Latency
		}
		require.GreaterOrEqual(t, m.Now()-before, sum, "the inferences took machine time")
		p50[l.Version] = res[len(res)/2].Latency
		return res
	}
	for _, v := range []string{"v1.0.0", "v1.1.0", "v1.2.0-undertrained", "v1.3.0-slow"} {
		l, err := m.Models().Get(v)
		require.NoError(t, err)
		check(l)
	}
	require.Greater(t, p50["v1.3.0-slow"], 100*p50["v1.0.0"], "640-wide layers take far longer than 16-wide ones")

	// A tanh model with weights of both signs.
	base, err := m.Models().Get("v1.0.0")
	require.NoError(t, err)
	tm, err := model.New([]int{model.NumFeatures, 12, 8, model.NumActions}, model.Tanh)
	require.NoError(t, err)
	k := 0
	for l := range tm.Weights {
		for i := range tm.Weights[l] {
			k++
			tm.Weights[l][i] = float32(k%17-8) / 5
		}
		for i := range tm.Biases[l] {
			tm.Biases[l][i] = float32(i%5-2) / 7
		}
	}
	check(&model.Loaded{Version: "tanh", Model: tm, Health: base.Health})

	// A run while one is running is refused, never nested.
	m.bench.running = true
	_, err = m.benchModel(base)
	require.ErrorContains(t, err, "already running")
	m.bench.running = false
}

// The same machine doing the same things measures the same latencies.
func TestBenchModelIsDeterministic(t *testing.T) {
	run := func() []model.Measured {
		m := bootServices(t, kernel.Config{})
		l, err := m.Models().Get("v1.1.0")
		require.NoError(t, err)
		res, err := m.benchModel(l)
		require.NoError(t, err)
		return res
	}
	require.Equal(t, run(), run())
}
