package sis

import (
	"fmt"
	"sort"
	"strings"
)

// Feature names: the SIS services a machine may start, as SIS selects them
// at build time (SIS_FEATURES). The core machine, the shell and the
// autonomy loop need none of them.
const (
	FeatureAgentSys       = "agentsys"
	FeatureLLM            = "llm"
	FeatureModelLifecycle = "model-lifecycle"
	FeatureShadowMode     = "shadow-mode"
	FeatureOTel           = "otel"
	FeatureDecisionTraces = "decision-traces"
)

// featureGroups are names that stand for several features.
var featureGroups = map[string][]string{
	"ai-ops": {FeatureModelLifecycle, FeatureShadowMode, FeatureOTel, FeatureDecisionTraces},
	"all":    {FeatureAgentSys, FeatureLLM, FeatureModelLifecycle, FeatureShadowMode, FeatureOTel, FeatureDecisionTraces},
	"none":   {},
}

// Features is a set of enabled features. The nil set enables every
// feature (the default build).
type Features map[string]bool

// AllFeatures returns the set of every feature.
func AllFeatures() Features {
	f := Features{}
	for _, n := range featureGroups["all"] {
		f[n] = true
	}
	return f
}

// ParseFeatures parses a comma-separated list of features and groups
// ("agentsys,ai-ops"; "all"; "none" or "" for none).
func ParseFeatures(s string) (Features, error) {
	f := Features{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if g, ok := featureGroups[name]; ok {
			for _, n := range g {
				f[n] = true
			}
			continue
		}
		if !AllFeatures()[name] {
			return nil, fmt.Errorf("unknown feature %q (known: %s, and ai-ops, all, none)", name, strings.Join(featureGroups["all"], ", "))
		}
		f[name] = true
	}
	return f, nil
}

// Enabled reports whether feature name is on (always, for the nil set).
func (f Features) Enabled(name string) bool { return f == nil || f[name] }

// String lists the enabled features, sorted and comma-separated.
func (f Features) String() string {
	if f == nil {
		f = AllFeatures()
	}
	names := make([]string, 0, len(f))
	for n, on := range f {
		if on {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
