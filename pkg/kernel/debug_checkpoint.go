package kernel

// Checkpoints of a debugging session (see checkpoint.go for the copy).
//
// While a generation runs to a point for a reverse operation (a seek), it
// copies itself every CheckpointEvery instructions at the stop points
// between time slices. A later reverse operation then starts from the
// last checkpoint before its target instead of from the start, so a step
// back costs at most the interval (plus the copy of the checkpoint). The
// debugger's state of the run is copied with the machine: on a seek it is
// a function of the recording and the point alone, which is why
// checkpoints are taken only then (a live run's debugger state holds the
// user's steps). The first step back runs from the start and leaves
// checkpoints behind it.
//
// At most MaxCheckpoints are kept, holding at most MaxCheckpointBytes of
// guest RAM; past either bound the checkpoint that leaves the smallest gap
// between its neighbours is dropped, so older history thins out. A change
// the debugger makes in the middle of history drops the checkpoints after
// it.

// Checkpoint defaults (Session.SetCheckpoints).
const (
	DefaultCheckpointEvery    = 1 << 26 // instructions (about 30 ms of a compute loop)
	DefaultMaxCheckpoints     = 16
	DefaultMaxCheckpointBytes = 1 << 30
)

// sessionCheckpoint is a checkpoint of a session's run.
type sessionCheckpoint struct {
	at   point // the kernel point the restored machine reaches first
	next int   // the first log entry it has not reached
	cp   *checkpoint
}

// checkpoints is a session's set of checkpoints, by position.
type checkpoints struct {
	list     []*sessionCheckpoint
	bytes    uint64
	every    uint64 // 0: none
	max      int
	maxBytes uint64
	stats    CheckpointStats
}

// CheckpointStats count a session's checkpoints.
type CheckpointStats struct {
	Taken, Restored, Held int
	Bytes                 uint64 // guest RAM the held ones keep
	// Refused counts the stop points where the machine could not be
	// copied, and Reason says why for the last of them.
	Refused int
	Reason  string
}

// maybeCheckpoint takes a checkpoint at the kernel point about to be
// reached, when the generation seeks and none is near.
func (d *debugger) maybeCheckpoint() {
	r := d.rec
	cs := &r.cps
	if r.seek == nil || cs.every == 0 || r.broken != nil {
		return
	}
	now := d.m.clock.Insns()
	if c := cs.before(now + 1); c != nil && now-c.at.pos < cs.every {
		return
	}
	at := point{pos: now, seq: 1}
	if now == r.kpos {
		at.seq = r.kseq + 1
	}
	if c := cs.after(at); c != nil && c.at.pos-now < cs.every {
		return
	}
	cp, err := d.m.copyRun(&checkpointState{m: d.m, procs: d.procs, tasks: d.tasks, resume: d.resume,
		pending: d.pending, opts: d.opts})
	if err != nil {
		cs.stats.Refused++
		cs.stats.Reason = err.Error()
		return
	}
	cs.stats.Taken++
	cs.add(&sessionCheckpoint{at: at, next: r.next, cp: cp})
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
	cs.bytes += c.cp.bytes
	for len(cs.list) > 1 && (len(cs.list) > cs.max || cs.bytes > cs.maxBytes) {
		cs.drop(cs.thinnest())
	}
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
	cs.bytes -= c.cp.bytes
	c.cp.close()
	cs.list = append(cs.list[:i], cs.list[i+1:]...)
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
