package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Limits are the health-check thresholds.
type Limits struct {
	MaxLatencyP99 time.Duration // p99 inference latency (else ETIMEDOUT)
	MaxMemory     int64         // memory footprint in bytes (else ENOMEM)
	MinAccuracy   float64       // accuracy on the package's test set (else EINVAL)
}

// DefaultLimits are SIS's thresholds: p99 <= 1000 us, memory <= 10 MiB,
// accuracy >= 0.95.
var DefaultLimits = Limits{MaxLatencyP99: 1000 * time.Microsecond, MaxMemory: 10 << 20, MinAccuracy: 0.95}

// Health is the result of a model's health checks, as registry.json
// records it.
type Health struct {
	LatencyP99US int64   `json:"inference_latency_p99_us"`
	MemoryBytes  int64   `json:"memory_footprint_bytes"`
	Accuracy     float64 `json:"test_accuracy"`
}

// Check is one health check.
type Check struct {
	Name      string // "latency", "memory", "accuracy"
	Passed    bool
	Value     float64
	Threshold float64
	Errno     linux.Errno // the error a failure reports
	Text      string      // "p99=12us (limit 1000us)"
}

// HealthReport is the outcome of the health checks of one model.
type HealthReport struct {
	Version string
	Hash    string
	Health
	LatencyP99 time.Duration
	// Elapsed is the clock time the latency runs took (the whole test
	// set).
	Elapsed time.Duration
	Checks  []Check
}

// Passed reports whether every check passed.
func (h *HealthReport) Passed() bool {
	for _, c := range h.Checks {
		if !c.Passed {
			return false
		}
	}
	return true
}

// Failure names the failed checks ("latency (ETIMEDOUT)"), "" when all
// passed.
func (h *HealthReport) Failure() string {
	var f []string
	for _, c := range h.Checks {
		if !c.Passed {
			f = append(f, fmt.Sprintf("%s %s (%s)", c.Name, c.Text, c.Errno.Name()))
		}
	}
	return strings.Join(f, ", ")
}

// HealthError is returned when a model fails its health checks. It
// matches (errors.Is) the errno of its first failed check.
type HealthError struct{ Report *HealthReport }

func (e *HealthError) Error() string {
	return fmt.Sprintf("model %s failed health checks: %s", e.Report.Version, e.Report.Failure())
}

// Is matches the errno of the first failed check.
func (e *HealthError) Is(target error) bool {
	for _, c := range e.Report.Checks {
		if !c.Passed {
			return errors.Is(c.Errno, target)
		}
	}
	return false
}

// Clock times the inferences of a health check.
type Clock struct {
	// Now reads the clock.
	Now func() time.Duration
	// Bench, when not nil, runs the test inputs on the machine (see
	// Bench): each latency is the machine time its inference took there.
	Bench Bench
	// Advance, when not nil (and Bench is nil), makes the clock
	// deterministic (virtual time): the check charges each inference's
	// estimated cost (Model.Cost) to the clock with Advance. When both
	// are nil, Now is a real clock and an inference takes the host time
	// it takes.
	Advance func(time.Duration)
}

// Bench runs the inferences of l on each of its test inputs on a
// machine, as a program of the machine, and returns what each took.
type Bench func(l *Loaded) ([]Measured, error)

// Measured is one inference of a Bench run.
type Measured struct {
	Latency time.Duration // machine time, read on the machine's counter around the inference
	Action  int           // the action the machine's run chose
}

// VirtualClock returns a private deterministic clock starting at 0, for
// checks that run outside a machine (sissim model verify).
func VirtualClock() Clock {
	var now atomic.Int64
	return Clock{
		Now:     func() time.Duration { return time.Duration(now.Load()) },
		Advance: func(d time.Duration) { now.Add(int64(d)) },
	}
}

// check runs the health checks of l on the registry's clock, one check
// at a time (so the latencies of one are not mixed with another's).
func (r *Registry) check(l *Loaded) *HealthReport {
	r.checkMu.Lock()
	defer r.checkMu.Unlock()
	return RunHealth(l, r.cfg.Limits, r.clock)
}

// RunHealth runs the health checks of l against lim: the p99 of the
// inference latencies over the package's test set, the memory footprint,
// and the accuracy on the test set. The latencies come from clk: a Bench
// run on the machine (each inference's machine time; its actions must be
// the model's, else the latency check fails), or clk.Now read around each
// inference (charged its Model.Cost on a virtual clock).
func RunHealth(l *Loaded, lim Limits, clk Clock) *HealthReport {
	m := l.Model
	lat := make([]time.Duration, len(l.Health.Inputs))
	correct := 0
	cost := m.Cost()
	begin := clk.Now()
	var measured []Measured
	var benchErr error
	if clk.Bench != nil {
		measured, benchErr = clk.Bench(l)
		if benchErr == nil && len(measured) != len(lat) {
			benchErr = fmt.Errorf("the machine ran %d inferences of %d", len(measured), len(lat))
		}
	}
	for i, in := range l.Health.Inputs {
		start := clk.Now()
		res := m.Infer(in)
		switch {
		case clk.Bench != nil:
			if benchErr == nil {
				lat[i] = measured[i].Latency
				if a := measured[i].Action; a != res.Action {
					benchErr = fmt.Errorf("input %d: the machine's run chose action %d, the model %d", i, a, res.Action)
				}
			}
		case clk.Advance != nil:
			clk.Advance(cost)
			lat[i] = clk.Now() - start
		default:
			lat[i] = clk.Now() - start
		}
		if res.Action == l.Health.Expected[i] {
			correct++
		}
	}
	rep := &HealthReport{Version: l.Version, Hash: l.Hash, Elapsed: clk.Now() - begin}
	rep.LatencyP99 = percentile(lat, 0.99)
	rep.LatencyP99US = int64((rep.LatencyP99 + time.Microsecond - 1) / time.Microsecond)
	rep.MemoryBytes = m.MemoryFootprint()
	if n := len(l.Health.Inputs); n > 0 {
		rep.Accuracy = float64(correct) / float64(n)
	}
	latency := Check{Name: "latency", Passed: rep.LatencyP99 <= lim.MaxLatencyP99,
		Value: float64(rep.LatencyP99US), Threshold: float64(lim.MaxLatencyP99 / time.Microsecond),
		Errno: linux.ETIMEDOUT,
		Text:  fmt.Sprintf("p99=%dus (limit %dus)", rep.LatencyP99US, lim.MaxLatencyP99/time.Microsecond)}
	if benchErr != nil {
		latency.Passed, latency.Errno = false, linux.EIO
		latency.Text = fmt.Sprintf("not measured on the machine: %v", benchErr)
	}
	rep.Checks = []Check{
		latency,
		{Name: "memory", Passed: rep.MemoryBytes <= lim.MaxMemory,
			Value: float64(rep.MemoryBytes), Threshold: float64(lim.MaxMemory),
			Errno: linux.ENOMEM,
			Text:  fmt.Sprintf("%d bytes (limit %d)", rep.MemoryBytes, lim.MaxMemory)},
		{Name: "accuracy", Passed: len(l.Health.Inputs) > 0 && rep.Accuracy >= lim.MinAccuracy,
			Value: rep.Accuracy, Threshold: lim.MinAccuracy,
			Errno: linux.EINVAL,
			Text:  fmt.Sprintf("%.2f%% on %d test inputs (limit %.2f%%)", rep.Accuracy*100, len(l.Health.Inputs), lim.MinAccuracy*100)},
	}
	return rep
}

// percentile returns the nearest-rank p-quantile of d (0 when empty).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(float64(len(s))*p+0.999999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}
