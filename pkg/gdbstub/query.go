package gdbstub

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// handleQuery implements the q packets.
func (ss *session) handleQuery(s string) error {
	name, arg, _ := strings.Cut(s, ":")
	switch {
	case name == "qSupported":
		return ss.handleSupported(arg)
	case name == "qAttached":
		return ss.handleAttached(arg)
	case s == "qC":
		t, err := ss.resolve(ss.gThread)
		if err != nil {
			return ss.fail(replyErrThread, err)
		}
		return ss.reply("QC" + ss.threadID(t))
	case s == "qfThreadInfo":
		return ss.handleThreadInfo(true)
	case s == "qsThreadInfo":
		return ss.handleThreadInfo(false)
	case strings.HasPrefix(s, "qThreadExtraInfo,"):
		return ss.handleThreadExtraInfo(strings.TrimPrefix(s, "qThreadExtraInfo,"))
	case name == "qXfer":
		return ss.handleXfer(arg)
	case strings.HasPrefix(s, "qSymbol:"):
		return ss.reply("OK") // no symbols wanted
	case s == "qHostInfo":
		// Only lldb asks: from now on signals carry Linux numbers, as
		// lldb expects of a Linux target. Watchpoints stop before the
		// access, as on AArch64.
		ss.linuxSignals = true
		return ss.reply("triple:" + hex.EncodeToString([]byte("aarch64-unknown-linux-gnu")) +
			";ptrsize:8;endian:little;ostype:linux;vendor:unknown;watchpoint_exceptions_received:before;")
	case s == "qWatchpointSupportInfo" || s == "qWatchpointSupportInfo:":
		// lldb: the number of watchpoints; without an answer it ignores
		// watchpoint_exceptions_received. The stub sets no limit of its
		// own; 16 is the AArch64 architectural maximum.
		return ss.reply("num:16;")
	case strings.HasPrefix(s, "qRcmd,"):
		return ss.handleMonitor(strings.TrimPrefix(s, "qRcmd,"))
	case s == "qProcessInfo":
		pid, err := ss.currentPid()
		if err != nil {
			return ss.fail(replyErrThread, err)
		}
		return ss.reply(fmt.Sprintf("pid:%x;triple:%s;ptrsize:8;endian:little;ostype:linux;vendor:unknown;",
			pid, hex.EncodeToString([]byte("aarch64-unknown-linux-gnu"))))
	}
	return ss.reply("")
}

// handleSupported implements qSupported: it records what the debugger
// supports and lists what the stub does.
func (ss *session) handleSupported(arg string) error {
	var forkEv, vforkEv, execEv bool
	for _, f := range strings.Split(arg, ";") {
		switch f {
		case "multiprocess+":
			ss.multiprocess = true
		case "swbreak+":
			ss.swbreak = true
		case "hwbreak+":
			ss.hwbreak = true
		case "fork-events+":
			forkEv = true
		case "vfork-events+":
			vforkEv = true
		case "exec-events+":
			execEv = true
		}
	}
	feats := []string{
		fmt.Sprintf("PacketSize=%x", PacketSize),
		"QStartNoAckMode+",
		"multiprocess+",
		"swbreak+",
		"hwbreak+",
		"qXfer:features:read+",
		"qXfer:threads:read+",
		"vContSupported+",
		"QPassSignals+",
	}
	if _, ok := ss.t.(ExecFiler); ok {
		feats = append(feats, "qXfer:exec-file:read+")
	}
	if _, ok := ss.t.(AuxvReader); ok {
		feats = append(feats, "qXfer:auxv:read+", "qXfer:libraries-svr4:read+")
	}
	if _, ok := ss.t.(MemoryMapper); ok {
		feats = append(feats, "qXfer:memory-map:read+")
	}
	if _, ok := ss.t.(SiginfoReader); ok {
		feats = append(feats, "qXfer:siginfo:read+")
	}
	ss.opts.ForkEvents = forkEv && ss.caps.ForkEvents
	ss.opts.VForkEvents = vforkEv && ss.caps.VForkEvents
	ss.opts.ExecEvents = execEv && ss.caps.ExecEvents
	if ss.opts.ForkEvents {
		feats = append(feats, "fork-events+")
	}
	if ss.opts.VForkEvents {
		feats = append(feats, "vfork-events+")
	}
	if ss.opts.ExecEvents {
		feats = append(feats, "exec-events+")
	}
	if ss.caps.SyscallCatch {
		feats = append(feats, "QCatchSyscalls+")
	}
	if ss.caps.Reverse {
		feats = append(feats, "ReverseStep+", "ReverseContinue+")
	}
	if err := ss.t.SetOptions(ss.opts); err != nil {
		return ss.fail(replyErrTarget, err)
	}
	return ss.reply(strings.Join(feats, ";"))
}

// handleAttached implements qAttached[:PID].
func (ss *session) handleAttached(arg string) error {
	pid := 0
	if arg != "" {
		v, err := parseHex(arg)
		if err != nil {
			return ss.fail(replyErrBadPacket, err)
		}
		pid = int(v)
	} else {
		var err error
		if pid, err = ss.currentPid(); err != nil {
			return ss.fail(replyErrThread, err)
		}
	}
	procs, err := ss.t.Processes()
	if err != nil {
		return ss.fail(replyErrTarget, err)
	}
	for _, p := range procs {
		if p.Pid == pid {
			if p.Attached {
				return ss.reply("1")
			}
			return ss.reply("0")
		}
	}
	return ss.fail(replyErrThread, fmt.Errorf("no process %d", pid))
}

// threadInfoBatch is how many thread-ids one qsThreadInfo reply carries.
const threadInfoBatch = 64

// handleThreadInfo implements qfThreadInfo (first) and qsThreadInfo.
func (ss *session) handleThreadInfo(first bool) error {
	if first {
		procs, err := ss.t.Processes()
		if err != nil {
			return ss.fail(replyErrTarget, err)
		}
		ss.threadList = ss.threadList[:0]
		for _, p := range procs {
			for _, th := range p.Threads {
				ss.threadList = append(ss.threadList, th.ID)
			}
		}
	}
	if len(ss.threadList) == 0 {
		return ss.reply("l")
	}
	n := min(len(ss.threadList), threadInfoBatch)
	ids := make([]string, n)
	for i, t := range ss.threadList[:n] {
		ids[i] = ss.threadID(t)
	}
	ss.threadList = ss.threadList[n:]
	return ss.reply("m" + strings.Join(ids, ","))
}

// handleThreadExtraInfo implements qThreadExtraInfo: the thread's name.
func (ss *session) handleThreadExtraInfo(arg string) error {
	t, err := ss.parseThreadID(arg)
	if err != nil {
		return ss.fail(replyErrThread, err)
	}
	procs, err := ss.t.Processes()
	if err != nil {
		return ss.fail(replyErrTarget, err)
	}
	for _, p := range procs {
		for _, th := range p.Threads {
			if th.ID == t {
				return ss.reply(hex.EncodeToString([]byte(th.Name)))
			}
		}
	}
	return ss.fail(replyErrThread, errNoThread)
}

// handleXfer implements qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH. A document
// is built when offset 0 is read and served from a cache for the later
// pieces, so it stays consistent while gdb reads it.
func (ss *session) handleXfer(arg string) error {
	object, rest, _ := strings.Cut(arg, ":")
	op, rest, _ := strings.Cut(rest, ":")
	i := strings.LastIndexByte(rest, ':')
	if op != "read" || i < 0 {
		return ss.reply("")
	}
	annex := rest[:i]
	offset, length, err := parseAddrLen(rest[i+1:])
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	key := object + ":" + annex
	if object == "siginfo" {
		key += ":" + ss.threadID(ss.gThread) // per thread
	}
	doc, ok := ss.xferCache[key]
	if !ok || offset == 0 {
		doc, err = ss.xferDocument(object, annex)
		if err != nil {
			if err == errNoObject {
				return ss.reply("")
			}
			return ss.fail(replyErrTarget, err)
		}
		ss.xferCache[key] = doc
	}
	if offset >= uint64(len(doc)) {
		return ss.reply("l")
	}
	length = min(length, PacketSize/2)
	end := min(uint64(len(doc)), offset+length)
	prefix := "m"
	if end == uint64(len(doc)) {
		prefix = "l"
	}
	return ss.replyBinary(prefix, doc[offset:end])
}

// xferPid returns the process an annex names ("" or hex PID), defaulting
// to the current one.
func (ss *session) xferPid(annex string) (int, error) {
	if annex == "" {
		return ss.currentPid()
	}
	v, err := strconv.ParseUint(annex, 16, 31)
	if err != nil {
		return 0, fmt.Errorf("bad pid %q", annex)
	}
	return int(v), nil
}

// handleMonitor implements qRcmd (gdb's "monitor CMD"): the target's
// answer is sent as console output, then OK. A target without monitor
// commands answers empty (gdb: "Target does not support this command").
func (ss *session) handleMonitor(arg string) error {
	mon, ok := ss.t.(Monitor)
	if !ok {
		return ss.reply("")
	}
	cmd, err := hex.DecodeString(arg)
	if err != nil {
		return ss.fail(replyErrBadPacket, err)
	}
	out, err := mon.Monitor(string(cmd))
	if err != nil {
		out += err.Error() + "\n"
	}
	for len(out) > 0 {
		n := min(len(out), (PacketSize-1)/2)
		if err := ss.reply("O" + hex.EncodeToString([]byte(out[:n]))); err != nil {
			return err
		}
		out = out[n:]
	}
	return ss.reply("OK")
}
