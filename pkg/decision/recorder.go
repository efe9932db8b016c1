package decision

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"sync"

	"github.com/sis-kernel/sissim/pkg/afile"
	"github.com/sis-kernel/sissim/pkg/ring"

	"github.com/spf13/afero"
)

// Defaults of Config.
const (
	DefaultCapacity = 1024
	DefaultLogPath  = "/var/log/decisions.json"
	// DefaultFlushEvery is how many queued log lines make Record flush by
	// itself (the kernel also flushes after each tick).
	DefaultFlushEvery = 64
)

// Config configures a Recorder.
type Config struct {
	// Fs holds the decision log; nil keeps no log file.
	Fs afero.Fs
	// LogPath is the JSON-lines log (DefaultLogPath when empty).
	LogPath string
	// Console receives the [DECISION] lines; nil prints none.
	Console io.Writer
	// Capacity is the ring size (DefaultCapacity when 0).
	Capacity int
	// FlushEvery is the queue length that makes Record flush
	// (DefaultFlushEvery when 0).
	FlushEvery int
}

// Stats are a Recorder's counters.
type Stats struct {
	Total      int    // traces in the ring
	Executed   int    // of those, executed
	Overridden int    // of those, overridden
	High       int    // of those, confidence >= HighConfidence
	Recorded   uint64 // traces recorded since start (ids 1..Recorded)
	LogLines   uint64 // lines appended to the log file
	LogErrors  uint64 // failed log appends (their lines are dropped; the ring keeps the traces)
	Pending    int    // lines queued for the next Flush
}

// Recorder keeps the last Capacity decision traces in a ring, prints a
// [DECISION] line per trace and appends each as a JSON line to the log.
//
// Durability: Record only queues the log line (so recording stays cheap);
// Flush writes the queue with one append. The kernel flushes after every
// autonomy tick and before an export, so a crash of the host loses at most
// the lines of the current tick; the ring itself never loses a trace to a
// log error.
type Recorder struct {
	mu      sync.Mutex
	cfg     Config
	ring    *ring.Ring[DecisionTrace]
	nextID  uint64
	pending []DecisionTrace
	line    []byte // scratch for the console line
	logBuf  bytes.Buffer
	lines   uint64
	errs    uint64
	lastErr error
}

// NewRecorder returns an empty recorder.
func NewRecorder(cfg Config) *Recorder {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.LogPath == "" {
		cfg.LogPath = DefaultLogPath
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	return &Recorder{cfg: cfg, ring: ring.New[DecisionTrace](cfg.Capacity), nextID: 1}
}

// Record stores t in the ring with the next trace id (t.TraceID is
// overwritten), prints `[DECISION] id=N action=N conf=N exec=yes|no` and
// queues its log line. It returns the id. The recorder keeps t's slices:
// the caller must not modify them afterwards.
func (r *Recorder) Record(t DecisionTrace) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	t.TraceID = r.nextID
	r.nextID++
	r.ring.Add(t)
	if r.cfg.Console != nil {
		b := append(r.line[:0], "[DECISION] id="...)
		b = strconv.AppendUint(b, t.TraceID, 10)
		b = append(b, " action="...)
		b = strconv.AppendInt(b, int64(t.ChosenAction), 10)
		b = append(b, " conf="...)
		b = strconv.AppendInt(b, int64(t.Confidence), 10)
		if t.WasExecuted {
			b = append(b, " exec=yes\n"...)
		} else {
			b = append(b, " exec=no\n"...)
		}
		r.line = b
		_, _ = r.cfg.Console.Write(b)
	}
	if r.cfg.Fs != nil {
		r.pending = append(r.pending, t)
		if len(r.pending) >= r.cfg.FlushEvery {
			_ = r.flushLocked()
		}
	}
	return t.TraceID
}

// NextID returns the id the next Record will give.
func (r *Recorder) NextID() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextID
}

// Flush appends the queued log lines to the log file in one write. On an
// error the lines are dropped and counted (Stats.LogErrors); the error is
// returned.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushLocked()
}

func (r *Recorder) flushLocked() error {
	if len(r.pending) == 0 || r.cfg.Fs == nil {
		return nil
	}
	count := uint64(len(r.pending))
	r.logBuf.Reset()
	enc := json.NewEncoder(&r.logBuf)
	enc.SetEscapeHTML(false)
	var err error
	for i := range r.pending {
		if err = enc.Encode(&r.pending[i]); err != nil {
			break
		}
	}
	clear(r.pending)
	r.pending = r.pending[:0]
	if err == nil {
		err = afile.Append(r.cfg.Fs, r.cfg.LogPath, r.logBuf.Bytes())
	}
	if err != nil {
		r.errs += count
		r.lastErr = err
		return err
	}
	r.lines += count
	return nil
}

// Get returns the trace with the given id if it is still in the ring.
func (r *Recorder) Get(id uint64) (DecisionTrace, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ring.Len() == 0 || id == 0 {
		return DecisionTrace{}, false
	}
	oldest := r.ring.At(0).TraceID
	if id < oldest || id >= oldest+uint64(r.ring.Len()) {
		return DecisionTrace{}, false
	}
	return *r.ring.At(int(id - oldest)), true
}

// Recent returns the last n traces (all when n <= 0 or n exceeds the
// ring), oldest first.
func (r *Recorder) Recent(n int) []DecisionTrace {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ring.Last(n)
}

// All returns every trace in the ring, oldest first.
func (r *Recorder) All() []DecisionTrace { return r.Recent(0) }

// Clear empties the ring and returns how many traces it held. Trace ids
// keep counting; queued log lines are still written by the next Flush.
func (r *Recorder) Clear() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.ring.Len()
	r.ring.Reset()
	return n
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Total: r.ring.Len(), Recorded: r.nextID - 1, LogLines: r.lines, LogErrors: r.errs, Pending: len(r.pending)}
	for i := 0; i < r.ring.Len(); i++ {
		t := r.ring.At(i)
		if t.WasExecuted {
			s.Executed++
		}
		if t.WasOverridden {
			s.Overridden++
		}
		if t.Confidence >= HighConfidence {
			s.High++
		}
	}
	return s
}

// LastLogError returns the last log write error (nil if none).
func (r *Recorder) LastLogError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}
