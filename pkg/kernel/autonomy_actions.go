package kernel

import (
	"errors"
	"fmt"
	"path"
	"time"

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
	srv    *sched.Server
	orig   uint64 // the budget before
	kind   string // "throttle" or "boost"
	cancel func() // cancels the restoring timer
}

// actuator carries out the loop's actions on the machine. Its methods run
// while no process runs (from a machine timer).
type actuator struct {
	m   *Machine
	adj map[*Process]*budgetAdjust
}

func newActuator(m *Machine) *actuator {
	return &actuator{m: m, adj: map[*Process]*budgetAdjust{}}
}

// running returns the live processes that have not exited, by pid.
func (a *actuator) running() []*Process {
	var out []*Process
	for _, p := range a.m.liveProcs() {
		if !p.zombie && !p.exiting {
			out = append(out, p)
		}
	}
	return out
}

func procName(p *Process) string { return path.Base(p.exe) }

// reclaimMemory sends SIGTERM to the process mapping the most guest memory.
func (a *actuator) reclaimMemory() (string, error) {
	var victim *Process
	var most uint64
	for _, p := range a.running() {
		if p.as == nil {
			continue
		}
		if mapped := p.rss(); mapped > most {
			victim, most = p, mapped
		}
	}
	if victim == nil {
		return "", fmt.Errorf("%w: no process uses memory", errNoTarget)
	}
	victim.sendSignal(linux.SIGTERM, siginfo{code: siKernel})
	return fmt.Sprintf("SIGTERM to pid %d (%s, %d KiB resident)", victim.PID, procName(victim), most/1024), nil
}

// throttleCPU halves the budget of the process that ran the most guest code
// since mk (processes already adjusted are left alone).
func (a *actuator) throttleCPU(mk telemetryMark) (string, error) {
	var top *Process
	var most uint64
	for _, p := range a.running() {
		if a.adj[p] != nil || p.server() == nil {
			continue
		}
		used := p.cpuNs() - min(mk.cpuNs[p.PID], p.cpuNs())
		if used > most {
			top, most = p, used
		}
	}
	if top == nil {
		return "", fmt.Errorf("%w: no process ran in the window", errNoTarget)
	}
	srv := top.server()
	budget := max(srv.BudgetNs/2, minThrottledBudget)
	if budget >= srv.BudgetNs {
		return "", fmt.Errorf("pid %d: budget %d ns is at the minimum", top.PID, srv.BudgetNs)
	}
	old := a.adjust(top, "throttle", budget)
	return fmt.Sprintf("pid %d (%s) budget %d -> %d ns for %s", top.PID, procName(top), old, budget, ActionHold), nil
}

// boostDeadline doubles the budget of the process whose server missed the
// most deadlines since mk, within admission control.
func (a *actuator) boostDeadline(mk telemetryMark) (string, error) {
	var top *Process
	var most uint64
	for _, p := range a.running() {
		if a.adj[p] != nil || p.server() == nil {
			continue
		}
		before := mk.misses[p.server()]
		if p.server().Misses < before {
			before = 0
		}
		if n := p.server().Misses - before; n > most {
			top, most = p, n
		}
	}
	if top == nil {
		return "", fmt.Errorf("%w: no process missed a deadline in the window", errNoTarget)
	}
	srv := top.server()
	budget := min(2*srv.BudgetNs, srv.RelDeadlineNs)
	if budget <= srv.BudgetNs {
		return "", fmt.Errorf("pid %d: budget %d ns is already its deadline", top.PID, srv.BudgetNs)
	}
	used, util := a.m.sched.UsedPPM(), sched.UtilPPM(budget, srv.PeriodNs)
	if used+util > sched.MaxUtilPPM {
		return "", fmt.Errorf("pid %d: a %d ppm reservation does not pass admission (%d of %d ppm in use)", top.PID, util, used, sched.MaxUtilPPM)
	}
	old := a.adjust(top, "boost", budget)
	return fmt.Sprintf("pid %d (%s, %d misses) budget %d -> %d ns for %s", top.PID, procName(top), most, old, budget, ActionHold), nil
}

// adjust sets p's budget for ActionHold and returns the old budget.
func (a *actuator) adjust(p *Process, kind string, budget uint64) uint64 {
	srv := p.server()
	old := srv.BudgetNs
	srv.BudgetNs = budget
	if budget > old {
		srv.RemainingNs += budget - old
	} else {
		srv.RemainingNs = min(srv.RemainingNs, budget)
	}
	adj := &budgetAdjust{srv: srv, orig: old, kind: kind}
	adj.cancel = a.m.atTime(a.m.clock.Now()+uint64(ActionHold), func() { a.restore(p) })
	a.adj[p] = adj
	return old
}

// restore ends p's adjustment.
func (a *actuator) restore(p *Process) {
	adj := a.adj[p]
	if adj == nil {
		return
	}
	delete(a.adj, p)
	adj.cancel()
	if p.server() != adj.srv || p.zombie {
		return // the server is gone with the process
	}
	adj.srv.BudgetNs = adj.orig
	adj.srv.RemainingNs = min(adj.srv.RemainingNs, adj.orig)
}

// restoreAll ends every adjustment (autoctl off).
func (a *actuator) restoreAll() {
	for _, p := range a.adjusted() {
		a.restore(p)
	}
}

// adjusted returns the processes with an adjustment, by pid.
func (a *actuator) adjusted() []*Process {
	var out []*Process
	for _, p := range a.m.liveProcs() {
		if a.adj[p] != nil {
			out = append(out, p)
		}
	}
	// Exited and reaped processes are no longer listed: drop them.
	for p := range a.adj {
		if adj := a.adj[p]; a.m.lookup(p.PID) != p {
			adj.cancel()
			delete(a.adj, p)
		}
	}
	return out
}
