package model

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/afero"
)

// Kind is what the packages of a registry hold when they are not the
// decision models (Config.Kind: the language models of the LLM service).
// The registry's machinery (registry.json, the active, shadow and
// rollback slots and their symlinks, the history, atomic swaps) is the
// same; only reading, verifying and health-checking a package differ.
type Kind interface {
	// Verify reads and verifies the package of version v in directory
	// dir of fsys against the trusted keys, and returns what it holds
	// (Loaded.Payload) and the hex SHA-256 that identifies it.
	Verify(fsys afero.Fs, dir, v string, trusted []ed25519.PublicKey) (payload any, hash string, err error)
	// Health runs the health checks of a verified package against lim.
	Health(l *Loaded, lim Limits) *HealthReport
}

// verifyKind is verify for a registry of another Kind.
func (r *Registry) verifyKind(v, dir string) (*Loaded, error) {
	payload, hash, err := r.cfg.Kind.Verify(r.cfg.FS, dir, v, r.cfg.TrustedKeys)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", v, err)
	}
	return &Loaded{Version: v, Hash: hash, LoadedAt: r.cfg.Now(), Payload: payload}, nil
}

// health runs the health checks of l: the decision models' (check), or
// those of the registry's Kind.
func (r *Registry) health(l *Loaded) *HealthReport {
	if r.cfg.Kind == nil {
		return r.check(l)
	}
	r.checkMu.Lock()
	defer r.checkMu.Unlock()
	return r.cfg.Kind.Health(l, r.cfg.Limits)
}
