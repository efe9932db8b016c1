package model

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/vfs"
)

// TestHistoryTornLine: a history log cut in the middle of its last line
// (power loss) does not swallow the next event, and that event does not
// take the torn one's sequence number.
func TestHistoryTornLine(t *testing.T) {
	fsys := newFS(t)
	r := openReg(t, fsys)
	_, err := r.Load("v1.0.0")
	require.NoError(t, err)
	evs, err := r.History(0)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	f, err := fsys.OpenFile("/models/history.jsonl", os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte(`{"seq":2,"time_ns":42,"event":"lo`))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r2 := openReg(t, fsys)
	_, err = r2.Load("v1.1.0")
	require.NoError(t, err)
	evs, err = r2.History(0)
	require.NoError(t, err)
	require.Len(t, evs, 2, "the event after the torn line")
	require.Equal(t, uint64(1), evs[0].Seq)
	require.Equal(t, uint64(3), evs[1].Seq, "the torn event keeps seq 2")
	require.Equal(t, "v1.1.0", evs[1].Version)
	b, err := afero.ReadFile(fsys, "/models/history.jsonl")
	require.NoError(t, err)
	require.Len(t, bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")), 3)
}

// TestOpenOrResetBadNameTaken: a malformed registry.json is moved to the
// first free ".bad" name, whatever holds the others (a directory here),
// and the registry starts empty with a warning; when it cannot be moved
// at all, the registry still starts empty.
func TestOpenOrResetBadNameTaken(t *testing.T) {
	fsys := newFS(t)
	require.NoError(t, afero.WriteFile(fsys, "/models/registry.json", []byte("{not json"), 0o644))
	require.NoError(t, fsys.MkdirAll("/models/registry.json.bad/x", 0o755))
	cfg := Config{FS: fsys, Dir: "/models", TrustedKeys: trustedKeys(t), Now: func() time.Duration { return 0 }}
	_, err := Open(cfg)
	require.ErrorContains(t, err, "is malformed")
	r, warning, err := OpenOrReset(cfg)
	require.NoError(t, err)
	require.Equal(t, "model registry: /models/registry.json is malformed: invalid character 'n' looking for beginning of object key string; moved to /models/registry.json.bad.1, starting with an empty registry", warning)
	require.Empty(t, r.List())
	b, err := afero.ReadFile(fsys, "/models/registry.json.bad.1")
	require.NoError(t, err)
	require.Equal(t, "{not json", string(b))

	// A registry.json that is a directory, on a file system where it
	// cannot be moved: it stays, and the registry is empty.
	host := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(host, "registry.json"), 0o755))
	v, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	require.NoError(t, v.MountHost(host, "/models", true))
	cfg.FS = v.Afero()
	r, warning, err = OpenOrReset(cfg)
	require.NoError(t, err)
	require.Equal(t, "model registry: read /models/registry.json: is a directory; it could not be moved aside (rename /models/registry.json: Read-only file system): starting with an empty registry, which replaces it at the first change", warning)
	require.Empty(t, r.List())

	// Other failures are still errors.
	_, _, err = OpenOrReset(Config{FS: fsys})
	require.ErrorContains(t, err, "no clock")
}

// TestModelBinFIFO: a package whose model.bin is a FIFO (on a host mount,
// or read straight from the host) fails to load at once with a clear
// error instead of waiting for a writer.
func TestModelBinFIFO(t *testing.T) {
	host := t.TempDir()
	root, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	require.NoError(t, root.MountHost(host, "/models", false))
	fsys := root.Afero()
	require.NoError(t, copyPackages(fsys, "/models"))
	bin := filepath.Join(host, "v1.0.0", ModelFile)
	require.NoError(t, os.Remove(bin))
	require.NoError(t, unix.Mkfifo(bin, 0o644))

	r := openReg(t, fsys)
	_, err = r.Load("v1.0.0")
	require.ErrorContains(t, err, "model v1.0.0: model.bin: read /models/v1.0.0/model.bin: not a regular file (fifo)")
	_, err = ReadPackage(afero.NewOsFs(), filepath.Join(host, "v1.0.0"))
	require.ErrorContains(t, err, "not a regular file (fifo)")
	require.True(t, strings.HasPrefix(err.Error(), "model.bin: "), err.Error())
}
