package metrics

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestRegistryFormats(t *testing.T) {
	snap := Snapshot{HeapCurrent: 4096, HeapPeak: 8192, Allocs: 3, Deallocs: 1, Panics: 2,
		Uptime: 1500 * time.Millisecond, Syscalls: map[string]uint64{"write": 7, "exit_group": 1},
		Net: []Interface{{Name: "lo", RxPackets: 4, RxBytes: 300, TxPackets: 4, TxBytes: 300},
			{Name: "eth0", RxPackets: 2, RxBytes: 120, TxPackets: 3, TxBytes: 180, TxDropped: 1, RxErrors: 5}},
		SwitchGaps: Quantiles{Count: 4, Sum: 1000, P50: 200, P95: 400, P99: 400}}
	m := New(func() Snapshot { return snap }, nil)
	m.Counters().DiskReads.Add(5)

	var text bytes.Buffer
	require.NoError(t, m.WritePrometheus(&text))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text.String()))
	require.NoError(t, err)
	require.Equal(t, 7.0, fams["syscalls_total"].GetMetric()[1].GetCounter().GetValue()) // sorted by label: exit_group, write
	require.Equal(t, uint64(4), fams["sched_switch_gap_ns"].GetMetric()[0].GetSummary().GetSampleCount())
	require.Equal(t, 1500.0, fams["uptime_ms"].GetMetric()[0].GetGauge().GetValue())

	var lines bytes.Buffer
	require.NoError(t, m.WriteLines(&lines))
	for _, want := range []string{"METRIC heap_bytes.current=4096\n", "METRIC heap_bytes.peak=8192\n",
		"METRIC heap_operations_total.dealloc=1\n", "METRIC panic_count_total=2\n", "METRIC syscalls_total.write=7\n",
		"METRIC disk_operations_total.read=5\n", "METRIC sched_switch_gap_ns_count=4\n", "METRIC sched_switch_gap_ns_sum=1000\n",
		"METRIC sched_switch_gap_ns_p50=200\n", "METRIC sched_switch_gap_ns_p99=400\n",
		"METRIC network_packets_total.rx.lo=4\n", "METRIC network_packets_total.tx.eth0=3\n",
		"METRIC network_bytes_total.rx.eth0=120\n", "METRIC network_dropped_total.tx.eth0=1\n",
		"METRIC network_errors_total.rx.eth0=5\n"} {
		require.Contains(t, lines.String(), want)
	}

	// Separate machines, separate registries.
	other := New(func() Snapshot { return Snapshot{} }, nil)
	require.Zero(t, other.Counters().DiskReads.Load())
}
