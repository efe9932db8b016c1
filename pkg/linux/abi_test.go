package linux_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// TestABIConstants spot-checks values that differ between architectures or
// are easy to get wrong. When the package was written, every constant in
// abi.go was compared with the value the aarch64 cross headers give
// (a generated C program built with aarch64-linux-gnu-gcc and run under
// qemu-aarch64-static).
func TestABIConstants(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int64
	}{
		{"O_CREAT", linux.O_CREAT, 0o100},
		{"O_DIRECTORY", linux.O_DIRECTORY, 0o40000},
		{"O_NOFOLLOW", linux.O_NOFOLLOW, 0o100000},
		{"O_DIRECT", linux.O_DIRECT, 0o200000},
		{"O_LARGEFILE", linux.O_LARGEFILE, 0o400000},
		{"O_CLOEXEC", linux.O_CLOEXEC, 0o2000000},
		{"O_SYNC", linux.O_SYNC, 0o4010000},
		{"O_PATH", linux.O_PATH, 0o10000000},
		{"O_TMPFILE", linux.O_TMPFILE, 0o20040000},
		{"AT_FDCWD", linux.AT_FDCWD, -100},
		{"AT_EMPTY_PATH", linux.AT_EMPTY_PATH, 0x1000},
		{"F_DUPFD_CLOEXEC", linux.F_DUPFD_CLOEXEC, 1030},
		{"MAP_ANONYMOUS", linux.MAP_ANONYMOUS, 0x20},
		{"MAP_FIXED_NOREPLACE", linux.MAP_FIXED_NOREPLACE, 0x100000},
		{"MAP_STACK", linux.MAP_STACK, 0x20000},
		{"AT_RANDOM", linux.AT_RANDOM, 25},
		{"AT_MINSIGSTKSZ", linux.AT_MINSIGSTKSZ, 51},
		{"CLOCK_BOOTTIME", linux.CLOCK_BOOTTIME, 7},
		{"TIOCGWINSZ", linux.TIOCGWINSZ, 0x5413},
		{"FIONBIO", linux.FIONBIO, 0x5421},
		{"RLIMIT_NOFILE", linux.RLIMIT_NOFILE, 7},
		{"PATH_MAX", linux.PATH_MAX, 4096},
	} {
		require.Equal(t, tc.want, tc.got, tc.name)
	}
}
