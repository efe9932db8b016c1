package kernel

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"

	"github.com/sis-kernel/sissim/pkg/gdbstub"
)

// Session runs one program on a deterministic machine under a debugger
// that can also execute backwards (gdb's reverse-stepi, reverse-step,
// reverse-next, reverse-continue, with breakpoints and watchpoints).
//
// Going back is re-execution (debug_reverse.go): the session builds the
// machine again with Build, runs it from the start with the input the run
// consumed so far, and stops it at the point wanted; the machine that was
// debugged is dropped. Build must make the same machine every time (a
// deterministic Config, the same files and services) from the streams it
// is given, and no other input from the host may reach the guest (a
// writable host mount, for one, is not recorded).
//
// The console's input is recorded as the guest reads it and replayed to
// the new machines; output a machine writes again is not written twice.
// The session keeps that input (at most 64 MiB), what the debugger changed
// (registers, memory) and checkpoints: copies of the machine taken while
// it runs back to a point (debug_checkpoint.go), so that a step back after
// the first runs from the nearest checkpoint rather than from the start.
// A reverse continue runs twice: once to find the last breakpoint or
// watchpoint hit (segment by segment, from the nearest checkpoint back),
// once to stop there.
type Session struct {
	build  SessionBuild
	spec   ProcessSpec
	d      *debugger
	m      *Machine
	closer io.Closer // closes m and what was built with it
	proc   *Process
	gen    int
	in     *inputLog
	out    [2]*int64 // bytes of stdout and stderr written
	sinks  [2]io.Writer
}

// SessionIO is the console of a session's machine (Config.Stdin, Stdout,
// Stderr).
type SessionIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// SessionBuild makes a session's machine in its initial state, with sio
// as its console; gen counts the machines (1 first). The closer closes
// the machine and what was built with it (nil: the machine's Close).
type SessionBuild func(sio SessionIO, gen int) (*Machine, io.Closer, error)

// maxInputBytes bounds the console input a session records.
const maxInputBytes = 64 << 20

// NewSession builds the first machine and spawns spec on it, held before
// its first instruction until a debugger attaches (ServeGDB).
func NewSession(build SessionBuild, spec ProcessSpec, stdin io.Reader, stdout, stderr io.Writer) (*Session, error) {
	if stdin == nil {
		stdin = eofReader{}
	}
	s := &Session{build: build, spec: spec, in: &inputLog{r: stdin, max: maxInputBytes}, out: [2]*int64{new(int64), new(int64)},
		sinks: [2]io.Writer{stdout, stderr}}
	for i, w := range s.sinks {
		if w == nil {
			s.sinks[i] = io.Discard
		}
	}
	if err := s.next(); err != nil {
		return nil, err
	}
	if s.m.clock.Realtime() {
		s.closer.Close()
		return nil, errors.New("kernel: a debugging session needs a deterministic machine")
	}
	s.d = s.m.debugger()
	s.d.rec = &recording{cps: checkpoints{CheckpointPolicy: DefaultCheckpointPolicy()}}
	s.in.broken = func(err error) { s.d.rec.broken = err }
	s.m.WaitForDebugger()
	return s, nil
}

// next builds the next generation's machine and spawns the program.
func (s *Session) next() error {
	s.gen++
	rr := &replayReader{log: s.in}
	m, c, err := s.build(SessionIO{Stdin: rr, Stdout: &replayWriter{w: s.sinks[0], mark: s.out[0]},
		Stderr: &replayWriter{w: s.sinks[1], mark: s.out[1]}}, s.gen)
	if err != nil {
		return err
	}
	if c == nil {
		c = m
	}
	p, err := m.Spawn(s.spec)
	if err != nil {
		c.Close()
		return err
	}
	s.m, s.proc, s.closer = m, p, c
	return nil
}

// Machine returns the current machine (it changes when the debugger goes
// back).
func (s *Session) Machine() *Machine { return s.m }

// ServeGDB serves the session's debugger on ln (see Machine.ServeGDB).
func (s *Session) ServeGDB(ln net.Listener, o GDBOptions) *GDBServer {
	return s.m.ServeGDB(ln, o)
}

// Run runs the program to its end, under the debugger, and returns its
// status. The session's last machine stays open until Close.
func (s *Session) Run() (ExitStatus, error) {
	for {
		st, req, err := s.drive()
		if req == nil {
			return st, err
		}
		if err := s.reverse(req); err != nil {
			return ExitStatus{}, err
		}
	}
}

// Close closes the current machine and frees the checkpoints.
func (s *Session) Close() error {
	s.d.rec.cps.closeAll()
	return s.closer.Close()
}

// CheckpointStats returns the counts of the session's checkpoints. Call
// it while the machine is stopped for the debugger or after Run.
func (s *Session) CheckpointStats() CheckpointStats {
	cs := &s.d.rec.cps
	st := cs.stats
	st.Held, st.Bytes = len(cs.list), cs.bytes
	return st
}

// SetCheckpoints sets when the session copies its machine, going forward
// or back, and how many copies it keeps (see debug_checkpoint.go). Call
// it before Run.
func (s *Session) SetCheckpoints(p CheckpointPolicy) {
	p.Keep = max(p.Keep, 1)
	s.d.rec.cps.CheckpointPolicy = p
}

// drive runs the current machine until the program has exited and every
// process with it, or until the debugger abandons the machine to go back.
func (s *Session) drive() (st ExitStatus, req *reverseReq, err error) {
	defer func() {
		if p := recover(); p != nil {
			a, ok := p.(abandonGeneration)
			if !ok {
				panic(p)
			}
			req = a.req
		}
	}()
	st, err = s.proc.Wait()
	if err == nil {
		err = s.m.Drain()
	}
	return st, nil, err
}

// reverse runs the new generations of a reverse operation: for a reverse
// continue, a first one finds the last breakpoint or watchpoint hit
// before where it started; then one runs to the point to report.
func (s *Session) reverse(req *reverseReq) error {
	to, first, after, ev := req.to, false, req.after, req.event
	cps := &s.d.rec.cps
	if !req.step {
		// The first pass looks for hits from the last checkpoint before
		// where the reverse continue started, then from the one before
		// that, and so on back to the start.
		var hits []revHit
		for end := req.from; ; {
			c := cps.before(end.pos)
			if err := s.generation(c, &seeking{to: end, collect: &hits}); err != nil {
				return err
			}
			if _, r, _ := s.drive(); r != collected {
				return errors.New("kernel: reverse continue: the machine did not get back to its starting point")
			}
			if len(hits) > 0 || c == nil {
				break
			}
			end = c.at
		}
		to, after = s.d.historyStartOf(req.event.Thread)
		ev = gdbstub.StopEvent{Kind: gdbstub.StopNoHistory, Thread: req.event.Thread}
		if h, ok := lastHit(hits); ok {
			to, first, after, ev = h.at, h.first, false, h.event
		}
	}
	return s.generation(cps.before(to.pos), &seeking{to: to, first: first, after: after, event: ev})
}

// collected ends a reverse continue's first pass.
var collected = &reverseReq{}

// lastHit returns the hit a reverse continue reports: the latest.
func lastHit(hits []revHit) (revHit, bool) {
	if len(hits) == 0 {
		return revHit{}, false
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.at != b.at {
			return a.at.before(b.at)
		}
		return a.first && !b.first // at one point a watchpoint's access came first
	})
	return hits[len(hits)-1], true
}

// generation replaces the machine with a new one that runs to seek.to:
// from checkpoint c, or from the start when c is nil or cannot be
// restored (the host is short of memory).
func (s *Session) generation(c *sessionCheckpoint, seek *seeking) error {
	old := s.closer
	var st *checkpointState
	if c != nil {
		var err error
		if st, err = c.cp.restore(); err == nil {
			s.d.rec.cps.stats.Restored++
			s.d.rec.cps.base = c.cp
			s.gen++
			s.m, s.proc, s.closer = st.m, st.m.procs[s.proc.PID], st.m
		}
	}
	if st == nil {
		if err := s.next(); err != nil {
			return fmt.Errorf("kernel: debugging session: building machine %d: %w", s.gen, err)
		}
	}
	old.Close()
	d := s.d
	d.rebind(s.m, seek)
	if st != nil {
		// The debugger's state of the run at the checkpoint.
		d.procs, d.tasks, d.resume, d.pending = st.procs, st.tasks, st.resume, st.pending
		d.mu.Lock()
		d.opts = st.opts
		d.mu.Unlock()
		d.rec.next, d.rec.kpos, d.rec.kseq = c.next, c.at.pos, c.at.seq-1
	}
	return nil
}

// rebind moves the debugger to a new generation's machine, which runs
// from its start to seek.to.
func (d *debugger) rebind(m *Machine, seek *seeking) {
	r := d.rec
	d.m = m
	m.dbg.Store(d)
	d.tasks = map[*Task]*debugTask{}
	d.procs = map[int]*debugProc{}
	d.pending = nil
	d.stopCPU, d.stepOver, d.cpuPid = false, false, -1
	// Threads run unless a recorded resume says otherwise.
	d.resume = allContinue()
	d.idle = nil
	for k, bp := range d.bps {
		h, err := m.cpu.AddBreakpoint(k.pid, k.addr)
		if err != nil {
			m.kernelError(fmt.Errorf("debugger: %w", err))
			delete(d.bps, k)
			continue
		}
		bp.bp = h
	}
	d.mu.Lock()
	d.live = d.opts // the debugger's current options, back at the end
	d.opts = gdbstub.Options{}
	d.parked, d.resumeNow, d.waitAttach, d.intr = false, false, false, false
	d.stopReq.Store(false)
	d.mu.Unlock()
	r.next, r.kpos, r.kseq, r.here, r.skipOn, r.abandon = 0, 0, 0, point{}, false, nil
	r.seek = seek
	if seek.collect == nil {
		d.quietSeek()
	} else if err := d.updateWatches(); err != nil {
		m.kernelError(fmt.Errorf("debugger: %w", err))
	}
	d.on.Store(true)
}

// allContinue returns the resume that lets every thread run.
func allContinue() gdbstub.Resume {
	return gdbstub.Resume{Actions: []gdbstub.Action{{Kind: gdbstub.ActionContinue, Thread: gdbstub.ThreadID{Pid: gdbstub.All, Tid: gdbstub.All}}}}
}

// inputLog is the console input a session's machines read: read from the
// host once, as the first machine reads it, and replayed to the others.
type inputLog struct {
	mu     sync.Mutex
	r      io.Reader
	chunks []inputChunk
	bytes  int
	max    int // bytes recorded before going back is refused
	broken func(error)
}

// inputChunk is what one read returned.
type inputChunk struct {
	data []byte
	err  error
}

// replayReader is one machine's console input.
type replayReader struct {
	log *inputLog
	i   int // the next chunk
	off int // bytes of it already read
}

func (r *replayReader) Read(p []byte) (int, error) {
	l := r.log
	l.mu.Lock()
	if r.i < len(l.chunks) {
		c := l.chunks[r.i]
		l.mu.Unlock()
		n := copy(p, c.data[r.off:])
		r.off += n
		if r.off < len(c.data) {
			return n, nil
		}
		r.i, r.off = r.i+1, 0
		return n, c.err
	}
	l.mu.Unlock()
	n, err := l.r.Read(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.i == len(l.chunks) {
		l.chunks = append(l.chunks, inputChunk{data: append([]byte(nil), p[:n]...), err: err})
		l.bytes += n
		if l.bytes > l.max && l.broken != nil {
			l.broken(fmt.Errorf("more than %d bytes of console input", l.max))
		}
	}
	r.i++
	return n, err
}

// replayWriter is one machine's console output stream: the bytes an
// earlier machine of the session wrote already are not written again.
type replayWriter struct {
	w    io.Writer
	mark *int64 // bytes of the stream written so far, by any machine
	pos  int64  // bytes this machine wrote
}

func (r *replayWriter) Write(p []byte) (int, error) {
	start := r.pos
	r.pos += int64(len(p))
	if r.pos <= *r.mark {
		return len(p), nil
	}
	skip := max(*r.mark-start, 0)
	*r.mark = r.pos
	if _, err := r.w.Write(p[skip:]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReplayWriter returns a writer for one machine of a session that writes
// to w only the bytes past *mark, the bytes written so far by the
// session's machines (for an output of its own, such as a strace log).
func ReplayWriter(w io.Writer, mark *int64) io.Writer {
	return &replayWriter{w: w, mark: mark}
}
