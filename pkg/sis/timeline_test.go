package sis

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/model"
)

// The timeline marks the autonomy loop's decisions, the shadow's
// divergences and its rollback, at the machine time they happened.
func TestTimelineMarksDecisionsAndRollbacks(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	a := m.svc.autonomy
	low := lowConfidence(t)
	sh(t, m, "modelctl load v1.1.0")               // v1.0.0 is active since the first boot
	a.active = func() *model.Loaded { return low } // the shadow diverges on every decision
	var buf bytes.Buffer
	tl := m.StartTimeline(&buf, 0)
	sh(t, m, "shadowctl enable v1.1.0; shadowctl mode compare; shadowctl threshold 5; autoctl on")
	sh(t, m, "run memhog 8 1 500")
	require.NoError(t, tl.Stop())
	require.Zero(t, tl.Dropped())

	var doc struct {
		TraceEvents []struct {
			Ph, Cat, Name, S string
			Ts               float64
			Args             map[string]any
		} `json:"traceEvents"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.Equal(t, uint64(len(doc.TraceEvents)), tl.Events())
	marks := map[string]int{}
	var lastDecision float64
	for _, ev := range doc.TraceEvents {
		if ev.Ph == "i" && ev.S == "g" {
			marks[ev.Cat+"/"+ev.Name]++
			if ev.Name == "decision" {
				require.Greater(t, ev.Ts, lastDecision, "one decision per tick")
				lastDecision = ev.Ts
				require.Contains(t, ev.Args, "outcome")
			}
		}
	}
	require.Equal(t, 5, marks["shadow/shadow divergence"], "the threshold of 5 ends it")
	require.Equal(t, 1, marks["shadow/rollback"])
	require.GreaterOrEqual(t, marks["autonomy/decision"], 5)
}

// The LLM service's inferences are slices of its CBS server, a thread of
// the machine's own track.
func TestTimelineShowsServiceEntities(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	sh(t, m, "llmctl load; llmctl budget --wcet-cycles 10000000 --period-ns 1000000000")
	var buf bytes.Buffer
	tl := m.StartTimeline(&buf, 0)
	sh(t, m, "llminfer the scheduler")
	require.NoError(t, tl.Stop())
	var doc struct {
		TraceEvents []struct {
			Ph, Cat, Name string
			Pid, Tid      int
			Args          map[string]any
		} `json:"traceEvents"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	named := map[int]string{}
	slices := 0
	for _, ev := range doc.TraceEvents {
		if ev.Pid != 0 {
			continue
		}
		if ev.Ph == "M" && ev.Name == "thread_name" {
			named[ev.Tid], _ = ev.Args["name"].(string)
		}
		if ev.Ph == "X" && ev.Cat == "entity" {
			require.Equal(t, "AiInference", ev.Name)
			require.Contains(t, named[ev.Tid], "(AiInference)", "the server's track is named first")
			slices++
		}
	}
	require.Positive(t, slices)
}
