package llm

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/model"
)

// A language-model package is a directory of the model registry
// (pkg/model) holding:
//
//   - model.bin: the model's tables (EncodeModel);
//   - manifest.json: what it is (Manifest);
//   - SHA256SUMS: the SHA-256 of those two files, as sha256sum prints them;
//   - model.sig: the hex Ed25519 signature of the SHA-256 of SHA256SUMS.
//
// The signature covers every file: a changed, added or removed file is
// refused.
const (
	BinFile      = "model.bin"
	ManifestFile = "manifest.json"
	SumsFile     = "SHA256SUMS"
	SigFile      = "model.sig"
	// PackageFormat names the package format in manifest.json.
	PackageFormat = "sis-llm-trigram/1"
	// MaxModelBytes bounds model.bin (and --size).
	MaxModelBytes = 16 << 20
	// MaxCtx bounds a model's context window.
	MaxCtx = 1 << 20
	// binMagic starts model.bin.
	binMagic = "SISLM1\n"
)

// Manifest is a language-model package's manifest.json.
type Manifest struct {
	Format  string `json:"format"`
	Version string `json:"version"`
	// SizeKB is the size model.bin was built to fit; Bytes its size.
	SizeKB int `json:"size_kb"`
	Bytes  int `json:"bytes"`
	// Ctx is the context window in tokens.
	Ctx      int `json:"ctx"`
	Vocab    int `json:"vocab"`
	Bigrams  int `json:"bigrams"`
	Trigrams int `json:"trigrams"`
	// Pruned counts the n-grams of the corpus left out to fit SizeKB.
	Pruned       int    `json:"pruned"`
	CorpusBytes  int    `json:"corpus_bytes"`
	CorpusSHA256 string `json:"corpus_sha256"`
	ModelSHA256  string `json:"model_sha256"`
}

// ngram is one table entry: context (a, b; a is unused for bigrams),
// successor c, count n.
type ngram struct{ a, b, c, n int }

// entries returns the model's n-grams in a fixed order.
func (m *Model) entries() (bi, tri []ngram) {
	for b, ss := range m.bi {
		for _, s := range ss {
			bi = append(bi, ngram{0, b, s.id, s.n})
		}
	}
	for k, ss := range m.tri {
		for _, s := range ss {
			tri = append(tri, ngram{k[0], k[1], s.id, s.n})
		}
	}
	less := func(x, y ngram) bool {
		if x.a != y.a {
			return x.a < y.a
		}
		if x.b != y.b {
			return x.b < y.b
		}
		return x.c < y.c
	}
	sort.Slice(bi, func(i, j int) bool { return less(bi[i], bi[j]) })
	sort.Slice(tri, func(i, j int) bool { return less(tri[i], tri[j]) })
	return bi, tri
}

// EncodeModel returns model.bin for m: the magic, the context window, the
// vocabulary (each token's length and bytes), then the bigram entries (b,
// c, count) and the trigram entries (a, b, c, count), all unsigned
// varints, in a fixed order.
func EncodeModel(m *Model) []byte {
	bi, tri := m.entries()
	return encode(m.vocab, m.Ctx, bi, tri)
}

func encode(vocab []string, ctx int, bi, tri []ngram) []byte {
	var b bytes.Buffer
	b.WriteString(binMagic)
	u := func(v int) { b.Write(binary.AppendUvarint(nil, uint64(v))) }
	u(ctx)
	u(len(vocab))
	for _, t := range vocab {
		u(len(t))
		b.WriteString(t)
	}
	u(len(bi))
	for _, e := range bi {
		u(e.b)
		u(e.c)
		u(e.n)
	}
	u(len(tri))
	for _, e := range tri {
		u(e.a)
		u(e.b)
		u(e.c)
		u(e.n)
	}
	return b.Bytes()
}

// uvarintLen returns the encoded size of v.
func uvarintLen(v int) int { return len(binary.AppendUvarint(nil, uint64(v))) }

// DecodeModel reads model.bin.
func DecodeModel(data []byte) (*Model, error) {
	if len(data) > MaxModelBytes {
		return nil, fmt.Errorf("%s: %d bytes, over %d", BinFile, len(data), MaxModelBytes)
	}
	if !bytes.HasPrefix(data, []byte(binMagic)) {
		return nil, fmt.Errorf("%s: not a language model (bad magic)", BinFile)
	}
	r := bytes.NewReader(data[len(binMagic):])
	var err error
	u := func(max int) int {
		if err != nil {
			return 0
		}
		v, e := binary.ReadUvarint(r)
		if e != nil {
			err = fmt.Errorf("%s: truncated", BinFile)
			return 0
		}
		if v > uint64(max) {
			err = fmt.Errorf("%s: value %d out of range (at most %d)", BinFile, v, max)
			return 0
		}
		return int(v)
	}
	m := &Model{ids: map[string]int{}, bi: map[int][]succ{}, tri: map[[2]int][]succ{}}
	m.Ctx = u(MaxCtx)
	n := u(len(data))
	for i := 0; i < n && err == nil; i++ {
		l := u(r.Len())
		tok := make([]byte, l)
		if _, e := io.ReadFull(r, tok); e != nil && err == nil {
			err = fmt.Errorf("%s: truncated", BinFile)
		}
		t := string(tok)
		if err == nil && (i > 0 && (!utf8.ValidString(t) || t == "" || m.ids[t] != 0)) {
			err = fmt.Errorf("%s: token %d is empty, not UTF-8 or repeated", BinFile, i)
		}
		if i > 0 {
			m.ids[t] = i
		}
		m.vocab = append(m.vocab, t)
	}
	if err == nil && n < 2 {
		err = fmt.Errorf("%s: empty vocabulary", BinFile)
	}
	bi := map[int]map[int]int{}
	tri := map[[2]int]map[int]int{}
	nb := u(r.Len())
	for i := 0; i < nb && err == nil; i++ {
		b, c, k := u(n-1), u(n-1), u(1<<40)
		if bi[b] == nil {
			bi[b] = map[int]int{}
		}
		bi[b][c] = k
	}
	nt := u(r.Len())
	for i := 0; i < nt && err == nil; i++ {
		a, b, c, k := u(n-1), u(n-1), u(n-1), u(1<<40)
		key := [2]int{a, b}
		if tri[key] == nil {
			tri[key] = map[int]int{}
		}
		tri[key][c] = k
	}
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%s: %d bytes after the tables", BinFile, r.Len())
	}
	if err != nil {
		return nil, err
	}
	for k, v := range bi {
		m.bi[k] = sortSucc(v)
		m.Bigrams += len(v)
	}
	for k, v := range tri {
		m.tri[k] = sortSucc(v)
		m.Trigrams += len(v)
	}
	return m, nil
}

// BuildSized builds the model of corpus with context window ctx whose
// model.bin fits in sizeKB KiB: when the whole model is larger, the
// rarest n-grams are left out (trigrams first, then bigrams; among equal
// counts the last in table order), and the count of those left out is
// returned. A vocabulary that alone does not fit is an error.
func BuildSized(corpus string, sizeKB, ctx int) (*Model, int, error) {
	if sizeKB < 1 || sizeKB*1024 > MaxModelBytes {
		return nil, 0, fmt.Errorf("llm: size must be 1..%d KB", MaxModelBytes/1024)
	}
	if ctx < 1 || ctx > MaxCtx {
		return nil, 0, fmt.Errorf("llm: context must be 1..%d tokens", MaxCtx)
	}
	full, err := Build(corpus)
	if err != nil {
		return nil, 0, err
	}
	full.Ctx = ctx
	limit := sizeKB * 1024
	bi, tri := full.entries()
	size := len(encode(full.vocab, ctx, bi, tri))
	if size <= limit {
		return full, 0, nil
	}
	// Drop entries, rarest first, until the encoding fits; the size of
	// each entry (and of the table counts) is known exactly.
	byRarity := func(es []ngram) []int {
		idx := make([]int, len(es))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool {
			if es[idx[i]].n != es[idx[j]].n {
				return es[idx[i]].n < es[idx[j]].n
			}
			return idx[i] > idx[j]
		})
		return idx
	}
	entrySize := func(e ngram, tri bool) int {
		s := uvarintLen(e.b) + uvarintLen(e.c) + uvarintLen(e.n)
		if tri {
			s += uvarintLen(e.a)
		}
		return s
	}
	pruned := 0
	drop := func(es []ngram, tri bool) []ngram {
		keep := make([]bool, len(es))
		for i := range keep {
			keep[i] = true
		}
		count := len(es)
		for _, i := range byRarity(es) {
			if size <= limit {
				break
			}
			keep[i] = false
			size -= entrySize(es[i], tri) + uvarintLen(count) - uvarintLen(count-1)
			count--
			pruned++
		}
		var out []ngram
		for i, e := range es {
			if keep[i] {
				out = append(out, e)
			}
		}
		return out
	}
	tri = drop(tri, true)
	bi = drop(bi, false)
	if size > limit {
		return nil, 0, fmt.Errorf("llm: the vocabulary of the corpus alone takes %d bytes, over --size %d KB", size, sizeKB)
	}
	m, err := DecodeModel(encode(full.vocab, ctx, bi, tri))
	if err != nil {
		return nil, 0, err
	}
	m.CorpusBytes = full.CorpusBytes
	return m, pruned, nil
}

// WritePackage writes the package of m (built from corpus) as version
// into dir of fsys, signed with key, and returns its manifest.
func WritePackage(fsys afero.Fs, dir, version string, m *Model, sizeKB, pruned int, corpus string, key ed25519.PrivateKey) (Manifest, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Manifest{}, errors.New("llm: no signing key")
	}
	bin := EncodeModel(m)
	ch := sha256.Sum256([]byte(corpus))
	mh := sha256.Sum256(bin)
	man := Manifest{Format: PackageFormat, Version: version, SizeKB: sizeKB, Bytes: len(bin), Ctx: m.Ctx,
		Vocab: m.VocabSize(), Bigrams: m.Bigrams, Trigrams: m.Trigrams, Pruned: pruned,
		CorpusBytes: len(corpus), CorpusSHA256: hex.EncodeToString(ch[:]), ModelSHA256: hex.EncodeToString(mh[:])}
	mj, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	files := map[string][]byte{BinFile: bin, ManifestFile: append(mj, '\n')}
	files[SumsFile], files[SigFile] = model.SignFiles(key, files)
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return Manifest{}, err
	}
	for _, name := range []string{BinFile, ManifestFile, SumsFile, SigFile} {
		if err := afero.WriteFile(fsys, path.Join(dir, name), files[name], 0o644); err != nil {
			return Manifest{}, err
		}
	}
	return man, nil
}

// Package is a verified language-model package.
type Package struct {
	Model    *Model
	Manifest Manifest
	// Hash is the hex SHA-256 of model.bin.
	Hash string
}

// VerifyPackage reads the package of version in dir of fsys and checks
// it: exactly the four files, SHA256SUMS matching the others, model.sig a
// signature of it by one of trusted, a manifest of this format and
// version that describes model.bin.
func VerifyPackage(fsys afero.Fs, dir, version string, trusted []ed25519.PublicKey) (*Package, error) {
	ents, err := afero.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	limits := map[string]int64{BinFile: MaxModelBytes, ManifestFile: 64 << 10, SumsFile: 4 << 10, SigFile: 1 << 10}
	files := map[string][]byte{}
	for _, e := range ents {
		lim, ok := limits[e.Name()]
		if !ok {
			return nil, fmt.Errorf("%s: not a file of a language-model package (added after signing?)", e.Name())
		}
		if !e.Mode().IsRegular() || e.Size() > lim {
			return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", e.Name(), lim)
		}
		b, err := readCorpusLimited(fsys, path.Join(dir, e.Name()), lim)
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	for name := range limits {
		if files[name] == nil {
			return nil, fmt.Errorf("%s: missing", name)
		}
	}
	sig, err := hex.DecodeString(strings.TrimSpace(string(files[SigFile])))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%s: not a hex Ed25519 signature", SigFile)
	}
	if !model.SignedBy(files[SumsFile], sig, trusted) {
		return nil, errors.New("signature verification failed: not signed by a trusted key")
	}
	want := model.Sums(map[string][]byte{BinFile: files[BinFile], ManifestFile: files[ManifestFile]})
	if !bytes.Equal(want, files[SumsFile]) {
		return nil, fmt.Errorf("%s does not match the files (changed after signing)", SumsFile)
	}
	var man Manifest
	if err := json.Unmarshal(files[ManifestFile], &man); err != nil {
		return nil, fmt.Errorf("%s: %v", ManifestFile, err)
	}
	mh := sha256.Sum256(files[BinFile])
	hash := hex.EncodeToString(mh[:])
	switch {
	case man.Format != PackageFormat:
		return nil, fmt.Errorf("%s: format %q, not %q", ManifestFile, man.Format, PackageFormat)
	case man.Version != version:
		return nil, fmt.Errorf("%s: version %q, not %q", ManifestFile, man.Version, version)
	case man.ModelSHA256 != hash:
		return nil, fmt.Errorf("%s: model_sha256 differs from %s's", ManifestFile, BinFile)
	}
	m, err := DecodeModel(files[BinFile])
	if err != nil {
		return nil, err
	}
	m.CorpusBytes = man.CorpusBytes
	if m.Ctx != man.Ctx {
		return nil, fmt.Errorf("%s: ctx %d, %s says %d", ManifestFile, man.Ctx, BinFile, m.Ctx)
	}
	return &Package{Model: m, Manifest: man, Hash: hash}, nil
}

// readCorpusLimited reads file name of fsys, at most limit bytes.
func readCorpusLimited(fsys afero.Fs, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: over %d bytes", name, limit)
	}
	return b, nil
}
