package sis

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// The autonomy loop's actions and what they do to the machine
// (docs/autonomy.md):
//
//   - reclaim memory: SIGTERM to the process that maps the most guest
//     memory (ties: lowest pid); its memory returns when it exits.
//   - throttle CPU: the process that ran the most guest code in the window
//     gets half its CBS budget (at least 1 ms) for ActionHold; EDF then
//     serves the other processes first each period.
//   - boost deadline: the process whose server missed the most deadlines in
//     the window gets twice its CBS budget (at most its relative deadline)
//     for ActionHold, if a reservation of that size would pass admission
//     control (sched.MaxUtilPPM).
//
// A process has at most one adjustment at a time; it ends after
// ActionHold of machine time (a machine timer), when the process exits
// or when the loop is switched off.

// ActionHold is how long a budget adjustment (throttle, boost) lasts, in
// machine time.
const ActionHold = 2 * time.Second

// minThrottledBudget is the smallest budget throttling leaves a process.
const minThrottledBudget = uint64(time.Millisecond)

// errNoTarget is returned by an action that found nothing to act on.
var errNoTarget = errors.New("no target")

// budgetAdjust is a temporary change of a process's CBS budget.
type budgetAdjust struct {
	pid    int
	name   string
	srv    *sched.Server
	orig   uint64 // the budget before
	kind   string // "throttle" or "boost"
	cancel func() // cancels the restoring timer
}

// actuator carries out the loop's actions on the machine. Its methods run
// while no process runs (from a machine timer).
type actuator struct {
	m   *System
	adj map[int]*budgetAdjust // by pid
	// hooked: the exit hook is installed (with the first adjustment, so
	// that a machine never adjusted has no callbacks of it and a
	// debugging session can take checkpoints of it).
	hooked bool
}

func newActuator(m *System) *actuator {
	return &actuator{m: m, adj: map[int]*budgetAdjust{}}
}

// running returns the live processes that have not begun to exit, by pid.
func (a *actuator) running() []kernel.ProcessInfo {
	var out []kernel.ProcessInfo
	for _, p := range a.m.Processes() {
		if !p.Exiting {
			out = append(out, p)
		}
	}
	return out
}

func procName(p kernel.ProcessInfo) string { return path.Base(p.Exe) }

// server returns the CBS server of process pid (nil when it has none).
func (a *actuator) server(pid int) *sched.Server {
	if p := a.m.Process(pid); p != nil {
		return p.Server()
	}
	return nil
}

// reclaimMemory sends SIGTERM to the process using the most machine RAM.
func (a *actuator) reclaimMemory() (string, error) {
	var victim kernel.ProcessInfo
	var most uint64
	for _, p := range a.running() {
		if p.RSS > most {
			victim, most = p, p.RSS
		}
	}
	if most == 0 {
		return "", fmt.Errorf("%w: no process uses memory", errNoTarget)
	}
	if err := a.m.Process(victim.PID).KernelSignal(linux.SIGTERM); err != nil {
		return "", fmt.Errorf("pid %d: %w", victim.PID, err)
	}
	return fmt.Sprintf("SIGTERM to pid %d (%s, %d KiB resident)", victim.PID, procName(victim), most/1024), nil
}

// throttleCPU halves the budget of the process that ran the most guest code
// since mk (processes already adjusted are left alone).
func (a *actuator) throttleCPU(mk telemetryMark) (string, error) {
	var top kernel.ProcessInfo
	var most uint64
	for _, p := range a.running() {
		if a.adj[p.PID] != nil || a.server(p.PID) == nil {
			continue
		}
		used := p.CPUNs - min(mk.cpuNs[p.PID], p.CPUNs)
		if used > most {
			top, most = p, used
		}
	}
	if most == 0 {
		return "", fmt.Errorf("%w: no process ran in the window", errNoTarget)
	}
	srv := a.server(top.PID)
	budget := max(srv.BudgetNs/2, minThrottledBudget)
	if budget >= srv.BudgetNs {
		return "", fmt.Errorf("pid %d: budget %d ns is at the minimum", top.PID, srv.BudgetNs)
	}
	old, err := a.adjust(top, "throttle", budget)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pid %d (%s) budget %d -> %d ns for %s", top.PID, procName(top), old, budget, ActionHold), nil
}

// boostDeadline doubles the budget of the process whose server missed the
// most deadlines since mk, within admission control.
func (a *actuator) boostDeadline(mk telemetryMark) (string, error) {
	var top kernel.ProcessInfo
	var most uint64
	for _, p := range a.running() {
		srv := a.server(p.PID)
		if a.adj[p.PID] != nil || srv == nil {
			continue
		}
		before := mk.misses[srv]
		if srv.Misses < before {
			before = 0
		}
		if n := srv.Misses - before; n > most {
			top, most = p, n
		}
	}
	if most == 0 {
		return "", fmt.Errorf("%w: no process missed a deadline in the window", errNoTarget)
	}
	srv := a.server(top.PID)
	budget := min(2*srv.BudgetNs, srv.RelDeadlineNs)
	if budget <= srv.BudgetNs {
		return "", fmt.Errorf("pid %d: budget %d ns is already its deadline", top.PID, srv.BudgetNs)
	}
	sc := a.m.Scheduler()
	used, util := sc.UsedPPM(), sched.UtilPPM(budget, srv.PeriodNs)
	if used+util > sched.MaxUtilPPM {
		return "", fmt.Errorf("pid %d: a %d ppm reservation does not pass admission (%d of %d ppm in use)", top.PID, util, used, sched.MaxUtilPPM)
	}
	old, err := a.adjust(top, "boost", budget)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pid %d (%s, %d misses) budget %d -> %d ns for %s", top.PID, procName(top), most, old, budget, ActionHold), nil
}

// adjust sets p's budget for ActionHold and returns the old budget.
func (a *actuator) adjust(p kernel.ProcessInfo, kind string, budget uint64) (uint64, error) {
	srv := a.server(p.PID)
	old := srv.BudgetNs
	if err := a.m.Scheduler().SetBudget(srv, budget); err != nil {
		return 0, fmt.Errorf("pid %d: %w", p.PID, err)
	}
	adj := &budgetAdjust{pid: p.PID, name: procName(p), srv: srv, orig: old, kind: kind}
	adj.cancel = a.m.AtTime(a.m.Now()+ActionHold, func() { a.restore(p.PID) })
	if !a.hooked {
		// An adjustment ends with its process.
		a.hooked = true
		a.m.OnProcessExit(func(pid int, _ kernel.ExitStatus) { a.drop(pid) })
	}
	a.adj[p.PID] = adj
	return old, nil
}

// restore ends the adjustment of process pid.
func (a *actuator) restore(pid int) {
	adj := a.adj[pid]
	if adj == nil {
		return
	}
	delete(a.adj, pid)
	adj.cancel()
	if p := a.m.Process(pid); p == nil || p.Server() != adj.srv {
		return // the server is gone with the process
	}
	_ = a.m.Scheduler().SetBudget(adj.srv, adj.orig) // a smaller budget always fits
}

// drop forgets the adjustment of process pid, which exited.
func (a *actuator) drop(pid int) {
	if adj := a.adj[pid]; adj != nil {
		adj.cancel()
		delete(a.adj, pid)
	}
}

// restoreAll ends every adjustment (autoctl off).
func (a *actuator) restoreAll() {
	for _, adj := range a.adjusted() {
		a.restore(adj.pid)
	}
}

// adjusted returns the adjustments, by pid.
func (a *actuator) adjusted() []*budgetAdjust {
	out := make([]*budgetAdjust, 0, len(a.adj))
	for _, adj := range a.adj {
		out = append(out, adj)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pid < out[j].pid })
	return out
}
