package vfs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

type testDevices struct{}

func (testDevices) Random(b []byte) {
	for i := range b {
		b[i] = byte(i)
	}
}
func (testDevices) Console() Handle { return nil }

// echoDev is a Stream device that answers each write with its bytes
// reversed.
type echoDev struct {
	stat func() (Attr, error)
	out  []byte
}

func (e *echoDev) Read(p []byte) (int, error) {
	n := copy(p, e.out)
	e.out = e.out[n:]
	return n, nil
}

func (e *echoDev) Write(p []byte) (int, error) {
	for i := len(p) - 1; i >= 0; i-- {
		e.out = append(e.out, p[i])
	}
	return len(p), nil
}
func (e *echoDev) ReadAt([]byte, int64) (int, error)  { return 0, linux.ESPIPE }
func (e *echoDev) WriteAt([]byte, int64) (int, error) { return 0, linux.ESPIPE }
func (e *echoDev) Stat() (Attr, error)                { return e.stat() }
func (e *echoDev) Truncate(int64) error               { return linux.EINVAL }
func (e *echoDev) Sync() error                        { return nil }
func (e *echoDev) Close() error                       { return nil }
func (e *echoDev) ReadDir() ([]Dirent, error)         { return nil, linux.ENOTDIR }

func TestDevfsAddDevice(t *testing.T) {
	v := newTestFS(t)
	d := NewDevfs(testDevices{}, time.Unix(1767225600, 0).UTC())
	require.NoError(t, v.Mount("/dev", "devtmpfs", "devtmpfs", d, false))
	before, err := v.StatfsAt(nil, "/", "/dev")
	require.NoError(t, err)

	opens := 0
	echo := Device{Name: "echo", Major: 10, Minor: 240, Perm: 0o660, Open: func(flags int, stat func() (Attr, error)) (Handle, error) {
		opens++
		return &echoDev{stat: stat}, nil
	}}
	require.NoError(t, d.AddDevice(echo))

	// Refused: duplicates, taken numbers, bad names.
	require.ErrorContains(t, d.AddDevice(echo), "exists")
	require.ErrorContains(t, d.AddDevice(Device{Name: "null2", Major: 1, Minor: 3, Open: echo.Open}), "taken by null")
	require.ErrorContains(t, d.AddDevice(Device{Name: "echo2", Major: 10, Minor: 240, Open: echo.Open}), "taken by echo")
	require.ErrorContains(t, d.AddDevice(Device{Name: "null", Major: 9, Open: echo.Open}), "exists")
	for _, bad := range []string{"", "a/b", ".", ".."} {
		require.Error(t, d.AddDevice(Device{Name: bad, Major: 9, Open: echo.Open}), bad)
	}
	require.Error(t, d.AddDevice(Device{Name: "noopen", Major: 9}))

	a, err := v.StatAt(nil, "/", "/dev/echo", true)
	require.NoError(t, err)
	require.Equal(t, uint32(ModeChar|0o660), a.Mode)
	require.Equal(t, Makedev(10, 240), a.Rdev)

	ents, err := v.ReadDir("/dev")
	require.NoError(t, err)
	names := map[string]uint8{}
	for _, e := range ents {
		names[e.Name] = e.Type
	}
	require.Equal(t, uint8(DTChar), names["echo"])
	require.Equal(t, uint8(DTChar), names["null"])
	require.Equal(t, uint8(DTLink), names["stdin"])

	after, err := v.StatfsAt(nil, "/", "/dev")
	require.NoError(t, err)
	require.Equal(t, before.Ffree-1, after.Ffree)

	f, err := v.Open("/dev/echo", linux.O_RDWR, 0)
	require.NoError(t, err)
	require.Equal(t, 1, opens)
	n, err := f.Write([]byte("abc"))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	buf := make([]byte, 8)
	n, err = f.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "cba", string(buf[:n]))
	_, err = f.Seek(0, 0)
	require.ErrorIs(t, err, linux.ESPIPE)
	fa, err := f.Stat()
	require.NoError(t, err)
	require.Equal(t, Makedev(10, 240), fa.Rdev)
	require.NoError(t, f.Close())

	// The fixed nodes still work.
	z, err := v.Open("/dev/zero", linux.O_RDONLY, 0)
	require.NoError(t, err)
	buf = []byte{1, 2}
	_, err = z.Read(buf)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0}, buf)
	_, err = v.StatAt(nil, "/", "/dev/nothere", true)
	require.ErrorIs(t, err, linux.ENOENT)
	require.ErrorIs(t, v.UnlinkAt(nil, "/", "/dev/echo", false), linux.EACCES)
}
