package shadow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/afile"
	"github.com/sis-kernel/sissim/pkg/ring"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/decision"
)

// Mode is the shadow agent's mode.
type Mode int

// Modes (SIS-SPEC.md section 8).
const (
	// Disabled: no shadow model runs.
	Disabled Mode = iota
	// LogOnly: the shadow runs on every decision and its outputs are kept
	// (shadow-compare shows them); nothing is compared or counted as a
	// divergence, nothing rolls back.
	LogOnly
	// Compare: the shadow runs and is compared with production; divergences
	// count and can trigger the automatic rollback. Production decides.
	Compare
	// CanaryPartial: as Compare, and the shadow's action is executed for
	// the canary share of decisions (10% unless set otherwise).
	CanaryPartial
	// CanaryFull: as Compare, and the shadow's action is executed for every
	// decision.
	CanaryFull
)

var modeNames = [...]string{"Disabled", "LogOnly", "Compare", "CanaryPartial", "CanaryFull"}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Parameters (SIS-SPEC.md section 8).
const (
	// DivergenceConfidence: a confidence difference above this diverges.
	DivergenceConfidence = 200
	// DefaultThreshold is the divergence count that triggers rollback.
	DefaultThreshold = 50
	// MaxThreshold bounds shadowctl threshold (1..MaxThreshold).
	MaxThreshold = 1_000_000
	// RollbackRate: a divergence rate above this (in percent) triggers
	// rollback once MinRateSample decisions were compared.
	RollbackRate = 20.0
	// MinRateSample is the number of compared decisions before the rate
	// can trigger a rollback (so that one early divergence cannot).
	MinRateSample = 20
	// PromoteMaxRate: promotion is refused above this divergence rate (%).
	PromoteMaxRate = 10.0
	// DefaultMinPromote is how many compared decisions promotion needs
	// by default (Config.MinPromote): the divergence rate of fewer says
	// too little about the shadow.
	DefaultMinPromote = 20
	// DefaultCanaryPercent is the CanaryPartial share of decisions.
	DefaultCanaryPercent = 10
	// DefaultRollbackLog is the rollback event log.
	DefaultRollbackLog = "/var/log/rollback.json"
	// historyLen is how many comparisons shadow-compare keeps.
	historyLen = 16
)

// Models is the model registry as the agent needs it. pkg/model's
// registry satisfies it through FromRegistry.
type Models interface {
	// ActiveVersion is the production model's version ("" if none).
	ActiveVersion() string
	// Lookup returns a loaded model version's predictor and hash.
	Lookup(version string) (decision.Predictor, string, error)
	// SetShadow marks a loaded version as the shadow; ClearShadow unmarks it.
	SetShadow(version string) error
	ClearShadow()
	// Promote makes the shadow the active model (the old active becomes
	// the rollback model).
	Promote() error
}

// Config configures an Agent.
type Config struct {
	Models Models
	// Fs holds the rollback log; nil keeps none.
	Fs afero.Fs
	// RollbackLog is the log path (DefaultRollbackLog when empty).
	RollbackLog string
	// Console receives the [ROLLBACK] lines; nil prints none.
	Console io.Writer
	// Wall is the machine's wall time (epoch + machine time), for the
	// rollback log; nil writes the zero time.
	Wall func() time.Time
	// Threshold is the divergence count that triggers rollback
	// (DefaultThreshold when 0).
	Threshold int
	// MinPromote is how many decisions the shadow must have been
	// compared on (Compare or canary mode) before it may be promoted
	// (DefaultMinPromote when 0).
	MinPromote int
}

// Comparison is one decision seen by production and shadow.
type Comparison struct {
	ID               uint64
	ProdAction       int
	ProdConfidence   int
	ShadowAction     int
	ShadowConfidence int
	Diverged         bool
	Compared         bool // false in LogOnly mode
	RoutedToShadow   bool
}

// Diverges reports whether shadow diverges from production: the actions
// differ or the confidences differ by more than DivergenceConfidence.
func Diverges(prod, shadow decision.Output) bool {
	d := prod.Confidence - shadow.Confidence
	return prod.Action != shadow.Action || d > DivergenceConfidence || d < -DivergenceConfidence
}

// Result is the agent's part of one decision.
type Result struct {
	Ran        bool            // the shadow model ran
	Shadow     decision.Output // its output when Ran
	Version    string          // the shadow model's version when Ran
	Hash       string          // and its hash (hex sha256 of model.bin)
	Compared   bool            // compared with production (not LogOnly)
	Diverged   bool
	UseShadow  bool // canary: execute Shadow.Action for this decision
	RolledBack bool // this decision triggered the automatic rollback
}

// Stats are the agent's counters since the shadow was enabled.
type Stats struct {
	Mode          Mode
	Version       string // shadow version ("" when disabled)
	Threshold     int
	CanaryPercent int
	Decisions     uint64 // decisions the shadow ran on
	Compared      uint64 // of those, compared with production
	Divergences   uint64
	Routed        uint64 // decisions executed by the shadow (canary)
	Rollbacks     uint64 // automatic rollbacks since start
}

// Rate is the divergence rate in percent of compared decisions.
func (s Stats) Rate() float64 {
	if s.Compared == 0 {
		return 0
	}
	return float64(s.Divergences) * 100 / float64(s.Compared)
}

// Agent is the shadow agent. It is safe for concurrent use.
type Agent struct {
	mu        sync.Mutex
	cfg       Config
	mode      Mode
	version   string
	hash      string
	predict   decision.Predictor
	threshold int
	percent   int
	st        Stats
	history   *ring.Ring[Comparison]
}

// New returns a disabled agent.
func New(cfg Config) *Agent {
	if cfg.RollbackLog == "" {
		cfg.RollbackLog = DefaultRollbackLog
	}
	th := cfg.Threshold
	if th <= 0 {
		th = DefaultThreshold
	}
	if cfg.MinPromote <= 0 {
		cfg.MinPromote = DefaultMinPromote
	}
	return &Agent{cfg: cfg, threshold: th, percent: DefaultCanaryPercent, history: ring.New[Comparison](historyLen)}
}

// ErrNoShadow is returned by operations that need a shadow model.
var ErrNoShadow = errors.New("no shadow model is enabled (shadowctl enable <version>)")

// Enable makes version (a loaded model) the shadow in LogOnly mode and
// resets the counters.
func (a *Agent) Enable(version string) error {
	if version == "" {
		return errors.New("shadow: empty model version")
	}
	if a.cfg.Models == nil {
		return errors.New("shadow: no model registry")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if active := a.cfg.Models.ActiveVersion(); active == version {
		return fmt.Errorf("shadow: %s is the active model", version)
	}
	p, hash, err := a.cfg.Models.Lookup(version)
	if err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	if err := a.cfg.Models.SetShadow(version); err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	a.mode, a.version, a.hash, a.predict = LogOnly, version, hash, p
	a.resetLocked()
	return nil
}

func (a *Agent) resetLocked() {
	rb := a.st.Rollbacks
	a.st = Stats{Rollbacks: rb}
	a.history.Reset()
}

// Disable stops the shadow and clears it in the registry. It reports
// whether a shadow was enabled.
func (a *Agent) Disable() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.disableLocked()
}

func (a *Agent) disableLocked() bool {
	was := a.mode != Disabled
	if was && a.cfg.Models != nil {
		a.cfg.Models.ClearShadow()
	}
	a.mode, a.version, a.hash, a.predict = Disabled, "", "", nil
	return was
}

// SetMode changes the mode of the enabled shadow (Disabled disables it).
func (a *Agent) SetMode(m Mode) error {
	if m < Disabled || m > CanaryFull {
		return fmt.Errorf("shadow: invalid mode %d", int(m))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if m == Disabled {
		a.disableLocked()
		return nil
	}
	if a.mode == Disabled {
		return fmt.Errorf("shadow: %w", ErrNoShadow)
	}
	a.mode = m
	return nil
}

// SetThreshold sets the divergence count that triggers rollback
// (1..MaxThreshold).
func (a *Agent) SetThreshold(n int) error {
	if n < 1 || n > MaxThreshold {
		return fmt.Errorf("shadow: threshold %d out of range 1..%d", n, MaxThreshold)
	}
	a.mu.Lock()
	a.threshold = n
	a.mu.Unlock()
	return nil
}

// SetTraffic sets the share of decisions (0..100 percent) the shadow
// executes and the mode that goes with it: 0 -> Compare, 1..99 ->
// CanaryPartial, 100 -> CanaryFull.
func (a *Agent) SetTraffic(percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("shadow: traffic %d%% out of range 0..100", percent)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mode == Disabled {
		return fmt.Errorf("shadow: %w", ErrNoShadow)
	}
	a.percent = percent
	switch {
	case percent == 0:
		a.mode = Compare
	case percent == 100:
		a.mode = CanaryFull
	default:
		a.mode = CanaryPartial
	}
	return nil
}

// Routed reports whether the canary share routes decision id to the
// shadow: a fixed hash of the id (splitmix64) modulo 100 below percent.
// The same ids always go the same way.
func Routed(id uint64, percent int) bool {
	return int(splitmix64(id)%100) < percent
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Decide runs the shadow (if enabled) on the decision's features,
// compares it with the production output and counts; when the divergence
// count reaches the threshold, or the divergence rate exceeds
// RollbackRate% after MinRateSample comparisons, it rolls back (see
// Rollback) and reports RolledBack. id is the decision's trace id, which
// the canary routing hashes.
func (a *Agent) Decide(id uint64, features []float32, prod decision.Output) Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mode == Disabled || a.predict == nil {
		return Result{}
	}
	out := a.predict(features)
	r := Result{Ran: true, Shadow: out, Version: a.version, Hash: a.hash}
	a.st.Decisions++
	if a.mode != LogOnly {
		r.Compared = true
		r.Diverged = Diverges(prod, out)
		a.st.Compared++
		if r.Diverged {
			a.st.Divergences++
		}
		r.UseShadow = a.mode == CanaryFull || (a.mode == CanaryPartial && Routed(id, a.percent))
		if r.UseShadow {
			a.st.Routed++
		}
	}
	a.history.Add(Comparison{
		ID: id, ProdAction: prod.Action, ProdConfidence: prod.Confidence,
		ShadowAction: out.Action, ShadowConfidence: out.Confidence,
		Diverged: r.Diverged, Compared: r.Compared, RoutedToShadow: r.UseShadow,
	})
	if r.Compared {
		if reason, metric := a.triggerLocked(); reason != "" {
			// The trigger decision itself still goes to production.
			a.st.Routed -= boolToUint(r.UseShadow)
			r.UseShadow = false
			a.rollbackLocked(reason, metric)
			r.RolledBack = true
		}
	}
	return r
}

func boolToUint(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// triggerLocked returns the rollback reason and metric, or "".
func (a *Agent) triggerLocked() (reason, metric string) {
	if a.st.Divergences >= uint64(a.threshold) {
		return "divergence threshold reached", fmt.Sprintf("%d divergences >= %d", a.st.Divergences, a.threshold)
	}
	if a.st.Compared >= MinRateSample && a.st.Rate() > RollbackRate {
		return "divergence rate exceeded", fmt.Sprintf("%.2f%% > %.0f%% of %d decisions", a.st.Rate(), RollbackRate, a.st.Compared)
	}
	return "", ""
}

// Rollback stops the shadow now, as the automatic rollback does: the
// shadow is disabled and cleared in the registry, so every decision goes
// back to the production (active) model; a rollback event is appended to
// the rollback log and the [ROLLBACK] lines are printed. It fails without
// a shadow.
func (a *Agent) Rollback(reason string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mode == Disabled {
		return fmt.Errorf("shadow: %w", ErrNoShadow)
	}
	a.rollbackLocked(reason, fmt.Sprintf("%d divergences in %d decisions", a.st.Divergences, a.st.Compared))
	return nil
}

// rollbackEvent is one line of the rollback log.
type rollbackEvent struct {
	Event  string `json:"event"`
	From   string `json:"from"`
	To     string `json:"to"`
	Time   string `json:"time"`
	Reason string `json:"reason"`
}

func (a *Agent) rollbackLocked(reason, metric string) {
	from := a.version
	a.disableLocked()
	a.st.Rollbacks++
	to := ""
	if a.cfg.Models != nil {
		to = a.cfg.Models.ActiveVersion()
	}
	if a.cfg.Console != nil {
		fmt.Fprintf(a.cfg.Console, "[ROLLBACK] Triggered: %s (%s)\n", reason, metric)
	}
	if a.cfg.Fs != nil {
		var when time.Time
		if a.cfg.Wall != nil {
			when = a.cfg.Wall()
		}
		ev := rollbackEvent{Event: "rollback", From: from, To: to, Time: when.UTC().Format(time.RFC3339Nano), Reason: reason + " (" + metric + ")"}
		if err := appendJSONLine(a.cfg.Fs, a.cfg.RollbackLog, ev); err != nil && a.cfg.Console != nil {
			fmt.Fprintf(a.cfg.Console, "[ROLLBACK] warning: cannot write %s: %v\n", a.cfg.RollbackLog, err)
		}
	}
	if a.cfg.Console != nil {
		fmt.Fprintln(a.cfg.Console, "[ROLLBACK] Complete - reverted to production model")
	}
}

func appendJSONLine(fs afero.Fs, name string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return afile.Append(fs, name, buf.Bytes())
}

// Promote makes the shadow the active model when its divergence rate is
// at most PromoteMaxRate%, and disables the agent. It returns the promoted
// version. ErrRateTooHigh (wrapped) refuses the promotion.
func (a *Agent) Promote() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mode == Disabled {
		return "", fmt.Errorf("shadow: promote: %w", ErrNoShadow)
	}
	if a.st.Compared < uint64(a.cfg.MinPromote) {
		return "", fmt.Errorf("shadow: promote %s: %w: %d of the %d needed (shadowctl mode compare, then more decisions)",
			a.version, ErrTooFewComparisons, a.st.Compared, a.cfg.MinPromote)
	}
	if a.st.Rate() > PromoteMaxRate {
		return "", fmt.Errorf("shadow: promote %s: %w (%.2f%% of %d decisions)", a.version, ErrRateTooHigh, a.st.Rate(), a.st.Compared)
	}
	v := a.version
	if err := a.cfg.Models.Promote(); err != nil {
		return "", fmt.Errorf("shadow: promote %s: %w", v, err)
	}
	// The registry moved the shadow to active: nothing to clear there.
	a.mode, a.version, a.hash, a.predict = Disabled, "", "", nil
	return v, nil
}

// ErrTooFewComparisons: the shadow was compared on too few decisions to
// be promoted.
var ErrTooFewComparisons = errors.New("too few compared decisions")

// ErrRateTooHigh: the divergence rate forbids promotion.
var ErrRateTooHigh = errors.New("divergence rate above 10%")

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.st
	s.Mode, s.Version, s.Threshold, s.CanaryPercent = a.mode, a.version, a.threshold, a.percent
	return s
}

// History returns the last comparisons (up to 16), oldest first.
func (a *Agent) History() []Comparison {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.history.All()
}
