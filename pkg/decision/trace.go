package decision

import (
	"fmt"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// HighConfidence is the confidence (0-1000) from which a decision counts
// as high confidence.
const HighConfidence = 800

// Telemetry is what the autonomy loop measured on the machine for one
// decision (raw values; Features holds the model's normalised inputs).
type Telemetry struct {
	// MemPressure is guest memory in use / the machine's memory budget.
	MemPressure float64 `json:"mem_pressure"`
	// MemUsedBytes and MemBudgetBytes are the two sides of MemPressure.
	MemUsedBytes   uint64 `json:"mem_used_bytes"`
	MemBudgetBytes uint64 `json:"mem_budget_bytes"`
	// DeadlineMisses is the CBS deadline misses in the decision window.
	DeadlineMisses uint64 `json:"deadline_misses"`
	// CPUUsage is the fraction of the window spent running guest code.
	CPUUsage float64 `json:"cpu_usage"`
	// RunQueue is the number of runnable processes.
	RunQueue int `json:"run_queue"`
	// NetworkLatency is always 0: the machine has no network device.
	NetworkLatency float64 `json:"network_latency"`
}

// SystemState is the machine's state at the decision.
type SystemState struct {
	UptimeMs         uint64 `json:"uptime_ms"`
	HeapUsed         uint64 `json:"heap_used"`
	ProcessesRunning int    `json:"processes_running"`
}

// PolicyCheck is one safety check applied to a decision.
type PolicyCheck struct {
	CheckName string  `json:"check_name"`
	Passed    bool    `json:"passed"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

// Alternative is a ranked action with its confidence (0-1000).
type Alternative struct {
	Action     int `json:"action"`
	Confidence int `json:"confidence"`
}

// DecisionTrace is everything about one decision (SIS-SPEC.md section 7).
//
// ChosenAction is the model's action (argmax of Predictions); when the
// kernel does not carry it out, WasExecuted is false and, if a policy or
// safe mode stopped it, WasOverridden and OverrideReason say why. Replay
// compares Predictions, ChosenAction and Confidence with a re-run.
type DecisionTrace struct {
	TraceID           uint64        `json:"trace_id"`
	TimestampUs       uint64        `json:"timestamp_us"` // machine time since boot
	ModelVersion      string        `json:"model_version"`
	ModelHash         string        `json:"model_hash"`
	Telemetry         Telemetry     `json:"telemetry"`
	Features          []float32     `json:"features"`
	SystemState       SystemState   `json:"system_state"`
	HiddenActivations [][]float32   `json:"hidden_activations"`
	PolicyChecks      []PolicyCheck `json:"policy_checks"`
	Predictions       []float32     `json:"predictions"`
	ChosenAction      int           `json:"chosen_action"`
	Confidence        int           `json:"confidence"`
	Alternatives      []Alternative `json:"alternatives"`
	WasExecuted       bool          `json:"was_executed"`
	WasOverridden     bool          `json:"was_overridden"`
	OverrideReason    string        `json:"override_reason"`
}

// Output is one model output for one input. It has the fields, types and
// order of model.Inference, so decision.Output(inf) converts one.
type Output struct {
	Scores     []float32   // softmax over the actions
	Hidden     [][]float32 // activations per hidden layer
	Action     int         // argmax of Scores
	Confidence int         // max score * 1000, 0..1000
}

// Predictor runs one model on one input (features in model order).
type Predictor func(features []float32) Output

// Lookup finds a model version: its predictor and its hash (hex sha256 of
// model.bin). It fails for an unknown version.
type Lookup func(version string) (Predictor, string, error)

// TopAlternatives returns the k highest-scoring actions, best first (ties:
// lower action first), with confidences score*1000 rounded as
// model.Inference.Confidence is.
func TopAlternatives(scores []float32, k int) []Alternative {
	k = min(max(k, 0), len(scores))
	out := make([]Alternative, 0, k)
	used := uint64(0) // actions already taken (scores has few entries)
	for len(out) < k {
		best := -1
		for i, s := range scores {
			if i < 64 && used&(1<<uint(i)) != 0 {
				continue
			}
			if best < 0 || s > scores[best] {
				best = i
			}
		}
		if best < 0 || best >= 64 {
			break
		}
		used |= 1 << uint(best)
		out = append(out, Alternative{Action: best, Confidence: confidenceOf(scores[best])})
	}
	return out
}

// confidenceOf maps a score in [0,1] to 0..1000 as model inference does
// (rounded to nearest).
func confidenceOf(s float32) int {
	c := int(s*1000 + 0.5)
	if c < 0 {
		return 0
	}
	if c > 1000 {
		return 1000
	}
	return c
}

// usagef is a usage error showing a synopsis.
func usagef(format string, a ...any) error { return shellcmd.Usage(fmt.Sprintf(format, a...)) }
