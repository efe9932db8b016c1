// Package shadow runs a candidate model next to the production model
// (SIS-SPEC.md section 8): the shadow agent with its modes, the comparison
// that flags divergent decisions, deterministic canary routing, automatic
// rollback when the shadow diverges too much, promotion, and the
// `shadowctl` command and `llmctl shadow-*` subcommands.
//
// The package does not import the kernel. It sees the model registry
// through the Models interface (pkg/model's registry is adapted by
// FromRegistry) and models as decision.Predictor.
//
// API for the kernel (pkg/kernel/svc_autonomy.go):
//
//	ag := shadow.New(shadow.Config{Models: shadow.FromRegistry(reg), Fs: fs, Console: console, Wall: m.wallTime})
//	// each decision, after the production inference prod:
//	res := ag.Decide(id, features, decision.Output(prod))
//	// id: the trace id the decision gets (rec.NextID()), which the canary
//	// routing hashes. res.Ran: the shadow ran; res.UseShadow: the canary
//	// routes this decision to the shadow, so execute res.Shadow.Action
//	// (model res.Version, hash res.Hash) instead of prod.Action;
//	// res.RolledBack: this decision triggered the automatic rollback.
//	shell.Register(ag.ShellCommand())
//
// User documentation: docs/decisions.md.
package shadow
