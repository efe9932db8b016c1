package gdbtest

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// A fault's detail: the registers and a backtrace named with the
// program's symbols, for a program linked at its address and for a
// static PIE loaded elsewhere.
func TestFaultDetailNamesFrames(t *testing.T) {
	for _, flags := range [][]string{nil, {"-static-pie"}} {
		prog := guest(t, "dbg", flags...)
		m, err := kernel.New(kernel.Config{})
		require.NoError(t, err)
		defer m.Close()
		data, err := os.ReadFile(prog)
		require.NoError(t, err)
		require.NoError(t, m.FS().MkdirAll("/bin", 0o755))
		require.NoError(t, m.FS().WriteFile("/bin/dbg", data, 0o755))
		st, err := m.Run(kernel.ProcessSpec{Path: "/bin/dbg", Argv: []string{"dbg", "crash"}})
		require.NoError(t, err)
		require.Equal(t, 139, st.ShellCode(), "%v", flags)
		require.Regexp(t, `^SIGSEGV \(Segmentation fault\) pc=0x[0-9a-f]+: write of unmapped address 0x0$`, st.Report)
		requireInOrder(t, st.Detail, " x0 0000000000000000 ", "x29 ", " sp ", " pc ", "backtrace:\n",
			"#0 0x", " in crash+0x", " (dbg)\n",
			"#1 0x", " in main+0x", " (dbg)",
			"#2 0x", " in __libc_start_call_main+0x",
			" in _start+0x")
	}
}
