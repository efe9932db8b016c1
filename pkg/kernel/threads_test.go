package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
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
// binfmt): robust mutexes whose owner died, and execve from a thread that
// is not the leader.
func TestThreadsBeyondQemu(t *testing.T) {
	out, st := runGuest(t, "threads", "beyond-qemu")
	require.Equal(t, "ok - robust mutex of a dead owner\nsame pid after exec from a thread\nok - execve from a thread\n2 passed, 0 failed\n", out)
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
