package sis

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/decision"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/shadow"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Autonomy wiring: the decision recorder over the machine's VFS and
// console, the shadow agent over the model registry (shadow-mode feature),
// the kernel's autonomy loop, and the `autoctl`, `tracectl`, `shadowctl`
// commands and `llmctl shadow-*` subcommands.

// AutoctlUsage is the usage line of autoctl.
const AutoctlUsage = "autoctl  the autonomy loop: a decision of the active model every 500 ms of machine time"

// startAutonomy starts the decision recorder and the autonomy loop
// (DefaultServices); the loop stays off until `autoctl on`. It works with
// every SIS feature off: without decision-traces the traces stay in
// memory (no log file, no [DECISION] lines, no tracectl), and without the
// model registry the loop runs the built-in model.
func startAutonomy(m *System) (string, error) {
	fsys := m.FS().Afero()
	svc := &m.svc
	var rec *decision.Recorder
	if m.Features().Enabled(FeatureDecisionTraces) {
		if err := m.appendOnlyLog(decision.DefaultLogPath); err != nil {
			return "", fmt.Errorf("autonomy: %w", err)
		}
		rec = decision.NewRecorder(decision.Config{Fs: fsys, Console: m.Stdout()})
	} else {
		rec = decision.NewRecorder(decision.Config{})
	}
	a := newAutonomy(m, svc.models, rec, nil)
	if svc.models == nil {
		l, err := m.builtinModel()
		if err != nil {
			return "", fmt.Errorf("autonomy: %w", err)
		}
		a.active = func() *model.Loaded { return l }
	}
	svc.traces, svc.autonomy = rec, a
	m.onClose(func() { _ = rec.Flush() }) // the last decisions reach the log

	sh := m.Shell()
	if err := sh.Register(Command{Name: "autoctl", Usage: AutoctlUsage, Subs: a.subs(), Run: a.command}); err != nil {
		return "", err
	}
	tc := &decision.Tracectl{Rec: rec, Fs: fsys, Snapshot: a.snapshot, Decide: a.demoDecide}
	cmd := tc.ShellCommand()
	cmd.Feature = FeatureDecisionTraces
	return "", sh.Register(cmd)
}

// shadowCommands are the shell commands of the shadow agent.
var shadowCommands = []string{"shadowctl"}

// startShadow starts the shadow agent of the autonomy loop
// (DefaultServices). It needs the model registry.
func startShadow(m *System) (string, error) {
	svc := &m.svc
	if svc.models == nil || svc.autonomy == nil {
		m.Shell().disable(shadowCommands, FeatureModelLifecycle)
		return "", nil
	}
	if err := m.appendOnlyLog(shadow.DefaultRollbackLog); err != nil {
		return "", fmt.Errorf("shadow: %w", err)
	}
	ag := shadow.New(shadow.Config{Models: shadow.FromRegistry(svc.models), Fs: m.FS().Afero(), Console: m.Stdout(), Wall: m.WallTime,
		MinPromote: m.opts.MinPromoteComparisons})
	svc.shadow, svc.autonomy.shadow = ag, ag
	sh := m.Shell()
	cmd := ag.ShellCommand()
	cmd.Feature = FeatureShadowMode
	return "", sh.Register(cmd)
}

// snapshot is the machine's state for an incident bundle.
func (a *autonomy) snapshot() decision.Snapshot {
	m := a.m
	ms := m.MemStats()
	s := decision.Snapshot{
		Now: m.WallTime(),
		System: decision.SystemSnapshot{
			UptimeMs: uint64(m.Now() / time.Millisecond),
			HeapStats: map[string]uint64{
				"used_bytes": ms.Used, "peak_bytes": ms.Peak, "mapped_bytes": ms.Mapped, "ram_bytes": m.MemSize(),
				"allocs": ms.Allocs, "frees": ms.Frees, "failures": ms.Failures,
			},
			Logs: a.recentLogs(),
		},
	}
	if l := a.active(); l != nil {
		s.Model = decision.ModelInfo{Version: l.Version, Hash: l.Hash, LoadedAt: m.Epoch().Add(l.LoadedAt).UTC().Format(time.RFC3339Nano)}
	}
	s.Config.Features = strings.Split(m.Features().String(), ",")
	s.Config.GitCommit, s.Config.BuildTimestamp = decision.BuildVCS()
	return s
}

// demoDecide is tracectl demo's decision maker: the active model on
// synthetic features, recorded but never executed.
func (a *autonomy) demoDecide(features []float32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.decideFeatures(Telemetry{}, features, false) {
		return errors.New("no active model (modelctl swap <version>)")
	}
	return nil
}

// command runs `autoctl args...`.
func (a *autonomy) command(w io.Writer, args []string) error {
	return shellcmd.Dispatch("autoctl", a.subs(), w, args)
}

// subs are the subcommands of autoctl.
func (a *autonomy) subs() []Subcommand {
	noArgs := func(f func(w io.Writer)) CommandFunc {
		return func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return shellcmd.BadArgs("unexpected argument %q", args[0])
			}
			f(w)
			return nil
		}
	}
	return []Subcommand{
		{Name: "on", Usage: "on  start the loop", Run: noArgs(func(w io.Writer) {
			if !a.start() {
				fmt.Fprintln(w, "Autonomy already on")
				return
			}
			fmt.Fprintf(w, "Autonomy ON: a decision every %s of machine time\n", AutonomyTick)
			if a.active() == nil {
				fmt.Fprintln(w, "  (no active model: no decisions until 'modelctl swap <version>')")
			}
		})},
		{Name: "off", Usage: "off  stop the loop", Run: noArgs(func(w io.Writer) {
			if !a.stop() {
				fmt.Fprintln(w, "Autonomy already off")
				return
			}
			fmt.Fprintln(w, "Autonomy OFF")
		})},
		{Name: "status", Usage: "status  mode, model, counters, drift and adjusted processes", Run: noArgs(a.status)},
		{Name: "safe-mode", Usage: "safe-mode on|off  record actions without executing them", Run: func(w io.Writer, args []string) error {
			if len(args) != 1 {
				return shellcmd.BadArgs("autoctl safe-mode: want on or off")
			}
			switch args[0] {
			case "on":
				a.setSafe(true)
				fmt.Fprintln(w, "Safe mode ON: actions are recorded, not executed")
			case "off":
				a.setSafe(false)
				fmt.Fprintln(w, "Safe mode OFF: actions execute again")
			default:
				return shellcmd.BadArgs("autoctl safe-mode: want on or off, got %q", args[0])
			}
			return nil
		}},
		{Name: "audit", Usage: "audit last N|stats  the last N decisions, or statistics", Run: a.auditCmd},
		{Name: "export-decisions", Usage: "export-decisions [--format json] --output <file>  write every decision trace (JSON)", Run: a.exportCmd},
		{Name: "replay-decisions", Usage: "replay-decisions --input <file>  re-run exported decisions and compare", Run: a.replayCmd},
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (a *autonomy) status(w io.Writer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintln(w, "Autonomy Status:")
	fmt.Fprintf(w, "  Mode: %s\n", onOff(a.on))
	if a.safe {
		fmt.Fprintf(w, "  Safe mode: on (%s)\n", a.safeWhy)
	} else {
		fmt.Fprintln(w, "  Safe mode: off")
	}
	if l := a.active(); l != nil {
		fmt.Fprintf(w, "  Active model: %s\n", l.Version)
	} else {
		fmt.Fprintln(w, "  Active model: none (no decisions)")
	}
	if a.on {
		fmt.Fprintf(w, "  Next tick: in %d ms\n", (a.next-min(a.next, uint64(a.m.Now())))/uint64(time.Millisecond))
	}
	fmt.Fprintf(w, "  Ticks: %d  Decisions: %d  Executed: %d  Overridden: %d  Without model: %d\n",
		a.ticks, a.decisions, a.nExecuted, a.nOverridden, a.noModel)
	d := a.drift.State()
	fmt.Fprintf(w, "  Drift: %s (confidence avg %.2f over %d samples, baseline %.0f)\n", d.Level, d.Current, d.Samples, d.Baseline)
	if a.shadow != nil {
		st := a.shadow.Stats()
		fmt.Fprintf(w, "  Shadow: %s\n", strings.TrimSpace(st.Mode.String()+" "+st.Version))
	}
	for _, adj := range a.act.adjusted() {
		fmt.Fprintf(w, "  Adjusted: pid %d (%s) %s budget %d ns (was %d)\n", adj.pid, adj.name, adj.kind, adj.srv.BudgetNs, adj.orig)
	}
	mem := a.m.MemStats().Used
	fmt.Fprintf(w, "  Memory: %d of %d KiB (pressure %.3f)\n", mem/1024, a.m.MemSize()/1024, ratio(mem, a.m.MemSize()))
}

// auditCmd implements `autoctl audit last N|stats`.
func (a *autonomy) auditCmd(w io.Writer, args []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case len(args) == 2 && args[0] == "last":
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > auditLen {
			return shellcmd.BadArgs("autoctl audit last: N must be 1..%d, got %q", auditLen, args[1])
		}
		entries := a.audit.Last(n)
		fmt.Fprintf(w, "Autonomy Audit (last %d of %d):\n", len(entries), a.audit.Len())
		if len(entries) == 0 {
			fmt.Fprintln(w, "  (no decisions yet)")
		}
		for _, e := range entries {
			fmt.Fprintf(w, "[%d] t=%dms action=%s conf=%d\n", e.id, e.at.Milliseconds(), model.ActionName(e.action), e.conf)
			fmt.Fprintf(w, "  Input:   %s\n", featureLine(e.features))
			fmt.Fprintf(w, "  Output:  %s conf=%d\n", model.ActionName(e.action), e.conf)
			fmt.Fprintf(w, "  Outcome: %s\n", e.outcome)
			if e.rewarded {
				fmt.Fprintf(w, "  Reward:  %+.3f\n", e.reward)
			} else {
				fmt.Fprintln(w, "  Reward:  pending (next window)")
			}
		}
		return nil
	case len(args) == 1 && args[0] == "stats":
		var byAction [model.NumActions]int
		var sum float64
		rewarded := 0
		for _, e := range a.audit.All() {
			if e.action >= 0 && e.action < model.NumActions {
				byAction[e.action]++
			}
			if e.rewarded {
				sum += e.reward
				rewarded++
			}
		}
		fmt.Fprintln(w, "Autonomy Audit Statistics:")
		fmt.Fprintf(w, "  Decisions: %d (executed %d, overridden %d)\n", a.decisions, a.nExecuted, a.nOverridden)
		for i, n := range byAction {
			fmt.Fprintf(w, "  %s: %d\n", model.ActionName(i), n)
		}
		if rewarded > 0 {
			fmt.Fprintf(w, "  Average reward: %+.3f over %d decisions\n", sum/float64(rewarded), rewarded)
		} else {
			fmt.Fprintln(w, "  Average reward: n/a")
		}
		fmt.Fprintf(w, "  Safe mode: %s\n", onOff(a.safe))
		return nil
	}
	return shellcmd.BadArgs("autoctl audit: want 'last N' or 'stats'")
}

func featureLine(f []float32) string {
	var b strings.Builder
	for i, v := range f {
		if i > 0 {
			b.WriteByte(' ')
		}
		name := strconv.Itoa(i)
		if i < model.NumFeatures {
			name = model.FeatureNames[i]
		}
		fmt.Fprintf(&b, "%s=%.3f", name, v)
	}
	return b.String()
}

// longFlags parses --name value pairs: each name at most once, from
// names, with a value; required ones must be there.
func longFlags(args []string, names, required []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(args); i += 2 {
		name, ok := strings.CutPrefix(args[i], "--")
		switch {
		case !ok:
			return nil, shellcmd.BadArgs("unexpected argument %q", args[i])
		case !slices.Contains(names, name):
			return nil, shellcmd.BadArgs("unknown option --%s", name)
		case out[name] != "":
			return nil, shellcmd.BadArgs("--%s given twice", name)
		case i+1 >= len(args) || args[i+1] == "":
			return nil, shellcmd.BadArgs("--%s needs a value", name)
		}
		out[name] = args[i+1]
	}
	for _, n := range required {
		if out[n] == "" {
			return nil, shellcmd.BadArgs("missing --%s", n)
		}
	}
	return out, nil
}

// exportCmd implements `autoctl export-decisions [--format json] --output
// F`; JSON is the only format.
func (a *autonomy) exportCmd(w io.Writer, args []string) error {
	f, err := longFlags(args, []string{"format", "output"}, []string{"output"})
	if err != nil {
		return err
	}
	if format := f["format"]; format != "" && format != "json" {
		return shellcmd.BadArgs("autoctl export-decisions: format %q is not supported (json is)", format)
	}
	_ = a.rec.Flush()
	traces := a.rec.All()
	var buf bytes.Buffer
	if err := decision.WriteExport(&buf, traces); err != nil {
		return err
	}
	name := cleanPath(f["output"])
	if err := a.m.FS().WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("autoctl: export-decisions: %w", err)
	}
	fmt.Fprintf(w, "Exported %d decision(s) to %s\n", len(traces), name)
	return nil
}

// replayCmd implements `autoctl replay-decisions --input F`.
func (a *autonomy) replayCmd(w io.Writer, args []string) error {
	f, err := longFlags(args, []string{"input"}, []string{"input"})
	if err != nil {
		return err
	}
	lookup := a.builtinLookup
	if a.models != nil {
		lookup = decision.RegistryLookup(a.models)
	}
	name := cleanPath(f["input"])
	rep, err := decision.ReplayFile(a.m.FS().Afero(), name, lookup)
	if err != nil {
		return fmt.Errorf("autoctl: replay-decisions: %w", err)
	}
	fmt.Fprintf(w, "Replay: %d/%d decisions reproduced\n", rep.Reproduced, rep.Total)
	for _, mm := range rep.Mismatches {
		fmt.Fprintf(w, "  trace %d: %s\n", mm.TraceID, mm.Reason)
	}
	if !rep.OK() {
		return fmt.Errorf("autoctl: replay-decisions: %d of %d decisions not reproduced", rep.Total-rep.Reproduced, rep.Total)
	}
	return nil
}

// builtinLookup finds the model of a recorded version on a machine
// without the model registry: only its built-in model is known.
func (a *autonomy) builtinLookup(version string) (decision.Predictor, string, error) {
	l := a.active()
	if l == nil || l.Version != version {
		return nil, "", fmt.Errorf("model %s is unknown (no model registry; the built-in model is %s)", version, BuiltinModel)
	}
	return decision.ModelPredictor(l.Model), l.Hash, nil
}

// cleanPath makes p absolute (relative to /).
func cleanPath(p string) string { return path.Clean("/" + p) }
