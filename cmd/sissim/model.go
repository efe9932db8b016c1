package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/sis"
)

const modelUsage = `Usage: sissim model <command> [flags]

Host tooling for SIS model packages (docs/model.md):
  keygen  -out PREFIX [-seed PHRASE] [-force]
                                         write an Ed25519 key pair PREFIX.key, PREFIX.pub
  train   -out model.bin [-info F] [flags] train an MLP on synthetic telemetry
  pack    -model model.bin -version V -out DIR [-info F] [-test-seed N] [-test-size N]
                                         write a package: model.bin, manifest.json, health.json
  sign    -key PREFIX.key DIR            write DIR/SHA256SUMS and DIR/model.sig (signing every file)
  verify  -pub PREFIX.pub DIR            verify a package and run its health checks

Run 'sissim model <command> -h' for the flags.
`

// cmdModel runs `sissim model ...`.
func cmdModel(argv []string, stdout, stderr io.Writer) int {
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "sissim model: missing command: keygen, train, pack, sign or verify (see 'sissim model help')")
		return 2
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"keygen": modelKeygen, "train": modelTrain, "pack": modelPack,
		"sign": modelSign, "verify": modelVerify,
	}
	switch argv[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, modelUsage)
		return 0
	}
	run, ok := cmds[argv[0]]
	if !ok {
		fmt.Fprintf(stderr, "sissim model: unknown command %q (see 'sissim model help')\n", argv[0])
		return 2
	}
	if err := run(argv[1:], stdout, stderr); err != nil {
		var done flagsDone
		if errors.As(err, &done) {
			return done.code
		}
		fmt.Fprintf(stderr, "sissim model %s: %v\n", argv[0], strings.ReplaceAll(err.Error(), "\n", " "))
		return 2
	}
	return 0
}

// flagsDone ends a model command after parseModelFlags printed the help
// (code 0) or a one-line error (code 2).
type flagsDone struct{ code int }

func (f flagsDone) Error() string { return "flags" }

// parseModelFlags parses the flags of `sissim model NAME` and checks that
// nargs arguments (named args in the synopsis) follow them.
func parseModelFlags(fs *flag.FlagSet, argv []string, args string, nargs int, stdout, stderr io.Writer) error {
	name := "sissim model " + fs.Name()
	if ok, code := parseFlags(fs, argv, strings.TrimSpace(name+" [flags] "+args), stdout, stderr); !ok {
		return flagsDone{code}
	}
	if fs.NArg() != nargs {
		want := "no arguments"
		if nargs > 0 {
			want = args
		}
		return fmt.Errorf("want %s after the flags, got %d argument(s) (see '%s -h')", want, fs.NArg(), name)
	}
	return nil
}

func modelKeygen(argv []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("out", "", "write the key pair to `PREFIX`.key and PREFIX.pub")
	seed := fs.String("seed", "", "derive the key from this `phrase` (reproducible test keys; anyone knowing the phrase can sign)")
	force := fs.Bool("force", false, "overwrite existing key files")
	if err := parseModelFlags(fs, argv, "", 0, stdout, stderr); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out PREFIX is required (see 'sissim model keygen -h')")
	}
	files := []string{*out + ".key", *out + ".pub"}
	if !*force {
		for _, f := range files {
			if _, err := os.Lstat(f); err == nil {
				return fmt.Errorf("%s exists; refusing to overwrite a key (-force overwrites it)", f)
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	var key ed25519.PrivateKey
	if *seed != "" {
		key = model.KeyFromSeed(*seed)
	} else {
		var err error
		if _, key, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return err
		}
	}
	if err := writeKeyFile(files[0], model.EncodePrivateKey(key), 0o600, *force); err != nil {
		return err
	}
	if err := writeKeyFile(files[1], model.EncodePublicKey(key.Public().(ed25519.PublicKey)), 0o644, *force); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s.key and %s.pub\n", *out, *out)
	return nil
}

// writeKeyFile writes a key file, refusing to replace an existing file
// unless force.
func writeKeyFile(name string, data []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(name, flags, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists; refusing to overwrite a key (-force overwrites it)", name)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func modelTrain(argv []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	d := model.DefaultTrainConfig
	out := fs.String("out", "model.bin", "write the model to `file`")
	info := fs.String("info", "", "write the training record (JSON, for pack -info) to `file`")
	seed := fs.Uint64("seed", d.Seed, "random `seed` (initial weights, samples, order)")
	samples := fs.Int("samples", d.Samples, "synthetic training `samples`")
	epochs := fs.Int("epochs", d.Epochs, "training `epochs`")
	hidden := fs.String("hidden", "16,16", "hidden layer `sizes`, comma-separated")
	act := fs.String("activation", d.Activation.String(), "hidden activation: relu or tanh")
	lr := fs.Float64("lr", float64(d.LearningRate), "initial learning `rate`")
	widen := fs.Int("widen", 0, "pad hidden layers to `N` zero-weight neurons after training (a slower, equivalent model)")
	if err := parseModelFlags(fs, argv, "", 0, stdout, stderr); err != nil {
		return err
	}
	cfg := model.TrainConfig{Seed: *seed, Samples: *samples, Epochs: *epochs, LearningRate: float32(*lr), Widen: *widen}
	var err error
	if cfg.Activation, err = model.ParseActivation(*act); err != nil {
		return err
	}
	for _, s := range strings.Split(*hidden, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-hidden %q: want positive sizes, comma-separated", *hidden)
		}
		cfg.Hidden = append(cfg.Hidden, n)
	}
	m, ti, err := model.Train(cfg)
	if err != nil {
		return err
	}
	bin, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, bin, 0o644); err != nil {
		return err
	}
	if *info != "" {
		b, _ := json.MarshalIndent(ti, "", "  ")
		if err := os.WriteFile(*info, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "trained %v: %d parameters, train accuracy %.2f%%, estimated inference cost %v; wrote %s\n",
		m.Sizes, m.Params(), ti.TrainAccuracy*100, m.Cost(), *out)
	return nil
}

func modelPack(argv []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	bin := fs.String("model", "model.bin", "the model `file`")
	info := fs.String("info", "", "training record `file` (from train -info) for the manifest")
	version := fs.String("version", "", "package `version` (v1.0.0)")
	out := fs.String("out", "", "package `directory` to write")
	desc := fs.String("desc", "", "manifest `description`")
	testSeed := fs.Uint64("test-seed", 1000, "`seed` of the health test set (keep it apart from training seeds)")
	testSize := fs.Int("test-size", 200, "`number` of health test inputs")
	if err := parseModelFlags(fs, argv, "", 0, stdout, stderr); err != nil {
		return err
	}
	if *version == "" || *out == "" {
		return errors.New("-version and -out are required (see 'sissim model pack -h')")
	}
	if *testSize < 1 || *testSize > model.MaxHealthCases {
		return fmt.Errorf("-test-size %d: want 1..%d", *testSize, model.MaxHealthCases)
	}
	b, err := os.ReadFile(*bin)
	if err != nil {
		return err
	}
	m, err := model.Decode(b)
	if err != nil {
		return err
	}
	var ti *model.TrainInfo
	if *info != "" {
		ib, err := os.ReadFile(*info)
		if err != nil {
			return err
		}
		ti = new(model.TrainInfo)
		if err := json.Unmarshal(ib, ti); err != nil {
			return fmt.Errorf("%s: %v", *info, err)
		}
	}
	if err := model.WritePackage(*out, *version, *desc, m, ti, model.Dataset(*testSeed, *testSize), nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "packed %s in %s (unsigned: run sissim model sign)\n", *version, *out)
	return nil
}

func modelSign(argv []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	keyFile := fs.String("key", "", "private key `file` (from keygen)")
	if err := parseModelFlags(fs, argv, "DIR", 1, stdout, stderr); err != nil {
		return err
	}
	if *keyFile == "" {
		return errors.New("-key is required (a private key file from sissim model keygen)")
	}
	kb, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	key, err := model.ParsePrivateKey(kb)
	if err != nil {
		return fmt.Errorf("%s: %v", *keyFile, err)
	}
	dir := fs.Arg(0)
	bin, err := os.ReadFile(filepath.Join(dir, model.ModelFile))
	if err != nil {
		return err
	}
	if _, err := model.Decode(bin); err != nil {
		return fmt.Errorf("refusing to sign %s: %v", dir, err)
	}
	// Signing a model.bin the manifest does not describe would give a
	// package every machine refuses.
	mb, err := os.ReadFile(filepath.Join(dir, model.ManifestFile))
	if err != nil {
		return fmt.Errorf("refusing to sign %s: %v (run sissim model pack first)", dir, err)
	}
	var man model.Manifest
	if err := json.Unmarshal(mb, &man); err != nil {
		return fmt.Errorf("refusing to sign %s: %s: %v", dir, model.ManifestFile, err)
	}
	if h := model.HashHex(bin); !strings.EqualFold(man.ModelSHA256, h) {
		return fmt.Errorf("refusing to sign %s: %s names sha256 %q but model.bin has %s (run sissim model pack again)", dir, model.ManifestFile, man.ModelSHA256, h)
	}
	// The signature covers every file of the package.
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > model.MaxPackageFiles {
		return fmt.Errorf("refusing to sign %s: %d files; a package has at most %d", dir, len(ents), model.MaxPackageFiles)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		if e.Name() == model.SigFile || e.Name() == model.SumsFile {
			continue
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("refusing to sign %s: %s is not a regular file", dir, e.Name())
		}
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	sums, sig := model.SignFiles(key, files)
	if err := os.WriteFile(filepath.Join(dir, model.SumsFile), sums, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, model.SigFile), sig, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed %s (%d files; model.bin sha256 %s)\n", dir, len(files), model.HashHex(bin))
	return nil
}

func modelVerify(argv []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	pubFile := fs.String("pub", "", "trusted public key `file` (from keygen)")
	if err := parseModelFlags(fs, argv, "DIR", 1, stdout, stderr); err != nil {
		return err
	}
	if *pubFile == "" {
		return errors.New("-pub is required (the trusted public key file, from sissim model keygen)")
	}
	pb, err := os.ReadFile(*pubFile)
	if err != nil {
		return err
	}
	pub, err := model.ParsePublicKey(pb)
	if err != nil {
		return fmt.Errorf("%s: %v", *pubFile, err)
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	p, err := model.ReadPackage(afero.NewOsFs(), dir)
	if err != nil {
		return err
	}
	m, err := p.Verify(filepath.Base(dir), []ed25519.PublicKey{pub})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: signature OK, sha256 %s, layers %v\n", p.Manifest.Version, p.Hash(), m.Sizes)
	// The latencies are measured on a deterministic machine booted for
	// the check, as a machine's health check measures them.
	sys, err := sis.Boot(sis.BootConfig{})
	if err != nil {
		return fmt.Errorf("a machine for the health check: %w", err)
	}
	defer sys.Close()
	rep := model.RunHealth(&model.Loaded{Version: p.Manifest.Version, Hash: p.Hash(), Model: m, Manifest: p.Manifest, Health: p.Health},
		model.DefaultLimits, model.Clock{Now: sys.Now, Bench: sys.ModelBench()})
	model.WriteChecks(stdout, rep)
	if !rep.Passed() {
		return &model.HealthError{Report: rep}
	}
	return nil
}

// keyFlag collects repeated --trust-key flags: Ed25519 public key files
// (as `sissim model keygen` writes them).
type keyFlag struct {
	files []string
	keys  []ed25519.PublicKey
}

func (f *keyFlag) String() string { return strings.Join(f.files, ",") }

// Set reads and parses the key file v.
func (f *keyFlag) Set(v string) error {
	b, err := os.ReadFile(v)
	if err != nil {
		return err
	}
	k, err := model.ParsePublicKey(b)
	if err != nil {
		return fmt.Errorf("%s: %w", v, err)
	}
	f.files, f.keys = append(f.files, v), append(f.keys, k)
	return nil
}

// trustKeyVar adds the repeatable --trust-key flag to fs.
func trustKeyVar(fs *flag.FlagSet) *keyFlag {
	var k keyFlag
	fs.Var(&k, "trust-key", "trust model packages signed with the Ed25519 public key in `FILE` (from 'sissim model keygen'; repeatable)\ninstead of the built-in test key")
	return &k
}
