package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// model.bin layout, format version 1, all integers and floats
// little-endian:
//
//	offset  size  field
//	0       4     magic "SISM"
//	4       2     format version (1)
//	6       2     hidden-layer activation (0 relu, 1 tanh)
//	8       4     n, the number of layer sizes (input, hidden..., output), 2..MaxLayers+1
//	12      4n    the layer sizes, each 1..MaxWidth
//	12+4n   ...   per layer l = 1..n-1: weights, sizes[l] rows of sizes[l-1]
//	              float32 (row-major: out x in), then sizes[l] float32 biases
//
// The file ends right after the last bias. Every weight and bias is
// finite. The output layer is followed by a softmax.
const (
	// Magic starts every model.bin.
	Magic = "SISM"
	// FormatVersion is the model.bin format version this package reads
	// and writes.
	FormatVersion = 1
	// MaxLayers is the most weight layers (hidden + output) a model has.
	MaxLayers = 16
	// MaxWidth is the most neurons a layer has.
	MaxWidth = 1 << 16
	// MaxParams is the most weights+biases a model has (256 MiB of
	// float32): larger files are refused before anything is allocated.
	// The health check's memory limit (10 MiB) is far lower.
	MaxParams = 64 << 20

	headerSize = 12
)

// Inference cost in machine time (deterministic mode): a model's
// inference takes CostPerCall + CostPerMAC per multiply-accumulate +
// CostPerNeuron per activation (hidden and output), the time the same
// scalar loop would take on the simulated core at one instruction per
// nanosecond (a multiply-accumulate is about four instructions: load,
// fmadd, pointer increment, loop branch).
const (
	CostPerCall   = 200 * time.Nanosecond
	CostPerMAC    = 4 * time.Nanosecond
	CostPerNeuron = 8 * time.Nanosecond
)

// Activation is a hidden layer's activation function.
type Activation uint16

// Activations.
const (
	ReLU Activation = 0
	Tanh Activation = 1
)

func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case Tanh:
		return "tanh"
	}
	return fmt.Sprintf("activation(%d)", uint16(a))
}

// ParseActivation parses "relu" or "tanh".
func ParseActivation(s string) (Activation, error) {
	switch s {
	case "relu":
		return ReLU, nil
	case "tanh":
		return Tanh, nil
	}
	return 0, fmt.Errorf("unknown activation %q (want relu or tanh)", s)
}

// Model is a multi-layer perceptron. Its fields are read-only once the
// model is in use; Infer may be called concurrently.
type Model struct {
	// Sizes are the layer sizes: inputs, hidden layers..., outputs.
	Sizes      []int
	Activation Activation
	// Weights[l] (l = 0..len(Sizes)-2) holds Sizes[l+1] rows of Sizes[l]
	// weights; Biases[l] holds Sizes[l+1] biases.
	Weights [][]float32
	Biases  [][]float32
}

// Inference is the result of one inference.
type Inference struct {
	Scores     []float32   // softmax of the outputs
	Hidden     [][]float32 // activations of each hidden layer
	Action     int         // argmax of Scores (the first on ties)
	Confidence int         // max score * 1000, 0..1000
}

// New returns a model with the given layer sizes and zero weights.
func New(sizes []int, act Activation) (*Model, error) {
	if err := checkShape(sizes, act); err != nil {
		return nil, err
	}
	m := &Model{Sizes: append([]int(nil), sizes...), Activation: act}
	for l := 1; l < len(sizes); l++ {
		m.Weights = append(m.Weights, make([]float32, sizes[l]*sizes[l-1]))
		m.Biases = append(m.Biases, make([]float32, sizes[l]))
	}
	return m, nil
}

// checkShape checks layer sizes against the format's limits.
func checkShape(sizes []int, act Activation) error {
	if act != ReLU && act != Tanh {
		return fmt.Errorf("unknown activation %d", uint16(act))
	}
	if len(sizes) < 2 || len(sizes) > MaxLayers+1 {
		return fmt.Errorf("%d layer sizes; want 2..%d", len(sizes), MaxLayers+1)
	}
	params := 0
	for i, s := range sizes {
		if s < 1 || s > MaxWidth {
			return fmt.Errorf("layer %d has %d neurons; want 1..%d", i, s, MaxWidth)
		}
		if i > 0 {
			params += s*sizes[i-1] + s
			if params > MaxParams {
				return fmt.Errorf("model has over %d parameters (limit %d, %d MiB)", params, MaxParams, MaxParams*4>>20)
			}
		}
	}
	return nil
}

// Params returns the number of weights and biases.
func (m *Model) Params() int {
	n := 0
	for l := range m.Weights {
		n += len(m.Weights[l]) + len(m.Biases[l])
	}
	return n
}

// MACs returns the multiply-accumulates of one inference.
func (m *Model) MACs() int {
	n := 0
	for _, w := range m.Weights {
		n += len(w)
	}
	return n
}

// Cost returns the machine time of one inference (see CostPerMAC).
func (m *Model) Cost() time.Duration {
	neurons := 0
	for _, s := range m.Sizes[1:] {
		neurons += s
	}
	return CostPerCall + time.Duration(m.MACs())*CostPerMAC + time.Duration(neurons)*CostPerNeuron
}

// MemoryFootprint returns the bytes the loaded model occupies: its
// parameters plus one activation buffer per layer, as float32.
func (m *Model) MemoryFootprint() int64 {
	n := int64(m.Params())
	for _, s := range m.Sizes {
		n += int64(s)
	}
	return n * 4
}

// Inputs returns the number of inputs.
func (m *Model) Inputs() int { return m.Sizes[0] }

// Outputs returns the number of outputs.
func (m *Model) Outputs() int { return m.Sizes[len(m.Sizes)-1] }

// Infer runs the model on in. Missing inputs count as 0, extra ones are
// ignored, and a NaN or infinite input counts as 0. The arithmetic is
// float32 with every product rounded before it is added (no fused
// multiply-add), so results are identical on every platform.
func (m *Model) Infer(in []float32) Inference {
	x := make([]float32, m.Sizes[0])
	for i := range x {
		if i < len(in) && !isNaNInf(in[i]) {
			x[i] = in[i]
		}
	}
	var res Inference
	last := len(m.Weights) - 1
	for l, w := range m.Weights {
		nIn, nOut := m.Sizes[l], m.Sizes[l+1]
		y := make([]float32, nOut)
		for o := 0; o < nOut; o++ {
			row := w[o*nIn : (o+1)*nIn]
			acc := m.Biases[l][o]
			for i, v := range row {
				acc += float32(v * x[i])
			}
			if l < last {
				acc = m.Activation.apply(acc)
			}
			y[o] = acc
		}
		if l < last {
			res.Hidden = append(res.Hidden, y)
		}
		x = y
	}
	res.Scores = softmax(x)
	for i, s := range res.Scores {
		if s > res.Scores[res.Action] {
			res.Action = i
		}
	}
	res.Confidence = int(res.Scores[res.Action]*1000 + 0.5)
	res.Confidence = min(max(res.Confidence, 0), 1000)
	return res
}

func (a Activation) apply(v float32) float32 {
	if a == Tanh {
		return tanh32(v)
	}
	if v < 0 {
		return 0
	}
	return v
}

func isNaNInf(v float32) bool {
	return v != v || v > math.MaxFloat32 || v < -math.MaxFloat32
}

// softmax returns the softmax of x, computed with exp32.
func softmax(x []float32) []float32 {
	mx := x[0]
	for _, v := range x {
		if v > mx {
			mx = v
		}
	}
	out := make([]float32, len(x))
	var sum float32
	for i, v := range x {
		out[i] = exp32(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// exp32 is e^x for x <= 0 in portable float64 arithmetic (no assembly,
// no fused operations), rounded to float32: the math package's Exp may
// differ in the last bit between CPUs.
func exp32(x float32) float32 {
	if x < -87 {
		return 0
	}
	const ln2 = 0.6931471805599453
	k := math.Floor(float64(x)/ln2 + 0.5)
	r := float64(float64(x) - float64(k*ln2))
	// e^r for |r| <= ln2/2 by Taylor series to degree 10 (error < 1e-12).
	p, term := 1.0, 1.0
	for n := 1; n <= 10; n++ {
		term = float64(term * r / float64(n))
		p = float64(p + term)
	}
	return float32(math.Ldexp(p, int(k)))
}

// tanh32 is tanh(v) from exp32.
func tanh32(v float32) float32 {
	if v > 20 {
		return 1
	}
	if v < -20 {
		return -1
	}
	a := v
	if a > 0 {
		a = -a
	}
	e := exp32(2 * a) // e^{-2|v|}
	t := (1 - e) / (1 + e)
	if v < 0 {
		return -t
	}
	return t
}

// MarshalBinary encodes the model as model.bin.
func (m *Model) MarshalBinary() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	b := make([]byte, headerSize+4*len(m.Sizes), m.binarySize())
	copy(b, Magic)
	binary.LittleEndian.PutUint16(b[4:], FormatVersion)
	binary.LittleEndian.PutUint16(b[6:], uint16(m.Activation))
	binary.LittleEndian.PutUint32(b[8:], uint32(len(m.Sizes)))
	for i, s := range m.Sizes {
		binary.LittleEndian.PutUint32(b[headerSize+4*i:], uint32(s))
	}
	for l := range m.Weights {
		for _, v := range m.Weights[l] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		for _, v := range m.Biases[l] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b, nil
}

// binarySize returns the size of the model's model.bin.
func (m *Model) binarySize() int { return headerSize + 4*len(m.Sizes) + 4*m.Params() }

// check checks the model's shape and that its parameters are finite.
func (m *Model) check() error {
	if err := checkShape(m.Sizes, m.Activation); err != nil {
		return err
	}
	if len(m.Weights) != len(m.Sizes)-1 || len(m.Biases) != len(m.Sizes)-1 {
		return errors.New("weights do not match the layer sizes")
	}
	for l := range m.Weights {
		if len(m.Weights[l]) != m.Sizes[l]*m.Sizes[l+1] || len(m.Biases[l]) != m.Sizes[l+1] {
			return fmt.Errorf("layer %d: weights do not match the layer sizes", l+1)
		}
		for i, v := range m.Weights[l] {
			if isNaNInf(v) {
				return fmt.Errorf("layer %d: weight %d is %v", l+1, i, v)
			}
		}
		for i, v := range m.Biases[l] {
			if isNaNInf(v) {
				return fmt.Errorf("layer %d: bias %d is %v", l+1, i, v)
			}
		}
	}
	return nil
}

// decodeHeader parses the header and layer sizes at the start of a
// model.bin and returns them with the file size they imply, checking the
// limits before anything is allocated for the parameters.
func decodeHeader(b []byte) (sizes []int, act Activation, size int, err error) {
	if len(b) < headerSize {
		return nil, 0, 0, fmt.Errorf("model.bin: %d bytes, shorter than the header", len(b))
	}
	if string(b[:4]) != Magic {
		return nil, 0, 0, fmt.Errorf("model.bin: bad magic %q (want %q)", b[:4], Magic)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != FormatVersion {
		return nil, 0, 0, fmt.Errorf("model.bin: format version %d (this kernel reads %d)", v, FormatVersion)
	}
	act = Activation(binary.LittleEndian.Uint16(b[6:]))
	n := binary.LittleEndian.Uint32(b[8:])
	if n < 2 || n > MaxLayers+1 {
		return nil, 0, 0, fmt.Errorf("model.bin: %d layer sizes; want 2..%d", n, MaxLayers+1)
	}
	if len(b) < headerSize+4*int(n) {
		return nil, 0, 0, fmt.Errorf("model.bin: truncated layer sizes")
	}
	sizes = make([]int, n)
	for i := range sizes {
		s := binary.LittleEndian.Uint32(b[headerSize+4*i:])
		if s > MaxWidth {
			return nil, 0, 0, fmt.Errorf("model.bin: layer %d has %d neurons; the limit is %d", i, s, MaxWidth)
		}
		sizes[i] = int(s)
	}
	if err := checkShape(sizes, act); err != nil {
		return nil, 0, 0, fmt.Errorf("model.bin: %w", err)
	}
	size = headerSize + 4*len(sizes)
	for l := 1; l < len(sizes); l++ {
		size += 4 * (sizes[l]*sizes[l-1] + sizes[l])
	}
	return sizes, act, size, nil
}

// maxHeaderSize is the largest header with its layer sizes.
const maxHeaderSize = headerSize + 4*(MaxLayers+1)

// Decode parses a model.bin, checking its header, its size against the
// header and the limits (before allocating), and that every parameter is
// finite.
func Decode(b []byte) (*Model, error) {
	sizes, act, want, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	if len(b) != want {
		return nil, fmt.Errorf("model.bin: %d bytes; the layer sizes %v need %d", len(b), sizes, want)
	}
	m := &Model{Sizes: sizes, Activation: act}
	off := headerSize + 4*len(sizes)
	read := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
			off += 4
		}
		return v
	}
	for l := 1; l < len(sizes); l++ {
		m.Weights = append(m.Weights, read(sizes[l]*sizes[l-1]))
		m.Biases = append(m.Biases, read(sizes[l]))
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	return m, nil
}
