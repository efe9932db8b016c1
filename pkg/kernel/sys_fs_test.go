package kernel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// TestDiffFstest runs the VFS self-checks on the tmpfs root under sissim and
// on the host file system under qemu.
func TestDiffFstest(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "fstest"), nil, difftest.Options{})
	require.Equal(t, 0, ref.Exit, "qemu must pass every check:\n%s", ref.Stdout)
	require.Contains(t, string(ref.Stdout), " passed, 0 failed\n")
	difftest.Equal(t, sim, ref)
}

// TestFstestOnHostMount runs the self-checks in a host directory mounted
// into the guest, so the host backend gives Linux's answers too.
func TestFstestOnHostMount(t *testing.T) {
	host := t.TempDir()
	guest := "/mnt/host"
	sim := difftest.RunSim(t, difftest.Guest(t, "fstest"), []string{guest}, difftest.Options{
		Setup: func(m *kernel.Machine) error { return m.FS().MountHost(host, guest, false) },
	})
	require.Equal(t, 0, sim.Exit, "%s", sim.Stdout)
	require.Contains(t, string(sim.Stdout), " passed, 0 failed\n")
	// What the guest made is on the host.
	fi, err := os.Lstat(filepath.Join(host, "sl"))
	require.NoError(t, err)
	require.Equal(t, os.ModeSymlink, fi.Mode().Type())
}

// fixedTime is the time stamped on every file of the busybox trees.
var fixedTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// makeTree creates the same small tree under dir, with fixed times.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"a.txt":          "alpha\nbeta\ngamma\n",
		"b.txt":          "3\n1\n2\n10\n",
		"sub/c.txt":      strings.Repeat("line\n", 30),
		"sub/deep/d.txt": "deep\n",
		"empty":          "",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	require.NoError(t, os.Symlink("sub/c.txt", filepath.Join(dir, "link")))
	require.NoError(t, os.Symlink("../a.txt", filepath.Join(dir, "sub", "up")))
	ts := []unix.Timespec{unix.NsecToTimespec(fixedTime.UnixNano()), unix.NsecToTimespec(fixedTime.UnixNano())}
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// TestDiffBusyboxHostTree runs busybox file applets over a host directory:
// under qemu in directory ref, under sissim in an identical copy mounted at
// ref's path, so both see the same paths.
func TestDiffBusyboxHostTree(t *testing.T) {
	bb := difftest.Busybox(t)
	cases := []struct {
		name string
		args []string
	}{
		// Not "ls -a ." : its ".." is outside the tree (the guest's
		// tmpfs under sissim, the test's temporary directory under qemu).
		{"ls -l", []string{"ls", "-l", "--color=never", "."}},
		{"ls -la sub", []string{"ls", "-la", "sub"}},
		{"ls -lan sub", []string{"ls", "-lan", "sub"}},
		{"ls -R", []string{"ls", "-R"}},
		{"cat", []string{"cat", "a.txt", "link", "sub/up"}},
		{"head", []string{"head", "-n", "3", "sub/c.txt"}},
		{"tail", []string{"tail", "-n", "2", "a.txt"}},
		{"sort", []string{"sort", "-n", "b.txt"}},
		{"readlink -f", []string{"readlink", "-f", "sub/up"}},
		{"readlink", []string{"readlink", "link"}},
		{"find", []string{"find", ".", "-name", "*.txt"}},
		{"find -type", []string{"find", "sub", "-type", "f"}},
		{"stat -c", []string{"stat", "-c", "%n %s %a %F %h %Y", "a.txt", "sub", "link", "empty"}},
		{"du", []string{"du", "-a", "."}},
		{"mkdir -p", []string{"mkdir", "-p", "x/y/z"}},
		{"mkdir existing", []string{"mkdir", "sub"}},
		{"ln -s", []string{"ln", "-s", "a.txt", "newlink"}},
		{"cp", []string{"cp", "a.txt", "sub/copy"}},
		{"cp -r", []string{"cp", "-r", "sub", "sub2"}},
		{"mv", []string{"mv", "a.txt", "sub/deep/moved"}},
		{"rm -r", []string{"rm", "-r", "sub"}},
		{"rm missing", []string{"rm", "nothing"}},
		{"cat missing", []string{"cat", "sub/none"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := t.TempDir()
			sim := t.TempDir()
			makeTree(t, ref)
			makeTree(t, sim)
			s, r := difftest.Run(t, bb, c.args, difftest.Options{
				Argv0: c.args[0],
				Dir:   ref,
				Setup: func(m *kernel.Machine) error { return m.FS().MountHost(sim, ref, false) },
			})
			difftest.Equal(t, s, r)
			// The trees must end up the same too.
			require.Equal(t, listTree(t, ref), listTree(t, sim))
		})
	}
}

// listTree describes every entry under dir: path, type, size, link target.
func listTree(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := rel + " " + fi.Mode().String()
		if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			line += " -> " + target
		} else if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			line += " " + string(b)
		}
		out = append(out, line)
		return nil
	}))
	return out
}

// TestHostMountCannotEscape runs a guest that tries every escape; the host
// file next to the mount must stay unreachable and unchanged.
func TestHostMountCannotEscape(t *testing.T) {
	bb := difftest.Busybox(t)
	root := t.TempDir()
	mnt := filepath.Join(root, "mnt")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	secret := filepath.Join(root, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("host secret\n"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(mnt, "abs")))
	require.NoError(t, os.Symlink("../secret", filepath.Join(mnt, "rel")))
	for _, args := range [][]string{
		{"cat", "/m/../secret"},
		{"cat", "/m/abs"},
		{"cat", "/m/rel"},
		{"cat", secret},
		{"ln", "-s", "../../../../../../" + secret, "/m/mine"},
		{"cat", "/m/mine"},
		{"cp", "/m/rel", "/m/copy"},
	} {
		r := difftest.RunSim(t, bb, args, difftest.Options{Argv0: args[0],
			Setup: func(m *kernel.Machine) error { return m.FS().MountHost(mnt, "/m", false) }})
		require.NotContains(t, string(r.Stdout), "host secret", args)
	}
	b, err := os.ReadFile(secret)
	require.NoError(t, err)
	require.Equal(t, "host secret\n", string(b))
	_, err = os.Stat(filepath.Join(mnt, "copy"))
	require.True(t, os.IsNotExist(err), "cp read nothing through the escaping link")

	// Read-only mounts refuse writes with EROFS.
	r := difftest.RunSim(t, bb, []string{"touch", "/m/new"}, difftest.Options{Argv0: "touch",
		Setup: func(m *kernel.Machine) error { return m.FS().MountHost(mnt, "/m", true) }})
	require.NotEqual(t, 0, r.Exit)
	require.Contains(t, string(r.Stderr), "Read-only file system")
	_, err = os.Stat(filepath.Join(mnt, "new"))
	require.True(t, os.IsNotExist(err))
}

// TestAppendOnlyFile: a file the kernel made append-only only grows, for
// guests (the appendonly self-checks) and for Go code; host mounts keep no
// inode flags.
func TestAppendOnlyFile(t *testing.T) {
	host := t.TempDir()
	sim := difftest.RunSim(t, difftest.Guest(t, "appendonly"), []string{"/var/log/audit.jsonl"}, difftest.Options{
		Setup: func(m *kernel.Machine) error {
			if err := m.FS().MkdirAll("/var/log", 0o755); err != nil {
				return err
			}
			if err := m.FS().WriteFile("/var/log/audit.jsonl", []byte("{}\n"), 0o644); err != nil {
				return err
			}
			if err := m.FS().SetAppendOnly("/var/log/audit.jsonl"); err != nil {
				return err
			}
			require.ErrorIs(t, m.FS().WriteFile("/var/log/audit.jsonl", nil, 0o644), os.ErrPermission)
			require.ErrorIs(t, m.FS().Remove("/var/log/audit.jsonl"), os.ErrPermission)
			require.NoError(t, m.FS().MountHost(host, "/mnt", false))
			require.NoError(t, m.FS().WriteFile("/mnt/f", nil, 0o644))
			require.ErrorIs(t, m.FS().SetAppendOnly("/mnt/f"), linux.EOPNOTSUPP)
			return nil
		},
	})
	require.Equal(t, 0, sim.Exit, "%s", sim.Stdout)
	require.Contains(t, string(sim.Stdout), "ok - pwrite at 0 appends too\n")
	require.Contains(t, string(sim.Stdout), " passed, 0 failed\n")
}
