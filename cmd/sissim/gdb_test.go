package main

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/internal/syncbuf"
	"github.com/stretchr/testify/require"
)

var gdbAddrLine = regexp.MustCompile(`waiting for a debugger on (127\.0\.0\.1:[0-9]+)`)

// waitAddr waits until w shows the stub's address.
func waitAddr(t *testing.T, w *syncbuf.Buffer) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := gdbAddrLine.FindStringSubmatch(w.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no address in %q", w.String())
	return ""
}

// sissim run --gdb waits for the debugger before the first instruction,
// then runs the program under it and exits with the program's status once
// the debugger is gone.
func TestRunGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Skip("gdb-multiarch is not installed (scripts/deps.sh installs it)")
	}
	prog := "../../testdata/guests/hello"
	var out, errb syncbuf.Buffer
	code := make(chan int, 1)
	go func() {
		code <- runMain([]string{"run", "--gdb", "0", prog, "7"}, strings.NewReader(""), &out, &errb)
	}()
	addr := waitAddr(t, &errb)
	require.Empty(t, out.String(), "the guest waits for the debugger")
	cmd := exec.Command("gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex", "file "+prog,
		"-ex", "target remote "+addr, "-ex", "info registers pc", "-ex", "stepi", "-ex", "stepi", "-ex", "info registers pc", "-ex", "continue")
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "HOME="+t.TempDir())
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	require.Regexp(t, `(?s)pc +0x[0-9a-f]+ .*pc +0x[0-9a-f]+ .*\[Inferior 1 \(process 2\) exited with code 07\]`, string(b))
	require.Equal(t, 7, <-code)
	require.Equal(t, "Hello, world!\nargv[0]=../../testdata/guests/hello\nargv[1]=7\n", out.String())
}

func TestRunGDBBadAddress(t *testing.T) {
	for _, a := range []string{"x", "1:2:3", "-5", "host:"} {
		code, _, errOut := run(t, "run", "--gdb", a, "../../testdata/guests/hello")
		require.Equal(t, 2, code, a)
		require.Contains(t, errOut, "sissim run: --gdb: ", a)
	}
}

// Under sissim run --gdb in the deterministic mode the debugger goes back
// (the output is written once); where going back could not be exact,
// sissim says why and gdb is told the target cannot.
func TestRunGDBReverse(t *testing.T) {
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Skip("gdb-multiarch is not installed (scripts/deps.sh installs it)")
	}
	prog := "../../testdata/guests/hello"
	for _, c := range []struct {
		flags []string
		why   string // "" : reverse execution works
	}{
		{nil, ""},
		{[]string{"--clock", "realtime"}, "the clock is realtime"},
		{[]string{"--mount", t.TempDir() + ":/mnt"}, "a writable --mount lets the guest change host files"},
		{[]string{"--net", "gateway"}, "host network traffic (--publish, --net) is not recorded"},
	} {
		var out, errb syncbuf.Buffer
		code := make(chan int, 1)
		go func() {
			args := append(append([]string{"run", "-v", "--gdb", "0"}, c.flags...), prog, "7")
			code <- runMain(args, strings.NewReader(""), &out, &errb)
		}()
		addr := waitAddr(t, &errb)
		cmd := exec.Command("gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex", "file "+prog,
			"-ex", "target remote "+addr, "-ex", "stepi 3", "-ex", "info registers pc", "-ex", "reverse-stepi",
			"-ex", "info registers pc", "-ex", "continue")
		cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "HOME="+t.TempDir())
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, string(b))
		require.Equal(t, 7, <-code, c.flags)
		require.Equal(t, "Hello, world!\nargv[0]=../../testdata/guests/hello\nargv[1]=7\n", out.String(), c.flags)
		if c.why == "" {
			require.NotContains(t, errb.String(), "reverse execution is off")
			pcs := regexp.MustCompile(`pc +(0x[0-9a-f]+)`).FindAllStringSubmatch(string(b), -1)
			require.Len(t, pcs, 2, string(b))
			require.NotEqual(t, pcs[0][1], pcs[1][1], "reverse-stepi went back:\n%s", b)
			continue
		}
		require.Contains(t, errb.String(), "sissim: reverse execution is off: "+c.why, c.flags)
		require.Contains(t, string(b), "Target remote does not support this command.", c.flags)
	}
}

// The machine of sissim run (with the SIS layer) can be copied: with
// --checkpoint-every, the run forward takes checkpoints and a step back
// starts from one; gdb's monitor command lists them.
func TestRunGDBCheckpoints(t *testing.T) {
	if _, err := exec.LookPath("gdb-multiarch"); err != nil {
		t.Skip("gdb-multiarch is not installed (scripts/deps.sh installs it)")
	}
	prog := "../../testdata/guests/alu_loop"
	end := aluLoopEnd(t, prog)
	var out, errb syncbuf.Buffer
	code := make(chan int, 1)
	go func() {
		// 3*10^8 instructions: a few time slices, each a stop point.
		code <- runMain([]string{"run", "-v", "--gdb", "0", "--checkpoint-every", "1000000", prog, "25000000"},
			strings.NewReader(""), &out, &errb)
	}()
	addr := waitAddr(t, &errb)
	cmd := exec.Command("gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex", "file "+prog,
		"-ex", "target remote "+addr, "-ex", fmt.Sprintf("break *%#x", end), "-ex", "continue", "-ex", "reverse-stepi",
		"-ex", "monitor checkpoints", "-ex", "delete", "-ex", "continue")
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "HOME="+t.TempDir())
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	require.Equal(t, 0, <-code)
	require.Equal(t, "63ab4f0d148da76f\n", out.String(), "the output of a run without a debugger")
	require.Contains(t, string(b), "a checkpoint every 1000000 instructions at least")
	require.Regexp(t, `reverse execution \(checkpoints taken [1-9][0-9]*, forward [1-9][0-9]*, restored 1, refused 0\)`, errb.String())
}

// aluLoopEnd returns the address of alu_loop's first instruction after its
// loop (eor x0, x11, x13).
func aluLoopEnd(t *testing.T, path string) uint64 {
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	text := f.Section(".text")
	require.NotNil(t, text)
	b, err := text.Data()
	require.NoError(t, err)
	for i := 0; i+4 <= len(b); i += 4 {
		if binary.LittleEndian.Uint32(b[i:]) == 0xca0d0160 {
			return text.Addr + uint64(i)
		}
	}
	t.Fatal("no eor x0, x11, x13 in alu_loop")
	return 0
}
