package decision

import "github.com/sis-kernel/sissim/pkg/model"

// ModelPredictor returns m's inference as a Predictor.
func ModelPredictor(m *model.Model) Predictor {
	return func(in []float32) Output { return Output(m.Infer(in)) }
}

// RegistryLookup returns a Lookup over a model registry: a version is
// found (and loaded and verified if needed) with Registry.Get.
func RegistryLookup(r *model.Registry) Lookup {
	return func(version string) (Predictor, string, error) {
		l, err := r.Get(version)
		if err != nil {
			return nil, "", err
		}
		return ModelPredictor(l.Model), l.Hash, nil
	}
}
