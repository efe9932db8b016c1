package kernel_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// OnPublish runs while a long guest computes, at its machine-time pace,
// and changes nothing the machine does: the run ends at the same machine
// time and instruction count as without it.
func TestOnPublishDuringARun(t *testing.T) {
	prog, err := os.ReadFile("../../testdata/guests/alu_loop")
	require.NoError(t, err)
	run := func(publish bool) (times []time.Duration, end time.Duration, insns uint64) {
		var out bytes.Buffer
		m, err := kernel.New(kernel.Config{Stdout: &out})
		require.NoError(t, err)
		defer m.Close()
		require.NoError(t, m.FS().WriteFile("/bin/alu", prog, 0o755))
		if publish {
			m.OnPublish(10*time.Millisecond, func() { times = append(times, m.Now()) })
		}
		st, err := m.Run(kernel.ProcessSpec{Path: "/bin/alu", Argv: []string{"alu", "10000000"}})
		require.NoError(t, err)
		require.Equal(t, 0, st.Code)
		return times, m.Now(), m.Insns()
	}
	times, end, insns := run(true)
	_, end0, insns0 := run(false)
	require.Equal(t, end0, end)
	require.Equal(t, insns0, insns)
	// 120 M instructions are 120 ms of machine time, in slices of up to
	// the 10 ms budget and then the rest of the 100 ms period: a call
	// after each slice, and one when the run ended (at the time of the last
	// one, when nothing ran in between).
	distinct := 1
	for i := 1; i < len(times); i++ {
		require.GreaterOrEqual(t, times[i], times[i-1])
		if times[i] > times[i-1] {
			distinct++
		}
	}
	require.GreaterOrEqual(t, distinct, 4)
	require.Equal(t, end, times[len(times)-1])
}
