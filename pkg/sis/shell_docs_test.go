package sis_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated files in docs/")

// TestDocsUpToDate fails when docs/shell.md or docs/syscalls.md differ from
// what the registered commands and the syscall table generate.
func TestDocsUpToDate(t *testing.T) {
	// Every service, so that the reference lists every command.
	m, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Console: io.Discard, Services: sis.DefaultServices()})
	require.NoError(t, err)
	defer m.Close()
	var shell, abi bytes.Buffer
	require.NoError(t, m.Shell().WriteShellReference(&shell))
	require.NoError(t, kernel.WriteSyscallReference(&abi))
	for name, want := range map[string][]byte{"shell.md": shell.Bytes(), "syscalls.md": abi.Bytes()} {
		p := filepath.Join("..", "..", "docs", name)
		if *updateDocs {
			require.NoError(t, os.WriteFile(p, want, 0o644))
			continue
		}
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "docs/%s is stale: run go test ./pkg/sis -run TestDocs -update", name)
	}
}
