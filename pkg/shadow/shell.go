package shadow

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Usage is the usage line of shadowctl.
const Usage = "shadowctl enable <v>|disable|promote|status|threshold N|mode log|compare|canary10|canary100  shadow model"

// ErrUsage matches (errors.Is) the usage errors of the commands.
var ErrUsage = errors.New("usage")

type usageError struct{ line string }

func (e *usageError) Error() string   { return "usage: " + e.line }
func (e *usageError) Is(t error) bool { return t == ErrUsage }

func usage(line string) error { return &usageError{line} }

// modeArgs maps shadowctl mode arguments to modes.
var modeArgs = map[string]Mode{
	"log":       LogOnly,
	"compare":   Compare,
	"canary10":  CanaryPartial,
	"canary100": CanaryFull,
}

// Command runs `shadowctl args...`, printing to w.
func (a *Agent) Command(w io.Writer, args []string) error {
	if len(args) == 0 {
		return usage(Usage)
	}
	switch args[0] {
	case "enable":
		if len(args) != 2 {
			return usage("shadowctl enable <version>")
		}
		if err := a.Enable(args[1]); err != nil {
			return err
		}
		fmt.Fprintln(w, "Shadow agent enabled (LogOnly mode)")
		return nil
	case "disable":
		if len(args) != 1 {
			return usage("shadowctl disable")
		}
		if !a.Disable() {
			fmt.Fprintln(w, "Shadow agent disabled (it was not enabled)")
			return nil
		}
		fmt.Fprintln(w, "Shadow agent disabled")
		return nil
	case "promote":
		if len(args) != 1 {
			return usage("shadowctl promote")
		}
		return a.promote(w)
	case "status":
		if len(args) != 1 {
			return usage("shadowctl status")
		}
		a.status(w)
		return nil
	case "threshold":
		if len(args) != 2 {
			return usage("shadowctl threshold N")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return fmt.Errorf("shadowctl: threshold: %q is not a number", args[1])
		}
		if err := a.SetThreshold(n); err != nil {
			return err
		}
		fmt.Fprintf(w, "Divergence threshold set to: %d\n", n)
		return nil
	case "mode":
		if len(args) != 2 {
			return usage("shadowctl mode log|compare|canary10|canary100")
		}
		m, ok := modeArgs[args[1]]
		if !ok {
			return fmt.Errorf("shadowctl: mode: unknown mode %q (log, compare, canary10, canary100)", args[1])
		}
		if err := a.setModeArg(m); err != nil {
			return err
		}
		fmt.Fprintf(w, "Shadow mode set to: %s\n", m)
		return nil
	}
	return fmt.Errorf("shadowctl: unknown subcommand %q (%s)", args[0], Usage)
}

// setModeArg sets a mode of shadowctl mode: the canary modes through
// their traffic share (canary10 executes DefaultCanaryPercent), the others
// keeping the share.
func (a *Agent) setModeArg(m Mode) error {
	switch m {
	case CanaryPartial:
		return a.SetTraffic(DefaultCanaryPercent)
	case CanaryFull:
		return a.SetTraffic(100)
	}
	return a.SetMode(m)
}

func (a *Agent) promote(w io.Writer) error {
	v, err := a.Promote()
	if errors.Is(err, ErrRateTooHigh) {
		fmt.Fprintln(w, "WARNING: Divergence rate > 10%")
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Promotion complete: %s is now active\n", v)
	return nil
}

func (a *Agent) status(w io.Writer) {
	s := a.Stats()
	fmt.Fprintln(w, "Shadow Agent Status:")
	fmt.Fprintf(w, "  Mode: %s\n", s.Mode)
	fmt.Fprintf(w, "  Decisions: %d\n", s.Decisions)
	fmt.Fprintf(w, "  Divergences: %d (%.2f%%)\n", s.Divergences, s.Rate())
	fmt.Fprintf(w, "  Shadow Model: %s\n", orNone(s.Version))
	fmt.Fprintf(w, "  Compared: %d\n", s.Compared)
	fmt.Fprintf(w, "  Canary Traffic: %d%% (%d decisions executed by the shadow)\n", trafficOf(s), s.Routed)
	fmt.Fprintf(w, "  Threshold: %d\n", s.Threshold)
	fmt.Fprintf(w, "  Rollbacks: %d\n", s.Rollbacks)
}

// trafficOf is the share of decisions the shadow executes in s's mode.
func trafficOf(s Stats) int {
	switch s.Mode {
	case CanaryPartial:
		return s.CanaryPercent
	case CanaryFull:
		return 100
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Subcommand is one llmctl subcommand the agent provides (the kernel
// registers it with Shell.RegisterSub("llmctl", ...)).
type Subcommand struct {
	Name  string
	Usage string
	Run   func(w io.Writer, args []string) error
}

// LLMSubcommands returns the llmctl shadow subcommands over the agent.
func (a *Agent) LLMSubcommands() []Subcommand {
	return []Subcommand{
		{"shadow-deploy", "shadow-deploy --id X --traffic P  run model X as the shadow, executing P% of decisions (0: compare only)", a.llmDeploy},
		{"shadow-status", "shadow-status  shadow agent status", func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usage("llmctl shadow-status")
			}
			a.status(w)
			return nil
		}},
		{"shadow-traffic", "shadow-traffic --percent P  share of decisions the shadow executes (0-100)", a.llmTraffic},
		{"shadow-compare", "shadow-compare  recent production/shadow comparisons", a.llmCompare},
		{"shadow-promote", "shadow-promote  make the shadow the active model (divergence rate <= 10%)", func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usage("llmctl shadow-promote")
			}
			return a.promote(w)
		}},
		{"shadow-retire", "shadow-retire  stop and clear the shadow model", func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usage("llmctl shadow-retire")
			}
			v := a.Stats().Version
			if !a.Disable() {
				return fmt.Errorf("llmctl: shadow-retire: %w", ErrNoShadow)
			}
			fmt.Fprintf(w, "Shadow retired: %s\n", v)
			return nil
		}},
	}
}

// flags parses --name value pairs; every name must be in names.
func flags(args []string, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(args); i += 2 {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok || i+1 >= len(args) {
			return nil, ErrUsage
		}
		known := false
		for _, n := range names {
			known = known || n == name
		}
		if !known {
			return nil, fmt.Errorf("unknown option --%s", name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("option --%s given twice", name)
		}
		out[name] = args[i+1]
	}
	return out, nil
}

// percentArg parses a traffic percentage 0..100.
func percentArg(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	if n < 0 || n > 100 {
		return 0, fmt.Errorf("traffic %d%% out of range 0..100", n)
	}
	return n, nil
}

func (a *Agent) llmDeploy(w io.Writer, args []string) error {
	const use = "llmctl shadow-deploy --id X --traffic P"
	f, err := flags(args, "id", "traffic")
	if errors.Is(err, ErrUsage) || (err == nil && f["id"] == "") {
		return usage(use)
	}
	if err != nil {
		return fmt.Errorf("llmctl: shadow-deploy: %w", err)
	}
	p := 0
	if t, ok := f["traffic"]; ok {
		if p, err = percentArg(t); err != nil {
			return fmt.Errorf("llmctl: shadow-deploy: %w", err)
		}
	}
	if err := a.Enable(f["id"]); err != nil {
		return err
	}
	if err := a.SetTraffic(p); err != nil {
		return err
	}
	fmt.Fprintf(w, "Shadow deployed: %s (traffic %d%%, mode %s)\n", f["id"], p, a.Stats().Mode)
	return nil
}

func (a *Agent) llmTraffic(w io.Writer, args []string) error {
	f, err := flags(args, "percent")
	if errors.Is(err, ErrUsage) || (err == nil && f["percent"] == "") {
		return usage("llmctl shadow-traffic --percent P")
	}
	if err != nil {
		return fmt.Errorf("llmctl: shadow-traffic: %w", err)
	}
	p, err := percentArg(f["percent"])
	if err != nil {
		return fmt.Errorf("llmctl: shadow-traffic: %w", err)
	}
	if err := a.SetTraffic(p); err != nil {
		return err
	}
	fmt.Fprintf(w, "Shadow traffic set to: %d%% (mode %s)\n", p, a.Stats().Mode)
	return nil
}

func (a *Agent) llmCompare(w io.Writer, args []string) error {
	if len(args) != 0 {
		return usage("llmctl shadow-compare")
	}
	s := a.Stats()
	if s.Mode == Disabled {
		return fmt.Errorf("llmctl: shadow-compare: %w", ErrNoShadow)
	}
	fmt.Fprintf(w, "Shadow Comparison (%s vs production, mode %s):\n", s.Version, s.Mode)
	fmt.Fprintf(w, "  Decisions: %d  Compared: %d  Divergences: %d (%.2f%%)\n", s.Decisions, s.Compared, s.Divergences, s.Rate())
	h := a.History()
	if len(h) == 0 {
		fmt.Fprintln(w, "  (no decisions yet)")
		return nil
	}
	for _, c := range h {
		verdict := "agree"
		switch {
		case !c.Compared:
			verdict = "logged"
		case c.Diverged:
			verdict = "DIVERGED"
		}
		exec := "production"
		if c.RoutedToShadow {
			exec = "shadow"
		}
		fmt.Fprintf(w, "  [%d] prod=%d/%d shadow=%d/%d %s (executed by %s)\n",
			c.ID, c.ProdAction, c.ProdConfidence, c.ShadowAction, c.ShadowConfidence, verdict, exec)
	}
	return nil
}
