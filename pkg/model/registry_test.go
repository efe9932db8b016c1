package model

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

const testdata = "../../testdata/models"

// testKey signs the packages the tests build themselves.
var testKey = KeyFromSeed("pkg/model tests")

// newFS returns a VFS with the testdata packages under /models.
func newFS(t testing.TB) afero.Fs {
	t.Helper()
	root, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	fsys := root.Afero()
	require.NoError(t, copyPackages(fsys, "/models"))
	return fsys
}

func copyPackages(fsys afero.Fs, dir string) error {
	src := filepath.Join(testdata, "packages")
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := path.Join(dir, filepath.ToSlash(rel))
		if d.IsDir() {
			return fsys.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return afero.WriteFile(fsys, dst, b, 0o644)
	})
}

func trustedKeys(t testing.TB) []ed25519.PublicKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "trusted.pub"))
	require.NoError(t, err)
	k, err := ParsePublicKey(b)
	require.NoError(t, err)
	return []ed25519.PublicKey{k, testKey.Public().(ed25519.PublicKey)}
}

func openReg(t testing.TB, fsys afero.Fs) *Registry {
	t.Helper()
	r, err := Open(Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: func() time.Duration { return 42 * time.Millisecond },
		Epoch: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	require.NoError(t, err)
	return r
}

// snapshot returns registry.json and the symlink targets.
func snapshot(t testing.TB, fsys afero.Fs) string {
	t.Helper()
	b, err := afero.ReadFile(fsys, "/models/registry.json")
	if errors.Is(err, fs.ErrNotExist) {
		b = nil
	} else {
		require.NoError(t, err)
	}
	sl := fsys.(afero.Symlinker)
	a, _ := sl.ReadlinkIfPossible("/models/active")
	s, _ := sl.ReadlinkIfPossible("/models/shadow")
	return fmt.Sprintf("%s|active=%s|shadow=%s", b, a, s)
}

func TestLifecycle(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	require.Nil(t, r.Active())

	l, err := r.Load("v1.0.0")
	require.NoError(t, err)
	require.Nil(t, r.Active(), "load does not activate")
	require.Equal(t, 42*time.Millisecond, l.LoadedAt)
	e, _ := r.Entry("v1.0.0")
	require.Equal(t, "2026-01-02T03:04:05.042Z", e.LoadedAt, "registry.json records the wall time of the load")
	b, _ := afero.ReadFile(fsys, "/models/v1.0.0/model.bin")
	require.Equal(t, HashHex(b), l.Hash)

	_, err = r.Swap("v1.0.0")
	require.NoError(t, err)
	require.Equal(t, "v1.0.0", r.Active().Version)
	_, err = r.Swap("v1.1.0")
	require.NoError(t, err)
	a, s, rb := r.Status()
	require.Equal(t, []string{"v1.1.0", "", "v1.0.0"}, []string{a, s, rb})
	target, err := fsys.(afero.Symlinker).ReadlinkIfPossible("/models/active")
	require.NoError(t, err)
	require.Equal(t, "v1.1.0/", target)
	// The symlink leads to the package.
	_, err = fsys.Stat("/models/active/model.bin")
	require.NoError(t, err)

	require.ErrorIs(t, r.Remove("v1.1.0"), linux.EBUSY)

	require.NoError(t, r.SetShadow("v1.0.0"))
	require.Equal(t, "v1.0.0", r.Shadow().Version)
	require.ErrorIs(t, r.Remove("v1.0.0"), linux.EBUSY)
	require.NoError(t, r.Promote())
	a, s, rb = r.Status()
	require.Equal(t, []string{"v1.0.0", "", "v1.1.0"}, []string{a, s, rb})
	require.Nil(t, r.Shadow())

	from, to, err := r.Rollback()
	require.NoError(t, err)
	require.Equal(t, "v1.0.0", from)
	require.Equal(t, "v1.1.0", to)
	require.Equal(t, "v1.1.0", r.Active().Version)
	_, _, err = r.Rollback()
	require.ErrorContains(t, err, "no rollback model")

	require.NoError(t, r.Remove("v1.0.0"))
	_, err = fsys.Stat("/models/v1.0.0")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, ok := r.Entry("v1.0.0")
	require.False(t, ok)

	evs, err := r.History(0)
	require.NoError(t, err)
	var names []string
	for i, ev := range evs {
		require.Equal(t, uint64(i+1), ev.Seq)
		names = append(names, ev.Event)
	}
	require.Equal(t, []string{"load", "swap", "swap", "shadow", "promote", "rollback", "remove"}, names)
}

func TestRefusedPackagesLeaveRegistryUnchanged(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	_, err := r.Swap("v1.0.0")
	require.NoError(t, err)

	// Unsigned: a copy of v1.1.0 without model.sig.
	require.NoError(t, copyDir(fsys, "/models/v1.1.0", "/models/unsigned"))
	require.NoError(t, fsys.Remove("/models/unsigned/model.sig"))
	fixManifestVersion(t, fsys, "unsigned")
	// Signed by a trusted key but for another model.bin.
	require.NoError(t, copyDir(fsys, "/models/v1.1.0", "/models/wrongsig"))
	sig, _ := afero.ReadFile(fsys, "/models/v1.0.0/model.sig")
	require.NoError(t, afero.WriteFile(fsys, "/models/wrongsig/model.sig", sig, 0o644))
	fixManifestVersion(t, fsys, "wrongsig")

	before := snapshot(t, fsys)
	histBefore, _ := r.History(0)
	for v, reason := range map[string]string{
		"v1.4.0-badsig":   "signature verification failed: SHA256SUMS is not signed by a trusted key",
		"v1.5.0-tampered": "model.bin: sha256 ",
		"unsigned":        "model.sig: missing",
		"wrongsig":        "signature verification failed",
		"nonexistent":     "no package at /models/nonexistent",
		"../v1.0.0":       "invalid model version",
		"a/b":             "invalid model version",
	} {
		for op, f := range map[string]func() error{
			"load":     func() error { _, err := r.Load(v); return err },
			"swap":     func() error { _, err := r.Swap(v); return err },
			"shadow":   func() error { return r.SetShadow(v) },
			"dry-swap": func() error { _, err := r.DrySwap(v); return err },
		} {
			err := f()
			require.ErrorContains(t, err, reason, "%s %s", op, v)
			require.Equal(t, before, snapshot(t, fsys), "%s %s changed the registry", op, v)
			require.Equal(t, "v1.0.0", r.Active().Version)
		}
	}
	hist, _ := r.History(0)
	require.Equal(t, histBefore, hist)
}

func TestFailingHealthIsNeverActivated(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	_, err := r.Swap("v1.0.0")
	require.NoError(t, err)
	for v, c := range map[string]struct {
		errno linux.Errno
		check string
	}{
		"v1.2.0-undertrained": {linux.EINVAL, "accuracy"},
		"v1.3.0-slow":         {linux.ETIMEDOUT, "latency"},
	} {
		rep, err := r.DrySwap(v)
		require.ErrorIs(t, err, c.errno)
		require.False(t, rep.Passed())
		_, err = r.Swap(v)
		require.ErrorIs(t, err, c.errno, v)
		var he *HealthError
		require.ErrorAs(t, err, &he)
		require.Contains(t, he.Report.Failure(), c.check)
		require.Equal(t, "v1.0.0", r.Active().Version)
		e, ok := r.Entry(v)
		require.True(t, ok)
		require.Equal(t, StatusFailed, e.Status)
		require.ErrorIs(t, r.SetShadow(v), c.errno)
		require.Nil(t, r.Shadow())
	}
	// The memory limit, with a tighter limit.
	r2, err := Open(Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: func() time.Duration { return 0 }, Limits: Limits{MaxLatencyP99: time.Second, MaxMemory: 1000, MinAccuracy: 0.5}})
	require.NoError(t, err)
	_, err = r2.Swap("v1.1.0")
	require.ErrorIs(t, err, linux.ENOMEM)
	require.Equal(t, "v1.0.0", r2.Active().Version)
	a, _, _ := r2.Status()
	require.Equal(t, "v1.0.0", a)
}

func TestRealtimeHealthMeasuresHostTime(t *testing.T) {
	fsys := newFS(t)
	start := time.Now()
	host := Clock{Now: func() time.Duration { return time.Since(start) }}
	r, err := Open(Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: host.Now, Realtime: true,
		Advance: func(time.Duration) { t.Fatal("a realtime registry advanced the clock") }})
	require.NoError(t, err)
	rep, err := r.Health("v1.0.0")
	require.NoError(t, err)
	require.Greater(t, rep.LatencyP99, time.Duration(0))
	require.GreaterOrEqual(t, rep.Elapsed, rep.LatencyP99)
	require.Equal(t, 1.0, rep.Accuracy)
}

// machineClock is a deterministic machine clock: Advance moves it, and
// spike adds extra time to chosen inferences (another tenant of the
// core), which the latency measurement has to see.
type machineClock struct {
	now   time.Duration
	calls int
	spike func(call int) time.Duration
}

func (c *machineClock) Now() time.Duration { return c.now }
func (c *machineClock) Advance(d time.Duration) {
	c.calls++
	c.now += d
	if c.spike != nil {
		c.now += c.spike(c.calls)
	}
}

// TestHealthLatencyIsMeasuredOnTheMachineClock: in deterministic mode
// each test inference is charged its machine-time cost, so the check
// moves the machine clock by (inputs x cost) and p99 is read on that
// clock: time added to a few inferences shows up in p99.
func TestHealthLatencyIsMeasuredOnTheMachineClock(t *testing.T) {
	fsys := newFS(t)
	clk := &machineClock{now: time.Second}
	r, err := Open(Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: clk.Now, Advance: clk.Advance})
	require.NoError(t, err)
	l, err := r.Load("v1.0.0")
	require.NoError(t, err)
	n := len(l.Health.Inputs)
	cost := l.Model.Cost()
	require.Equal(t, time.Second, clk.now, "loading takes no machine time")

	rep, err := r.Health("v1.0.0")
	require.NoError(t, err)
	require.True(t, rep.Passed(), rep.Failure())
	require.Equal(t, n, clk.calls, "one charge per test inference")
	require.Equal(t, time.Second+time.Duration(n)*cost, clk.now)
	require.Equal(t, time.Duration(n)*cost, rep.Elapsed)
	require.Equal(t, cost, rep.LatencyP99)
	require.Equal(t, int64((cost+time.Microsecond-1)/time.Microsecond), rep.LatencyP99US)

	// 1% of the inferences take 2 ms more: p99 (nearest rank) is still
	// a normal one. 2% do: p99 is a slow one, and the check fails.
	for every, fails := range map[int]bool{100: false, 50: true} {
		clk.calls = 0
		clk.spike = func(call int) time.Duration {
			if call%every == 0 {
				return 2 * time.Millisecond
			}
			return 0
		}
		rep, err = r.Health("v1.0.0")
		require.NoError(t, err)
		if !fails {
			require.Equal(t, cost, rep.LatencyP99, "every %d", every)
			require.True(t, rep.Passed())
			continue
		}
		require.Equal(t, cost+2*time.Millisecond, rep.LatencyP99, "every %d", every)
		require.False(t, rep.Passed())
		require.ErrorIs(t, &HealthError{Report: rep}, linux.ETIMEDOUT)
		// A swap under that load is refused; the model is not activated.
		_, err = r.Swap("v1.0.0")
		require.ErrorIs(t, err, linux.ETIMEDOUT)
		require.Nil(t, r.Active())
	}

	// The slow package fails on its own cost: its inferences really take
	// over 1 ms of machine time.
	clk.spike = nil
	before := clk.now
	rep, err = r.Health("v1.3.0-slow")
	require.NoError(t, err)
	require.Greater(t, rep.LatencyP99, DefaultLimits.MaxLatencyP99)
	require.Equal(t, rep.Elapsed, clk.now-before)
	require.ErrorIs(t, &HealthError{Report: rep}, linux.ETIMEDOUT)
}

func TestVirtualClockWithoutMachineClock(t *testing.T) {
	// Without Advance, checks run on a private virtual clock: the
	// registry's clock does not move, the results are the same.
	fsys := newFS(t)
	r := openReg(t, fsys)
	l, err := r.Load("v1.0.0")
	require.NoError(t, err)
	rep, err := r.Health("v1.0.0")
	require.NoError(t, err)
	require.Equal(t, l.Model.Cost(), rep.LatencyP99)
	require.Equal(t, time.Duration(len(l.Health.Inputs))*l.Model.Cost(), rep.Elapsed)
	rep2, err := r.Health("v1.0.0")
	require.NoError(t, err)
	require.Equal(t, rep, rep2, "deterministic")
}

func TestBadPackages(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	mk := func(v string, bin []byte) {
		t.Helper()
		require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/"+v))
		require.NoError(t, afero.WriteFile(fsys, "/models/"+v+"/model.bin", bin, 0o644))
		man := Manifest{Version: v, ModelSHA256: HashHex(bin)}
		mb, _ := json.Marshal(man)
		require.NoError(t, afero.WriteFile(fsys, "/models/"+v+"/manifest.json", mb, 0o644))
		resign(t, fsys, "/models/"+v)
	}
	good, _ := afero.ReadFile(fsys, "/models/v1.0.0/model.bin")
	nan := append([]byte(nil), good...)
	copy(nan[100:], []byte{0, 0, 0xc0, 0x7f})
	mk("nan", nan)
	mk("huge", header(6, 65536, 65536, 4))
	wrongIO, _ := New([]int{5, 4}, ReLU)
	wb, _ := wrongIO.MarshalBinary()
	mk("wrongio", wb)
	mk("empty", nil)
	// A header of a small model with a large file behind it: refused by
	// its size before the file is read whole.
	mk("padded", append(append([]byte(nil), good...), make([]byte, 1<<20)...))
	require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/bindir"))
	require.NoError(t, fsys.Remove("/models/bindir/model.bin"))
	require.NoError(t, fsys.Mkdir("/models/bindir/model.bin", 0o755))
	fixManifestVersion(t, fsys, "bindir")

	require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/nohealth"))
	require.NoError(t, fsys.Remove("/models/nohealth/health.json"))
	fixManifestVersion(t, fsys, "nohealth")
	require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/badhealth"))
	require.NoError(t, afero.WriteFile(fsys, "/models/badhealth/health.json", []byte(`{"inputs":[[1,2]],"expected":[0]}`), 0o644))
	fixManifestVersion(t, fsys, "badhealth")
	require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/badmanifest"))
	require.NoError(t, afero.WriteFile(fsys, "/models/badmanifest/manifest.json", []byte(`{"version":`), 0o644))

	require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/nobin"))
	require.NoError(t, fsys.Remove("/models/nobin/model.bin"))
	fixManifestVersion(t, fsys, "nobin")
	require.NoError(t, copyDir(fsys, "/models/v1.0.0", "/models/nomanifest"))
	require.NoError(t, fsys.Remove("/models/nomanifest/manifest.json"))
	require.NoError(t, fsys.MkdirAll("/models/notapackage", 0o755))

	before := snapshot(t, fsys)
	for v, want := range map[string]string{
		"nobin":       "model.bin: missing",
		"nomanifest":  "manifest.json: missing",
		"notapackage": "missing",
		"nan":         "NaN",
		"huge":        "parameters",
		"wrongio":     "5 inputs",
		"empty":       "shorter than the header",
		"padded":      "the layer sizes [6 16 16 4] need",
		"bindir":      "model.bin: read /models/bindir/model.bin: is a directory",
		"nohealth":    "health.json: missing",
		"badhealth":   "input 0 has 2 features",
		"badmanifest": "manifest.json",
		"v1.0.0.x":    "no package",
	} {
		_, err := r.Swap(v)
		require.ErrorContains(t, err, want, v)
		require.Nil(t, r.Active())
	}
	require.Equal(t, before, snapshot(t, fsys))

	// Within the format's limits but over the 10 MiB memory limit: it
	// loads, fails the memory check (and latency), is never activated.
	big, err := New([]int{NumFeatures, 1700, 1700, NumActions}, ReLU)
	require.NoError(t, err)
	bb, err := big.MarshalBinary()
	require.NoError(t, err)
	mk("bigmem", bb)
	require.NoError(t, afero.WriteFile(fsys, "/models/bigmem/health.json", []byte(`{"inputs":[[0,0,0,0,0,0],[1,0,0,0,0,0]],"expected":[0,1]}`), 0o644))
	resign(t, fsys, "/models/bigmem")
	rep, err := r.Swap("bigmem")
	require.Error(t, err)
	require.Greater(t, rep.MemoryBytes, DefaultLimits.MaxMemory)
	require.Contains(t, rep.Failure(), "memory")
	require.Contains(t, err.Error(), "(ENOMEM)")
	require.Nil(t, r.Active())
	e, _ := r.Entry("bigmem")
	require.Equal(t, StatusFailed, e.Status)
}

func TestMalformedRegistryIsRefused(t *testing.T) {
	for name, content := range map[string]string{
		"json":         `{"models":[`,
		"bad version":  `{"models":[{"version":"../x","hash":"` + zeros64 + `","status":"Loaded"}]}`,
		"unregistered": `{"models":[],"active":"v1.0.0"}`,
		"status":       `{"models":[{"version":"v1.0.0","hash":"` + zeros64 + `","status":"Weird"}]}`,
		"hash":         `{"models":[{"version":"v1.0.0","hash":"xyz","status":"Loaded"}]}`,
		"twice":        `{"models":[{"version":"v1.0.0","hash":"` + zeros64 + `","status":"Loaded"},{"version":"v1.0.0","hash":"` + zeros64 + `","status":"Loaded"}]}`,
	} {
		fsys := newFS(t)
		require.NoError(t, afero.WriteFile(fsys, "/models/registry.json", []byte(content), 0o644))
		_, err := Open(Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: func() time.Duration { return 0 }})
		require.ErrorContains(t, err, "registry.json", name)
		b, _ := afero.ReadFile(fsys, "/models/registry.json")
		require.Equal(t, content, string(b), "the file is left alone")
	}
}

const zeros64 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestReopenDeactivatesModelsThatNoLongerVerify(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	_, err := r.Swap("v1.0.0")
	require.NoError(t, err)
	_, err = r.Swap("v1.1.0")
	require.NoError(t, err)
	// The active package is replaced behind the registry's back.
	b, _ := afero.ReadFile(fsys, "/models/v1.1.0/model.bin")
	b[200] ^= 1
	require.NoError(t, afero.WriteFile(fsys, "/models/v1.1.0/model.bin", b, 0o644))
	r = openReg(t, fsys)
	require.Nil(t, r.Active())
	a, _, rb := r.Status()
	require.Equal(t, "", a)
	require.Equal(t, "v1.0.0", rb)
	e, _ := r.Entry("v1.1.0")
	require.Equal(t, StatusFailed, e.Status)
	require.Contains(t, e.Reason, "changed after signing")
	_, _, err = fsys.(afero.Lstater).LstatIfPossible("/models/active")
	require.ErrorIs(t, err, fs.ErrNotExist, "the active link is removed")
	// The last known good model is still there.
	_, to, err := r.Rollback()
	require.NoError(t, err)
	require.Equal(t, "v1.0.0", to)
}

func TestRollbackPersistsAcrossRestart(t *testing.T) {
	host := t.TempDir()
	mount := func() afero.Fs {
		root, err := vfs.NewDefaultRoot("sis")
		require.NoError(t, err)
		require.NoError(t, root.MkdirAll("/models", 0o755))
		require.NoError(t, root.MountHost(host, "/models", false))
		return root.Afero()
	}
	fsys := mount()
	require.NoError(t, copyPackages(fsys, "/models"))
	r := openReg(t, fsys)
	for _, v := range []string{"v1.0.0", "v1.1.0"} {
		_, err := r.Swap(v)
		require.NoError(t, err)
	}
	_, _, err := r.Rollback()
	require.NoError(t, err)

	// A new machine over the same host directory.
	r2 := openReg(t, mount())
	require.Equal(t, "v1.0.0", r2.Active().Version)
	a, s, rb := r2.Status()
	require.Equal(t, []string{"v1.0.0", "", ""}, []string{a, s, rb})
	target, err := os.Readlink(filepath.Join(host, "active"))
	require.NoError(t, err)
	require.Equal(t, "v1.0.0/", target)
	in := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0}
	require.Equal(t, r.Active().Model.Infer(in), r2.Active().Model.Infer(in))
}

// TestSwapIsAtomicForReaders swaps between two models while readers run
// inference: every result is exactly the output of the model the reader
// got, and that is one of the two whole models.
func TestSwapIsAtomicForReaders(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	inputs := Dataset(31, 64).Inputs
	want := map[string][]Inference{}
	for _, v := range []string{"v1.0.0", "v1.1.0"} {
		l, err := r.Load(v)
		require.NoError(t, err)
		for _, in := range inputs {
			want[v] = append(want[v], l.Model.Infer(in))
		}
	}
	require.NotEqual(t, want["v1.0.0"], want["v1.1.0"])
	_, err := r.Swap("v1.0.0")
	require.NoError(t, err)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var checked atomic.Int64
	errs := make(chan error, 4)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				l := r.Active()
				k := i % len(inputs)
				got := l.Model.Infer(inputs[k])
				exp, ok := want[l.Version]
				if !ok || !reflect.DeepEqual(got, exp[k]) {
					errs <- fmt.Errorf("reader got %v from %s, not that model's output", got, l.Version)
					return
				}
				checked.Add(1)
			}
		}()
	}
	for i := 0; i < 100; i++ {
		v := []string{"v1.1.0", "v1.0.0"}[i%2]
		_, err := r.Swap(v)
		require.NoError(t, err)
		require.Equal(t, v, r.Active().Version)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Positive(t, checked.Load())
}

// faultFS fails the nth mutating operation (file creation, write, close
// of a written file, rename, remove, symlink) with EIO.
type faultFS struct {
	afero.Fs
	n, count int
	hit      bool
}

func (f *faultFS) fail() error {
	f.count++
	if f.count == f.n {
		f.hit = true
		return fmt.Errorf("injected fault at operation %d: %w", f.n, linux.EIO)
	}
	return nil
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) == 0 {
		return f.Fs.OpenFile(name, flag, perm)
	}
	if err := f.fail(); err != nil {
		return nil, err
	}
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f *faultFS) Rename(o, n string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Fs.Rename(o, n)
}

func (f *faultFS) Remove(name string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Fs.Remove(name)
}

func (f *faultFS) RemoveAll(name string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Fs.RemoveAll(name)
}

func (f *faultFS) SymlinkIfPossible(o, n string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Fs.(afero.Symlinker).SymlinkIfPossible(o, n)
}

func (f *faultFS) ReadlinkIfPossible(name string) (string, error) {
	return f.Fs.(afero.Symlinker).ReadlinkIfPossible(name)
}

func (f *faultFS) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return f.Fs.(afero.Lstater).LstatIfPossible(name)
}

type faultFile struct {
	afero.File
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.fail(); err != nil {
		// A torn write: half the data lands.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Close() error {
	err := f.File.Close()
	if ferr := f.fs.fail(); ferr != nil {
		return ferr
	}
	return err
}

// TestFaultDuringSwap injects a fault at every mutating operation (each
// file creation, write, close, rename, remove and symlink) of a swap, and
// likewise of a rollback, a shadow set, a promotion and a removal: the
// registry.json left on disk parses and is byte for byte the old or the
// new state, the in-memory registry agrees with what the call reported,
// no temporary file is left, and a reopened registry has the active and
// shadow symlinks registry.json names.
func TestFaultDuringSwap(t *testing.T) {
	type op struct {
		setup func(r *Registry) error
		run   func(r *Registry) error
	}
	swap := func(v string) func(r *Registry) error {
		return func(r *Registry) error { _, err := r.Swap(v); return err }
	}
	seq := func(fs ...func(r *Registry) error) func(r *Registry) error {
		return func(r *Registry) error {
			for _, f := range fs {
				if err := f(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	shadow := func(v string) func(r *Registry) error { return func(r *Registry) error { return r.SetShadow(v) } }
	ops := map[string]op{
		"swap":     {swap("v1.0.0"), swap("v1.1.0")},
		"rollback": {seq(swap("v1.0.0"), swap("v1.1.0")), func(r *Registry) error { _, _, err := r.Rollback(); return err }},
		"shadow":   {swap("v1.0.0"), shadow("v1.1.0")},
		"promote":  {seq(swap("v1.0.0"), shadow("v1.1.0")), func(r *Registry) error { return r.Promote() }},
		"remove":   {seq(swap("v1.0.0"), swap("v1.1.0")), func(r *Registry) error { return r.Remove("v1.0.0") }},
	}
	// prepare returns a file system after op's setup, and registry.json.
	prepare := func(o op) (afero.Fs, []byte) {
		base := newFS(t)
		require.NoError(t, o.setup(openReg(t, base)))
		b, err := afero.ReadFile(base, "/models/registry.json")
		require.NoError(t, err)
		return base, b
	}
	slots := func(r *Registry) [3]string { a, s, rb := r.Status(); return [3]string{a, s, rb} }
	for name, o := range ops {
		// The fault-free run gives the new state.
		base, oldJSON := prepare(o)
		r := openReg(t, base)
		oldSlots := slots(r)
		require.NoError(t, o.run(r))
		newSlots := slots(r)
		newJSON, err := afero.ReadFile(base, "/models/registry.json")
		require.NoError(t, err)
		require.NotEqual(t, string(oldJSON), string(newJSON), name)

		for n := 1; ; n++ {
			base, _ := prepare(o)
			ff := &faultFS{Fs: base, n: n}
			r := openReg(t, ff)
			ff.count = 0 // count the operation's writes only
			err := o.run(r)
			if !ff.hit {
				require.NoError(t, err)
				require.Greater(t, n, 3, "%s does a few writes", name)
				t.Logf("%s: faults injected at each of its %d mutating operations", name, n-1)
				break
			}
			// In memory: the change happened exactly when reported.
			committed := err == nil || errors.Is(err, ErrCommitted)
			want, wantJSON := oldSlots, oldJSON
			if committed {
				want, wantJSON = newSlots, newJSON
			}
			require.Equal(t, want, slots(r), "%s fault %d: %v", name, n, err)
			// On disk: registry.json is the state the call reported.
			b, rerr := afero.ReadFile(base, "/models/registry.json")
			require.NoError(t, rerr)
			var st State
			require.NoError(t, json.Unmarshal(b, &st), "%s fault %d", name, n)
			require.Equal(t, string(wantJSON), string(b), "%s fault %d: %v", name, n, err)
			_, serr := base.Stat("/models/.registry.json.tmp")
			require.ErrorIs(t, serr, fs.ErrNotExist, "%s fault %d", name, n)
			// Reopened: the symlinks match registry.json.
			r2 := openReg(t, base)
			require.Equal(t, want, slots(r2), "%s fault %d", name, n)
			for link, v := range map[string]string{"/models/active": st.Active, "/models/shadow": st.Shadow} {
				target, lerr := base.(afero.Symlinker).ReadlinkIfPossible(link)
				if v == "" {
					require.Error(t, lerr, "%s fault %d: %s", name, n, link)
					continue
				}
				require.NoError(t, lerr, "%s fault %d: %s", name, n, link)
				require.Equal(t, v+"/", target, "%s fault %d", name, n)
			}
			if a := r2.Active(); st.Active != "" {
				require.Equal(t, st.Active, a.Version)
			}
		}
	}
}

func copyDir(fsys afero.Fs, src, dst string) error {
	if err := fsys.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	infos, err := afero.ReadDir(fsys, src)
	if err != nil {
		return err
	}
	for _, fi := range infos {
		b, err := afero.ReadFile(fsys, path.Join(src, fi.Name()))
		if err != nil {
			return err
		}
		if err := afero.WriteFile(fsys, path.Join(dst, fi.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fixManifestVersion renames the version in a copied package's manifest.
func fixManifestVersion(t testing.TB, fsys afero.Fs, v string) {
	t.Helper()
	p := "/models/" + v + "/manifest.json"
	b, err := afero.ReadFile(fsys, p)
	require.NoError(t, err)
	var m Manifest
	require.NoError(t, json.Unmarshal(b, &m))
	m.Version = v
	b, _ = json.Marshal(m)
	require.NoError(t, afero.WriteFile(fsys, p, b, 0o644))
}

func BenchmarkSwap(b *testing.B) {
	r := openReg(b, newFS(b))
	for _, v := range []string{"v1.0.0", "v1.1.0"} {
		_, err := r.Load(v)
		require.NoError(b, err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Swap([]string{"v1.0.0", "v1.1.0"}[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHealthCheck(b *testing.B) {
	r := openReg(b, newFS(b))
	_, err := r.Load("v1.0.0")
	require.NoError(b, err)
	b.ResetTimer()
	var rep *HealthReport
	for i := 0; i < b.N; i++ {
		if rep, err = r.Health("v1.0.0"); err != nil || !rep.Passed() {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Elapsed)/1e3, "virtual-us/check")
}

// BenchmarkVerify is the part of a swap to a model not loaded yet that
// BenchmarkSwap leaves out: reading the package, SHA-256, Ed25519,
// decoding.
func BenchmarkVerify(b *testing.B) {
	r := openReg(b, newFS(b))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.verify("v1.1.0"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInfer(b *testing.B) {
	r := openReg(b, newFS(b))
	l, err := r.Load("v1.0.0")
	require.NoError(b, err)
	in := []float32{0.5, 0.1, 0.95, 0.5, 0.2, 0}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Model.Infer(in)
	}
}

// TestMalformedRegistryErrorIsStable: with several bad slots the error
// names the first (active, shadow, rollback order) every time.
func TestMalformedRegistryErrorIsStable(t *testing.T) {
	fsys := newFS(t)
	content := `{"models":[],"active":"a1","shadow":"s1","rollback":"r1"}`
	require.NoError(t, afero.WriteFile(fsys, "/models/registry.json", []byte(content), 0o644))
	for i := 0; i < 20; i++ {
		_, err := Open(Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: func() time.Duration { return 0 }})
		require.ErrorContains(t, err, `active model "a1" is not registered`)
	}
}

// resign signs every file of the package dir again with the test key.
func resign(t testing.TB, fsys afero.Fs, dir string) {
	t.Helper()
	ents, err := afero.ReadDir(fsys, dir)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, e := range ents {
		if n := e.Name(); n != SigFile && n != SumsFile {
			files[n], err = afero.ReadFile(fsys, dir+"/"+n)
			require.NoError(t, err)
		}
	}
	sums, sig := SignFiles(testKey, files)
	require.NoError(t, afero.WriteFile(fsys, dir+"/"+SumsFile, sums, 0o644))
	require.NoError(t, afero.WriteFile(fsys, dir+"/"+SigFile, sig, 0o644))
}

// The signature covers every file of a package: rewriting model.bin,
// health.json (which holds the accuracy gate), manifest.json or
// SHA256SUMS, adding a file or removing one is refused.
func TestPackageTamperRefused(t *testing.T) {
	rewrite := func(name string, f func([]byte) []byte) func(afero.Fs, string) error {
		return func(fsys afero.Fs, dir string) error {
			b, err := afero.ReadFile(fsys, dir+"/"+name)
			if err != nil {
				return err
			}
			nb := f(append([]byte(nil), b...))
			if bytes.Equal(nb, b) {
				return fmt.Errorf("%s: the rewrite changed nothing", name)
			}
			return afero.WriteFile(fsys, dir+"/"+name, nb, 0o644)
		}
	}
	for name, tc := range map[string]struct {
		tamper func(fsys afero.Fs, dir string) error
		want   string
	}{
		"model.bin": {rewrite(ModelFile, func(b []byte) []byte {
			b[100] ^= 1 // a weight, so the file still decodes
			return b
		}), "model.bin: sha256 "},
		"health.json": {func(fsys afero.Fs, dir string) error {
			return afero.WriteFile(fsys, dir+"/health.json", []byte(`{"inputs":[[0,0,0,0,0,0]],"expected":[0]}`), 0o644)
		}, "health.json: sha256 "},
		"manifest.json": {rewrite(ManifestFile, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"description": "`, `"description": "x`, 1))
		}), "manifest.json: sha256 "},
		"an added file": {func(fsys afero.Fs, dir string) error {
			return afero.WriteFile(fsys, dir+"/extra.txt", []byte("x"), 0o644)
		}, "extra.txt is not in SHA256SUMS: a file added after signing"},
		"a removed file": {func(fsys afero.Fs, dir string) error {
			return fsys.Remove(dir + "/README")
		}, "SHA256SUMS lists README, which is missing"},
		"a removed health.json": {func(fsys afero.Fs, dir string) error {
			return fsys.Remove(dir + "/health.json")
		}, "health.json: missing"},
		"SHA256SUMS": {rewrite(SumsFile, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "  README\n", "  README.md\n", 1))
		}), "SHA256SUMS is not signed by a trusted key"},
		"model.sig": {rewrite(SigFile, func(b []byte) []byte {
			b[0] ^= 1 // '0'..'f' stays a hex digit
			return b
		}), "SHA256SUMS is not signed by a trusted key"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := newFS(t)
			dir := "/models/v9.0.0"
			require.NoError(t, copyDir(fsys, "/models/v1.0.0", dir))
			require.NoError(t, rewrite(ManifestFile, func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"v1.0.0"`, `"v9.0.0"`, 1))
			})(fsys, dir))
			require.NoError(t, afero.WriteFile(fsys, dir+"/README", []byte("a signed extra file\n"), 0o644))
			resign(t, fsys, dir)
			_, err := openReg(t, fsys).DrySwap("v9.0.0")
			require.NoError(t, err, "the re-signed copy verifies")
			require.NoError(t, tc.tamper(fsys, dir))
			_, err = openReg(t, fsys).DrySwap("v9.0.0")
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// The attack of issue 17: the signed undertrained package, whose
// health.json is rewritten so the accuracy gate passes, is refused
// before any health check runs.
func TestUndertrainedHealthRewriteRefused(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	_, err := r.DrySwap("v1.2.0-undertrained")
	require.ErrorContains(t, err, "accuracy", "the signed package fails its accuracy gate")
	p, err := ReadPackage(fsys, "/models/v1.2.0-undertrained")
	require.NoError(t, err)
	m, err := Decode(p.Bin)
	require.NoError(t, err)
	// Label the test inputs with the model's own answers: accuracy 1.
	for i, in := range p.Health.Inputs {
		p.Health.Expected[i] = m.Infer(in).Action
	}
	hb, err := json.Marshal(p.Health)
	require.NoError(t, err)
	require.NoError(t, afero.WriteFile(fsys, "/models/v1.2.0-undertrained/health.json", hb, 0o644))
	_, err = openReg(t, fsys).DrySwap("v1.2.0-undertrained")
	require.ErrorContains(t, err, "health.json: sha256 ")
	require.ErrorContains(t, err, "changed after signing")
}
