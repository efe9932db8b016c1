package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestModelToolingRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	code, _, errOut := run(t, "model", "keygen", "-seed", "round trip", "-out", p("k"))
	require.Equal(t, 0, code, errOut)
	code, _, errOut = run(t, "model", "keygen", "-out", p("other"))
	require.Equal(t, 0, code, errOut)

	train := []string{"model", "train", "-samples", "5000", "-epochs", "20", "-seed", "3"}
	code, out, errOut := run(t, append(train, "-out", p("a.bin"), "-info", p("a.json"))...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "train accuracy")
	code, _, _ = run(t, append(train, "-out", p("b.bin"))...)
	require.Equal(t, 0, code)
	a, _ := os.ReadFile(p("a.bin"))
	b, _ := os.ReadFile(p("b.bin"))
	require.Equal(t, a, b, "training is deterministic")

	pkg := p("v9.0.0")
	code, _, errOut = run(t, "model", "pack", "-model", p("a.bin"), "-info", p("a.json"), "-version", "v9.0.0", "-out", pkg)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = run(t, "model", "verify", "-pub", p("k.pub"), pkg)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "model.sig: missing")

	code, _, errOut = run(t, "model", "sign", "-key", p("k.key"), pkg)
	require.Equal(t, 0, code, errOut)
	code, out, errOut = run(t, "model", "verify", "-pub", p("k.pub"), pkg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "v9.0.0: signature OK")
	require.Contains(t, out, "[PASS] accuracy:")

	code, _, errOut = run(t, "model", "verify", "-pub", p("other.pub"), pkg)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "not signed by a trusted key")

	bin, _ := os.ReadFile(filepath.Join(pkg, "model.bin"))
	bin[50] ^= 0xff
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "model.bin"), bin, 0o644))
	code, _, errOut = run(t, "model", "verify", "-pub", p("k.pub"), pkg)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "hash mismatch")

	code, _, _ = run(t, "model", "nope")
	require.Equal(t, 2, code)
	code, _, _ = run(t, "model", "train", "-hidden", "x")
	require.Equal(t, 2, code)
}

func TestCommittedModelPackagesVerify(t *testing.T) {
	for v, want := range map[string]int{"v1.0.0": 0, "v1.1.0": 0, "v1.2.0-undertrained": 2, "v1.3.0-slow": 2, "v1.4.0-badsig": 2, "v1.5.0-tampered": 2} {
		code, _, errOut := run(t, "model", "verify", "-pub", "../../testdata/models/trusted.pub", "../../testdata/models/packages/"+v)
		require.Equal(t, want, code, "%s: %s", v, errOut)
	}
}
