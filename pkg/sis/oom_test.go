package sis_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// The OOM killer's work shows in memstats and in the metrics.
func TestMemstatsAndMetricsCountOOMKills(t *testing.T) {
	m := bootSys(t, kernel.Config{Mem: 48 << 20}, nil)
	out := sh(t, m, "memstats")
	require.Contains(t, out, "of 49152 KiB")
	require.Contains(t, out, "oom kills: 0\n")

	out, err := m.Shell().Exec("run memhog 64 1 0")
	require.ErrorContains(t, err, "killed by SIGKILL")
	require.Contains(t, out, "Out of memory: Killed process 2 (memhog)")

	out = sh(t, m, "memstats")
	require.Contains(t, out, "oom kills: 1\n")
	require.Contains(t, out, "peak 49152 KiB")
	out = sh(t, m, "metrics")
	require.Contains(t, out, "\noom_kills_total 1\n")
	require.Contains(t, out, "\nmemory_size_bytes 5.0331648e+07\n")
}
