// Package metrics is the machine's metrics registry: one Prometheus registry
// per machine whose values are read from the kernel at collection time
// (memory, syscalls, uptime, kernel errors, network counters) or counted as events happen
// (VFS disk operations, context switches, deadline misses).
//
// The registry is private to the machine (never the global default
// registry), so several machines in one process keep separate numbers.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/encoding/protojson"
)

// Snapshot holds the values the kernel reports at collection time.
type Snapshot struct {
	HeapCurrent, HeapPeak      uint64            // machine RAM in use now / at most
	MemSize                    uint64            // machine RAM size
	OOMKills                   uint64            // processes the OOM killer ended
	Allocs, Deallocs, Failures uint64            // guest memory map/unmap/failed operations
	Panics                     uint64            // kernel errors caused by guests
	Uptime                     time.Duration     // time since boot
	Syscalls                   map[string]uint64 // calls by syscall name
	DeadlineMisses             uint64            // every deadline miss of every CBS server
	SwitchGaps                 Quantiles         // machine time between slices of different threads
	Net                        []Interface       // network counters, one per interface
}

// Interface is one network interface's counters, counted where packets
// move (the link endpoints of the machine's network).
type Interface struct {
	Name                                    string
	RxPackets, RxBytes, RxDropped, RxErrors uint64
	TxPackets, TxBytes, TxDropped, TxErrors uint64
}

// Quantiles summarises samples: their count and sum (of every sample
// ever taken) and the quantiles of the recent ones.
type Quantiles struct {
	Count, Sum    uint64
	P50, P95, P99 uint64
}

// Source returns the kernel's current values.
type Source func() Snapshot

// Counters are event counters the kernel and its services update directly.
// They are safe for concurrent use.
type Counters struct {
	DiskReads, DiskWrites atomic.Uint64 // VFS file read/write operations
	DeadlineMisses        atomic.Uint64 // deadline misses of services outside the kernel scheduler
}

// Metrics is one machine's registry.
type Metrics struct {
	reg      *prometheus.Registry
	src      Source
	counters *Counters
}

// New returns a registry whose collector reads src and c at every
// collection (fresh counters when c is nil).
func New(src Source, c *Counters) *Metrics {
	if c == nil {
		c = &Counters{}
	}
	m := &Metrics{reg: prometheus.NewRegistry(), src: src, counters: c}
	m.reg.MustRegister(collector{m})
	return m
}

// Counters returns the event counters the kernel and services update.
func (m *Metrics) Counters() *Counters { return m.counters }

// Registry returns the Prometheus registry (to serve or gather it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats. It
// gathers fresh values when tryLock succeeds (the kernel is quiescent) and
// otherwise serves the values of the last successful gathering, so a scrape
// never reads kernel state while a guest runs.
func (m *Metrics) Handler(tryLock func() bool, unlock func()) http.Handler {
	var mu sync.Mutex
	var last []*dto.MetricFamily
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mu.Lock()
		defer mu.Unlock()
		if tryLock() {
			mfs, err := m.reg.Gather()
			unlock()
			if err != nil {
				return nil, err
			}
			last = mfs
		}
		return last, nil
	})
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

var (
	descHeap      = prometheus.NewDesc("heap_bytes", "Machine RAM in use (guest pages, page tables, tmpfs, pipe buffers), in bytes.", []string{"state"}, nil)
	descMemSize   = prometheus.NewDesc("memory_size_bytes", "Machine RAM size (--mem), in bytes.", nil, nil)
	descOOM       = prometheus.NewDesc("oom_kills_total", "Processes the OOM killer ended.", nil, nil)
	descHeapOps   = prometheus.NewDesc("heap_operations_total", "Guest memory operations.", []string{"operation"}, nil)
	descPanics    = prometheus.NewDesc("panic_count_total", "Kernel errors caused by guests.", nil, nil)
	descUptime    = prometheus.NewDesc("uptime_ms", "Milliseconds since boot.", nil, nil)
	descSyscalls  = prometheus.NewDesc("syscalls_total", "System calls by name.", []string{"name"}, nil)
	descNet       = prometheus.NewDesc("network_packets_total", "Network packets, by interface.", []string{"direction", "interface"}, nil)
	descNetBytes  = prometheus.NewDesc("network_bytes_total", "Network bytes (IP packet bytes), by interface.", []string{"direction", "interface"}, nil)
	descNetDrops  = prometheus.NewDesc("network_dropped_total", "Network packets dropped, by interface.", []string{"direction", "interface"}, nil)
	descNetErrors = prometheus.NewDesc("network_errors_total", "Network packets in error, by interface.", []string{"direction", "interface"}, nil)
	descDisk      = prometheus.NewDesc("disk_operations_total", "VFS file operations.", []string{"operation"}, nil)
	descDeadlines = prometheus.NewDesc("sched_deadline_misses_total", "Deadline misses of every CBS server (processes, det, the LLM service), since boot.", nil, nil)
	descGaps      = prometheus.NewDesc("sched_switch_gap_ns", "Machine time from the end of one thread's slice to the start of another thread's, idle time included (the switch itself takes no machine time), in ns; quantiles of the last 4096.", nil, nil)
)

// collector turns a Snapshot and the Counters into const metrics.
type collector struct{ m *Metrics }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHeap, descMemSize, descOOM, descHeapOps, descPanics, descUptime, descSyscalls, descNet, descNetBytes, descNetDrops, descNetErrors, descDisk, descDeadlines, descGaps} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.src()
	k := c.m.counters
	gauge := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descHeap, s.HeapCurrent, "current")
	gauge(descHeap, s.HeapPeak, "peak")
	gauge(descMemSize, s.MemSize)
	counter(descOOM, s.OOMKills)
	counter(descHeapOps, s.Allocs, "alloc")
	counter(descHeapOps, s.Deallocs, "dealloc")
	counter(descHeapOps, s.Failures, "failure")
	counter(descPanics, s.Panics)
	gauge(descUptime, uint64(s.Uptime.Milliseconds()))
	for name, v := range s.Syscalls {
		counter(descSyscalls, v, name)
	}
	for _, n := range s.Net {
		counter(descNet, n.RxPackets, "rx", n.Name)
		counter(descNet, n.TxPackets, "tx", n.Name)
		counter(descNetBytes, n.RxBytes, "rx", n.Name)
		counter(descNetBytes, n.TxBytes, "tx", n.Name)
		counter(descNetDrops, n.RxDropped, "rx", n.Name)
		counter(descNetDrops, n.TxDropped, "tx", n.Name)
		counter(descNetErrors, n.RxErrors, "rx", n.Name)
		counter(descNetErrors, n.TxErrors, "tx", n.Name)
	}
	counter(descDisk, k.DiskReads.Load(), "read")
	counter(descDisk, k.DiskWrites.Load(), "write")
	counter(descDeadlines, s.DeadlineMisses+k.DeadlineMisses.Load())
	g := s.SwitchGaps
	ch <- prometheus.MustNewConstSummary(descGaps, g.Count, float64(g.Sum),
		map[float64]float64{0.5: float64(g.P50), 0.95: float64(g.P95), 0.99: float64(g.P99)})
}

// LLM is the LLM service's metrics, registered when the service starts
// (machines without it keep their output unchanged).
type LLM struct {
	// InferUs is the latency of accepted inferences in microseconds of
	// machine time (llm_infer_us).
	InferUs prometheus.Histogram
	// TokensOut counts generated tokens (llm_tokens_out_total).
	TokensOut prometheus.Counter
	// Rejects counts inferences refused by the token quota
	// (llm_rejects_total).
	Rejects prometheus.Counter
	// DeadlineMisses counts inferences that ended after their deadline
	// (llm_deadline_misses_total).
	DeadlineMisses prometheus.Counter
}

// RegisterLLM registers the LLM metrics. The latency histogram has fixed
// buckets (values come from the machine clock, so they are deterministic).
func (m *Metrics) RegisterLLM() (*LLM, error) {
	l := &LLM{
		InferUs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "llm_infer_us",
			Help:    "LLM inference latency in microseconds of machine time.",
			Buckets: []float64{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000},
		}),
		TokensOut:      prometheus.NewCounter(prometheus.CounterOpts{Name: "llm_tokens_out_total", Help: "Tokens generated by the LLM service."}),
		Rejects:        prometheus.NewCounter(prometheus.CounterOpts{Name: "llm_rejects_total", Help: "LLM inferences rejected by the token quota."}),
		DeadlineMisses: prometheus.NewCounter(prometheus.CounterOpts{Name: "llm_deadline_misses_total", Help: "LLM inferences that ended after their deadline."}),
	}
	for _, c := range []prometheus.Collector{l.InferUs, l.TokensOut, l.Rejects, l.DeadlineMisses} {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Gather collects every family, sorted by name.
func (m *Metrics) Gather() ([]*dto.MetricFamily, error) { return m.reg.Gather() }

// WritePrometheus writes the Prometheus text exposition format.
func (m *Metrics) WritePrometheus(w io.Writer) error {
	return m.encode(w, expfmt.NewFormat(expfmt.TypeTextPlain))
}

// WriteOpenMetrics writes the OpenMetrics text format.
func (m *Metrics) WriteOpenMetrics(w io.Writer) error {
	return m.encode(w, expfmt.NewFormat(expfmt.TypeOpenMetrics))
}

// encode writes every family with client_golang's encoder for format.
func (m *Metrics) encode(w io.Writer, format expfmt.Format) error {
	mfs, err := m.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		return c.Close()
	}
	return nil
}

// WriteJSON writes the families as a JSON array of Prometheus
// MetricFamily messages in their protobuf JSON mapping (the data model of
// client_golang's own protobuf exposition format).
func (m *Metrics) WriteJSON(w io.Writer) error {
	mfs, err := m.Gather()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, mf := range mfs {
		if i > 0 {
			buf.WriteString(",\n")
		}
		b, err := protojson.Marshal(mf)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	buf.WriteString("]\n")
	_, err = w.Write(buf.Bytes())
	return err
}

// WriteLines writes one `METRIC name=value` line per sample, the console
// format SIS parsers read (`^METRIC\s+([A-Za-z0-9_:\-\.]+)=(-?[0-9]+)\s*$`).
// Label values become part of the name, in label-name order
// (syscalls_total.read); summaries and histograms give name_count and
// name_sum, summaries also name_p50/p95/p99.
func (m *Metrics) WriteLines(w io.Writer) error {
	mfs, err := m.Gather()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range mt.GetLabel() { // sorted by name
				name += "." + sanitize(l.GetValue())
			}
			switch {
			case mt.Summary != nil:
				sm := mt.GetSummary()
				fmt.Fprintf(&buf, "METRIC %s_count=%d\nMETRIC %s_sum=%d\n", name, sm.GetSampleCount(), name, int64(sm.GetSampleSum()))
				for _, q := range sm.GetQuantile() {
					if !math.IsNaN(q.GetValue()) {
						fmt.Fprintf(&buf, "METRIC %s_p%d=%d\n", name, int(math.Round(q.GetQuantile()*100)), int64(q.GetValue()))
					}
				}
			case mt.Histogram != nil:
				h := mt.GetHistogram()
				fmt.Fprintf(&buf, "METRIC %s_count=%d\nMETRIC %s_sum=%d\n", name, h.GetSampleCount(), name, int64(h.GetSampleSum()))
			case mt.Counter != nil:
				fmt.Fprintf(&buf, "METRIC %s=%d\n", name, int64(mt.GetCounter().GetValue()))
			case mt.Gauge != nil:
				fmt.Fprintf(&buf, "METRIC %s=%d\n", name, int64(mt.GetGauge().GetValue()))
			default:
				fmt.Fprintf(&buf, "METRIC %s=%d\n", name, int64(mt.GetUntyped().GetValue()))
			}
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// sanitize keeps the characters the SIS metric-name pattern allows.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == ':', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}
