package sis_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sissim "github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// bootModels boots a machine with the default services; when hostModels
// is not "", that host directory is mounted at /models.
func bootModels(t testing.TB, hostModels string) *sis.System {
	t.Helper()
	bc := sis.BootConfig{Image: sissim.RootImage(), Services: sis.DefaultServices()}
	if hostModels != "" {
		root, err := vfs.NewDefaultRoot("sis")
		require.NoError(t, err)
		require.NoError(t, root.MkdirAll("/models", 0o755))
		require.NoError(t, root.MountHost(hostModels, "/models", false))
		bc.FS = root
	}
	m, err := sis.Boot(bc)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// bootHostModels boots a machine without a root image whose /models is
// the host directory host, and returns it with its boot markers.
func bootHostModels(t testing.TB, host string) (*sis.System, string) {
	t.Helper()
	var con strings.Builder
	root, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	require.NoError(t, root.MkdirAll("/models", 0o755))
	require.NoError(t, root.MountHost(host, "/models", false))
	m, err := sis.Boot(sis.BootConfig{Config: kernel.Config{FS: root}, Console: &con, Services: sis.DefaultServices()})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m, con.String()
}

// modelSh runs a shell line, returning its output and error.
func modelSh(m *sis.System, line string) (string, error) {
	return m.Shell().Exec(line)
}

func TestModelctlOnFreshMachine(t *testing.T) {
	m := bootModels(t, "")
	// The first boot activated the built-in model.
	require.Equal(t, "v1.0.0", m.Models().Active().Version)
	out, err := modelSh(m, "modelctl history 1")
	require.NoError(t, err)
	require.Contains(t, out, "swap v1.0.0")
	out, err = modelSh(m, "modelctl swap v1.0.0")
	require.ErrorContains(t, err, "model v1.0.0 is already active", out)

	out, err = modelSh(m, "modelctl load v1.1.0")
	require.NoError(t, err, out)
	require.Contains(t, out, "Loading model: v1.1.0\n")
	require.Contains(t, out, "Model loaded (not activated)\n")
	require.Equal(t, "v1.0.0", m.Models().Active().Version)
	out, err = modelSh(m, "modelctl swap v1.1.0")
	require.NoError(t, err, out)
	require.Equal(t, "Swapping to model version: v1.1.0\nModel swap complete: v1.1.0\nPrevious model saved to rollback\n", out)
	out, err = modelSh(m, "modelctl status")
	require.NoError(t, err)
	require.Equal(t, "Model Status:\n  Active:   v1.1.0\n  Shadow:   none\n  Rollback: v1.0.0\n", out)

	out, err = modelSh(m, "modelctl swap v1.3.0-slow")
	require.Error(t, err)
	require.Contains(t, out, "[HEALTH] latency check failed\n")
	require.Equal(t, "v1.1.0", m.Models().Active().Version)
	out, err = modelSh(m, "modelctl health v1.2.0-undertrained")
	require.Error(t, err)
	require.Contains(t, out, "Running health checks on: v1.2.0-undertrained\n")
	require.Contains(t, out, "[PASS] latency:")
	require.Contains(t, out, "[FAIL] accuracy:")
	require.Contains(t, out, "[HEALTH] accuracy check failed\n")
	for v, why := range map[string]string{"v1.4.0-badsig": "signature verification failed", "v1.5.0-tampered": "changed after signing"} {
		out, err = modelSh(m, "modelctl load "+v)
		require.ErrorContains(t, err, why, out)
	}
	out, err = modelSh(m, "modelctl dry-swap v1.0.0")
	require.NoError(t, err, out)
	require.Regexp(t, `^Dry-swap OK: version=v1\.0\.0 p99=\d+us mem=\d+B acc=\d+%\n$`, out)

	out, err = modelSh(m, "modelctl remove v1.1.0")
	require.ErrorContains(t, err, "EBUSY")
	require.Contains(t, out, "Removing model: v1.1.0\n")
	require.NotContains(t, out, "Model removed")

	out, err = modelSh(m, "modelctl rollback")
	require.NoError(t, err)
	require.Contains(t, out, "Rolling back to last known good model...\n")
	require.Contains(t, out, "Rollback complete\n")
	require.Equal(t, "v1.0.0", m.Models().Active().Version)
	out, err = modelSh(m, "modelctl remove v1.1.0")
	require.NoError(t, err)
	require.Equal(t, "Removing model: v1.1.0\nModel removed: v1.1.0\n", out)

	out, err = modelSh(m, "modelctl history 3")
	require.NoError(t, err)
	require.Contains(t, out, "Model History (last 3):\n")
	require.Contains(t, out, "rollback v1.0.0 (v1.1.0 -> v1.0.0)")
	require.Contains(t, out, "remove v1.1.0")

	out, err = modelSh(m, "cat /models/registry.json")
	require.NoError(t, err)
	require.Contains(t, out, `"active": "v1.0.0"`)

	_, err = modelSh(m, "modelctl frobnicate")
	require.Error(t, err)
	out, err = modelSh(m, "modelctl load ../../etc")
	require.ErrorContains(t, err, "invalid model version", out)
}

func TestModelRollbackPersistsAcrossRestart(t *testing.T) {
	host := t.TempDir()
	m := bootModels(t, host)
	for _, line := range []string{"modelctl swap v1.1.0", "modelctl rollback"} {
		out, err := modelSh(m, line)
		require.NoError(t, err, out)
	}
	require.NoError(t, m.Close())
	target, err := os.Readlink(filepath.Join(host, "active"))
	require.NoError(t, err)
	require.Equal(t, "v1.0.0/", target)

	m2 := bootModels(t, host)
	require.Equal(t, "v1.0.0", m2.Models().Active().Version)
	out, err := modelSh(m2, "modelctl status")
	require.NoError(t, err)
	require.Equal(t, "Model Status:\n  Active:   v1.0.0\n  Shadow:   none\n  Rollback: none\n", out)
}

// Only the first boot (no registry.json yet) activates the built-in
// model: a later boot keeps the model that was active.
func TestFirstBootActivatesOnce(t *testing.T) {
	host := t.TempDir()
	m := bootModels(t, host)
	require.Equal(t, "v1.0.0", m.Models().Active().Version)
	out, err := modelSh(m, "modelctl swap v1.1.0")
	require.NoError(t, err, out)
	require.NoError(t, m.Close())

	m2, con := bootHostModels(t, host)
	require.NotContains(t, con, "first boot")
	require.Equal(t, "v1.1.0", m2.Models().Active().Version)
}

func TestModelsMalformedRegistryIsKept(t *testing.T) {
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "registry.json"), []byte("{not json"), 0o644))
	m, con := bootHostModels(t, host)
	require.Contains(t, con, "[MODEL] model registry: /models/registry.json is malformed")
	b, err := os.ReadFile(filepath.Join(host, "registry.json.bad"))
	require.NoError(t, err)
	require.Equal(t, "{not json", string(b))
	require.Nil(t, m.Models().Active())
}

func BenchmarkModelctlSwap(b *testing.B) {
	m := bootModels(b, "")
	for _, v := range []string{"v1.0.0", "v1.1.0"} {
		if _, err := modelSh(m, "modelctl load "+v); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := modelSh(m, "modelctl swap "+[]string{"v1.1.0", "v1.0.0"}[i%2]); err != nil { // v1.0.0 is active since the first boot
			b.Fatal(err, out)
		}
	}
}

// TestModelHealthLatencyOnTheMachine: in deterministic mode a health
// check's latencies are the machine time of real inferences on the
// machine: the slow package's 200 test inferences take more than 1 ms
// each, so the check fails with ETIMEDOUT and the machine's clock moves
// by at least their sum.
func TestModelHealthLatencyOnTheMachine(t *testing.T) {
	m := bootModels(t, "")
	before := m.Now()
	out, err := modelSh(m, "modelctl health v1.3.0-slow")
	require.ErrorContains(t, err, "ETIMEDOUT")
	require.Contains(t, out, "[HEALTH] latency check failed\n")
	var p99 int64
	_, err = fmt.Sscanf(out[strings.Index(out, "[FAIL] latency: "):], "[FAIL] latency: p99=%dus", &p99)
	require.NoError(t, err, out)
	require.Greater(t, p99, int64(1000))
	require.GreaterOrEqual(t, m.Now()-before, 200*time.Millisecond, "200 inferences of over 1 ms each ran on the machine")
	l, err := m.Models().Get("v1.3.0-slow")
	require.NoError(t, err)
	require.NotEqual(t, l.Model.Cost(), time.Duration(p99)*time.Microsecond, "not the cost formula")
}
