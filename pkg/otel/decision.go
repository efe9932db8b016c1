package otel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sis-kernel/sissim/pkg/afile"
)

// PolicyCheck is one safety check the autonomy loop ran on a decision.
type PolicyCheck struct {
	Name      string
	Passed    bool
	Value     float64
	Threshold float64
}

// Decision is one autonomous decision, as the autonomy loop made it.
type Decision struct {
	ID                      uint64
	ModelVersion, ModelHash string
	Action, Confidence      int
	MemPressure             float64
	DeadlineMisses          uint64
	Checks                  []PolicyCheck
	// Start and End bound the decision (machine time since boot).
	Start, End time.Duration
}

// RecordDecision emits an `autonomous_decision` span with the attributes
// model.version, model.hash, action, confidence, mem_pressure and
// deadline_misses, and one event `policy_check.<name>` per check (with
// passed, value and threshold). It does nothing while tracing is disabled.
func (t *Tracer) RecordDecision(d Decision) {
	s := t.Start("autonomous_decision", nil, d.Start,
		Int("decision.id", int64(d.ID)),
		String("model.version", d.ModelVersion),
		String("model.hash", d.ModelHash),
		Int("action", int64(d.Action)),
		Int("confidence", int64(d.Confidence)),
		Float("mem_pressure", d.MemPressure),
		Int("deadline_misses", int64(d.DeadlineMisses)),
	)
	if s == nil {
		return
	}
	for _, c := range d.Checks {
		s.AddEvent("policy_check."+c.Name, d.Start,
			Bool("passed", c.Passed), Float("value", c.Value), Float("threshold", c.Threshold))
	}
	s.End(d.End)
}

// LogDecision appends line, one JSON value, as one line of DecisionsFile.
// It does nothing while tracing is disabled. A line that is not a single
// JSON value is refused.
func (t *Tracer) LogDecision(line []byte) error {
	if !t.Enabled() {
		return nil
	}
	line = bytes.TrimRight(line, "\n")
	if !json.Valid(line) {
		return errors.New("otel: decision line is not valid JSON")
	}
	if bytes.IndexByte(line, '\n') >= 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, line); err != nil {
			return fmt.Errorf("otel: decision line: %w", err)
		}
		line = buf.Bytes()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	err := afile.Append(t.cfg.FS, DecisionsFile, append(line[:len(line):len(line)], '\n'))
	if err != nil {
		t.stats.DecisionErrors++
		t.stats.LastError = err.Error()
		return err
	}
	t.stats.Decisions++
	return nil
}
