package sis

import (
	"errors"
	"path"

	"github.com/sis-kernel/sissim/pkg/agentsys"
	"github.com/sis-kernel/sissim/pkg/decision"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/llm"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/otel"
	"github.com/sis-kernel/sissim/pkg/shadow"
)

// The SIS services (AgentSys, the model registry, OpenTelemetry, the LLM
// service, the autonomy loop, the shadow agent) live in their own packages
// and never import the kernel. Each is wired into the machine by one
// svc_*.go file of this package, which hands it the narrow interfaces it
// needs (the machine clock, the VFS as an afero.Fs, a logger) and
// registers its shell commands.

// services holds the started services of a machine; a field is nil while
// its service is not started.
type services struct {
	// One field per service, set by its Start (svc_*.go).
	agentsys *agentsys.Service
	models   *model.Registry
	otel     *otel.Tracer
	llm      *llm.Service
	traces   *decision.Recorder
	shadow   *shadow.Agent
	autonomy *autonomy
}

// appendOnlyLog creates the service log p when missing and makes it
// append-only, so that guests can read it and never rewrite it. A log on
// a backend without inode flags (a host mount) stays unprotected.
func (m *System) appendOnlyLog(p string) error {
	if err := m.FS().MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := m.FS().Open(p, linux.O_WRONLY|linux.O_CREAT|linux.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := m.FS().SetAppendOnly(p); err != nil && !errors.Is(err, linux.EOPNOTSUPP) {
		return err
	}
	return nil
}

// DefaultServices returns the SIS services in boot order, for
// BootConfig.Services. Services whose feature is disabled are skipped at
// boot.
func DefaultServices() []Service {
	return []Service{
		// One entry per service (svc_*.go), in boot order.
		{Name: "agentsys", Feature: FeatureAgentSys, Start: startAgentSys, Commands: []string{"agentsys"}},
		{Name: "models", Feature: FeatureModelLifecycle, Start: startModels,
			Commands: []string{"modelctl"}},
		{Name: "otel", Feature: FeatureOTel, Start: startOTel, Commands: []string{"otelctl"}},
		{Name: "llm", Feature: FeatureLLM, Start: startLLM,
			Commands: []string{"llminfer", "llmctl", "llmctl load", "llmctl budget", "llmctl status", "llmctl audit",
				"llmctl register", "llmctl list", "llmctl query", "llmctl swap", "llmctl rollback",
				"llmctl shadow-deploy", "llmctl shadow-status", "llmctl shadow-traffic", "llmctl shadow-compare",
				"llmctl shadow-promote", "llmctl shadow-retire"}},
		{Name: "autonomy", Start: startAutonomy},
		{Name: "shadow", Feature: FeatureShadowMode, Start: startShadow, Commands: shadowCommands},
	}
}
