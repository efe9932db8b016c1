package model

import "strconv"

// Telemetry features, the model's inputs: float32 values in [0,1], in this
// order.
const (
	// FeatureMemPressure is guest memory in use / the machine's memory budget.
	FeatureMemPressure = iota
	// FeatureDeadlineMisses is CBS deadline misses in the last 500 ms
	// window / 10, clipped to 1.
	FeatureDeadlineMisses
	// FeatureCPUUsage is the fraction of the window spent running guest code.
	FeatureCPUUsage
	// FeatureRunQueue is runnable processes / 8, clipped.
	FeatureRunQueue
	// FeatureProcesses is live processes / 32, clipped.
	FeatureProcesses
	// FeatureNetworkLatency is always 0: the machine has no network device;
	// it is kept for SIS's telemetry set.
	FeatureNetworkLatency

	// NumFeatures is the number of input features.
	NumFeatures = 6
)

// FeatureNames are the features' names, by index.
var FeatureNames = [NumFeatures]string{
	"mem_pressure", "deadline_misses", "cpu_usage", "run_queue", "processes", "network_latency",
}

// Actions, the model's outputs.
const (
	ActionNone = iota
	ActionReclaimMemory
	ActionThrottleCPU
	ActionBoostDeadline

	// NumActions is the number of actions (model outputs).
	NumActions = 4
)

// ActionNames are the actions' names, by index.
var ActionNames = [NumActions]string{"none", "reclaim_memory", "throttle_cpu", "boost_deadline"}

// ActionName returns the name of action a ("action(N)" when out of range).
func ActionName(a int) string {
	if a >= 0 && a < NumActions {
		return ActionNames[a]
	}
	return "action(" + strconv.Itoa(a) + ")"
}

// Thresholds of ReferencePolicy.
const (
	PolicyMemHigh     = 0.85 // mem_pressure at or above: reclaim memory
	PolicyMissesHigh  = 0.3  // deadline_misses at or above: boost deadlines
	PolicyCPUHigh     = 0.9  // cpu_usage at or above, with a run queue ...
	PolicyRunQueueMin = 0.25 // ... at or above this: throttle CPU
)

// ReferencePolicy is the documented policy the shipped models learn and
// their health test sets are labelled by: mem_pressure >= 0.85 -> reclaim
// memory; else deadline_misses >= 0.3 -> boost deadlines; else cpu_usage
// >= 0.9 and run_queue >= 0.25 -> throttle CPU; else none. f holds
// NumFeatures values; missing ones count as 0.
func ReferencePolicy(f []float32) int {
	get := func(i int) float32 {
		if i < len(f) {
			return f[i]
		}
		return 0
	}
	switch {
	case get(FeatureMemPressure) >= PolicyMemHigh:
		return ActionReclaimMemory
	case get(FeatureDeadlineMisses) >= PolicyMissesHigh:
		return ActionBoostDeadline
	case get(FeatureCPUUsage) >= PolicyCPUHigh && get(FeatureRunQueue) >= PolicyRunQueueMin:
		return ActionThrottleCPU
	}
	return ActionNone
}
