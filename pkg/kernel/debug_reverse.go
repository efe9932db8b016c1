package kernel

import (
	"errors"
	"fmt"

	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Reverse execution by re-execution.
//
// A deterministic machine is a function of its inputs: a Session (see
// debug_session.go) can build it again from the start, feed it the input
// the first run consumed, and run it to any point it passed. Going back to
// a point is running a new machine (a generation) to that point, from its
// start or from a checkpoint: a copy of an earlier generation's machine
// taken on the way (debug_checkpoint.go).
//
// A point in a run is a position (the count of instructions so far; the
// debugger's stops do not change it, see cpu/debug.go) and the number of
// the kernel's stop points passed at that position (seq): between time
// slices, before a signal's delivery, at the end of a CPU run. An in-CPU
// point (cpu) is the CPU about to run the instruction at pos, after those
// kernel points.
//
// What the debugger does that changes the run is recorded at the point
// where the machine was stopped: register and memory writes, kills,
// detaches, option changes, and resumes that keep a thread stopped or
// deliver another signal than the one a thread stopped for. A new
// generation applies them at the same points, so it runs the same run;
// everything else the debugger did (stops, steps, breakpoints, reads) left
// the run as it was.

// point is a place in a run.
type point struct {
	pos uint64
	seq int
	cpu bool
}

// before reports whether a comes before b in a run.
func (a point) before(b point) bool {
	if a.pos != b.pos {
		return a.pos < b.pos
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return !a.cpu && b.cpu
}

func (a point) String() string {
	k := "kernel"
	if a.cpu {
		k = "cpu"
	}
	return fmt.Sprintf("%d/%d/%s", a.pos, a.seq, k)
}

// effectKind is what an effect does.
type effectKind int

const (
	effAttach  effectKind = iota // the debugger attached: procs
	effRegs                      // WriteRegisters
	effMem                       // WriteMemory
	effKill                      // Kill
	effDetach                    // Detach
	effOptions                   // SetOptions
	effResume                    // Resume
)

// effect is one recorded change the debugger made to the run.
type effect struct {
	kind   effectKind
	tid    int
	pid    int
	addr   uint64
	data   []byte
	regs   gdbstub.Registers
	resume gdbstub.Resume
	opts   gdbstub.Options
	procs  map[int]bool // effAttach: debugged PIDs and whether attached
}

// logEntry is what happened at a point.
type logEntry struct {
	at      point
	effects []effect
}

// Bounds of a recording's memory.
const (
	maxLogEntries = 1 << 16
	maxLogBytes   = 64 << 20 // memory written by the debugger
)

// recording is the history of a Session's run, kept across generations.
type recording struct {
	log      []logEntry
	logBytes int
	// held: the last recorded resume kept a thread stopped, so the next
	// resume is recorded too (it lets it go).
	held bool
	// broken says why going back is no longer exact (a bound was passed).
	broken error
	// born: where each thread created during the run was created (its
	// history starts at the first point after), by TID.
	born map[int]point
	// cps are the checkpoints of the run (debug_checkpoint.go).
	cps checkpoints

	// Of the current generation:
	next       int    // the first log entry it has not reached
	kpos       uint64 // the position of the last kernel point...
	kseq       int    // ...and the kernel points at it so far
	here       point  // where the machine is (stopped)
	skip       point  // an in-CPU point passed without stopping
	skipOn     bool
	seek       *seeking // running to a point to report there
	abandon    *reverseReq
	dirtyStart bool // a recorded effect was made at the current point
}

// seeking is a generation's run to a point: the end of a reverse
// operation (report event there), or the end of a reverse continue's
// first pass (collecting breakpoint and watchpoint hits on the way).
type seeking struct {
	to      point
	first   bool // to is the first point at to.pos, of either kind
	after   bool // to is the first point after to (a thread's birth)
	event   gdbstub.StopEvent
	collect *[]revHit // nil: not collecting
}

// revHit is a breakpoint or watchpoint hit found going forward: where a
// reverse continue reports it.
type revHit struct {
	at    point
	first bool
	event gdbstub.StopEvent
}

// reverseReq is a reverse operation: the generation is abandoned and the
// session runs new ones.
type reverseReq struct {
	step   bool             // bs, else bc
	thread gdbstub.ThreadID // bs: the stepping thread
	from   point            // where it started
	to     point            // bs: its last instruction; bc: found by the first pass
	after  bool             // bs: stop at the first point after to
	event  gdbstub.StopEvent
}

// errNoReverse is returned when the recording cannot go back exactly.
var errNoReverse = errors.New("kernel: reverse execution is off")

// abandonGeneration unwinds a generation's machine goroutine to its
// session (a panic the session recovers; see Session.drive).
type abandonGeneration struct{ req *reverseReq }

// atKernel is called at each of the kernel's stop points (between time
// slices, before a signal's delivery, at the end of a CPU run): it counts
// the point, applies what the log has for it and returns the event to park
// with when a reverse operation ends here.
func (d *debugger) atKernel() *gdbstub.StopEvent {
	r := d.rec
	if r == nil {
		return nil
	}
	now := d.m.clock.Insns()
	if now != r.kpos {
		r.kpos, r.kseq = now, 0
	}
	r.kseq++
	return d.reach(point{pos: now, seq: r.kseq})
}

// atCPU is called when the CPU stopped for the debugger before the
// instruction at the current position.
func (d *debugger) atCPU() *gdbstub.StopEvent {
	if d.rec == nil {
		return nil
	}
	return d.reach(d.cpuPoint())
}

// cpuPoint is the in-CPU point at the current position.
func (d *debugger) cpuPoint() point {
	now := d.m.clock.Insns()
	p := point{pos: now, cpu: true}
	if now == d.rec.kpos {
		p.seq = d.rec.kseq
	}
	return p
}

// reach notes that the machine is at p: the log's effects for p are
// applied, and the event of a seek that ends at p is returned.
func (d *debugger) reach(p point) *gdbstub.StopEvent {
	r := d.rec
	r.here, r.dirtyStart = p, false
	for r.next < len(r.log) && !p.before(r.log[r.next].at) {
		e := r.log[r.next]
		r.next++
		if e.at != p {
			r.broken = fmt.Errorf("the run went past %v without reaching it (at %v)", e.at, p)
			d.m.kernelError(fmt.Errorf("debugger: reverse execution: %w", r.broken))
			r.log = r.log[:r.next-1]
			break
		}
		for _, ef := range e.effects {
			d.apply(ef)
		}
	}
	s := r.seek
	if s == nil {
		return nil
	}
	if s.after {
		if !s.to.before(p) {
			return nil
		}
		r.seek = nil
		d.endSeek()
		ev := s.event
		return &ev
	}
	if s.collect != nil {
		if !p.before(s.to) {
			// The first pass of a reverse continue is over: the session
			// runs the second.
			r.seek, r.abandon = nil, collected
			d.mu.Lock()
			d.opts = d.live // the next generation starts from the debugger's own
			d.mu.Unlock()
		}
		return nil
	}
	if p == s.to || s.first && p.pos >= s.to.pos {
		r.seek = nil
		d.endSeek()
		ev := s.event
		return &ev
	}
	if s.to.before(p) {
		r.broken = fmt.Errorf("the run went past %v without reaching it (at %v)", s.to, p)
		d.m.kernelError(fmt.Errorf("debugger: reverse execution: %w", r.broken))
		r.seek = nil
		d.endSeek()
		return &gdbstub.StopEvent{Kind: gdbstub.StopNoHistory, Thread: s.event.Thread}
	}
	return nil
}

// collecting reports whether breakpoint and watchpoint hits are collected
// for a reverse continue (the first pass) instead of stopping.
func (d *debugger) collecting() bool {
	return d.rec != nil && d.rec.seek != nil && d.rec.seek.collect != nil
}

// seekingQuietly reports whether the machine runs to a point without
// reporting anything on the way.
func (d *debugger) seekingQuietly() bool { return d.rec != nil && d.rec.seek != nil }

// collect records a hit found at point p during a first pass; it is
// reported at h.at.
func (d *debugger) collect(p point, h revHit) {
	if d.collecting() && p.before(d.rec.seek.to) {
		*d.rec.seek.collect = append(*d.rec.seek.collect, h)
	}
}

// collectBreak records a breakpoint hit during a first pass.
func (d *debugger) collectBreak(t *Task, ev *gdbstub.StopEvent) bool {
	if !d.collecting() {
		return d.seekingQuietly()
	}
	p := d.cpuPoint()
	d.collect(p, revHit{at: p, event: *ev})
	return true
}

// collectWatch records a watchpoint hit during a first pass: the reverse
// continue stops at the first point after the access (gdb then steps back
// over it).
func (d *debugger) collectWatch(t *Task, ev *gdbstub.StopEvent) bool {
	if !d.collecting() {
		return d.seekingQuietly()
	}
	p := d.cpuPoint()
	d.collect(p, revHit{at: point{pos: p.pos + 1}, first: true, event: *ev})
	return true
}

// replayTarget returns the in-CPU position the CPU must stop at for the
// recording: the next log entry's, the seek's, or the end of a first pass.
func (d *debugger) replayTarget(t *Task) (uint64, bool) {
	r := d.rec
	if r == nil {
		return 0, false
	}
	var pos uint64
	ok := false
	consider := func(p point, first bool) {
		if !p.cpu && !first {
			return
		}
		if r.skipOn && r.skip.pos == p.pos && d.cpuPoint() == r.skip {
			return
		}
		if !ok || p.pos < pos {
			pos, ok = p.pos, true
		}
	}
	if r.next < len(r.log) {
		consider(r.log[r.next].at, false)
	}
	if s := r.seek; s != nil {
		consider(s.to, s.first || s.after)
	}
	if ok && pos < d.m.clock.Insns() {
		return 0, false // behind: the kernel points decide
	}
	return pos, ok
}

// signalPoint is the kernel point before a signal's delivery; it returns
// the event of a seek that ends there.
func (d *debugger) signalPoint() *gdbstub.StopEvent { return d.atKernel() }

// record adds an effect at the point where the machine is stopped. A
// change made in the middle of the recorded history makes the rest of it
// another future: it is dropped.
func (d *debugger) record(ef effect) {
	r := d.rec
	if r == nil || r.broken != nil {
		return
	}
	if d.m.inDeferredSyscall() {
		r.broken = errors.New("the debugger changed the run while a thread was stopped at a system call's entry")
		return
	}
	if r.next < len(r.log) {
		r.log = r.log[:r.next]
	}
	r.cps.dropAfter(r.here)
	if n := len(r.log); n > 0 && r.log[n-1].at == r.here {
		r.log[n-1].effects = append(r.log[n-1].effects, ef)
	} else {
		if len(r.log) >= maxLogEntries {
			r.broken = fmt.Errorf("more than %d recorded debugger actions", maxLogEntries)
			return
		}
		r.log = append(r.log, logEntry{at: r.here, effects: []effect{ef}})
	}
	r.next = len(r.log)
	r.logBytes += len(ef.data)
	if r.logBytes > maxLogBytes {
		r.broken = fmt.Errorf("more than %d bytes of recorded memory writes", maxLogBytes)
	}
}

// recordRegs records a register write (WriteRegisters).
func (d *debugger) recordRegs(t *Task, r *gdbstub.Registers) {
	d.record(effect{kind: effRegs, tid: t.TID, pid: t.PID, regs: *r})
}

// recordMem records a memory write (WriteMemory).
func (d *debugger) recordMem(pid int, addr uint64, data []byte) {
	d.record(effect{kind: effMem, pid: pid, addr: addr, data: append([]byte(nil), data...)})
}

// recordKill and recordDetach record a Kill and a Detach.
func (d *debugger) recordKill(pid int)   { d.record(effect{kind: effKill, pid: pid}) }
func (d *debugger) recordDetach(pid int) { d.record(effect{kind: effDetach, pid: pid}) }

// recordAttach records the debugged processes an Attach chose.
func (d *debugger) recordAttach() {
	procs := map[int]bool{}
	for pid, dp := range d.procs {
		procs[pid] = dp.attached
	}
	d.record(effect{kind: effAttach, procs: procs})
}

// newThread stands for a thread a process has not created yet (no TID is
// this large).
const newThread = 1 << 30

// recordResume records a resume that changes the run: one that keeps a
// debugged thread stopped (or would keep a thread created later stopped),
// or gives a thread another signal than the one it stopped for (or one it
// did not stop for), and the resume after it.
func (d *debugger) recordResume(res gdbstub.Resume) {
	r := d.rec
	if r == nil {
		return
	}
	changes := false
	for _, pid := range d.pids() {
		p := d.m.lookup(pid)
		if p == nil {
			continue
		}
		if _, ok := res.ActionFor(gdbstub.ThreadID{Pid: pid, Tid: newThread}); !ok {
			changes = true // a thread the process creates would stay stopped
		}
		for _, t := range p.tasks {
			act, ok := res.ActionFor(threadID(t))
			ts := d.tasks[t]
			switch {
			case !ok: // kept stopped
				changes = true
			case ts != nil && ts.sig != 0 && act.Signal != ts.sig:
				changes = true
			case (ts == nil || ts.sig == 0) && act.Signal != 0:
				changes = true
			}
		}
	}
	if changes || r.held {
		d.record(effect{kind: effResume, resume: res})
	}
	r.held = changes
}

// apply replays a recorded effect.
func (d *debugger) apply(ef effect) {
	switch ef.kind {
	case effAttach:
		for pid, attached := range ef.procs {
			d.procs[pid] = &debugProc{attached: attached}
		}
	case effRegs:
		if t, err := d.liveTask(gdbstub.ThreadID{Pid: ef.pid, Tid: ef.tid}); err == nil {
			d.m.writeRegs(t, &ef.regs)
		}
	case effMem:
		if p, err := d.liveProc(ef.pid); err == nil {
			p.pokeText(ef.addr, ef.data)
		}
	case effKill:
		if p, err := d.liveProc(ef.pid); err == nil {
			d.release(ef.pid)
			p.kill(linux.SIGKILL, "")
		}
	case effDetach:
		d.release(ef.pid)
	case effOptions:
		d.mu.Lock()
		d.opts = ef.opts
		d.mu.Unlock()
	case effResume:
		d.setResume(ef.resume, false)
	}
}

// reverse starts a reverse operation (bs or bc) from where the machine is
// parked: the generation is abandoned and the session runs new ones; the
// stop is reported when the new machine gets there.
func (d *debugger) reverse(res gdbstub.Resume) error {
	r := d.rec
	if r.broken != nil {
		return fmt.Errorf("%w: %v", errNoReverse, r.broken)
	}
	var err error
	cerr := d.call(func() {
		req := &reverseReq{from: r.here}
		if len(res.Actions) == 1 && res.Actions[0].Kind == gdbstub.ActionStep {
			req.step = true
			req.thread = res.Actions[0].Thread
			t, terr := d.liveTask(req.thread)
			if terr != nil {
				err = terr
				return
			}
			req.event = gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: linux.SIGTRAP, Thread: req.thread}
			ts := d.tasks[t]
			if ts == nil || !ts.ran {
				req.to, req.after = d.historyStartOf(req.thread)
				req.event = gdbstub.StopEvent{Kind: gdbstub.StopNoHistory, Thread: req.thread}
			} else {
				req.to = ts.lastPoint
			}
		} else {
			req.event = gdbstub.StopEvent{Kind: gdbstub.StopNoHistory, Thread: d.interruptThread()}
		}
		r.abandon = req
		d.mu.Lock()
		d.resumed = true
		d.resumeNow = true
		d.parked = false
		d.mu.Unlock()
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// noteBirth records where a thread is created (the first pass only: a
// generation that runs the run again creates it at the same point).
func (d *debugger) noteBirth(child *Task) {
	r := d.rec
	if r == nil {
		return
	}
	if r.born == nil {
		r.born = map[int]point{}
	}
	if _, ok := r.born[child.TID]; !ok {
		now := d.m.clock.Insns()
		p := point{pos: now}
		if now == r.kpos {
			p.seq = r.kseq
		}
		r.born[child.TID] = p
	}
}

// historyStartOf returns where the history of thread id starts: the
// first point after its creation (after is true), or the start of the
// run.
func (d *debugger) historyStartOf(id gdbstub.ThreadID) (p point, after bool) {
	if p, ok := d.rec.born[id.Tid]; ok {
		return p, true
	}
	return historyStart, false
}

// historyStart is where every generation starts: the first kernel point,
// where the first one waited for the debugger.
var historyStart = point{pos: 0, seq: 1}

// abandoned unwinds the machine goroutine of an abandoned generation; it
// is called only where no C frame is below (between time slices).
func (d *debugger) abandoned() {
	if d.rec != nil && d.rec.abandon != nil {
		panic(abandonGeneration{d.rec.abandon})
	}
}

// abandoning reports whether the generation is being abandoned: its
// machine goroutine leaves what it does for the next stop point.
func (d *debugger) abandoning() bool { return d.rec != nil && d.rec.abandon != nil }

// endSeek restores the debugger's options and the breakpoints and
// watchpoints a quiet seek turned off.
func (d *debugger) endSeek() {
	d.mu.Lock()
	d.opts = d.live
	d.mu.Unlock()
	for _, bp := range d.bps {
		bp.bp.SetActive(true)
	}
	if err := d.updateWatches(); err != nil {
		d.m.kernelError(fmt.Errorf("debugger: %w", err))
	}
}

// quietSeek turns breakpoints and watchpoints off for a seek that
// collects nothing.
func (d *debugger) quietSeek() {
	for _, bp := range d.bps {
		bp.bp.SetActive(false)
	}
	d.m.cpu.SetWatches(nil)
}
