package shadow

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Usage is the usage line of shadowctl.
const Usage = "shadowctl  shadow model: compare a candidate with the active model, canary it, promote it"

func usage(line string) error { return shellcmd.Usage(line) }

// modeArgs maps shadowctl mode arguments to modes.
var modeArgs = map[string]Mode{
	"log":       LogOnly,
	"compare":   Compare,
	"canary10":  CanaryPartial,
	"canary100": CanaryFull,
}

// ShellCommand returns the shadowctl shell command over the agent.
func (a *Agent) ShellCommand() shellcmd.Command {
	return shellcmd.Command{Name: "shadowctl", Usage: Usage, Subs: a.subs(), Run: a.Command}
}

// Command runs `shadowctl args...`, printing to w.
func (a *Agent) Command(w io.Writer, args []string) error {
	return shellcmd.Dispatch("shadowctl", a.subs(), w, args)
}

func (a *Agent) subs() []shellcmd.Sub {
	return []shellcmd.Sub{
		{Name: "enable", Usage: "enable <version>  run the model as the shadow (log-only mode)", Run: func(w io.Writer, args []string) error {
			if len(args) != 1 {
				return usage("shadowctl enable <version>")
			}
			if err := a.Enable(args[0]); err != nil {
				return err
			}
			fmt.Fprintln(w, "Shadow agent enabled (LogOnly mode)")
			return nil
		}},
		{Name: "disable", Usage: "disable  stop the shadow", Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usage("shadowctl disable")
			}
			if !a.Disable() {
				fmt.Fprintln(w, "Shadow agent disabled (it was not enabled)")
				return nil
			}
			fmt.Fprintln(w, "Shadow agent disabled")
			return nil
		}},
		{Name: "promote", Usage: "promote  make the shadow the active model (divergence rate <= 10%)", Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usage("shadowctl promote")
			}
			return a.promote(w)
		}},
		{Name: "status", Usage: "status  mode, decisions, divergences, canary traffic", Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return usage("shadowctl status")
			}
			a.status(w)
			return nil
		}},
		{Name: "compare", Usage: "compare  recent production/shadow comparisons", Run: a.compare},
		{Name: "threshold", Usage: "threshold N  divergences that roll a canary back", Run: func(w io.Writer, args []string) error {
			if len(args) != 1 {
				return usage("shadowctl threshold N")
			}
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return shellcmd.BadArgs("shadowctl: threshold: %q is not a number", args[0])
			}
			if err := a.SetThreshold(n); err != nil {
				return err
			}
			fmt.Fprintf(w, "Divergence threshold set to: %d\n", n)
			return nil
		}},
		{Name: "mode", Usage: "mode log|compare|canary10|canary100  what the shadow does with its decisions", Run: func(w io.Writer, args []string) error {
			if len(args) != 1 {
				return usage("shadowctl mode log|compare|canary10|canary100")
			}
			m, ok := modeArgs[args[0]]
			if !ok {
				return shellcmd.BadArgs("shadowctl: mode: unknown mode %q (log, compare, canary10, canary100)", args[0])
			}
			if err := a.setModeArg(m); err != nil {
				return err
			}
			fmt.Fprintf(w, "Shadow mode set to: %s\n", m)
			return nil
		}},
	}
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
	fmt.Fprintf(w, "  Compared: %d (promotion needs %d)\n", s.Compared, a.cfg.MinPromote)
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

// compare prints the recent production/shadow comparisons.
func (a *Agent) compare(w io.Writer, args []string) error {
	if len(args) != 0 {
		return usage("shadowctl compare")
	}
	s := a.Stats()
	if s.Mode == Disabled {
		return fmt.Errorf("shadowctl: compare: %w", ErrNoShadow)
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
