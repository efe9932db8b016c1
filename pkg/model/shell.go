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
