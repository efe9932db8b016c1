package sis

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/ring"

	"github.com/sis-kernel/sissim/pkg/decision"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/otel"
	"github.com/sis-kernel/sissim/pkg/shadow"
)

// The autonomy loop (SIS-SPEC.md section 7, docs/autonomy.md): while on,
// every AutonomyTick of machine time it measures the last window's
// telemetry, runs the active model, applies the policy checks, carries out
// the chosen action on the machine, and records the DecisionTrace (ring,
// [DECISION] line, /var/log/decisions.json, OpenTelemetry when tracing is
// on). The drift monitor watches the confidences; an alert puts the
// machine in safe mode, where actions are recorded but not executed.

// Autonomy loop parameters.
const (
	// AutonomyTick is the decision period, in machine time.
	AutonomyTick = 500 * time.Millisecond
	// MinConfidence is the confidence (0-1000) an action needs.
	MinConfidence = 600
	// RateWindow and MaxActions bound how often actions execute: at most
	// MaxActions in any RateWindow of machine time.
	RateWindow = 5 * time.Second
	MaxActions = 4
	// ThrottleMinCPU is the cpu_usage below which throttling is refused.
	ThrottleMinCPU = 0.5
	// auditLen is how many decisions the audit keeps (as the trace ring).
	auditLen = decision.DefaultCapacity
	// logLen is how many loop log lines incident bundles carry.
	logLen = 32
)

// auditEntry is the loop's own record of a decision: what happened and,
// once the next window is measured, the reward.
type auditEntry struct {
	id       uint64
	at       time.Duration
	features []float32
	action   int
	conf     int
	outcome  string
	reward   float64
	rewarded bool
}

// autonomy is the kernel side of the autonomy loop.
type autonomy struct {
	m      *System
	models *model.Registry // nil: no model lifecycle (active is the built-in model)
	rec    *decision.Recorder
	drift  *decision.DriftMonitor
	shadow *shadow.Agent // nil when shadow mode is off
	act    *actuator
	// active returns the production model (models.Active).
	active func() *model.Loaded

	mu       sync.Mutex
	on       bool
	cancel   func()
	next     uint64 // machine time of the next tick
	mark     telemetryMark
	safe     bool
	safeWhy  string
	executed []time.Duration // machine times of executed actions, in RateWindow
	audit    *ring.Ring[auditEntry]
	logs     *ring.Ring[string] // recent loop log lines

	ticks, decisions, noModel, nExecuted, nOverridden uint64
}

func newAutonomy(m *System, models *model.Registry, rec *decision.Recorder, ag *shadow.Agent) *autonomy {
	a := &autonomy{
		m: m, models: models, rec: rec, shadow: ag, act: newActuator(m),
		drift: decision.NewDriftMonitor(m.Stdout()),
		audit: ring.New[auditEntry](auditLen), logs: ring.New[string](logLen),
	}
	a.active = func() *model.Loaded {
		if a.models == nil {
			return nil
		}
		return a.models.Active()
	}
	return a
}

// start switches the loop on; the first decision comes one tick later.
func (a *autonomy) start() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.on {
		return false
	}
	a.on = true
	a.mark = a.m.markTelemetry()
	a.next = a.mark.at + uint64(AutonomyTick)
	a.cancel = a.m.AtTime(time.Duration(a.next), a.tick)
	return true
}

// stop switches the loop off and ends the budget adjustments.
func (a *autonomy) stop() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.on {
		return false
	}
	a.on = false
	a.cancel()
	a.act.restoreAll()
	return true
}

// setSafe enters or leaves safe mode at the operator's request. Leaving
// it resets the drift monitor.
func (a *autonomy) setSafe(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setSafeLocked(on, "operator", false)
}

// setSafeLocked enters or leaves safe mode for reason why, printing a
// [SAFE MODE] line to the console when announce is set; the line is kept
// for incident bundles either way.
func (a *autonomy) setSafeLocked(on bool, why string, announce bool) {
	if on == a.safe {
		return
	}
	a.safe, a.safeWhy = on, why
	line := "[SAFE MODE] left: " + why
	if on {
		line = "[SAFE MODE] entered: " + why + "; actions are recorded, not executed, until 'autoctl safe-mode off'"
	} else {
		a.drift.Reset()
	}
	if announce {
		fmt.Fprintln(a.m.Stdout(), line)
	}
	a.logs.Add(line)
}

// recentLogs returns the kept log lines, oldest first.
func (a *autonomy) recentLogs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logs.Last(logLen)
}

// tick is the loop's machine timer: one window, one decision.
func (a *autonomy) tick() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.on {
		return
	}
	a.ticks++
	tel := a.m.readTelemetry(a.mark)
	a.decideFeatures(tel, tel.Features(), true)
	a.mark = a.m.markTelemetry()
	// The next tick keeps the 500 ms grid even when this one ran late.
	if now := uint64(a.m.Now()); a.next <= now {
		a.next += ((now-a.next)/uint64(AutonomyTick) + 1) * uint64(AutonomyTick)
	}
	a.cancel = a.m.AtTime(time.Duration(a.next), a.tick)
}

// decideFeatures runs the active model on features (tel gives the raw
// telemetry of the trace), applies the policy checks and records the
// decision. live decisions come from the loop and act on the machine; the
// others (tracectl demo) are recorded only. It reports whether a model
// was active. Called with a.mu held, while no process runs.
func (a *autonomy) decideFeatures(tel Telemetry, features []float32, live bool) bool {
	l := a.active()
	if l == nil {
		if live {
			a.noModel++
		}
		return false
	}
	m := a.m
	start := m.Now()
	inf := l.Model.Infer(features)
	// The inference takes the model's cost of machine time (its
	// multiply-adds), during which no guest runs.
	m.Advance(l.Model.Cost())
	out := decision.Output(inf)
	version, hash := l.Version, l.Hash
	id := a.rec.NextID() // the id Record gives this trace
	var routed bool
	if live && a.shadow != nil {
		res := a.shadow.Decide(id, features, out)
		if res.UseShadow {
			out, routed = res.Shadow, true
			version, hash = res.Version, res.Hash
		}
	}
	if live {
		a.decisions++
		if a.drift.Observe(out.Confidence) == decision.DriftAlert && !a.safe {
			st := a.drift.State()
			a.setSafeLocked(true, fmt.Sprintf("drift alert (confidence %.2f, baseline %.0f)", st.Current, st.Baseline), true)
		}
	}
	checks, reason := a.checks(features, out)
	tr := decision.DecisionTrace{
		TimestampUs:  uint64(start / time.Microsecond),
		ModelVersion: version,
		ModelHash:    hash,
		Telemetry: decision.Telemetry{
			MemPressure:    min(float64(tel.MemUsed)/float64(max(tel.MemSize, 1)), 1),
			MemUsedBytes:   tel.MemUsed,
			MemBudgetBytes: tel.MemSize,
			DeadlineMisses: tel.DeadlineMisses,
			CPUUsage:       float64(tel.CPUUsage()),
			RunQueue:       tel.RunQueue,
		},
		Features: features,
		SystemState: decision.SystemState{
			UptimeMs:         uint64(start / time.Millisecond),
			HeapUsed:         tel.MemUsed,
			ProcessesRunning: tel.Processes,
		},
		HiddenActivations: out.Hidden,
		PolicyChecks:      checks,
		Predictions:       out.Scores,
		ChosenAction:      out.Action,
		Confidence:        out.Confidence,
		Alternatives:      decision.TopAlternatives(out.Scores, 3),
	}
	var outcome string
	switch {
	case !live:
		outcome = "demo input: not executed"
		tr.OverrideReason = outcome
	case out.Action == model.ActionNone:
		outcome = "nothing to do"
	case reason != "":
		tr.WasOverridden, tr.OverrideReason = true, reason
		outcome = "overridden: " + reason
		a.nOverridden++
	default:
		detail, err := a.execute(out.Action)
		if err != nil {
			tr.WasOverridden, tr.OverrideReason = true, "not executed: "+err.Error()
			outcome = tr.OverrideReason
			a.nOverridden++
		} else {
			tr.WasExecuted = true
			outcome = "executed: " + detail
			a.executed = append(a.executed, start)
			a.nExecuted++
		}
	}
	if routed {
		outcome += " (canary: shadow " + version + ")"
	}
	id = a.rec.Record(tr)
	_ = a.rec.Flush() // failures are counted in the recorder's stats
	end := m.Now()
	if live {
		a.rewardPrevious(features)
		a.audit.Add(auditEntry{id: id, at: start, features: features, action: out.Action, conf: out.Confidence, outcome: outcome})
		a.logs.Add(fmt.Sprintf("t=%dms id=%d %s conf=%d: %s", start.Milliseconds(), id, model.ActionName(out.Action), out.Confidence, outcome))
	}
	a.exportOTel(id, tr, start, end)
	return true
}

// checks applies the policy checks to the model output out for input
// features and returns them with the reason the first failed one stops
// the action ("" when all pass).
func (a *autonomy) checks(features []float32, out decision.Output) ([]decision.PolicyCheck, string) {
	now := a.m.Now()
	recent := a.executed[:0]
	for _, at := range a.executed {
		if now-at < RateWindow {
			recent = append(recent, at)
		}
	}
	a.executed = recent
	safe := 0.0
	if a.safe {
		safe = 1
	}
	checks := []decision.PolicyCheck{
		{CheckName: "confidence", Passed: out.Confidence >= MinConfidence, Value: float64(out.Confidence), Threshold: MinConfidence},
		{CheckName: "safe_mode", Passed: !a.safe, Value: safe, Threshold: 0},
		{CheckName: "rate_limit", Passed: len(recent) < MaxActions, Value: float64(len(recent)), Threshold: MaxActions},
	}
	switch out.Action {
	case model.ActionReclaimMemory:
		mp := float64(features[model.FeatureMemPressure])
		checks = append(checks, decision.PolicyCheck{CheckName: "mem_pressure", Passed: mp >= model.PolicyMemHigh, Value: mp, Threshold: model.PolicyMemHigh})
	case model.ActionThrottleCPU:
		cu := float64(features[model.FeatureCPUUsage])
		checks = append(checks, decision.PolicyCheck{CheckName: "cpu_usage", Passed: cu >= ThrottleMinCPU, Value: cu, Threshold: ThrottleMinCPU})
	case model.ActionBoostDeadline:
		// Misses in the window (the feature is misses/10).
		misses := float64(features[model.FeatureDeadlineMisses]) * telemetryMissesScale
		checks = append(checks, decision.PolicyCheck{CheckName: "deadline_misses", Passed: misses >= 1, Value: misses, Threshold: 1})
	}
	reason := ""
	for _, c := range checks {
		if c.Passed || reason != "" {
			continue
		}
		switch c.CheckName {
		case "confidence":
			reason = fmt.Sprintf("confidence %d below %d", out.Confidence, MinConfidence)
		case "safe_mode":
			reason = "safe mode: " + a.safeWhy
		case "rate_limit":
			reason = fmt.Sprintf("rate limit: %d actions in the last %s", len(recent), RateWindow)
		default:
			reason = fmt.Sprintf("policy: %s %.3f below %.3g", c.CheckName, c.Value, c.Threshold)
		}
	}
	return checks, reason
}

// execute carries out action on the machine.
func (a *autonomy) execute(action int) (string, error) {
	switch action {
	case model.ActionReclaimMemory:
		return a.act.reclaimMemory()
	case model.ActionThrottleCPU:
		return a.act.throttleCPU(a.mark)
	case model.ActionBoostDeadline:
		return a.act.boostDeadline(a.mark)
	}
	return "", fmt.Errorf("unknown action %d", action)
}

// stress is what the loop tries to lower: memory pressure plus deadline
// misses (model features).
func stress(f []float32) float64 {
	return float64(f[model.FeatureMemPressure]) + float64(f[model.FeatureDeadlineMisses])
}

// rewardPrevious sets the reward of the last decision: how much the stress
// fell from its window to this one (features).
func (a *autonomy) rewardPrevious(features []float32) {
	if last := a.audit.Newest(); last != nil && !last.rewarded {
		last.reward, last.rewarded = stress(last.features)-stress(features), true
	}
}

// exportOTel hands the decision to the OpenTelemetry tracer, if started
// (both calls do nothing while tracing is disabled).
func (a *autonomy) exportOTel(id uint64, tr decision.DecisionTrace, start, end time.Duration) {
	t := a.m.svc.otel
	if t == nil || !t.Enabled() {
		return
	}
	checks := make([]otel.PolicyCheck, len(tr.PolicyChecks))
	for i, c := range tr.PolicyChecks {
		checks[i] = otel.PolicyCheck{Name: c.CheckName, Passed: c.Passed, Value: c.Value, Threshold: c.Threshold}
	}
	t.RecordDecision(otel.Decision{
		ID: id, ModelVersion: tr.ModelVersion, ModelHash: tr.ModelHash,
		Action: tr.ChosenAction, Confidence: tr.Confidence,
		MemPressure: tr.Telemetry.MemPressure, DeadlineMisses: tr.Telemetry.DeadlineMisses,
		Checks: checks, Start: start, End: end,
	})
	tr.TraceID = id
	if line, err := json.Marshal(tr); err == nil {
		_ = t.LogDecision(line) // failures are counted in the tracer's stats
	}
}
