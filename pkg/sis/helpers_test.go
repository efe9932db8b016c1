package sis_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// bootSys boots a machine with cfg, every service and the default root
// image (the guests in /bin); the boot markers go to con (nil: nowhere).
func bootSys(t testing.TB, cfg kernel.Config, con io.Writer) *sis.System {
	t.Helper()
	if con == nil {
		con = io.Discard
	}
	m, err := sis.Boot(sis.BootConfig{Config: cfg, Image: sissim.RootImage(), Console: con, Services: sis.DefaultServices()})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// sh runs a shell line and fails the test on an error.
func sh(t testing.TB, m *sis.System, line string) string {
	t.Helper()
	out, err := m.Shell().Exec(line)
	require.NoError(t, err, "%s:\n%s", line, out)
	return out
}
