package llm

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Usage lines of the commands (llmctl subcommands, then llminfer).
const (
	UsageLoad   = "load [<file>]  build the model from the built-in corpus or a text file"
	UsageBudget = "budget [--wcet-cycles N] [--period-ns N] [--max-tokens-per-period N]  admit the inference server"
	UsageStatus = "status  model, budget and counters"
	UsageAudit  = "audit [N]  the last N inference records (all kept when N is absent)"
	UsageInfer  = "llminfer <text>... [--max-tokens N] [--deadline-ns N]  run one inference (Ctrl-C cancels it); its deadline is N ns after it arrives (the server's period by default)"
)

// CmdLoad implements `llmctl load [PATH]`; PATH is read from fs.
func (s *Service) CmdLoad(fs afero.Fs, w io.Writer, args []string) error {
	if len(args) > 1 {
		return shellcmd.BadArgs("llmctl load: more than one file")
	}
	corpus, src := "", "built-in corpus"
	if len(args) == 1 {
		b, err := ReadCorpus(fs, args[0])
		if err != nil {
			return fmt.Errorf("llmctl load: %w", err)
		}
		corpus, src = string(b), args[0]
		if corpus == "" {
			return fmt.Errorf("llmctl load: %s is empty", args[0])
		}
	}
	m, err := s.Load(corpus)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "[LLM] model loaded: %s bytes=%d vocab=%d bigrams=%d trigrams=%d\n", src, m.CorpusBytes, m.VocabSize(), m.Bigrams, m.Trigrams)
	return nil
}

// ReadCorpus reads text file name of fs, refusing one over
// MaxCorpusBytes (also one that grows past it while it is read).
func ReadCorpus(fs afero.Fs, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tooBig := fmt.Errorf("%s: not a text file of at most %d bytes", name, MaxCorpusBytes)
	if fi.IsDir() || fi.Size() > MaxCorpusBytes {
		return nil, tooBig
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxCorpusBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxCorpusBytes {
		return nil, tooBig
	}
	return b, nil
}

// CmdBudget implements `llmctl budget [--wcet-cycles N] [--period-ns N]
// [--max-tokens-per-period N]`; absent values keep the current budget's
// (or the defaults).
func (s *Service) CmdBudget(w io.Writer, args []string) error {
	b := Budget{WCETCycles: DefaultWCETCycles, PeriodNs: DefaultPeriodNs, MaxTokensPerPeriod: DefaultMaxTokensPerPeriod}
	if cur, _ := s.Budget(); cur != nil {
		b = *cur
	}
	fields := map[string]*uint64{"wcet-cycles": &b.WCETCycles, "period-ns": &b.PeriodNs, "max-tokens-per-period": &b.MaxTokensPerPeriod}
	for i := 0; i < len(args); i++ {
		name, val, ok := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		p := fields[name]
		if !strings.HasPrefix(args[i], "--") || p == nil {
			return shellcmd.BadArgs("llmctl budget: unknown option %q", args[i])
		}
		if !ok {
			if i+1 >= len(args) {
				return shellcmd.BadArgs("llmctl budget: --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil || n == 0 {
			return shellcmd.BadArgs("llmctl budget: --%s wants a positive integer, got %q", name, val)
		}
		*p = n
	}
	if err := s.SetBudget(b); err != nil {
		fmt.Fprintf(w, "[LLM] budget rejected: %v\n", err)
		return fmt.Errorf("llmctl budget: rejected: %w", err)
	}
	_, srv := s.Budget()
	fmt.Fprintln(w, "[LLM] budget configured")
	fmt.Fprintf(w, "[LLM] server=%d wcet_ns=%d period_ns=%d max_tokens_per_period=%d util_ppm=%d\n",
		srv.ID, srv.BudgetNs, srv.PeriodNs, b.MaxTokensPerPeriod, srv.UtilPPM())
	return nil
}

// DetLine is the `[LLM][DET]` summary line.
func (s *Service) DetLine() string {
	c := s.Counters()
	return fmt.Sprintf("[LLM][DET] used_ppm=%d accepted=%d rejected=%d deadline_misses=%d jitter_p99_ns=%d",
		s.env.Sched.UsedPPM(), c.Accepted, c.Rejected, c.DeadlineMisses, s.JitterP99().Nanoseconds())
}

// CmdStatus implements `llmctl status`.
func (s *Service) CmdStatus(w io.Writer, args []string) error {
	if len(args) != 0 {
		return shellcmd.BadArgs("llmctl status: unexpected argument %q", args[0])
	}
	if m := s.Model(); m != nil {
		fmt.Fprintf(w, "[LLM] model: %s bytes=%d vocab=%d bigrams=%d trigrams=%d ctx=%d\n", s.ModelName(), m.CorpusBytes, m.VocabSize(), m.Bigrams, m.Trigrams, m.Ctx)
	} else {
		fmt.Fprintln(w, "[LLM] model: none (run 'llmctl load')")
	}
	if b, srv := s.Budget(); b != nil {
		used, quota := s.Quota()
		fmt.Fprintf(w, "[LLM] budget: server=%d wcet_cycles=%d period_ns=%d util_ppm=%d remaining_ns=%d\n",
			srv.ID, b.WCETCycles, b.PeriodNs, srv.UtilPPM(), srv.RemainingNs)
		fmt.Fprintf(w, "[LLM] quota: used=%d max_tokens_per_period=%d\n", used, quota)
	} else {
		fmt.Fprintln(w, "[LLM] budget: none (run 'llmctl budget')")
	}
	c := s.Counters()
	fmt.Fprintf(w, "[LLM] tokens_out=%d cancelled=%d queued=%d\n", c.TokensOut, c.Cancelled, s.Queued())
	fmt.Fprintln(w, s.DetLine())
	return nil
}

// CmdAudit implements `llmctl audit [N]`.
func (s *Service) CmdAudit(w io.Writer, args []string) error {
	recs := s.Audit()
	switch len(args) {
	case 0:
	case 1:
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			return shellcmd.BadArgs("llmctl audit: N %q is not a positive number", args[0])
		}
		if n < len(recs) {
			recs = recs[len(recs)-n:]
		}
	default:
		return shellcmd.BadArgs("llmctl audit: more than one count")
	}
	fmt.Fprintf(w, "[LLM] audit: %d record(s)\n", len(recs))
	for _, r := range recs {
		fmt.Fprintf(w, "[LLM][AUDIT] id=%d t_us=%d outcome=%s prompt_tokens=%d max_tokens=%d tokens=%d latency_us=%d cost_us=%d",
			r.ID, r.Time.Microseconds(), r.Outcome, r.PromptTokens, r.MaxTokens, r.Tokens, r.Latency.Microseconds(), r.Cost.Microseconds())
		if r.Reason != "" {
			fmt.Fprintf(w, " reason=%q", r.Reason)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// Waiter runs the machine until the job has ended; it cancels it (Cancel)
// and returns an error when the user interrupts the wait.
type Waiter func(j *Job) error

// CmdInfer implements `llminfer <text> [--max-tokens N] [--deadline-ns
// N]`: the words that are not flags form the prompt. submit queues the
// request (the caller holds the machine), and wait runs the machine
// until it has ended.
func (s *Service) CmdInfer(w io.Writer, args []string, submit func(Request) (*Job, Result, error), wait Waiter) error {
	var words []string
	req := Request{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := "", "", false
		switch {
		case a == "--max-tokens" || a == "--deadline-ns":
			if i+1 >= len(args) {
				return shellcmd.BadArgs("llminfer: %s needs a value", a)
			}
			i++
			name, val, hasVal = a, args[i], true
		case strings.HasPrefix(a, "--max-tokens=") || strings.HasPrefix(a, "--deadline-ns="):
			name, val, _ = strings.Cut(a, "=")
			hasVal = true
		case strings.HasPrefix(a, "--"):
			return shellcmd.BadArgs("llminfer: unknown option %q", a)
		}
		if !hasVal {
			words = append(words, a)
			continue
		}
		if name == "--max-tokens" {
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > MaxTokensLimit {
				return shellcmd.BadArgs("llminfer: --max-tokens wants 1..%d, got %q", MaxTokensLimit, val)
			}
			req.MaxTokens = n
			continue
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 1 || n > int64(MaxDeadline) {
			return shellcmd.BadArgs("llminfer: --deadline-ns wants 1..%d, got %q", int64(MaxDeadline), val)
		}
		req.Deadline = time.Duration(n)
	}
	req.Prompt = strings.TrimSpace(strings.Join(words, " "))
	if req.Prompt == "" {
		return shellcmd.BadArgs("llminfer: no prompt")
	}
	j, r, err := submit(req)
	if errors.Is(err, ErrRejected) {
		fmt.Fprintf(w, "[LLM] rejected id=%d: %s\n", r.ID, r.Reason)
		return fmt.Errorf("llminfer: request %d rejected: %s", r.ID, r.Reason)
	}
	if err != nil {
		return err
	}
	if err := wait(j); err != nil {
		return fmt.Errorf("llminfer: request %d: %w", r.ID, err)
	}
	r = s.Result(j)
	verdict := "ok"
	if r.Missed {
		verdict = "miss"
	}
	fmt.Fprintf(w, "[LLM][DEADLINE] %s actual=%dns expected=%dns slack=%dns\n",
		verdict, r.Latency().Nanoseconds(), r.Expected().Nanoseconds(), (r.Expected() - r.Latency()).Nanoseconds())
	fmt.Fprintf(w, "[LLM] infer id=%d tokens=%d latency_us=%d\n", r.ID, len(r.Tokens), r.Latency().Microseconds())
	fmt.Fprintf(w, "[LLM] output: %s\n", r.Output)
	return nil
}
