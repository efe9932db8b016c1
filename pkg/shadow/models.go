package shadow

import (
	"errors"

	"github.com/sis-kernel/sissim/pkg/decision"
	"github.com/sis-kernel/sissim/pkg/model"
)

// FromRegistry adapts a model registry to Models. A change the registry
// committed but could not fully apply on disk (model.ErrCommitted: the
// symlinks are repaired at the next Open) counts as done.
func FromRegistry(r *model.Registry) Models { return registryModels{r} }

type registryModels struct{ r *model.Registry }

func (m registryModels) ActiveVersion() string {
	if l := m.r.Active(); l != nil {
		return l.Version
	}
	return ""
}

func (m registryModels) Lookup(v string) (decision.Predictor, string, error) {
	return decision.RegistryLookup(m.r)(v)
}

func committed(err error) error {
	if errors.Is(err, model.ErrCommitted) {
		return nil
	}
	return err
}

func (m registryModels) SetShadow(v string) error { return committed(m.r.SetShadow(v)) }
func (m registryModels) ClearShadow()             { m.r.ClearShadow() }
func (m registryModels) Promote() error           { return committed(m.r.Promote()) }
