package kernel

import (
	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/mem"
)

// Checkpoints of a debugging session (see checkpoint.go for the copy).
//
// A session's machine copies itself at the stop points between time
// slices, at least CheckpointPolicy.Every instructions apart (more for a
// machine with much RAM in use: PerByte): both while the user runs it
// forward and while a generation runs back to a point for a reverse
// operation (a seek). A reverse operation then starts from the last
// checkpoint before its target instead of from the start, so a step back
// costs at most the interval plus a restore.
//
// The debugger's state of the run is copied with the machine, as a seek
// to that point would have it: there it is a function of the recording
// and the point alone (the recorded resume and options). The live run's
// state can hold more than that: an event not yet reported, a step under
// way, a thread stopped for a signal; the live run takes no checkpoint
// then (seekState).
//
// A checkpoint's RAM is frozen (mem.RAM.Freeze) with the last checkpoint
// the generation took or started from as its base, so consecutive
// checkpoints share the pages that did not change between them.
//
// At most Keep are kept, their pages holding at most MaxBytes of host
// memory; past either bound the checkpoint that leaves the smallest gap
// between its neighbours is dropped, so older history thins out. A change
// the debugger makes in the middle of history drops the checkpoints after
// it.

// CheckpointPolicy says when a session copies its machine and how many
// copies it keeps (Session.SetCheckpoints).
type CheckpointPolicy struct {
	// Every is the least count of instructions between two checkpoints
	// (0: none).
	Every uint64
	// PerByte stretches that interval to PerByte instructions per byte of
	// guest RAM in use, so that copying a large machine costs a run about
	// as little as copying a small one.
	PerByte uint64
	// Keep and MaxBytes bound the checkpoints kept and the host memory
	// their pages take (pages several share counted once).
	Keep     int
	MaxBytes uint64
}

// DefaultCheckpointPolicy is a session's policy unless set otherwise.
func DefaultCheckpointPolicy() CheckpointPolicy {
	return CheckpointPolicy{Every: 1 << 28, PerByte: 128, Keep: 16, MaxBytes: 1 << 30}
}

// sessionCheckpoint is a checkpoint of a session's run.
type sessionCheckpoint struct {
	at   point // the kernel point the restored machine reaches first
	next int   // the first log entry it has not reached
	cp   *checkpoint
}

// checkpoints is a session's set of checkpoints, by position.
type checkpoints struct {
	CheckpointPolicy
	list  []*sessionCheckpoint
	bytes uint64 // host memory their pages hold
	stats CheckpointStats
	// base is the checkpoint the current generation took last or started
	// from: the next one shares its unchanged pages.
	base *checkpoint
	// refusedAt is the position of the last copy that failed (0: none).
	refusedAt uint64
}

// CheckpointStats count a session's checkpoints.
type CheckpointStats struct {
	Taken, Restored, Held int
	// Forward counts the checkpoints taken while the user ran the machine
	// (of Taken; the others were taken on the way back to a point).
	Forward int
	Bytes   uint64 // host memory the held ones' pages take
	// Refused counts the stop points where the machine could not be
	// copied, and Reason says why for the last of them.
	Refused int
	Reason  string
}

// maybeCheckpoint takes a checkpoint at the kernel point about to be
// reached when none is near: on the way to a point back in time, or in
// the live run when the debugger's state there is the one a seek would
// have (seekState).
func (d *debugger) maybeCheckpoint() {
	r := d.rec
	cs := &r.cps
	if cs.Every == 0 || r.broken != nil {
		return
	}
	now := d.m.clock.Insns()
	gap := max(cs.Every, cs.PerByte*d.m.ram.InUse())
	if now < gap {
		return // the start is as near
	}
	if c := cs.before(now + 1); c != nil && now-c.at.pos < gap {
		return
	}
	if cs.refusedAt != 0 && now-cs.refusedAt < gap {
		return // a copy failed lately: try again an interval later
	}
	at := point{pos: now, seq: 1}
	if now == r.kpos {
		at.seq = r.kseq + 1
	}
	if c := cs.after(at); c != nil && c.at.pos-now < gap {
		return
	}
	st := &checkpointState{m: d.m, procs: d.procs, tasks: d.tasks, resume: d.resume, pending: d.pending}
	live := r.seek == nil
	if live {
		var ok bool
		if st.resume, st.opts, ok = d.seekState(); !ok {
			return
		}
	} else {
		d.mu.Lock() // the stub's goroutine sets options too
		st.opts = d.opts
		d.mu.Unlock()
	}
	cp, err := d.m.copyRun(st, cs.base)
	if err != nil {
		cs.stats.Refused++
		cs.stats.Reason = err.Error()
		cs.refusedAt = now
		return
	}
	cs.stats.Taken++
	if live {
		cs.stats.Forward++
		for _, ts := range cp.st.tasks {
			ts.held = false // the recorded resume keeps them stopped
		}
	}
	cs.base = cp
	cs.add(&sessionCheckpoint{at: at, next: r.next, cp: cp})
}

// seekState returns the resume and options a generation seeking the
// current point would have there (the recorded ones), when the rest of
// the live run's debugger state is what it would have too: no event left
// to report, no step under way, no thread stopped for a signal or in a
// system call whose entry stopped it, and every thread held for its fork
// event kept stopped by the recorded resume.
func (d *debugger) seekState() (gdbstub.Resume, gdbstub.Options, bool) {
	res, opts := allContinue(), gdbstub.Options{}
	if len(d.pending) > 0 || d.stopCPU || d.stepOver || d.m.inDeferredSyscall() {
		return res, opts, false
	}
	r := d.rec
	for _, e := range r.log[:r.next] {
		for _, ef := range e.effects {
			switch ef.kind {
			case effResume:
				res = ef.resume
			case effOptions:
				opts = ef.opts
			}
		}
	}
	for t, ts := range d.tasks {
		if ts.step || ts.stepped || ts.sig != 0 || ts.sigSet {
			return res, opts, false
		}
		if _, ok := res.ActionFor(threadID(t)); ts.held && ok {
			return res, opts, false
		}
	}
	return res, opts, true
}

// before returns the last checkpoint before position pos.
func (cs *checkpoints) before(pos uint64) *sessionCheckpoint {
	var best *sessionCheckpoint
	for _, c := range cs.list {
		if c.at.pos < pos {
			best = c
		}
	}
	return best
}

// after returns the first checkpoint at or after p.
func (cs *checkpoints) after(p point) *sessionCheckpoint {
	for _, c := range cs.list {
		if !c.at.before(p) {
			return c
		}
	}
	return nil
}

// add inserts c in position order and enforces the bounds.
func (cs *checkpoints) add(c *sessionCheckpoint) {
	i := len(cs.list)
	for i > 0 && c.at.before(cs.list[i-1].at) {
		i--
	}
	cs.list = append(cs.list, nil)
	copy(cs.list[i+1:], cs.list[i:])
	cs.list[i] = c
	cs.count()
	for len(cs.list) > 1 && (len(cs.list) > cs.Keep || cs.bytes > cs.MaxBytes) {
		cs.drop(cs.thinnest())
	}
}

// count recomputes the host memory the checkpoints' pages hold (pages
// that several share counted once).
func (cs *checkpoints) count() {
	rams := make([]*mem.RAM, len(cs.list))
	for i, c := range cs.list {
		rams[i] = c.cp.ram()
	}
	cs.bytes = mem.HeldBytes(rams...)
}

// thinnest returns the index of the checkpoint whose neighbours are
// closest (the first and the last are dropped last).
func (cs *checkpoints) thinnest() int {
	n := len(cs.list)
	if n <= 2 {
		return 0
	}
	best, gap := 1, ^uint64(0)
	for i := 1; i < n-1; i++ {
		if g := cs.list[i+1].at.pos - cs.list[i-1].at.pos; g < gap {
			best, gap = i, g
		}
	}
	return best
}

func (cs *checkpoints) drop(i int) {
	c := cs.list[i]
	if cs.base == c.cp {
		cs.base = nil
	}
	c.cp.close()
	cs.list = append(cs.list[:i], cs.list[i+1:]...)
	cs.count()
}

// dropAfter drops the checkpoints after p (the history after p changed).
func (cs *checkpoints) dropAfter(p point) {
	for i := len(cs.list) - 1; i >= 0; i-- {
		if p.before(cs.list[i].at) {
			cs.drop(i)
		}
	}
}

// closeAll frees every checkpoint.
func (cs *checkpoints) closeAll() {
	for len(cs.list) > 0 {
		cs.drop(len(cs.list) - 1)
	}
}
