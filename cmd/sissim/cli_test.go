package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A bad flag or command prints one line on stderr, naming where to look,
// and exits 2; -h prints the flags on stdout.
func TestBadFlagsPrintOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--no-such-flag"}, "sissim run: flag provided but not defined: -no-such-flag (see 'sissim run -h')\n"},
		{[]string{"boot", "--seed", "x"}, "sissim boot: invalid value \"x\" for flag -seed: parse error (see 'sissim boot -h')\n"},
		{[]string{"shell", "-c"}, "sissim shell: flag needs an argument: -c (see 'sissim shell -h')\n"},
		{[]string{"--bogus"}, "sissim boot: flag provided but not defined: -bogus (see 'sissim boot -h')\n"},
		{[]string{"shell", "extra"}, "sissim shell: unexpected argument \"extra\" (see 'sissim shell -h')\n"},
		{[]string{"frobnicate"}, "sissim: unknown command \"frobnicate\" (see 'sissim help')\n"},
		{[]string{"version", "x"}, "sissim version: unexpected argument \"x\"\n"},
	} {
		code, out, errOut := run(t, tc.args...)
		require.Equal(t, 2, code, tc.args)
		require.Empty(t, out, tc.args)
		require.Equal(t, tc.want, errOut, tc.args)
	}
	for _, cmd := range []string{"run", "boot", "shell"} {
		code, out, errOut := run(t, cmd, "-h")
		require.Equal(t, 0, code)
		require.Empty(t, errOut)
		require.True(t, strings.HasPrefix(out, "Usage: sissim "+cmd), out)
		require.Contains(t, out, "\nFlags:\n")
	}
}

// A kernel warning (a registry whose active model no longer verifies) is
// one readable line, not zap's JSON fields.
func TestWarningsAreReadable(t *testing.T) {
	dir := t.TempDir()
	mount := dir + ":/models"
	// The first boot activates v1.0.0.
	code, out, errOut := run(t, "shell", "--mount", mount, "-c", "modelctl status")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Active:   v1.0.0")
	f, err := os.OpenFile(filepath.Join(dir, "v1.0.0", "model.bin"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, out, errOut = run(t, "shell", "--mount", mount, "-c", "modelctl status")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Active:   none")
	require.Equal(t, "sissim: warning: model not reloaded (version v1.0.0): model v1.0.0: model.bin: 1837 bytes; the layer sizes [6 16 16 4] need 1836\n", errOut)
}

// sissim version names the module version and, when the go command
// stamped it, the VCS commit.
func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3, out)
	require.True(t, strings.HasPrefix(lines[0], "sissim "), out)
	require.True(t, strings.HasPrefix(lines[1], "commit: "), out)
	require.Regexp(t, `^SIS Kernel \d+\.\d+\.\d+, libunicorn \S+, go\S+ \w+/\w+$`, lines[2])

	var b strings.Builder
	writeVersion(&b, &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-01-01T00:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}})
	require.True(t, strings.HasPrefix(b.String(), "sissim v0.0.0-20260101000000-0123456789ab+dirty\n"+
		"commit: 0123456789abcdef0123456789abcdef01234567 (2026-01-01T00:00:00Z, with uncommitted changes)\nSIS Kernel "), b.String())

	// The real thing: a binary built from a checkout with VCS stamping
	// (the go command does not stamp builds in git worktrees).
	if testing.Short() {
		t.Skip("short mode: no build")
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(root)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree: the go command stamps no VCS information")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "sissim")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true") // whatever go env says
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	got, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	require.Contains(t, string(got), "\ncommit: "+strings.TrimSpace(string(head))+" (")
	require.NotContains(t, strings.SplitN(string(got), "\n", 2)[0], "(devel)", "the module version comes from VCS")
}

func TestHistoryFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), historyName)
	h, err := openHistory(p)
	require.NoError(t, err)
	require.Zero(t, h.Len())
	for _, l := range []string{"echo one", "  ", "echo two", "echo two", "échø ✓"} {
		_, err := h.Write(l)
		require.NoError(t, err)
	}
	require.Equal(t, 3, h.Len(), "blank lines and repeats are left out")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "echo one\necho two\néchø ✓\n", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A new session reads it back.
	h, err = openHistory(p)
	require.NoError(t, err)
	l, err := h.GetLine(2)
	require.NoError(t, err)
	require.Equal(t, "échø ✓", l)
	_, err = h.GetLine(3)
	require.Error(t, err)

	// It keeps the last maxHistory lines, and the file stays bounded.
	for i := 0; i < 3*maxHistory; i++ {
		_, err := h.Write("echo " + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + string(rune('0'+i%10)))
		require.NoError(t, err)
	}
	require.Equal(t, maxHistory, h.Len())
	b, err = os.ReadFile(p)
	require.NoError(t, err)
	n := strings.Count(string(b), "\n")
	require.LessOrEqual(t, n, 2*maxHistory)
	require.GreaterOrEqual(t, n, maxHistory)
	h2, err := openHistory(p)
	require.NoError(t, err)
	require.Equal(t, h.Dump(), h2.Dump(), "the file holds what the session keeps")
}
