package sis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/decision"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/model"
	"github.com/sis-kernel/sissim/pkg/sched"
	"github.com/sis-kernel/sissim/pkg/shadow"
)

// bootAuto boots a deterministic machine with the default root image and
// the given services.
func bootAuto(t testing.TB, cfg kernel.Config, svcs []Service) *System {
	t.Helper()
	m, err := Boot(BootConfig{Config: cfg, Image: sissim.RootImage(), Services: svcs})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// every calls f every period of machine time, from period on.
func every(m *System, period time.Duration, f func()) {
	var tick func()
	at := period
	tick = func() {
		f()
		at += period
		m.AtTime(at, tick)
	}
	m.AtTime(at, tick)
}

// info returns what the machine reports of p (the zero value once it is
// reaped).
func info(m *System, p *kernel.Process) kernel.ProcessInfo {
	for _, pi := range m.Processes() {
		if pi.PID == p.PID {
			return pi
		}
	}
	return kernel.ProcessInfo{State: 'Z', Exiting: true}
}

// gone reports whether p has begun to exit.
func gone(m *System, p *kernel.Process) bool { return info(m, p).Exiting }

// spawn starts /bin/<argv[0]> on m.
func spawn(t testing.TB, m *System, argv ...string) *kernel.Process {
	t.Helper()
	p, err := m.Spawn(kernel.ProcessSpec{Path: "/bin/" + argv[0], Argv: argv})
	require.NoError(t, err)
	return p
}

func TestAutonomyMachineTimerFiresInMachineTime(t *testing.T) {
	m := bootAuto(t, kernel.Config{}, nil)
	var fired []uint64
	every(m, 500*time.Millisecond, func() { fired = append(fired, uint64(m.Now())) })
	var cancelled bool
	cancel := m.AtTime(700*time.Millisecond, func() { cancelled = true })
	cancel()
	// memhog sleeps 4 x 400 ms: the machine is idle most of the time and
	// skips to the timers as to the wake-ups.
	p := spawn(t, m, "memhog", "4", "1", "400")
	st, err := p.Wait()
	require.NoError(t, err)
	require.Equal(t, 0, st.ShellCode())
	require.False(t, cancelled)
	end := uint64(m.Now())
	require.Len(t, fired, int(end/uint64(500*time.Millisecond)))
	for i, at := range fired {
		due := uint64(i+1) * uint64(500*time.Millisecond)
		// A timer fires at the first scheduling point at or after its
		// time: slices are cut to end there (a basic block may overrun).
		require.GreaterOrEqual(t, at, due)
		require.Less(t, at-due, uint64(time.Microsecond), "tick %d at %d", i, at)
	}
}

// TestTelemetryMatchesMachineCounters checks every window's telemetry
// against the machine's own counters, read independently in the same
// timer callback.
func TestTelemetryMatchesMachineCounters(t *testing.T) {
	const budget = 200 << 20 // machine RAM; 13 small processes use a few MiB
	m := bootAuto(t, kernel.Config{Mem: budget}, nil)
	require.Equal(t, uint64(budget), m.MemSize())
	var procs []*kernel.Process
	// Twelve periodic tasks of 10 ms per 100 ms overload the processor
	// (120%): their CBS servers miss deadlines. memhog grows meanwhile.
	for i := 0; i < 12; i++ {
		procs = append(procs, spawn(t, m, "deadline", "30", "10", "100"))
	}
	memhog := spawn(t, m, "memhog", "12", "2", "150")
	procs = append(procs, memhog)
	grew := 0

	mk := m.markTelemetry()
	prevMisses := m.Scheduler().Misses()
	prevCPU := map[int]uint64{}
	for _, p := range procs {
		prevCPU[p.PID] = p.CPUNs()
	}
	var windows []Telemetry
	var lastMapped uint64
	prevLive, compared := len(procs), 0
	every(m, 500*time.Millisecond, func() {
		tel := m.readTelemetry(mk)
		// Memory: the machine's accounting and the sum over processes.
		ms := m.MemStats()
		var sum uint64
		live, runnable := 0, 0
		var guestNs uint64
		for _, p := range procs {
			guestNs += p.CPUNs() - prevCPU[p.PID]
			prevCPU[p.PID] = p.CPUNs()
		}
		for _, pi := range m.Processes() {
			if pi.Exiting {
				continue
			}
			live++
			sum += pi.RSS
			if pi.State == 'R' {
				runnable++
			}
		}
		require.Equal(t, ms.Used, tel.MemUsed)
		require.LessOrEqual(t, sum, tel.MemUsed, "the processes' pages are part of the RAM in use")
		require.Equal(t, uint64(budget), tel.MemSize)
		// The scheduler's total drops the misses of servers that leave
		// (exited processes): compare windows in which none left.
		if live == prevLive {
			require.Equal(t, m.Scheduler().Misses()-prevMisses, tel.DeadlineMisses)
			compared++
		}
		prevMisses, prevLive = m.Scheduler().Misses(), live
		// Guest time: the processes' own instruction counts.
		require.Equal(t, guestNs, tel.GuestNs)
		require.Equal(t, live, tel.Processes)
		require.Equal(t, runnable, tel.RunQueue)
		f := tel.Features()
		require.Len(t, f, model.NumFeatures)
		require.Less(t, ms.Used, uint64(budget))
		require.Equal(t, float32(float64(ms.Used)/budget), f[model.FeatureMemPressure])
		require.Equal(t, min(float32(tel.DeadlineMisses)/10, 1), f[model.FeatureDeadlineMisses])
		require.InDelta(t, float64(guestNs)/float64(tel.End-tel.Start), float64(f[model.FeatureCPUUsage]), 1e-6)
		require.Equal(t, min(float32(runnable)/8, 1), f[model.FeatureRunQueue])
		require.Equal(t, float32(live)/32, f[model.FeatureProcesses])
		require.Zero(t, f[model.FeatureNetworkLatency])
		if !gone(m, memhog) {
			require.GreaterOrEqual(t, info(m, memhog).RSS, lastMapped, "memhog only grows")
			if info(m, memhog).RSS > lastMapped {
				grew++
			}
			lastMapped = info(m, memhog).RSS
		}
		windows = append(windows, tel)
		mk = m.markTelemetry()
	})
	for _, p := range procs {
		st, err := p.Wait()
		require.NoError(t, err)
		require.Equal(t, 0, st.ShellCode())
	}
	require.GreaterOrEqual(t, len(windows), 6)
	require.GreaterOrEqual(t, compared, 5)
	require.GreaterOrEqual(t, grew, 3, "memhog's growth shows in several windows")
	var misses uint64
	busy := 0
	for _, w := range windows {
		misses += w.DeadlineMisses
		if w.CPUUsage() == 1 {
			busy++
		}
	}
	require.Positive(t, misses, "an overloaded machine misses deadlines")
	require.Positive(t, busy, "an overloaded machine is busy for whole windows")
}

func TestAutonomyActionReclaimTerminatesTheLargestProcess(t *testing.T) {
	m := bootAuto(t, kernel.Config{}, nil)
	a := newActuator(m)
	small := spawn(t, m, "deadline", "12", "1", "100")
	hog := spawn(t, m, "memhog", "40", "1", "50")
	var outcome string
	var before, after uint64
	m.AtTime(time.Second, func() {
		before = m.MemStats().Mapped
		var err error
		outcome, err = a.reclaimMemory()
		require.NoError(t, err)
	})
	st, err := hog.Wait()
	require.NoError(t, err)
	require.Equal(t, linux.SIGTERM, st.Signal, "memhog is terminated: %s", st)
	after = m.MemStats().Mapped
	require.Contains(t, outcome, fmt.Sprintf("SIGTERM to pid %d (memhog,", hog.PID))
	require.Less(t, after+16<<20, before, "memhog's memory is returned")
	st, err = small.Wait()
	require.NoError(t, err)
	require.Equal(t, 0, st.ShellCode(), "the small process is left alone")

	_, err = a.reclaimMemory()
	require.ErrorIs(t, err, errNoTarget)
}

// actuatorOn boots a machine with an actuator and n periodic tasks of 10
// ms per 100 ms running for the given number of periods.
func actuatorOn(t *testing.T, n int, periods string) (*System, *actuator, []*kernel.Process) {
	m := bootAuto(t, kernel.Config{}, nil)
	a := newActuator(m)
	var procs []*kernel.Process
	for i := 0; i < n; i++ {
		procs = append(procs, spawn(t, m, "deadline", periods, "10", "100"))
	}
	return m, a, procs
}

func TestAutonomyActionThrottleHalvesTheTopConsumersBudget(t *testing.T) {
	m, a, procs := actuatorOn(t, 3, "40")
	hog := spawn(t, m, "alu_loop", "3000000000") // CPU-bound for ~36 s of machine time
	mk := m.markTelemetry()
	var log []string
	var restoredAt time.Duration
	every(m, 500*time.Millisecond, func() {
		now := time.Duration(uint64(m.Now()))
		switch {
		case len(log) == 0:
			out, err := a.throttleCPU(mk)
			require.NoError(t, err)
			log = append(log, out)
			require.Equal(t, uint64(sched.DefaultProcessWCET/2), hog.Server().BudgetNs, out)
			require.LessOrEqual(t, hog.Server().RemainingNs, hog.Server().BudgetNs)
		case restoredAt == 0 && hog.Server().BudgetNs == sched.DefaultProcessWCET:
			restoredAt = now
		}
		mk = m.markTelemetry()
		if now >= 4*time.Second && !gone(m, hog) {
			require.NoError(t, hog.KernelSignal(linux.SIGKILL))
		}
	})
	for _, p := range append(procs, hog) {
		st, err := p.Wait()
		require.NoError(t, err, "pid %d %s", p.PID, st)
	}
	require.Len(t, log, 1)
	require.Contains(t, log[0], fmt.Sprintf("pid %d (alu_loop) budget 10000000 -> 5000000 ns for 2s", hog.PID))
	// Throttled at the 500 ms tick, restored 2 s later (seen at the next tick).
	require.Equal(t, 3*time.Second, restoredAt.Truncate(500*time.Millisecond))
	require.Empty(t, a.adjusted())
}

func TestAutonomyActionBoostDoublesTheMissingProcessesBudget(t *testing.T) {
	m, a, procs := actuatorOn(t, 12, "40")
	mk := m.markTelemetry()
	var out string
	var boosted *kernel.Process
	every(m, 500*time.Millisecond, func() {
		if boosted == nil && m.windowMisses(mk) > 0 {
			most := uint64(0)
			for _, p := range procs {
				if n := p.Server().Misses - mk.misses[p.Server()]; n > most {
					most, boosted = n, p
				}
			}
			var err error
			out, err = a.boostDeadline(mk)
			require.NoError(t, err)
			require.NotNil(t, a.adj[boosted.PID], "the process with the most misses is boosted: %s", out)
			require.Equal(t, uint64(2*sched.DefaultProcessWCET), boosted.Server().BudgetNs)
		}
		mk = m.markTelemetry()
	})
	for _, p := range procs {
		_, err := p.Wait()
		require.NoError(t, err)
	}
	require.NotNil(t, boosted)
	require.Contains(t, out, fmt.Sprintf("pid %d (deadline,", boosted.PID))
	require.Contains(t, out, "budget 10000000 -> 20000000 ns for 2s")
	require.Empty(t, a.adjusted())
}

func TestAutonomyActionBoostRespectsAdmission(t *testing.T) {
	m := bootAuto(t, kernel.Config{}, nil)
	a := newActuator(m)
	// A reservation of 80%: a 20% one no longer passes admission.
	_, err := m.Scheduler().Admit(sched.Graph, 80_000_000, 100_000_000, 100_000_000, uint64(m.Now()))
	require.NoError(t, err)
	var procs []*kernel.Process
	for i := 0; i < 12; i++ {
		procs = append(procs, spawn(t, m, "deadline", "10", "10", "100"))
	}
	mk := m.markTelemetry()
	var errs []string
	every(m, 500*time.Millisecond, func() {
		if m.windowMisses(mk) > 0 {
			_, err := a.boostDeadline(mk)
			require.Error(t, err)
			errs = append(errs, err.Error())
		}
		mk = m.markTelemetry()
	})
	for _, p := range procs {
		_, err := p.Wait()
		require.NoError(t, err)
	}
	require.NotEmpty(t, errs)
	require.True(t, strings.Contains(errs[0], "does not pass admission (800000 of 850000 ppm in use)"), errs[0])
	require.Empty(t, a.adjusted())
}

// bootServices boots a deterministic machine with every SIS service.
func bootServices(t testing.TB, cfg kernel.Config) *System {
	t.Helper()
	return bootAuto(t, cfg, DefaultServices())
}

// sh runs shell commands and fails the test on an error.
func sh(t testing.TB, m *System, line string) string {
	t.Helper()
	out, err := m.Shell().Exec(line)
	require.NoError(t, err, "%s:\n%s", line, out)
	return out
}

// readTraces parses /var/log/decisions.json.
func readTraces(t testing.TB, m *System) ([]decision.DecisionTrace, []byte) {
	t.Helper()
	data, err := m.FS().ReadFile("/var/log/decisions.json")
	require.NoError(t, err)
	var out []decision.DecisionTrace
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var tr decision.DecisionTrace
		require.NoError(t, json.Unmarshal(sc.Bytes(), &tr))
		out = append(out, tr)
	}
	return out, data
}

// tickState is the machine's own counters at an autonomy tick.
type tickState struct {
	mapped, misses  uint64
	procs, runnable int
	insns           uint64
}

// autonomyRun is one end-to-end run: memhog under the autonomy loop with
// model v1.0.0. It returns the files that must be byte-identical between
// runs.
func autonomyRun(t *testing.T) (decisions, bundle []byte) {
	// memhog gets the same room whatever the size of the root image (the
	// guests in /bin live in RAM): 36.5 MiB over what the booted machine
	// uses, which makes 48 MiB with the image of 21 guests.
	budget := float64(memhogBase(t) + 38244352)
	m := bootServices(t, kernel.Config{Mem: uint64(budget)})
	// The machine's own counters at every tick, read by a timer of the
	// test at the same machine times as the loop's.
	states := map[uint64]tickState{}
	every(m, AutonomyTick, func() {
		st := tickState{mapped: m.MemStats().Used, misses: m.Scheduler().Misses(), insns: m.Insns()}
		for _, pi := range m.Processes() {
			if !pi.Exiting {
				st.procs++
				if m.Process(pi.PID).Server().Runnable() {
					st.runnable++
				}
			}
		}
		states[uint64(m.Now())/uint64(AutonomyTick)] = st
	})
	sh(t, m, memhogSetup)
	out, err := m.Shell().Exec("run memhog 24 2 200")
	require.Error(t, err, "memhog is terminated")
	require.Contains(t, out, "[pid 2] killed by SIGTERM")

	traces, log := readTraces(t, m)
	require.GreaterOrEqual(t, len(traces), 6)
	// The [DECISION] lines interleave with memhog's own progress lines:
	// each decision saw the RAM in use at memhog's start plus the steps
	// printed before it (and the page tables that map them: at most three
	// frames per 2 MiB step).
	steps, base := 0, int64(-1)
	stepRe := regexp.MustCompile(`^step (\d+): `)
	decRe := regexp.MustCompile(`^\[DECISION\] id=(\d+) action=(\d) conf=(\d+) exec=(yes|no)$`)
	seen := 0
	for _, line := range strings.Split(out, "\n") {
		if mm := stepRe.FindStringSubmatch(line); mm != nil {
			steps, _ = strconv.Atoi(mm[1])
			continue
		}
		mm := decRe.FindStringSubmatch(line)
		if mm == nil {
			continue
		}
		tr := traces[seen]
		seen++
		require.Equal(t, mm[1], strconv.FormatUint(tr.TraceID, 10))
		require.Equal(t, mm[2], strconv.Itoa(tr.ChosenAction))
		b := int64(tr.Telemetry.MemUsedBytes) - int64(steps)*2<<20
		if base < 0 {
			base = b
		}
		require.GreaterOrEqual(t, b, base, "trace %d: memhog's memory is its base plus its steps", tr.TraceID)
		require.LessOrEqual(t, b-base, int64(steps)*3*4096, "trace %d: memhog's memory is its base plus its steps", tr.TraceID)
	}
	require.Equal(t, len(traces), seen)

	prev := tickState{}
	for i, tr := range traces {
		require.Equal(t, uint64(i+1), tr.TraceID)
		if i > 0 {
			// One decision per 500 ms of machine time, none skipped.
			require.Equal(t, uint64(AutonomyTick/time.Microsecond), tr.TimestampUs-traces[i-1].TimestampUs, "trace %d", tr.TraceID)
		}
		k := tr.TimestampUs * 1000 / uint64(AutonomyTick)
		st, ok := states[k]
		require.True(t, ok, "trace %d at %d us is at a tick", tr.TraceID, tr.TimestampUs)
		require.Equal(t, uint64(k)*uint64(AutonomyTick)/1000, tr.TimestampUs)
		tel := tr.Telemetry
		require.Equal(t, st.mapped, tel.MemUsedBytes)
		require.Equal(t, st.mapped, tr.SystemState.HeapUsed)
		require.Equal(t, uint64(budget), tel.MemBudgetBytes)
		require.Equal(t, st.misses-prev.misses, tel.DeadlineMisses)
		require.Equal(t, st.runnable, tel.RunQueue)
		require.Equal(t, st.procs, tr.SystemState.ProcessesRunning)
		require.InDelta(t, float64(st.insns-prev.insns)/float64(AutonomyTick), tel.CPUUsage, 1e-4)
		require.Equal(t, float32(float64(st.mapped)/budget), tr.Features[model.FeatureMemPressure])
		require.Equal(t, "v1.0.0", tr.ModelVersion)
		require.Len(t, tr.HiddenActivations, 2)
		require.Len(t, tr.Predictions, model.NumActions)
		require.Len(t, tr.Alternatives, 3)
		require.Equal(t, tr.ChosenAction, tr.Alternatives[0].Action)
		require.Equal(t, model.ReferencePolicy(tr.Features), tr.ChosenAction, "v1.0.0 follows the reference policy")
		if i < len(traces)-1 {
			require.Equal(t, model.ActionNone, tr.ChosenAction)
			require.False(t, tr.WasExecuted)
		}
		prev = st
	}
	last := traces[len(traces)-1]
	require.Equal(t, model.ActionReclaimMemory, last.ChosenAction)
	require.True(t, last.WasExecuted)
	require.False(t, last.WasOverridden)
	require.GreaterOrEqual(t, last.Telemetry.MemPressure, 0.85)
	for _, c := range last.PolicyChecks {
		require.True(t, c.Passed, "%+v", c)
	}
	require.Equal(t, "mem_pressure", last.PolicyChecks[len(last.PolicyChecks)-1].CheckName)

	out = sh(t, m, "autoctl audit last 1")
	require.Contains(t, out, "Outcome: executed: SIGTERM to pid 2 (memhog,")
	require.Regexp(t, `\n  Input:   mem_pressure=0\.\d{3} deadline_misses=0\.000 cpu_usage=`, out)
	require.Contains(t, out, "  Output:  reclaim_memory conf=")
	out = sh(t, m, "autoctl audit stats")
	require.Contains(t, out, fmt.Sprintf("Autonomy Audit Statistics:\n  Decisions: %d (executed 1, overridden 0)\n", len(traces)))
	require.Contains(t, out, fmt.Sprintf("  none: %d\n  reclaim_memory: 1\n", len(traces)-1))
	require.Contains(t, out, "  Average reward: ")

	out = sh(t, m, "tracectl export --all")
	require.Contains(t, out, "Incident bundle exported to: /incidents/INC-20260101-001.json")
	bundle, err = m.FS().ReadFile("/incidents/INC-20260101-001.json")
	require.NoError(t, err)
	var b decision.Bundle
	require.NoError(t, json.Unmarshal(bundle, &b))
	// The bundle's values are the machine's own.
	require.Equal(t, "INC-20260101-001", b.IncidentID)
	require.Equal(t, m.WallTime().UTC().Format(time.RFC3339Nano), b.ExportedAt)
	require.Equal(t, traces, b.Traces, "the bundle holds the logged traces")
	act := m.svc.models.Active()
	require.Equal(t, decision.ModelInfo{Version: "v1.0.0", Hash: act.Hash,
		LoadedAt: m.Epoch().Add(act.LoadedAt).UTC().Format(time.RFC3339Nano)}, b.ModelInfo)
	require.Equal(t, last.ModelHash, b.ModelInfo.Hash)
	require.Equal(t, uint64(m.Now()/time.Millisecond), b.SystemSnapshot.UptimeMs)
	ms := m.MemStats()
	hs := b.SystemSnapshot.HeapStats
	// The export itself wrote the bundle into tmpfs since: RAM in use grew.
	require.LessOrEqual(t, hs["used_bytes"], ms.Used)
	require.Greater(t, hs["used_bytes"], uint64(0))
	delete(hs, "used_bytes")
	require.Equal(t, map[string]uint64{"peak_bytes": ms.Peak, "mapped_bytes": ms.Mapped, "ram_bytes": uint64(budget),
		"allocs": ms.Allocs, "frees": ms.Frees, "failures": ms.Failures}, hs)
	require.GreaterOrEqual(t, ms.Peak, last.Telemetry.MemUsedBytes)
	require.Len(t, b.SystemSnapshot.Logs, len(traces), "one loop log line per decision")
	require.Contains(t, b.SystemSnapshot.Logs[len(traces)-1], fmt.Sprintf("id=%d reclaim_memory", last.TraceID))
	require.Equal(t, strings.Split(m.Features().String(), ","), b.Config.Features)
	require.Contains(t, b.Config.Features, FeatureDecisionTraces)

	sh(t, m, "autoctl export-decisions --format json --output /tmp/decisions.json")
	out = sh(t, m, "autoctl replay-decisions --input /tmp/decisions.json")
	require.Equal(t, fmt.Sprintf("Replay: %d/%d decisions reproduced\n", len(traces), len(traces)), out)
	return log, bundle
}

// memhogSetup prepares the autonomy loop for memhog.
const memhogSetup = "modelctl load v1.0.0; modelctl swap v1.0.0; autoctl on"

// memhogBase is the RAM a booted machine uses once memhogSetup ran.
func memhogBase(t *testing.T) uint64 {
	m := bootServices(t, kernel.Config{Mem: 256 << 20})
	sh(t, m, memhogSetup)
	return m.MemStats().Used
}

func TestAutonomyEndToEndMemhog(t *testing.T) {
	log1, bundle1 := autonomyRun(t)
	log2, bundle2 := autonomyRun(t)
	require.Equal(t, string(log1), string(log2), "decision logs are byte-identical")
	require.Equal(t, string(bundle1), string(bundle2), "incident bundles are byte-identical")
}

// lowConfidence is a model that cannot make up its mind: zero weights, a
// slight bias to reclaim memory (confidence 269).
func lowConfidence(t testing.TB) *model.Loaded {
	t.Helper()
	lm, err := model.New([]int{model.NumFeatures, model.NumActions}, model.ReLU)
	require.NoError(t, err)
	lm.Biases[0][model.ActionReclaimMemory] = 0.1
	require.Equal(t, 269, lm.Infer(make([]float32, model.NumFeatures)).Confidence)
	return &model.Loaded{Version: "test-lowconf", Hash: "none", Model: lm}
}

func TestAutonomyDriftAlertEntersSafeMode(t *testing.T) {
	m := bootServices(t, kernel.Config{Mem: memhogBase(t) + 50<<20})
	a := m.svc.autonomy
	low := lowConfidence(t)
	// Ten confident decisions of v1.0.0, then the low-confidence model
	// until the drift alert, then v1.0.0 again.
	n, alerted := 0, false
	a.active = func() *model.Loaded {
		n++
		alerted = alerted || a.safe
		if n > 10 && !alerted {
			return low
		}
		return a.models.Active()
	}
	sh(t, m, "modelctl load v1.0.0; modelctl swap v1.0.0; autoctl on")
	out := sh(t, m, "run memhog 48 1 250")
	// v1.0.0's ten decisions average more than 100 above the baseline
	// (|avg - baseline| > 100: a warning, see docs/decisions.md); the
	// low-confidence model then drags the average down through the
	// baseline (re-arming the monitor) to a warning below it, then to the
	// alert, which enters safe mode.
	drift := regexp.MustCompile(`(?m)^\[(DRIFT|SAFE MODE).*$`).FindAllString(out, -1)
	require.Len(t, drift, 4, "%q", drift)
	require.Regexp(t, `^\[DRIFT WARNING\] confidence: delta=1\d\d\.\d\d$`, drift[0])
	require.Regexp(t, `^\[DRIFT WARNING\] confidence: delta=-1\d\d\.\d\d$`, drift[1])
	require.Regexp(t, `^\[DRIFT ALERT\] confidence: baseline=800, current=5\d\d\.\d\d, delta=-2\d\d\.\d\d$`, drift[2])
	require.True(t, strings.HasPrefix(drift[3], "[SAFE MODE] entered: drift alert (confidence 5"), drift[3])
	require.Contains(t, sh(t, m, "autoctl status"), "Safe mode: on (drift alert")

	traces, _ := readTraces(t, m)
	var inSafe, overridden int
	for _, tr := range traces {
		if tr.ModelVersion == "test-lowconf" {
			require.False(t, tr.WasExecuted, "low confidence never acts")
			if tr.ChosenAction != model.ActionNone {
				require.Contains(t, tr.OverrideReason, "confidence 269 below 600")
			}
			continue
		}
		if tr.TraceID > 10 { // after the alert
			inSafe++
			require.False(t, tr.WasExecuted)
			require.False(t, tr.PolicyChecks[1].Passed, "safe_mode check")
			if tr.ChosenAction == model.ActionReclaimMemory {
				overridden++
				require.True(t, tr.WasOverridden)
				require.Contains(t, tr.OverrideReason, "safe mode: drift alert")
			}
		}
	}
	require.Positive(t, inSafe)
	require.Positive(t, overridden, "memhog's pressure makes v1.0.0 reclaim, which safe mode stops")

	// The operator clears safe mode: the next reclaim executes.
	require.Equal(t, "Safe mode OFF: actions execute again\n", sh(t, m, "autoctl safe-mode off"))
	out, err := m.Shell().Exec("run memhog 48 1 250")
	require.Error(t, err)
	require.Contains(t, out, "killed by SIGTERM")
	require.Contains(t, sh(t, m, "autoctl audit last 1"), "Outcome: executed: SIGTERM")
}

func TestAutonomyShadowRollbackAndPromote(t *testing.T) {
	run := func() []byte {
		m := bootServices(t, kernel.Config{})
		a := m.svc.autonomy
		low := lowConfidence(t)
		sh(t, m, "modelctl load v1.0.0; modelctl swap v1.0.0; modelctl load v1.1.0")
		// Production is the low-confidence model: the confident shadow
		// diverges (confidence delta > 200) on every decision.
		a.active = func() *model.Loaded { return low }
		sh(t, m, "shadowctl enable v1.1.0; shadowctl mode compare; shadowctl threshold 5; autoctl on")
		out := sh(t, m, "run memhog 8 1 500")
		require.Contains(t, out, "[ROLLBACK] Triggered: divergence threshold reached (5 divergences >= 5)\n[ROLLBACK] Complete - reverted to production model\n")
		st := sh(t, m, "shadowctl status")
		require.Contains(t, st, "Mode: Disabled")
		log, err := m.FS().ReadFile("/var/log/rollback.json")
		require.NoError(t, err)
		var ev map[string]string
		require.NoError(t, json.Unmarshal(log, &ev))
		require.Equal(t, "rollback", ev["event"])
		require.Equal(t, "v1.1.0", ev["from"])
		require.Equal(t, "v1.0.0", ev["to"])

		// A shadow that agrees with production is promoted.
		a.active = func() *model.Loaded { return a.models.Active() }
		sh(t, m, "shadowctl enable v1.1.0; shadowctl mode compare")
		sh(t, m, "run memhog 8 1 500")
		// Four seconds of decisions are too few to judge the shadow.
		require.Contains(t, sh(t, m, "shadowctl status"), "Compared: 8 (promotion needs 20)")
		out, err = m.Shell().Exec("shadowctl promote")
		require.ErrorContains(t, err, "too few compared decisions: 8 of the 20 needed", out)
		sh(t, m, "run memhog 12 1 500")
		require.Contains(t, sh(t, m, "shadowctl status"), "Divergences: 0 (0.00%)")
		require.Contains(t, sh(t, m, "shadowctl promote"), "Promotion complete: v1.1.0 is now active")
		require.Equal(t, "v1.1.0", a.models.Active().Version)
		require.Contains(t, sh(t, m, "modelctl status"), "Active:   v1.1.0")
		return log
	}
	require.Equal(t, string(run()), string(run()), "rollback logs are byte-identical")
}

func TestAutonomyBadInput(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	usage := "\nusage: autoctl on|off|status|safe-mode|audit|export-decisions|replay-decisions\n"
	for _, c := range []struct{ line, want string }{
		{"autoctl", "error: autoctl: missing subcommand" + usage},
		{"autoctl on now", "error: autoctl on: unexpected argument \"now\"\nusage: autoctl on\n"},
		{"autoctl frob", `error: autoctl: unknown subcommand "frob"` + usage},
		{"autoctl safe-mode maybe", "error: autoctl safe-mode: want on or off, got \"maybe\"\nusage: autoctl safe-mode on|off\n"},
		{"autoctl audit last 0", `error: autoctl audit last: N must be 1..1024, got "0"`},
		{"autoctl audit last x", `got "x"`},
		{"autoctl audit", "error: autoctl audit: want 'last N' or 'stats'\nusage: autoctl audit last N|stats\n"},
		{"autoctl export-decisions --format xml --output /tmp/x", `format "xml" is not supported (json is)`},
		{"autoctl export-decisions --format json", "error: autoctl export-decisions: missing --output\nusage: autoctl export-decisions [--format json] --output <file>\n"},
		{"autoctl replay-decisions", "error: autoctl replay-decisions: missing --input\nusage: autoctl replay-decisions --input <file>\n"},
		{"autoctl replay-decisions --input /nonexistent", "open /nonexistent: No such file or directory"},
		// Promote without a shadow, thresholds out of range, unknown versions.
		{"shadowctl promote", "error: shadow: promote: no shadow model is enabled (shadowctl enable <version>)"},
		{"llmctl shadow-promote", "no shadow model is enabled"},
		{"shadowctl threshold 0", "error: shadow: threshold 0 out of range 1..1000000"},
		{"shadowctl threshold -5", "threshold -5 out of range 1..1000000"},
		{"shadowctl threshold 1000001", "threshold 1000001 out of range 1..1000000"},
		{"shadowctl threshold lots", `"lots" is not a number`},
		{"shadowctl mode canary10", "no shadow model is enabled"},
		{"shadowctl enable v9.9.9", "model v9.9.9: no package at /models/v9.9.9"},
		{"llmctl shadow-deploy --id v9.9.9 --traffic 10", "model v9.9.9"},
		{"llmctl shadow-traffic --percent 150", "traffic 150% out of range 0..100"},
	} {
		out, err := m.Shell().Exec(c.line)
		require.Error(t, err, "%s: %s", c.line, out)
		require.Contains(t, out, c.want, c.line)
	}
	require.Contains(t, sh(t, m, "shadowctl status"), "  Threshold: 50\n", "bad thresholds change nothing")
	// A malformed file and one naming an unknown model version.
	require.NoError(t, m.FS().WriteFile("/tmp/bad.json", []byte(`{"format": "sissim-decisions/1", "decisions": [`), 0o644))
	out, err := m.Shell().Exec("autoctl replay-decisions --input /tmp/bad.json")
	require.Error(t, err)
	require.Contains(t, out, "malformed")
	require.NoError(t, m.FS().WriteFile("/tmp/unknown.json", []byte(`{"format": "sissim-decisions/1", "decisions": [{"trace_id": 1, "model_version": "v9.9.9", "features": [0,0,0,0,0,0], "predictions": [1,0,0,0]}]}`), 0o644))
	out, err = m.Shell().Exec("autoctl replay-decisions --input /tmp/unknown.json")
	require.Error(t, err)
	require.Contains(t, out, `error: autoctl: replay-decisions: replay: trace 1: model version "v9.9.9": `)
	out, err = m.Shell().Exec("tracectl demo 3")
	require.Error(t, err)
	require.Contains(t, out, "no active model")
	require.Contains(t, sh(t, m, "llmctl help"), "llmctl shadow-deploy")
	// No model: the loop runs but decides nothing.
	sh(t, m, "autoctl on")
	sh(t, m, "run memhog 4 1 300")
	require.Contains(t, sh(t, m, "autoctl status"), "Decisions: 0  Executed: 0  Overridden: 0  Without model: 2")
	require.Contains(t, sh(t, m, "autoctl off"), "Autonomy OFF")
	// Demo decisions are recorded, never executed.
	sh(t, m, "modelctl load v1.0.0; modelctl swap v1.0.0")
	require.Contains(t, sh(t, m, "tracectl demo 3"), "Generated 3 demo decision(s)")
	traces, _ := readTraces(t, m)
	require.Len(t, traces, 3)
	for _, tr := range traces {
		require.False(t, tr.WasExecuted)
		require.Equal(t, "demo input: not executed", tr.OverrideReason)
	}
	// A recorded hash that is not the model's: replay names the decision
	// and does not count it as reproduced.
	sh(t, m, "autoctl export-decisions --format json --output /tmp/demo.json")
	require.Equal(t, "Replay: 3/3 decisions reproduced\n", sh(t, m, "autoctl replay-decisions --input /tmp/demo.json"))
	data, err := m.FS().ReadFile("/tmp/demo.json")
	require.NoError(t, err)
	require.NoError(t, m.FS().WriteFile("/tmp/tampered.json", bytes.Replace(data, []byte(traces[1].ModelHash), []byte("00ff"), 1), 0o644))
	out, err = m.Shell().Exec("autoctl replay-decisions --input /tmp/tampered.json")
	require.Error(t, err)
	require.Contains(t, out, "Replay: 2/3 decisions reproduced\n  trace 1: model v1.0.0 hash ")
}

// loopTick is the machine's state right after a decision of the loop.
type loopTick struct {
	misses  uint64
	live    int
	budgets map[int]uint64 // pid -> CBS budget
}

// runLoop switches the loop on with model v1.0.0, runs the processes
// argvs to their end, and returns the logged traces and the machine's
// state after each decision, by tick (machine time / AutonomyTick). The
// test's timer is registered after the loop's, so at each tick it runs
// after the decision.
func runLoop(t *testing.T, m *System, argvs ...[]string) ([]decision.DecisionTrace, map[uint64]loopTick, []*kernel.Process) {
	t.Helper()
	sh(t, m, "modelctl load v1.0.0; modelctl swap v1.0.0; autoctl on")
	var procs []*kernel.Process
	for _, argv := range argvs {
		procs = append(procs, spawn(t, m, argv...))
	}
	ticks := map[uint64]loopTick{}
	every(m, AutonomyTick, func() {
		st := loopTick{misses: m.Scheduler().Misses(), budgets: map[int]uint64{}}
		for _, p := range procs {
			if !gone(m, p) {
				st.live++
				st.budgets[p.PID] = p.Server().BudgetNs
			}
		}
		ticks[uint64(m.Now())/uint64(AutonomyTick)] = st
	})
	for _, p := range procs {
		st, err := p.Wait()
		require.NoError(t, err)
		require.Equal(t, 0, st.ShellCode(), "pid %d", p.PID)
	}
	traces, _ := readTraces(t, m)
	require.NotEmpty(t, traces)
	return traces, ticks, procs
}

// budgetPID parses the pid out of an executed throttle/boost outcome.
func budgetPID(t *testing.T, m *System, id uint64) int {
	t.Helper()
	a := m.svc.autonomy
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.audit.All() {
		if e.id == id {
			mm := regexp.MustCompile(`^executed: pid (\d+) `).FindStringSubmatch(e.outcome)
			require.NotNil(t, mm, e.outcome)
			pid, _ := strconv.Atoi(mm[1])
			return pid
		}
	}
	t.Fatalf("trace %d is not in the audit", id)
	return 0
}

// TestAutonomyLoopBoostsMissedDeadlines: twelve periodic tasks overload
// the processor; the loop's traces carry the scheduler's own deadline
// miss counts, v1.0.0 chooses boost_deadline, and the executed boost
// doubles the CBS budget of a task on the machine.
func TestAutonomyLoopBoostsMissedDeadlines(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	var argvs [][]string
	for i := 0; i < 12; i++ {
		argvs = append(argvs, []string{"deadline", "20", "10", "100"})
	}
	traces, ticks, _ := runLoop(t, m, argvs...)
	compared, boosted := 0, 0
	var prev loopTick
	for i, tr := range traces {
		k := tr.TimestampUs * 1000 / uint64(AutonomyTick)
		st, ok := ticks[k]
		require.True(t, ok, "trace %d at a tick", tr.TraceID)
		if i == 0 {
			prev = loopTick{live: st.live}
		}
		// The scheduler's total drops the misses of servers that leave:
		// compare windows in which no task ended.
		if st.live == prev.live && st.live == len(argvs) {
			require.Equal(t, st.misses-prev.misses, tr.Telemetry.DeadlineMisses, "trace %d", tr.TraceID)
			require.Equal(t, min(float32(tr.Telemetry.DeadlineMisses)/10, 1), tr.Features[model.FeatureDeadlineMisses])
			if tr.Telemetry.DeadlineMisses > 0 {
				compared++
			}
		}
		prev = st
		require.Equal(t, model.ReferencePolicy(tr.Features), tr.ChosenAction)
		if tr.ChosenAction != model.ActionBoostDeadline || !tr.WasExecuted {
			continue
		}
		boosted++
		pid := budgetPID(t, m, tr.TraceID)
		require.Equal(t, uint64(2*sched.DefaultProcessWCET), st.budgets[pid], "trace %d boosted pid %d", tr.TraceID, pid)
		if next, ok := ticks[k+1]; ok && next.live > 0 {
			if b, ok := next.budgets[pid]; ok {
				require.Equal(t, uint64(2*sched.DefaultProcessWCET), b, "the boost lasts %s", ActionHold)
			}
		}
	}
	require.Positive(t, compared, "windows with deadline misses, matched against the scheduler")
	require.Positive(t, boosted, "the loop executed a boost")
	require.Contains(t, sh(t, m, "autoctl audit stats"), "boost_deadline: ")
}

// TestAutonomyLoopThrottlesCPUHogs: two CPU-bound processes saturate the
// processor; v1.0.0 chooses throttle_cpu and the executed throttle halves
// the CBS budget of a hog on the machine.
func TestAutonomyLoopThrottlesCPUHogs(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	traces, ticks, _ := runLoop(t, m, []string{"alu_loop", "100000000"}, []string{"alu_loop", "100000000"})
	throttled := 0
	for _, tr := range traces {
		st := ticks[tr.TimestampUs*1000/uint64(AutonomyTick)]
		require.Equal(t, model.ReferencePolicy(tr.Features), tr.ChosenAction)
		if tr.ChosenAction != model.ActionThrottleCPU || !tr.WasExecuted {
			continue
		}
		throttled++
		require.Equal(t, float32(1), tr.Features[model.FeatureCPUUsage])
		require.Equal(t, 2, tr.Telemetry.RunQueue)
		pid := budgetPID(t, m, tr.TraceID)
		require.Equal(t, uint64(sched.DefaultProcessWCET/2), st.budgets[pid], "trace %d throttled pid %d", tr.TraceID, pid)
	}
	require.Positive(t, throttled, "the loop executed a throttle")
}

// TestAutonomyCanaryThroughShadowctl: canary decisions are executed by
// the shadow and traced under its version and hash, 10% of them chosen by
// shadow.Routed; replay reproduces the decisions of both models.
func TestAutonomyCanaryThroughShadowctl(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	reg := m.svc.models
	sh(t, m, "modelctl load v1.0.0; modelctl swap v1.0.0; modelctl load v1.1.0")
	require.Equal(t, "Shadow agent enabled (LogOnly mode)\nShadow mode set to: CanaryFull\n", sh(t, m, "shadowctl enable v1.1.0; shadowctl mode canary100"))
	st := sh(t, m, "shadowctl status")
	require.Contains(t, st, "Shadow Agent Status:\n  Mode: CanaryFull\n  Decisions: 0\n  Divergences: 0 (0.00%)\n  Shadow Model: v1.1.0\n")
	shadowHash := reg.Shadow().Hash
	activeHash := reg.Active().Hash
	require.NotEqual(t, shadowHash, activeHash)

	sh(t, m, "autoctl on; run memhog 8 1 250")
	full, _ := readTraces(t, m)
	require.NotEmpty(t, full)
	for _, tr := range full {
		require.Equal(t, "v1.1.0", tr.ModelVersion, "CanaryFull: the shadow decides")
		require.Equal(t, shadowHash, tr.ModelHash)
	}
	require.Contains(t, sh(t, m, "shadowctl status"), fmt.Sprintf("  Decisions: %d\n", len(full)))

	require.Equal(t, "Shadow mode set to: CanaryPartial\n", sh(t, m, "shadowctl mode canary10"))
	require.Contains(t, sh(t, m, "shadowctl status"), "  Canary Traffic: 10%")
	sh(t, m, "run memhog 60 1 250")
	traces, _ := readTraces(t, m)
	routed := 0
	for _, tr := range traces[len(full):] {
		want := "v1.0.0"
		if shadow.Routed(tr.TraceID, 10) {
			want = "v1.1.0"
			routed++
		}
		require.Equal(t, want, tr.ModelVersion, "trace %d", tr.TraceID)
	}
	require.Positive(t, routed)
	require.Less(t, routed, len(traces)-len(full))
	cmp := sh(t, m, "shadowctl compare")
	require.Contains(t, cmp, "Shadow Comparison (v1.1.0 vs production, mode CanaryPartial):\n")
	require.Contains(t, cmp, "(executed by shadow)")

	sh(t, m, "autoctl off; autoctl export-decisions --format json --output /tmp/canary.json")
	require.Equal(t, fmt.Sprintf("Replay: %d/%d decisions reproduced\n", len(traces), len(traces)),
		sh(t, m, "autoctl replay-decisions --input /tmp/canary.json"))

	require.Equal(t, "Shadow agent disabled\n", sh(t, m, "shadowctl disable"))
	require.Contains(t, sh(t, m, "shadowctl status"), "  Mode: Disabled\n")
	require.Nil(t, reg.Shadow())
}

// With every SIS feature off the loop still runs: the built-in model
// decides and acts on the machine, and the traces stay in memory (no log
// file, no [DECISION] lines), from where they export and replay.
func TestAutonomyWithEveryFeatureOff(t *testing.T) {
	m, err := Boot(BootConfig{Config: kernel.Config{Mem: 48 << 20}, Image: sissim.RootImage(), Options: Options{Features: Features{}}, Services: DefaultServices()})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.Contains(t, sh(t, m, "autoctl status"), "Active model: "+BuiltinModel+"\n")
	sh(t, m, "autoctl on")
	out, err := m.Shell().Exec("run memhog 24 2 200")
	require.Error(t, err, "memhog is terminated by the reclaim action")
	require.Contains(t, out, "[pid 2] killed by SIGTERM")
	require.NotContains(t, out, "[DECISION]")
	_, err = m.FS().Stat("/var/log/decisions.json")
	require.ErrorIs(t, err, linux.ENOENT)

	stats := sh(t, m, "autoctl audit stats")
	require.Contains(t, stats, "reclaim_memory: 1\n")
	sh(t, m, "autoctl export-decisions --format json --output /tmp/d.json")
	replay := sh(t, m, "autoctl replay-decisions --input /tmp/d.json")
	require.Regexp(t, `^Replay: (\d+)/(\d+) decisions reproduced\n$`, replay)
	n := regexp.MustCompile(`\d+`).FindAllString(replay, 2)
	require.Equal(t, n[0], n[1])
	require.NotEqual(t, "0", n[0])

	for line, feature := range map[string]string{"tracectl list": FeatureDecisionTraces, "shadowctl status": FeatureShadowMode, "modelctl status": FeatureModelLifecycle} {
		_, err := m.Shell().Exec(line)
		require.ErrorContains(t, err, "the "+feature+" feature enables it", line)
	}
}

// An operator's safe mode stops the actions until it is cleared: the
// memory reclaim that kills memhog is recorded as overridden instead.
func TestAutonomyOperatorSafeMode(t *testing.T) {
	m := bootServices(t, kernel.Config{Mem: memhogBase(t) + 50<<20})
	sh(t, m, "modelctl load v1.0.0; modelctl swap v1.0.0; autoctl safe-mode on; autoctl on")
	require.Contains(t, sh(t, m, "autoctl status"), "Safe mode: on (operator)\n")
	out := sh(t, m, "run memhog 24 2 200")
	require.Contains(t, out, "[pid 2] exit status 0", "nothing reclaimed memhog's memory")
	traces, _ := readTraces(t, m)
	overridden := 0
	for _, tr := range traces {
		require.False(t, tr.WasExecuted, "trace %d", tr.TraceID)
		if tr.ChosenAction == model.ActionReclaimMemory {
			require.True(t, tr.WasOverridden)
			require.Equal(t, "safe mode: operator", tr.OverrideReason)
			overridden++
		}
	}
	require.Positive(t, overridden)

	sh(t, m, "autoctl safe-mode off")
	out, err := m.Shell().Exec("run memhog 24 2 200")
	require.Error(t, err)
	require.Contains(t, out, "killed by SIGTERM", "the reclaim runs again")
}
