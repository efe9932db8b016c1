package sis_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// TestModelsBadNameTaken: a malformed registry.json boots with an empty
// registry and a warning even when registry.json.bad is taken (by a
// directory): the file goes to the next free name.
func TestModelsBadNameTaken(t *testing.T) {
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "registry.json"), []byte("{not json"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(host, "registry.json.bad", "x"), 0o755))
	var con strings.Builder
	root, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	require.NoError(t, root.MountHost(host, "/models", false))
	m, err := sis.Boot(sis.BootConfig{Config: kernel.Config{FS: root}, Console: &con, Services: sis.DefaultServices()})
	require.NoError(t, err)
	defer m.Close()
	require.Contains(t, con.String(), "[MODEL] model registry: /models/registry.json is malformed")
	require.Contains(t, con.String(), "; moved to /models/registry.json.bad.1, starting with an empty registry\n")
	b, err := os.ReadFile(filepath.Join(host, "registry.json.bad.1"))
	require.NoError(t, err)
	require.Equal(t, "{not json", string(b))
	require.Nil(t, m.Models().Active())
}
