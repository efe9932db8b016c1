package timeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// event is the part of a trace event the tests read.
type event struct {
	Ph   string         `json:"ph"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Cat  string         `json:"cat"`
	Name string         `json:"name"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	S    string         `json:"s"`
	Args map[string]any `json:"args"`
}

func parse(t *testing.T, data []byte) []event {
	t.Helper()
	var doc struct {
		TraceEvents []event `json:"traceEvents"`
	}
	require.NoError(t, json.Unmarshal(data, &doc), "%s", data)
	return doc.TraceEvents
}

func TestWriterEvents(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 0)
	w.Process(2, "sh")
	w.Process(2, "sh") // unchanged: not repeated
	w.Thread(2, 3, "wörker \"1\"\n<&>")
	w.Complete(2, 3, "run", "sh", 1500, 2_001_234, Arg{"insns", int64(7)}, Arg{"stop", "blocked"})
	w.Instant(2, 3, "signal", "SIGCHLD", 999, ScopeThread, Arg{"ok", true}, Arg{"f", 0.5})
	w.Counter(0, "memory", 3000, Arg{"used_bytes", uint64(1 << 40)})
	require.NoError(t, w.Close())
	require.True(t, bytes.HasPrefix(buf.Bytes(), []byte(`{"traceEvents":[`)))
	evs := parse(t, buf.Bytes())
	require.Len(t, evs, 5)
	require.Equal(t, uint64(5), w.Events())
	require.Equal(t, event{Ph: "M", Pid: 2, Name: "process_name", Args: map[string]any{"name": "sh"}}, evs[0])
	require.Equal(t, "wörker \"1\"\n<&>", evs[1].Args["name"])
	require.Equal(t, event{Ph: "X", Pid: 2, Tid: 3, Cat: "run", Name: "sh", Ts: 1.5, Dur: 1999.734,
		Args: map[string]any{"insns": 7.0, "stop": "blocked"}}, evs[2])
	require.Contains(t, buf.String(), `"ts":1.500,"dur":1999.734`, "µs with three decimals")
	require.Equal(t, event{Ph: "i", Pid: 2, Tid: 3, Cat: "signal", Name: "SIGCHLD", Ts: 0.999, S: "t",
		Args: map[string]any{"ok": true, "f": 0.5}}, evs[3])
	require.Equal(t, "C", evs[4].Ph)
	require.Equal(t, float64(1<<40), evs[4].Args["used_bytes"])
}

// The file never grows past the limit: events beyond it are counted, and
// the file stays valid JSON.
func TestWriterLimit(t *testing.T) {
	var buf bytes.Buffer
	const limit = 4096
	w := NewWriter(&buf, limit)
	for i := range 1000 {
		w.Complete(2, 2, "run", "x", uint64(i)*1000, uint64(i)*1000+500)
	}
	require.NoError(t, w.Close())
	require.LessOrEqual(t, buf.Len(), limit)
	evs := parse(t, buf.Bytes())
	require.Equal(t, uint64(len(evs)), w.Events())
	require.Positive(t, len(evs))
	require.Equal(t, uint64(1000), w.Events()+w.Dropped())
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterError(t *testing.T) {
	w := NewWriter(failWriter{}, 0)
	w.Complete(2, 2, "run", "x", 0, 1)
	require.ErrorContains(t, w.Close(), "disk full")
}
