package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
)

// Differential tests of the project's own guests: each runs under sissim and
// under qemu-aarch64-static, and whatever Linux defines must agree.

func TestDiffHello(t *testing.T) {
	hello := difftest.Guest(t, "hello")
	cases := []struct {
		name string
		args []string
		env  []string
	}{
		{"no args", nil, nil},
		{"args and env", []string{"x", "two words", ""}, []string{"SISSIM_GREETING=hi there", "OTHER=1"}},
		{"exit 7", []string{"7", "x"}, nil},
		{"exit 300 keeps low 8 bits", []string{"300"}, nil},
		{"exit -1", []string{"-1"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, ref := difftest.Run(t, hello, c.args, difftest.Options{Env: c.env})
			difftest.Equal(t, sim, ref)
		})
	}
}

func TestDiffHelloArgv0(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "hello"), []string{"a"}, difftest.Options{Argv0: "renamed"})
	difftest.Equal(t, sim, ref)
	require.Contains(t, string(sim.Stdout), "argv[0]=renamed\n")
}

func TestDiffSyscalls(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "syscalls"), nil, difftest.Options{})
	require.Equal(t, 0, ref.Exit, "qemu must pass every check:\n%s", ref.Stdout)
	require.Contains(t, string(ref.Stdout), " passed, 0 failed\n")
	difftest.Equal(t, sim, ref)
}

func TestDiffSegv(t *testing.T) {
	segv := difftest.Guest(t, "segv")
	cases := []struct {
		mode string
		exit int // 128+signal
	}{
		{"null", 139},
		{"wild", 139},
		{"jump", 139},
		{"udf", 132},
		{"brk", 133},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			sim, ref := difftest.Run(t, segv, []string{c.mode}, difftest.Options{})
			// qemu reports the signal on stderr; sissim's report is in the
			// exit status (the CLI prints it), so stderr is not compared.
			require.Equal(t, "about to "+c.mode+"\n", string(ref.Stdout))
			require.Equal(t, string(ref.Stdout), string(sim.Stdout))
			require.Equal(t, c.exit, ref.Exit, "qemu stderr: %s", ref.Stderr)
			require.True(t, difftest.ExitEqual(t, sim, ref))
			require.Empty(t, sim.Stderr)
			require.NotEmpty(t, sim.Report, "a fault needs a report")
		})
	}
	t.Run("bad mode", func(t *testing.T) {
		sim, ref := difftest.Run(t, segv, []string{"nope"}, difftest.Options{})
		difftest.Equal(t, sim, ref)
		require.Equal(t, 2, sim.Exit)
	})
}

func TestDiffAluLoop(t *testing.T) {
	alu := difftest.Guest(t, "alu_loop")
	for _, n := range []string{"0", "1", "1000", "123457"} {
		t.Run(n, func(t *testing.T) {
			sim, ref := difftest.Run(t, alu, []string{n}, difftest.Options{})
			difftest.Equal(t, sim, ref)
			require.Len(t, sim.Stdout, 17, "16 hex digits and a newline")
		})
	}
}

func TestDiffPrctlSysinfo(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "prctl"), nil, difftest.Options{})
	require.Equal(t, 0, ref.Exit, "qemu must pass every check:\n%s", ref.Stdout)
	difftest.Equal(t, sim, ref)
}
