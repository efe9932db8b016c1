package sis_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// runFor runs line and returns the machine time it took.
func runFor(t *testing.T, m *sis.System, line string) time.Duration {
	t.Helper()
	start := m.Now()
	sh(t, m, line)
	return m.Now() - start
}

// A CPU-bound guest under `det on 1ms 10ms 10ms` gets 10% of the CPU: it
// takes ten times the machine time it takes alone. det off gives it the
// whole CPU again.
func TestDetBandwidth(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	alone := runFor(t, m, "run alu_loop 20000000")
	require.Equal(t, "[DET] admitted\n", sh(t, m, "det on 1000000 10000000 10000000"))
	served := runFor(t, m, "run alu_loop 20000000")
	ratio := float64(served) / float64(alone)
	require.InDelta(t, 10, ratio, 0.5, "alone %v, under det %v", alone, served)
	require.Equal(t, "[DET] enabled=1 wcet_ns=1000000 misses=0\n", sh(t, m, "det status"))
	sh(t, m, "det off")
	require.Equal(t, alone, runFor(t, m, "run alu_loop 20000000"))
}

// det on ... --pid N serves one running process (and no process started
// later); the others keep the whole CPU.
func TestDetPid(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	alone := runFor(t, m, "run alu_loop 20000000")
	sh(t, m, "run alu_loop 20000000 &")
	pid := m.Processes()[0].PID
	sh(t, m, "det on 1000000 10000000 10000000 --pid "+strconv.Itoa(pid))
	// A later process is not served: it runs at full speed next to the
	// served one, which gets 10% of its time.
	require.Less(t, runFor(t, m, "run alu_loop 20000000"), alone+alone/5)
	sh(t, m, "wait")
	_, err := m.Shell().Exec("det on 1000000 10000000 10000000 --pid 999")
	require.ErrorContains(t, err, "no process 999")
	require.Contains(t, sh(t, m, "det status"), "enabled=1 wcet_ns=1000000", "a refused det on leaves det as it was")
}

// Every deadline a reservation misses is counted: a job of 5 ms per 10 ms
// period due 2 ms into the period misses each period, in det status and
// in sched_deadline_misses_total, which keeps them after det off.
func TestDeadlineMissesCounted(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, "det on 5000000 10000000 2000000")
	took := runFor(t, m, "run alu_loop 20000000")
	periods := int(took / (10 * time.Millisecond))
	status := sh(t, m, "det status")
	got, err := strconv.Atoi(regexp.MustCompile(`misses=(\d+)`).FindStringSubmatch(status)[1])
	require.NoError(t, err)
	require.InDelta(t, periods, got, 1, status)
	metric := regexp.MustCompile(`METRIC sched_deadline_misses_total=(\d+)`)
	require.Equal(t, strconv.Itoa(got), metric.FindStringSubmatch(sh(t, m, "metrics lines"))[1])
	sh(t, m, "det off; det reset")
	require.Equal(t, strconv.Itoa(got), metric.FindStringSubmatch(sh(t, m, "metrics lines"))[1])
}

// The load averages count the runnable: a guest kept runnable for 6 s of
// machine time (under a 10% reservation) raises them by Linux's first
// samples, in /proc/loadavg as Linux prints it.
func TestLoadAverage(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	require.Regexp(t, `^0\.00 0\.00 0\.00 \d+/\d+ \d+\n$`, sh(t, m, "cat /proc/loadavg"))
	sh(t, m, "det on 1000000 10000000 10000000")
	runFor(t, m, "run alu_loop 50000000")
	require.Regexp(t, `^0\.08 0\.02 0\.01 \d+/\d+ \d+\n$`, sh(t, m, "cat /proc/loadavg"))
}
