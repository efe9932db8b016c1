package kernel

import (
	"fmt"
	"math/bits"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Signal dispositions and flags (asm-generic/signal-defs.h).
const (
	sigDFL = 0
	sigIGN = 1

	saNOCLDSTOP = 0x00000001
	saNOCLDWAIT = 0x00000002
	saSIGINFO   = 0x00000004
	saONSTACK   = 0x08000000
	saRESTART   = 0x10000000
	saNODEFER   = 0x40000000
	saRESETHAND = 0x80000000
	saRESTORER  = 0x04000000

	ssOnStack    = 1
	ssDisable    = 2
	ssAutoDisarm = 1 << 31
	minSigStk    = 5120 // arm64 MINSIGSTKSZ
)

// si_code values (asm-generic/siginfo.h).
const (
	siUser     = 0
	siKernel   = 0x80
	siQueue    = -1
	siTimer    = -2
	siTkill    = -6
	cldExited  = 1
	cldKilled  = 2
	cldDumped  = 3
	cldStopped = 5
	cldCont    = 6
	illIllOpc  = 1
	trapBrkpt  = 1
	trapTrace  = 2
	trapHwBkpt = 4
)

// sigStack is a sigaltstack.
type sigStack struct {
	sp, size uint64
	flags    int32
}

func sigBit(sig linux.Signal) uint64 { return 1 << (uint(sig) - 1) }

// unblockable signals cannot be masked.
const unblockable = 1<<(linux.SIGKILL-1) | 1<<(linux.SIGSTOP-1)

// siginfo is what a handler learns about a signal (struct siginfo).
type siginfo struct {
	signo   linux.Signal
	code    int32
	errno   int32
	pid     int32 // sender, or the child (SIGCHLD)
	uid     int32
	status  int32 // SIGCHLD: exit code or signal
	addr    uint64
	value   uint64 // sigval of sigqueue and timers
	tid     int32  // timer id
	overrun int32
	utime   int64
	stime   int64
}

// marshal writes info as the 128-byte arm64 siginfo_t.
func (i *siginfo) marshal(b []byte) {
	clear(b[:128])
	put32(b[0:], uint32(i.signo))
	put32(b[4:], uint32(i.errno))
	put32(b[8:], uint32(i.code))
	switch {
	case i.signo == linux.SIGSEGV || i.signo == linux.SIGBUS || i.signo == linux.SIGILL ||
		i.signo == linux.SIGFPE || i.signo == linux.SIGTRAP:
		if i.code > 0 {
			put64(b[16:], i.addr)
			return
		}
	case i.code == siTimer:
		put32(b[16:], uint32(i.tid))
		put32(b[20:], uint32(i.overrun))
		put64(b[24:], i.value)
		return
	case i.signo == linux.SIGCHLD && i.code > 0:
		put32(b[16:], uint32(i.pid))
		put32(b[20:], uint32(i.uid))
		put32(b[24:], uint32(i.status))
		put64(b[32:], uint64(i.utime))
		put64(b[40:], uint64(i.stime))
		return
	}
	put32(b[16:], uint32(i.pid))
	put32(b[20:], uint32(i.uid))
	put64(b[24:], i.value)
}

// sigSet is a set of pending signals with their information: one instance
// of each standard signal, a queue for real-time signals.
type sigSet struct {
	mask uint64
	info [64]siginfo
	rt   []siginfo // instances of real-time signals queued behind info
}

// add makes sig pending with info; a standard signal already pending is
// not queued twice.
func (s *sigSet) add(sig linux.Signal, info siginfo) {
	info.signo = sig
	if s.mask&sigBit(sig) != 0 {
		if sig >= linux.SIGRTMIN && len(s.rt) < maxQueuedSignals {
			s.rt = append(s.rt, info)
		}
		return
	}
	s.mask |= sigBit(sig)
	s.info[sig-1] = info
}

// take removes one instance of sig and returns its information.
func (s *sigSet) take(sig linux.Signal) siginfo {
	info := s.info[sig-1]
	s.mask &^= sigBit(sig)
	for i, q := range s.rt {
		if q.signo == sig {
			s.info[sig-1] = q
			s.mask |= sigBit(sig)
			s.rt = append(s.rt[:i], s.rt[i+1:]...)
			break
		}
	}
	return info
}

// discard drops every instance of sig.
func (s *sigSet) discard(sig linux.Signal) {
	s.mask &^= sigBit(sig)
	if len(s.rt) == 0 {
		return
	}
	rt := s.rt[:0]
	for _, q := range s.rt {
		if q.signo != sig {
			rt = append(rt, q)
		}
	}
	s.rt = rt
}

// maxQueuedSignals bounds the real-time signals a task may have queued
// (RLIMIT_SIGPENDING).
const maxQueuedSignals = 1024

type defaultAction int

const (
	actTerm defaultAction = iota
	actIgnore
	actStop
	actCont
)

// defaultActionOf returns what SIG_DFL does for sig.
func defaultActionOf(sig linux.Signal) defaultAction {
	switch sig {
	case linux.SIGCHLD, linux.SIGURG, linux.SIGWINCH:
		return actIgnore
	case linux.SIGCONT:
		return actCont
	case linux.SIGSTOP, linux.SIGTSTP, linux.SIGTTIN, linux.SIGTTOU:
		return actStop
	}
	return actTerm
}

// ignored reports whether sig would be discarded on delivery.
func (p *Process) ignored(sig linux.Signal) bool {
	h := p.sigacts[sig].handler
	return h == sigIGN || (h == sigDFL && defaultActionOf(sig) == actIgnore)
}

// sendSignal generates a process-directed sig for p (kill): it is pending
// for the group and any thread that does not block it takes it.
func (p *Process) sendSignal(sig linux.Signal, info siginfo) {
	if !p.prepareSignal(sig) {
		return
	}
	p.sigPending.add(sig, info)
	p.sigWq.wakeAll()
	// Wake a thread that can take it: the current one if it can, else the
	// first that does not block it or waits for it (sigtimedwait).
	if c := p.m.cur; c != nil && c.Process == p && c.takes(sig) {
		c.stop = true
		return
	}
	for _, t := range p.tasks {
		if t.takes(sig) {
			t.interrupt()
			return
		}
	}
}

// takes reports whether t would act on sig now: it does not block it, or
// waits for it in rt_sigtimedwait.
func (t *Task) takes(sig linux.Signal) bool {
	return t.sigMask&sigBit(sig) == 0 || t.waitSet&sigBit(sig) != 0
}

// sendSignal generates a thread-directed sig for t (tgkill, faults,
// timers with SIGEV_THREAD_ID).
func (t *Task) sendSignal(sig linux.Signal, info siginfo) {
	if !t.prepareSignal(sig) {
		return
	}
	t.sigPending.add(sig, info)
	t.sigWq.wakeAll()
	if t.takes(sig) {
		t.interrupt()
	}
}

// prepareSignal does what generating sig does before it is queued: SIGKILL
// kills, SIGCONT resumes, stop signals cancel a pending SIGCONT and vice
// versa. It reports whether sig must be queued.
func (p *Process) prepareSignal(sig linux.Signal) bool {
	if p.zombie || p.exiting || sig < 1 || sig > linux.SIGRTMAX || p == p.m.init {
		return false // init has no handlers: it takes no signal
	}
	switch {
	case sig == linux.SIGKILL:
		p.kill(sig, "")
		return false
	case sig == linux.SIGCONT:
		for _, s := range []linux.Signal{linux.SIGSTOP, linux.SIGTSTP, linux.SIGTTIN, linux.SIGTTOU} {
			p.sigPending.discard(s)
			for _, t := range p.tasks {
				t.sigPending.discard(s)
			}
		}
		p.resume()
	case defaultActionOf(sig) == actStop:
		p.sigPending.discard(linux.SIGCONT)
		for _, t := range p.tasks {
			t.sigPending.discard(linux.SIGCONT)
		}
	}
	if p.ignored(sig) {
		blocked := true
		for _, t := range p.tasks {
			if t.sigMask&sigBit(sig) == 0 {
				blocked = false
			}
		}
		if !blocked {
			return false
		}
	}
	return true
}

// interrupt makes t act on a signal soon: a blocked system call ends
// (EINTR or a restart), the running thread stops its slice.
func (t *Task) interrupt() {
	switch {
	case t == t.m.cur:
		t.stop = true
	case t.state == taskBlocked:
		t.wake()
	}
}

// resume continues a stopped group (SIGCONT).
func (p *Process) resume() {
	if !p.stopped {
		return
	}
	p.stopped, p.contReported = false, true
	for _, t := range p.tasks {
		if t.state == taskStopped {
			t.setState(taskRunnable)
		}
	}
	if par := p.parent; par != nil {
		par.childWait.wakeAll()
	}
}

// stopGroup stops every thread of p for sig (job control).
func (p *Process) stopGroup(sig linux.Signal) {
	p.stopped, p.stopSig, p.stopReported = true, sig, false
	for _, t := range p.tasks {
		if t.state == taskRunnable {
			t.setState(taskStopped)
		}
		if t == t.m.cur {
			t.stop = true
		}
	}
	if par := p.parent; par != nil {
		if par.sigacts[linux.SIGCHLD].flags&saNOCLDSTOP == 0 {
			par.sendSignal(linux.SIGCHLD, siginfo{code: cldStopped, pid: int32(p.PID), status: int32(sig)})
		}
		par.childWait.wakeAll()
	}
}

// pendingMask returns the signals t could take now.
func (t *Task) pendingMask() uint64 {
	return (t.sigPending.mask | t.Process.sigPending.mask) &^ (t.sigMask &^ unblockable)
}

// hasPending reports whether t has a signal it does not block.
func (t *Task) hasPending() bool { return t.pendingMask() != 0 }

// deliverSignals acts on the pending, unblocked signals before t runs. It
// returns whether t may run now.
func (t *Task) deliverSignals() bool {
	p := t.Process
	for t.state == taskRunnable && !t.dying {
		if p.stopped {
			t.setState(taskStopped)
			return false
		}
		ready := t.pendingMask()
		if ready == 0 {
			break
		}
		sig := linux.Signal(bits.TrailingZeros64(ready) + 1)
		var info siginfo
		if t.sigPending.mask&sigBit(sig) != 0 {
			info = t.sigPending.take(sig)
		} else {
			info = p.sigPending.take(sig)
		}
		var ok bool
		if sig, info, ok = t.m.debugSignal(t, sig, info); !ok {
			return false // a debugger keeps t stopped
		} else if sig == 0 {
			continue // the debugger discarded it
		}
		act := p.sigacts[sig]
		t.m.straceSignal(t, sig, info)
		if tr := t.m.introspect.trace; tr != nil {
			tr.signal(t, sig, act)
		}
		switch {
		case act.handler == sigIGN && sig != linux.SIGKILL && sig != linux.SIGSTOP:
			continue
		case act.handler == sigDFL || sig == linux.SIGKILL || sig == linux.SIGSTOP:
			switch defaultActionOf(sig) {
			case actIgnore, actCont:
				continue
			case actStop:
				p.stopGroup(sig)
				return false
			default:
				t.killFault(sig, info)
				return false
			}
		default:
			if err := t.setupFrame(sig, act, info); err != nil {
				t.kill(linux.SIGSEGV, fmt.Sprintf("cannot deliver %s: %v", sig, err))
				return false
			}
			return true
		}
	}
	return t.state == taskRunnable && !t.dying
}

// faultInfo is a fault the kernel refused, kept for its signal.
type faultInfo struct {
	acc  cpu.Access
	page uint64 // the 1 KiB page of the access
	res  faultResult
}

// forceSignal delivers a synchronous signal (a fault): a handler runs if
// there is one that is not blocked; otherwise it kills, as Linux's
// force_sig does (a blocked or ignored synchronous signal is fatal).
func (t *Task) forceSignal(sig linux.Signal, info siginfo) {
	act := &t.sigacts[sig]
	if t.sigMask&sigBit(sig) != 0 || act.handler == sigIGN {
		act.handler = sigDFL
		t.sigMask &^= sigBit(sig)
	}
	t.sigPending.add(sig, info)
}

// memFault turns a refused memory access into SIGSEGV or SIGBUS (or the
// OOM killer's SIGKILL, already sent).
func (t *Task) memFault(f cpu.Fault) {
	fi := t.fault
	t.fault = nil
	if fi == nil {
		fi = &faultInfo{acc: f.Access, page: f.Page, res: faultResult{linux.SIGSEGV, segvMapErr}}
	}
	if fi.res.sig == linux.SIGKILL {
		if !t.dying {
			t.kill(linux.SIGKILL, "out of memory")
		}
		return
	}
	pc, _ := t.m.cpu.Reg(cpu.PC)
	addr := t.faultAddr(fi, pc)
	t.forceSignal(fi.res.sig, siginfo{code: int32(fi.res.code), addr: addr})
	t.lastFault = fmt.Sprintf("%s of %s address %#x", fi.acc, [...]string{"", "unmapped", "protected"}[min(fi.res.code, 2)], addr)
	if fi.res.sig == linux.SIGBUS {
		t.lastFault = fmt.Sprintf("%s past the end of a mapped file at %#x", fi.acc, addr)
	}
	t.lastFaultPC = pc
}

// trap turns an undefined instruction or a breakpoint into SIGILL or
// SIGTRAP at the instruction.
func (t *Task) trap(sig linux.Signal, ex cpu.Exit) {
	pc, _ := t.m.cpu.Reg(cpu.PC)
	code := int32(illIllOpc)
	t.lastFault = "undefined instruction"
	if sig == linux.SIGTRAP {
		code, t.lastFault = trapBrkpt, "breakpoint"
	}
	t.lastFaultPC = pc
	t.forceSignal(sig, siginfo{code: code, addr: pc})
}

// faultReport is the one-line report of a process a synchronous signal
// kills: the signal, the exact PC and what the access was.
func (t *Task) faultReport(sig linux.Signal, info siginfo) string {
	if info.code <= 0 || t.lastFault == "" {
		return ""
	}
	switch sig {
	case linux.SIGSEGV, linux.SIGBUS, linux.SIGILL, linux.SIGTRAP:
	default:
		return ""
	}
	return fmt.Sprintf("%s (%s) pc=%#x: %s", sig, sig.Description(), t.lastFaultPC, t.lastFault)
}

// AArch64 signal frame layout (arch/arm64/include/uapi/asm/sigcontext.h,
// arch/arm64/kernel/signal.c): struct rt_sigframe { siginfo; ucontext }.
const (
	frameSiginfo  = 0
	frameUcontext = 128
	ucStack       = frameUcontext + 16
	ucSigmask     = frameUcontext + 40
	ucMcontext    = frameUcontext + 176 // 16-byte aligned sigcontext
	mcFault       = ucMcontext
	mcRegs        = ucMcontext + 8
	mcSP          = mcRegs + 31*8
	mcPC          = mcSP + 8
	mcPstate      = mcPC + 8
	mcReserved    = ucMcontext + 288 // __reserved[4096], 16-byte aligned
	frameSize     = mcReserved + 4096

	fpsimdMagic = 0x46508001
	fpsimdSize  = 528
)

// Syscalls that a signal handler interrupts with EINTR even under
// SA_RESTART.
func noRestart(nr uint64) bool {
	switch nr {
	case linux.SysNanosleep, linux.SysClockNanosleep, linux.SysPpoll, linux.SysPselect6, linux.SysRtSigsuspend,
		linux.SysEpollPwait, linux.SysEpollPwait2, linux.SysRtSigtimedwait:
		return true
	}
	return false
}

// cpuRegs are the registers a signal frame saves besides the SIMD&FP file.
var cpuRegs = func() []cpu.Reg {
	var r []cpu.Reg
	for x := cpu.X0; x <= cpu.X30; x++ {
		r = append(r, x)
	}
	return append(r, cpu.SP, cpu.PC, cpu.NZCV, cpu.TPIDR, cpu.FPCR, cpu.FPSR)
}()

// setupFrame builds an rt_sigframe on the user stack and enters the
// handler, as Linux's setup_rt_frame does. t is on the CPU.
func (t *Task) setupFrame(sig linux.Signal, act sigaction, info siginfo) error {
	c := t.m.cpu
	restorer := act.restorer
	if act.flags&saRESTORER == 0 || restorer == 0 {
		var err error
		if restorer, err = t.sigtramp(); err != nil {
			return err
		}
	}
	var regs [37]uint64
	if err := c.ReadRegs(cpuRegs, regs[:]); err != nil {
		return err
	}
	const iPC, iSP, iNZCV, iFPCR, iFPSR = 32, 31, 33, 35, 36
	if t.rewound {
		// Interrupted in a blocking system call (PC is at its svc).
		t.abandonBlocked()
		nr := regs[8]
		if t.partial > 0 {
			// A write that moved bytes before it blocked returns them.
			regs[0], t.partial = t.partial, 0
			regs[iPC] += 4
			t.deadline = 0
		} else if act.flags&saRESTART == 0 || noRestart(nr) {
			eintr := int64(linux.EINTR)
			regs[0] = uint64(-eintr)
			regs[iPC] += 4
			t.deadline = 0
		}
		t.rewound = false
		t.sysEntry = false // the call is over (or runs again after the handler, a new call)
	}
	sp := regs[iSP]
	onAlt := t.altStack.flags&ssDisable == 0 && t.altStack.size != 0 &&
		sp > t.altStack.sp && sp <= t.altStack.sp+t.altStack.size
	savedStack := t.altStack
	if act.flags&saONSTACK != 0 && t.altStack.flags&ssDisable == 0 && t.altStack.size != 0 && !onAlt {
		sp = t.altStack.sp + t.altStack.size
		if uint32(t.altStack.flags)&ssAutoDisarm != 0 {
			t.altStack = sigStack{flags: ssDisable}
		}
	}
	next := (sp - 16) &^ 15
	frame := (next - frameSize) &^ 15
	b := make([]byte, frameSize)
	info.marshal(b[frameSiginfo:])
	put64(b[ucStack:], savedStack.sp)
	put32(b[ucStack+8:], uint32(savedStack.flags))
	put64(b[ucStack+16:], savedStack.size)
	if t.suspended { // rt_sigsuspend: the handler returns to the old mask
		t.sigMask, t.suspended = t.savedMask, false
	}
	put64(b[ucSigmask:], t.sigMask)
	if info.code > 0 && (sig == linux.SIGSEGV || sig == linux.SIGBUS) {
		put64(b[mcFault:], info.addr)
	}
	for i := 0; i < 31; i++ {
		put64(b[mcRegs+8*i:], regs[i])
	}
	put64(b[mcSP:], regs[iSP])
	put64(b[mcPC:], regs[iPC])
	put64(b[mcPstate:], regs[iNZCV]&0xf000_0000)
	r := b[mcReserved:]
	put32(r[0:], fpsimdMagic)
	put32(r[4:], fpsimdSize)
	put32(r[8:], uint32(regs[iFPSR]))
	put32(r[12:], uint32(regs[iFPCR]))
	var v cpu.VRegs
	if err := c.ReadVRegs(&v); err != nil {
		return err
	}
	for i := range v {
		copy(r[16+16*i:], v[i][:])
	}
	// The end record (magic 0, size 0) follows and is already zero.
	var rec [16]byte
	put64(rec[0:], regs[29])
	put64(rec[8:], regs[30])
	if err := t.copyOut(next, rec[:]); err != nil {
		return err
	}
	if err := t.copyOut(frame, b); err != nil {
		return err
	}
	out := []cpu.Reg{cpu.X0, cpu.X1, cpu.X2, cpu.X29, cpu.X30, cpu.SP, cpu.PC}
	vals := []uint64{uint64(sig), frame + frameSiginfo, frame + frameUcontext, next, restorer, frame, act.handler}
	if err := c.WriteRegs(out, vals); err != nil {
		return err
	}
	if act.flags&saNODEFER == 0 {
		t.sigMask |= sigBit(sig)
	}
	t.sigMask = (t.sigMask | act.mask) &^ unblockable
	if act.flags&saRESETHAND != 0 {
		t.sigacts[sig] = sigaction{}
	}
	return nil
}

// sigtrampAddr is where the signal return trampoline is mapped (the page
// above the stack), standing in for the vDSO's __kernel_rt_sigreturn that
// glibc on arm64 relies on instead of SA_RESTORER.
const sigtrampAddr = stackTop

// sigtramp maps the trampoline (mov x8, #139; svc #0) on first use and
// returns its address.
func (t *Task) sigtramp() (uint64, error) {
	if t.as.check(sigtrampAddr, 8, cpu.ProtExec) {
		return sigtrampAddr, nil
	}
	if t.as.overlaps(sigtrampAddr, sigtrampAddr+pageSize) {
		return 0, fmt.Errorf("the trampoline page %#x is taken", uint64(sigtrampAddr))
	}
	if err := t.as.mapRange(sigtrampAddr, pageSize, cpu.ProtRead|cpu.ProtExec, cpu.ProtRead|cpu.ProtExec, vmNoReserve, nil, 0, "[vdso]"); err != nil {
		return 0, err
	}
	var code [8]byte
	put32(code[0:], 0xd2801168) // mov x8, #139 (rt_sigreturn)
	put32(code[4:], 0xd4000001) // svc #0
	return sigtrampAddr, t.pokeText(sigtrampAddr, code[:])
}

// sigreturn restores the state saved by setupFrame from the frame at SP.
func (t *Task) sigreturn() (uint64, error) {
	c := t.m.cpu
	sp, err := c.Reg(cpu.SP)
	if err != nil {
		return 0, err
	}
	b := make([]byte, frameSize)
	if sp&15 != 0 || t.copyIn(sp, b) != nil {
		t.forceSignal(linux.SIGSEGV, siginfo{code: siKernel})
		t.lastFault, t.lastFaultPC = fmt.Sprintf("rt_sigreturn with a bad frame at sp=%#x", sp), 0
		t.stop = true
		return 0, nil
	}
	regs := make([]uint64, 34)
	for i := 0; i < 31; i++ {
		regs[i] = le64(b[mcRegs+8*i:])
	}
	regs[31] = le64(b[mcSP:])
	regs[32] = le64(b[mcPC:])
	regs[33] = le64(b[mcPstate:]) & 0xf000_0000
	if err := c.WriteRegs(cpuRegs[:34], regs); err != nil {
		return 0, err
	}
	r := b[mcReserved:]
	if leU32(r[0:]) == fpsimdMagic && leU32(r[4:]) == fpsimdSize {
		c.WriteRegs([]cpu.Reg{cpu.FPSR, cpu.FPCR}, []uint64{uint64(leU32(r[8:])), uint64(leU32(r[12:]))})
		var v cpu.VRegs
		for i := range v {
			copy(v[i][:], r[16+16*i:])
		}
		if err := c.WriteVRegs(&v); err != nil {
			return 0, err
		}
	}
	t.sigMask = le64(b[ucSigmask:]) &^ unblockable
	ss := sigStack{sp: le64(b[ucStack:]), flags: int32(leU32(b[ucStack+8:])), size: le64(b[ucStack+16:])}
	if ss.flags&ssDisable != 0 || ss.size >= minSigStk {
		t.altStack = ss
	}
	t.stop = true // resume at the restored PC; pending signals get a chance
	return regs[0], nil
}

// childInfo is the SIGCHLD information of a child that ended.
func childInfo(c *Process, sig linux.Signal) siginfo {
	info := siginfo{pid: int32(c.PID), code: cldExited, status: int32(c.status.Code)}
	if c.status.Signal != 0 {
		info.code, info.status = cldKilled, int32(c.status.Signal)
	}
	ns := c.cpuNs()
	info.utime = int64(ns / 10_000_000) // clock ticks (USER_HZ 100)
	return info
}

func leU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// signalPending reports whether a signal of mask bit is pending for p and
// a thread of p does not block it (it will be delivered).
func (p *Process) signalPending(bit uint64) bool {
	for _, t := range p.tasks {
		if (p.sigPending.mask|t.sigPending.mask)&bit != 0 && t.sigMask&bit == 0 {
			return true
		}
	}
	return false
}
