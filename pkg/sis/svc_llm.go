package sis

import (
	"io"
	"time"

	"github.com/sis-kernel/sissim/pkg/llm"
	"github.com/sis-kernel/sissim/pkg/metrics"
	"github.com/sis-kernel/sissim/pkg/otel"
)

// LLM wiring: the service over the machine clock and scheduler (its
// budget is a CBS server of the machine's scheduler and its computation
// moves machine time on), the `llmctl` subcommands load, budget, status
// and audit, the `llminfer` command, its metrics and its spans.

// startLLM starts the LLM service (DefaultServices).
func startLLM(m *System) (string, error) {
	met, err := m.Metrics().RegisterLLM()
	if err != nil {
		return "", err
	}
	svc, err := llm.New(llm.Env{
		Now:     m.Now,
		Advance: m.llmAdvance,
		Sched:   m.Scheduler(),
		Observe: func(r llm.Result) { m.observeLLM(met, r) },
	})
	if err != nil {
		return "", err
	}
	m.svc.llm = svc
	// The service changes scheduler state: hold the lock the process
	// runner holds (no process runs while a shell command does).
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
	for _, sub := range subs {
		sub.Feature = FeatureLLM
		if err := m.Shell().RegisterSub("llmctl", sub); err != nil {
			return "", err
		}
	}
	err = m.Shell().Register(Command{Name: "llminfer", Usage: llm.UsageInfer, Feature: FeatureLLM, Run: locked(svc.CmdInfer)})
	return "", err
}

// LLM returns the machine's LLM service (nil when the llm feature is off).
func (m *System) LLM() *llm.Service { return m.svc.llm }

// llmAdvance lets d of machine time pass while the LLM service computes:
// deterministic time moves on; in realtime mode the host time passes.
func (m *System) llmAdvance(d time.Duration) {
	if d <= 0 {
		return
	}
	if m.Realtime() {
		time.Sleep(d)
		return
	}
	m.Advance(d)
}

// observeLLM updates the metrics and records the spans of one request:
// llm.request, with children llm.queue (the wait for budget, if any) and
// llm.inference, which has one llm.cbs_slice child per run on the server.
func (m *System) observeLLM(met *metrics.LLM, r llm.Result) {
	if r.Rejected {
		met.Rejects.Inc()
	} else {
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
		otel.Bool("llm.budgeted", r.Budgeted))
	if r.Budgeted {
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
