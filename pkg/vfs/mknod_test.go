package vfs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// TestMknodSocket: bind(2)'s socket node is created once, is a socket,
// cannot be opened (ENXIO) and goes with unlink.
func TestMknodSocket(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.MkdirAll("/tmp", 0o755))
	require.NoError(t, v.MknodAt(nil, "/", "/tmp/sock", ModeSocket|0o755, 0))
	st, err := v.StatAt(nil, "/", "/tmp/sock", false)
	require.NoError(t, err)
	require.Equal(t, uint32(ModeSocket|0o755), st.Mode)
	require.Equal(t, linux.EEXIST, v.MknodAt(nil, "/", "/tmp/sock", ModeSocket|0o755, 0))
	_, err = v.OpenAt(nil, "/", "/tmp/sock", linux.O_RDONLY, 0)
	require.Equal(t, linux.ENXIO, err)
	require.Equal(t, linux.ENOENT, v.MknodAt(nil, "/", "/nodir/sock", ModeSocket|0o755, 0))
	require.NoError(t, v.UnlinkAt(nil, "/", "/tmp/sock", false))
	_, err = v.StatAt(nil, "/", "/tmp/sock", false)
	require.Equal(t, linux.ENOENT, err)
}

// netProc is oneProc with a network.
type netProc struct{ oneProc }

func (netProc) ProcNet(name string) []byte { return []byte("table " + name + "\n") }

// TestProcNet lists /proc/net and reads its tables from the source; a
// source without a network has none.
func TestProcNet(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.Mount("/proc", "proc", "proc", NewProcfs(netProc{}, v), false))
	ents, err := v.ReadDir("/proc/net")
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	require.Equal(t, []string{"dev", "route", "tcp", "tcp6", "udp", "udp6", "unix", "igmp", "igmp6"}, names)
	b, err := v.ReadFile("/proc/net/tcp6")
	require.NoError(t, err)
	require.Equal(t, "table tcp6\n", string(b))
	_, err = v.StatAt(nil, "/", "/proc/net/nosuch", false)
	require.Equal(t, linux.ENOENT, err)
	_, err = v.StatAt(nil, "/", "/proc/net/dev/x", false)
	require.Equal(t, linux.ENOTDIR, err)

	w := newTestFS(t)
	require.NoError(t, w.Mount("/proc", "proc", "proc", NewProcfs(oneProc{}, w), false))
	_, err = w.StatAt(nil, "/", "/proc/net", false)
	require.Equal(t, linux.ENOENT, err)
}
