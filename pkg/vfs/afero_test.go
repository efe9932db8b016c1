package vfs

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func TestAferoAdapter(t *testing.T) {
	v, err := NewDefaultRoot("sis")
	require.NoError(t, err)
	a := v.Afero()

	require.NoError(t, a.MkdirAll("/models/v1", 0o755))
	require.NoError(t, afero.WriteFile(a, "/models/v1/model.bin", []byte("weights"), 0o644))
	got, err := afero.ReadFile(a, "/models/v1/model.bin")
	require.NoError(t, err)
	require.Equal(t, "weights", string(got))

	// Atomic replace: write a temp file, rename over the target.
	require.NoError(t, afero.WriteFile(a, "/models/registry.json.tmp", []byte(`{"a":1}`), 0o644))
	require.NoError(t, a.Rename("/models/registry.json.tmp", "/models/registry.json"))
	got, err = afero.ReadFile(a, "/models/registry.json")
	require.NoError(t, err)
	require.Equal(t, `{"a":1}`, string(got))

	// Symlinks, read through and not.
	sl := a.(afero.Symlinker)
	require.NoError(t, sl.SymlinkIfPossible("v1", "/models/active"))
	target, err := sl.ReadlinkIfPossible("/models/active")
	require.NoError(t, err)
	require.Equal(t, "v1", target)
	fi, _, err := sl.LstatIfPossible("/models/active")
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&os.ModeSymlink)
	got, err = afero.ReadFile(a, "/models/active/model.bin")
	require.NoError(t, err)
	require.Equal(t, "weights", string(got))

	ents, err := afero.ReadDir(a, "/models")
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"active", "registry.json", "v1"}, names)

	// Offsets: WriteAt extends, ReadAt reports EOF at the end.
	f, err := a.OpenFile("/tmp/x", os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("abc"), 4)
	require.NoError(t, err)
	buf := make([]byte, 10)
	n, err := f.ReadAt(buf, 0)
	require.Equal(t, 7, n)
	require.Error(t, err)
	require.Equal(t, "\x00\x00\x00\x00abc", string(buf[:n]))
	require.NoError(t, f.Close())

	_, err = a.Stat("/nope")
	require.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	err = a.Mkdir("/models", 0o755)
	require.True(t, errors.Is(err, fs.ErrExist), "%v", err)
	// Read-only mounts refuse writes with EROFS.
	require.NoError(t, a.MkdirAll("/ro", 0o755))
	require.NoError(t, v.MountAfero("/ro", afero.NewMemMapFs(), true))
	err = afero.WriteFile(a, "/ro/x", []byte("1"), 0o644)
	require.ErrorIs(t, err, linux.EROFS)

	require.NoError(t, a.RemoveAll("/models"))
	_, err = a.Stat("/models")
	require.True(t, errors.Is(err, fs.ErrNotExist))
	require.NoError(t, a.RemoveAll("/models"))
}
