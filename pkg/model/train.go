package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// TrainConfig configures Train.
type TrainConfig struct {
	Seed         uint64
	Samples      int   // synthetic training samples
	Epochs       int   // passes over the samples
	Hidden       []int // hidden layer sizes
	Activation   Activation
	LearningRate float32 // initial SGD step (decays linearly to a tenth)
	// Widen, when larger than the hidden sizes, pads every hidden layer
	// to this many neurons with zero weights after training: the same
	// function at a higher inference cost (for testing latency limits).
	Widen int
}

// DefaultTrainConfig is what `sissim model train` uses by default.
var DefaultTrainConfig = TrainConfig{Seed: 1, Samples: 20000, Epochs: 30, Hidden: []int{16, 16}, Activation: ReLU, LearningRate: 0.05}

// sampler draws synthetic telemetry from a PCG generator. It uses only
// the generator's Uint64 stream (a fixed algorithm), so samples are the
// same on every platform and Go version.
type sampler struct{ r *rand.PCG }

func newSampler(seed uint64) *sampler {
	return &sampler{rand.NewPCG(seed, seed^0x5349535f4d4f444c)}
}

// unit returns a float32 uniform in [0,1).
func (s *sampler) unit() float32 { return float32(s.r.Uint64()>>40) / (1 << 24) }

// intn returns an int uniform in [0,n).
func (s *sampler) intn(n int) int { return int(s.r.Uint64() % uint64(n)) }

// near returns a value within w of c, clipped to [0,1].
func (s *sampler) near(c, w float32) float32 {
	return min(max(c+(s.unit()*2-1)*w, 0), 1)
}

// Telemetry returns one synthetic telemetry vector, the way the machine
// reports it: mem_pressure and cpu_usage continuous, deadline_misses,
// run_queue and processes counts (quantized to tenths, eighths and
// 1/32), network_latency 0. Half the samples sit close to one of
// ReferencePolicy's thresholds, where a model has to be precise.
func (s *sampler) Telemetry() []float32 {
	f := make([]float32, NumFeatures)
	f[FeatureMemPressure] = s.unit()
	f[FeatureDeadlineMisses] = float32(s.intn(11)) / 10
	f[FeatureCPUUsage] = s.unit()
	f[FeatureRunQueue] = float32(s.intn(9)) / 8
	f[FeatureProcesses] = float32(s.intn(33)) / 32
	switch s.intn(8) {
	case 0, 1:
		f[FeatureMemPressure] = s.near(PolicyMemHigh, 0.1)
	case 2:
		f[FeatureDeadlineMisses] = float32(1+s.intn(4)) / 10 // 0.1..0.4
		f[FeatureMemPressure] = s.unit() * PolicyMemHigh
	case 3:
		f[FeatureCPUUsage] = s.near(PolicyCPUHigh, 0.1)
		f[FeatureMemPressure] = s.unit() * PolicyMemHigh
		f[FeatureDeadlineMisses] = float32(s.intn(3)) / 10
	}
	return f
}

// Dataset returns n synthetic telemetry vectors labelled by
// ReferencePolicy, drawn from seed.
func Dataset(seed uint64, n int) HealthSet {
	s := newSampler(seed)
	h := HealthSet{Inputs: make([][]float32, n), Expected: make([]int, n)}
	for i := range h.Inputs {
		h.Inputs[i] = s.Telemetry()
		h.Expected[i] = ReferencePolicy(h.Inputs[i])
	}
	return h
}

// Accuracy returns the fraction of d that m classifies as expected.
func Accuracy(m *Model, d HealthSet) float64 {
	if len(d.Inputs) == 0 {
		return 0
	}
	ok := 0
	for i, in := range d.Inputs {
		if m.Infer(in).Action == d.Expected[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(d.Inputs))
}

// Train trains a model deterministically by stochastic gradient descent
// (softmax cross-entropy) on cfg.Samples synthetic telemetry vectors
// labelled by ReferencePolicy. Identical configs give bit-identical
// models on every platform: float32 arithmetic with every product
// rounded, and randomness only from the seeded PCG stream.
func Train(cfg TrainConfig) (*Model, *TrainInfo, error) {
	if cfg.Samples < 1 || cfg.Samples > 10_000_000 {
		return nil, nil, fmt.Errorf("samples %d: want 1..10000000", cfg.Samples)
	}
	if cfg.Epochs < 0 || cfg.Epochs > 10000 {
		return nil, nil, fmt.Errorf("epochs %d: want 0..10000", cfg.Epochs)
	}
	if !(cfg.LearningRate > 0 && cfg.LearningRate < 10) {
		return nil, nil, errors.New("learning rate: want 0 < lr < 10")
	}
	sizes := append(append([]int{NumFeatures}, cfg.Hidden...), NumActions)
	for _, h := range cfg.Hidden {
		if h > 4096 {
			return nil, nil, fmt.Errorf("hidden layer of %d neurons: train at most 4096 (use -widen for larger models)", h)
		}
	}
	m, err := New(sizes, cfg.Activation)
	if err != nil {
		return nil, nil, err
	}
	s := newSampler(cfg.Seed)
	// Xavier-uniform initial weights, zero biases.
	for l, w := range m.Weights {
		a := float32(math.Sqrt(6 / float64(sizes[l]+sizes[l+1])))
		for i := range w {
			w[i] = (s.unit()*2 - 1) * a
		}
	}
	data := Dataset(cfg.Seed+1, cfg.Samples)
	order := make([]int, cfg.Samples)
	for i := range order {
		order[i] = i
	}
	t := newTrainer(m)
	for ep := 0; ep < cfg.Epochs; ep++ {
		for i := len(order) - 1; i > 0; i-- {
			j := s.intn(i + 1)
			order[i], order[j] = order[j], order[i]
		}
		lr := cfg.LearningRate * (1 - 0.9*float32(ep)/float32(cfg.Epochs))
		for _, k := range order {
			t.step(data.Inputs[k], data.Expected[k], lr)
		}
	}
	info := &TrainInfo{Seed: cfg.Seed, Samples: cfg.Samples, Epochs: cfg.Epochs,
		LearningRate: roundLR(cfg.LearningRate), TrainAccuracy: Accuracy(m, data), Policy: "reference-v1"}
	if cfg.Widen > 0 {
		if m, err = widen(m, cfg.Widen); err != nil {
			return nil, nil, err
		}
	}
	return m, info, nil
}

// trainer holds the buffers of one SGD step.
type trainer struct {
	m     *Model
	act   [][]float32 // activations per layer (act[0] = input)
	delta [][]float32 // error per non-input layer
}

func newTrainer(m *Model) *trainer {
	t := &trainer{m: m}
	for _, s := range m.Sizes {
		t.act = append(t.act, make([]float32, s))
	}
	for _, s := range m.Sizes[1:] {
		t.delta = append(t.delta, make([]float32, s))
	}
	return t
}

// step does one SGD update on (x, label).
func (t *trainer) step(x []float32, label int, lr float32) {
	m := t.m
	copy(t.act[0], x)
	last := len(m.Weights) - 1
	for l, w := range m.Weights {
		nIn := m.Sizes[l]
		in, out := t.act[l], t.act[l+1]
		for o := range out {
			acc := m.Biases[l][o]
			for i, v := range w[o*nIn : (o+1)*nIn] {
				acc += float32(v * in[i])
			}
			if l < last {
				acc = m.Activation.apply(acc)
			}
			out[o] = acc
		}
	}
	p := softmax(t.act[len(t.act)-1])
	d := t.delta[last]
	for i := range d {
		d[i] = p[i]
		if i == label {
			d[i] -= 1
		}
	}
	// Back-propagate the errors (delta[l] belongs to layer l+1).
	for l := last; l > 0; l-- {
		nIn := m.Sizes[l]
		w := m.Weights[l]
		prev := t.delta[l-1]
		for i := range prev {
			var acc float32
			for o, dv := range t.delta[l] {
				acc += float32(w[o*nIn+i] * dv)
			}
			a := t.act[l][i]
			if m.Activation == Tanh {
				acc = float32(acc * float32(1-float32(a*a)))
			} else if a <= 0 {
				acc = 0
			}
			prev[i] = acc
		}
	}
	for l, w := range m.Weights {
		nIn := m.Sizes[l]
		in := t.act[l]
		for o, dv := range t.delta[l] {
			g := float32(lr * dv)
			if g == 0 {
				continue
			}
			row := w[o*nIn : (o+1)*nIn]
			for i := range row {
				row[i] -= float32(g * in[i])
			}
			m.Biases[l][o] -= g
		}
	}
}

// widen pads every hidden layer of m to n neurons with zero weights; the
// result computes the same outputs.
func widen(m *Model, n int) (*Model, error) {
	sizes := append([]int(nil), m.Sizes...)
	for i := 1; i < len(sizes)-1; i++ {
		if n < sizes[i] {
			return nil, fmt.Errorf("widen %d: smaller than hidden layer %d (%d)", n, i, sizes[i])
		}
		sizes[i] = n
	}
	w, err := New(sizes, m.Activation)
	if err != nil {
		return nil, err
	}
	for l := range m.Weights {
		oIn, oOut := m.Sizes[l], m.Sizes[l+1]
		nIn := sizes[l]
		for o := 0; o < oOut; o++ {
			copy(w.Weights[l][o*nIn:o*nIn+oIn], m.Weights[l][o*oIn:(o+1)*oIn])
			w.Biases[l][o] = m.Biases[l][o]
		}
	}
	return w, nil
}

// roundLR returns lr as the shortest float64 that names the same float32
// (0.05, not 0.05000000074505806).
func roundLR(lr float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(lr), 'g', -1, 32), 64)
	return f
}
