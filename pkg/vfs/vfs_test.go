package vfs

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func newTestFS(t *testing.T) *FS {
	t.Helper()
	v, err := NewDefaultRoot("sis")
	require.NoError(t, err)
	v.SetClock(func() time.Time { return time.Unix(1767225600, 0).UTC() })
	return v
}

func TestDefaultRootLayout(t *testing.T) {
	v := newTestFS(t)
	for _, d := range []string{"/bin", "/dev", "/proc", "/tmp", "/etc", "/models", "/otel", "/incidents", "/var/log", "/tmp/agentsys"} {
		a, err := v.StatAt(nil, "/", d, true)
		require.NoError(t, err, d)
		require.True(t, a.IsDir(), d)
	}
	b, err := v.ReadFile("/etc/hostname")
	require.NoError(t, err)
	require.Equal(t, "sis\n", string(b))
	a, err := v.StatAt(nil, "/", "/tmp", true)
	require.NoError(t, err)
	require.Equal(t, uint32(ModeDir|0o1777), a.Mode)
}

func TestWalkDotsAndSymlinks(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.MkdirAll("/a/b/c", 0o755))
	require.NoError(t, v.WriteFile("/a/b/c/f", []byte("x"), 0o644))
	require.NoError(t, v.Symlink("b/c", "/a/rel"))
	require.NoError(t, v.Symlink("/a/b", "/abs"))
	require.NoError(t, v.Symlink("../..", "/a/b/c/up"))
	require.NoError(t, v.Symlink("f", "/a/b/c/lf"))

	for p, want := range map[string]string{
		"/a/./b/../b/c":      "/a/b/c",
		"/a/rel":             "/a/b/c",
		"/abs/c/f":           "/a/b/c/f",
		"/a/rel/up/b/c/../c": "/a/b/c",
		"/../../a/b":         "/a/b",
		"/abs/c/lf":          "/a/b/c/f",
	} {
		got, _, err := v.Resolve(nil, "/", p)
		require.NoError(t, err, p)
		require.Equal(t, want, got, p)
	}
	// Relative to a start directory.
	got, _, err := v.Resolve(nil, "/a/b", "c/../../rel/f")
	require.NoError(t, err)
	require.Equal(t, "/a/b/c/f", got)

	// lstat does not follow the last component; a trailing slash does.
	a, err := v.StatAt(nil, "/", "/a/rel", false)
	require.NoError(t, err)
	require.True(t, a.IsSymlink())
	a, err = v.StatAt(nil, "/", "/a/rel/", false)
	require.NoError(t, err)
	require.True(t, a.IsDir())

	// Errors.
	_, err = v.StatAt(nil, "/", "/a/b/c/f/x", true)
	require.Equal(t, linux.ENOTDIR, err)
	_, err = v.StatAt(nil, "/", "/a/b/c/f/", true)
	require.Equal(t, linux.ENOTDIR, err)
	_, err = v.StatAt(nil, "/", "/a/missing/x", true)
	require.Equal(t, linux.ENOENT, err)
	_, err = v.StatAt(nil, "/", "", true)
	require.Equal(t, linux.ENOENT, err)
	_, err = v.StatAt(nil, "/", "/a/"+strings.Repeat("n", 256), true)
	require.Equal(t, linux.ENAMETOOLONG, err)
	_, err = v.StatAt(nil, "/", "/"+strings.Repeat("a/", 2048), true)
	require.Equal(t, linux.ENAMETOOLONG, err)
	_, err = v.StatAt(nil, "/", "/a\x00b", true)
	require.Equal(t, linux.EINVAL, err)
}

func TestSymlinkLoop(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.Symlink("loop2", "/tmp/loop1"))
	require.NoError(t, v.Symlink("loop1", "/tmp/loop2"))
	_, err := v.StatAt(nil, "/", "/tmp/loop1", true)
	require.Equal(t, linux.ELOOP, err)
	_, err = v.OpenAt(nil, "/", "/tmp/loop1", linux.O_RDONLY, 0)
	require.Equal(t, linux.ELOOP, err)

	// A chain of exactly 40 links resolves; 41 is ELOOP.
	require.NoError(t, v.WriteFile("/tmp/end", nil, 0o644))
	prev := "/tmp/end"
	for i := 0; i < 41; i++ {
		name := "/tmp/l" + strings.Repeat("x", i)
		require.NoError(t, v.Symlink(prev, name))
		prev = name
	}
	_, err = v.StatAt(nil, "/", "/tmp/l"+strings.Repeat("x", 39), true)
	require.NoError(t, err)
	_, err = v.StatAt(nil, "/", "/tmp/l"+strings.Repeat("x", 40), true)
	require.Equal(t, linux.ELOOP, err)
}

func TestOpenFlags(t *testing.T) {
	v := newTestFS(t)
	f, err := v.OpenAt(nil, "/", "/tmp/f", linux.O_WRONLY|linux.O_CREAT|linux.O_EXCL, 0o640)
	require.NoError(t, err)
	_, err = f.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, err = v.OpenAt(nil, "/", "/tmp/f", linux.O_WRONLY|linux.O_CREAT|linux.O_EXCL, 0o640)
	require.Equal(t, linux.EEXIST, err)
	_, err = v.OpenAt(nil, "/", "/tmp/f", linux.O_RDONLY|linux.O_DIRECTORY, 0)
	require.Equal(t, linux.ENOTDIR, err)
	_, err = v.OpenAt(nil, "/", "/tmp", linux.O_WRONLY, 0)
	require.Equal(t, linux.EISDIR, err)
	_, err = v.OpenAt(nil, "/", "/tmp/new/", linux.O_WRONLY|linux.O_CREAT, 0o644)
	require.Equal(t, linux.EISDIR, err)

	require.NoError(t, v.Symlink("f", "/tmp/lnk"))
	_, err = v.OpenAt(nil, "/", "/tmp/lnk", linux.O_RDONLY|linux.O_NOFOLLOW, 0)
	require.Equal(t, linux.ELOOP, err)
	// O_CREAT|O_EXCL never follows a symlink, even a dangling one.
	require.NoError(t, v.Symlink("nothere", "/tmp/dangling"))
	_, err = v.OpenAt(nil, "/", "/tmp/dangling", linux.O_WRONLY|linux.O_CREAT|linux.O_EXCL, 0o644)
	require.Equal(t, linux.EEXIST, err)
	// O_CREAT alone creates the target.
	f, err = v.OpenAt(nil, "/", "/tmp/dangling", linux.O_WRONLY|linux.O_CREAT, 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "/tmp/nothere", f.Path)

	// O_APPEND writes at the end, O_TRUNC empties.
	f, err = v.OpenAt(nil, "/", "/tmp/f", linux.O_WRONLY|linux.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte(" world"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	b, err := v.ReadFile("/tmp/f")
	require.NoError(t, err)
	require.Equal(t, "hello world", string(b))
	f, err = v.OpenAt(nil, "/", "/tmp/f", linux.O_RDWR|linux.O_TRUNC, 0)
	require.NoError(t, err)
	a, err := f.Stat()
	require.NoError(t, err)
	require.Zero(t, a.Size)
	require.Equal(t, uint32(ModeRegular|0o640), a.Mode)
	_, err = f.Seek(-1, 0)
	require.Equal(t, linux.EINVAL, err)
	require.NoError(t, f.Close())

	// Reading a write-only file.
	f, err = v.OpenAt(nil, "/", "/tmp/f", linux.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Read(make([]byte, 4))
	require.Equal(t, linux.EBADF, err)
}

func TestNamespaceOps(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.Mount("/dev", "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	require.NoError(t, v.Mount("/proc", "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	require.NoError(t, v.MkdirAt(nil, "/", "/tmp/d", 0o755))
	require.Equal(t, linux.EEXIST, v.MkdirAt(nil, "/", "/tmp/d", 0o755))
	require.Equal(t, linux.ENOENT, v.MkdirAt(nil, "/", "/tmp/x/y", 0o755))
	require.NoError(t, v.WriteFile("/tmp/d/f", []byte("data"), 0o644))

	// Hard links share the inode and count links.
	require.NoError(t, v.LinkAt(nil, "/", "/tmp/d/f", "/", "/tmp/g", false))
	fa, _ := v.StatAt(nil, "/", "/tmp/d/f", true)
	ga, _ := v.StatAt(nil, "/", "/tmp/g", true)
	require.Equal(t, fa.Ino, ga.Ino)
	require.Equal(t, uint32(2), ga.Nlink)
	require.Equal(t, linux.EPERM, v.LinkAt(nil, "/", "/tmp/d", "/", "/tmp/dl", false))
	require.Equal(t, linux.EXDEV, v.LinkAt(nil, "/", "/tmp/g", "/", "/dev/g", false))

	// Directory link counts.
	da, _ := v.StatAt(nil, "/", "/tmp/d", true)
	require.Equal(t, uint32(2), da.Nlink)
	require.NoError(t, v.MkdirAt(nil, "/", "/tmp/d/sub", 0o755))
	da, _ = v.StatAt(nil, "/", "/tmp/d", true)
	require.Equal(t, uint32(3), da.Nlink)

	require.Equal(t, linux.ENOTEMPTY, v.UnlinkAt(nil, "/", "/tmp/d", true))
	require.Equal(t, linux.EISDIR, v.UnlinkAt(nil, "/", "/tmp/d", false))
	require.Equal(t, linux.ENOTDIR, v.UnlinkAt(nil, "/", "/tmp/g", true))
	require.Equal(t, linux.EINVAL, v.UnlinkAt(nil, "/", "/tmp/d/.", true))
	require.Equal(t, linux.EBUSY, v.UnlinkAt(nil, "/", "/proc", true))

	// Renames.
	require.Equal(t, linux.EINVAL, v.RenameAt(nil, "/", "/tmp/d", "/", "/tmp/d/sub/x", 0))
	require.Equal(t, linux.EISDIR, v.RenameAt(nil, "/", "/tmp/g", "/", "/tmp/d", 0))
	require.Equal(t, linux.ENOTDIR, v.RenameAt(nil, "/", "/tmp/d", "/", "/tmp/g", 0))
	require.NoError(t, v.MkdirAt(nil, "/", "/tmp/e", 0o755))
	require.Equal(t, linux.ENOTEMPTY, v.RenameAt(nil, "/", "/tmp/e", "/", "/tmp/d", 0))
	require.Equal(t, linux.EEXIST, v.RenameAt(nil, "/", "/tmp/g", "/", "/tmp/d/f", RenameNoreplace))
	require.NoError(t, v.WriteFile("/tmp/h", []byte("h"), 0o644))
	require.NoError(t, v.RenameAt(nil, "/", "/tmp/h", "/", "/tmp/d/f", RenameExchange))
	b, _ := v.ReadFile("/tmp/h")
	require.Equal(t, "data", string(b))
	require.NoError(t, v.RenameAt(nil, "/", "/tmp/e", "/", "/tmp/d/sub", 0))
	require.Equal(t, linux.EXDEV, v.RenameAt(nil, "/", "/tmp/g", "/", "/dev/x", 0))
	require.NoError(t, v.UnlinkAt(nil, "/", "/tmp/g", false))
	ha, _ := v.StatAt(nil, "/", "/tmp/h", true)
	require.Equal(t, uint32(1), ha.Nlink)

	// Symlink and readlink.
	require.NoError(t, v.SymlinkAt(nil, "../h", "/tmp/d", "ln"))
	target, err := v.ReadlinkAt(nil, "/", "/tmp/d/ln")
	require.NoError(t, err)
	require.Equal(t, "../h", target)
	_, err = v.ReadlinkAt(nil, "/", "/tmp/h")
	require.Equal(t, linux.EINVAL, err)
	require.Equal(t, linux.ENOENT, v.SymlinkAt(nil, "", "/", "/tmp/empty"))
}

func TestGetdents(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.MkdirAll("/tmp/g", 0o755))
	for _, n := range []string{"b", "a", "c"} {
		require.NoError(t, v.WriteFile("/tmp/g/"+n, nil, 0o644))
	}
	require.NoError(t, v.MkdirAt(nil, "/", "/tmp/g/dir", 0o755))
	f, err := v.OpenAt(nil, "/", "/tmp/g", linux.O_RDONLY|linux.O_DIRECTORY, 0)
	require.NoError(t, err)
	var names []string
	var types []uint8
	for {
		b, err := f.Getdents64(64)
		require.NoError(t, err)
		if len(b) == 0 {
			break
		}
		for len(b) > 0 {
			reclen := binary.LittleEndian.Uint16(b[16:])
			require.Zero(t, reclen%8)
			name := string(b[19:reclen])
			names = append(names, name[:strings.IndexByte(name, 0)])
			types = append(types, b[18])
			b = b[reclen:]
		}
	}
	require.Equal(t, []string{".", "..", "a", "b", "c", "dir"}, names)
	require.Equal(t, []uint8{DTDir, DTDir, DTReg, DTReg, DTReg, DTDir}, types)
	_, err = f.Getdents64(10)
	require.NoError(t, err) // at the end: nothing, no error
	_, err = f.Seek(0, 0)
	require.NoError(t, err)
	_, err = f.Getdents64(10)
	require.Equal(t, linux.EINVAL, err) // first record does not fit
}

func TestInodesStableAndDistinct(t *testing.T) {
	v := newTestFS(t)
	seen := map[uint64]string{}
	for _, p := range []string{"/bin", "/etc/passwd", "/etc/group", "/tmp", "/var/log"} {
		a, err := v.StatAt(nil, "/", p, true)
		require.NoError(t, err)
		require.NotContains(t, seen, a.Ino, p)
		seen[a.Ino] = p
		b, _ := v.StatAt(nil, "/", p, true)
		require.Equal(t, a.Ino, b.Ino)
	}
}

// hostTree makes a host directory "root/mnt" holding files and links, with
// a secret next to it that the guest must never reach.
func hostTree(t *testing.T) (mnt, secret string) {
	t.Helper()
	root := t.TempDir()
	mnt = filepath.Join(root, "mnt")
	require.NoError(t, os.MkdirAll(filepath.Join(mnt, "sub"), 0o755))
	secret = filepath.Join(root, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("host secret"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "file"), []byte("inside"), 0o644))
	// Links created on the host that point outside the mount.
	require.NoError(t, os.Symlink(secret, filepath.Join(mnt, "abs-out")))
	require.NoError(t, os.Symlink("../secret", filepath.Join(mnt, "rel-out")))
	require.NoError(t, os.Symlink("../../secret", filepath.Join(mnt, "sub", "rel-out2")))
	require.NoError(t, os.Symlink(root, filepath.Join(mnt, "dir-out")))
	return mnt, secret
}

func TestHostMountEscapes(t *testing.T) {
	v := newTestFS(t)
	mnt, secret := hostTree(t)
	require.NoError(t, v.MountHost(mnt, "/host", false))
	// The guest has its own file called "secret" next to the mount point:
	// escapes land there, in the guest's namespace, never on the host.
	require.NoError(t, v.WriteFile("/secret", []byte("guest file"), 0o644))

	b, err := v.ReadFile("/host/file")
	require.NoError(t, err)
	require.Equal(t, "inside", string(b))

	for _, p := range []string{"/host/../secret", "/host/rel-out", "/host/sub/rel-out2", "/host/sub/../../secret", "/host/sub/../rel-out"} {
		b, err := v.ReadFile(p)
		require.NoError(t, err, p)
		require.Equal(t, "guest file", string(b), p)
	}
	// An absolute host path in a symlink means that path in the guest.
	_, err = v.ReadFile("/host/abs-out")
	require.ErrorIs(t, err, linux.ENOENT)
	_, err = v.StatAt(nil, "/", "/host/dir-out/secret", true)
	require.Equal(t, linux.ENOENT, err)

	// A guest symlink to the host path outside.
	require.NoError(t, v.Symlink(secret, "/host/mine"))
	_, err = v.ReadFile("/host/mine")
	require.ErrorIs(t, err, linux.ENOENT)
	target, err := os.Readlink(filepath.Join(mnt, "mine"))
	require.NoError(t, err)
	require.Equal(t, secret, target, "the link is stored verbatim on the host")

	// Writes through links that point outside stay in the guest.
	f, err := v.OpenAt(nil, "/", "/host/rel-out", linux.O_WRONLY|linux.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("changed"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	hb, err := os.ReadFile(secret)
	require.NoError(t, err)
	require.Equal(t, "host secret", string(hb))

	// Hard links to outside are impossible: the source resolves in the
	// guest (another mount: EXDEV).
	require.Equal(t, linux.EXDEV, v.LinkAt(nil, "/", "/host/rel-out", "/", "/host/hl", true))

	// Guest-created files appear on the host with host inode numbers.
	require.NoError(t, v.WriteFile("/host/sub/new", []byte("n"), 0o644))
	hb, err = os.ReadFile(filepath.Join(mnt, "sub", "new"))
	require.NoError(t, err)
	require.Equal(t, "n", string(hb))
	a, err := v.StatAt(nil, "/", "/host/sub/new", true)
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(mnt, "sub", "new"))
	require.NoError(t, err)
	require.Equal(t, fi.Sys().(*syscall.Stat_t).Ino, a.Ino)

	// ".." from the mount root is the guest's "/".
	p, _, err := v.Resolve(nil, "/host", "..")
	require.NoError(t, err)
	require.Equal(t, "/", p)
}

func TestHostMountReadOnly(t *testing.T) {
	v := newTestFS(t)
	mnt, _ := hostTree(t)
	require.NoError(t, v.MountHost(mnt, "/ro", true))
	b, err := v.ReadFile("/ro/file")
	require.NoError(t, err)
	require.Equal(t, "inside", string(b))

	_, err = v.OpenAt(nil, "/", "/ro/file", linux.O_WRONLY, 0)
	require.Equal(t, linux.EROFS, err)
	_, err = v.OpenAt(nil, "/", "/ro/file", linux.O_RDONLY|linux.O_TRUNC, 0)
	require.Equal(t, linux.EROFS, err)
	_, err = v.OpenAt(nil, "/", "/ro/newfile", linux.O_WRONLY|linux.O_CREAT, 0o644)
	require.Equal(t, linux.EROFS, err)
	require.Equal(t, linux.EROFS, v.MkdirAt(nil, "/", "/ro/d", 0o755))
	require.Equal(t, linux.EROFS, v.UnlinkAt(nil, "/", "/ro/file", false))
	require.Equal(t, linux.EROFS, v.UnlinkAt(nil, "/", "/ro/sub", true))
	require.Equal(t, linux.EROFS, v.SymlinkAt(nil, "x", "/", "/ro/l"))
	require.Equal(t, linux.EROFS, v.RenameAt(nil, "/", "/ro/file", "/", "/ro/file2", 0))
	require.Equal(t, linux.EROFS, v.LinkAt(nil, "/", "/ro/file", "/", "/ro/file3", false))
	mode := uint32(0o777)
	require.Equal(t, linux.EROFS, v.SetAttrAt(nil, "/", "/ro/file", true, SetAttr{Mode: &mode}))
	require.Equal(t, linux.EROFS, v.AccessAt(nil, "/", "/ro/file", AccessW, true, 0, 0))
	require.NoError(t, v.AccessAt(nil, "/", "/ro/file", AccessR, true, 0, 0))
	st, err := v.StatfsAt(nil, "/", "/ro")
	require.NoError(t, err)
	require.NotZero(t, st.Flags&stRdonly)
	// An open read-only description cannot truncate either.
	f, err := v.OpenAt(nil, "/", "/ro/file", linux.O_RDONLY, 0)
	require.NoError(t, err)
	size := int64(0)
	require.Equal(t, linux.EROFS, f.SetAttr(SetAttr{Size: &size}))
	fi, err := os.Stat(filepath.Join(mnt, "file"))
	require.NoError(t, err)
	require.Equal(t, int64(6), fi.Size())
}

func TestHostMountGetdentsHostOrder(t *testing.T) {
	v := newTestFS(t)
	mnt, _ := hostTree(t)
	require.NoError(t, v.MountHost(mnt, "/h", false))
	ents, err := v.ReadDir("/h")
	require.NoError(t, err)
	hostEnts, err := os.Open(mnt)
	require.NoError(t, err)
	names, err := hostEnts.Readdirnames(-1)
	require.NoError(t, err)
	hostEnts.Close()
	var got []string
	for _, e := range ents {
		got = append(got, e.Name)
	}
	require.Equal(t, names, got)
}

func TestMountCrossingAndUnmount(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.MkdirAll("/mnt/t", 0o755))
	require.NoError(t, v.WriteFile("/mnt/t/under", nil, 0o644))
	require.NoError(t, v.Mount("/mnt/t", "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o1777, v.RAM(), 0), false))
	_, err := v.StatAt(nil, "/", "/mnt/t/under", true)
	require.Equal(t, linux.ENOENT, err, "the mount hides what is below")
	require.NoError(t, v.WriteFile("/mnt/t/over", nil, 0o644))
	ra, _ := v.StatAt(nil, "/", "/", true)
	ta, _ := v.StatAt(nil, "/", "/mnt/t/over", true)
	require.NotEqual(t, ra.Dev, ta.Dev)
	require.Equal(t, linux.EBUSY, v.UnlinkAt(nil, "/", "/mnt/t", true))
	require.Equal(t, linux.EBUSY, v.RenameAt(nil, "/", "/mnt/t", "/", "/mnt/u", 0))
	require.Equal(t, linux.EINVAL, v.Unmount("/mnt"), "not a mount point")
	require.Equal(t, linux.EINVAL, v.Unmount("/mnt"+"/x"))
	require.NoError(t, v.Unmount("/mnt/t"))
	_, err = v.StatAt(nil, "/", "/mnt/t/under", true)
	require.NoError(t, err)
}

// TestMountsStack: mount(2) over a mount covers it, as Linux does; the
// mounts attached to the covered one are hidden with it, and unmounting
// the top reveals them all again.
func TestMountsStack(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.MkdirAll("/mnt", 0o755))
	require.NoError(t, v.Mount("/mnt", "tmpfs", "first", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	require.NoError(t, v.WriteFile("/mnt/one", []byte("1"), 0o644))
	require.NoError(t, v.MkdirAll("/mnt/sub", 0o755))
	require.NoError(t, v.Mount("/mnt/sub", "tmpfs", "sub", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	require.NoError(t, v.WriteFile("/mnt/sub/inner", nil, 0o644))
	require.Equal(t, linux.EBUSY, v.Unmount("/mnt"), "a mount is attached to it")

	require.NoError(t, v.Mount("/mnt", "tmpfs", "second", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	_, err := v.StatAt(nil, "/", "/mnt/one", true)
	require.Equal(t, linux.ENOENT, err, "the first mount is covered")
	_, err = v.StatAt(nil, "/", "/mnt/sub", true)
	require.Equal(t, linux.ENOENT, err, "and the mount on it")
	require.NoError(t, v.MkdirAll("/mnt/sub", 0o755))
	_, err = v.StatAt(nil, "/", "/mnt/sub/inner", true)
	require.Equal(t, linux.ENOENT, err)
	require.Len(t, v.Mounts(), 4, "/proc/mounts lists covered mounts too")

	require.NoError(t, v.Unmount("/mnt"))
	b, err := v.ReadFile("/mnt/one")
	require.NoError(t, err)
	require.Equal(t, "1", string(b))
	_, err = v.StatAt(nil, "/", "/mnt/sub/inner", true)
	require.NoError(t, err, "the sub mount is back")
	require.NoError(t, v.Unmount("/mnt/sub"))
	require.NoError(t, v.Unmount("/mnt"))
	require.Equal(t, linux.EINVAL, v.Unmount("/mnt"))

	// Over the root and over a host mount.
	mnt, _ := hostTree(t)
	require.NoError(t, v.MountHost(mnt, "/h", false))
	require.NoError(t, v.Mount("/h", "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	_, err = v.StatAt(nil, "/", "/h/file", true)
	require.Equal(t, linux.ENOENT, err)
	require.NoError(t, v.Unmount("/h"))
	b, err = v.ReadFile("/h/file")
	require.NoError(t, err)
	require.Equal(t, "inside", string(b))
	require.NoError(t, v.Mount("/", "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	_, err = v.StatAt(nil, "/", "/etc/passwd", true)
	require.Equal(t, linux.ENOENT, err)
	require.NoError(t, v.Unmount("/"))
	_, err = v.StatAt(nil, "/", "/etc/passwd", true)
	require.NoError(t, err)
	require.Equal(t, linux.EBUSY, v.Unmount("/"), "the first root stays")
}

// TestProtect: a protected directory and those above it cannot be
// mounted on, unmounted, renamed or removed; the files in it can.
func TestProtect(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.MkdirAll("/var/log/sub", 0o755))
	require.NoError(t, v.MkdirAll("/tmp/d", 0o755))
	require.NoError(t, v.WriteFile("/var/log/a", []byte("a"), 0o644))
	require.NoError(t, v.Protect("/var/log"))
	for _, p := range []string{"/var/log", "/var", "/"} {
		require.ErrorIs(t, v.Mount(p, "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false), linux.EBUSY, p)
		require.Equal(t, linux.EBUSY, v.RenameAt(nil, "/", p, "/", "/tmp/x", 0), p)
		require.Equal(t, linux.EBUSY, v.RenameAt(nil, "/", "/tmp/d", "/", p, 0), p)
		require.Equal(t, linux.EBUSY, v.RenameAt(nil, "/", "/tmp/d", "/", p, RenameExchange), p)
		require.Equal(t, linux.EBUSY, v.UnlinkAt(nil, "/", p, true), p)
	}
	require.Equal(t, linux.EBUSY, v.RenameAt(nil, "/", "/var/log/../log", "/", "/tmp/x", 0), "canonical paths are checked")
	// Below it and in it, everything goes.
	require.NoError(t, v.Mount("/var/log/sub", "tmpfs", "tmpfs", NewTmpfs(v.Now, 0o755, v.RAM(), 0), false))
	require.NoError(t, v.Unmount("/var/log/sub"))
	require.NoError(t, v.RenameAt(nil, "/", "/var/log/a", "/", "/var/log/a.1", 0))
	require.NoError(t, v.RenameAt(nil, "/", "/var/log/sub", "/", "/var/log/sub2", 0))
	require.NoError(t, v.Remove("/var/log/a.1"))
}

// Linux's path rules the Go standard library's os tests check: a
// symlink's own trailing slash requires a directory, mkdir of "link/"
// does not follow a dangling link, and an open directory keeps working
// after its parent is renamed.
func TestTrailingSlashesAndRenamedParents(t *testing.T) {
	v := New(nil)
	require.NoError(t, v.MkdirAll("/d/sub", 0o755))
	require.NoError(t, v.WriteFile("/d/file", []byte("x"), 0o644))
	require.NoError(t, v.Symlink("file/", "/d/link"))
	_, err := v.OpenAt(nil, "/", "/d/link", linux.O_RDONLY, 0)
	require.ErrorIs(t, err, linux.ENOTDIR)

	require.NoError(t, v.Symlink("missing", "/d/dangling"))
	require.ErrorIs(t, v.MkdirAt(nil, "/", "/d/dangling/", 0o755), linux.EEXIST)
	_, err = v.StatAt(nil, "/", "/d/missing", false)
	require.ErrorIs(t, err, linux.ENOENT, "mkdir did not follow the link")

	dir, err := v.OpenAt(nil, "/", "/d/sub", linux.O_RDONLY|linux.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer dir.Close()
	var moved []string
	v.OnRename(func(move func(string) (string, bool)) {
		p, _ := move("/d/sub/x")
		moved = append(moved, p)
	})
	require.NoError(t, v.RenameAt(nil, "/", "/d", "/", "/e", 0))
	require.Equal(t, "/e/sub", dir.Path)
	require.Equal(t, []string{"/e/sub/x"}, moved)
	require.NoError(t, v.WriteFile(dir.Path+"/f", []byte("y"), 0o644))
}
