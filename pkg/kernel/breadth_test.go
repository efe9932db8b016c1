package kernel_test

import (
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
