package decision

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/model"
)

var (
	epoch    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	trainCfg = model.TrainConfig{Seed: 1, Samples: 6000, Epochs: 30, Hidden: []int{16}, Activation: model.ReLU, LearningRate: 0.05}
	// models caches trained models by seed (training is deterministic;
	// tests only read them).
	models   = map[uint64]*model.Model{}
	modelsMu sync.Mutex
)

// testModel is a trained model with its version and hash.
type testModel struct {
	version, hash string
	m             *model.Model
}

func trainModel(t testing.TB, version string, seed uint64) testModel {
	t.Helper()
	modelsMu.Lock()
	defer modelsMu.Unlock()
	m := models[seed]
	if m == nil {
		cfg := trainCfg
		cfg.Seed = seed
		var err error
		m, _, err = model.Train(cfg)
		require.NoError(t, err)
		models[seed] = m
	}
	bin, err := m.MarshalBinary()
	require.NoError(t, err)
	return testModel{version: version, hash: model.HashHex(bin), m: m}
}

// lookupOf returns a Lookup over the given models.
func lookupOf(ms ...testModel) Lookup {
	return func(v string) (Predictor, string, error) {
		for _, m := range ms {
			if m.version == v {
				return ModelPredictor(m.m), m.hash, nil
			}
		}
		return nil, "", errors.New("no such model")
	}
}

// decide builds the trace of one decision the way the autonomy loop
// does: real inference on features, policy checks, alternatives.
func decide(tm testModel, features []float32, at time.Duration, executed bool) DecisionTrace {
	out := Output(tm.m.Infer(features))
	mem := float64(features[model.FeatureMemPressure])
	return DecisionTrace{
		TimestampUs:  uint64(at / time.Microsecond),
		ModelVersion: tm.version,
		ModelHash:    tm.hash,
		Telemetry: Telemetry{MemPressure: mem, MemUsedBytes: uint64(mem * (64 << 20)), MemBudgetBytes: 64 << 20,
			DeadlineMisses: uint64(features[model.FeatureDeadlineMisses] * 10), CPUUsage: float64(features[model.FeatureCPUUsage]),
			RunQueue: int(features[model.FeatureRunQueue] * 8)},
		Features:          features,
		SystemState:       SystemState{UptimeMs: uint64(at / time.Millisecond), HeapUsed: 1 << 20, ProcessesRunning: 2},
		HiddenActivations: out.Hidden,
		PolicyChecks:      []PolicyCheck{{CheckName: "confidence", Passed: out.Confidence >= 500, Value: float64(out.Confidence), Threshold: 500}},
		Predictions:       out.Scores,
		ChosenAction:      out.Action,
		Confidence:        out.Confidence,
		Alternatives:      TopAlternatives(out.Scores, 3),
		WasExecuted:       executed,
	}
}
