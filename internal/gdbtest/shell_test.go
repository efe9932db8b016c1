package gdbtest

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/internal/syncbuf"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/sis"
)

var shellAddr = regexp.MustCompile(`\[pid (\d+)\] waiting for a debugger on (127\.0\.0\.1:[0-9]+)`)

// The shell's run --gdb: the program waits for the debugger, the other
// processes of the machine are not debugged, and run prints the status.
func TestShellRunGDB(t *testing.T) {
	prog := guest(t, "dbg")
	m, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Console: io.Discard})
	require.NoError(t, err)
	defer m.Close()
	data, err := os.ReadFile(prog)
	require.NoError(t, err)
	require.NoError(t, m.FS().WriteFile("/bin/dbg", data, 0o755))
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- m.Shell().ExecStreams(out, out, "run /bin/spin &; run --gdb 0 /bin/dbg; wait") }()
	var match []string
	for deadline := time.Now().Add(time.Minute); match == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		match = shellAddr.FindStringSubmatch(out.String())
	}
	require.NotNil(t, match, out.String())
	cmd := exec.Command("gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex", "file "+prog,
		"-ex", "target remote "+match[2], "-ex", "info inferiors", "-ex", "break square", "-ex", "continue",
		"-ex", "print x", "-ex", "continue")
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "HOME="+t.TempDir())
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	requireInOrder(t, string(b), "process "+match[1], "Breakpoint 1, square (x=7) at ./dbg.c:20", "$1 = 7",
		"[Inferior 1 (process "+match[1]+") exited with code 013]")
	require.NotContains(t, string(b), "inferior 2", "only the program is debugged")
	require.EqualError(t, <-done, "run /bin/dbg: exit status 11", out.String())
	requireInOrder(t, out.String(), "total 25 counter 11 square 49", "[pid "+match[1]+"] exit status 11", "[pid 2] done: exit status 0")
}
