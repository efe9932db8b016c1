package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/sis"
	"github.com/stretchr/testify/require"
)

// runSissim runs runMain with stdin and returns stdout, stderr and the status.
func runSissim(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestBootToPromptPiped(t *testing.T) {
	for _, args := range [][]string{nil, {"boot"}} {
		out, errOut, code := runSissim(t, "help\nrun /bin/hello\nexit\n", args...)
		require.Equal(t, 0, code, errOut)
		markers := "KERNEL(U)\nSTACK OK\nVECTORS OK\nMMU ON\nUART: READY\nMETRIC cntfrq_hz=62500000\nHEAP: READY\nVFS: MOUNT TMPFS AT /\n"
		require.True(t, strings.HasPrefix(out, markers), out)
		require.Contains(t, out, "VFS: READY\nGIC: INIT\n[AgentSys] Initialized (sync mode)\nLAUNCHING SHELL\n"+sis.ShellBanner+"sis> Available commands:\n")
		require.Contains(t, out, "sis> Hello, world!\nargv[0]=/bin/hello\n[pid 2] exit status 0\nsis> Goodbye!\n")
	}
}

func TestShellScriptStatus(t *testing.T) {
	out, _, code := runSissim(t, "", "shell", "-c", "echo a; run /bin/hello")
	require.Equal(t, 0, code)
	require.Equal(t, "a\nHello, world!\nargv[0]=/bin/hello\n[pid 2] exit status 0\n", out)

	out, errOut, code := runSissim(t, "", "shell", "-c", "bogus; echo after")
	require.Equal(t, 1, code)
	require.Equal(t, "after\n", out)
	require.Equal(t, "error: Unknown command: bogus\nType 'help' for available commands\n", errOut)

	_, _, code = runSissim(t, "", "shell", "-c", "run /bin/hello 4")
	require.Equal(t, 1, code)
	_, _, code = runSissim(t, "", "shell", "-c", "echo x; exit; echo never")
	require.Equal(t, 0, code)

	// Piped commands: no banner, no prompt, no echo.
	out, _, code = runSissim(t, "echo one\necho two\n", "shell")
	require.Equal(t, 0, code)
	require.Equal(t, "one\ntwo\n", out)
	out, errOut, code = runSissim(t, "echo one\ncat\n", "shell")
	require.Equal(t, 1, code)
	require.Equal(t, "one\n", out)
	require.Equal(t, "error: cat: missing arguments\nusage: cat [-x] <file>\n", errOut)
}

func TestRunStillRunsDefaultGuest(t *testing.T) {
	out, _, code := runSissim(t, "", "run")
	require.Equal(t, 0, code)
	require.Equal(t, "Hello, world!\nargv[0]=/bin/hello\n", out)
}

// TestTmuxSmoke boots sissim in a real terminal (tmux) and drives the
// shell as a person would: scripts/tmux-smoke.sh.
func TestTmuxSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	bin := filepath.Join(t.TempDir(), "sissim")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	cmd := exec.Command("sh", filepath.Join("..", "..", "scripts", "tmux-smoke.sh"))
	cmd.Env = append(os.Environ(), "SISSIM_RUN="+bin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "tmux-smoke: ok")
}

func TestFeaturesFlagAndEnv(t *testing.T) {
	out, _, code := runSissim(t, "", "shell", "--features", "agentsys,ai-ops", "-c", "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "features: agentsys,decision-traces,model-lifecycle,otel,shadow-mode\n")

	t.Setenv("SIS_FEATURES", "llm")
	out, _, code = runSissim(t, "", "shell", "-c", "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "features: llm\n")

	_, errOut, code := runSissim(t, "", "shell", "--features", "bogus", "-c", "version")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown feature "bogus"`)
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMetricsAddrServesWhileBooted(t *testing.T) {
	in, feed := io.Pipe()
	var out, errb lockedBuffer
	done := make(chan int)
	go func() { done <- runMain([]string{"boot", "--metrics-addr", "127.0.0.1:0"}, in, &out, &errb) }()
	re := regexp.MustCompile(`metrics at (http://\S+/metrics)`)
	var url string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(errb.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond)
	_, err := io.WriteString(feed, "run /bin/hello\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "exit status 0\nsis> ") }, 10*time.Second, 10*time.Millisecond)
	resp, err := http.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(body), `syscalls_total{name="exit_group"} 1`)
	require.Contains(t, string(body), "# TYPE heap_bytes gauge")
	_, err = io.WriteString(feed, "exit\n")
	require.NoError(t, err)
	require.Equal(t, 0, <-done)
}

func TestRootAndMountFlags(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	hello, err := os.ReadFile("../../testdata/guests/hello")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "greet"), hello, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc", "motd"), []byte("from the host\n"), 0o600))
	require.NoError(t, os.Symlink("motd", filepath.Join(dir, "etc", "link")))

	// --root replaces the built-in image: only the host tree's programs.
	out, errOut, code := runSissim(t, "", "shell", "--root", dir, "-c", "ls /bin; cat /etc/link; run greet; run hello")
	require.Equal(t, 1, code, errOut)
	require.Equal(t, "Listing /bin:\nf greet\nfrom the host\nHello, world!\nargv[0]=greet\n[pid 2] exit status 0\n", out)
	require.Equal(t, "error: run hello: No such file or directory\n", errOut)

	// The copy is private: writes stay in the machine.
	_, errOut, code = runSissim(t, "", "shell", "--root", dir, "-c", "run /bin/greet")
	require.Equal(t, 0, code, errOut)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2)

	// --mount extends the image and shows in the boot's mount lines.
	out, errOut, code = runSissim(t, "exit\n", "boot", "--mount", dir+":/host:ro")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "VFS: MOUNT PROCFS AT /proc\nVFS: MOUNT HOSTFS AT /host\nVFS: READY\n")
	out, _, code = runSissim(t, "", "shell", "--mount", dir+":/host:ro", "-c", "cat /host/etc/motd; run /host/bin/greet")
	require.Equal(t, 0, code)
	require.Equal(t, "from the host\nHello, world!\nargv[0]=/host/bin/greet\n[pid 2] exit status 0\n", out)

	for _, args := range [][]string{
		{"shell", "--root", filepath.Join(dir, "nope"), "-c", "ls"},
		{"shell", "--root", filepath.Join(dir, "etc", "motd"), "-c", "ls"},
		{"shell", "--mount", filepath.Join(dir, "nope") + ":/x", "-c", "ls"},
		{"shell", "--mount", "relative", "-c", "ls"},
	} {
		_, errOut, code := runSissim(t, "", args...)
		require.Equal(t, 2, code, "%v", args)
		first, _, _ := strings.Cut(errOut, "\n")
		require.Regexp(t, `nope|not a directory|want HOST:GUEST`, first, "%v", args)
	}
}
