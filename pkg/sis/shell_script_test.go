package sis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseScript(t *testing.T) {
	words := func(s string) [][]string {
		var out [][]string
		for _, c := range parseScript(s) {
			require.NoError(t, c.err, s)
			out = append(out, c.words)
		}
		return out
	}
	require.Equal(t, [][]string{{"echo", "a"}, {"echo", "b"}, {"echo", "c", "d"}},
		words("echo a; echo b\necho c d"))
	require.Equal(t, [][]string{{"echo", "a#b", "# c;d"}, {"run", "x"}},
		words("# comment ; not a command\n\n  echo a#b '# c;d' # comment; too\r\nrun x"))
	require.Equal(t, [][]string{{"echo", "a b", "c d", ""}}, words(`echo "a b" 'c d' ''`))
	require.Nil(t, words("\n\n;;  ; # only comments\n#\n"))
	require.Equal(t, [][]string{{"echo", "x"}, {"echo", "y"}}, words("echo x\r\necho y\r"))
	require.Equal(t, [][]string{{"echo", "é", "✓"}}, words("echo é ✓"))

	for script, want := range map[string]string{
		"echo 'open":                       "unterminated ' quote",
		"echo \"a\nb\"":                    "unterminated \" quote",
		"echo \x01":                        "line contains a control character (0x01)",
		"echo \xff\xfe":                    "line contains invalid UTF-8",
		strings.Repeat("x", 257):           "line too long (more than 256 bytes)",
		"echo " + strings.Repeat("y", 251): "",
	} {
		cmds := parseScript(script)
		require.NotEmpty(t, cmds, "%q", script)
		if want == "" {
			require.NoError(t, cmds[0].err)
			continue
		}
		require.EqualError(t, cmds[0].err, want, "%q", script)
	}
	// A bad command spoils only itself.
	cmds := parseScript("echo 'x\necho ok")
	require.Len(t, cmds, 2)
	require.Error(t, cmds[0].err)
	require.Equal(t, []string{"echo", "ok"}, cmds[1].words)
	// The limit is per command, not per script.
	long := strings.Repeat("echo "+strings.Repeat("z", 200)+"; ", 5)
	for _, c := range parseScript(long) {
		require.NoError(t, c.err)
	}
}
