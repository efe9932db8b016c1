package linux_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func TestSyscallNumbers(t *testing.T) {
	// Numbers of the Linux arm64 ABI (asm-generic/unistd.h).
	for nr, want := range map[int]int{
		linux.SysIoSetup:       0,
		linux.SysFcntl:         25,
		linux.SysOpenat:        56,
		linux.SysRead:          63,
		linux.SysWrite:         64,
		linux.SysNewfstatat:    79,
		linux.SysFstat:         80,
		linux.SysExitGroup:     94,
		linux.SysClone:         220,
		linux.SysExecve:        221,
		linux.SysMmap:          222,
		linux.SysRseq:          293,
		linux.SysClone3:        435,
		linux.SysFutexWaitv:    449,
		linux.SysSetTidAddress: 96,
		linux.SysPrlimit64:     261,
	} {
		require.Equal(t, want, nr)
	}
}

func TestSyscallName(t *testing.T) {
	for nr, want := range map[uint64]string{
		0:   "io_setup",
		25:  "fcntl",
		29:  "ioctl",
		38:  "renameat",
		56:  "openat",
		62:  "lseek",
		63:  "read",
		64:  "write",
		66:  "writev",
		78:  "readlinkat",
		79:  "newfstatat",
		80:  "fstat",
		94:  "exit_group",
		96:  "set_tid_address",
		99:  "set_robust_list",
		113: "clock_gettime",
		134: "rt_sigaction",
		160: "uname",
		163: "getrlimit",
		214: "brk",
		220: "clone",
		221: "execve",
		222: "mmap",
		261: "prlimit64",
		278: "getrandom",
		293: "rseq",
		294: "kexec_file_load",
		435: "clone3",
		450: "set_mempolicy_home_node",
	} {
		require.Equal(t, want, linux.SyscallName(nr), "syscall %d", nr)
	}
	// Holes in the arm64 table and out-of-range numbers.
	for _, nr := range []uint64{244, 259, 295, 423, 451, 1 << 40, ^uint64(0)} {
		require.Empty(t, linux.SyscallName(nr), "syscall %d", nr)
	}
}

// TestGeneratedSysnoUpToDate regenerates zsysno.go from the cross headers
// and checks that the committed file matches. It needs the aarch64 cross
// compiler and is skipped without it.
func TestGeneratedSysnoUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if _, err := exec.LookPath("aarch64-linux-gnu-gcc"); err != nil {
		t.Skip("aarch64-linux-gnu-gcc not installed")
	}
	out := filepath.Join(t.TempDir(), "zsysno.go")
	cmd := exec.Command("go", "run", "./internal/gensysno", "-o", out)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run())
	want, err := os.ReadFile(out)
	require.NoError(t, err)
	got, err := os.ReadFile("zsysno.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "zsysno.go is stale: run go generate")
}
