package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunGuestPassesArgsEnvAndStatus(t *testing.T) {
	code, out, errOut := run(t, "run", "--env", "SISSIM_GREETING=hey", "../../testdata/guests/hello", "5", "x")
	require.Equal(t, 5, code)
	require.Equal(t, "Hello, world!\nargv[0]=../../testdata/guests/hello\nargv[1]=5\nargv[2]=x\nSISSIM_GREETING=hey\n", out)
	require.Empty(t, errOut)
}

func TestRunWithoutGuestRunsTheBuiltInOne(t *testing.T) {
	code, out, _ := run(t, "run")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "Hello, world!\n"), out)
}

// run starts no SIS service unless --features names it.
func TestRunFeaturesStartServices(t *testing.T) {
	demo := "../../testdata/guests/agentctl-demo"
	code, out, _ := run(t, "run", demo)
	require.Equal(t, 1, code)
	require.Contains(t, out, "No such file or directory")

	code, out, errOut := run(t, "run", "--features", "agentsys", demo)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "[FS] Wrote 25 bytes to /tmp/files/demo.txt\n")
	require.True(t, strings.HasSuffix(out, "agentctl-demo: ok\n"), out)
}

func TestStraceIsDeterministic(t *testing.T) {
	_, _, a := run(t, "run", "--strace", "--seed", "7", "../../testdata/guests/detprint")
	_, _, b := run(t, "run", "--strace", "--seed", "7", "../../testdata/guests/detprint")
	require.Contains(t, a, "getrandom(")
	require.Equal(t, a, b)
}

func TestFaultReportAndStatus(t *testing.T) {
	code, out, errOut := run(t, "run", "--fault-detail=false", "../../testdata/guests/segv", "udf")
	require.Equal(t, 132, code)
	require.Equal(t, "about to udf\n", out)
	require.Regexp(t, `^sissim: segv: SIGILL \(Illegal instruction\) pc=0x[0-9a-f]+: undefined instruction\n$`, errOut)
}

// By default a fault's report goes on with the registers and a backtrace
// (the stripped guest's frames are named by image and offset).
func TestFaultDetail(t *testing.T) {
	code, _, errOut := run(t, "run", "../../testdata/guests/segv", "null")
	require.Equal(t, 139, code)
	require.Regexp(t, `^sissim: segv: SIGSEGV \(Segmentation fault\) pc=0x([0-9a-f]+): write of unmapped address 0x0\n`+
		` x0 [0-9a-f]{16}  x1 [0-9a-f]{16}  x2 [0-9a-f]{16}  x3 [0-9a-f]{16}\n(.*\n){7}`+
		` pc 0000000000([0-9a-f]+) pstate [0-9a-f]{8}\n`+
		`backtrace:\n#0 0x0000000000([0-9a-f]+) in \?\? \(segv\+0x[0-9a-f]+\)\n(#[1-9] 0x[0-9a-f]{16} in \?\? \(segv\+0x[0-9a-f]+\)\n)+$`, errOut)
}

func TestMaxInsns(t *testing.T) {
	code, _, errOut := run(t, "run", "--max-insns", "100000", "../../testdata/guests/alu_loop")
	require.Equal(t, 137, code)
	require.Contains(t, errOut, "instruction budget of 100000 exhausted")
}

// Each bad input gives one line on stderr and status 2.
func TestBadInputGivesOneLineAndStatus2(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text")
	require.NoError(t, os.WriteFile(text, []byte("hello\n"), 0o644))
	hello, err := os.ReadFile("../../testdata/guests/hello")
	require.NoError(t, err)
	trunc := filepath.Join(dir, "trunc")
	require.NoError(t, os.WriteFile(trunc, hello[:200], 0o755))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"run", text}, "not an ELF file"},
		{[]string{"run", trunc}, "truncated or malformed ELF"},
		{[]string{"run", dir}, "is a directory"},
		{[]string{"run", "--clock", "sundial", "x"}, "unknown clock mode"},
		{[]string{"run", "--features", "agentsys,warp", "x"}, `unknown feature "warp"`},
		{[]string{"run", "--gdb", "0", "--checkpoint-every", "often", "x"}, "--checkpoint-every: want a count of instructions"},
		{[]string{"run", "--checkpoint-every", "1000", "x"}, "--checkpoint-every needs --gdb"},
	} {
		code, _, errOut := run(t, tc.args...)
		require.Equal(t, 2, code, tc.args)
		require.Contains(t, errOut, tc.want)
		require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	}
	code, _, _ := run(t, "run", "--no-such-flag")
	require.Equal(t, 2, code)
}

// TestRunGuestUnderDevShm: a guest whose host path is under /dev/shm is
// placed in the machine's /dev/shm (a tmpfs on devfs, as on Linux) and
// runs.
func TestRunGuestUnderDevShm(t *testing.T) {
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		t.Skip("no /dev/shm on this host")
	}
	dir, err := os.MkdirTemp("/dev/shm", "sissim-test-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	hello, err := os.ReadFile("../../testdata/guests/hello")
	require.NoError(t, err)
	guest := filepath.Join(dir, "hello")
	require.NoError(t, os.WriteFile(guest, hello, 0o755))
	code, out, errOut := run(t, "run", guest)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "Hello, world!\nargv[0]="+guest+"\n", out)
}

// Kernel failures end sissim run with status 70 and say why: every
// process blocked for good, or a stopped program nothing can continue.
// An orphan blocked for good after the program exited is reported, and
// the program's own status is kept.
func TestRunKernelFailureStatus(t *testing.T) {
	bb := "../../.cache/busybox/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Skip("busybox not fetched (make busybox)")
	}
	code, _, errOut := run(t, "run", bb, "sh", "-c", `sh -c 'kill -STOP $$'; echo never`)
	require.Equal(t, exitKernel, code)
	require.Contains(t, errOut, "every process is blocked or stopped for good: pid 2 (busybox) blocked; pid 3 (busybox) stopped")
	code, _, errOut = run(t, "run", bb, "sh", "-c", `kill -STOP $$`)
	require.Equal(t, exitKernel, code)
	require.Contains(t, errOut, "pid 2 stopped by SIGSTOP")
	code, out, errOut := run(t, "run", bb, "sh", "-c", `(sh -c 'kill -STOP $$') & sleep 0.01; echo main done; exit 4`)
	require.Equal(t, 4, code)
	require.Equal(t, "main done\n", out)
	require.Contains(t, errOut, "after busybox exited")
}
