package model

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// ModelctlUsage is the usage line of modelctl.
const ModelctlUsage = "modelctl  model registry: load, verify, swap and roll back signed model packages"

// ShellCommand returns the modelctl shell command over the registry.
func (r *Registry) ShellCommand() shellcmd.Command {
	return shellcmd.Command{Name: "modelctl", Usage: ModelctlUsage, Subs: r.modelctlSubs(), Run: r.Modelctl, Values: r.completionValues}
}

// completionValues returns the model versions (kind "version"): the
// registered ones and the packages in the registry directory.
func (r *Registry) completionValues(kind string) []string {
	if kind != "version" {
		return nil
	}
	var out []string
	for _, e := range r.List() {
		out = append(out, e.Version)
	}
	pkgs, _ := r.Packages()
	return append(out, pkgs...)
}

// Modelctl runs `modelctl args...`, writing its lines to w.
func (r *Registry) Modelctl(w io.Writer, args []string) error {
	return shellcmd.Dispatch("modelctl", r.modelctlSubs(), w, args)
}

// one returns the single argument of a subcommand.
func one(args []string) (string, error) {
	if len(args) != 1 {
		return "", shellcmd.BadArgs("want one version, got %d argument(s)", len(args))
	}
	return args[0], nil
}

// none checks that a subcommand got no arguments.
func none(args []string) error {
	if len(args) != 0 {
		return shellcmd.BadArgs("unexpected argument %q", args[0])
	}
	return nil
}

func (r *Registry) modelctlSubs() []shellcmd.Sub {
	return []shellcmd.Sub{
		{Name: "list", Usage: "list  the registered models and the packages not registered", Run: func(w io.Writer, args []string) error {
			if err := none(args); err != nil {
				return err
			}
			return r.shList(w)
		}},
		{Name: "load", Usage: "load <version>  verify and register a package (not activated)", Run: func(w io.Writer, args []string) error {
			v, err := one(args)
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
		}},
		{Name: "swap", Usage: "swap <version>  health-check a package and make it the active model", Run: func(w io.Writer, args []string) error {
			v, err := one(args)
			if err != nil {
				return err
			}
			return r.shSwap(w, v, "")
		}},
		{Name: "rollback", Usage: "rollback  return to the last known good model", Run: func(w io.Writer, args []string) error {
			if err := none(args); err != nil {
				return err
			}
			fmt.Fprintln(w, "Rolling back to last known good model...")
			from, to, err := r.Rollback()
			if err != nil && !errors.Is(err, ErrCommitted) {
				return err
			}
			fmt.Fprintf(w, "  %s -> %s\n", orNone(from), to)
			fmt.Fprintln(w, "Rollback complete")
			return warn(w, err)
		}},
		{Name: "health", Usage: "health [<version>]  run the health checks (the active model by default)", Run: r.shHealth},
		{Name: "status", Usage: "status  the active, shadow and rollback models", Run: func(w io.Writer, args []string) error {
			if err := none(args); err != nil {
				return err
			}
			a, s, rb := r.Status()
			fmt.Fprintln(w, "Model Status:")
			fmt.Fprintf(w, "  Active:   %s\n", orNone(a))
			fmt.Fprintf(w, "  Shadow:   %s\n", orNone(s))
			fmt.Fprintf(w, "  Rollback: %s\n", orNone(rb))
			return nil
		}},
		{Name: "remove", Usage: "remove <version>  unregister a model that is not in use", Run: func(w io.Writer, args []string) error {
			v, err := one(args)
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
		}},
		{Name: "dry-swap", Usage: "dry-swap <version>  every check of a swap, without swapping", Run: func(w io.Writer, args []string) error {
			v, err := one(args)
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
		}},
		{Name: "history", Usage: "history [N]  the last N registry events (default 10)", Run: r.shHistory},
	}
}

// shHealth implements `modelctl health [<version>]`.
func (r *Registry) shHealth(w io.Writer, args []string) error {
	var v string
	switch len(args) {
	case 0:
		a, _, _ := r.Status()
		if a == "" {
			return errors.New("no active model (modelctl health <version> checks a package)")
		}
		v = a
	case 1:
		v = args[0]
	default:
		return shellcmd.BadArgs("want at most one version")
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
}

// shHistory implements `modelctl history [N]`.
func (r *Registry) shHistory(w io.Writer, args []string) error {
	n := 10
	switch len(args) {
	case 0:
	case 1:
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
			return shellcmd.BadArgs("history: N %q is not a positive number", args[0])
		}
	default:
		return shellcmd.BadArgs("want at most one count")
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

// LLMSubcommands returns the llmctl subcommands backed by the registry:
// register, list, query, swap, rollback.
func (r *Registry) LLMSubcommands() []shellcmd.Sub {
	return []shellcmd.Sub{
		{Name: "register", Usage: "register --id <version> --size KB --ctx N  verify a model package and register it as a language model of that size and context", Run: r.llmRegister},
		{Name: "list", Usage: "list  list the registered models", Run: func(w io.Writer, args []string) error {
			if err := none(args); err != nil {
				return err
			}
			return r.shList(w)
		}},
		{Name: "query", Usage: "query --id <version>  show a registered model", Run: r.llmQuery},
		{Name: "swap", Usage: "swap --from <version> --to <version>  hot-swap the active model for another", Run: func(w io.Writer, args []string) error {
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
		{Name: "rollback", Usage: "rollback --to <version>  return to the rollback model", Run: func(w io.Writer, args []string) error {
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
// exactly once, with a value, and nothing else. Errors are usage errors.
func flags(args []string, names ...string) (map[string]string, error) {
	ok := map[string]bool{}
	for _, n := range names {
		ok[n] = true
	}
	bad := shellcmd.BadArgs
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
