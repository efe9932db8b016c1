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
	saSIGINFO   = 0x00000004
	saONSTACK   = 0x08000000
	saRESTART   = 0x10000000
	saNODEFER   = 0x40000000
	saRESETHAND = 0x80000000
	saRESTORER  = 0x04000000

	ssOnStack = 1
	ssDisable = 2
	minSigStk = 5120 // arm64 MINSIGSTKSZ
)

// sigStack is a sigaltstack.
type sigStack struct {
	sp, size uint64
	flags    int32
}

func sigBit(sig linux.Signal) uint64 { return 1 << (uint(sig) - 1) }

// unblockable signals cannot be masked.
const unblockable = 1<<(linux.SIGKILL-1) | 1<<(linux.SIGSTOP-1)

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

// sendSignal generates sig for p.
func (p *Process) sendSignal(sig linux.Signal) {
	m := p.m
	if p.state == stateZombie || p.exited || sig < 1 || sig > linux.SIGRTMAX {
		return
	}
	switch {
	case sig == linux.SIGKILL:
		p.kill(sig, "")
		if p != m.cur {
			m.exitDone(p)
		}
		return
	case sig == linux.SIGCONT:
		p.sigPending &^= sigBit(linux.SIGSTOP) | sigBit(linux.SIGTSTP) | sigBit(linux.SIGTTIN) | sigBit(linux.SIGTTOU)
		if p.state == stateStopped {
			p.setState(stateRunnable)
			if par := p.parent; par != nil {
				m.notify(childKey{par})
			}
		}
	case defaultActionOf(sig) == actStop:
		p.sigPending &^= sigBit(linux.SIGCONT)
	}
	if p.ignored(sig) && p.sigMask&sigBit(sig) == 0 {
		return
	}
	p.sigPending |= sigBit(sig)
	if p.sigMask&sigBit(sig) != 0 {
		return
	}
	if p.state == stateBlocked {
		p.wake()
	}
	if p == m.cur {
		p.stop = true // deliver before the process runs on
	}
}

// deliverSignals acts on the pending, unblocked signals before p runs. It
// returns whether p may run now.
func (p *Process) deliverSignals() bool {
	for p.state == stateRunnable && !p.exited {
		ready := p.sigPending &^ (p.sigMask &^ unblockable)
		if ready == 0 {
			break
		}
		sig := linux.Signal(bits.TrailingZeros64(ready) + 1)
		p.sigPending &^= sigBit(sig)
		act := p.sigacts[sig]
		switch {
		case act.handler == sigIGN:
			continue
		case act.handler == sigDFL || sig == linux.SIGKILL || sig == linux.SIGSTOP:
			switch defaultActionOf(sig) {
			case actIgnore, actCont:
				continue
			case actStop:
				p.stopSig, p.stopReported = sig, false
				p.setState(stateStopped)
				if par := p.parent; par != nil {
					if par.sigacts[linux.SIGCHLD].flags&saNOCLDSTOP == 0 {
						par.sendSignal(linux.SIGCHLD)
					}
					p.m.notify(childKey{par})
				}
				return false
			default:
				p.kill(sig, "")
				return false
			}
		default:
			if err := p.setupFrame(sig, act); err != nil {
				p.kill(linux.SIGSEGV, fmt.Sprintf("cannot deliver %s: %v", sig, err))
				return false
			}
			return true
		}
	}
	return p.state == stateRunnable && !p.exited
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
	case linux.SysNanosleep, linux.SysClockNanosleep, linux.SysPpoll, linux.SysPselect6, linux.SysRtSigsuspend:
		return true
	}
	return false
}

// setupFrame builds an rt_sigframe on the user stack and enters the
// handler, as Linux's setup_rt_frame does.
func (p *Process) setupFrame(sig linux.Signal, act sigaction) error {
	restorer := act.restorer
	if act.flags&saRESTORER == 0 || restorer == 0 {
		var err error
		if restorer, err = p.sigtramp(); err != nil {
			return err
		}
	}
	regs := make([]uint64, len(cpuRegs))
	if err := p.eng.ReadRegs(cpuRegs, regs); err != nil {
		return err
	}
	const iPC, iSP, iNZCV, iFPCR, iFPSR = 32, 31, 33, 35, 36
	if p.rewound {
		// Interrupted in a blocking system call (PC is at its svc).
		nr := regs[8]
		if act.flags&saRESTART == 0 || noRestart(nr) {
			eintr := int64(linux.EINTR)
			regs[0] = uint64(-eintr)
			regs[iPC] += 4
			p.deadline = 0
		}
		p.rewound = false
	}
	sp := regs[iSP]
	if act.flags&saONSTACK != 0 && p.altStack.flags&ssDisable == 0 && p.altStack.size != 0 &&
		!(sp > p.altStack.sp && sp <= p.altStack.sp+p.altStack.size) {
		sp = p.altStack.sp + p.altStack.size
	}
	next := (sp - 16) &^ 15
	frame := (next - frameSize) &^ 15
	b := make([]byte, frameSize)
	put32(b[frameSiginfo:], uint32(sig))
	put32(b[frameSiginfo+8:], 0) // SI_USER
	put64(b[ucStack:], p.altStack.sp)
	put32(b[ucStack+8:], uint32(p.altStack.flags))
	put64(b[ucStack+16:], p.altStack.size)
	if p.suspended { // rt_sigsuspend: the handler returns to the old mask
		p.sigMask, p.suspended = p.savedMask, false
	}
	put64(b[ucSigmask:], p.sigMask)
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
	if ve, ok := p.eng.(vregEngine); ok {
		var v cpu.VRegs
		if err := ve.ReadVRegs(&v); err != nil {
			return err
		}
		for i := range v {
			copy(r[16+16*i:], v[i][:])
		}
	}
	// The end record (magic 0, size 0) follows and is already zero.
	var rec [16]byte
	put64(rec[0:], regs[29])
	put64(rec[8:], regs[30])
	if err := p.copyOut(next, rec[:]); err != nil {
		return err
	}
	if err := p.copyOut(frame, b); err != nil {
		return err
	}
	out := []cpu.Reg{cpu.X0, cpu.X1, cpu.X2, cpu.X29, cpu.X30, cpu.SP, cpu.PC}
	vals := []uint64{uint64(sig), frame + frameSiginfo, frame + frameUcontext, next, restorer, frame, act.handler}
	if err := p.eng.WriteRegs(out, vals); err != nil {
		return err
	}
	if act.flags&saNODEFER == 0 {
		p.sigMask |= sigBit(sig)
	}
	p.sigMask = (p.sigMask | act.mask) &^ unblockable
	if act.flags&saRESETHAND != 0 {
		p.sigacts[sig] = sigaction{}
	}
	return nil
}

// sigtrampAddr is where the signal return trampoline is mapped (the page
// above the stack), standing in for the vDSO's __kernel_rt_sigreturn that
// glibc on arm64 relies on instead of SA_RESTORER.
const sigtrampAddr = stackTop

// sigtramp maps the trampoline (mov x8, #139; svc #0) on first use and
// returns its address.
func (p *Process) sigtramp() (uint64, error) {
	if p.as.check(sigtrampAddr, 8, cpu.ProtExec) {
		return sigtrampAddr, nil
	}
	if p.as.overlaps(sigtrampAddr, sigtrampAddr+pageSize) {
		return 0, fmt.Errorf("the trampoline page %#x is taken", uint64(sigtrampAddr))
	}
	if err := p.as.mapFixed(sigtrampAddr, pageSize, cpu.ProtRead|cpu.ProtExec, "[vdso]", 0); err != nil {
		return 0, err
	}
	var code [8]byte
	put32(code[0:], 0xd2801168) // mov x8, #139 (rt_sigreturn)
	put32(code[4:], 0xd4000001) // svc #0
	return sigtrampAddr, p.eng.WriteMem(sigtrampAddr, code[:])
}

// sigreturn restores the state saved by setupFrame from the frame at SP.
func (p *Process) sigreturn() (uint64, error) {
	sp, err := p.eng.Reg(cpu.SP)
	if err != nil {
		return 0, err
	}
	b := make([]byte, frameSize)
	if sp&15 != 0 || p.copyIn(sp, b) != nil {
		p.kill(linux.SIGSEGV, fmt.Sprintf("rt_sigreturn with a bad frame at sp=%#x", sp))
		return 0, nil
	}
	regs := make([]uint64, 34)
	for i := 0; i < 31; i++ {
		regs[i] = le64(b[mcRegs+8*i:])
	}
	regs[31] = le64(b[mcSP:])
	regs[32] = le64(b[mcPC:])
	regs[33] = le64(b[mcPstate:]) & 0xf000_0000
	if err := p.eng.WriteRegs(cpuRegs[:34], regs); err != nil {
		return 0, err
	}
	r := b[mcReserved:]
	if leU32(r[0:]) == fpsimdMagic && leU32(r[4:]) == fpsimdSize {
		p.eng.WriteRegs([]cpu.Reg{cpu.FPSR, cpu.FPCR}, []uint64{uint64(leU32(r[8:])), uint64(leU32(r[12:]))})
		if ve, ok := p.eng.(vregEngine); ok {
			var v cpu.VRegs
			for i := range v {
				copy(v[i][:], r[16+16*i:])
			}
			if err := ve.WriteVRegs(&v); err != nil {
				return 0, err
			}
		}
	}
	p.sigMask = le64(b[ucSigmask:]) &^ unblockable
	ss := sigStack{sp: le64(b[ucStack:]), flags: int32(leU32(b[ucStack+8:])), size: le64(b[ucStack+16:])}
	if ss.flags&ssDisable != 0 || ss.size >= minSigStk {
		p.altStack = ss
	}
	p.stop = true // resume at the restored PC; pending signals get a chance
	return regs[0], nil
}

// Interrupt sends SIGINT to the foreground processes (the process groups
// of the programs started with Spawn), as Ctrl-C on the console does. It is
// safe to call from another goroutine; the signal is delivered at the next
// scheduling decision.
func (m *Machine) Interrupt() {
	m.interrupts.Add(1)
}

// deliverInterrupts turns pending Interrupt calls into SIGINTs.
func (m *Machine) deliverInterrupts() {
	if m.interrupts.Swap(0) == 0 {
		return
	}
	groups := map[int]bool{}
	procs := m.liveProcs()
	for _, p := range procs {
		if p.hostOwned && !p.background {
			groups[p.pgid] = true
		}
	}
	for _, p := range procs {
		if groups[p.pgid] {
			p.sendSignal(linux.SIGINT)
		}
	}
}

func leU32(b []byte) uint32 { return uint32(le64(append(b[:4:4], 0, 0, 0, 0))) }
