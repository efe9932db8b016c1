package sis

import (
	"fmt"
	"io"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/timeline"
)

// Timeline streams the machine's scheduler trace (kernel.Tracer) to a
// Chrome trace-event file (pkg/timeline): each guest process a track with
// its threads, their slices ("run"), system calls ("syscall": a slice, or
// an instant when it took no machine time), waits ("wait", named for what
// they waited on) and signals; the machine's own track (pid 0) with the
// memory in use, the CBS servers of the SIS services as threads, and the
// layer's marks (autonomy decisions, shadow divergences, rollbacks); CBS
// budgets as counters and deadline misses as instants.
type Timeline struct {
	s  *System
	tw *timeline.Writer
}

// machinePID and kernelTID are the track of the machine's own events.
const machinePID, kernelTID = 0, 0

// StartTimeline starts writing the timeline to w, up to limit bytes
// (timeline.DefaultLimit when limit <= 0). Call it while no guest runs;
// Stop ends it.
func (s *System) StartTimeline(w io.Writer, limit int64) *Timeline {
	tl := &Timeline{s: s, tw: timeline.NewWriter(w, limit)}
	tl.tw.Process(machinePID, "machine")
	tl.tw.Thread(machinePID, kernelTID, "kernel")
	s.SetTracer(tl)
	return tl
}

// Stop ends the timeline (the waits still under way end now) and
// completes the file; it returns the first write error. Call it while no
// guest runs.
func (tl *Timeline) Stop() error {
	tl.s.SetTracer(nil)
	return tl.tw.Close()
}

// Events returns how many events the file holds, Dropped how many the
// size limit kept out.
func (tl *Timeline) Events() uint64 { return tl.tw.Events() }

// Dropped returns how many events the size limit kept out of the file.
func (tl *Timeline) Dropped() uint64 { return tl.tw.Dropped() }

// Event implements kernel.Tracer.
func (tl *Timeline) Event(ev *kernel.TraceEvent) {
	w := tl.tw
	if ev.PID != 0 {
		w.Process(ev.PID, ev.Process)
		w.Thread(ev.PID, ev.TID, ev.Thread)
	}
	switch ev.Kind {
	case kernel.TraceRun:
		w.Complete(ev.PID, ev.TID, "run", ev.Thread, ev.Start, ev.End,
			timeline.Arg{Key: "stop", Value: ev.Name}, timeline.Arg{Key: "insns", Value: ev.Value})
	case kernel.TraceSyscall:
		ret := timeline.Arg{Key: "ret", Value: ev.Value}
		if ev.End > ev.Start {
			w.Complete(ev.PID, ev.TID, "syscall", ev.Name, ev.Start, ev.End, ret)
		} else {
			w.Instant(ev.PID, ev.TID, "syscall", ev.Name, ev.Start, timeline.ScopeThread, ret)
		}
	case kernel.TraceWait:
		w.Complete(ev.PID, ev.TID, "wait", "wait: "+ev.Name, ev.Start, ev.End, timeline.Arg{Key: "reason", Value: ev.Name})
	case kernel.TraceSignal:
		w.Instant(ev.PID, ev.TID, "signal", ev.Name, ev.Start, timeline.ScopeThread, timeline.Arg{Key: "action", Value: ev.Detail})
	case kernel.TraceEntity:
		w.Thread(machinePID, ev.Server, fmt.Sprintf("CBS server %d (%s)", ev.Server, ev.Name))
		w.Complete(machinePID, ev.Server, "entity", ev.Name, ev.Start, ev.End)
	case kernel.TraceBudget:
		w.Counter(ev.PID, fmt.Sprintf("CBS budget, server %d", ev.Server), ev.Start, timeline.Arg{Key: "remaining_ns", Value: ev.Value})
	case kernel.TraceMiss:
		pid, tid := ev.PID, ev.TID
		if pid == 0 {
			tid = ev.Server
			w.Thread(machinePID, tid, fmt.Sprintf("CBS server %d (%s)", ev.Server, ev.Name))
		}
		w.Instant(pid, tid, "deadline", "deadline miss", ev.Start, timeline.ScopeThread,
			timeline.Arg{Key: "server", Value: ev.Server}, timeline.Arg{Key: "misses", Value: ev.Value})
	case kernel.TraceMemory:
		w.Counter(machinePID, "memory", ev.Start, timeline.Arg{Key: "used_bytes", Value: ev.Value})
	case kernel.TraceMark:
		args := make([]timeline.Arg, len(ev.Args))
		for i, a := range ev.Args {
			args[i] = timeline.Arg{Key: a.Key, Value: a.Value}
		}
		w.Instant(machinePID, kernelTID, ev.Category, ev.Name, ev.Start, timeline.ScopeGlobal, args...)
	}
}
