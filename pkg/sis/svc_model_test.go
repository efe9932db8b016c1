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

// modelSh runs a shell line, returning its output and error.
func modelSh(m *sis.System, line string) (string, error) {
	return m.Shell().Exec(line)
}

func TestModelctlOnFreshMachine(t *testing.T) {
	m := bootModels(t, "")
	out, err := modelSh(m, "modelctl load v1.0.0")
	require.NoError(t, err, out)
	require.Contains(t, out, "Loading model: v1.0.0\n")
	require.Contains(t, out, "Model loaded (not activated)\n")
	require.Nil(t, m.Models().Active())

	out, err = modelSh(m, "modelctl swap v1.0.0")
	require.NoError(t, err, out)
	require.Equal(t, "Swapping to model version: v1.0.0\nModel swap complete: v1.0.0\n", out)
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
	for v, why := range map[string]string{"v1.4.0-badsig": "signature verification failed", "v1.5.0-tampered": "hash mismatch"} {
		out, err = modelSh(m, "modelctl load "+v)
		require.ErrorContains(t, err, why, out)
	}
	out, err = modelSh(m, "modelctl dry-swap v1.0.0")
	require.NoError(t, err)
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
	for _, line := range []string{"modelctl swap v1.0.0", "modelctl swap v1.1.0", "modelctl rollback"} {
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

func TestModelsMalformedRegistryIsKept(t *testing.T) {
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "registry.json"), []byte("{not json"), 0o644))
	var con strings.Builder
	root, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	require.NoError(t, root.MkdirAll("/models", 0o755))
	require.NoError(t, root.MountHost(host, "/models", false))
	m, err := sis.Boot(sis.BootConfig{Config: kernel.Config{FS: root}, Console: &con, Services: sis.DefaultServices()})
	require.NoError(t, err)
	defer m.Close()
	require.Contains(t, con.String(), "[MODEL] model registry: /models/registry.json is malformed")
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
		if out, err := modelSh(m, "modelctl swap "+[]string{"v1.0.0", "v1.1.0"}[i%2]); err != nil {
			b.Fatal(err, out)
		}
	}
}

// TestModelHealthLatencyInVirtualTime: in deterministic mode a health
// check times each test inference on a virtual clock charged the
// model's cost (the slow package really takes over 1 ms per inference);
// the machine's clock does not move.
func TestModelHealthLatencyInVirtualTime(t *testing.T) {
	m := bootModels(t, "")
	l, err := m.Models().Get("v1.3.0-slow")
	require.NoError(t, err)
	cost := l.Model.Cost()
	require.Greater(t, cost, time.Millisecond)
	before := m.Now()
	out, err := modelSh(m, "modelctl health v1.3.0-slow")
	require.ErrorContains(t, err, "ETIMEDOUT")
	require.Contains(t, out, fmt.Sprintf("[FAIL] latency: p99=%dus (limit 1000us)\n", (cost+time.Microsecond-1)/time.Microsecond))
	require.Contains(t, out, "[HEALTH] latency check failed\n")
	require.Equal(t, before, m.Now())
}
