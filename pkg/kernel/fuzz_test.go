package kernel

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzSyscallSequence runs byte strings as sequences of memory, file and
// pipe system calls (guest/sysfuzz: mmap, munmap, mprotect, brk, mremap,
// madvise, open, close, dup, pipe2, read, write with fuzzed arguments).
// Whatever the calls do to the guest, the kernel answers each one, fails
// none of its own checks, never deadlocks and keeps the machine within its
// RAM. `go test` runs the seed corpus (testdata/fuzz/FuzzSyscallSequence);
// `go test -fuzz FuzzSyscallSequence ./pkg/kernel` explores further.
func FuzzSyscallSequence(f *testing.F) {
	prog := readGuest(f, "sysfuzz")
	const ram = 64 << 20
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		m, err := New(Config{Mem: ram, MaxInsns: 500_000_000, Stdin: bytes.NewReader(in), Stdout: &out, Stderr: &out})
		require.NoError(t, err)
		defer m.Close()
		require.NoError(t, m.FS().WriteFile("/bin/sysfuzz", prog, 0o755))
		_, err = m.Run(ProcessSpec{Path: "/bin/sysfuzz"})
		require.NoError(t, err)
		require.Zero(t, m.KernelErrors(), "kernel errors")
		require.LessOrEqual(t, m.MemStats().Peak, uint64(ram))
	})
}
