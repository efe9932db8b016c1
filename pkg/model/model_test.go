package model

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReferencePolicy(t *testing.T) {
	for _, c := range []struct {
		f    []float32
		want int
	}{
		{[]float32{0.85, 1, 1, 1, 0, 0}, ActionReclaimMemory},
		{[]float32{0.84, 0.3, 1, 1, 0, 0}, ActionBoostDeadline},
		{[]float32{0.5, 0.2, 0.9, 0.25, 0, 0}, ActionThrottleCPU},
		{[]float32{0.5, 0.2, 0.9, 0.125, 0, 0}, ActionNone},
		{[]float32{0.5, 0.2, 0.89, 1, 0, 0}, ActionNone},
		{nil, ActionNone},
	} {
		require.Equal(t, c.want, ReferencePolicy(c.f), "%v", c.f)
	}
}

func TestTrainIsDeterministicAndAccurate(t *testing.T) {
	cfg := DefaultTrainConfig
	cfg.Samples, cfg.Epochs = 5000, 20
	a, infoA, err := Train(cfg)
	require.NoError(t, err)
	b, _, err := Train(cfg)
	require.NoError(t, err)
	ba, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	require.Equal(t, ba, bb, "same config, same bytes")
	require.Greater(t, infoA.TrainAccuracy, 0.95)
	// Accuracy on held-out data labelled by the reference policy.
	require.Greater(t, Accuracy(a, Dataset(777, 1000)), 0.95)
}

func TestWidenKeepsOutputsAndRaisesCost(t *testing.T) {
	cfg := DefaultTrainConfig
	cfg.Samples, cfg.Epochs = 500, 2
	small, _, err := Train(cfg)
	require.NoError(t, err)
	cfg.Widen = 64
	wide, _, err := Train(cfg)
	require.NoError(t, err)
	require.Equal(t, []int{6, 64, 64, 4}, wide.Sizes)
	for _, in := range Dataset(5, 100).Inputs {
		require.Equal(t, small.Infer(in), func() Inference {
			r := wide.Infer(in)
			// Hidden layers differ in width; compare the real neurons.
			for l := range r.Hidden {
				r.Hidden[l] = r.Hidden[l][:small.Sizes[l+1]]
			}
			return r
		}())
	}
	require.Greater(t, wide.Cost(), small.Cost())
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	m, _, err := Train(TrainConfig{Seed: 9, Samples: 100, Epochs: 1, Hidden: []int{5}, Activation: Tanh, LearningRate: 0.1})
	require.NoError(t, err)
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	d, err := Decode(b)
	require.NoError(t, err)
	require.Equal(t, m, d)
	in := []float32{0.9, 0.1, 0.5, 0.5, 0.2, 0}
	require.Equal(t, m.Infer(in), d.Infer(in))
	res := d.Infer(in)
	require.Len(t, res.Scores, NumActions)
	require.Len(t, res.Hidden, 1)
	var sum float32
	for _, s := range res.Scores {
		sum += s
	}
	require.InDelta(t, 1, sum, 1e-5)
	require.Equal(t, int(res.Scores[res.Action]*1000+0.5), res.Confidence)
}

// header returns a model.bin header with the given layer sizes.
func header(sizes ...uint32) []byte {
	b := []byte(Magic)
	b = binary.LittleEndian.AppendUint16(b, FormatVersion)
	b = binary.LittleEndian.AppendUint16(b, uint16(ReLU))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(sizes)))
	for _, s := range sizes {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

func TestDecodeRefusesBadInput(t *testing.T) {
	good, err := New([]int{6, 3, 4}, ReLU)
	require.NoError(t, err)
	gb, err := good.MarshalBinary()
	require.NoError(t, err)
	nan := append([]byte(nil), gb...)
	binary.LittleEndian.PutUint32(nan[len(header(6, 3, 4))+8:], math.Float32bits(float32(math.NaN())))
	inf := append([]byte(nil), gb...)
	binary.LittleEndian.PutUint32(inf[len(inf)-4:], math.Float32bits(float32(math.Inf(1))))
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":       {nil, "shorter than the header"},
		"magic":       {append([]byte("ELF\x7f"), gb[4:]...), "bad magic"},
		"version":     {append(append([]byte(Magic), 9, 0), gb[6:]...), "format version 9"},
		"one layer":   {header(6), "layer sizes"},
		"huge width":  {header(6, 1<<30, 4), "limit"},
		"huge params": {header(6, 60000, 60000, 4), "parameters"},
		"zero width":  {header(6, 0, 4), "neurons"},
		"truncated":   {gb[:len(gb)-1], "bytes; the layer sizes"},
		"trailing":    {append(append([]byte(nil), gb...), 0), "bytes; the layer sizes"},
		"nan weight":  {nan, "NaN"},
		"inf bias":    {inf, "+Inf"},
	} {
		_, err := Decode(c.b)
		require.ErrorContains(t, err, c.want, name)
	}
}

func TestInferSanitizesInputs(t *testing.T) {
	m, _, err := Train(TrainConfig{Seed: 1, Samples: 200, Epochs: 1, Hidden: []int{4}, LearningRate: 0.05})
	require.NoError(t, err)
	nan := float32(math.NaN())
	require.Equal(t, m.Infer([]float32{0, 0, 0, 0, 0, 0}), m.Infer([]float32{nan, 0}))
	require.Equal(t, m.Infer([]float32{1, 2, 3, 4, 5, 6}), m.Infer([]float32{1, 2, 3, 4, 5, 6, 7}))
}

func TestExpAndTanhAccuracy(t *testing.T) {
	for x := float32(-87); x <= 0; x += 0.37 {
		require.InEpsilon(t, math.Exp(float64(x)), float64(exp32(x)), 1e-6, "exp(%v)", x)
	}
	for x := float32(-5); x <= 5; x += 0.11 {
		require.InDelta(t, math.Tanh(float64(x)), float64(tanh32(x)), 1e-6, "tanh(%v)", x)
	}
}

func TestValidVersion(t *testing.T) {
	for _, v := range []string{"v1.0.0", "1", "v2.0.0-rc1+build_3"} {
		require.NoError(t, ValidVersion(v), v)
	}
	for _, v := range []string{"", "..", ".", "../x", "a/b", "v1..2", ".hidden", "-x", "active", "shadow", "a b", string(make([]byte, 65))} {
		require.Error(t, ValidVersion(v), v)
	}
}

func FuzzDecode(f *testing.F) {
	m, _ := New([]int{6, 2, 4}, ReLU)
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Add(header(6, 60000, 60000, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		out, err := m.MarshalBinary()
		if err != nil || string(out) != string(b) {
			t.Fatalf("decoded model does not re-encode to the same bytes: %v", err)
		}
		m.Infer(make([]float32, NumFeatures))
	})
}

func TestKeyTextForms(t *testing.T) {
	k := KeyFromSeed("key text forms")
	priv, pub := EncodePrivateKey(k), EncodePublicKey(k.Public().(ed25519.PublicKey))
	got, err := ParsePrivateKey(priv)
	require.NoError(t, err)
	require.True(t, got.Equal(k))
	_, err = ParsePublicKey(priv)
	require.ErrorContains(t, err, "not a hex Ed25519 public key", "a private key file is not a public key")
	_, err = ParsePrivateKey(pub)
	require.ErrorContains(t, err, "not a hex Ed25519 private key")
	bad := []byte(hex.EncodeToString(append(k.Seed(), make([]byte, 32)...)))
	_, err = ParsePrivateKey(bad)
	require.ErrorContains(t, err, "public half does not match")
}
