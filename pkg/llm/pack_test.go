package llm_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/llm"
)

func testKey(phrase string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(phrase))
	return ed25519.NewKeyFromSeed(s[:])
}

// TestPackageRoundTrip: a package built to a size and context verifies
// with the signing key's public key and decodes to a model that answers
// as the built one; a size that needs pruning gives a smaller model.
func TestPackageRoundTrip(t *testing.T) {
	fs := afero.NewMemMapFs()
	key := testKey("k")
	m, pruned, err := llm.BuildSized(llm.Corpus, 512, 2048)
	require.NoError(t, err)
	require.Zero(t, pruned)
	man, err := llm.WritePackage(fs, "/models/llm/a", "a", m, 512, pruned, llm.Corpus, key)
	require.NoError(t, err)
	require.Equal(t, 2048, man.Ctx)
	require.LessOrEqual(t, man.Bytes, 512*1024)
	p, err := llm.VerifyPackage(fs, "/models/llm/a", "a", []ed25519.PublicKey{key.Public().(ed25519.PublicKey)})
	require.NoError(t, err)
	prompt := llm.Tokenize("what does the scheduler do")
	require.Equal(t, m.Generate(prompt, 32), p.Model.Generate(prompt, 32))
	require.Equal(t, llm.EncodeModel(m), llm.EncodeModel(p.Model))

	// 2 KB: the rarest n-grams go; the rest fits.
	small, pruned, err := llm.BuildSized(llm.Corpus, 2, 16)
	require.NoError(t, err)
	require.Positive(t, pruned)
	require.LessOrEqual(t, len(llm.EncodeModel(small)), 2048)
	require.Less(t, small.Trigrams, m.Trigrams)
	// Context 16: at most 16 tokens out.
	require.LessOrEqual(t, len(small.Generate(prompt, 100).Tokens), 16)
	// Too small for the vocabulary.
	_, _, err = llm.BuildSized(llm.Corpus, 1, 16)
	require.ErrorContains(t, err, "vocabulary")
}

// TestPackageTampered: any change to a signed package, or a key not
// trusted, is refused.
func TestPackageTampered(t *testing.T) {
	key := testKey("k")
	trusted := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	m, _, err := llm.BuildSized(llm.Corpus, 64, 128)
	require.NoError(t, err)
	for name, change := range map[string]func(afero.Fs){
		"model.bin": func(fs afero.Fs) {
			b, _ := afero.ReadFile(fs, "/p/model.bin")
			b[len(b)-1] ^= 1
			require.NoError(t, afero.WriteFile(fs, "/p/model.bin", b, 0o644))
		},
		"manifest.json": func(fs afero.Fs) {
			require.NoError(t, afero.WriteFile(fs, "/p/manifest.json", []byte(`{"format":"sis-llm-trigram/1"}`), 0o644))
		},
		"added file": func(fs afero.Fs) {
			require.NoError(t, afero.WriteFile(fs, "/p/extra", []byte("x"), 0o644))
		},
		"removed file": func(fs afero.Fs) { require.NoError(t, fs.Remove("/p/manifest.json")) },
		"untrusted key": func(fs afero.Fs) {
			_, err := llm.WritePackage(fs, "/p", "p", m, 64, 0, llm.Corpus, testKey("other"))
			require.NoError(t, err)
		},
	} {
		fs := afero.NewMemMapFs()
		_, err := llm.WritePackage(fs, "/p", "p", m, 64, 0, llm.Corpus, key)
		require.NoError(t, err)
		_, err = llm.VerifyPackage(fs, "/p", "p", trusted)
		require.NoError(t, err)
		change(fs)
		_, err = llm.VerifyPackage(fs, "/p", "p", trusted)
		require.Error(t, err, name)
	}
	// A package registered under another version is refused.
	fs := afero.NewMemMapFs()
	_, err = llm.WritePackage(fs, "/p", "p", m, 64, 0, llm.Corpus, key)
	require.NoError(t, err)
	_, err = llm.VerifyPackage(fs, "/p", "q", trusted)
	require.ErrorContains(t, err, "version")
}

// FuzzDecodeModel: any model.bin is decoded or refused, never a panic.
func FuzzDecodeModel(f *testing.F) {
	m, _, err := llm.BuildSized("the cat sat on the mat. the dog sat on the log.", 4, 8)
	require.NoError(f, err)
	f.Add(llm.EncodeModel(m))
	f.Add([]byte("SISLM1\n\x00\x02\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := llm.DecodeModel(b); err == nil {
			m.Generate([]string{"the"}, 8)
		}
	})
}
