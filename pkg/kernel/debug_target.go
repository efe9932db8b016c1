package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// The gdbstub.Target methods. Every one but Attach, Interrupt, Events and
// the option setters runs on the parked machine goroutine (call).

// Attach stops the machine at its next stop point and debugs every guest
// process. It waits while no goroutine runs the machine.
func (d *debugger) Attach() (gdbstub.StopEvent, error) {
	d.mu.Lock()
	d.attaching++
	d.mu.Unlock()
	d.on.Store(true)
	d.stopReq.Store(true)
	d.kick()
	var ev gdbstub.StopEvent
	var err error
	req := debugReq{f: func() { ev, err = d.attach() }, done: make(chan struct{})}
	d.reqs <- req // taken once the machine goroutine parks
	<-req.done
	d.mu.Lock()
	d.attaching--
	d.mu.Unlock()
	return ev, err
}

// attach debugs every live guest process and says why the machine stopped.
func (d *debugger) attach() (gdbstub.StopEvent, error) {
	d.mu.Lock()
	d.sessions++
	d.waitAttach = false
	d.resumed = false
	d.intr = false
	d.stopReq.Store(false) // this is the stop it asked for
	scope := d.scope
	d.mu.Unlock()
	for _, p := range d.m.liveProcs() {
		if p.zombie || len(p.tasks) == 0 || d.debugged(p.PID) || scope != 0 && p.PID != scope {
			continue
		}
		d.procs[p.PID] = &debugProc{attached: p.ran()}
	}
	if len(d.procs) == 0 {
		d.release(0)
		return gdbstub.StopEvent{}, errors.New("kernel: no guest process to debug")
	}
	d.resume = gdbstub.Resume{}
	d.recordAttach()
	for _, pid := range d.pids() {
		p := d.m.lookup(pid)
		if p != nil && !p.ran() {
			return gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: linux.SIGTRAP, Thread: threadID(sortedTasks(p)[0])}, nil
		}
	}
	return gdbstub.StopEvent{Kind: gdbstub.StopSignal, Signal: linux.SIGINT, Thread: d.interruptThread()}, nil
}

// ran reports whether any thread of p has run an instruction.
func (p *Process) ran() bool {
	if p.deadNs > 0 {
		return true
	}
	for _, t := range p.tasks {
		if t.insns > 0 {
			return true
		}
	}
	return false
}

// sortedTasks returns p's live threads by TID.
func sortedTasks(p *Process) []*Task {
	ts := append([]*Task(nil), p.tasks...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].TID < ts[j].TID })
	return ts
}

// Capabilities: fork, vfork and exec events and system call stops always;
// reverse execution in a recording session of a deterministic machine.
func (d *debugger) Capabilities() gdbstub.Capabilities {
	return gdbstub.Capabilities{ForkEvents: true, VForkEvents: true, ExecEvents: true, SyscallCatch: true, Reverse: d.rec != nil}
}

// SetOptions sets the events and signal handling the debugger asked for.
// A change of the system calls caught is not recorded: their stops leave
// the run as it was (debug_syscall.go).
func (d *debugger) SetOptions(o gdbstub.Options) error {
	d.mu.Lock()
	changed := !sameOptions(runOptions(d.opts), runOptions(o))
	d.opts = o
	d.catching.Store(o.CatchSyscalls)
	d.mu.Unlock()
	if changed && d.rec != nil {
		d.call(func() { d.record(effect{kind: effOptions, opts: o}) })
	}
	return nil
}

// runOptions returns the options that change the run: o without the
// system calls caught.
func runOptions(o gdbstub.Options) gdbstub.Options {
	o.CatchSyscalls, o.Syscalls = false, nil
	return o
}

// sameOptions reports whether two option sets are the same.
func sameOptions(a, b gdbstub.Options) bool {
	if a.ForkEvents != b.ForkEvents || a.VForkEvents != b.VForkEvents || a.ExecEvents != b.ExecEvents ||
		a.CatchSyscalls != b.CatchSyscalls || len(a.PassSignals) != len(b.PassSignals) {
		return false
	}
	for i := range a.PassSignals {
		if a.PassSignals[i] != b.PassSignals[i] {
			return false
		}
	}
	return true
}

// options returns the current options.
func (d *debugger) options() gdbstub.Options {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opts
}

// passes reports whether sig goes to the guest without stopping it.
func (d *debugger) passes(sig linux.Signal) bool {
	if sig == linux.SIGKILL {
		return true
	}
	for _, s := range d.options().PassSignals {
		if s == sig {
			return true
		}
	}
	return false
}

func (d *debugger) Processes() ([]gdbstub.Process, error) {
	var out []gdbstub.Process
	err := d.call(func() {
		for _, pid := range d.pids() {
			p := d.m.lookup(pid)
			if p == nil || p.zombie || len(p.tasks) == 0 {
				continue
			}
			gp := gdbstub.Process{Pid: pid, Attached: d.procs[pid].attached}
			for _, t := range sortedTasks(p) {
				gp.Threads = append(gp.Threads, gdbstub.Thread{ID: threadID(t), Name: t.commName()})
			}
			out = append(out, gp)
		}
	})
	if errors.Is(err, errTargetRunning) {
		return nil, nil // nothing is debugged: the machine runs on
	}
	return out, err
}

// debugRegs are the registers gdb sees, in cpu.Reg terms: x0..x30, sp,
// pc, then NZCV, FPSR and FPCR.
var debugRegs = func() []cpu.Reg {
	r := make([]cpu.Reg, 0, 36)
	for i := cpu.X0; i <= cpu.X30; i++ {
		r = append(r, i)
	}
	return append(r, cpu.SP, cpu.PC, cpu.NZCV, cpu.FPSR, cpu.FPCR)
}()

// readRegs returns t's registers: the CPU's if t is loaded, else its
// saved context.
func (m *Machine) readRegs(t *Task) (gdbstub.Registers, error) {
	var r gdbstub.Registers
	vals := make([]uint64, len(debugRegs))
	var v cpu.VRegs
	if m.cpuTask == t {
		if err := m.cpu.ReadRegs(debugRegs, vals); err != nil {
			return r, err
		}
		if err := m.cpu.ReadVRegs(&v); err != nil {
			return r, err
		}
	} else {
		for i, reg := range debugRegs[:34] {
			vals[i] = t.ctx.Reg(reg)
		}
		var err error
		if vals[34], vals[35], err = m.cpu.ContextFPStatus(t.ctx); err != nil {
			return r, err
		}
		t.ctx.VRegs(&v)
	}
	copy(r.X[:], vals[:31])
	r.SP, r.PC = vals[31], vals[32]
	r.CPSR, r.FPSR, r.FPCR = uint32(vals[33]), uint32(vals[34]), uint32(vals[35])
	r.V = v
	return r, nil
}

// writeRegs sets t's registers.
func (m *Machine) writeRegs(t *Task, r *gdbstub.Registers) error {
	vals := make([]uint64, len(debugRegs))
	copy(vals, r.X[:])
	vals[31], vals[32] = r.SP, r.PC
	vals[33], vals[34], vals[35] = uint64(r.CPSR&0xf000_0000), uint64(r.FPSR), uint64(r.FPCR)
	v := cpu.VRegs(r.V)
	if m.cpuTask == t {
		if err := m.cpu.WriteRegs(debugRegs, vals); err != nil {
			return err
		}
		return m.cpu.WriteVRegs(&v)
	}
	for i, reg := range debugRegs[:34] {
		t.ctx.SetReg(reg, vals[i])
	}
	t.ctx.SetVRegs(&v)
	return m.cpu.SetContextFPStatus(t.ctx, vals[34], vals[35])
}

func (d *debugger) ReadRegisters(id gdbstub.ThreadID) (r gdbstub.Registers, err error) {
	if cerr := d.call(func() {
		var t *Task
		if t, err = d.liveTask(id); err == nil {
			r, err = d.m.readRegs(t)
		}
	}); cerr != nil {
		return r, cerr
	}
	return r, err
}

func (d *debugger) WriteRegisters(id gdbstub.ThreadID, r *gdbstub.Registers) (err error) {
	if cerr := d.call(func() {
		var t *Task
		if t, err = d.liveTask(id); err == nil {
			if err = d.m.writeRegs(t, r); err == nil {
				d.recordRegs(t, r)
			}
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

func (d *debugger) ReadMemory(pid int, addr uint64, buf []byte) (n int, err error) {
	if cerr := d.call(func() {
		var p *Process
		if p, err = d.liveProc(pid); err == nil {
			n, err = p.as.peek(addr, buf)
		}
	}); cerr != nil {
		return 0, cerr
	}
	return n, err
}

// peek reads memory as a debugger does: protections do not matter, and
// nothing changes (a page not in memory yet reads as the guest would see
// it, without being faulted in). It returns the bytes read.
func (as *addressSpace) peek(addr uint64, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		if a < addr || a >= maxUserAddr {
			return n, linux.EFAULT
		}
		page := pageDown(a)
		off := int(a - page)
		chunk := buf[n:min(len(buf), n+pageSize-off)]
		if pte := as.pt.Lookup(page); pte&cpu.PTEValid != 0 {
			copy(chunk, as.ram.Page(cpu.PTEFrame(pte))[off:])
		} else if err := as.peekUnmapped(page, off, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
	}
	return n, nil
}

// peekUnmapped reads a page that has no frame yet from what would fill
// it: zeros for anonymous memory, the file for a file mapping.
func (as *addressSpace) peekUnmapped(page uint64, off int, b []byte) error {
	v := as.find(page)
	if v == nil {
		return linux.EFAULT
	}
	clear(b)
	o := v.obj
	if o == nil {
		return nil
	}
	i := v.objIndex(page)
	if f, ok := o.anon[i]; ok {
		copy(b, as.ram.Page(f)[off:])
		return nil
	}
	var r interface {
		ReadAt([]byte, int64) (int, error)
	}
	switch {
	case o.host != nil:
		r = o.host
	case o.of != nil:
		if vf, ok := o.of.f.(*vfs.File); ok {
			r = vf
		}
	}
	if r != nil {
		r.ReadAt(b, int64(i*pageSize)+int64(off)) // past the end reads as zeros
	}
	return nil
}

func (d *debugger) WriteMemory(pid int, addr uint64, data []byte) (err error) {
	if cerr := d.call(func() {
		var p *Process
		if p, err = d.liveProc(pid); err == nil {
			if err = p.pokeText(addr, data); err == nil {
				d.recordMem(pid, addr, data)
			}
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

func (d *debugger) InsertBreakpoint(b gdbstub.Breakpoint) (err error) {
	if cerr := d.call(func() { err = d.insert(b) }); cerr != nil {
		return cerr
	}
	return err
}

func (d *debugger) RemoveBreakpoint(b gdbstub.Breakpoint) error {
	d.call(func() { d.remove(b) }) // a process gone has none: not an error
	return nil
}

// insert adds a breakpoint or watchpoint.
func (d *debugger) insert(b gdbstub.Breakpoint) error {
	p, err := d.liveProc(b.Pid)
	if err != nil {
		return err
	}
	if b.Kind.IsWatch() {
		if b.Len == 0 || b.Len > 1<<16 || b.Addr+b.Len < b.Addr || b.Addr+b.Len > maxUserAddr {
			return fmt.Errorf("kernel: cannot watch %d bytes at %#x", b.Len, b.Addr)
		}
		d.watches[b] = true
		if err := d.updateWatches(); err != nil {
			delete(d.watches, b)
			d.updateWatches()
			return err
		}
		return nil
	}
	if b.Addr%4 != 0 || b.Addr >= maxUserAddr {
		return fmt.Errorf("kernel: no instruction at %#x", b.Addr)
	}
	k := bpKey{b.Pid, b.Addr}
	bp := d.bps[k]
	if bp == nil {
		h, err := d.hook(k)
		if err != nil {
			return err
		}
		bp = &debugBP{bp: h}
		d.bps[k] = bp
		d.dropCode(p, b.Addr)
	}
	if b.Kind == gdbstub.BreakHardware {
		bp.hw = true
	} else {
		bp.sw = true
	}
	bp.bp.SetActive(true)
	return nil
}

// hook returns a CPU breakpoint for k: an idle one, or a new hook.
func (d *debugger) hook(k bpKey) (*cpu.Breakpoint, error) {
	for i, h := range d.idle {
		if h.Pid() == k.pid && h.Addr() == k.addr {
			d.idle = append(d.idle[:i], d.idle[i+1:]...)
			return h, nil
		}
	}
	return d.m.cpu.AddBreakpoint(k.pid, k.addr)
}

// dropCode drops code the CPU translated from the instruction at addr of
// p, so that its breakpoint's hook is in the next translation. The CPU
// finds translated code by frame and address: a page p has not faulted in
// yet may get a frame another process ran the same code from (a file's
// page), whose code goes too.
func (d *debugger) dropCode(p *Process, addr uint64) {
	off := addr - pageDown(addr)
	if pte := p.as.pt.Lookup(pageDown(addr)); pte&cpu.PTEValid != 0 {
		d.m.cpu.Invalidate(cpu.PTEFrame(pte).Addr()+off, 4)
		return
	}
	v := p.as.find(addr)
	if v == nil || v.obj == nil {
		return // anonymous memory: a new frame, or one whose code went when it was freed
	}
	o, i := v.obj, v.objIndex(pageDown(addr))
	if f, ok := o.anon[i]; ok {
		d.m.cpu.Invalidate(f.Addr()+off, 4)
	} else if o.pager != nil {
		if f, err := o.pager.Page(i); err == nil {
			d.m.cpu.Invalidate(f.Addr()+off, 4)
			d.m.ram.Unref(f)
		}
	}
}

// remove removes a breakpoint or watchpoint.
func (d *debugger) remove(b gdbstub.Breakpoint) {
	if b.Kind.IsWatch() {
		if d.watches[b] {
			delete(d.watches, b)
			d.updateWatches()
		}
		return
	}
	k := bpKey{b.Pid, b.Addr}
	bp := d.bps[k]
	if bp == nil {
		return
	}
	if b.Kind == gdbstub.BreakHardware {
		bp.hw = false
	} else {
		bp.sw = false
	}
	if !bp.sw && !bp.hw {
		d.dropBP(k, bp)
	}
}

// dropBP turns a breakpoint's hook off and keeps it for reuse.
func (d *debugger) dropBP(k bpKey, bp *debugBP) {
	bp.bp.SetActive(false)
	delete(d.bps, k)
	d.idle = append(d.idle, bp.bp)
}

// deleteIdleHooks deletes the hooks of removed breakpoints (only while
// the CPU does not run), keeping at most keep of them.
func (d *debugger) trimIdleHooks(keep int) {
	for len(d.idle) > keep {
		h := d.idle[0]
		d.idle = d.idle[1:]
		if err := h.Delete(); err != nil {
			d.m.kernelError(fmt.Errorf("debugger: %w", err))
		}
	}
}

func (d *debugger) deleteIdleHooks() { d.trimIdleHooks(0) }

// updateWatches gives the CPU the watched pages.
func (d *debugger) updateWatches() error {
	type key struct {
		page uint64
		pid  int
	}
	acc := map[key]*cpu.WatchPage{}
	var keys []key
	for w := range d.watches {
		for pg := w.Addr &^ (cpu.WatchPageSize - 1); pg < w.Addr+w.Len; pg += cpu.WatchPageSize {
			k := key{pg, w.Pid}
			wp := acc[k]
			if wp == nil {
				wp = &cpu.WatchPage{Page: pg, Pid: w.Pid}
				acc[k] = wp
				keys = append(keys, k)
			}
			wp.Read = wp.Read || w.Kind != gdbstub.WatchWrite
			wp.Write = wp.Write || w.Kind != gdbstub.WatchRead
		}
	}
	if len(keys) > cpu.MaxWatchPages {
		return fmt.Errorf("kernel: watchpoints on more than %d pages of %d bytes", cpu.MaxWatchPages, cpu.WatchPageSize)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pid != keys[j].pid {
			return keys[i].pid < keys[j].pid
		}
		return keys[i].page < keys[j].page
	})
	d.wpages = d.wpages[:0]
	for _, k := range keys {
		d.wpages = append(d.wpages, *acc[k])
	}
	return d.m.cpu.SetWatches(d.wpages)
}

// Resume lets the machine run on as r says.
func (d *debugger) Resume(r gdbstub.Resume) error {
	if r.Reverse {
		if d.rec == nil {
			return gdbstub.ErrUnsupported
		}
		return d.reverse(r)
	}
	return d.call(func() { d.applyResume(r) })
}

// applyResume records the resume's actions; the machine goroutine goes on
// when the request returns.
func (d *debugger) applyResume(r gdbstub.Resume) {
	d.recordResume(r)
	d.setResume(r, true)
	d.mu.Lock()
	d.resumed = true
	d.resumeNow = true
	d.parked = false
	d.mu.Unlock()
}

// setResume makes r the actions the threads follow (live: the debugger's;
// else a recorded one, whose steps ended long ago).
func (d *debugger) setResume(r gdbstub.Resume, live bool) {
	d.resume = r
	now := d.m.clock.Now()
	for _, pid := range d.pids() {
		p := d.m.lookup(pid)
		if p == nil {
			continue
		}
		for _, t := range p.tasks {
			act, ok := r.ActionFor(threadID(t))
			ts := d.task(t)
			if ok {
				ts.held = false
				if ts.sig != 0 {
					ts.sigSet, ts.deliver = true, act.Signal
				} else if act.Signal != 0 {
					ts.approved |= sigBit(act.Signal)
					t.sendSignal(act.Signal, siginfo{code: siUser})
				}
				ts.step = live && act.Kind == gdbstub.ActionStep
				ts.stepped = false
			}
			if t.srv != nil {
				d.m.sched.SetRunnable(t.srv, t.state == taskRunnable, now)
			}
		}
	}
}

// Interrupt asks the running machine to stop (Ctrl-C).
func (d *debugger) Interrupt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.parked || !d.resumed {
		return // stopped already
	}
	d.intr = true
	d.stopReq.Store(true)
	d.kick()
}

func (d *debugger) Events() <-chan gdbstub.StopEvent { return d.events }

// Kill ends process pid as SIGKILL does, reporting nothing.
func (d *debugger) Kill(pid int) (err error) {
	if cerr := d.call(func() {
		var p *Process
		if p, err = d.liveProc(pid); err != nil {
			return
		}
		d.recordKill(pid)
		d.release(pid)
		p.kill(linux.SIGKILL, "")
	}); cerr != nil {
		return cerr
	}
	return err
}

// Detach lets process pid run freely.
func (d *debugger) Detach(pid int) (err error) {
	if cerr := d.call(func() {
		if !d.debugged(pid) {
			err = fmt.Errorf("process %d is not debugged", pid)
			return
		}
		d.recordDetach(pid)
		d.release(pid)
	}); cerr != nil {
		return cerr
	}
	return err
}

// The optional interfaces.

// Auxv returns the auxiliary vector the process's program started with.
func (d *debugger) Auxv(pid int) (out []byte, err error) {
	if cerr := d.call(func() {
		var p *Process
		if p, err = d.liveProc(pid); err == nil {
			for _, a := range p.auxv {
				out = binary.LittleEndian.AppendUint64(out, a[0])
				out = binary.LittleEndian.AppendUint64(out, a[1])
			}
			if len(out) == 0 {
				err = fmt.Errorf("process %d has no auxiliary vector", pid)
			}
		}
	}); cerr != nil {
		return nil, cerr
	}
	return out, err
}

// Siginfo returns the information of the signal thread id stopped for:
// the signal's own, or for a stop of the debugger's (a breakpoint, a
// watchpoint, a step) the SIGTRAP Linux reports for it.
func (d *debugger) Siginfo(id gdbstub.ThreadID) (out []byte, err error) {
	d.mu.Lock()
	last := d.lastStop
	d.mu.Unlock()
	if cerr := d.call(func() {
		var t *Task
		if t, err = d.liveTask(id); err != nil {
			return
		}
		var info siginfo
		if ts := d.tasks[t]; ts != nil && ts.sig != 0 {
			info = ts.info
		} else if last.Thread == id {
			regs, _ := d.m.readRegs(t)
			pc := regs.PC
			switch last.Kind {
			case gdbstub.StopBreakpoint:
				info = siginfo{signo: linux.SIGTRAP, code: trapBrkpt, addr: pc}
			case gdbstub.StopWatchpoint:
				info = siginfo{signo: linux.SIGTRAP, code: trapHwBkpt, addr: last.Addr}
			case gdbstub.StopSignal:
				switch last.Signal {
				case linux.SIGTRAP:
					info = siginfo{signo: linux.SIGTRAP, code: trapTrace, addr: pc}
				case linux.SIGINT: // the debugger's interrupt
					info = siginfo{signo: linux.SIGINT, code: siKernel}
				}
			case gdbstub.StopSyscallEntry, gdbstub.StopSyscallReturn:
				// As ptrace's syscall stops with PTRACE_O_TRACESYSGOOD.
				info = siginfo{signo: linux.SIGTRAP, code: int32(linux.SIGTRAP) | 0x80}
			case gdbstub.StopFork, gdbstub.StopVFork, gdbstub.StopExec:
				info = siginfo{signo: linux.SIGTRAP, code: int32(linux.SIGTRAP) | ptraceEvent(last.Kind)<<8}
			}
		}
		if info.signo == 0 {
			err = fmt.Errorf("thread %d.%d did not stop for a signal", id.Pid, id.Tid)
			return
		}
		out = make([]byte, 128)
		info.marshal(out)
	}); cerr != nil {
		return nil, cerr
	}
	return out, err
}

// ptraceEvent is the PTRACE_EVENT_* of a fork, vfork or exec stop.
func ptraceEvent(k gdbstub.StopKind) int32 {
	switch k {
	case gdbstub.StopFork:
		return 1
	case gdbstub.StopVFork:
		return 2
	}
	return 4 // PTRACE_EVENT_EXEC
}

// ExecFile returns the process's program.
func (d *debugger) ExecFile(pid int) (exe string, err error) {
	if cerr := d.call(func() {
		var p *Process
		if p, err = d.liveProc(pid); err == nil {
			exe = p.exe
		}
	}); cerr != nil {
		return "", cerr
	}
	return exe, err
}

// MemoryMap is the user address range above the null guard page.
func (d *debugger) MemoryMap(pid int) ([]gdbstub.MemoryRegion, error) {
	return []gdbstub.MemoryRegion{{Start: pageSize, Length: maxUserAddr - pageSize}}, nil
}

// OpenFile opens a guest file as process pid sees it (relative paths from
// its working directory; pid 0: the root).
func (d *debugger) OpenFile(pid int, name string) (f gdbstub.File, err error) {
	err = d.inFileView(pid, func(ctx *vfs.Ctx, cwd string) error {
		vf, err := d.m.fs.OpenAt(ctx, cwd, name, linux.O_RDONLY, 0)
		if err == nil {
			f = debugFile{d: d, m: d.m, f: vf}
		}
		return err
	})
	return f, err
}

// Readlink reads a symbolic link as process pid sees it (0: from the
// machine's root).
func (d *debugger) Readlink(pid int, name string) (target string, err error) {
	err = d.inFileView(pid, func(ctx *vfs.Ctx, cwd string) error {
		target, err = d.m.fs.ReadlinkAt(ctx, cwd, name)
		return err
	})
	return target, err
}

// inFileView runs f on the stopped machine with how process pid sees the
// file system (0: the machine's root): its credentials and working
// directory.
func (d *debugger) inFileView(pid int, f func(ctx *vfs.Ctx, cwd string) error) error {
	var err error
	if cerr := d.call(func() {
		ctx, cwd := &vfs.Ctx{}, "/"
		if pid != 0 {
			var p *Process
			if p, err = d.liveProc(pid); err != nil {
				return
			}
			cwd, ctx = p.cwd, &vfs.Ctx{PID: pid}
		}
		err = f(ctx, cwd)
	}); cerr != nil {
		return cerr
	}
	return err
}

// debugFile is a guest file open for the debugger. Its requests run on
// the stopped machine that opened it; once a session has gone back to
// another machine, it is closed (EBADF).
type debugFile struct {
	d *debugger
	m *Machine
	f *vfs.File
}

// on runs op on the stopped machine of the file.
func (f debugFile) on(op func() error) error {
	var err error
	if cerr := f.d.call(func() {
		if f.d.m != f.m {
			err = linux.EBADF
			return
		}
		err = op()
	}); cerr != nil {
		return cerr
	}
	return err
}

func (f debugFile) ReadAt(b []byte, off int64) (n int, err error) {
	err = f.on(func() (err error) {
		n, err = f.f.ReadAt(b, off)
		return err
	})
	return n, err
}

func (f debugFile) Stat() (fs.FileInfo, error) {
	var a vfs.Attr
	if err := f.on(func() (err error) {
		a, err = f.f.Stat()
		return err
	}); err != nil {
		return nil, err
	}
	return debugFileInfo{name: path.Base(f.f.Path), a: a}, nil
}

// Close closes the file on its machine, now if it is stopped, else as
// soon as it can (the debugger closes its files as it goes).
func (f debugFile) Close() error {
	if err := f.on(f.f.Close); err != errTargetRunning {
		return err
	}
	f.m.do(func() {
		if f.d.m == f.m {
			f.f.Close()
		}
	})
	return nil
}

type debugFileInfo struct {
	name string
	a    vfs.Attr
}

func (i debugFileInfo) Name() string       { return i.name }
func (i debugFileInfo) Size() int64        { return i.a.Size }
func (i debugFileInfo) Mode() fs.FileMode  { return fs.FileMode(i.a.Mode & 0o777) }
func (i debugFileInfo) ModTime() time.Time { return i.a.Mtime }
func (i debugFileInfo) IsDir() bool        { return i.a.IsDir() }
func (i debugFileInfo) Sys() any           { return nil }
