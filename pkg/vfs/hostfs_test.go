package vfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// TestHostMountFIFONeverBlocks opens a host FIFO through a mount with no
// writer and no reader on the host: the opens return at once, a read end
// with no writer is at its end, the write end cannot be opened without a
// reader (ENXIO), and a read with a writer but no data fails with EAGAIN.
func TestHostMountFIFONeverBlocks(t *testing.T) {
	mnt := t.TempDir()
	fifo := filepath.Join(mnt, "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o666))
	v := newTestFS(t)
	require.NoError(t, v.MountHost(mnt, "/h", false))

	a, err := v.StatAt(nil, "/", "/h/fifo", true)
	require.NoError(t, err)
	require.Equal(t, uint32(ModeFIFO), a.Mode&ModeType)

	r, err := v.OpenAt(nil, "/", "/h/fifo", linux.O_RDONLY, 0)
	require.NoError(t, err)
	defer r.Close()
	_, isStream := r.Handle().(Stream)
	require.True(t, isStream, "a FIFO is a stream")
	buf := make([]byte, 8)
	n, err := r.Read(buf)
	require.NoError(t, err)
	require.Zero(t, n, "no writer: end of file")
	_, err = v.OpenAt(nil, "/", "/h/fifo", linux.O_WRONLY, 0)
	require.NoError(t, err, "a reader is open now")

	// A host writer that writes nothing: the read would block, and fails.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer w.Close()
	_, err = r.Read(buf)
	require.Equal(t, linux.EAGAIN, err)
	_, err = w.Write([]byte("hi"))
	require.NoError(t, err)
	n, err = r.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "hi", string(buf[:n]))

	// With no reader, opening for writing fails as O_NONBLOCK does.
	require.NoError(t, unix.Mkfifo(filepath.Join(mnt, "fifo2"), 0o666))
	_, err = v.OpenAt(nil, "/", "/h/fifo2", linux.O_WRONLY, 0)
	require.Equal(t, linux.ENXIO, err)
	// Through the afero view the services use.
	_, err = v.Afero().Open("/h/fifo2")
	require.NoError(t, err)
}

// TestHostMountDevicesRefused: a device node in a host directory cannot
// be opened (EACCES, as on a nodev mount), only listed and stat'ed.
func TestHostMountDevicesRefused(t *testing.T) {
	mnt := t.TempDir()
	if err := unix.Mknod(filepath.Join(mnt, "zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	v := newTestFS(t)
	require.NoError(t, v.MountHost(mnt, "/h", false))
	a, err := v.StatAt(nil, "/", "/h/zero", true)
	require.NoError(t, err)
	require.Equal(t, uint32(ModeChar), a.Mode&ModeType)
	for _, fl := range []int{linux.O_RDONLY, linux.O_WRONLY, linux.O_RDWR} {
		_, err = v.OpenAt(nil, "/", "/h/zero", fl, 0)
		require.Equal(t, linux.EACCES, err)
	}
}

// TestHostMountSetAttrNoFollow: chmod, chown, utimes and truncate of a
// host mount's symlink never reach the file it points to.
func TestHostMountSetAttrNoFollow(t *testing.T) {
	root := t.TempDir()
	mnt := filepath.Join(root, "mnt")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	outside := filepath.Join(root, "outside")
	require.NoError(t, os.WriteFile(outside, []byte("outside"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(mnt, "l")))
	h, err := NewHostfs(mnt, false)
	require.NoError(t, err)
	mode, size, uid := uint32(0o600), int64(0), uint32(12345)
	require.Equal(t, linux.EOPNOTSUPP, h.SetAttr("/l", SetAttr{Mode: &mode}))
	require.Equal(t, linux.ELOOP, h.SetAttr("/l", SetAttr{Size: &size}))
	require.NoError(t, h.SetAttr("/l", SetAttr{UID: &uid}), "lchown")
	fi, err := os.Stat(outside)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	require.Equal(t, int64(7), fi.Size())
	require.NotEqual(t, uint32(12345), fi.Sys().(*syscall.Stat_t).Uid)
}
