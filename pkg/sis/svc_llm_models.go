package sis

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/llm"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// The language models of the LLM service: signed packages (pkg/llm)
// that `llmctl register` builds from a corpus, kept in a model registry
// of their own (pkg/model, with llmKind) under llmModelsDir. `llmctl
// list`, `query`, `swap` and `rollback` act on that registry, and the
// active language model is the one new requests run on.

// llmModelsDir is the registry directory of the language models: hidden
// in /models, so the decision models' registry does not take it for a
// package.
const llmModelsDir = "/models/.llm"

// testKeyPhrase is the public phrase the built-in test key is derived
// from (scripts/gen-models.sh).
const testKeyPhrase = "sissim test model signing key (public; tests only)"

// llmHealthPrompts are the prompts a language model's health check runs.
var llmHealthPrompts = []string{
	"the", "what does the scheduler do", "the kernel", "a model",
	"every process", "the machine", "how is memory given", "the agent",
}

// llmKind verifies and health-checks language-model packages.
type llmKind struct {
	now      func() time.Duration
	realtime bool
}

func (k llmKind) Verify(fsys afero.Fs, dir, v string, trusted []ed25519.PublicKey) (any, string, error) {
	p, err := llm.VerifyPackage(fsys, dir, v, trusted)
	if err != nil {
		return nil, "", err
	}
	return p, p.Hash, nil
}

// Health runs the model on llmHealthPrompts: the latency of each is the
// machine time its operations are charged (llm.CostPerOp) in
// deterministic mode and the host time it takes in realtime mode; memory
// is the size of model.bin; "accuracy" is the share of prompts the model
// continues (a model pruned to nothing answers none).
func (k llmKind) Health(l *model.Loaded, lim model.Limits) *model.HealthReport {
	p := l.Payload.(*llm.Package)
	lat := make([]time.Duration, len(llmHealthPrompts))
	answered := 0
	begin := k.now()
	for i, prompt := range llmHealthPrompts {
		start := k.now()
		g := p.Model.Generate(llm.Tokenize(prompt), llm.DefaultMaxTokens)
		lat[i] = llm.Cost(g.Ops)
		if k.realtime {
			lat[i] = k.now() - start
		}
		if len(g.Tokens) > 0 {
			answered++
		}
	}
	var p99 time.Duration
	for _, d := range lat {
		p99 = max(p99, d) // 8 samples: the 99th percentile is the largest
	}
	rep := &model.HealthReport{Version: l.Version, Hash: l.Hash, LatencyP99: p99, Elapsed: k.now() - begin}
	rep.LatencyP99US = int64((p99 + time.Microsecond - 1) / time.Microsecond)
	rep.MemoryBytes = int64(p.Manifest.Bytes)
	rep.Accuracy = float64(answered) / float64(len(llmHealthPrompts))
	rep.Checks = []model.Check{
		{Name: "latency", Passed: p99 <= lim.MaxLatencyP99, Value: float64(rep.LatencyP99US),
			Threshold: float64(lim.MaxLatencyP99 / time.Microsecond), Errno: linux.ETIMEDOUT,
			Text: fmt.Sprintf("p99=%dus (limit %dus)", rep.LatencyP99US, lim.MaxLatencyP99/time.Microsecond)},
		{Name: "memory", Passed: rep.MemoryBytes <= lim.MaxMemory, Value: float64(rep.MemoryBytes),
			Threshold: float64(lim.MaxMemory), Errno: linux.ENOMEM,
			Text: fmt.Sprintf("model.bin %d bytes (limit %d)", rep.MemoryBytes, lim.MaxMemory)},
		{Name: "generates", Passed: answered == len(llmHealthPrompts), Value: rep.Accuracy, Threshold: 1,
			Errno: linux.EINVAL, Text: fmt.Sprintf("%d of %d health prompts continued", answered, len(llmHealthPrompts))},
	}
	return rep
}

// openLLMModels opens the language models' registry.
func (m *System) openLLMModels() (*model.Registry, string, error) {
	keys, err := m.trustedModelKeys()
	if err != nil {
		return nil, "", err
	}
	reg, warning, err := model.OpenOrReset(model.Config{
		FS: m.FS().Afero(), Dir: llmModelsDir, TrustedKeys: keys,
		Now: m.Now, Epoch: m.Epoch(), Realtime: m.Realtime(), Log: m.Log(),
		Kind: llmKind{now: m.Now, realtime: m.Realtime()},
	})
	if err != nil {
		return nil, "", fmt.Errorf("language models: %w", err)
	}
	if warning != "" {
		warning = "[LLM] " + warning
	}
	return reg, warning, nil
}

// modelSigningKey returns the key the machine signs the packages it
// builds with: Options.ModelSigningKey, else (when the machine trusts the
// built-in test key) that test key.
func (m *System) modelSigningKey() (ed25519.PrivateKey, error) {
	if k := m.opts.ModelSigningKey; k != nil {
		return k, nil
	}
	if len(m.opts.TrustedModelKeys) > 0 {
		return nil, errors.New("the machine has no signing key (Options.ModelSigningKey) for the keys it trusts")
	}
	k := model.KeyFromSeed(testKeyPhrase)
	b, err := fs.ReadFile(sissim.Models(), "trusted.pub")
	if err != nil {
		return nil, err
	}
	pub, err := model.ParsePublicKey(b)
	if err != nil || !bytes.Equal(pub, k.Public().(ed25519.PublicKey)) {
		return nil, errors.New("the built-in test key does not match trusted.pub")
	}
	return k, nil
}

// llmModels is the `llmctl` subcommands on the language models.
type llmModels struct {
	s   *System
	reg *model.Registry
	svc *llm.Service
	// minPromote is how many comparisons shadow-promote needs.
	minPromote int
}

func (lm *llmModels) subs() []Subcommand {
	return []Subcommand{
		{Name: "register", Usage: "register --id <version> --size KB --ctx N [--corpus <file>]  build a language model of at most KB KiB with a context of N tokens from the built-in corpus (or a text file), sign it with the machine's key and register it", Run: lm.register},
		{Name: "list", Usage: "list  the registered language models", Run: noArgs(lm.list)},
		{Name: "query", Usage: "query --id <version>  show a registered language model", Run: lm.query},
		{Name: "swap", Usage: "swap [--from <version>] --to <version>  health-check a language model and make it the one requests run on", Run: lm.swap},
		{Name: "rollback", Usage: "rollback --to <version>  return to the previous language model", Run: lm.rollback},
		{Name: "shadow-deploy", Usage: "shadow-deploy --id <version> [--traffic P]  run a language model as the shadow: every request also runs on it and the outputs are compared; it answers P% of them (default 0)", Run: lm.shadowDeploy},
		{Name: "shadow-status", Usage: "shadow-status  the shadow language model, its traffic and comparisons", Run: noArgs(lm.shadowStatus)},
		{Name: "shadow-traffic", Usage: "shadow-traffic --percent P  share of requests the shadow answers (0-100)", Run: lm.shadowTraffic},
		{Name: "shadow-compare", Usage: "shadow-compare  the last 16 requests run on both models", Run: noArgs(lm.shadowCompare)},
		{Name: "shadow-promote", Usage: "shadow-promote  make the shadow the active language model (enough comparisons, divergence rate <= 10%)", Run: noArgs(lm.shadowPromote)},
		{Name: "shadow-retire", Usage: "shadow-retire  stop and clear the shadow language model", Run: noArgs(lm.shadowRetire)},
	}
}

// llmFlags parses --name value and --name=value arguments: required
// names once each, optional ones at most once. Errors are usage errors.
func llmFlags(args []string, required []string, optional ...string) (map[string]string, error) {
	ok := map[string]bool{}
	for _, n := range append(append([]string(nil), required...), optional...) {
		ok[n] = true
	}
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a, found := strings.CutPrefix(args[i], "--")
		if !found {
			return nil, shellcmd.BadArgs("unexpected argument %q", args[i])
		}
		name, val, hasVal := strings.Cut(a, "=")
		if !ok[name] {
			return nil, shellcmd.BadArgs("unknown flag --%s", name)
		}
		if _, dup := out[name]; dup {
			return nil, shellcmd.BadArgs("--%s given twice", name)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, shellcmd.BadArgs("--%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if val == "" {
			return nil, shellcmd.BadArgs("--%s needs a value", name)
		}
		out[name] = val
	}
	for _, n := range required {
		if _, set := out[n]; !set {
			return nil, shellcmd.BadArgs("missing --%s", n)
		}
	}
	return out, nil
}

// register implements `llmctl register`.
func (lm *llmModels) register(w io.Writer, args []string) error {
	f, err := llmFlags(args, []string{"id", "size", "ctx"}, "corpus")
	if err != nil {
		return err
	}
	v := f["id"]
	if err := model.ValidVersion(v); err != nil {
		return shellcmd.BadArgs("%v", err)
	}
	size, err1 := strconv.Atoi(f["size"])
	ctx, err2 := strconv.Atoi(f["ctx"])
	if err1 != nil || err2 != nil || size < 1 || size > llm.MaxModelBytes/1024 || ctx < 1 || ctx > llm.MaxCtx {
		return shellcmd.BadArgs("--size takes 1..%d (KB) and --ctx 1..%d (tokens)", llm.MaxModelBytes/1024, llm.MaxCtx)
	}
	corpus, src := llm.Corpus, "the built-in corpus"
	fsys := lm.s.FS().Afero()
	if name, ok := f["corpus"]; ok {
		b, err := llm.ReadCorpus(fsys, name)
		if err != nil {
			return err
		}
		corpus, src = string(b), name
	}
	dir := path.Join(llmModelsDir, v)
	if _, ok := lm.reg.Entry(v); ok {
		return fmt.Errorf("language model %s is already registered", v)
	}
	if _, err := fsys.Stat(dir); err == nil {
		return fmt.Errorf("language model %s: %s exists", v, dir)
	}
	key, err := lm.s.modelSigningKey()
	if err != nil {
		return err
	}
	mdl, pruned, err := llm.BuildSized(corpus, size, ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Building language model %s from %s: at most %d KB, context %d tokens\n", v, src, size, ctx)
	man, err := llm.WritePackage(fsys, dir, v, mdl, size, pruned, corpus, key)
	if err == nil {
		_, err = lm.reg.Load(v)
	}
	if err != nil && !errors.Is(err, model.ErrCommitted) {
		_ = fsys.RemoveAll(dir) // nothing registered: leave no package
		return err
	}
	if err := lm.reg.SetLLM(v, model.LLM{SizeKB: size, Ctx: ctx}); err != nil && !errors.Is(err, model.ErrCommitted) {
		return err
	}
	e, _ := lm.reg.Entry(v)
	fmt.Fprintf(w, "[LLM] registered id=%s size_kb=%d ctx=%d bytes=%d vocab=%d bigrams=%d trigrams=%d pruned=%d sha256=%.12s\n",
		v, size, ctx, man.Bytes, man.Vocab, man.Bigrams, man.Trigrams, man.Pruned, e.Hash)
	fmt.Fprintf(w, "Model registered: %s (signed, %s)\n", v, dir)
	return nil
}

// list implements `llmctl list`.
func (lm *llmModels) list(w io.Writer) error {
	entries := lm.reg.List()
	fmt.Fprintln(w, "Language Model Registry:")
	if len(entries) == 0 {
		fmt.Fprintln(w, "  (no language models registered: llmctl register)")
	}
	width := 16
	for _, e := range entries {
		width = max(width, len(e.Version))
	}
	for _, e := range entries {
		line := fmt.Sprintf("  %-*s %-8s", width, e.Version, e.Status)
		if e.LLM != nil {
			line += fmt.Sprintf(" size_kb=%d ctx=%d", e.LLM.SizeKB, e.LLM.Ctx)
		}
		line += fmt.Sprintf(" sha256=%.12s", e.Hash)
		if h := e.Health; h != nil {
			line += fmt.Sprintf(" p99=%dus bytes=%d", h.LatencyP99US, h.MemoryBytes)
		}
		if e.Reason != "" {
			line += " (" + e.Reason + ")"
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// query implements `llmctl query --id X`.
func (lm *llmModels) query(w io.Writer, args []string) error {
	f, err := llmFlags(args, []string{"id"})
	if err != nil {
		return err
	}
	e, ok := lm.reg.Entry(f["id"])
	if !ok {
		return fmt.Errorf("language model %s is not registered", f["id"])
	}
	fmt.Fprintf(w, "Model: %s\n", e.Version)
	fmt.Fprintf(w, "  Status:    %s\n", e.Status)
	fmt.Fprintf(w, "  SHA-256:   %s\n", e.Hash)
	fmt.Fprintf(w, "  Signature: %s\n", e.Signature)
	fmt.Fprintf(w, "  Loaded at: %s\n", e.LoadedAt)
	if e.LLM != nil {
		fmt.Fprintf(w, "  Size:      %d KB\n  Context:   %d\n", e.LLM.SizeKB, e.LLM.Ctx)
	}
	if h := e.Health; h != nil {
		fmt.Fprintf(w, "  Health:    p99=%dus bytes=%d\n", h.LatencyP99US, h.MemoryBytes)
	}
	if e.Reason != "" {
		fmt.Fprintf(w, "  Reason:    %s\n", e.Reason)
	}
	return nil
}

// swap implements `llmctl swap [--from A] --to B`: B is verified and
// health-checked while A goes on serving, then the registry and the
// service switch to it. The downtime printed is the machine time between
// the moment A stopped taking requests and B started (the switch of the
// service's model, under its lock).
func (lm *llmModels) swap(w io.Writer, args []string) error {
	f, err := llmFlags(args, []string{"to"}, "from")
	if err != nil {
		return err
	}
	to := f["to"]
	if from, ok := f["from"]; ok {
		if cur, _, _ := lm.reg.Status(); cur != from {
			return fmt.Errorf("the active language model is %s, not %s", llmOrNone(cur), from)
		}
	}
	rep, err := lm.reg.Swap(to)
	if err != nil && !errors.Is(err, model.ErrCommitted) {
		if rep != nil {
			model.WriteChecks(w, rep)
		}
		return err
	}
	gap := lm.activate()
	fmt.Fprintf(w, "Language model swap complete: %s\n", to)
	fmt.Fprintf(w, "Swap complete. Downtime: %s\n", downtime(gap))
	return err
}

// llmOrNone returns v, or "none" when it is empty.
func llmOrNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// downtime formats a swap's gap in milliseconds: "0ms" only for none.
func downtime(d time.Duration) string {
	if d == 0 {
		return "0ms"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
}

// activate makes the registry's active language model the service's and
// returns the gap the switch left.
func (lm *llmModels) activate() time.Duration {
	var mdl *llm.Model
	name := ""
	if l := lm.reg.Active(); l != nil {
		mdl, name = l.Payload.(*llm.Package).Model, l.Version
	}
	var gap time.Duration
	lm.s.Exclusive(func() { gap = lm.svc.SwapModel(name, mdl) })
	return gap
}

// rollback implements `llmctl rollback --to X`.
func (lm *llmModels) rollback(w io.Writer, args []string) error {
	f, err := llmFlags(args, []string{"to"})
	if err != nil {
		return err
	}
	from, to, err := lm.reg.RollbackTo(f["to"])
	if err != nil && !errors.Is(err, model.ErrCommitted) {
		return err
	}
	gap := lm.activate()
	fmt.Fprintf(w, "Rollback complete: %s -> %s. Downtime: %s\n", llmOrNone(from), to, downtime(gap))
	return err
}

// maxPromoteRate is the divergence rate (percent) above which
// shadow-promote refuses.
const maxPromoteRate = 10

// percent parses a traffic share 0..100.
func percent(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return 0, shellcmd.BadArgs("%q is not a percentage", s)
	}
	if n < 0 || n > 100 {
		return 0, shellcmd.BadArgs("traffic %d%% out of range 0..100", n)
	}
	return n, nil
}

// shadowDeploy implements `llmctl shadow-deploy --id X [--traffic P]`:
// X is verified and health-checked into the registry's shadow slot, then
// runs next to the active model.
func (lm *llmModels) shadowDeploy(w io.Writer, args []string) error {
	f, err := llmFlags(args, []string{"id"}, "traffic")
	if err != nil {
		return err
	}
	p := 0
	if t, ok := f["traffic"]; ok {
		if p, err = percent(t); err != nil {
			return err
		}
	}
	v := f["id"]
	if _, ok := lm.reg.Entry(v); !ok {
		return fmt.Errorf("language model %s is not registered (llmctl register)", v)
	}
	if lm.svc.Model() == nil {
		return errors.New("no language model serves requests to compare the shadow with (llmctl swap --to <version>)")
	}
	if err := lm.reg.SetShadow(v); err != nil && !errors.Is(err, model.ErrCommitted) {
		return err
	}
	l := lm.reg.Shadow()
	if l == nil {
		return fmt.Errorf("language model %s did not become the shadow", v)
	}
	lm.s.Exclusive(func() { err = lm.svc.SetShadow(v, l.Payload.(*llm.Package).Model, p) })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Shadow deployed: %s (traffic %d%%)\n", v, p)
	return nil
}

// shadowStats returns the service's shadow, under the machine.
func (lm *llmModels) shadowStats() (st llm.ShadowStats, cmp []llm.Comparison, err error) {
	lm.s.Exclusive(func() { st, cmp, err = lm.svc.Shadow() })
	return st, cmp, err
}

// shadowStatus implements `llmctl shadow-status`.
func (lm *llmModels) shadowStatus(w io.Writer) error {
	st, _, err := lm.shadowStats()
	fmt.Fprintln(w, "LLM Shadow Status:")
	if err != nil {
		fmt.Fprintln(w, "  Shadow Model: (none)")
		return nil
	}
	active, _, _ := lm.reg.Status()
	fmt.Fprintf(w, "  Shadow Model: %s (active %s)\n", st.Version, llmOrNone(active))
	fmt.Fprintf(w, "  Traffic: %d%% (%d requests answered by the shadow)\n", st.Traffic, st.ByShadow)
	fmt.Fprintf(w, "  Compared: %d (promotion needs %d)\n", st.Compared, lm.minPromote)
	fmt.Fprintf(w, "  Divergences: %d (%.2f%%)\n", st.Diverged, st.Rate())
	return nil
}

// shadowTraffic implements `llmctl shadow-traffic --percent P`.
func (lm *llmModels) shadowTraffic(w io.Writer, args []string) error {
	f, err := llmFlags(args, []string{"percent"})
	if err != nil {
		return err
	}
	p, err := percent(f["percent"])
	if err != nil {
		return err
	}
	lm.s.Exclusive(func() { err = lm.svc.SetShadowTraffic(p) })
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Shadow traffic set to: %d%%\n", p)
	return nil
}

// shadowCompare implements `llmctl shadow-compare`.
func (lm *llmModels) shadowCompare(w io.Writer) error {
	st, cmp, err := lm.shadowStats()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Shadow Comparison (%s vs active):\n", st.Version)
	fmt.Fprintf(w, "  Compared: %d  Divergences: %d (%.2f%%)\n", st.Compared, st.Diverged, st.Rate())
	if len(cmp) == 0 {
		fmt.Fprintln(w, "  (no requests yet)")
	}
	for _, c := range cmp {
		verdict, by := "agree", "active"
		if !c.Agree {
			verdict = "DIVERGED"
		}
		if c.ByShadow {
			by = "shadow"
		}
		fmt.Fprintf(w, "  [%d] %s (answered by %s)\n    active: %s\n    shadow: %s\n", c.ID, verdict, by, c.Active, c.Shadow)
	}
	return nil
}

// shadowPromote implements `llmctl shadow-promote`: after enough
// comparisons with a divergence rate of at most 10%, the shadow becomes
// the active language model (through the registry's health gate).
func (lm *llmModels) shadowPromote(w io.Writer) error {
	st, _, err := lm.shadowStats()
	if err != nil {
		return err
	}
	if st.Compared < uint64(lm.minPromote) {
		return fmt.Errorf("shadow %s: %d requests compared, promotion needs %d", st.Version, st.Compared, lm.minPromote)
	}
	if st.Rate() > maxPromoteRate {
		fmt.Fprintf(w, "WARNING: Divergence rate > %d%%\n", maxPromoteRate)
		return fmt.Errorf("shadow %s: divergence rate %.2f%% over %d%%", st.Version, st.Rate(), maxPromoteRate)
	}
	if err := lm.reg.Promote(); err != nil && !errors.Is(err, model.ErrCommitted) {
		return err
	}
	lm.s.Exclusive(func() { lm.svc.ClearShadow() })
	gap := lm.activate()
	fmt.Fprintf(w, "Promotion complete: %s is now active. Downtime: %s\n", st.Version, downtime(gap))
	return nil
}

// shadowRetire implements `llmctl shadow-retire`.
func (lm *llmModels) shadowRetire(w io.Writer) error {
	var v string
	lm.s.Exclusive(func() { v = lm.svc.ClearShadow() })
	if v == "" {
		return llm.ErrNoShadow
	}
	lm.reg.ClearShadow()
	fmt.Fprintf(w, "Shadow retired: %s\n", v)
	return nil
}
