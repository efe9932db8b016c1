package kernel

import (
	"path"
	"sort"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/sched"
)

// Scheduler tracing: a Tracer (SetTracer) hears what the scheduler did,
// event by event, as a timeline writer needs it: which thread ran when,
// its system calls, what it waited for, the signals it took, the CBS
// servers' budgets and deadline misses, the machine's memory, and the
// marks a layer adds (TraceMark). Every time is machine time, so in
// deterministic mode the events are the same from run to run. With no
// tracer set the scheduler pays one nil check per slice, system call and
// state change.

// TraceKind says what a TraceEvent reports.
type TraceKind uint8

// Trace event kinds.
const (
	// TraceRun: thread TID of process PID ran on the CPU from Start to
	// End, retiring Value instructions; Name says why it stopped
	// ("preempted", "blocked", "stopped", "exited", "signal", or
	// "syscall" when a system call ended the slice: exec, sched_yield, a
	// signal sent).
	TraceRun TraceKind = iota + 1
	// TraceSyscall: system call Name of the thread ran from Start to End
	// (equal when it took no machine time) and returned Value (a
	// negative errno on failure). A call that blocks is reported when it
	// finally returns; its wait is a TraceWait.
	TraceSyscall
	// TraceWait: the thread could not run from Start to End; Name is why:
	// the system call it blocked in, or "stopped" (job control).
	TraceWait
	// TraceSignal: at Start the thread took signal Name; Detail says what
	// it did: "handler", "ignore", "stop" or "terminate".
	TraceSignal
	// TraceEntity: the work of a layer's CBS server (AddEntity), server
	// Server of type Name, ran from Start to End.
	TraceEntity
	// TraceBudget: at Start CBS server Server had Value ns of budget left
	// in its period; PID and TID name a thread it serves (0 for an
	// entity), Name the server's type.
	TraceBudget
	// TraceMiss: at Start CBS server Server missed a deadline (Value is
	// its miss count); PID and TID name a thread it serves (0 for an
	// entity).
	TraceMiss
	// TraceMemory: at Start Value bytes of the machine's RAM were in use.
	TraceMemory
	// TraceMark: at Start a layer marked event Name of Category
	// (TraceMark), with Args.
	TraceMark
)

// TraceEvent is one event of the scheduler's timeline.
type TraceEvent struct {
	Kind TraceKind
	// Start and End are machine time in ns since boot (End is Start for
	// instants).
	Start, End uint64
	// PID and TID are the thread's (0 for the machine's own events);
	// Process and Thread their names (comm).
	PID, TID        int
	Process, Thread string
	Name            string
	Category        string // TraceMark: the layer's category
	Detail          string // TraceSignal: what the signal did
	Value           int64
	Server          int // CBS server id (TraceEntity, TraceBudget, TraceMiss)
	Args            []TraceArg
}

// TraceArg is one named value of a TraceMark; Value is a string, a bool
// or an integer or float type.
type TraceArg struct {
	Key   string
	Value any
}

// Tracer receives the machine's trace events. Event runs on the machine's
// goroutine while no guest runs: it must not block or call back into the
// machine, and must not keep ev (copy what it needs).
type Tracer interface {
	Event(ev *TraceEvent)
}

// SetTracer makes tr hear the machine's trace events from now on (nil:
// none). Call it while no guest runs.
// A tracer replaced (or removed) first hears the waits still under way,
// up to now.
func (m *Machine) SetTracer(tr Tracer) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if old := m.introspect.trace; old != nil {
		old.endWaits()
	}
	if tr == nil {
		m.introspect.trace = nil
		return
	}
	m.introspect.trace = &tracing{m: m, tr: tr, waits: map[*Task]waitMark{},
		misses: map[int]uint64{}, budgets: map[int]uint64{}, pruneAt: pruneBudgets}
	for _, p := range m.liveProcs() {
		for _, t := range p.tasks {
			switch t.state {
			case taskBlocked:
				m.introspect.trace.waits[t] = waitMark{since: m.clock.Now(), why: "blocked"}
			case taskStopped:
				m.introspect.trace.waits[t] = waitMark{since: m.clock.Now(), why: "stopped"}
			}
		}
	}
}

// Tracing reports whether a tracer is set.
func (m *Machine) Tracing() bool { return m.introspect.trace != nil }

// TraceMark adds an instant event of a layer (an autonomy decision, a
// rollback) at the current machine time, when a tracer is set. Call it
// while no guest runs.
func (m *Machine) TraceMark(category, name string, args ...TraceArg) {
	tr := m.introspect.trace
	if tr == nil {
		return
	}
	now := m.clock.Now()
	tr.emit(&TraceEvent{Kind: TraceMark, Start: now, End: now, Category: category, Name: name, Args: args})
}

// tracing is the machine's tracer and what it has told it.
type tracing struct {
	m  *Machine
	tr Tracer
	// waits are the threads that cannot run, since when and why.
	waits map[*Task]waitMark
	// misses and budgets are the miss counts and budgets last reported,
	// by server id; totalMisses the scheduler's total then.
	misses      map[int]uint64
	budgets     map[int]uint64
	totalMisses uint64
	memUsed     uint64
	// pruneAt is the size of budgets at which the entries of removed
	// servers are dropped.
	pruneAt int
}

// pruneBudgets is the least size of the budget map at which it is pruned.
const pruneBudgets = 1024

// waitMark is when and why a thread stopped being runnable.
type waitMark struct {
	since uint64
	why   string
}

func (tc *tracing) emit(ev *TraceEvent) { tc.tr.Event(ev) }

// names fills in the names of t and its process.
func (tc *tracing) names(ev *TraceEvent, t *Task) {
	ev.PID, ev.TID = t.PID, t.TID
	ev.Thread = t.commName()
	ev.Process = ev.Thread
	if l := t.Process.leader(); l != nil && l != t {
		ev.Process = l.commName()
	} else if l == nil {
		ev.Process = path.Base(t.exe)
	}
}

// state is called before t moves to state s.
func (tc *tracing) state(t *Task, s taskState) {
	if s == t.state {
		return
	}
	now := tc.m.clock.Now()
	switch s {
	case taskBlocked:
		tc.waits[t] = waitMark{since: now, why: "blocked"}
		return
	case taskStopped:
		tc.waits[t] = waitMark{since: now, why: "stopped"}
		return
	}
	w, ok := tc.waits[t]
	if !ok {
		return
	}
	delete(tc.waits, t)
	ev := TraceEvent{Kind: TraceWait, Start: min(w.since, now), End: now, Name: w.why}
	tc.names(&ev, t)
	tc.emit(&ev)
}

// syscall reports the system call nr of t that ran from start to now and
// returned ret, or that blocked.
func (tc *tracing) syscall(t *Task, nr uint64, start, ret uint64) {
	if t.restart {
		if w, ok := tc.waits[t]; ok && w.why == "blocked" {
			w.why = syscallName(nr)
			tc.waits[t] = w
		}
		return
	}
	ev := TraceEvent{Kind: TraceSyscall, Start: start, End: tc.m.clock.Now(), Name: syscallName(nr), Value: int64(ret)}
	tc.names(&ev, t)
	tc.emit(&ev)
}

// signal reports that t takes sig with action act.
func (tc *tracing) signal(t *Task, sig linux.Signal, act sigaction) {
	what := "handler"
	switch {
	case sig == linux.SIGKILL || sig == linux.SIGSTOP || act.handler == sigDFL:
		switch defaultActionOf(sig) {
		case actIgnore, actCont:
			what = "ignore"
		case actStop:
			what = "stop"
		default:
			what = "terminate"
		}
	case act.handler == sigIGN:
		what = "ignore"
	}
	now := tc.m.clock.Now()
	ev := TraceEvent{Kind: TraceSignal, Start: now, End: now, Name: sig.String(), Detail: what}
	tc.names(&ev, t)
	tc.emit(&ev)
}

// ran reports the slice of t from start to end that retired insns
// instructions and stopped for why, with its server's budget before and
// after it.
func (tc *tracing) ran(t *Task, start, end, insns uint64, why string, budgetBefore uint64) {
	if w, ok := tc.waits[t]; ok && w.since < end {
		// It blocked or stopped within the slice: the wait starts where
		// the slice ends, so that the two do not overlap.
		w.since = end
		tc.waits[t] = w
	}
	ev := TraceEvent{Kind: TraceRun, Start: start, End: end, Name: why, Value: int64(insns)}
	tc.names(&ev, t)
	tc.emit(&ev)
	if srv := t.srv; srv != nil {
		tc.budget(srv, start, budgetBefore, t)
		tc.budget(srv, end, srv.RemainingNs, t)
	}
	tc.machine(end)
}

// entity reports a slice of a layer's server srv from start to end.
func (tc *tracing) entity(srv *sched.Server, start, end, budgetBefore uint64) {
	ev := TraceEvent{Kind: TraceEntity, Start: start, End: end, Name: srv.Type.String(), Server: srv.ID}
	tc.emit(&ev)
	tc.budget(srv, start, budgetBefore, nil)
	tc.budget(srv, end, srv.RemainingNs, nil)
	tc.machine(end)
}

// budget reports the budget of srv at time at when it changed.
func (tc *tracing) budget(srv *sched.Server, at, left uint64, t *Task) {
	if last, ok := tc.budgets[srv.ID]; ok && last == left {
		return
	}
	tc.budgets[srv.ID] = left
	if len(tc.budgets) >= tc.pruneAt {
		tc.prune()
	}
	ev := TraceEvent{Kind: TraceBudget, Start: at, End: at, Name: srv.Type.String(), Server: srv.ID, Value: int64(left)}
	if t != nil {
		tc.names(&ev, t)
	}
	tc.emit(&ev)
}

// prune forgets the budgets and miss counts of servers that are gone.
func (tc *tracing) prune() {
	live := map[int]bool{}
	for _, srv := range tc.m.sched.Servers() {
		live[srv.ID] = true
	}
	for id := range tc.budgets {
		if !live[id] {
			delete(tc.budgets, id)
		}
	}
	for id := range tc.misses {
		if !live[id] {
			delete(tc.misses, id)
		}
	}
	tc.pruneAt = max(pruneBudgets, 2*len(tc.budgets))
}

// endWaits reports the waits under way as ending now, in TID order.
func (tc *tracing) endWaits() {
	ts := make([]*Task, 0, len(tc.waits))
	for t := range tc.waits {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].TID < ts[j].TID })
	now := tc.m.clock.Now()
	for _, t := range ts {
		w := tc.waits[t]
		ev := TraceEvent{Kind: TraceWait, Start: min(w.since, now), End: now, Name: w.why}
		tc.names(&ev, t)
		tc.emit(&ev)
	}
	tc.waits = map[*Task]waitMark{}
}

// machine reports new deadline misses and the memory in use at now.
func (tc *tracing) machine(now uint64) {
	m := tc.m
	if total := m.sched.TotalMisses(); total != tc.totalMisses {
		tc.totalMisses = total
		for _, srv := range m.sched.Servers() {
			if srv.Misses == tc.misses[srv.ID] {
				continue
			}
			tc.misses[srv.ID] = srv.Misses
			if srv.Misses == 0 {
				continue // reset (det), not missed
			}
			ev := TraceEvent{Kind: TraceMiss, Start: now, End: now, Name: srv.Type.String(), Server: srv.ID, Value: int64(srv.Misses)}
			if ts := m.serving.tasks[srv.ID]; len(ts) > 0 {
				tc.names(&ev, ts[0])
			}
			tc.emit(&ev)
		}
	}
	rs := m.ram.Stats()
	if used := rs.Total - rs.Free; used != tc.memUsed {
		tc.memUsed = used
		ev := TraceEvent{Kind: TraceMemory, Start: now, End: now, Value: int64(used)}
		tc.emit(&ev)
	}
}

// stopReason says why the slice of t that ended with ex stopped.
func stopReason(t *Task, budget bool) string {
	switch {
	case t.dying || t.state == taskDead:
		return "exited"
	case t.state == taskBlocked:
		return "blocked"
	case t.state == taskStopped:
		return "stopped"
	case budget:
		return "preempted"
	case t.hasPending():
		return "signal"
	}
	return "syscall"
}
