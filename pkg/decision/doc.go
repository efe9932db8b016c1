// Package decision records the autonomy loop's decisions (SIS-SPEC.md
// section 7): the DecisionTrace of every decision in a ring of 1024, the
// `[DECISION]` console line and the JSON-lines log /var/log/decisions.json,
// incident bundles in /incidents, the export file format that replay
// re-runs through the recorded model versions, the confidence drift
// monitor, and the `tracectl` shell command.
//
// The package never imports the kernel or pkg/model. The kernel wiring
// hands it an afero.Fs, a console writer and callbacks; a model is seen as a
// Predictor (a func from features to Output). Output has the same fields,
// types and order as model.Inference, so the conversion is
// decision.Output(inf).
//
// API for the kernel (pkg/kernel/svc_autonomy.go):
//
//	rec := decision.NewRecorder(decision.Config{Fs: fs, Console: console})
//	id := rec.Record(trace) // assigns TraceID; prints [DECISION]; queues the log line
//	rec.Flush()             // appends queued lines to /var/log/decisions.json (call each tick)
//	drift := decision.NewDriftMonitor(console)
//	if drift.Observe(conf) == decision.DriftAlert { /* enter safe mode */ }
//	tc := &decision.Tracectl{Rec: rec, Fs: fs, Snapshot: snap, Demo: demo}
//	shell.Register(sis.Command{Name: "tracectl", Usage: decision.TracectlUsage, Run: tc.Command})
//	decision.WriteExport(w, rec.All())                 // autoctl export-decisions
//	rep, err := decision.ReplayFile(fs, path, lookup)  // autoctl replay-decisions
//
// Usage errors returned by commands print as "usage: ..." and match
// shellcmd.ErrUsage with errors.Is.
//
// User documentation: docs/decisions.md.
package decision
