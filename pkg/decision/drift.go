package decision

import (
	"fmt"
	"io"
	"sync"

	"github.com/sis-kernel/sissim/pkg/ring"
)

// Drift monitor parameters (SIS-SPEC.md section 7).
const (
	DriftBaseline   = 800 // expected average confidence
	DriftWindow     = 100 // samples averaged
	DriftMinSamples = 10  // samples needed before judging
	DriftWarnDelta  = 100 // |avg - baseline| above this: warning
	DriftAlertDelta = 200 // above this: alert (safe mode)
	// DriftRearmDelta: a level is announced again only after |avg -
	// baseline| came back to this or less (hysteresis, so a window
	// average hovering around a limit does not repeat the line).
	DriftRearmDelta = 50
)

// DriftLevel is the drift monitor's judgement.
type DriftLevel int

// Drift levels, in increasing severity.
const (
	DriftNone DriftLevel = iota
	DriftWarning
	DriftAlert
)

func (l DriftLevel) String() string {
	switch l {
	case DriftWarning:
		return "warning"
	case DriftAlert:
		return "alert"
	}
	return "none"
}

// DriftState is the monitor's current state.
type DriftState struct {
	Level    DriftLevel
	Baseline float64
	Current  float64 // average confidence of the window (0 before the first sample)
	Delta    float64 // Current - Baseline
	Samples  int     // samples in the window
	// Alerted latches the first alert until Reset: the machine must be in
	// safe mode.
	Alerted bool
}

// DriftMonitor watches the average decision confidence over a window of
// DriftWindow samples against DriftBaseline. It prints
// `[DRIFT WARNING] confidence: delta=x.xx` when the level rises to warning
// and `[DRIFT ALERT] confidence: baseline=..., current=..., delta=...`
// when it rises to alert (delta = current - baseline, negative when
// confidence drops). A level is announced once; the monitor re-arms when
// |delta| is back to DriftRearmDelta or less.
type DriftMonitor struct {
	mu        sync.Mutex
	out       io.Writer
	win       *ring.Ring[int]
	sum       int
	level     DriftLevel
	announced DriftLevel // highest level printed since the last re-arm
	alerted   bool
}

// NewDriftMonitor returns a monitor printing to out (nil: silent).
func NewDriftMonitor(out io.Writer) *DriftMonitor {
	return &DriftMonitor{out: out, win: ring.New[int](DriftWindow)}
}

// Observe adds one decision confidence (0-1000) and returns the level.
// DriftAlert means the caller must put the machine in safe mode.
func (d *DriftMonitor) Observe(confidence int) DriftLevel {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, dropped := d.win.Add(confidence); dropped {
		d.sum -= old
	}
	d.sum += confidence
	level := DriftNone
	cur, delta := d.avgLocked()
	if d.win.Len() >= DriftMinSamples {
		switch abs := max(delta, -delta); {
		case abs > DriftAlertDelta:
			level = DriftAlert
		case abs > DriftWarnDelta:
			level = DriftWarning
		case abs <= DriftRearmDelta:
			d.announced = DriftNone
		}
	}
	if level > d.announced {
		d.announced = level
		if d.out != nil && level == DriftAlert {
			fmt.Fprintf(d.out, "[DRIFT ALERT] confidence: baseline=%d, current=%.2f, delta=%.2f\n", DriftBaseline, cur, delta)
		} else if d.out != nil {
			fmt.Fprintf(d.out, "[DRIFT WARNING] confidence: delta=%.2f\n", delta)
		}
	}
	if level == DriftAlert {
		d.alerted = true
	}
	d.level = level
	return level
}

func (d *DriftMonitor) avgLocked() (cur, delta float64) {
	if d.win.Len() == 0 {
		return 0, 0
	}
	cur = float64(d.sum) / float64(d.win.Len())
	return cur, cur - DriftBaseline
}

// State returns the monitor's state.
func (d *DriftMonitor) State() DriftState {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, delta := d.avgLocked()
	return DriftState{Level: d.level, Baseline: DriftBaseline, Current: cur, Delta: delta, Samples: d.win.Len(), Alerted: d.alerted}
}

// Reset empties the window and clears the alert latch (the operator left
// safe mode).
func (d *DriftMonitor) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.win.Reset()
	d.sum = 0
	d.level, d.announced, d.alerted = DriftNone, DriftNone, false
}
