package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// POSIX threads (glibc's) behave as under qemu-user: mutexes, condition
// variables, TLS and key destructors, semaphores, barriers, rwlocks,
// cancellation, detached threads, exit_group from a thread, pthread_kill.
func TestDiffThreads(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "threads"), nil, difftest.Options{})
	require.Equal(t, 0, ref.Exit, "qemu must pass every check:\n%s", ref.Stdout)
	difftest.Equal(t, sim, ref)
}

// What qemu-user 7.2 cannot do (no set_robust_list; no re-exec without
// binfmt; its /proc/self/task is its own): robust mutexes whose owner
// died, /proc/<pid>/task, and execve from a thread that is not the leader.
func TestThreadsBeyondQemu(t *testing.T) {
	out, st := runGuest(t, "threads", "beyond-qemu")
	require.Equal(t, "ok - robust mutex of a dead owner\nok - /proc/self/task lists both threads\nok - the thread's comm\n"+
		"ok - its status: Tgid the process, Pid the thread\nok - /proc/<tid> is the thread\n"+
		"same pid after exec from a thread\nok - execve from a thread\n6 passed, 0 failed\n", out)
	require.Equal(t, 0, st.Code)
}

// Two runs of a threaded program give byte-identical output and strace.
func TestThreadsDeterministic(t *testing.T) {
	a := difftest.RunSim(t, difftest.Guest(t, "threads"), nil, difftest.Options{})
	b := difftest.RunSim(t, difftest.Guest(t, "threads"), nil, difftest.Options{})
	require.Equal(t, a.Stdout, b.Stdout)
	require.Equal(t, a.Strace, b.Strace)
	require.Contains(t, a.Strace, "clone(child_stack=")
}

// racyRun runs the racy guest under a schedule seed.
func racyRun(t *testing.T, seed uint64) (string, int) {
	t.Helper()
	r := difftest.RunSim(t, difftest.Guest(t, "racy"), nil, difftest.Options{Setup: func(m *kernel.Machine) error {
		m.SetSchedSeed(seed)
		return nil
	}})
	return string(r.Stdout), r.Exit
}

// The plain deterministic schedule never interleaves the racy guest's
// threads inside their read-modify-write; a perturbed schedule finds the
// lost updates within a few seeds, and a failing seed replays exactly.
func TestSchedSeedFindsRace(t *testing.T) {
	out, code := racyRun(t, 0)
	require.Equal(t, "counter 4000 of 4000\n", out)
	require.Equal(t, 0, code)
	failing := uint64(0)
	for seed := uint64(1); seed <= 5 && failing == 0; seed++ {
		if _, code := racyRun(t, seed); code != 0 {
			failing = seed
		}
	}
	require.NotZero(t, failing, "no seed of 1..5 found the race")
	a, _ := racyRun(t, failing)
	b, _ := racyRun(t, failing)
	require.Equal(t, a, b, "seed %d replays", failing)
	require.NotEqual(t, "counter 4000 of 4000\n", a)
}
