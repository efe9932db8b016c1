package sis

import (
	"errors"
	"io"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sched"
	"github.com/sis-kernel/sissim/pkg/shadow"

	"github.com/sis-kernel/sissim/pkg/llm"
	"github.com/sis-kernel/sissim/pkg/metrics"
	"github.com/sis-kernel/sissim/pkg/otel"
)

// LLM wiring: the service's work is an entity of the machine's
// scheduler (kernel.Machine.AddEntity), so an inference competes with the
// guests for machine time on a CBS server; the `llmctl` subcommands load,
// budget, status and audit, the `llminfer` command (which runs the machine
// until its request ends, or Ctrl-C cancels it), its metrics and spans.

// startLLM starts the LLM service (DefaultServices).
func startLLM(m *System) (string, error) {
	met, err := m.Metrics().RegisterLLM()
	if err != nil {
		return "", err
	}
	var svc *llm.Service
	// The service changes scheduler state: it is made, and its commands
	// run, while no guest runs.
	m.Exclusive(func() {
		svc, err = llm.New(llm.Env{
			Now:      m.Now,
			Realtime: m.Realtime(),
			Sched:    m.Scheduler(),
			Attach: func(srv *sched.Server, work llm.EntityFunc) {
				m.AddEntity(srv, kernel.EntityFunc(work))
			},
			Detach:  m.RemoveEntity,
			Wake:    m.WakeEntity,
			Observe: func(r llm.Result) { m.observeLLM(met, r) },
		})
	})
	if err != nil {
		return "", err
	}
	m.svc.llm = svc
	locked := func(run func(io.Writer, []string) error) CommandFunc {
		return func(w io.Writer, args []string) error {
			var err error
			m.Exclusive(func() { err = run(w, args) })
			return err
		}
	}
	fs := m.FS().Afero()
	subs := []Subcommand{
		{Name: "load", Usage: llm.UsageLoad, Run: locked(func(w io.Writer, a []string) error { return svc.CmdLoad(fs, w, a) })},
		{Name: "budget", Usage: llm.UsageBudget, Run: locked(svc.CmdBudget)},
		{Name: "status", Usage: llm.UsageStatus, Run: locked(svc.CmdStatus)},
		{Name: "audit", Usage: llm.UsageAudit, Run: locked(svc.CmdAudit)},
	}
	reg, marker, err := m.openLLMModels()
	if err != nil {
		return "", err
	}
	lm := &llmModels{s: m, reg: reg, svc: svc, minPromote: m.opts.MinPromoteComparisons}
	if lm.minPromote == 0 {
		lm.minPromote = shadow.DefaultMinPromote
	}
	lm.activate() // the active language model, if any, serves requests
	if l := reg.Shadow(); l != nil {
		// The registry's shadow runs again, answering nothing until
		// shadow-traffic says otherwise.
		m.Exclusive(func() { err = svc.SetShadow(l.Version, l.Payload.(*llm.Package).Model, 0) })
		if err != nil {
			return "", err
		}
	}
	for _, sub := range append(subs, lm.subs()...) {
		sub.Feature = FeatureLLM
		if err := m.Shell().RegisterSub("llmctl", sub); err != nil {
			return "", err
		}
	}
	submit := func(req llm.Request) (j *llm.Job, r llm.Result, err error) {
		m.Exclusive(func() { j, r, err = svc.Submit(req) })
		return j, r, err
	}
	infer := func(w io.Writer, args []string) error {
		return svc.CmdInfer(w, args, submit, m.waitLLM)
	}
	err = m.Shell().Register(Command{Name: "llminfer", Usage: llm.UsageInfer, Feature: FeatureLLM, Run: infer})
	return marker, err
}

// LLM returns the machine's LLM service (nil when the llm feature is off).
func (m *System) LLM() *llm.Service { return m.svc.llm }

// waitLLM runs the machine (the guests and the service's work) until
// request j has ended. Ctrl-C cancels the request.
func (m *System) waitLLM(j *llm.Job) error {
	svc := m.svc.llm
	intr := m.Interrupts()
	err := m.RunUntil(func() bool { return m.Interrupts() != intr || svc.Done(j) })
	var se *kernel.StoppedError
	if errors.As(err, &se) {
		err = nil // a stopped foreground job is no failure of the request
	}
	if !svc.Done(j) {
		reason := "interrupted"
		if err != nil {
			reason = err.Error()
		}
		m.Exclusive(func() { svc.Cancel(j, reason) })
		if err == nil {
			err = errors.New("interrupted")
		}
	}
	return err
}

// observeLLM updates the metrics and records the spans of one request:
// llm.request, with children llm.queue (the wait for budget, if any) and
// llm.inference, which has one llm.cbs_slice child per run on the server.
func (m *System) observeLLM(met *metrics.LLM, r llm.Result) {
	switch {
	case r.Rejected:
		met.Rejects.Inc()
	case r.Cancelled:
	default:
		met.InferUs.Observe(float64(r.Latency().Microseconds()))
		met.TokensOut.Add(float64(len(r.Tokens)))
		if r.Missed {
			met.DeadlineMisses.Inc()
		}
	}
	t := m.svc.otel
	if t == nil {
		return
	}
	req := t.Start("llm.request", nil, r.Arrival,
		otel.Int("llm.request.id", int64(r.ID)),
		otel.Int("llm.prompt_tokens", int64(r.PromptTokens)),
		otel.Int("llm.max_tokens", int64(r.MaxTokens)))
	if req == nil {
		return
	}
	req.SetKind(otel.KindServer)
	if r.Rejected {
		req.SetAttributes(otel.Bool("llm.rejected", true))
		req.SetError(r.Reason)
		req.End(r.Arrival)
		return
	}
	if r.Start > r.Arrival {
		q := t.Start("llm.queue", req, r.Arrival)
		q.End(r.Start)
	}
	inf := t.Start("llm.inference", req, r.Start,
		otel.Int("llm.tokens_out", int64(len(r.Tokens))),
		otel.Int("llm.cost_ns", r.Cost.Nanoseconds()),
		otel.Int("llm.ops", int64(r.Ops)),
		otel.Bool("llm.budgeted", r.Budgeted))
	switch {
	case r.Cancelled:
		inf.SetAttributes(otel.Bool("llm.cancelled", true))
		inf.SetError("cancelled: " + r.Reason)
	default:
		verdict := "ok"
		if r.Missed {
			verdict = "miss"
			inf.SetError("deadline missed")
		}
		inf.SetAttributes(otel.Int("llm.deadline_ns", r.Expected().Nanoseconds()), otel.Bool("llm.deadline_missed", r.Missed))
		inf.AddEvent("deadline."+verdict, r.End,
			otel.Int("actual_ns", r.Latency().Nanoseconds()), otel.Int("expected_ns", r.Expected().Nanoseconds()))
	}
	for i, sl := range r.Slices {
		s := t.Start("llm.cbs_slice", inf, sl.Start, otel.Int("llm.slice", int64(i)))
		s.End(sl.End)
	}
	inf.End(r.End)
	req.End(r.End)
}
