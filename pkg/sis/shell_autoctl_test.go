package sis

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/stretchr/testify/require"
)

// autoctl status says when the next tick comes, relative to now.
func TestAutoctlStatusNextTickIsRelative(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	re := regexp.MustCompile(`\n  Next tick: in (\d+) ms\n`)
	next := func() int {
		sm := re.FindStringSubmatch(sh(t, m, "autoctl status"))
		require.NotNil(t, sm)
		n, err := strconv.Atoi(sm[1])
		require.NoError(t, err)
		return n
	}
	sh(t, m, "autoctl on")
	require.Equal(t, 500, next())
	sh(t, m, "run /bin/spin") // 10 ms of machine time
	n := next()
	require.Less(t, n, 500)
	require.GreaterOrEqual(t, n, 480)
	sh(t, m, "run /bin/spin; run /bin/spin")
	require.Less(t, next(), n)
	require.NotContains(t, sh(t, m, "autoctl off; autoctl status"), "Next tick")
}
