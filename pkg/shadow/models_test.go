package shadow

import (
	"crypto/ed25519"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/model"
)

// trainCfg trains small models quickly (about 99% accuracy on the
// reference policy; the health check needs 95%).
var trainCfg = model.TrainConfig{Seed: 1, Samples: 6000, Epochs: 30, Hidden: []int{16}, Activation: model.ReLU, LearningRate: 0.05}

// trained caches the models trained with seeds 1 and 7 (training is
// deterministic; the tests only read them).
var trained = sync.OnceValues(func() ([2]*model.Model, [2]*model.TrainInfo) {
	var ms [2]*model.Model
	var infos [2]*model.TrainInfo
	for i, seed := range []uint64{1, 7} {
		cfg := trainCfg
		cfg.Seed = seed
		m, info, err := model.Train(cfg)
		if err != nil {
			panic(err)
		}
		ms[i], infos[i] = m, info
	}
	return ms, infos
})

// swapActions returns a copy of m whose outputs for actions a and b are
// exchanged: a model that disagrees with m whenever m picks a or b.
func swapActions(m *model.Model, a, b int) *model.Model {
	c := *m
	c.Weights = append([][]float32(nil), m.Weights...)
	c.Biases = append([][]float32(nil), m.Biases...)
	l := len(c.Weights) - 1
	w := append([]float32(nil), c.Weights[l]...)
	bias := append([]float32(nil), c.Biases[l]...)
	n := c.Sizes[l]
	for i := 0; i < n; i++ {
		w[a*n+i], w[b*n+i] = w[b*n+i], w[a*n+i]
	}
	bias[a], bias[b] = bias[b], bias[a]
	c.Weights[l], c.Biases[l] = w, bias
	return &c
}

// testRegistry opens a registry holding signed packages: "1.0.0" (active,
// trained on the reference policy), "1.1.0" (trained with another seed:
// agrees with 1.0.0) and "2.0.0" (1.0.0 with reclaim_memory and
// boost_deadline exchanged, with a health set labelled the same way, so
// it passes its health check but disagrees with 1.0.0).
func testRegistry(t testing.TB) *model.Registry {
	t.Helper()
	dir := t.TempDir()
	key := model.KeyFromSeed("shadow-test")
	health := model.Dataset(99, 300)

	ms, infos := trained()
	m1 := ms[0]
	require.NoError(t, model.WritePackage(filepath.Join(dir, "1.0.0"), "1.0.0", "production", m1, infos[0], health, key))
	require.NoError(t, model.WritePackage(filepath.Join(dir, "1.1.0"), "1.1.0", "agreeing candidate", ms[1], infos[1], health, key))

	bad := swapActions(m1, model.ActionReclaimMemory, model.ActionBoostDeadline)
	swapped := model.HealthSet{Inputs: health.Inputs, Expected: make([]int, len(health.Expected))}
	for i, e := range health.Expected {
		switch e {
		case model.ActionReclaimMemory:
			e = model.ActionBoostDeadline
		case model.ActionBoostDeadline:
			e = model.ActionReclaimMemory
		}
		swapped.Expected[i] = e
	}
	require.NoError(t, model.WritePackage(filepath.Join(dir, "2.0.0"), "2.0.0", "disagreeing candidate", bad, nil, swapped, key))

	var now time.Duration
	reg, err := model.Open(model.Config{
		FS: afero.NewBasePathFs(afero.NewOsFs(), dir), Dir: "/",
		TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)},
		Now:         func() time.Duration { now += time.Millisecond; return now },
	})
	require.NoError(t, err)
	_, err = reg.Swap("1.0.0")
	require.NoError(t, err)
	return reg
}
