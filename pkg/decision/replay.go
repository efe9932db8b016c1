package decision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spf13/afero"
)

// ExportFormat names the decision export file format (ExportFile.Format).
const ExportFormat = "sissim-decisions/1"

// ExportFile is the decision export file (autoctl export-decisions): an
// indented JSON object
//
//	{"format": "sissim-decisions/1", "decisions": [DecisionTrace, ...]}
//
// Each decision carries its recorded inputs (features, telemetry), the
// model version and hash that decided, and the model's outputs
// (predictions, chosen_action, confidence), which is what replay needs.
type ExportFile struct {
	Format    string          `json:"format"`
	Decisions []DecisionTrace `json:"decisions"`
}

// WriteExport writes traces as an ExportFile.
func WriteExport(w io.Writer, traces []DecisionTrace) error {
	if traces == nil {
		traces = []DecisionTrace{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(ExportFile{Format: ExportFormat, Decisions: traces})
}

// ReadExport parses an ExportFile and checks that every decision can be
// replayed (a model version, features, predictions). Errors name the
// offending decision.
func ReadExport(r io.Reader) ([]DecisionTrace, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f ExportFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decision export: malformed JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decision export: malformed: data after the JSON object")
	}
	if f.Format != ExportFormat {
		return nil, fmt.Errorf("decision export: format %q, want %q", f.Format, ExportFormat)
	}
	if f.Decisions == nil {
		return nil, errors.New("decision export: malformed: no \"decisions\" array")
	}
	for i, t := range f.Decisions {
		switch {
		case t.ModelVersion == "":
			return nil, fmt.Errorf("decision export: decision %d (trace %d): no model_version", i, t.TraceID)
		case len(t.Features) == 0:
			return nil, fmt.Errorf("decision export: decision %d (trace %d): no features", i, t.TraceID)
		case len(t.Predictions) == 0:
			return nil, fmt.Errorf("decision export: decision %d (trace %d): no predictions", i, t.TraceID)
		}
	}
	return f.Decisions, nil
}

// Mismatch is a decision that replay did not reproduce.
type Mismatch struct {
	TraceID uint64
	Reason  string
}

// ReplayReport is the result of a replay.
type ReplayReport struct {
	Total      int
	Reproduced int
	Mismatches []Mismatch
}

// OK reports whether every decision was reproduced.
func (r ReplayReport) OK() bool { return r.Reproduced == r.Total }

// Replay re-runs each decision's recorded features through the recorded
// model version (found with lookup) and compares the outputs bit for bit:
// predictions, action and confidence. A model whose hash differs from the
// recorded one counts as not reproduced. An unknown model version is an
// error (naming the version and decision), not a mismatch.
func Replay(traces []DecisionTrace, lookup Lookup) (ReplayReport, error) {
	rep := ReplayReport{Total: len(traces)}
	type model struct {
		p    Predictor
		hash string
	}
	models := map[string]model{}
	for _, t := range traces {
		m, ok := models[t.ModelVersion]
		if !ok {
			p, hash, err := lookup(t.ModelVersion)
			if err != nil {
				return rep, fmt.Errorf("replay: trace %d: model version %q: %w", t.TraceID, t.ModelVersion, err)
			}
			m = model{p, hash}
			models[t.ModelVersion] = m
		}
		if reason := replayOne(t, m.p, m.hash); reason != "" {
			rep.Mismatches = append(rep.Mismatches, Mismatch{TraceID: t.TraceID, Reason: reason})
			continue
		}
		rep.Reproduced++
	}
	return rep, nil
}

func replayOne(t DecisionTrace, p Predictor, hash string) string {
	if t.ModelHash != "" && hash != t.ModelHash {
		return fmt.Sprintf("model %s hash %.12s differs from the recorded %.12s", t.ModelVersion, hash, t.ModelHash)
	}
	out := p(t.Features)
	if len(out.Scores) != len(t.Predictions) {
		return fmt.Sprintf("%d predictions, recorded %d", len(out.Scores), len(t.Predictions))
	}
	for i := range out.Scores {
		if math.Float32bits(out.Scores[i]) != math.Float32bits(t.Predictions[i]) {
			return fmt.Sprintf("prediction %d is %v, recorded %v", i, out.Scores[i], t.Predictions[i])
		}
	}
	if out.Action != t.ChosenAction {
		return fmt.Sprintf("action %d, recorded %d", out.Action, t.ChosenAction)
	}
	if out.Confidence != t.Confidence {
		return fmt.Sprintf("confidence %d, recorded %d", out.Confidence, t.Confidence)
	}
	return ""
}

// ReplayFile reads an ExportFile from fs and replays it.
func ReplayFile(fs afero.Fs, name string, lookup Lookup) (ReplayReport, error) {
	data, err := afero.ReadFile(fs, name)
	if err != nil {
		return ReplayReport{}, fmt.Errorf("replay: %w", err)
	}
	traces, err := ReadExport(bytes.NewReader(data))
	if err != nil {
		return ReplayReport{}, fmt.Errorf("replay %s: %w", name, err)
	}
	return Replay(traces, lookup)
}
