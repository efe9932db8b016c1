package main

import (
	"os"
	"path/filepath"
	"strings"
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
	code, _, errOut = run(t, "shell", "--mount", mount, "-c", load)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "not signed by a trusted key")
	code, out, errOut = run(t, "shell", "--mount", mount, "--trust-key", p("k.pub"), "-c", load)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "Active:   v9.0.0")
	code, _, errOut = run(t, "shell", "--trust-key", p("k.pub"), "-c", "modelctl load v1.0.0")
	require.Equal(t, 1, code, "the test key is no longer trusted")
	require.Contains(t, errOut, "not signed by a trusted key")
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
	require.Contains(t, errOut, "changed after signing")

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
		code, out, _ := run(t, "model", sub, "-h")
		require.Equal(t, 0, code, sub)
		require.Contains(t, out, "Usage: sissim model "+sub+" [flags]", sub)
		require.Contains(t, out, "Flags:\n", sub)
	}
	code, _, errOut := run(t, "model")
	require.Equal(t, 2, code)
	require.Equal(t, "sissim model: missing command: keygen, train, pack, sign or verify (see 'sissim model help')\n", errOut)
	code, _, errOut = run(t, "model", "nope")
	require.Equal(t, 2, code)
	require.Equal(t, "sissim model: unknown command \"nope\" (see 'sissim model help')\n", errOut)
	code, _, errOut = run(t, "model", "keygen", "-bogus")
	require.Equal(t, 2, code)
	require.Equal(t, "sissim model keygen: flag provided but not defined: -bogus (see 'sissim model keygen -h')\n", errOut)

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
		{[]string{"keygen"}, "-out PREFIX is required"},
		{[]string{"keygen", "-seed", "y", "-out", p("k")}, "k.key exists; refusing to overwrite a key (-force overwrites it)"},
		{[]string{"pack", "-version", "v1"}, "-version and -out are required"},
		{[]string{"sign", "-key", p("k.key")}, "want DIR after the flags, got 0 argument(s) (see 'sissim model sign -h')"},
		{[]string{"train", "-hidden", "0"}, "-hidden"},
		{[]string{"train", "-activation", "sigmoid"}, "unknown activation"},
		{[]string{"train", "-samples", "0"}, "samples 0"},
		{[]string{"pack", "-model", p("missing.bin"), "-version", "v1", "-out", p("v1")}, "missing.bin"},
		{[]string{"pack", "-model", p("k.pub"), "-version", "v1", "-out", p("v1")}, "model.bin: "},
	} {
		code, _, errOut := run(t, append([]string{"model"}, c.args...)...)
		require.Equal(t, 2, code, "%v", c.args)
		require.Contains(t, errOut, c.want, "%v", c.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
	}
	// keygen keeps an existing key unless -force.
	key, err := os.ReadFile(p("k.key"))
	require.NoError(t, err)
	code, _, _ = run(t, "model", "keygen", "-seed", "y", "-out", p("k"))
	require.Equal(t, 2, code)
	after, err := os.ReadFile(p("k.key"))
	require.NoError(t, err)
	require.Equal(t, key, after, "the key is unchanged")
	require.NoError(t, os.Remove(p("k.pub")))
	code, _, _ = run(t, "model", "keygen", "-seed", "y", "-out", p("k"))
	require.Equal(t, 2, code, "one existing file of the pair is enough to refuse")
	_, err = os.Stat(p("k.pub"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing is written")
	code, _, errOut = run(t, "model", "keygen", "-seed", "y", "-out", p("k"), "-force")
	require.Equal(t, 0, code, errOut)
	after, err = os.ReadFile(p("k.key"))
	require.NoError(t, err)
	require.NotEqual(t, key, after, "-force writes the new key")

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
