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

	// A machine trusts the built-in test key, or the keys of --trust-key.
	load := "modelctl load v9.0.0; modelctl swap v9.0.0; modelctl status"
	mount := pkg + ":/models/v9.0.0:ro"
	code, out, _ = run(t, "shell", "--mount", mount, "-c", load)
	require.Equal(t, 1, code)
	require.Contains(t, out, "not signed by a trusted key")
	code, out, errOut = run(t, "shell", "--mount", mount, "--trust-key", p("k.pub"), "-c", load)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "Active:   v9.0.0")
	code, out, _ = run(t, "shell", "--trust-key", p("k.pub"), "-c", "modelctl load v1.0.0")
	require.Equal(t, 1, code, "the test key is no longer trusted")
	require.Contains(t, out, "not signed by a trusted key")
	for _, bad := range []string{p("a.json"), p("k.key")} {
		code, _, errOut = run(t, "shell", "--trust-key", bad, "-c", "version")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "not a hex Ed25519 public key")
	}
	code, _, errOut = run(t, "model", "sign", "-key", p("k.pub"), pkg)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "not a hex Ed25519 private key")

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

func TestModelCLIHelpAndErrors(t *testing.T) {
	code, out, _ := run(t, "model", "--help")
	require.Equal(t, 0, code)
	for _, sub := range []string{"keygen", "train", "pack", "sign", "verify"} {
		require.Contains(t, out, "  "+sub+" ")
		code, _, errOut := run(t, "model", sub, "-h")
		require.Equal(t, 0, code, sub)
		require.Contains(t, errOut, "Usage: sissim model "+sub+" [flags]", sub)
		require.Contains(t, errOut, "Flags:\n", sub)
	}
	code, _, errOut := run(t, "model")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "Usage: sissim model <command>")
	code, _, errOut = run(t, "model", "nope")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "nope"`)

	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	code, _, errOut = run(t, "model", "keygen", "-seed", "x", "-out", p("k"))
	require.Equal(t, 0, code, errOut)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sign", dir}, "-key is required"},
		{[]string{"verify", dir}, "-pub is required"},
		{[]string{"keygen"}, "Usage: sissim model keygen"},
		{[]string{"pack", "-version", "v1"}, "Usage: sissim model pack"},
		{[]string{"sign", "-key", p("k.key")}, "Usage: sissim model sign [flags] DIR"},
		{[]string{"train", "-hidden", "0"}, "-hidden"},
		{[]string{"train", "-activation", "sigmoid"}, "unknown activation"},
		{[]string{"train", "-samples", "0"}, "samples 0"},
		{[]string{"pack", "-model", p("missing.bin"), "-version", "v1", "-out", p("v1")}, "missing.bin"},
		{[]string{"pack", "-model", p("k.pub"), "-version", "v1", "-out", p("v1")}, "model.bin: "},
	} {
		code, _, errOut := run(t, append([]string{"model"}, c.args...)...)
		require.Equal(t, 2, code, "%v", c.args)
		require.Contains(t, errOut, c.want, "%v", c.args)
	}

	// sign refuses a package whose manifest does not describe model.bin.
	code, _, errOut = run(t, "model", "train", "-samples", "100", "-epochs", "1", "-out", p("a.bin"))
	require.Equal(t, 0, code, errOut)
	code, _, errOut = run(t, "model", "pack", "-model", p("a.bin"), "-version", "../x", "-out", p("x"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "invalid model version")
	code, _, errOut = run(t, "model", "pack", "-model", p("a.bin"), "-version", "v2", "-out", p("v2"))
	require.Equal(t, 0, code, errOut)
	bin, err := os.ReadFile(p("v2/model.bin"))
	require.NoError(t, err)
	bin[len(bin)-1] ^= 1
	require.NoError(t, os.WriteFile(p("v2/model.bin"), bin, 0o644))
	code, _, errOut = run(t, "model", "sign", "-key", p("k.key"), p("v2"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "refusing to sign")
	require.Contains(t, errOut, "run sissim model pack again")
	_, err = os.Stat(p("v2/model.sig"))
	require.True(t, os.IsNotExist(err), "no signature written")
}
