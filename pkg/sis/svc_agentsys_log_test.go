package sis_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/agentsys"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// TestAgentSysLogCannotBeRedirected: a guest can neither mount a tmpfs
// over /var/log (or /var) nor rename /var/log away, so the denial it
// then provokes is in the real audit log.
func TestAgentSysLogCannotBeRedirected(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	data, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	require.NoError(t, m.FS().WriteFile("/bin/busybox", data, 0o755))
	for _, cmd := range []string{
		"mount -t tmpfs tmpfs /var/log", "mount -t tmpfs tmpfs /var", "mount -t tmpfs tmpfs /", "mv /var/log /tmp/oldlog", "rmdir /var",
	} {
		out, err := m.Shell().Exec("run /bin/busybox " + cmd)
		require.Error(t, err, "%s: %s", cmd, out) // the guest exits non-zero
		require.Contains(t, out, "Device or resource busy", cmd)
	}
	rep := m.AgentSys().Handle(agentsys.EncodeFrame(agentsys.OpFsStat, 0, agentsys.Token(agentsys.AgentMusic), agentsys.PathPayload("/tmp")))
	require.Equal(t, agentsys.PermissionDenied, rep.Err)
	b, err := m.FS().ReadFile(agentsys.DefaultAuditLog)
	require.NoError(t, err)
	last := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Contains(t, last[len(last)-1], `"agent":4,"op":"0x33"`)
	require.Contains(t, last[len(last)-1], `"allowed":false`)
}
