package model

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrUsage is returned by the shell commands for bad arguments (the
// kernel prints the command's usage line).
var ErrUsage = errors.New("usage")

// ModelctlUsage is the usage line of modelctl.
const ModelctlUsage = "modelctl list|load <v>|swap <v>|rollback|health [v]|status|remove <v>|dry-swap <v>|history [N]  model registry"

// Modelctl runs `modelctl args...`, writing its lines to w.
func (r *Registry) Modelctl(w io.Writer, args []string) error {
	if len(args) == 0 {
		return ErrUsage
	}
	one := func() (string, error) {
		if len(args) != 2 {
			return "", ErrUsage
		}
		return args[1], nil
	}
	switch args[0] {
	case "list":
		if len(args) != 1 {
			return ErrUsage
		}
		return r.shList(w)
	case "load":
		v, err := one()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Loading model: %s\n", v)
		l, err := r.Load(v)
		if err != nil && !errors.Is(err, ErrCommitted) {
			return err
		}
		fmt.Fprintf(w, "  sha256: %s (signature verified)\n", l.Hash)
		fmt.Fprintln(w, "Model loaded (not activated)")
		return warn(w, err)
	case "swap":
		v, err := one()
		if err != nil {
			return err
		}
		return r.shSwap(w, v, "")
	case "rollback":
		if len(args) != 1 {
			return ErrUsage
		}
		fmt.Fprintln(w, "Rolling back to last known good model...")
		from, to, err := r.Rollback()
		if err != nil && !errors.Is(err, ErrCommitted) {
			return err
		}
		fmt.Fprintf(w, "  %s -> %s\n", orNone(from), to)
		fmt.Fprintln(w, "Rollback complete")
		return warn(w, err)
	case "health":
		var v string
		switch len(args) {
		case 1:
			a, _, _ := r.Status()
			if a == "" {
				return errors.New("no active model (modelctl health <v> checks a package)")
			}
			v = a
		case 2:
			v = args[1]
		default:
			return ErrUsage
		}
		fmt.Fprintf(w, "Running health checks on: %s\n", v)
		rep, err := r.Health(v)
		if err != nil {
			fmt.Fprintf(w, "[FAIL] signature: %v\n", err)
			return err
		}
		fmt.Fprintf(w, "[PASS] signature: ed25519 verified, sha256 %s\n", rep.Hash)
		WriteChecks(w, rep)
		printFailures(w, rep)
		if !rep.Passed() {
			return &HealthError{Report: rep}
		}
		fmt.Fprintln(w, "All health checks passed")
		return nil
	case "status":
		if len(args) != 1 {
			return ErrUsage
		}
		a, s, rb := r.Status()
		fmt.Fprintln(w, "Model Status:")
		fmt.Fprintf(w, "  Active:   %s\n", orNone(a))
		fmt.Fprintf(w, "  Shadow:   %s\n", orNone(s))
		fmt.Fprintf(w, "  Rollback: %s\n", orNone(rb))
		return nil
	case "remove":
		v, err := one()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Removing model: %s\n", v)
		err = r.Remove(v)
		if err != nil && !errors.Is(err, ErrCommitted) {
			return err
		}
		fmt.Fprintf(w, "Model removed: %s\n", v)
		return warn(w, err)
	case "dry-swap":
		v, err := one()
		if err != nil {
			return err
		}
		rep, err := r.DrySwap(v)
		if err != nil {
			if rep != nil {
				printFailures(w, rep)
			}
			return fmt.Errorf("dry-swap %s: %w", v, err)
		}
		fmt.Fprintf(w, "Dry-swap OK: version=%s p99=%dus mem=%dB acc=%d%%\n", v, rep.LatencyP99US, rep.MemoryBytes, int(rep.Accuracy*100))
		return nil
	case "history":
		n := 10
		switch len(args) {
		case 1:
		case 2:
			var err error
			if n, err = strconv.Atoi(args[1]); err != nil || n < 1 {
				return ErrUsage
			}
		default:
			return ErrUsage
		}
		evs, err := r.History(n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Model History (last %d):\n", n)
		if len(evs) == 0 {
			fmt.Fprintln(w, "  (no history)")
		}
		for _, ev := range evs {
			fmt.Fprintf(w, "  #%d t=%s %s\n", ev.Seq, fmtTime(ev.TimeNS), describe(ev))
		}
		return nil
	}
	return ErrUsage
}

// shSwap swaps to v, printing the spec's lines; from, when not "", must
// be the active model.
func (r *Registry) shSwap(w io.Writer, v, from string) error {
	fmt.Fprintf(w, "Swapping to model version: %s\n", v)
	prev, _, _ := r.Status()
	if from != "" && prev != from {
		return fmt.Errorf("the active model is %s, not %s", orNone(prev), from)
	}
	rep, err := r.Swap(v)
	if err != nil && !errors.Is(err, ErrCommitted) {
		if rep != nil {
			printFailures(w, rep)
		}
		return err
	}
	fmt.Fprintf(w, "Model swap complete: %s\n", v)
	if prev != "" {
		fmt.Fprintln(w, "Previous model saved to rollback")
	}
	return warn(w, err)
}

func (r *Registry) shList(w io.Writer) error {
	entries := r.List()
	fmt.Fprintln(w, "Model Registry:")
	if len(entries) == 0 {
		fmt.Fprintln(w, "  (no models registered)")
	}
	known := map[string]bool{}
	width := 16
	for _, e := range entries {
		width = max(width, len(e.Version))
	}
	for _, e := range entries {
		known[e.Version] = true
		line := fmt.Sprintf("  %-*s %-8s sha256=%.12s", width, e.Version, e.Status, e.Hash)
		if h := e.Health; h != nil {
			line += fmt.Sprintf(" p99=%dus mem=%dB acc=%.2f%%", h.LatencyP99US, h.MemoryBytes, h.Accuracy*100)
		}
		if e.Reason != "" {
			line += " (" + e.Reason + ")"
		}
		fmt.Fprintln(w, line)
	}
	pkgs, err := r.Packages()
	if err != nil {
		return err
	}
	var avail []string
	for _, p := range pkgs {
		if !known[p] {
			avail = append(avail, p)
		}
	}
	if len(avail) > 0 {
		fmt.Fprintf(w, "Available packages: %s\n", strings.Join(avail, " "))
	}
	return nil
}

// WriteChecks writes a `[PASS] <check>: <text>` or `[FAIL] ...` line per
// check of rep.
func WriteChecks(w io.Writer, rep *HealthReport) {
	for _, c := range rep.Checks {
		mark := "PASS"
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "[%s] %s: %s\n", mark, c.Name, c.Text)
	}
}

// printFailures prints `[HEALTH] <what> check failed` per failed check.
func printFailures(w io.Writer, rep *HealthReport) {
	for _, c := range rep.Checks {
		if !c.Passed {
			fmt.Fprintf(w, "[HEALTH] %s check failed\n", c.Name)
		}
	}
}

// warn prints an after-commit failure as a warning (the command
// succeeded).
func warn(w io.Writer, err error) error {
	if err != nil {
		fmt.Fprintf(w, "warning: %v\n", err)
	}
	return nil
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

func fmtTime(ns int64) string {
	return fmt.Sprintf("%.3fms", float64(ns)/float64(time.Millisecond))
}

func describe(ev Event) string {
	s := ev.Event
	if ev.Version != "" {
		s += " " + ev.Version
	}
	if ev.From != "" || ev.To != "" {
		s += fmt.Sprintf(" (%s -> %s)", orNone(ev.From), orNone(ev.To))
	}
	if ev.Detail != "" {
		s += ": " + ev.Detail
	}
	return s
}

// Subcommand is one llmctl subcommand the registry provides.
type Subcommand struct {
	Name  string
	Usage string
	Run   func(w io.Writer, args []string) error
}

// LLMSubcommands returns the llmctl subcommands backed by the registry:
// register, list, query, swap, rollback.
// A usage error prints the subcommand's syntax and what was wrong.
func (r *Registry) LLMSubcommands() []Subcommand {
	subs := []Subcommand{
		{"register", "register --id X --size KB --ctx N  load and register model package X", r.llmRegister},
		{"list", "list  list the registered models", func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return ErrUsage
			}
			return r.shList(w)
		}},
		{"query", "query --id X  show a registered model", r.llmQuery},
		{"swap", "swap --from A --to B  hot-swap the active model A for B", func(w io.Writer, args []string) error {
			f, err := flags(args, "from", "to")
			if err != nil {
				return err
			}
			if err := r.shSwap(w, f["to"], f["from"]); err != nil {
				return err
			}
			// Readers switch with one atomic pointer store: none waits.
			fmt.Fprintln(w, "Swap complete. Downtime: 0ms")
			return nil
		}},
		{"rollback", "rollback --to X  return to the rollback model X", func(w io.Writer, args []string) error {
			f, err := flags(args, "to")
			if err != nil {
				return err
			}
			from, to, err := r.RollbackTo(f["to"])
			if err != nil && !errors.Is(err, ErrCommitted) {
				return err
			}
			fmt.Fprintf(w, "Rollback complete: %s -> %s\n", orNone(from), to)
			return warn(w, err)
		}},
	}
	for i := range subs {
		run := subs[i].Run
		syntax, _, _ := strings.Cut(subs[i].Usage, "  ")
		subs[i].Run = func(w io.Writer, args []string) error {
			err := run(w, args)
			if !errors.Is(err, ErrUsage) {
				return err
			}
			if detail, ok := strings.CutPrefix(err.Error(), ErrUsage.Error()+": "); ok {
				return fmt.Errorf("%s (usage: llmctl %s)", detail, syntax)
			}
			return fmt.Errorf("usage: llmctl %s", syntax)
		}
	}
	return subs
}

func (r *Registry) llmRegister(w io.Writer, args []string) error {
	f, err := flags(args, "id", "size", "ctx")
	if err != nil {
		return err
	}
	size, err1 := strconv.Atoi(f["size"])
	ctx, err2 := strconv.Atoi(f["ctx"])
	if err1 != nil || err2 != nil || size < 1 || ctx < 1 || ctx > 1<<20 {
		return fmt.Errorf("--size and --ctx take positive numbers (ctx at most %d)", 1<<20)
	}
	v := f["id"]
	l, err := r.Load(v)
	if err != nil && !errors.Is(err, ErrCommitted) {
		return err
	}
	if kb := (l.Model.binarySize() + 1023) / 1024; kb > size {
		return fmt.Errorf("model %s is %d KB, over --size %d", v, kb, size)
	}
	if err := r.SetLLM(v, LLM{SizeKB: size, Ctx: ctx}); err != nil && !errors.Is(err, ErrCommitted) {
		return err
	}
	fmt.Fprintf(w, "[LLM] registered id=%s size_kb=%d ctx=%d sha256=%.12s\n", v, size, ctx, l.Hash)
	return nil
}

func (r *Registry) llmQuery(w io.Writer, args []string) error {
	f, err := flags(args, "id")
	if err != nil {
		return err
	}
	e, ok := r.Entry(f["id"])
	if !ok {
		return fmt.Errorf("model %s is not registered", f["id"])
	}
	fmt.Fprintf(w, "Model: %s\n", e.Version)
	fmt.Fprintf(w, "  Status:    %s\n", e.Status)
	fmt.Fprintf(w, "  SHA-256:   %s\n", e.Hash)
	fmt.Fprintf(w, "  Signature: %s\n", e.Signature)
	fmt.Fprintf(w, "  Loaded at: %s\n", e.LoadedAt)
	if e.LLM != nil {
		fmt.Fprintf(w, "  Size:      %d KB\n  Context:   %d\n", e.LLM.SizeKB, e.LLM.Ctx)
	}
	if h := e.Health; h != nil {
		fmt.Fprintf(w, "  Health:    p99=%dus mem=%dB acc=%.2f%%\n", h.LatencyP99US, h.MemoryBytes, h.Accuracy*100)
	}
	if e.Reason != "" {
		fmt.Fprintf(w, "  Reason:    %s\n", e.Reason)
	}
	return nil
}

// flags parses --name value and --name=value arguments: each of names
// exactly once, with a value, and nothing else. Errors wrap ErrUsage.
func flags(args []string, names ...string) (map[string]string, error) {
	ok := map[string]bool{}
	for _, n := range names {
		ok[n] = true
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
	}
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a, found := strings.CutPrefix(args[i], "--")
		if !found {
			return nil, bad("unexpected argument %q", args[i])
		}
		name, val, hasVal := strings.Cut(a, "=")
		if !ok[name] {
			return nil, bad("unknown flag --%s", name)
		}
		if _, dup := out[name]; dup {
			return nil, bad("--%s given twice", name)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, bad("--%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if val == "" {
			return nil, bad("--%s needs a value", name)
		}
		out[name] = val
	}
	for _, n := range names {
		if _, set := out[n]; !set {
			return nil, bad("missing --%s", n)
		}
	}
	return out, nil
}
