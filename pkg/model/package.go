package model

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"
)

// Package file names: a model package is a directory holding these.
// SumsFile lists the SHA-256 of every other file of the package (as
// sha256sum prints them: "<hex>  <name>", sorted by name), and SigFile
// holds the Ed25519 signature of SumsFile's SHA-256: the signature covers
// every file, so changing, adding or removing any file is refused.
const (
	ModelFile    = "model.bin"
	SigFile      = "model.sig"
	SumsFile     = "SHA256SUMS"
	ManifestFile = "manifest.json"
	HealthFile   = "health.json"
)

// Limits on package files, checked before reading them whole.
const (
	MaxModelFile    = maxHeaderSize + 4*MaxParams
	MaxManifestFile = 64 << 10
	MaxHealthFile   = 4 << 20
	MaxSigFile      = 1 << 10
	MaxHealthCases  = 10000
	MaxSumsFile     = 4 << 10
	// MaxPackageFiles bounds the files of a package directory.
	MaxPackageFiles = 16
)

// Manifest is a package's manifest.json.
type Manifest struct {
	Version     string     `json:"version"`
	Format      int        `json:"format"`
	ModelSHA256 string     `json:"model_sha256"`
	Layers      []int      `json:"layers"`
	Activation  string     `json:"activation"`
	Params      int        `json:"params"`
	CostNS      int64      `json:"inference_cost_ns"`
	Description string     `json:"description,omitempty"`
	Training    *TrainInfo `json:"training,omitempty"`
}

// TrainInfo records how a model was trained (sissim model train).
type TrainInfo struct {
	Seed          uint64  `json:"seed"`
	Samples       int     `json:"samples"`
	Epochs        int     `json:"epochs"`
	LearningRate  float64 `json:"learning_rate"`
	TrainAccuracy float64 `json:"train_accuracy"`
	Policy        string  `json:"policy"`
}

// HealthSet is a package's health.json: known test inputs and the
// actions expected for them.
type HealthSet struct {
	Inputs   [][]float32 `json:"inputs"`
	Expected []int       `json:"expected"`
}

// Package is a model package read from a directory.
type Package struct {
	Dir      string
	Manifest Manifest
	Bin      []byte // model.bin
	Sig      []byte // the decoded Ed25519 signature
	Sums     []byte // SHA256SUMS
	Health   HealthSet
	// Files are the hex SHA-256 of every file of the directory but
	// model.sig and SHA256SUMS, by name, as read.
	Files map[string]string
}

// Hash returns the hex SHA-256 of model.bin.
func (p *Package) Hash() string { return HashHex(p.Bin) }

// HashHex returns the hex SHA-256 of b.
func HashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ValidVersion checks a model version name: 1..64 characters of letters,
// digits and ._+-, starting with a letter or digit, with no "..", and not
// one of the registry's own names.
func ValidVersion(v string) error {
	if v == "" || len(v) > 64 {
		return fmt.Errorf("invalid model version %q: want 1..64 characters", v)
	}
	for i, c := range v {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i > 0 {
			ok = ok || c == '.' || c == '_' || c == '+' || c == '-'
		}
		if !ok {
			return fmt.Errorf("invalid model version %q: only letters, digits and ._+- (starting with a letter or digit)", v)
		}
	}
	if strings.Contains(v, "..") {
		return fmt.Errorf("invalid model version %q: contains \"..\"", v)
	}
	switch v {
	case "active", "shadow", "registry.json", "history.jsonl":
		return fmt.Errorf("invalid model version %q: reserved name", v)
	}
	return nil
}

// openRegular opens file name of fsys for reading, refusing anything but
// a regular file before opening it (opening a FIFO can block for good, a
// device can be read forever) and again after (in case it was replaced).
func openRegular(fsys afero.Fs, name string) (afero.File, fs.FileInfo, error) {
	fi, err := fsys.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if err := regular(name, fi); err != nil {
		return nil, nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err == nil {
		err = regular(name, fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// regular fails unless fi describes a regular file.
func regular(name string, fi fs.FileInfo) error {
	switch {
	case fi.IsDir():
		return &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	case !fi.Mode().IsRegular():
		return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("not a regular file (%s)", fileKind(fi.Mode()))}
	}
	return nil
}

// fileKind names a file type for errors.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "irregular file"
}

// readLimited reads the regular file name of fsys, refusing files over
// limit bytes (and reading at most limit+1 bytes whatever the file says).
func readLimited(fsys afero.Fs, name string, limit int64) ([]byte, error) {
	f, fi, err := openRegular(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%d bytes; the limit is %d", fi.Size(), limit)}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("over %d bytes", limit)}
	}
	return b, nil
}

// readModelBin reads a model.bin of fsys, checking its header and that
// the file has the size the header's layer sizes imply before reading it
// whole (a file of the wrong size is refused without reading it). Its
// errors name model.bin.
func readModelBin(fsys afero.Fs, name string) ([]byte, error) {
	f, fi, err := openRegular(fsys, name)
	if err != nil {
		return nil, missing(ModelFile, err)
	}
	defer f.Close()
	head := make([]byte, min(fi.Size(), maxHeaderSize))
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, missing(ModelFile, err)
	}
	sizes, _, want, err := decodeHeader(head)
	if err != nil {
		return nil, err
	}
	if fi.Size() != int64(want) {
		return nil, fmt.Errorf("model.bin: %d bytes; the layer sizes %v need %d", fi.Size(), sizes, want)
	}
	b := make([]byte, want)
	copy(b, head)
	if _, err := io.ReadFull(f, b[len(head):]); err != nil {
		return nil, missing(ModelFile, err)
	}
	return b, nil
}

// ReadPackage reads the package in directory dir of fsys, parses its
// manifest, signature and health set and hashes every file (it checks
// neither the signature nor model.bin's format: see Verify).
func ReadPackage(fsys afero.Fs, dir string) (*Package, error) {
	p := &Package{Dir: dir}
	var err error
	if p.Bin, err = readModelBin(fsys, path.Join(dir, ModelFile)); err != nil {
		return nil, err
	}
	sb, err := readLimited(fsys, path.Join(dir, SigFile), MaxSigFile)
	if err != nil {
		return nil, missing(SigFile, err)
	}
	if p.Sig, err = hex.DecodeString(strings.TrimSpace(string(sb))); err != nil || len(p.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%s: not a hex Ed25519 signature (%d hex digits)", SigFile, 2*ed25519.SignatureSize)
	}
	if p.Sums, err = readLimited(fsys, path.Join(dir, SumsFile), MaxSumsFile); err != nil {
		return nil, missing(SumsFile, err)
	}
	mb, err := readLimited(fsys, path.Join(dir, ManifestFile), MaxManifestFile)
	if err != nil {
		return nil, missing(ManifestFile, err)
	}
	if err := json.Unmarshal(mb, &p.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %v", ManifestFile, err)
	}
	hb, err := readLimited(fsys, path.Join(dir, HealthFile), MaxHealthFile)
	if err != nil {
		return nil, missing(HealthFile, err)
	}
	if err := json.Unmarshal(hb, &p.Health); err != nil {
		return nil, fmt.Errorf("%s: %v", HealthFile, err)
	}
	if err := p.Health.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", HealthFile, err)
	}
	// The files are hashed as they were read and parsed, so what is
	// checked against SHA256SUMS is what is used.
	read := map[string][]byte{ModelFile: p.Bin, ManifestFile: mb, HealthFile: hb}
	if p.Files, err = hashFiles(fsys, dir, read); err != nil {
		return nil, err
	}
	return p, nil
}

// hashFiles returns the hex SHA-256 of every file in dir but model.sig
// and SHA256SUMS (read contains those already read), refusing anything
// but regular files and directories of more than MaxPackageFiles files.
func hashFiles(fsys afero.Fs, dir string, read map[string][]byte) (map[string]string, error) {
	ents, err := afero.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	if len(ents) > MaxPackageFiles {
		return nil, fmt.Errorf("%d files; a package has at most %d", len(ents), MaxPackageFiles)
	}
	out := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		if name == SigFile || name == SumsFile {
			continue
		}
		b, ok := read[name]
		if !ok {
			if b, err = readLimited(fsys, path.Join(dir, name), MaxHealthFile); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		out[name] = HashHex(b)
	}
	return out, nil
}

// Sums returns the content of SHA256SUMS for files (name -> content).
func Sums(files map[string][]byte) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", HashHex(files[n]), n)
	}
	return []byte(b.String())
}

// checkSums checks that p's SHA256SUMS lists exactly the files read, with
// their hashes.
func (p *Package) checkSums() error {
	listed := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(p.Sums), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" || listed[name] != "" {
			return fmt.Errorf("%s: line %d is not \"<sha256>  <file>\" (or names a file twice)", SumsFile, i+1)
		}
		listed[name] = strings.ToLower(sum)
	}
	for name, sum := range p.Files {
		switch want, ok := listed[name]; {
		case !ok:
			return fmt.Errorf("%s is not in %s: a file added after signing", name, SumsFile)
		case want != sum:
			return fmt.Errorf("%s: sha256 %s, %s says %s (changed after signing)", name, sum, SumsFile, want)
		}
	}
	for name := range listed {
		if _, ok := p.Files[name]; !ok {
			return fmt.Errorf("%s lists %s, which is missing", SumsFile, name)
		}
	}
	return nil
}

func missing(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: missing", name)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func (h *HealthSet) check() error {
	if len(h.Inputs) == 0 {
		return errors.New("no test inputs")
	}
	if len(h.Inputs) > MaxHealthCases {
		return fmt.Errorf("%d test inputs; the limit is %d", len(h.Inputs), MaxHealthCases)
	}
	if len(h.Inputs) != len(h.Expected) {
		return fmt.Errorf("%d inputs but %d expected actions", len(h.Inputs), len(h.Expected))
	}
	for i, in := range h.Inputs {
		if len(in) != NumFeatures {
			return fmt.Errorf("input %d has %d features; want %d", i, len(in), NumFeatures)
		}
		if a := h.Expected[i]; a < 0 || a >= NumActions {
			return fmt.Errorf("expected action %d of input %d out of range", a, i)
		}
	}
	return nil
}

// Verify checks the package against the trusted keys and returns its
// decoded model: the signature must be a trusted key's Ed25519 signature
// of the SHA-256 of SHA256SUMS, which must list every other file with its
// SHA-256; the manifest must name version (when not "") and model.bin's
// SHA-256; and model.bin must decode to a model with NumFeatures inputs
// and NumActions outputs.
func (p *Package) Verify(version string, trusted []ed25519.PublicKey) (*Model, error) {
	if err := p.verifySignature(trusted); err != nil {
		return nil, err
	}
	if version != "" && p.Manifest.Version != version {
		return nil, fmt.Errorf("manifest names version %q, not %q", p.Manifest.Version, version)
	}
	digest := sha256.Sum256(p.Bin)
	if got := hex.EncodeToString(digest[:]); !strings.EqualFold(got, p.Manifest.ModelSHA256) {
		return nil, fmt.Errorf("hash mismatch: model.bin has sha256 %s, manifest says %q (tampered?)", got, p.Manifest.ModelSHA256)
	}
	m, err := Decode(p.Bin)
	if err != nil {
		return nil, err
	}
	if m.Inputs() != NumFeatures || m.Outputs() != NumActions {
		return nil, fmt.Errorf("model has %d inputs and %d outputs; the kernel needs %d and %d", m.Inputs(), m.Outputs(), NumFeatures, NumActions)
	}
	return m, nil
}

// verifySignature checks that SHA256SUMS is signed by a trusted key and
// lists every file of the package with its SHA-256.
func (p *Package) verifySignature(trusted []ed25519.PublicKey) error {
	if len(trusted) == 0 {
		return errors.New("signature: no trusted keys")
	}
	if !SignedBy(p.Sums, p.Sig, trusted) {
		return errors.New("signature verification failed: SHA256SUMS is not signed by a trusted key (tampered?)")
	}
	return p.checkSums()
}

// SignedBy reports whether sig (raw Ed25519) signs sums (a package's
// SHA256SUMS) by one of trusted.
func SignedBy(sums, sig []byte, trusted []ed25519.PublicKey) bool {
	digest := sha256.Sum256(sums)
	for _, k := range trusted {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, digest[:], sig) {
			return true
		}
	}
	return false
}

// Sign returns the hex Ed25519 signature of the SHA-256 of sums (a
// package's SHA256SUMS), the content of model.sig.
func Sign(key ed25519.PrivateKey, sums []byte) []byte {
	digest := sha256.Sum256(sums)
	return []byte(hex.EncodeToString(ed25519.Sign(key, digest[:])) + "\n")
}

// SignFiles returns SHA256SUMS and model.sig for the files of a package
// (name -> content; model.sig and SHA256SUMS excluded).
func SignFiles(key ed25519.PrivateKey, files map[string][]byte) (sums, sig []byte) {
	sums = Sums(files)
	return sums, Sign(key, sums)
}

// KeyFromSeed derives a key pair from a seed phrase (its SHA-256 is the
// Ed25519 seed), so test keys can be regenerated.
func KeyFromSeed(phrase string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(phrase))
	return ed25519.NewKeyFromSeed(s[:])
}

// EncodePublicKey returns the text form of a public key: hex and a newline.
func EncodePublicKey(k ed25519.PublicKey) []byte {
	return []byte(hex.EncodeToString(k) + "\n")
}

// ParsePublicKey parses the text form of a public key (a private key file
// is refused: it has twice the digits).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("not a hex Ed25519 public key (%d hex digits)", 2*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(k), nil
}

// EncodePrivateKey returns the text form of a private key: the hex of
// its 64 bytes (seed, then public key) and a newline, so that it cannot be
// mistaken for a public key.
func EncodePrivateKey(k ed25519.PrivateKey) []byte {
	return []byte(hex.EncodeToString(k) + "\n")
}

// ParsePrivateKey parses the text form of a private key and checks that
// its public half belongs to its seed.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	s, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(s) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("not a hex Ed25519 private key (%d hex digits)", 2*ed25519.PrivateKeySize)
	}
	k := ed25519.NewKeyFromSeed(s[:ed25519.SeedSize])
	if !k.Equal(ed25519.PrivateKey(s)) {
		return nil, errors.New("corrupt Ed25519 private key: its public half does not match its seed")
	}
	return k, nil
}

// WritePackage writes a package directory on the host: model.bin,
// manifest.json (filled from the model), health.json and, when key is not
// nil, model.sig.
func WritePackage(dir, version, description string, m *Model, train *TrainInfo, health HealthSet, key ed25519.PrivateKey) error {
	if err := ValidVersion(version); err != nil {
		return err
	}
	bin, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	man := Manifest{
		Version: version, Format: FormatVersion, ModelSHA256: HashHex(bin),
		Layers: m.Sizes, Activation: m.Activation.String(), Params: m.Params(),
		CostNS: int64(m.Cost()), Description: description, Training: train,
	}
	mj, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	hj, err := json.Marshal(health)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	type file struct {
		name string
		b    []byte
	}
	// A fixed order: an error leaves the same files behind every time.
	files := []file{{ModelFile, bin}, {ManifestFile, append(mj, '\n')}, {HealthFile, append(hj, '\n')}}
	if key != nil {
		sums, sig := SignFiles(key, map[string][]byte{ModelFile: bin, ManifestFile: files[1].b, HealthFile: files[2].b})
		files = append(files, file{SumsFile, sums}, file{SigFile, sig})
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
