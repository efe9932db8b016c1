package decision

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// TracectlUsage is the usage line of tracectl.
const TracectlUsage = "tracectl  decision traces: list, show, export incident bundles"

// Defaults and limits of tracectl.
const (
	DefaultListCount = 10
	DefaultDemoCount = 10
	MaxDemoCount     = DefaultCapacity
)

// Tracectl is the tracectl shell command over a recorder.
type Tracectl struct {
	Rec *Recorder
	// Fs holds /incidents.
	Fs afero.Fs
	// IncidentDir is where bundles go (DefaultIncidentDir when empty).
	IncidentDir string
	// Snapshot returns the machine's state for a bundle (wall time, active
	// model, uptime, heap counters, logs, build config).
	Snapshot func() Snapshot
	// Decide makes one real decision: it runs the active model on features
	// (model order) and records the trace. tracectl demo calls it once per
	// input of DemoInputs. Nil: demo is unavailable.
	Decide func(features []float32) error
}

// ShellCommand returns the tracectl shell command.
func (t *Tracectl) ShellCommand() shellcmd.Command {
	return shellcmd.Command{Name: "tracectl", Usage: TracectlUsage, Subs: t.subs(), Run: t.Command}
}

// Command runs `tracectl args...`, printing to w.
func (t *Tracectl) Command(w io.Writer, args []string) error {
	return shellcmd.Dispatch("tracectl", t.subs(), w, args)
}

func (t *Tracectl) subs() []shellcmd.Sub {
	return []shellcmd.Sub{
		{Name: "list", Usage: "list [N]  the last N traces (default 10)", Run: t.list},
		{Name: "show", Usage: "show <id>  one trace in full", Run: t.show},
		{Name: "export", Usage: "export <id>...|--all|--recent N [--path <file>]  write an incident bundle", Run: t.export},
		{Name: "clear", Usage: "clear  empty the trace buffer", Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usagef("tracectl clear")
			}
			fmt.Fprintf(w, "Cleared %d trace(s) from buffer\n", t.Rec.Clear())
			return nil
		}},
		{Name: "stats", Usage: "stats  buffer and log counters", Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usagef("tracectl stats")
			}
			t.stats(w)
			return nil
		}},
		{Name: "demo", Usage: "demo [N]  make N decisions with the active model on synthetic inputs (default 10)", Run: t.demo},
	}
}

// count parses a positive count argument.
func count(what, s string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, shellcmd.BadArgs("tracectl: %s: %q is not a positive number", what, s)
	}
	if n > max {
		return 0, shellcmd.BadArgs("tracectl: %s: %d is more than %d", what, n, max)
	}
	return n, nil
}

func (t *Tracectl) list(w io.Writer, args []string) error {
	n := DefaultListCount
	switch len(args) {
	case 0:
	case 1:
		var err error
		if n, err = count("list", args[0], DefaultCapacity); err != nil {
			return err
		}
	default:
		return usagef("tracectl list [N]")
	}
	fmt.Fprintf(w, "Recent Decision Traces (last %d):\n", n)
	traces := t.Rec.Recent(n)
	if len(traces) == 0 {
		fmt.Fprintln(w, "  (no traces recorded)")
		return nil
	}
	for _, tr := range traces {
		fmt.Fprintf(w, "  [%d] t=%dus model=%s action=%d conf=%d exec=%s%s\n",
			tr.TraceID, tr.TimestampUs, tr.ModelVersion, tr.ChosenAction, tr.Confidence, yesNo(tr.WasExecuted), overridden(tr))
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func overridden(t DecisionTrace) string {
	if !t.WasOverridden {
		return ""
	}
	return " overridden (" + t.OverrideReason + ")"
}

func (t *Tracectl) show(w io.Writer, args []string) error {
	if len(args) != 1 {
		return usagef("tracectl show <id>")
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return shellcmd.BadArgs("tracectl: show: %q is not a trace id", args[0])
	}
	tr, ok := t.Rec.Get(id)
	if !ok {
		return fmt.Errorf("tracectl: show: trace %d is not in the buffer", id)
	}
	fmt.Fprintf(w, "Decision Trace Details for ID: %d\n", id)
	fmt.Fprintf(w, "  Timestamp: %d us\n", tr.TimestampUs)
	fmt.Fprintf(w, "  Model: %s (hash %s)\n", tr.ModelVersion, tr.ModelHash)
	tm := tr.Telemetry
	fmt.Fprintf(w, "  Telemetry: mem_pressure=%.3f (%d/%d bytes) deadline_misses=%d cpu_usage=%.3f run_queue=%d network_latency=%g\n",
		tm.MemPressure, tm.MemUsedBytes, tm.MemBudgetBytes, tm.DeadlineMisses, tm.CPUUsage, tm.RunQueue, tm.NetworkLatency)
	fmt.Fprintf(w, "  Features: %s\n", floats(tr.Features))
	fmt.Fprintf(w, "  System: uptime_ms=%d heap_used=%d processes_running=%d\n",
		tr.SystemState.UptimeMs, tr.SystemState.HeapUsed, tr.SystemState.ProcessesRunning)
	for i, h := range tr.HiddenActivations {
		fmt.Fprintf(w, "  Hidden layer %d: %s\n", i+1, floats(h))
	}
	fmt.Fprintf(w, "  Policy checks:\n")
	if len(tr.PolicyChecks) == 0 {
		fmt.Fprintf(w, "    (none)\n")
	}
	for _, c := range tr.PolicyChecks {
		verdict := "FAIL"
		if c.Passed {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "    [%s] %s value=%g threshold=%g\n", verdict, c.CheckName, c.Value, c.Threshold)
	}
	fmt.Fprintf(w, "  Predictions: %s\n", floats(tr.Predictions))
	fmt.Fprintf(w, "  Chosen action: %d (confidence %d/1000)\n", tr.ChosenAction, tr.Confidence)
	alts := make([]string, len(tr.Alternatives))
	for i, a := range tr.Alternatives {
		alts[i] = fmt.Sprintf("%d (%d)", a.Action, a.Confidence)
	}
	fmt.Fprintf(w, "  Alternatives: %s\n", strings.Join(alts, ", "))
	fmt.Fprintf(w, "  Executed: %s\n", yesNo(tr.WasExecuted))
	fmt.Fprintf(w, "  Overridden: %s", yesNo(tr.WasOverridden))
	if tr.WasOverridden {
		fmt.Fprintf(w, " (%s)", tr.OverrideReason)
	}
	fmt.Fprintln(w)
	return nil
}

func floats(v []float32) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(float64(f), 'f', 4, 32)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func (t *Tracectl) export(w io.Writer, args []string) error {
	const use = "tracectl export <id>...|--all|--recent N [--path <file>]"
	var (
		ids     []uint64
		all     bool
		recent  int
		out     string
		haveSel int
	)
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--all":
			all = true
			haveSel++
		case "--recent", "--path":
			if i+1 >= len(args) {
				return usagef("%s", use)
			}
			i++
			if a == "--path" {
				if out != "" || args[i] == "" {
					return usagef("%s", use)
				}
				out = args[i]
				continue
			}
			n, err := count("export --recent", args[i], DefaultCapacity)
			if err != nil {
				return err
			}
			recent = n
			haveSel++
		default:
			if strings.HasPrefix(a, "-") {
				return shellcmd.BadArgs("tracectl: export: unknown option %q", a)
			}
			id, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				return shellcmd.BadArgs("tracectl: export: %q is not a trace id", a)
			}
			if len(ids) == 0 {
				haveSel++
			}
			ids = append(ids, id)
		}
	}
	if haveSel != 1 {
		return usagef("%s", use)
	}
	var traces []DecisionTrace
	switch {
	case all:
		traces = t.Rec.All()
	case recent > 0:
		traces = t.Rec.Recent(recent)
	default:
		for _, id := range ids {
			tr, ok := t.Rec.Get(id)
			if !ok {
				return fmt.Errorf("tracectl: export: trace %d is not in the buffer", id)
			}
			traces = append(traces, tr)
		}
	}
	if len(traces) == 0 {
		return errors.New("tracectl: export: no traces recorded")
	}
	if t.Snapshot == nil || t.Fs == nil {
		return errors.New("tracectl: export: no filesystem or machine snapshot")
	}
	// Bring the decision log up to date with what the bundle holds.
	_ = t.Rec.Flush()
	p, err := ExportBundle(t.Fs, t.IncidentDir, out, t.Snapshot(), traces)
	if err != nil {
		return fmt.Errorf("tracectl: %w", err)
	}
	fmt.Fprintf(w, "Incident bundle exported to: %s\n", p)
	return nil
}

func (t *Tracectl) stats(w io.Writer) {
	s := t.Rec.Stats()
	pct := 0.0
	if s.Total > 0 {
		pct = float64(s.Executed) * 100 / float64(s.Total)
	}
	fmt.Fprintln(w, "Trace Buffer Statistics:")
	fmt.Fprintf(w, "  Total Traces: %d\n", s.Total)
	fmt.Fprintf(w, "  Executed: %d (%.1f%%)\n", s.Executed, pct)
	fmt.Fprintf(w, "  Overridden: %d\n", s.Overridden)
	fmt.Fprintf(w, "  High Confidence: %d\n", s.High)
	fmt.Fprintf(w, "  Recorded Since Boot: %d\n", s.Recorded)
	fmt.Fprintf(w, "  Log Lines: %d (errors %d, pending %d)\n", s.LogLines, s.LogErrors, s.Pending)
}

func (t *Tracectl) demo(w io.Writer, args []string) error {
	n := DefaultDemoCount
	switch len(args) {
	case 0:
	case 1:
		var err error
		if n, err = count("demo", args[0], MaxDemoCount); err != nil {
			return err
		}
	default:
		return usagef("tracectl demo [N]")
	}
	if t.Decide == nil {
		return errors.New("tracectl: demo: no decision maker (is a model active?)")
	}
	for i, in := range DemoInputs(n) {
		if err := t.Decide(in); err != nil {
			return fmt.Errorf("tracectl: demo: decision %d of %d: %w", i+1, n, err)
		}
	}
	_ = t.Rec.Flush()
	fmt.Fprintf(w, "Generated %d demo decision(s) with the active model\n", n)
	return nil
}

// DemoInputs returns the n synthetic inputs of tracectl demo, in model
// feature order (mem_pressure, deadline_misses, cpu_usage, run_queue,
// processes, network_latency), quantized as the machine reports them
// (misses in tenths, run queue in eighths, processes in 1/32). Input i
// is in regime i mod 4, varied by u_k = ((i*s_k) mod 100)/100 with
// s = 37, 53, 71, 29, 13:
//
//	0 idle:            mem 0.6*u0, misses 0-0.2, cpu 0.8*u2, run queue 0-7/8
//	1 memory pressure: mem 0.85+0.15*u0, the rest as idle
//	2 CPU saturation:  mem 0.8*u0, misses 0-0.2, cpu 0.9+0.1*u2, run queue 2/8-1
//	3 deadline misses: mem 0.8*u0, misses 0.3-1.0, cpu u2, run queue 0-7/8
//
// processes = u4 in 1/32 steps and network_latency = 0 throughout. So the
// reference policy's four actions (none, reclaim, throttle, boost) take
// turns. Deterministic.
func DemoInputs(n int) [][]float32 {
	steps := [...]int{37, 53, 71, 29, 13}
	out := make([][]float32, n)
	for i := range out {
		var u [len(steps)]float32
		for k, s := range steps {
			u[k] = float32((i*s)%100) / 100
		}
		mem, misses, cpu, rq := 0.6*u[0], float32(int(u[1]*3))/10, 0.8*u[2], float32(int(u[3]*8))/8
		switch i % 4 {
		case 1:
			mem = 0.85 + 0.15*u[0]
		case 2:
			mem, cpu, rq = 0.8*u[0], 0.9+0.1*u[2], float32(2+int(u[3]*7))/8
		case 3:
			mem, misses, cpu = 0.8*u[0], float32(3+int(u[1]*8))/10, u[2]
		}
		out[i] = []float32{mem, misses, cpu, rq, float32(int(u[4]*33)) / 32, 0}
	}
	return out
}
