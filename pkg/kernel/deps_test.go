package kernel_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The kernel knows nothing of the SIS layer: it imports none of the SIS
// service packages and embeds no models (the module root, which embeds
// testdata/models, is not among its dependencies).
func TestKernelImportsNoSISService(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/sis-kernel/sissim/pkg/kernel")
	for _, pkg := range []string{"agentsys", "model", "decision", "shadow", "otel", "llm", "fb", "metrics", "shellcmd", "sis"} {
		require.NotContains(t, deps, "github.com/sis-kernel/sissim/pkg/"+pkg)
	}
	require.NotContains(t, deps, "github.com/sis-kernel/sissim", "the module root embeds the test models")
}
