package gdbstub

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// parseSignal parses a signal number from the debugger, in hex.
func (ss *session) parseSignal(s string) (linux.Signal, error) {
	g, err := strconv.ParseUint(s, 16, 8)
	if err != nil {
		return 0, fmt.Errorf("bad signal %q", s)
	}
	sig, ok := ss.fromWireSignal(int(g))
	if !ok {
		return 0, fmt.Errorf("signal %d has no Linux number", g)
	}
	return sig, nil
}

// handleResumeLegacy implements c, C, s and S: they apply to the Hc thread
// (with Hc unset or a wildcard, a continue resumes every thread and a step
// steps the thread that stopped last); a continue of one thread leaves the
// others stopped.
func (ss *session) handleResumeLegacy(s string) error {
	op, arg := s[0], s[1:]
	var sig linux.Signal
	if op == 'C' || op == 'S' {
		sigs, rest, _ := strings.Cut(arg, ";")
		var err error
		if sig, err = ss.parseSignal(sigs); err != nil {
			return ss.fail(replyErrBadPacket, err)
		}
		arg = rest
	}
	kind := ActionContinue
	if op == 's' || op == 'S' {
		kind = ActionStep
	}
	sel := ss.cThread
	switch {
	case kind == ActionStep:
		t, err := ss.stepThread()
		if err != nil {
			return ss.fail(replyErrThread, err)
		}
		sel = t
	case sel.Pid == Any || sel.Pid == All:
		sel = ThreadID{All, All}
	case sel.Tid == Any:
		sel.Tid = All
	case arg == "":
		if _, err := ss.resolve(sel); err != nil {
			sel = ThreadID{All, All} // the Hc thread is gone: resume the rest
		}
	}
	if arg != "" {
		// Resume at ADDR: set the PC of the thread first.
		addr, err := parseHex(arg)
		if err != nil {
			return ss.fail(replyErrBadPacket, err)
		}
		t, err := ss.resolve(sel)
		if err != nil {
			return ss.fail(replyErrThread, err)
		}
		r, err := ss.t.ReadRegisters(t)
		if err != nil {
			return ss.fail(replyErrTarget, err)
		}
		r.PC = addr
		if err := ss.t.WriteRegisters(t, &r); err != nil {
			return ss.fail(replyErrTarget, err)
		}
	}
	return ss.resume(Resume{Actions: []Action{{Kind: kind, Thread: sel, Signal: sig}}})
}

// handleVCont implements vCont;ACTION[:TID]...
func (ss *session) handleVCont(arg string) error {
	if arg == "" {
		return ss.fail(replyErrBadPacket, errors.New("vCont without actions"))
	}
	var r Resume
	for _, f := range strings.Split(arg, ";") {
		as, ts, hasThread := strings.Cut(f, ":")
		if as == "" {
			return ss.fail(replyErrBadPacket, fmt.Errorf("empty vCont action"))
		}
		a := Action{Thread: ThreadID{All, All}}
		switch as[0] {
		case 'c':
			a.Kind = ActionContinue
		case 's':
			a.Kind = ActionStep
		case 't':
			a.Kind = ActionStop
		case 'C', 'S':
			a.Kind = ActionContinue
			if as[0] == 'S' {
				a.Kind = ActionStep
			}
			sig, err := ss.parseSignal(as[1:])
			if err != nil {
				return ss.fail(replyErrBadPacket, err)
			}
			a.Signal = sig
		default:
			// r (range step) and unknown actions are not supported.
			return ss.reply("")
		}
		if len(as) > 1 && as[0] != 'C' && as[0] != 'S' {
			return ss.fail(replyErrBadPacket, fmt.Errorf("bad vCont action %q", as))
		}
		if hasThread {
			t, err := ss.parseThreadID(ts)
			if err != nil {
				return ss.fail(replyErrThread, err)
			}
			if t.Pid == Any {
				t = ThreadID{All, All}
			} else if t.Tid == Any {
				t.Tid = All
			}
			a.Thread = t
		}
		r.Actions = append(r.Actions, a)
	}
	return ss.resume(r)
}

// handleReverse implements bs and bc.
func (ss *session) handleReverse(s string) error {
	if !ss.caps.Reverse || (s != "bs" && s != "bc") {
		return ss.reply("")
	}
	if s == "bc" {
		return ss.resume(Resume{Reverse: true, Actions: []Action{{Kind: ActionContinue, Thread: ThreadID{All, All}}}})
	}
	sel, err := ss.stepThread()
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	return ss.resume(Resume{Reverse: true, Actions: []Action{{Kind: ActionStep, Thread: sel}}})
}

// resume runs the target until it stops and sends the stop reply. A
// resume that would run no thread at all is refused: nothing could stop it.
func (ss *session) resume(r Resume) error {
	procs, err := ss.t.Processes()
	if err != nil {
		return ss.fail(replyErrTarget, err)
	}
	runs := false
	for _, p := range procs {
		for _, th := range p.Threads {
			if _, ok := r.ActionFor(th.ID); ok {
				runs = true
			}
		}
	}
	if !runs {
		return ss.fail(replyErrThread, errors.New("the resume matches no thread"))
	}
	ss.xferCache = map[string][]byte{}
	if err := ss.t.Resume(r); err != nil {
		if r.Reverse && !errors.Is(err, ErrUnsupported) {
			// gdb prints console output ('O') that comes before the
			// reply: why the target cannot go back.
			if err := ss.reply("O" + hex.EncodeToString([]byte(err.Error()+"\n"))); err != nil {
				return err
			}
		}
		return ss.targetErr(replyErrTarget, err)
	}
	ev, lost := ss.wait()
	ss.noteStop(ev, r.Reverse)
	if lost != nil {
		return lost
	}
	return ss.reply(ss.stopReply(ev, r.Reverse))
}

// wait waits for the running target's stop, passing on interrupts. If the
// connection is lost, it interrupts the target, waits for the stop and
// returns the reason.
func (ss *session) wait() (StopEvent, error) {
	events := ss.t.Events()
	for {
		select {
		case ev := <-events:
			return ev, nil
		case it, ok := <-ss.in:
			if !ok {
				ss.t.Interrupt()
				return <-events, ss.connErr()
			}
			switch it.kind {
			case itemInterrupt:
				ss.srv.logf("<- ^C")
				ss.t.Interrupt()
			case itemPacket:
				if len(ss.pending) >= maxPending {
					ss.t.Interrupt()
					return <-events, fmt.Errorf("gdbstub: %d packets while the target runs", maxPending)
				}
				ss.pending = append(ss.pending, it)
			}
		}
	}
}

// noteStop records a stop: its thread becomes the current one, and the
// breakpoints of a process that ended or exec'd are forgotten.
func (ss *session) noteStop(ev StopEvent, reverse bool) {
	ss.last, ss.lastReverse = ev, reverse
	switch ev.Kind {
	case StopExited, StopKilled, StopExec:
		ss.dropBreaks(ev.Thread.Pid)
	}
	switch ev.Kind {
	case StopExited, StopKilled:
		ss.gThread, ss.cThread = ThreadID{}, ThreadID{}
	default:
		// Hc stays as the debugger set it: a bare c resumes every
		// thread unless it named one, as gdbserver's does.
		ss.gThread = ev.Thread
	}
}

// stepThread is the thread a bare s or bs steps: the Hc thread, else the
// one that stopped last.
func (ss *session) stepThread() (ThreadID, error) {
	sel := ss.cThread
	if sel.Pid > 0 && sel.Tid > 0 {
		return sel, nil
	}
	if l := ss.last.Thread; l.Pid > 0 && l.Tid > 0 && (sel.Pid <= 0 || sel.Pid == l.Pid) {
		if t, err := ss.resolve(l); err == nil {
			return t, nil
		}
	}
	return ss.resolve(sel)
}

// stopReply formats a stop for the debugger.
func (ss *session) stopReply(ev StopEvent, reverse bool) string {
	var b strings.Builder
	switch ev.Kind {
	case StopExited:
		fmt.Fprintf(&b, "W%02x", uint8(ev.ExitCode))
		if ss.multiprocess {
			fmt.Fprintf(&b, ";process:%x", ev.Thread.Pid)
		}
		return b.String()
	case StopKilled:
		fmt.Fprintf(&b, "X%02x", ss.wireSignal(ev.Signal))
		if ss.multiprocess {
			fmt.Fprintf(&b, ";process:%x", ev.Thread.Pid)
		}
		return b.String()
	}
	sig := linux.SIGTRAP
	if ev.Kind == StopSignal {
		sig = ev.Signal
	}
	fmt.Fprintf(&b, "T%02x", ss.wireSignal(sig))
	switch ev.Kind {
	case StopBreakpoint:
		if ev.Break == BreakHardware && ss.hwbreak {
			b.WriteString("hwbreak:;")
		} else if ev.Break == BreakSoftware && ss.swbreak {
			b.WriteString("swbreak:;")
		}
	case StopWatchpoint:
		fmt.Fprintf(&b, "%s:%x;", ev.Break, ss.watchAddr(ev))
	case StopFork:
		fmt.Fprintf(&b, "fork:%s;", ss.threadID(ev.Child))
	case StopVFork:
		fmt.Fprintf(&b, "vfork:%s;", ss.threadID(ev.Child))
	case StopVForkDone:
		b.WriteString("vforkdone:;")
	case StopExec:
		fmt.Fprintf(&b, "exec:%s;", hex.EncodeToString([]byte(ev.Path)))
	case StopSyscallEntry:
		fmt.Fprintf(&b, "syscall_entry:%x;", ev.Syscall)
	case StopSyscallReturn:
		fmt.Fprintf(&b, "syscall_return:%x;", ev.Syscall)
	case StopNoHistory:
		if reverse {
			b.WriteString("replaylog:begin;")
		} else {
			b.WriteString("replaylog:end;")
		}
	}
	fmt.Fprintf(&b, "thread:%s;", ss.threadID(ev.Thread))
	return b.String()
}

// watchAddr returns the address to report for a watchpoint hit: inside the
// watched range, as gdb matches it against its watchpoints, even when the
// access began below it (a wide store over a narrow watchpoint).
func (ss *session) watchAddr(ev StopEvent) uint64 {
	end := ev.Addr + max(ev.Size, 1)
	for _, b := range ss.sortedBreaks() {
		if b.Pid != ev.Thread.Pid || !b.Kind.IsWatch() {
			continue
		}
		if ev.Addr < b.Addr+b.Len && b.Addr < end {
			return max(ev.Addr, b.Addr)
		}
	}
	return ev.Addr
}
