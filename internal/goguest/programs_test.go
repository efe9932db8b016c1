package goguest

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// runProgram runs a Go guest of testdata/goguests in a fresh
// deterministic machine and returns its output and status.
func runProgram(t *testing.T, name string, cfg kernel.Config, args ...string) (string, kernel.ExitStatus) {
	t.Helper()
	data, err := os.ReadFile(Program(t, name))
	require.NoError(t, err)
	var out bytes.Buffer
	cfg.Stdout, cfg.Stderr = &out, &out
	m, err := kernel.New(cfg)
	require.NoError(t, err)
	defer m.Close()
	bin := "/bin/" + name
	require.NoError(t, m.FS().WriteFile(bin, data, 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: bin, Argv: append([]string{bin}, args...)})
	require.NoError(t, err, out.String())
	return out.String(), st
}

// Go programs (static, CGO off) use threads, futexes, epoll, eventfd,
// signals for preemption, os/exec, netlink and /proc/net/igmp (net.Interfaces): each
// prints what it checked.
func TestGoPrograms(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"hello", []string{"a", "b"}, "hello from Go linux/arm64, 1 CPU, args [\"a\" \"b\"]\n"},
		{"conc", nil, "pipeline sum 333833500\nmutex 80000 atomic 160000\nonce\ncond 8\n"},
		{"timers", nil, "slept at least 20ms: true\nticks 10 took at least 50ms: true\ntimer stopped before firing: true\n" +
			"after fired\ncontext: context deadline exceeded\nAfterFunc: true\n"},
		{"gc", []string{"200"}, "round 0 nodes 204800 checksum 26112000\nround 1 nodes 204800 checksum 26112000\n" +
			"round 2 nodes 204800 checksum 26112000\ngc cycles at least 3: true\ndone\n"},
		{"preempt", nil, "spinners preempted and stopped\ngosched storm 10000\ngc during a tight loop\n"},
		{"signals", nil, "got user defined signal 1\ngot user defined signal 2\ngot hangup\nSIGTERM ignored\n"},
		{"exec", nil, "output \"child says hello there with hi\\n\"\nchild exit status 5\nlookpath fails as expected\n"},
		{"ifaces", nil, "1 lo mtu 65536 flags up|loopback|running hw \"\"\n  127.0.0.1/8\n  ::1/128\n" +
			"  group 224.0.0.1\n  group ff02::1:ff00:1\n  group ff02::1\n" +
			"2 eth0 mtu 1500 flags up|broadcast|multicast|running hw \"52:54:00:12:34:56\"\n  10.0.2.15/24\n  fec0::15/64\n" +
			"  group 224.0.0.1\n  group ff02::1:ff00:15\n  group ff02::1\n" +
			"by name: 2 <nil>\nall addresses: 4 <nil>\n"},
		// The CPU-jitter entropy source finds jitter in the deterministic
		// clock (kernel.ClockJitterNs); the seed fixes what it draws.
		{"fips", nil, "fips140 true, random 8904fc70, signature verifies: true\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, st := runProgram(t, tc.name, kernel.Config{}, tc.args...)
			require.Equal(t, 0, st.ShellCode(), out)
			require.Equal(t, tc.want, out)
		})
	}
}

// A racy Go program prints the same result in two runs (threads are
// scheduled by instruction counts, never by the host).
func TestGoRacyProgramIsDeterministic(t *testing.T) {
	a, _ := runProgram(t, "racy", kernel.Config{Seed: 3})
	b, _ := runProgram(t, "racy", kernel.Config{Seed: 3})
	require.Equal(t, a, b)
	require.True(t, strings.HasPrefix(a, "counter "), a)
}

// Schedule seeds: the same seed gives the same interleaving of a racy Go
// program, different seeds give different ones.
func TestGoRacySchedSeeds(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 4; seed++ {
		a, _ := runProgram(t, "racy", kernel.Config{SchedSeed: seed})
		b, _ := runProgram(t, "racy", kernel.Config{SchedSeed: seed})
		require.Equal(t, a, b, "seed %d", seed)
		seen[a] = true
	}
	require.Greater(t, len(seen), 1, "different seeds interleave differently: %v", seen)
}
