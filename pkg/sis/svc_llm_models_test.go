package sis_test

import (
	"regexp"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// llmModelScript registers, swaps and rolls back language models.
const llmModelScript = `llmctl register --id X --size 512 --ctx 2048
llmctl list
llmctl register --id small --size 4 --ctx 64
llmctl swap --to X
llminfer what does the scheduler do
llmctl swap --from X --to small
llminfer what does the scheduler do
llmctl rollback --to X
llminfer what does the scheduler do
llmctl list
llmctl query --id small
cat /models/.llm/registry.json`

func llmModels(t *testing.T) (string, *sis.System) {
	m := bootSys(t, kernel.Config{}, nil)
	var out string
	for _, line := range splitLines(llmModelScript) {
		out += sh(t, m, line)
	}
	return out, m
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestLLMModels: llmctl register builds a signed package of the size and
// context asked for and registers it; list, swap and rollback act on the
// language models, and requests run on the active one. Two runs give the
// same output.
func TestLLMModels(t *testing.T) {
	out, m := llmModels(t)
	require.Contains(t, out, "Model registered: X")
	require.Regexp(t, `(?m)^  X +Loaded +size_kb=512 ctx=2048 sha256=[0-9a-f]{12}$`, out)
	require.Regexp(t, `\[LLM\] registered id=small size_kb=4 ctx=64 bytes=\d+ vocab=212 bigrams=\d+ trigrams=\d+ pruned=[1-9]\d*`, out)
	require.Contains(t, out, "Swap complete. Downtime: 0ms\n")
	require.Contains(t, out, "Rollback complete: small -> X. Downtime: 0ms\n")
	require.Regexp(t, `(?m)^  X +Active `, out)
	require.Regexp(t, `(?m)^  small +Loaded `, out)
	require.Contains(t, out, "  Context:   64\n")
	// Requests run on the active model: the pruned one answers otherwise.
	outputs := regexp.MustCompile(`\[LLM\] output: (.*)`).FindAllStringSubmatch(out, -1)
	require.Len(t, outputs, 3)
	require.Equal(t, "gives every server a budget of the machine.", outputs[0][1])
	require.Equal(t, "gives the same input.", outputs[1][1])
	require.Equal(t, outputs[0][1], outputs[2][1])
	// The package is signed and whole; the service runs the active model.
	for _, f := range []string{"model.bin", "manifest.json", "SHA256SUMS", "model.sig"} {
		ok, err := afero.Exists(m.FS().Afero(), "/models/.llm/X/"+f)
		require.NoError(t, err)
		require.True(t, ok, f)
	}
	require.Contains(t, sh(t, m, "llmctl status"), "[LLM] model: X bytes=2961 vocab=212 bigrams=451 trigrams=520 ctx=2048\n")
	again, _ := llmModels(t)
	require.Equal(t, out, again)
}

// TestLLMModelErrors: bad arguments, a model that fails its health check
// (pruned until most prompts get no answer) and a swap from a model that
// is not active are refused.
func TestLLMModelErrors(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, "llmctl register --id X --size 512 --ctx 2048; llmctl register --id tiny --size 2 --ctx 16")
	for line, want := range map[string]string{
		"llmctl register --id X --size 512 --ctx 2048":                  "already registered",
		"llmctl register --id Y --size 1 --ctx 16":                      "vocabulary of the corpus alone",
		"llmctl register --id Y --size 0 --ctx 16":                      "--size takes",
		"llmctl register --id ../y --size 4 --ctx 16":                   "invalid model version",
		"llmctl register --id Y --size 4":                               "missing --ctx",
		"llmctl register --id Y --size 4 --ctx 4 --corpus /nonexistent": "nonexistent",
		"llmctl swap --to tiny":                                         "generates",
		"llmctl swap --from tiny --to X":                                "the active language model is none, not tiny",
		"llmctl rollback --to X":                                        "no rollback model",
		"llmctl query --id nope":                                        "not registered",
		"llmctl list x":                                                 "usage: llmctl list",
	} {
		out, err := m.Shell().Exec(line)
		require.ErrorContains(t, err, want, line)
		require.Contains(t, out, "", line)
	}
	require.Regexp(t, `(?m)^  tiny +Failed `, sh(t, m, "llmctl list"))
	// A corpus of the VFS.
	require.NoError(t, afero.WriteFile(m.FS().Afero(), "/tmp/c.txt", []byte("the cat sat on the mat. the dog sat on the log."), 0o644))
	out := sh(t, m, "llmctl register --id cats --size 1 --ctx 8 --corpus /tmp/c.txt; llmctl swap --to cats; llminfer the cat")
	require.Contains(t, out, "Building language model cats from /tmp/c.txt")
	require.Contains(t, out, "[LLM] output: sat on the log.\n")
}

// TestLLMModelSwapRealtime: in realtime mode the downtime printed is the
// measured gap, whatever it is.
func TestLLMModelSwapRealtime(t *testing.T) {
	m := bootSys(t, kernel.Config{Clock: kernel.Realtime}, nil)
	out := sh(t, m, "llmctl register --id X --size 512 --ctx 2048; llmctl swap --to X")
	require.Regexp(t, `Swap complete\. Downtime: \d+(\.\d+)?ms\n`, out)
}

// TestLLMShadow: a shadow language model runs on every request next to
// the active one, answers its share of them, and is compared; promotion
// needs enough comparisons and agreement.
func TestLLMShadow(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, `llmctl register --id A --size 512 --ctx 2048; llmctl register --id A2 --size 512 --ctx 1024
llmctl register --id B --size 5 --ctx 64; llmctl swap --to A`)
	require.Equal(t, "Shadow deployed: B (traffic 50%)\n", sh(t, m, "llmctl shadow-deploy --id B --traffic 50"))
	prompts := []string{"the agent", "what does the scheduler do", "the kernel", "a model"}
	for _, p := range prompts {
		sh(t, m, "llminfer "+p)
	}
	st := sh(t, m, "llmctl shadow-status")
	require.Contains(t, st, "  Shadow Model: B (active A)\n")
	require.Contains(t, st, "  Compared: 4 (promotion needs 20)\n")
	cmp := sh(t, m, "llmctl shadow-compare")
	require.Contains(t, cmp, "DIVERGED (answered by")
	require.Contains(t, cmp, "(answered by shadow)")
	_, err := m.Shell().Exec("llmctl shadow-promote")
	require.ErrorContains(t, err, "4 requests compared, promotion needs 20")
	require.Equal(t, "Shadow retired: B\n", sh(t, m, "llmctl shadow-retire"))
	_, err = m.Shell().Exec("llmctl shadow-compare")
	require.ErrorContains(t, err, "no shadow model is enabled")

	// A2 has the same tables as A: it agrees on every request.
	sh(t, m, "llmctl shadow-deploy --id A2 --traffic 100")
	for i := range 20 {
		sh(t, m, "llminfer "+prompts[i%len(prompts)])
	}
	require.Contains(t, sh(t, m, "llmctl shadow-status"), "  Traffic: 100% (20 requests answered by the shadow)\n  Compared: 20 (promotion needs 20)\n  Divergences: 0 (0.00%)\n")
	require.Equal(t, "Promotion complete: A2 is now active. Downtime: 0ms\n", sh(t, m, "llmctl shadow-promote"))
	list := sh(t, m, "llmctl list")
	require.Regexp(t, `(?m)^  A2 +Active `, list)
	require.Regexp(t, `(?m)^  A +Rollback `, list)
	require.Contains(t, sh(t, m, "llmctl shadow-status"), "Shadow Model: (none)")
}
