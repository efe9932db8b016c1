package gdbstub

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Error replies. gdb shows only that a request failed; the log says why.
const (
	replyErrBadPacket = "E01" // malformed request
	replyErrThread    = "E02" // no such thread or process
	replyErrTarget    = "E03" // the target refused
	replyErrMemory    = "E0e" // EFAULT: memory not accessible
)

// dispatch handles one packet.
func (ss *session) dispatch(p []byte) error {
	if len(p) == 0 {
		return ss.reply("")
	}
	s := string(p)
	switch p[0] {
	case '?':
		return ss.reply(ss.stopReply(ss.last, ss.lastReverse))
	case 'c', 'C', 's', 'S':
		return ss.handleResumeLegacy(s)
	case 'b':
		return ss.handleReverse(s)
	case 'D':
		return ss.handleDetach(s)
	case 'g':
		return ss.handleReadRegs()
	case 'G':
		return ss.handleWriteRegs(s[1:])
	case 'p':
		return ss.handleReadReg(s[1:])
	case 'P':
		return ss.handleWriteReg(s[1:])
	case 'H':
		return ss.handleSetThread(s[1:])
	case 'k':
		return ss.handleKillAll()
	case 'm':
		return ss.handleReadMem(s[1:])
	case 'M':
		return ss.handleWriteMemHex(s[1:])
	case 'X':
		return ss.handleWriteMemBinary(p[1:])
	case 'T':
		return ss.handleThreadAlive(s[1:])
	case 'Z', 'z':
		return ss.handleBreakpoint(s)
	case 'q':
		return ss.handleQuery(s)
	case 'Q':
		return ss.handleSet(s)
	case 'v':
		return ss.handleV(p)
	case 'R':
		// Restart (extended mode; gdb falls back to it when vRun is not
		// supported): not supported either, and R has no reply: one
		// would answer the debugger's next packet.
		ss.srv.logf("R (restart) is not supported; no reply")
		return nil
	}
	// Everything else (x, !, i, t, A, ...) is not supported.
	return ss.reply("")
}

// fail logs why a request failed and sends an error reply.
func (ss *session) fail(code string, err error) error {
	ss.srv.logf("   error: %v", err)
	return ss.reply(code)
}

// targetErr replies to a failed target call: empty for ErrUnsupported,
// else code.
func (ss *session) targetErr(code string, err error) error {
	if errors.Is(err, ErrUnsupported) {
		return ss.reply("")
	}
	return ss.fail(code, err)
}

// parseHex parses a hex number of at most 64 bits.
func parseHex(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("bad hex number %q", s)
	}
	return v, nil
}

// parseAddrLen parses "ADDR,LEN".
func parseAddrLen(s string) (addr, n uint64, err error) {
	a, l, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, fmt.Errorf("want ADDR,LEN in %q", s)
	}
	if addr, err = parseHex(a); err != nil {
		return 0, 0, err
	}
	if n, err = parseHex(l); err != nil {
		return 0, 0, err
	}
	return addr, n, nil
}

// handleReadRegs implements g.
func (ss *session) handleReadRegs() error {
	t, err := ss.resolve(ss.gThread)
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	r, err := ss.t.ReadRegisters(t)
	if err != nil {
		return ss.fail(replyErrTarget, err)
	}
	return ss.reply(hex.EncodeToString(encodeRegs(&r)))
}

// handleWriteRegs implements G.
func (ss *session) handleWriteRegs(arg string) error {
	b, err := hex.DecodeString(arg)
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	var r Registers
	if err := decodeRegs(&r, b); err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	t, err := ss.resolve(ss.gThread)
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	if err := ss.t.WriteRegisters(t, &r); err != nil {
		return ss.fail(replyErrTarget, err)
	}
	return ss.reply("OK")
}

// handleReadReg implements p.
func (ss *session) handleReadReg(arg string) error {
	n, err := strconv.ParseUint(arg, 16, 16)
	if err != nil || n >= numRegs {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad register %q", arg))
	}
	t, err := ss.resolve(ss.gThread)
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	r, err := ss.t.ReadRegisters(t)
	if err != nil {
		return ss.fail(replyErrTarget, err)
	}
	return ss.reply(hex.EncodeToString(regBytes(&r, int(n))))
}

// handleWriteReg implements P.
func (ss *session) handleWriteReg(arg string) error {
	ns, vs, ok := strings.Cut(arg, "=")
	n, err := strconv.ParseUint(ns, 16, 16)
	if !ok || err != nil || n >= numRegs {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad register write %q", arg))
	}
	v, err := hex.DecodeString(vs)
	if err != nil || len(v) != regSize(int(n)) {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad value for register %d: %q", n, vs))
	}
	t, err := ss.resolve(ss.gThread)
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	r, err := ss.t.ReadRegisters(t)
	if err != nil {
		return ss.fail(replyErrTarget, err)
	}
	setReg(&r, int(n), v)
	if err := ss.t.WriteRegisters(t, &r); err != nil {
		return ss.fail(replyErrTarget, err)
	}
	return ss.reply("OK")
}

// handleSetThread implements Hg and Hc.
func (ss *session) handleSetThread(arg string) error {
	if len(arg) < 2 || (arg[0] != 'g' && arg[0] != 'c') {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad H packet %q", arg))
	}
	t, err := ss.parseThreadID(arg[1:])
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	if t.Pid != All && t.Tid != All {
		if _, err := ss.resolve(t); err != nil {
			return ss.fail(replyErrThread, err)
		}
	}
	if arg[0] == 'g' {
		ss.gThread = t
	} else {
		ss.cThread = t
	}
	return ss.reply("OK")
}

// handleThreadAlive implements T.
func (ss *session) handleThreadAlive(arg string) error {
	t, err := ss.parseThreadID(arg)
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	if _, err := ss.resolve(t); err != nil {
		return ss.fail(replyErrThread, err)
	}
	return ss.reply("OK")
}

// maxRead bounds one m request: the reply must fit a packet.
const maxRead = PacketSize / 2

// handleReadMem implements m.
func (ss *session) handleReadMem(arg string) error {
	addr, n, err := parseAddrLen(arg)
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	pid, err := ss.currentPid()
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	n = min(n, maxRead)
	buf := make([]byte, n)
	got, err := ss.t.ReadMemory(pid, addr, buf)
	if got <= 0 && n > 0 {
		if err == nil {
			err = fmt.Errorf("nothing read at %#x", addr)
		}
		return ss.fail(replyErrMemory, err)
	}
	return ss.reply(hex.EncodeToString(buf[:min(got, len(buf))]))
}

// handleWriteMemHex implements M.
func (ss *session) handleWriteMemHex(arg string) error {
	al, data, ok := strings.Cut(arg, ":")
	if !ok {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad M packet"))
	}
	addr, n, err := parseAddrLen(al)
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	b, err := hex.DecodeString(data)
	if err != nil || uint64(len(b)) != n {
		//lint:ignore ST1005 M names the packet
		return ss.fail(replyErrBadPacket, fmt.Errorf("M data does not match length %d", n))
	}
	return ss.writeMem(addr, b)
}

// handleWriteMemBinary implements X.
func (ss *session) handleWriteMemBinary(arg []byte) error {
	i := strings.IndexByte(string(arg), ':')
	if i < 0 {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad X packet"))
	}
	addr, n, err := parseAddrLen(string(arg[:i]))
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	b, err := unescape(arg[i+1:])
	if err != nil || uint64(len(b)) != n {
		//lint:ignore ST1005 X names the packet
		return ss.fail(replyErrBadPacket, fmt.Errorf("X data does not match length %d", n))
	}
	return ss.writeMem(addr, b)
}

// writeMem writes memory of the current process.
func (ss *session) writeMem(addr uint64, b []byte) error {
	if len(b) == 0 {
		return ss.reply("OK") // gdb probes X support this way
	}
	pid, err := ss.currentPid()
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	if err := ss.t.WriteMemory(pid, addr, b); err != nil {
		return ss.fail(replyErrMemory, err)
	}
	return ss.reply("OK")
}

// handleBreakpoint implements Z0-Z4 and z0-z4.
func (ss *session) handleBreakpoint(s string) error {
	insert := s[0] == 'Z'
	fields := strings.Split(strings.SplitN(s[1:], ";", 2)[0], ",")
	if len(fields) != 3 {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad breakpoint packet %q", s))
	}
	kind, err := strconv.Atoi(fields[0])
	if err != nil || kind < 0 || kind > int(WatchAccess) {
		return ss.reply("") // an unknown type is unsupported
	}
	addr, err := parseHex(fields[1])
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	n, err := parseHex(fields[2])
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	pid, err := ss.currentPid()
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	b := Breakpoint{Kind: BreakKind(kind), Pid: pid, Addr: addr, Len: n}
	if b.Kind.IsWatch() && (n == 0 || addr+n < addr) {
		return ss.fail(replyErrBadPacket, fmt.Errorf("bad watch length %d", n))
	}
	if insert {
		if ss.breaks[b] {
			return ss.reply("OK")
		}
		if err := ss.t.InsertBreakpoint(b); err != nil {
			return ss.targetErr(replyErrTarget, err)
		}
		ss.breaks[b] = true
		return ss.reply("OK")
	}
	if !ss.breaks[b] {
		return ss.reply("OK") // never inserted here, e.g. in a fork child
	}
	if err := ss.t.RemoveBreakpoint(b); err != nil {
		return ss.targetErr(replyErrTarget, err)
	}
	delete(ss.breaks, b)
	return ss.reply("OK")
}

// handleDetach implements D and D;PID.
func (ss *session) handleDetach(s string) error {
	var pids []int
	if arg, ok := strings.CutPrefix(s, "D;"); ok {
		pid, err := parseHex(arg)
		if err != nil {
			return ss.fail(replyErrBadPacket, err)
		}
		pids = []int{int(pid)}
	} else {
		procs, err := ss.t.Processes()
		if err != nil {
			return ss.fail(replyErrTarget, err)
		}
		for _, p := range procs {
			pids = append(pids, p.Pid)
		}
	}
	for _, pid := range pids {
		for _, b := range ss.sortedBreaks() {
			if b.Pid == pid {
				if err := ss.t.RemoveBreakpoint(b); err != nil {
					ss.srv.logf("   detach %d: remove %v: %v", pid, b, err)
				}
			}
		}
		ss.dropBreaks(pid)
		if err := ss.t.Detach(pid); err != nil {
			return ss.fail(replyErrThread, err)
		}
	}
	if err := ss.reply("OK"); err != nil {
		return err
	}
	procs, err := ss.t.Processes()
	if err == nil && len(procs) == 0 {
		return errEnd
	}
	return nil
}

// handleKillAll implements k: kill every process and end the session.
// gdb expects no reply; lldb waits for an exit status, which gdb ignores.
func (ss *session) handleKillAll() error {
	procs, err := ss.t.Processes()
	if err != nil {
		return err
	}
	for _, p := range procs {
		if err := ss.t.Kill(p.Pid); err != nil {
			ss.srv.logf("   kill %d: %v", p.Pid, err)
		}
		ss.dropBreaks(p.Pid)
	}
	if err := ss.reply(fmt.Sprintf("X%02x", ss.wireSignal(linux.SIGKILL))); err != nil {
		return err
	}
	return errEnd
}

// handleKill implements vKill;PID.
func (ss *session) handleKill(arg string) error {
	pid, err := parseHex(arg)
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	if err := ss.t.Kill(int(pid)); err != nil {
		return ss.fail(replyErrThread, err)
	}
	ss.dropBreaks(int(pid))
	return ss.reply("OK")
}

// handleSet implements the Q packets.
func (ss *session) handleSet(s string) error {
	name, arg, _ := strings.Cut(s, ":")
	switch name {
	case "QStartNoAckMode":
		// The OK is still acknowledged; then acks stop both ways.
		if err := ss.reply("OK"); err != nil {
			return err
		}
		ss.noAck = true
		return nil
	case "QPassSignals":
		var sigs []linux.Signal
		if arg != "" {
			for _, f := range strings.Split(arg, ";") {
				if f == "" {
					continue // gdb ends the list with ';'
				}
				g, err := strconv.ParseUint(f, 16, 8)
				if err != nil {
					return ss.fail(replyErrBadPacket, fmt.Errorf("bad signal %q", f))
				}
				if sig, ok := ss.fromWireSignal(int(g)); ok && sig != 0 {
					sigs = append(sigs, sig)
				}
			}
		}
		ss.opts.PassSignals = sigs
		return ss.setOptions()
	case "QCatchSyscalls":
		if !ss.caps.SyscallCatch {
			return ss.reply("")
		}
		on, list, _ := strings.Cut(arg, ";")
		switch on {
		case "0":
			ss.opts.CatchSyscalls, ss.opts.Syscalls = false, nil
		case "1":
			var nrs []int
			if list != "" {
				for _, f := range strings.Split(list, ";") {
					nr, err := strconv.ParseUint(f, 16, 16)
					if err != nil {
						return ss.fail(replyErrBadPacket, fmt.Errorf("bad syscall %q", f))
					}
					nrs = append(nrs, int(nr))
				}
			}
			ss.opts.CatchSyscalls, ss.opts.Syscalls = true, nrs
		default:
			return ss.fail(replyErrBadPacket, fmt.Errorf("bad QCatchSyscalls %q", arg))
		}
		return ss.setOptions()
	}
	return ss.reply("")
}

// setOptions hands the options to the target and replies.
func (ss *session) setOptions() error {
	if err := ss.t.SetOptions(ss.opts); err != nil {
		return ss.fail(replyErrTarget, err)
	}
	return ss.reply("OK")
}

// handleV implements the v packets.
func (ss *session) handleV(p []byte) error {
	s := string(p)
	name, arg, _ := strings.Cut(s, ";")
	switch {
	case s == "vCont?":
		return ss.reply("vCont;c;C;s;S;t")
	case name == "vCont":
		return ss.handleVCont(arg)
	case s == "vCtrlC":
		return ss.reply("OK") // the target is stopped already
	case name == "vKill":
		return ss.handleKill(arg)
	case strings.HasPrefix(s, "vFile:"):
		return ss.handleFile(p[len("vFile:"):])
	case name == "vRun":
		// gdb's run over extended-remote: the stub serves a machine that
		// is already running its programs and cannot start another. An
		// error says so (gdb: "Running ... on the remote target failed");
		// an empty reply would make gdb fall back to R.
		return ss.fail(replyErrTarget, errors.New("vRun: the target cannot start a program (use target remote)"))
	}
	return ss.reply("")
}
