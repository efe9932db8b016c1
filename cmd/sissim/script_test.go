package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// Scripts: comments, blank lines and newlines in -c and on stdin alike.
func TestShellScriptCommentsAndNewlines(t *testing.T) {
	script := "# a comment\n\necho one # and a trailing one\n  \t\necho 'two # not a comment'; echo three\r\n# the end"
	out, errOut, code := runSissim(t, "", "shell", "-c", script)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "one\ntwo # not a comment\nthree\n", out)
	require.Empty(t, errOut)

	out, errOut, code = runSissim(t, script, "shell")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "one\ntwo # not a comment\nthree\n", out)

	// The example: a comment line on stdin.
	out, errOut, code = runSissim(t, "# c\necho x\n", "shell")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "x\n", out)
}

// exit N sets sissim's status; a script stops at exit.
func TestShellExitStatus(t *testing.T) {
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 3", 3},
		{"echo a\nexit 3\necho never", 3},
		{"bogus; exit 0", 0},
		{"bogus; exit", 1},
		{"exit", 0},
		{"exit 255", 255},
		{"exit 256", 1},
		{"exit x", 1},
	} {
		out, _, code := runSissim(t, "", "shell", "-c", tc.script)
		require.Equal(t, tc.code, code, tc.script)
		require.NotContains(t, out, "never")
		out, _, code = runSissim(t, tc.script, "shell")
		require.Equal(t, tc.code, code, "stdin: %s", tc.script)
		require.NotContains(t, out, "never")
	}
}

// badInvocations gives each command a failing invocation: bad arguments,
// or a missing file, process or program.
var badInvocations = map[string]string{
	"agentsys":   "agentsys test-bogus",
	"autoctl":    "autoctl bogus",
	"cat":        "cat /nonexistent",
	"clear":      "clear now",
	"det":        "det on a b c",
	"exit":       "exit now",
	"fg":         "fg 999",
	"bg":         "bg",
	"jobs":       "jobs now",
	"help":       "help nosuch",
	"kill":       "kill 999",
	"llmctl":     "llmctl bogus",
	"llminfer":   "llminfer --max-tokens 0 hello",
	"ls":         "ls /nonexistent",
	"memstats":   "memstats now",
	"metrics":    "metrics xml",
	"metricsctl": "metricsctl bogus",
	"modelctl":   "modelctl bogus",
	"otelctl":    "otelctl bogus",
	"ps":         "ps now",
	"run":        "run /bin/nonexistent",
	"shadowctl":  "shadowctl bogus",
	"tracectl":   "tracectl bogus",
	"uptime":     "uptime now",
	"version":    "version now",
	"wait":       "wait 999",
}

// failingWriter fails every write (a closed pipe, a full disk).
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// Every command and every subcommand of every service fails the same way:
// "error: ..." on stderr and a non-zero status.
func TestEveryCommandErrorPath(t *testing.T) {
	t.Setenv("SIS_FEATURES", "all")
	m, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Console: io.Discard, Services: sis.DefaultServices()})
	require.NoError(t, err)
	cmds := m.Shell().Commands()
	m.Close()
	require.Greater(t, len(cmds), 20)
	check := func(line string, stdout io.Writer) {
		t.Helper()
		var errb strings.Builder
		code := runMain([]string{"shell", "-c", line}, strings.NewReader(""), stdout, &errb)
		require.NotZero(t, code, line)
		require.True(t, strings.HasPrefix(errb.String(), "error: "), "%s: stderr %q", line, errb.String())
	}
	for _, c := range cmds {
		if c.Name == "echo" {
			// echo takes any text; it fails when its output does.
			check("echo hello", failingWriter{})
			continue
		}
		bad, ok := badInvocations[c.Name]
		require.True(t, ok, "no failing invocation of %q in badInvocations", c.Name)
		check(bad, io.Discard)
		for _, sub := range c.Subs {
			// Three words no subcommand takes.
			check(c.Name+" "+sub.Name+" --no-such-flag x y", io.Discard)
		}
	}
}

// A usage error says what is wrong and shows the synopsis.
func TestUsageErrorsOnStderr(t *testing.T) {
	for line, want := range map[string]string{
		"det on a b c":        "error: det on: wcet_ns \"a\" is not a positive number of nanoseconds\nusage: det on <wcet_ns> <period_ns> <deadline_ns> [--pid <pid>]\n",
		"llmctl bogus":        "error: llmctl: unknown subcommand \"bogus\"\nusage: llmctl audit|budget|list|load|query|register|rollback|shadow-compare|shadow-deploy|shadow-promote|shadow-retire|shadow-status|shadow-traffic|status|swap\n",
		"agentsys test-bogus": "error: Unknown agentsys subcommand. Use 'agentsys help' for usage.\n",
		"shadowctl enable":    "error: shadowctl enable: missing arguments\nusage: shadowctl enable <version>\n",
		"tracectl show":       "error: tracectl show: missing arguments\nusage: tracectl show <id>\n",
	} {
		out, errOut, code := runSissim(t, "", "shell", "-c", line)
		require.Equal(t, 1, code, line)
		require.Empty(t, out, line)
		require.True(t, strings.HasPrefix(errOut, want), "%s: %q", line, errOut)
	}
}

// help CMD and CMD help for every command, and help CMD SUB for every
// subcommand.
func TestHelpForEveryCommand(t *testing.T) {
	m, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Console: io.Discard, Services: sis.DefaultServices()})
	require.NoError(t, err)
	defer m.Close()
	sh := m.Shell()
	for _, c := range sh.Commands() {
		a, err := sh.Exec("help " + c.Name)
		require.NoError(t, err, c.Name)
		require.True(t, strings.HasPrefix(a, "usage: "+c.Name), "%s: %q", c.Name, a)
		if c.Name != "echo" {
			b, err := sh.Exec(c.Name + " help")
			require.NoError(t, err, c.Name)
			require.Equal(t, a, b, c.Name)
		}
		for _, sub := range c.Subs {
			a, err := sh.Exec("help " + c.Name + " " + sub.Name)
			require.NoError(t, err, c.Name+" "+sub.Name)
			require.True(t, strings.HasPrefix(a, "usage: "+c.Name+" "+sub.Name), "%q", a)
			b, err := sh.Exec(c.Name + " " + sub.Name + " help")
			require.NoError(t, err)
			require.Equal(t, a, b)
		}
	}
}

// autoctl export-decisions needs no --format: json is the only one.
func TestExportDecisionsDefaultFormat(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runSissim(t, "", "shell", "--mount", dir+":/host", "-c",
		"modelctl swap v1.0.0; tracectl demo 3; autoctl export-decisions --output /host/d.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Exported 3 decision(s) to /host/d.json\n")
	b, err := os.ReadFile(filepath.Join(dir, "d.json"))
	require.NoError(t, err)
	require.Contains(t, string(b), `"format"`)
}
