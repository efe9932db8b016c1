package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// --strace-file writes what strace -f -o FILE writes (every line starts
// with the pid); --strace-filter selects calls as strace -e.
func TestStraceFileAndFilter(t *testing.T) {
	file := filepath.Join(t.TempDir(), "trace")
	code, out, errOut := run(t, "run", "--strace-file", file, "--strace-filter", "trace=write,exit_group", "../../testdata/guests/hello")
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	require.True(t, strings.HasPrefix(out, "Hello, world!\n"))
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, `2     write(1, "Hello, world!\nargv[0]=../../test"..., 50) = 50
2     exit_group(0)                     = ?
2     +++ exited with 0 +++
`, string(b))

	code, _, errOut = run(t, "run", "--strace-filter", "trace=%memory", "--strace-strsize", "4", "../../testdata/guests/hello")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "mprotect(0x48c000, 16384, PROT_READ)    = 0\n")
	require.NotContains(t, errOut, "write(")
}

func TestStraceFlagErrors(t *testing.T) {
	code, _, errOut := run(t, "run", "--strace-filter", "trace=nosuchcall", "../../testdata/guests/hello")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `invalid system call "nosuchcall"`)
	code, _, errOut = run(t, "run", "--strace-file", "/nonexistent/dir/trace", "../../testdata/guests/hello")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--strace-file:")
	code, _, _ = run(t, "run", "--strace-strsize", "0", "../../testdata/guests/hello")
	require.Equal(t, 2, code)
}
