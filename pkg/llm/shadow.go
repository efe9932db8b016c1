package llm

import (
	"errors"
	"fmt"

	"github.com/sis-kernel/sissim/pkg/ring"
	"github.com/sis-kernel/sissim/pkg/shadow"
)

// A shadow language model runs next to the active one: every request
// also runs on it (its operations are charged to the service's server
// like the answer's), the two outputs are compared, and a deterministic
// share of the requests (Traffic percent, chosen by shadow.Routed on the
// request id) is answered by the shadow.

// ShadowHistory is how many comparisons are kept.
const ShadowHistory = 16

// ErrNoShadow is returned when no shadow model is set.
var ErrNoShadow = errors.New("no shadow model is enabled (llmctl shadow-deploy --id <version> --traffic P)")

// Comparison is one request run on both models.
type Comparison struct {
	ID uint64
	// ByShadow says the shadow answered the request.
	ByShadow       bool
	Active, Shadow string // the two outputs
	Agree          bool
}

// ShadowStats describe the shadow.
type ShadowStats struct {
	Version string // "" when none
	Traffic int    // percent of requests the shadow answers
	// Compared counts the requests run on both models, Diverged those
	// whose outputs differ, ByShadow those the shadow answered.
	Compared, Diverged, ByShadow uint64
}

// Rate returns the divergence rate in percent.
func (s ShadowStats) Rate() float64 {
	if s.Compared == 0 {
		return 0
	}
	return 100 * float64(s.Diverged) / float64(s.Compared)
}

// shadowState is the service's shadow.
type shadowState struct {
	model  *Model
	stats  ShadowStats
	recent *ring.Ring[Comparison]
}

// SetShadow makes m (version v) the shadow, answering traffic percent of
// the requests submitted from now on, with fresh counters.
func (s *Service) SetShadow(v string, m *Model, traffic int) error {
	if m == nil || traffic < 0 || traffic > 100 {
		return fmt.Errorf("llm: shadow needs a model and a traffic of 0..100%%, got %d%%", traffic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shadow = &shadowState{model: m, stats: ShadowStats{Version: v, Traffic: traffic}, recent: ring.New[Comparison](ShadowHistory)}
	return nil
}

// SetShadowTraffic changes the share of requests the shadow answers.
func (s *Service) SetShadowTraffic(traffic int) error {
	if traffic < 0 || traffic > 100 {
		return fmt.Errorf("traffic %d%% out of range 0..100", traffic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shadow == nil {
		return ErrNoShadow
	}
	s.shadow.stats.Traffic = traffic
	return nil
}

// ClearShadow stops shadowing (requests already submitted finish as they
// started) and returns the shadow's version ("" when there was none).
func (s *Service) ClearShadow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shadow == nil {
		return ""
	}
	v := s.shadow.stats.Version
	s.shadow = nil
	return v
}

// Shadow returns the shadow's statistics and recent comparisons, oldest
// first (ErrNoShadow when none).
func (s *Service) Shadow() (ShadowStats, []Comparison, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shadow == nil {
		return ShadowStats{}, nil, ErrNoShadow
	}
	return s.shadow.stats, s.shadow.recent.All(), nil
}

// shadowJob sets up j to also run on the shadow: the shadow answers when
// the request is routed to it, and the active model runs for comparison.
func (s *Service) shadowJob(j *Job, toks []string, maxTokens int) {
	sh := s.shadow
	if sh == nil {
		return
	}
	other := sh.model.NewDecoder(toks, maxTokens)
	j.shadow = sh
	if shadow.Routed(j.r.ID, sh.stats.Traffic) {
		j.byShadow = true
		j.dec, other = other, j.dec
	}
	j.other = other
}

// compare records the comparison of a finished job run on both models.
func (s *Service) compare(j *Job) {
	sh := j.shadow
	if sh == nil || sh != s.shadow {
		return // the shadow changed meanwhile: not its comparison
	}
	ans, oth := Detokenize(j.dec.Generation().Tokens), Detokenize(j.other.Generation().Tokens)
	c := Comparison{ID: j.r.ID, ByShadow: j.byShadow, Active: ans, Shadow: oth}
	if j.byShadow {
		c.Active, c.Shadow = oth, ans
		sh.stats.ByShadow++
	}
	c.Agree = c.Active == c.Shadow
	sh.stats.Compared++
	if !c.Agree {
		sh.stats.Diverged++
	}
	sh.recent.Add(c)
}
