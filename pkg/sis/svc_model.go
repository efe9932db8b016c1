package sis

import (
	"crypto/ed25519"
	"fmt"
	"io/fs"
	"path"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/model"
)

// Model lifecycle wiring: the registry over the machine's /models, the
// machine clock and the built-in trusted key; the built-in packages
// installed on first boot (no registry.json yet); the `modelctl` command
// and the registry's `llmctl` subcommands.

// modelsDir is the registry directory.
const modelsDir = "/models"

// Models returns the machine's model registry (nil when the
// model-lifecycle feature is off).
func (m *System) Models() *model.Registry { return m.svc.models }

// startModels starts the model registry (DefaultServices).
func startModels(m *System) (string, error) {
	fsys := m.FS().Afero()
	builtin := sissim.Models()
	keys, err := m.trustedModelKeys()
	if err != nil {
		return "", err
	}
	if err := installModels(fsys, builtin); err != nil {
		return "", fmt.Errorf("models: installing built-in packages: %w", err)
	}
	cfg := model.Config{
		FS: fsys, Dir: modelsDir, TrustedKeys: keys,
		Now: m.Now, Epoch: m.Epoch(), Realtime: m.Realtime(), Log: m.Log(),
	}
	// No Advance: in deterministic mode health checks time their
	// inferences on a virtual clock of their own (each charged its
	// Model.Cost) and the machine's clock does not move, as for the
	// rest of the registry's work (reading, verifying, writing files).
	// A registry.json that cannot be read is kept for inspection under
	// another name, and the machine starts with an empty registry.
	reg, warning, err := model.OpenOrReset(cfg)
	if err != nil {
		return "", err
	}
	marker := ""
	if warning != "" {
		marker = "[MODEL] " + warning
	}
	cmd := reg.ShellCommand()
	cmd.Feature = FeatureModelLifecycle
	if err := m.Shell().Register(cmd); err != nil {
		return "", err
	}
	m.svc.models = reg
	return marker, nil
}

// trustedModelKeys returns the keys model packages must be signed with:
// Config.TrustedModelKeys, else the built-in test key.
func (m *System) trustedModelKeys() ([]ed25519.PublicKey, error) {
	if len(m.opts.TrustedModelKeys) > 0 {
		return m.opts.TrustedModelKeys, nil
	}
	b, err := fs.ReadFile(sissim.Models(), "trusted.pub")
	if err == nil {
		var key ed25519.PublicKey
		if key, err = model.ParsePublicKey(b); err == nil {
			return []ed25519.PublicKey{key}, nil
		}
	}
	return nil, fmt.Errorf("models: built-in trusted key: %w", err)
}

// BuiltinModel is the built-in package the autonomy loop runs when the
// machine has no model registry (model-lifecycle off).
const BuiltinModel = "v1.0.0"

// builtinModel reads and verifies the built-in package BuiltinModel
// against the machine's trusted keys.
func (m *System) builtinModel() (*model.Loaded, error) {
	keys, err := m.trustedModelKeys()
	if err != nil {
		return nil, err
	}
	p, err := model.ReadPackage(afero.FromIOFS{FS: sissim.Models()}, path.Join("packages", BuiltinModel))
	if err != nil {
		return nil, fmt.Errorf("built-in model %s: %w", BuiltinModel, err)
	}
	mdl, err := p.Verify(BuiltinModel, keys)
	if err != nil {
		return nil, fmt.Errorf("built-in model %s: %w", BuiltinModel, err)
	}
	return &model.Loaded{Version: BuiltinModel, Hash: p.Hash(), LoadedAt: m.Now(), Model: mdl, Manifest: p.Manifest, Health: p.Health}, nil
}

// installModels copies the built-in packages (packages/<version>/ of
// builtin) to /models/<version>/ when /models has no registry.json yet
// (a first boot); existing package directories are left alone.
func installModels(fsys afero.Fs, builtin fs.FS) error {
	if _, err := fsys.Stat(path.Join(modelsDir, model.RegistryFile)); err == nil {
		return nil
	}
	if err := fsys.MkdirAll(modelsDir, 0o755); err != nil {
		return err
	}
	pkgs, err := fs.ReadDir(builtin, "packages")
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		dst := path.Join(modelsDir, p.Name())
		if !p.IsDir() || model.ValidVersion(p.Name()) != nil {
			continue
		}
		if _, err := fsys.Stat(dst); err == nil {
			continue
		}
		if err := fsys.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		files, err := fs.ReadDir(builtin, path.Join("packages", p.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			b, err := fs.ReadFile(builtin, path.Join("packages", p.Name(), f.Name()))
			if err != nil {
				return err
			}
			if err := afero.WriteFile(fsys, path.Join(dst, f.Name()), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
