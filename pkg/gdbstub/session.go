package gdbstub

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
)

// maxRetransmits bounds how often a reply is resent after a '-'.
const maxRetransmits = 16

// maxPending bounds the packets a debugger may send while the target runs
// (gdb sends none in all-stop mode but the interrupt byte).
const maxPending = 64

// errEnd ends a session normally (k, or detach of the last process).
var errEnd = errors.New("session ended")

// session is one debugger connection.
type session struct {
	srv  *Server
	t    Target
	conn io.ReadWriteCloser
	caps Capabilities

	in      chan item
	errc    chan error
	done    chan struct{}
	pending []item

	noAck bool
	// What the debugger said it supports in qSupported.
	multiprocess, swbreak, hwbreak bool
	linuxSignals                   bool // lldb: Linux signal numbers
	opts                           Options

	gThread, cThread ThreadID // Hg, Hc
	last             StopEvent
	lastReverse      bool

	breaks     map[Breakpoint]bool
	xferCache  map[string][]byte
	threadList []ThreadID // qfThreadInfo/qsThreadInfo cursor
	files      map[int]File
	nextFd     int
	fsPid      int
}

func newSession(s *Server, c io.ReadWriteCloser) *session {
	return &session{
		srv:       s,
		t:         s.Target,
		conn:      c,
		in:        make(chan item, 16),
		errc:      make(chan error, 1),
		done:      make(chan struct{}),
		breaks:    map[Breakpoint]bool{},
		xferCache: map[string][]byte{},
		files:     map[int]File{},
		nextFd:    1,
	}
}

// run serves the session until it ends.
func (ss *session) run() error {
	ev, err := ss.t.Attach()
	if err != nil {
		return fmt.Errorf("gdbstub: attach: %w", err)
	}
	ss.caps = ss.t.Capabilities()
	ss.noteStop(ev, false)
	go readItems(ss.conn, ss.in, ss.errc, ss.done)
	defer ss.cleanup()
	for {
		it, err := ss.next()
		if err == nil && it.kind == itemPacket {
			err = ss.handlePacket(it)
		}
		// Other items are stray acks, or an interrupt while stopped.
		if errors.Is(err, errEnd) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// next returns the next item from the debugger; nil error at a clean end
// of the connection.
func (ss *session) next() (item, error) {
	if len(ss.pending) > 0 {
		it := ss.pending[0]
		ss.pending = ss.pending[1:]
		return it, nil
	}
	it, ok := <-ss.in
	if !ok {
		return item{}, ss.connErr()
	}
	return it, nil
}

// connErr returns the reader's final error; EOF and a closed connection are
// a normal end.
func (ss *session) connErr() error {
	err := <-ss.errc
	ss.errc <- err // keep it for later callers
	if errors.Is(err, io.EOF) || isClosed(err) {
		return errEndOK
	}
	return fmt.Errorf("gdbstub: read: %w", err)
}

// errEndOK is the normal end of the connection, which run reports as nil.
var errEndOK = fmt.Errorf("connection closed: %w", errEnd)

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)
}

// handlePacket acknowledges a packet and handles it.
func (ss *session) handlePacket(it item) error {
	if it.badSum && !ss.noAck {
		ss.srv.logf("<- bad checksum: %q", clip(it.payload))
		return ss.write([]byte("-"))
	}
	if !ss.noAck {
		if err := ss.write([]byte("+")); err != nil {
			return err
		}
	}
	if it.tooLong {
		ss.srv.logf("<- packet longer than %d bytes", maxPayload)
		return ss.reply("E01")
	}
	ss.srv.logf("<- %s", clip(it.payload))
	return ss.dispatch(it.payload)
}

// clip shortens a packet for the log.
func clip(p []byte) string {
	const max = 200
	s := string(p)
	if len(s) > max {
		s = fmt.Sprintf("%s...(%d bytes)", s[:max], len(s))
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// write sends raw bytes to the debugger.
func (ss *session) write(b []byte) error {
	if _, err := ss.conn.Write(b); err != nil {
		return fmt.Errorf("gdbstub: write: %w", err)
	}
	return nil
}

// reply sends a text reply, which must not need escaping.
func (ss *session) reply(s string) error {
	return ss.send([]byte(s))
}

// replyBinary sends prefix followed by escaped binary data.
func (ss *session) replyBinary(prefix string, data []byte) error {
	return ss.send(appendEscaped([]byte(prefix), data))
}

// send frames and sends a payload, waiting for the debugger's '+' unless
// acknowledgements are off.
func (ss *session) send(payload []byte) error {
	ss.srv.logf("-> %s", clip(payload))
	f := frame(payload)
	for try := 0; ; try++ {
		if err := ss.write(f); err != nil {
			return err
		}
		if ss.noAck {
			return nil
		}
		nak, err := ss.waitAck()
		if err != nil {
			return err
		}
		if !nak {
			return nil
		}
		if try == maxRetransmits {
			return fmt.Errorf("gdbstub: reply rejected %d times", maxRetransmits+1)
		}
	}
}

// waitAck waits for '+' (false) or '-' (true). A packet before the ack
// counts as one and is kept for later.
func (ss *session) waitAck() (nak bool, err error) {
	for {
		it, ok := <-ss.in
		if !ok {
			return false, ss.connErr()
		}
		switch it.kind {
		case itemAck:
			return false, nil
		case itemNak:
			return true, nil
		case itemPacket:
			ss.pending = append(ss.pending, it)
			return false, nil
		}
	}
}

// cleanup ends the session: it removes the breakpoints the debugger left
// and detaches every process still debugged, so the machine runs on.
func (ss *session) cleanup() {
	close(ss.done)
	for _, b := range ss.sortedBreaks() {
		if err := ss.t.RemoveBreakpoint(b); err != nil {
			ss.srv.logf("cleanup: remove %v: %v", b, err)
		}
	}
	for _, f := range ss.files {
		f.Close()
	}
	if err := ss.t.SetOptions(Options{}); err != nil {
		ss.srv.logf("cleanup: options: %v", err)
	}
	procs, err := ss.t.Processes()
	if err != nil {
		ss.srv.logf("cleanup: processes: %v", err)
	}
	for _, p := range procs {
		if err := ss.t.Detach(p.Pid); err != nil {
			ss.srv.logf("cleanup: detach %d: %v", p.Pid, err)
		}
	}
}

// sortedBreaks returns the recorded breakpoints in a stable order.
func (ss *session) sortedBreaks() []Breakpoint {
	bs := make([]Breakpoint, 0, len(ss.breaks))
	for b := range ss.breaks {
		bs = append(bs, b)
	}
	sort.Slice(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if a.Pid != b.Pid {
			return a.Pid < b.Pid
		}
		if a.Addr != b.Addr {
			return a.Addr < b.Addr
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Len < b.Len
	})
	return bs
}

// dropBreaks forgets the breakpoints of a process that exited or exec'd.
func (ss *session) dropBreaks(pid int) {
	for b := range ss.breaks {
		if b.Pid == pid {
			delete(ss.breaks, b)
		}
	}
}
