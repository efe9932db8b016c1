package kernel_test

import (
	"bytes"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// Differential tests of the Linux breadth guests (locks, fifo, creds,
// sched, timers, fsmisc): each is self-checking and passes every check
// under qemu-aarch64-static; sissim must print the same.

// diffGuest runs a self-checking guest under both and compares them.
func diffGuest(t *testing.T, name string, opt difftest.Options, args ...string) difftest.Result {
	t.Helper()
	sim, ref := difftest.Run(t, difftest.Guest(t, name), args, opt)
	require.Equal(t, 0, ref.Exit, "qemu must pass every check:\n%s%s", ref.Stdout, ref.Stderr)
	difftest.Equal(t, sim, ref)
	return sim
}

// TestDiffLocks: POSIX, OFD and flock locks across processes, in a tmpfs.
func TestDiffLocks(t *testing.T) {
	diffGuest(t, "locks", difftest.Options{})
}

// TestDiffLocksHostMount: the same on a host mount, where the locks are
// still the kernel's (the host never sees them).
func TestDiffLocksHostMount(t *testing.T) {
	dir := t.TempDir()
	diffGuest(t, "locks", difftest.Options{Dir: dir, Setup: func(m *kernel.Machine) error {
		return m.FS().MountHost(dir, dir, false)
	}})
}

// TestDiffFIFO: FIFOs, mknod and reopening through /proc/self/fd, in a
// tmpfs.
func TestDiffFIFO(t *testing.T) {
	diffGuest(t, "fifo", difftest.Options{})
}

// TestDiffFIFOHostMount: FIFOs on a host mount, whose pipes are the
// kernel's (device nodes are refused there, so "nodev").
func TestDiffFIFOHostMount(t *testing.T) {
	dir := t.TempDir()
	diffGuest(t, "fifo", difftest.Options{Dir: dir, Setup: func(m *kernel.Machine) error {
		return m.FS().MountHost(dir, dir, false)
	}}, "nodev")
}

// TestDiffCreds: credentials of root, dropping them, capabilities, and
// the permission checks that follow the ids.
func TestDiffCreds(t *testing.T) {
	diffGuest(t, "creds", difftest.Options{})
}

// TestDiffSched: nice values, policies, affinity, membarrier, I/O
// priorities, personality and PR_SET_PDEATHSIG.
func TestDiffSched(t *testing.T) {
	diffGuest(t, "sched", difftest.Options{})
}

// TestSchedSubreaperAndLinux32 checks what qemu-user 7.2 gets wrong: it
// refuses PR_SET_CHILD_SUBREAPER (an orphan then goes to the nearest
// subreaper, as prctl(2) documents) and reports its own machine for
// PER_LINUX32 (an arm64 kernel reports armv8l, COMPAT_UTS_MACHINE).
func TestSchedSubreaperAndLinux32(t *testing.T) {
	out, st := runGuest(t, "sched", "more")
	require.Equal(t, 0, st.Code, out)
	require.Contains(t, out, "8 passed, 0 failed")
}

// TestDiffTimers: interval timers and POSIX timers on the machine's
// clocks and on CPU time.
func TestDiffTimers(t *testing.T) {
	diffGuest(t, "timers", difftest.Options{})
}

// TestDiffFSMisc: extended attributes, fallocate, statx btime, statfs
// f_fsid, copy_file_range, fadvise, sync_file_range, /proc/sys,
// /proc/self/loginuid and chroot, in a tmpfs.
func TestDiffFSMisc(t *testing.T) {
	diffGuest(t, "fsmisc", difftest.Options{})
}

// TestNativeFchmodat2: fchmodat2 (Linux 6.6), which qemu-user 7.2 does
// not know, against the same checks built for the host and run on its
// kernel when it has the call.
func TestNativeFchmodat2(t *testing.T) {
	sim := difftest.RunSim(t, difftest.Guest(t, "fsmisc"), []string{"fchmodat2"}, difftest.Options{})
	require.Equal(t, 0, sim.Exit, "%s", sim.Stdout)
	require.Contains(t, string(sim.Stdout), "6 passed, 0 failed\n")
	cc, err := osexec.LookPath("cc")
	if err != nil {
		t.Skip("no host C compiler")
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "guest", "fsmisc.c"))
	require.NoError(t, err)
	dir := t.TempDir()
	bin := filepath.Join(dir, "fsmisc")
	if out, err := osexec.Command(cc, "-O1", "-w", "-I", filepath.Dir(src), "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("host build of fsmisc.c: %v\n%s", err, out)
	}
	cmd := osexec.Command(bin, "fchmodat2")
	cmd.Dir = dir
	want, err := cmd.Output()
	if bytes.Contains(want, []byte("Function not implemented")) {
		t.Skip("the host kernel has no fchmodat2")
	}
	require.NoError(t, err, "%s", want)
	require.Equal(t, string(want), string(sim.Stdout))
}

// TestDiffFSMiscHostMount: the same on a host mount (its xattrs, its
// fallocate, its statx).
func TestDiffFSMiscHostMount(t *testing.T) {
	dir := t.TempDir()
	diffGuest(t, "fsmisc", difftest.Options{Dir: dir, Setup: func(m *kernel.Machine) error {
		return m.FS().MountHost(dir, dir, false)
	}})
}

// TestControllingTerminal: /dev/tty is the controlling terminal. The
// console is that of every program the machine starts when it is a
// terminal, and no process has one otherwise; setsid leaves it (ENXIO, as
// Linux for a process without one). No reference run: qemu-user's depends
// on the terminal the tests run in.
func TestControllingTerminal(t *testing.T) {
	for _, c := range []struct {
		tty  bool
		want string
	}{
		{false, "tty: No such device or address\nafter setsid: No such device or address\n"},
		{true, "tty: yes\nafter setsid: No such device or address\n"},
	} {
		data, err := os.ReadFile(difftest.Guest(t, "fsmisc"))
		require.NoError(t, err)
		var out bytes.Buffer
		m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, ConsoleIsTerminal: c.tty})
		require.NoError(t, err)
		require.NoError(t, m.FS().WriteFile("/bin/fsmisc", data, 0o755))
		st, err := m.Run(kernel.ProcessSpec{Path: "/bin/fsmisc", Argv: []string{"fsmisc", "tty"}})
		require.NoError(t, err)
		require.Equal(t, 0, st.Code)
		require.Equal(t, c.want, out.String(), "console is a terminal: %v", c.tty)
		m.Close()
	}
}
