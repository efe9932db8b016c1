package gdbstub

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// fakeMachine is an in-memory Target for the tests: processes and threads
// run A64 code in a small deterministic interpreter (fake_cpu_test.go),
// round-robin one instruction at a time, with the few system calls the
// test programs make (write, exit, exit_group, getpid, gettid, clone for
// threads, fork and vfork, execve of a registered program). It follows the
// Target contract and records every violation of it by the stub.
type fakeMachine struct {
	mu      sync.Mutex
	procs   []*fakeProc // by PID
	nextID  int
	events  chan StopEvent
	pending []StopEvent // events that happened together with a reported one
	intr    atomic.Bool
	wake    chan struct{} // Interrupt wakes an idle run
	running atomic.Bool
	caps    Capabilities
	opts    Options
	// revErr, when set, is what a reverse resume fails with.
	revErr   error
	files    map[string][]byte
	programs map[string][]byte // execve: path -> ELF
	out      bytes.Buffer      // what guests wrote
	history  []undoRec
	maxHist  int
	attached int // Attach calls
	freeDone chan struct{}
	stopFree atomic.Bool

	violations []string
	resumes    atomic.Int32
	lastResume atomic.Pointer[Resume]
	onResume   func(n int) // called on a goroutine after the n-th Resume
	onSpin     func()      // called on a goroutine when a debugged thread first runs spinAt
	spinAt     uint64
	spun       bool
}

type fakeProc struct {
	pid      int
	name     string
	exe      string
	mem      *fakeMem
	threads  []*fakeThread
	breaks   map[Breakpoint]bool
	auxv     []byte
	attached bool // existed before the debugger
	detached bool // runs freely, reports nothing
	vforkOf  *fakeThread
}

type fakeThread struct {
	id      ThreadID
	regs    Registers
	sig     linux.Signal // the signal it stopped for
	blocked bool         // a vfork parent waiting for its child
	inSys   bool         // its system call entry stop was reported
}

// undoRec undoes one executed instruction (reverse execution).
type undoRec struct {
	p        *fakeProc
	th       *fakeThread
	regs     Registers
	writes   []memUndo
	accesses []access
}

type memUndo struct {
	addr uint64
	old  []byte
}

func newFakeMachine() *fakeMachine {
	return &fakeMachine{
		nextID:   100,
		events:   make(chan StopEvent, 1),
		wake:     make(chan struct{}, 1),
		files:    map[string][]byte{},
		programs: map[string][]byte{},
		maxHist:  1 << 14,
		caps:     Capabilities{ForkEvents: true, VForkEvents: true, ExecEvents: true, SyscallCatch: true, Reverse: true},
	}
}

// addProcess creates a process with one thread at pc.
func (m *fakeMachine) addProcess(name, exe string, pc uint64) *fakeProc {
	p := &fakeProc{pid: m.nextID, name: name, exe: exe, mem: newFakeMem(), breaks: map[Breakpoint]bool{}}
	m.nextID++
	p.threads = []*fakeThread{{id: ThreadID{p.pid, p.pid}}}
	p.threads[0].regs.PC = pc
	m.procs = append(m.procs, p)
	return p
}

// loadCode maps words of code at addr.
func (p *fakeProc) loadCode(addr uint64, words ...uint32) {
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	p.mem.mapRange(addr, uint64(len(b)))
	if err := p.mem.write(addr, b); err != nil {
		panic(err) // mapped just above
	}
}

// Stack layout of the fake processes.
const (
	fakeStackTop  = 0x7ffff000
	fakeStackSize = 0x10000
)

// loadELF loads a static ELF into p: its PT_LOAD segments, a stack with
// argc, argv, an empty environment and the auxiliary vector.
func (p *fakeProc) loadELF(image []byte) error {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return err
	}
	p.mem = newFakeMem()
	var phdr uint64
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_LOAD {
			continue
		}
		p.mem.mapRange(prog.Vaddr, prog.Memsz)
		data := make([]byte, prog.Filesz)
		if _, err := prog.ReadAt(data, 0); err != nil {
			return err
		}
		if err := p.mem.write(prog.Vaddr, data); err != nil {
			return err
		}
		if prog.Off == 0 {
			phdr = prog.Vaddr + 64 // the program headers follow the ELF header
		}
	}
	p.mem.mapRange(fakeStackTop-fakeStackSize, fakeStackSize)
	auxv := []uint64{3, phdr, 4, 56, 5, uint64(len(f.Progs)), 6, fakePageSize, 9, f.Entry, 0, 0}
	p.auxv = make([]byte, 8*len(auxv))
	for i, v := range auxv {
		binary.LittleEndian.PutUint64(p.auxv[8*i:], v)
	}
	name := append([]byte(p.exe), 0)
	strAddr := uint64(fakeStackTop - 256)
	if err := p.mem.write(strAddr, name); err != nil {
		return err
	}
	// argc, argv[0], NULL, envp NULL, auxv.
	words := append([]uint64{1, strAddr, 0, 0}, auxv...)
	sp := (strAddr - uint64(8*len(words))) &^ 15
	for i, w := range words {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], w)
		if err := p.mem.write(sp+uint64(8*i), b[:]); err != nil {
			return err
		}
	}
	p.threads = p.threads[:1]
	p.threads[0].id = ThreadID{p.pid, p.pid}
	p.threads[0].regs = Registers{PC: f.Entry, SP: sp}
	p.breaks = map[Breakpoint]bool{}
	return nil
}

// violation records a breach of the Target contract by the stub.
func (m *fakeMachine) violation(format string, args ...any) {
	m.violations = append(m.violations, fmt.Sprintf(format, args...))
}

// checkStopped records a call made while the target runs.
func (m *fakeMachine) checkStopped(what string) {
	if m.running.Load() {
		m.violation("%s called while the target runs", what)
	}
}

// proc returns the debugged process pid.
func (m *fakeMachine) proc(pid int) (*fakeProc, error) {
	for _, p := range m.procs {
		if p.pid == pid && !p.detached {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no process %d", pid)
}

// thread returns a debugged thread.
func (m *fakeMachine) thread(t ThreadID) (*fakeThread, error) {
	p, err := m.proc(t.Pid)
	if err != nil {
		return nil, err
	}
	for _, th := range p.threads {
		if th.id == t {
			return th, nil
		}
	}
	return nil, fmt.Errorf("no thread %d.%d", t.Pid, t.Tid)
}

func (m *fakeMachine) Attach() (StopEvent, error) {
	m.shutdown() // a machine running by itself stops for the debugger
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freeDone = nil
	m.stopFree.Store(false)
	if len(m.procs) == 0 {
		return StopEvent{}, errors.New("no processes")
	}
	m.attached++
	sig := linux.SIGTRAP
	if m.attached > 1 {
		sig = linux.SIGINT
		for _, p := range m.procs {
			p.detached, p.attached = false, true
		}
	}
	return StopEvent{Kind: StopSignal, Thread: m.procs[0].threads[0].id, Signal: sig}, nil
}

func (m *fakeMachine) Capabilities() Capabilities { return m.caps }

func (m *fakeMachine) SetOptions(o Options) error {
	m.checkStopped("SetOptions")
	if (o.ForkEvents && !m.caps.ForkEvents) || (o.CatchSyscalls && !m.caps.SyscallCatch) {
		m.violation("options %+v beyond capabilities", o)
	}
	m.opts = o
	return nil
}

func (m *fakeMachine) Processes() ([]Process, error) {
	m.checkStopped("Processes")
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Process
	for _, p := range m.procs {
		if p.detached {
			continue
		}
		pr := Process{Pid: p.pid, Attached: p.attached}
		for _, th := range p.threads {
			pr.Threads = append(pr.Threads, Thread{ID: th.id, Name: p.name})
		}
		out = append(out, pr)
	}
	return out, nil
}

func (m *fakeMachine) ReadRegisters(t ThreadID) (Registers, error) {
	m.checkStopped("ReadRegisters")
	m.mu.Lock()
	defer m.mu.Unlock()
	th, err := m.thread(t)
	if err != nil {
		return Registers{}, err
	}
	return th.regs, nil
}

func (m *fakeMachine) WriteRegisters(t ThreadID, r *Registers) error {
	m.checkStopped("WriteRegisters")
	m.mu.Lock()
	defer m.mu.Unlock()
	th, err := m.thread(t)
	if err != nil {
		return err
	}
	th.regs = *r
	m.history = nil // the recorded past no longer leads here
	return nil
}

func (m *fakeMachine) ReadMemory(pid int, addr uint64, buf []byte) (int, error) {
	m.checkStopped("ReadMemory")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(pid)
	if err != nil {
		return 0, err
	}
	return p.mem.read(addr, buf)
}

func (m *fakeMachine) WriteMemory(pid int, addr uint64, data []byte) error {
	m.checkStopped("WriteMemory")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(pid)
	if err != nil {
		return err
	}
	m.history = nil
	return p.mem.write(addr, data)
}

func (m *fakeMachine) InsertBreakpoint(b Breakpoint) error {
	m.checkStopped("InsertBreakpoint")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(b.Pid)
	if err != nil {
		return err
	}
	p.breaks[b] = true
	return nil
}

func (m *fakeMachine) RemoveBreakpoint(b Breakpoint) error {
	m.checkStopped("RemoveBreakpoint")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(b.Pid)
	if err != nil {
		return nil // gone: nothing to remove
	}
	delete(p.breaks, b)
	return nil
}

func (m *fakeMachine) Events() <-chan StopEvent { return m.events }

func (m *fakeMachine) Interrupt() {
	m.intr.Store(true)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *fakeMachine) Kill(pid int) error {
	m.checkStopped("Kill")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(pid)
	if err != nil {
		return err
	}
	m.removeProc(p)
	m.maybeFreeRun()
	return nil
}

func (m *fakeMachine) Detach(pid int) error {
	m.checkStopped("Detach")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(pid)
	if err != nil {
		return err
	}
	p.detached = true
	p.breaks = map[Breakpoint]bool{}
	for _, th := range p.threads {
		th.sig = 0
	}
	m.maybeFreeRun()
	return nil
}

// maybeFreeRun lets the machine run on by itself once no process is
// debugged any more.
func (m *fakeMachine) maybeFreeRun() {
	for _, q := range m.procs {
		if !q.detached {
			return
		}
	}
	if len(m.procs) == 0 || m.freeDone != nil {
		return
	}
	m.freeDone = make(chan struct{})
	go m.freeRun()
}

// shutdown stops a free run (a test's end).
func (m *fakeMachine) shutdown() {
	m.stopFree.Store(true)
	m.mu.Lock()
	done := m.freeDone
	m.mu.Unlock()
	if done != nil {
		<-done
	}
}

// freeRun runs the detached machine until every process has ended or
// Attach stops it.
func (m *fakeMachine) freeRun() {
	defer close(m.freeDone)
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.procs) > 0 && !m.stopFree.Load() {
		if _, progressed := m.round(Resume{}, nil); !progressed {
			return
		}
	}
}

func (m *fakeMachine) Resume(r Resume) error {
	m.checkStopped("Resume")
	if r.Reverse && !m.caps.Reverse {
		return ErrUnsupported
	}
	if r.Reverse && m.revErr != nil {
		return m.revErr
	}
	m.intr.Store(false)
	m.running.Store(true)
	m.lastResume.Store(&r)
	n := int(m.resumes.Add(1))
	go func() {
		m.mu.Lock()
		var ev StopEvent
		if len(m.pending) > 0 {
			ev, m.pending = m.pending[0], m.pending[1:]
		} else if r.Reverse {
			ev = m.runReverse(r)
		} else {
			ev = m.run(r)
		}
		m.maybeFreeRun()
		m.mu.Unlock()
		m.running.Store(false)
		m.events <- ev
	}()
	if m.onResume != nil {
		go m.onResume(n)
	}
	return nil
}

// output returns what the guests wrote.
func (m *fakeMachine) output() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.String()
}

// stop is an event found while running.
type stop struct {
	ev StopEvent
}

// run executes until an event of a debugged process.
func (m *fakeMachine) run(r Resume) StopEvent {
	started := map[*fakeThread]bool{}
	for {
		if m.intr.Load() {
			if th := m.firstDebugged(r); th != nil {
				return StopEvent{Kind: StopSignal, Thread: th.id, Signal: linux.SIGINT}
			}
		}
		ev, progressed := m.round(r, started)
		if ev != nil {
			return ev.ev
		}
		if !progressed {
			// Everything is stopped or blocked: idle until interrupted.
			m.mu.Unlock()
			<-m.wake
			m.mu.Lock()
		}
	}
}

// firstDebugged returns the first thread of a debugged process that the
// resume lets run (the one an interrupt is reported for).
func (m *fakeMachine) firstDebugged(r Resume) *fakeThread {
	for _, p := range m.procs {
		for _, th := range p.threads {
			if _, ok := r.ActionFor(th.id); ok && !p.detached {
				return th
			}
		}
	}
	for _, p := range m.procs {
		if !p.detached && len(p.threads) > 0 {
			return p.threads[0]
		}
	}
	return nil
}

// round runs one instruction of every runnable thread, in order.
func (m *fakeMachine) round(r Resume, started map[*fakeThread]bool) (*stop, bool) {
	procs := append([]*fakeProc(nil), m.procs...)
	progressed := false
	for _, p := range procs {
		if !m.alive(p) {
			continue
		}
		for _, th := range append([]*fakeThread(nil), p.threads...) {
			if th.blocked || !m.alive(p) {
				continue
			}
			act := Action{Kind: ActionContinue}
			if !p.detached {
				var ok bool
				if act, ok = r.ActionFor(th.id); !ok {
					continue
				}
			}
			progressed = true
			if started != nil && !started[th] {
				started[th] = true
				if s := m.startThread(p, th, act); s != nil {
					return s, true
				}
				if !m.alive(p) {
					continue
				}
			}
			if s := m.step(p, th, act); s != nil {
				return s, true
			}
			if len(m.pending) > 0 {
				ev := m.pending[0]
				m.pending = m.pending[1:]
				return &stop{ev}, true
			}
		}
	}
	return nil, progressed
}

func (m *fakeMachine) alive(p *fakeProc) bool {
	for _, q := range m.procs {
		if q == p {
			return true
		}
	}
	return false
}

// startThread applies the resume action's signal as a thread resumes.
func (m *fakeMachine) startThread(p *fakeProc, th *fakeThread, act Action) *stop {
	th.sig = 0
	if act.Signal != 0 {
		return m.deliver(p, act.Signal)
	}
	return nil
}

// deliver delivers a signal with its default action (the fake has no
// handlers): the ignored ones are dropped, the rest end the process.
func (m *fakeMachine) deliver(p *fakeProc, sig linux.Signal) *stop {
	switch sig {
	case linux.SIGCHLD, linux.SIGURG, linux.SIGWINCH, linux.SIGCONT:
		return nil
	}
	m.removeProc(p)
	if p.detached {
		return nil
	}
	return &stop{StopEvent{Kind: StopKilled, Thread: ThreadID{p.pid, p.pid}, Signal: sig}}
}

// signalStop stops a thread for a signal, or delivers it at once when the
// debugger passes it (or does not debug the process).
func (m *fakeMachine) signalStop(p *fakeProc, th *fakeThread, sig linux.Signal) *stop {
	if p.detached {
		return m.deliver(p, sig)
	}
	for _, s := range m.opts.PassSignals {
		if s == sig {
			return m.deliver(p, sig)
		}
	}
	th.sig = sig
	return &stop{StopEvent{Kind: StopSignal, Thread: th.id, Signal: sig}}
}

// step executes one instruction of th.
func (m *fakeMachine) step(p *fakeProc, th *fakeThread, act Action) *stop {
	r := &th.regs
	if !p.detached && !th.inSys {
		if k, ok := breakAt(p, r.PC); ok {
			return &stop{StopEvent{Kind: StopBreakpoint, Thread: th.id, Break: k}}
		}
	}
	var ib [4]byte
	if _, err := p.mem.read(r.PC, ib[:]); err != nil {
		return m.signalStop(p, th, linux.SIGSEGV)
	}
	insn := binary.LittleEndian.Uint32(ib[:])
	if r.PC == m.spinAt && !p.detached && !m.spun && m.onSpin != nil {
		m.spun = true
		go m.onSpin()
	}
	d := decodeAt(insn, r)
	if !p.detached {
		if b, a, ok := watchHit(p, d.accesses); ok {
			return &stop{StopEvent{Kind: StopWatchpoint, Thread: th.id, Break: b.Kind, Addr: a.addr, Size: a.size}}
		}
	}
	switch d.kind {
	case insnUndef:
		return m.signalStop(p, th, linux.SIGILL)
	case insnBRK:
		return m.signalStop(p, th, linux.SIGTRAP)
	case insnSVC:
		nr := int(r.X[8])
		catch := m.catches(p, nr)
		if catch && !th.inSys {
			th.inSys = true // PC stays at the svc
			return &stop{StopEvent{Kind: StopSyscallEntry, Thread: th.id, Syscall: nr}}
		}
		th.inSys = false
		m.history = nil // the fake records no system calls: history restarts
		r.PC += 4
		if s := m.syscall(p, th); s != nil {
			return s
		}
		if catch && m.alive(p) && !th.blocked {
			return &stop{StopEvent{Kind: StopSyscallReturn, Thread: th.id, Syscall: nr}}
		}
	default:
		rec := undoRec{p: p, th: th, regs: *r, accesses: d.accesses}
		for _, a := range d.accesses {
			if a.write {
				old := make([]byte, a.size)
				if _, err := p.mem.read(a.addr, old); err == nil {
					rec.writes = append(rec.writes, memUndo{a.addr, old})
				}
			}
		}
		if err := d.exec(r, p.mem); err != nil {
			*r = rec.regs
			return m.signalStop(p, th, linux.SIGSEGV)
		}
		if m.caps.Reverse && !p.detached {
			if len(m.history) == m.maxHist {
				m.history = m.history[1:]
			}
			m.history = append(m.history, rec)
		}
	}
	if act.Kind == ActionStep && !p.detached && m.alive(p) {
		return &stop{StopEvent{Kind: StopSignal, Thread: th.id, Signal: linux.SIGTRAP}}
	}
	return nil
}

// breakAt reports the kind of a breakpoint at pc.
func breakAt(p *fakeProc, pc uint64) (BreakKind, bool) {
	for b := range p.breaks {
		if !b.Kind.IsWatch() && b.Addr == pc {
			return b.Kind, true
		}
	}
	return 0, false
}

// catches reports whether system call nr stops the debugged process p.
func (m *fakeMachine) catches(p *fakeProc, nr int) bool {
	if p.detached || !m.opts.CatchSyscalls {
		return false
	}
	if len(m.opts.Syscalls) == 0 {
		return true
	}
	for _, n := range m.opts.Syscalls {
		if n == nr {
			return true
		}
	}
	return false
}

// watchHit finds a watchpoint that one of the accesses triggers.
func watchHit(p *fakeProc, accs []access) (Breakpoint, access, bool) {
	var bs []Breakpoint
	for b := range p.breaks {
		if b.Kind.IsWatch() {
			bs = append(bs, b)
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].Addr < bs[j].Addr })
	for _, a := range accs {
		for _, b := range bs {
			if a.addr >= b.Addr+b.Len || b.Addr >= a.addr+a.size {
				continue
			}
			if b.Kind == WatchAccess || (b.Kind == WatchWrite) == a.write {
				return b, a, true
			}
		}
	}
	return Breakpoint{}, access{}, false
}

// runReverse executes backwards through the recorded history.
func (m *fakeMachine) runReverse(r Resume) StopEvent {
	stepping := len(r.Actions) == 1 && r.Actions[0].Kind == ActionStep
	last := ThreadID{}
	if th := m.firstDebugged(r); th != nil {
		last = th.id
	}
	for {
		if len(m.history) == 0 {
			return StopEvent{Kind: StopNoHistory, Thread: last}
		}
		if m.intr.Load() {
			return StopEvent{Kind: StopSignal, Thread: last, Signal: linux.SIGINT}
		}
		rec := m.history[len(m.history)-1]
		last = rec.th.id
		if !stepping {
			// A watchpoint stops before the access is undone; the
			// debugger steps back over it itself.
			if b, a, ok := watchHit(rec.p, rec.accesses); ok {
				return StopEvent{Kind: StopWatchpoint, Thread: rec.th.id, Break: b.Kind, Addr: a.addr, Size: a.size}
			}
		}
		m.history = m.history[:len(m.history)-1]
		rec.th.regs = rec.regs
		for i := len(rec.writes) - 1; i >= 0; i-- {
			if err := rec.p.mem.write(rec.writes[i].addr, rec.writes[i].old); err != nil {
				m.violation("undo: %v", err)
			}
		}
		if stepping {
			if r.Actions[0].Matches(rec.th.id) {
				return StopEvent{Kind: StopSignal, Thread: rec.th.id, Signal: linux.SIGTRAP}
			}
			continue
		}
		if k, ok := breakAt(rec.p, rec.th.regs.PC); ok {
			return StopEvent{Kind: StopBreakpoint, Thread: rec.th.id, Break: k}
		}
	}
}

// removeProc removes an ended process; a vfork parent resumes.
func (m *fakeMachine) removeProc(p *fakeProc) {
	for i, q := range m.procs {
		if q == p {
			m.procs = append(m.procs[:i], m.procs[i+1:]...)
			break
		}
	}
	m.vforkDone(p)
	m.history = nil
}

// vforkDone releases the vfork parent of p.
func (m *fakeMachine) vforkDone(p *fakeProc) {
	parent := p.vforkOf
	if parent == nil {
		return
	}
	p.vforkOf = nil
	parent.blocked = false
	pp, err := m.proc(parent.id.Pid)
	if err == nil && !pp.detached && m.opts.VForkEvents {
		m.pending = append(m.pending, StopEvent{Kind: StopVForkDone, Thread: parent.id})
	}
}

// Linux system call numbers and clone flags the fake knows.
const (
	sysWrite     = 64
	sysExit      = 93
	sysExitGroup = 94
	sysGetpid    = 172
	sysGettid    = 178
	sysClone     = 220
	sysExecve    = 221

	cloneVM     = 0x100
	cloneVfork  = 0x4000
	cloneThread = 0x10000
)

// syscall runs the system call th made; PC is past the svc.
func (m *fakeMachine) syscall(p *fakeProc, th *fakeThread) *stop {
	r := &th.regs
	nr := int(r.X[8])
	ret := func(v int64) *stop { r.X[0] = uint64(v); return nil }
	switch nr {
	case sysWrite:
		n := min(r.X[2], 1<<16)
		buf := make([]byte, n)
		if _, err := p.mem.read(r.X[1], buf); err != nil {
			return ret(-int64(linux.EFAULT))
		}
		m.out.Write(buf)
		return ret(int64(n))
	case sysGetpid:
		return ret(int64(p.pid))
	case sysGettid:
		return ret(int64(th.id.Tid))
	case sysExit, sysExitGroup:
		if nr == sysExit && len(p.threads) > 1 {
			for i, t := range p.threads {
				if t == th {
					p.threads = append(p.threads[:i], p.threads[i+1:]...)
					break
				}
			}
			return nil
		}
		m.removeProc(p)
		if p.detached {
			return nil
		}
		return &stop{StopEvent{Kind: StopExited, Thread: ThreadID{p.pid, p.pid}, ExitCode: int(r.X[0] & 0xff)}}
	case sysClone:
		return m.clone(p, th)
	case sysExecve:
		return m.execve(p, th)
	}
	return ret(-int64(linux.ENOSYS))
}

// clone creates a thread, or forks/vforks the process.
func (m *fakeMachine) clone(p *fakeProc, th *fakeThread) *stop {
	r := &th.regs
	flags := r.X[0]
	id := m.nextID
	m.nextID++
	if flags&cloneThread != 0 {
		nt := &fakeThread{id: ThreadID{p.pid, id}, regs: *r}
		nt.regs.X[0] = 0
		if r.X[1] != 0 {
			nt.regs.SP = r.X[1]
		}
		p.threads = append(p.threads, nt)
		r.X[0] = uint64(id)
		return nil
	}
	vfork := flags&(cloneVM|cloneVfork) == cloneVM|cloneVfork
	child := &fakeProc{pid: id, name: p.name, exe: p.exe, breaks: map[Breakpoint]bool{}, auxv: p.auxv}
	if vfork {
		child.mem = p.mem
		child.vforkOf = th
		th.blocked = true
	} else {
		child.mem = p.mem.clone()
	}
	ct := &fakeThread{id: ThreadID{id, id}, regs: *r}
	ct.regs.X[0] = 0
	child.threads = []*fakeThread{ct}
	report := !p.detached && (vfork && m.opts.VForkEvents || !vfork && m.opts.ForkEvents)
	child.detached = !report
	m.procs = append(m.procs, child)
	sort.Slice(m.procs, func(i, j int) bool { return m.procs[i].pid < m.procs[j].pid })
	r.X[0] = uint64(id)
	if !report {
		return nil
	}
	kind := StopFork
	if vfork {
		kind = StopVFork
	}
	return &stop{StopEvent{Kind: kind, Thread: th.id, Child: ct.id}}
}

// execve replaces the process image with a registered program.
func (m *fakeMachine) execve(p *fakeProc, th *fakeThread) *stop {
	r := &th.regs
	var path []byte
	for i := uint64(0); i < 256; i++ {
		var c [1]byte
		if _, err := p.mem.read(r.X[0]+i, c[:]); err != nil {
			r.X[0] = negErrno(linux.EFAULT)
			return nil
		}
		if c[0] == 0 {
			break
		}
		path = append(path, c[0])
	}
	image, ok := m.programs[string(path)]
	if !ok {
		r.X[0] = negErrno(linux.ENOENT)
		return nil
	}
	p.exe = string(path)
	p.threads = []*fakeThread{th}
	if err := p.loadELF(image); err != nil {
		r.X[0] = negErrno(linux.ENOEXEC)
		return nil
	}
	m.vforkDone(p)
	if p.detached || !m.opts.ExecEvents {
		return nil
	}
	return &stop{StopEvent{Kind: StopExec, Thread: th.id, Path: p.exe}}
}

// negErrno is a system call's error return.
func negErrno(e linux.Errno) uint64 { return uint64(-int64(e)) }

// The optional interfaces.

func (m *fakeMachine) Auxv(pid int) ([]byte, error) {
	m.checkStopped("Auxv")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(pid)
	if err != nil {
		return nil, err
	}
	return p.auxv, nil
}

func (m *fakeMachine) ExecFile(pid int) (string, error) {
	m.checkStopped("ExecFile")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.proc(pid)
	if err != nil {
		return "", err
	}
	return p.exe, nil
}

func (m *fakeMachine) MemoryMap(pid int) ([]MemoryRegion, error) {
	m.checkStopped("MemoryMap")
	// The user address range above the null guard, as the contract asks.
	return []MemoryRegion{{Start: 0x1000, Length: 1<<48 - 0x1000}}, nil
}

func (m *fakeMachine) OpenFile(pid int, path string) (File, error) {
	m.checkStopped("OpenFile")
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.files[path]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(data), name: path, size: int64(len(data))}, nil
}

// memFile is an open fake file.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (fs.FileInfo, error) { return memFileInfo{f}, nil }

type memFileInfo struct{ f *memFile }

func (i memFileInfo) Name() string       { return i.f.name }
func (i memFileInfo) Size() int64        { return i.f.size }
func (i memFileInfo) Mode() fs.FileMode  { return 0o755 }
func (i memFileInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (i memFileInfo) IsDir() bool        { return false }
func (i memFileInfo) Sys() any           { return nil }

// Monitor answers "echo TEXT" with TEXT and "long" with more than a packet.
func (m *fakeMachine) Monitor(cmd string) (string, error) {
	m.checkStopped("Monitor")
	switch {
	case strings.HasPrefix(cmd, "echo "):
		return strings.TrimPrefix(cmd, "echo ") + "\n", nil
	case cmd == "long":
		return strings.Repeat("x", PacketSize) + "\n", nil
	}
	return "", fmt.Errorf("unknown command %q", cmd)
}

// Siginfo gives a siginfo_t whose first word is the thread's TID.
func (m *fakeMachine) Siginfo(t ThreadID) ([]byte, error) {
	m.checkStopped("Siginfo")
	if _, err := m.thread(t); err != nil {
		return nil, err
	}
	b := make([]byte, 128)
	b[0] = byte(t.Tid)
	return b, nil
}

// Readlink answers every path with "target-of-" and the path.
func (m *fakeMachine) Readlink(pid int, path string) (string, error) {
	m.checkStopped("Readlink")
	if pid != 0 {
		if _, err := m.proc(pid); err != nil {
			return "", err
		}
	}
	return "target-of-" + path, nil
}
