package cpu

/*
#include <stdlib.h>
#include <string.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// ucRegs maps Reg to Unicorn's register ids.
var ucRegs = func() [numRegs]C.int {
	var m [numRegs]C.int
	m[X29] = C.UC_ARM64_REG_X29
	m[X30] = C.UC_ARM64_REG_X30
	for r := X0; r <= X28; r++ {
		m[r] = C.UC_ARM64_REG_X0 + C.int(r)
	}
	m[SP] = C.UC_ARM64_REG_SP
	m[PC] = C.UC_ARM64_REG_PC
	m[NZCV] = C.UC_ARM64_REG_NZCV
	m[TPIDR] = C.UC_ARM64_REG_TPIDR_EL0
	m[FPCR] = C.UC_ARM64_REG_FPCR
	m[FPSR] = C.UC_ARM64_REG_FPSR
	return m
}()

func init() {
	if AccessRead != C.UC_MEM_READ || AccessWrite != C.UC_MEM_WRITE || AccessFetch != C.UC_MEM_FETCH {
		panic("cpu: Access values disagree with unicorn.h")
	}
}

// Error is an error code returned by libunicorn.
type Error struct {
	Op   string
	Code int
}

func (e *Error) Error() string {
	return fmt.Sprintf("unicorn %s: %s", e.Op, C.GoString(C.uc_strerror(C.uc_err(e.Code))))
}

func ucErr(op string, e C.uc_err) error {
	if e == C.UC_ERR_OK {
		return nil
	}
	return &Error{Op: op, Code: int(e)}
}

// Version returns the version of the linked libunicorn, e.g. "2.1.1".
func Version() string {
	var major, minor C.uint
	v := C.uc_version(&major, &minor)
	return fmt.Sprintf("%d.%d.%d", major, minor, (v>>8)&0xff)
}

// Clock is the machine-wide time source. In deterministic mode time is the
// count of retired instructions (times NsPerInsn) plus the time skipped by
// sleeps; in realtime mode it is the host monotonic clock since the clock
// was created.
type Clock struct {
	c *C.sis_clock
}

// NsPerInsn is the virtual duration of one instruction in deterministic
// mode: a 1 GHz machine.
const NsPerInsn = 1

// NewClock allocates a clock. Free it with Close.
func NewClock(realtime bool) *Clock {
	c := (*C.sis_clock)(C.calloc(1, C.sizeof_sis_clock))
	c.ns_per_insn = NsPerInsn
	if realtime {
		c.realtime = 1
		c.rt_base_ns = 0
		c.rt_base_ns = C.sis_clock_ns(c)
	}
	return &Clock{c: c}
}

// Realtime reports whether the clock follows the host clock.
func (k *Clock) Realtime() bool { return k.c.realtime != 0 }

// Now returns the time since the clock was created, in nanoseconds.
func (k *Clock) Now() uint64 {
	if k.c.realtime != 0 {
		return uint64(C.sis_clock_ns(k.c))
	}
	return uint64(k.c.insns)*NsPerInsn + uint64(k.c.offset_ns)
}

// Read returns the time for a guest's read of the clock: in deterministic
// mode, the time plus the read's jitter (SetJitter), never less than the
// read before.
func (k *Clock) Read() uint64 { return uint64(C.sis_clock_read(k.c)) }

// SetJitter makes each guest read of a deterministic clock (Read, and the
// CPU's CNTVCT_EL0) return 0 to max nanoseconds more than the time, drawn
// from a generator seeded with seed (and never less than the read before):
// reading a real clock gives a varying answer. The clock itself does not
// move. max 0 turns the jitter off.
func (k *Clock) SetJitter(seed uint64, max uint32) {
	if max == 0 {
		k.c.jitter = 0
		return
	}
	k.c.jitter = C.uint64_t(seed | 1) // xorshift's state must not be 0
	k.c.jitter_max = C.uint64_t(max)
}

// Insns returns the number of instructions retired on the machine (counted
// only when the CPU counts instructions).
func (k *Clock) Insns() uint64 { return uint64(k.c.insns) }

// Skip moves deterministic time forward by ns (a sleeping machine). It has no
// effect on a realtime clock.
func (k *Clock) Skip(ns uint64) {
	if k.c.realtime == 0 {
		k.c.offset_ns += C.uint64_t(ns)
	}
}

// Clone returns a new clock at the same time (a machine checkpoint's).
func (k *Clock) Clone() *Clock {
	c := (*C.sis_clock)(C.calloc(1, C.sizeof_sis_clock))
	*c = *k.c
	return &Clock{c: c}
}

// Close frees the clock; no CPU may use it afterwards.
func (k *Clock) Close() {
	if k.c != nil {
		C.free(unsafe.Pointer(k.c))
		k.c = nil
	}
}

// CPU is a machine's processor: a Unicorn AArch64 engine whose physical
// memory is the machine's RAM. Tasks share it: the kernel switches page
// tables (SetPageTable) and register contexts (Save, Load).
type CPU struct {
	s       *C.sis_cpu
	syscall SyscallHandler
	fault   FaultHandler
	// pin keeps the CPU at a fixed address: the C side holds a pointer to
	// it (sis_cpu.gou) to enter Go without a handle lookup.
	pin runtime.Pinner
	// bps are the debugger's breakpoints (debug.go), freed with the CPU.
	bps map[*Breakpoint]bool
	// scratch holds the CPU's registers while a context is loaded for a
	// read (debug.go).
	scratch *Context
}

// Options configure a new CPU.
type Options struct {
	// Clock is the machine clock; required.
	Clock *Clock
	// CountInsns installs the block counter that drives deterministic time
	// and instruction budgets. Without it the CPU runs free.
	CountInsns bool
	// RAM is the machine's physical memory (mem.RAM.Arena), mapped at
	// physical address 0; required. It must stay mapped while the CPU is
	// open.
	RAM []byte
	// Syscall handles SVC; PageFault resolves TLB misses the page table
	// cannot serve. Both are required.
	Syscall   SyscallHandler
	PageFault FaultHandler
}

// New opens a CPU.
func New(o Options) (*CPU, error) {
	if o.Clock == nil || o.Syscall == nil || o.PageFault == nil || len(o.RAM) == 0 {
		return nil, errors.New("cpu: Clock, RAM, Syscall and PageFault are required")
	}
	s := (*C.sis_cpu)(C.calloc(1, C.sizeof_sis_cpu))
	s.clock = o.Clock.c
	s.stop_at = ^C.uint64_t(0)
	s.ram = (*C.uint8_t)(unsafe.Pointer(&o.RAM[0]))
	s.ram_size = C.uint64_t(len(o.RAM))
	c := &CPU{s: s, syscall: o.Syscall, fault: o.PageFault}
	c.pin.Pin(c)
	s.gou = unsafe.Pointer(c)
	count := C.int(0)
	if o.CountInsns {
		count = 1
	}
	if err := ucErr("open", C.sis_open(s, count)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// sisGoSyscall is called by the C SVC hook with the CPU's pinned pointer;
// the arguments stay in C memory (sis_cpu.sc) for the call.
//
//export sisGoSyscall
func sisGoSyscall(p unsafe.Pointer) C.int {
	c := (*CPU)(p)
	args := (*[6]uint64)(unsafe.Pointer(&c.s.sc[0]))
	ret, act := c.syscall(uint64(c.s.sc[6]), args)
	c.s.sc_ret = C.uint64_t(ret)
	return C.int(act)
}

// sisGoPageFault is called by the C TLB-fill hook when the page table
// cannot serve an access.
//
//export sisGoPageFault
func sisGoPageFault(p unsafe.Pointer, va C.uint64_t, typ C.int) C.int {
	c := (*CPU)(p)
	if c.fault(uint64(va), Access(typ)) {
		return 1
	}
	return 0
}

// SetPageTable makes the table whose root frame is at physical address
// root the CPU's address space, flushing the TLB when it changes.
func (c *CPU) SetPageTable(root uint64) {
	if uint64(c.s.pt_root) == root {
		return
	}
	c.s.pt_root = C.uint64_t(root)
	c.FlushTLB()
}

// PageTableRoot returns the current table's root.
func (c *CPU) PageTableRoot() uint64 { return uint64(c.s.pt_root) }

// FlushTLB drops every cached translation; call it after an entry of the
// current table is removed, downgraded or pointed elsewhere.
func (c *CPU) FlushTLB() { C.sis_flush_tlb(c.s.uc) }

// Invalidate drops code translated from physical [pa, pa+n) (the RAM's
// invalidator).
func (c *CPU) Invalidate(pa, n uint64) { C.sis_invalidate(c.s, C.uint64_t(pa), C.uint64_t(n)) }

// Lookup returns the current table's leaf entry for va (0 if none), as the
// TLB fill sees it.
func (c *CPU) Lookup(va uint64) uint64 { return uint64(C.sis_pt_lookup(c.s, C.uint64_t(va))) }

// Reg returns one register of the loaded context.
func (c *CPU) Reg(r Reg) (uint64, error) {
	var v C.uint64_t
	err := ucErr("reg_read", C.uc_reg_read(c.s.uc, ucRegs[r], unsafe.Pointer(&v)))
	return uint64(v), err
}

// SetReg writes one register of the loaded context.
func (c *CPU) SetReg(r Reg, v uint64) error {
	cv := C.uint64_t(v)
	return ucErr("reg_write", C.uc_reg_write(c.s.uc, ucRegs[r], unsafe.Pointer(&cv)))
}

func (c *CPU) regBatch(regs []Reg, vals []uint64, write bool) error {
	if len(regs) != len(vals) || len(regs) > 64 {
		return errors.New("cpu: bad register batch")
	}
	if len(regs) == 0 {
		return nil
	}
	var ids [64]C.int
	for i, r := range regs {
		ids[i] = ucRegs[r]
	}
	vp := (*C.uint64_t)(unsafe.Pointer(&vals[0]))
	if write {
		return ucErr("reg_write_batch", C.sis_reg_write_batch(c.s.uc, &ids[0], vp, C.int(len(regs))))
	}
	return ucErr("reg_read_batch", C.sis_reg_read_batch(c.s.uc, &ids[0], vp, C.int(len(regs))))
}

// ReadRegs reads several registers of the loaded context in one call.
func (c *CPU) ReadRegs(regs []Reg, vals []uint64) error { return c.regBatch(regs, vals, false) }

// WriteRegs writes several registers of the loaded context in one call.
func (c *CPU) WriteRegs(regs []Reg, vals []uint64) error { return c.regBatch(regs, vals, true) }

// VRegs holds the 32 128-bit SIMD&FP registers V0..V31 (little-endian).
type VRegs [32][16]byte

// ReadVRegs reads V0..V31 of the loaded context.
func (c *CPU) ReadVRegs(v *VRegs) error {
	for i := range v {
		if err := ucErr("reg_read", C.uc_reg_read(c.s.uc, C.UC_ARM64_REG_Q0+C.int(i), unsafe.Pointer(&v[i][0]))); err != nil {
			return err
		}
	}
	return nil
}

// WriteVRegs writes V0..V31 of the loaded context.
func (c *CPU) WriteVRegs(v *VRegs) error {
	for i := range v {
		if err := ucErr("reg_write", C.uc_reg_write(c.s.uc, C.UC_ARM64_REG_Q0+C.int(i), unsafe.Pointer(&v[i][0]))); err != nil {
			return err
		}
	}
	return nil
}

// Run executes the loaded context from pc until something stops it.
func (c *CPU) Run(pc uint64) (Exit, error) {
	err := C.sis_run(c.s, C.uint64_t(pc))
	ex := Exit{Intno: uint32(c.s.intno)}
	switch c.s.stop {
	case C.SIS_STOP_REQUEST:
		ex.Reason = StopRequested
	case C.SIS_STOP_BUDGET:
		ex.Reason = StopBudget
	case C.SIS_STOP_EXCEPTION:
		ex.Reason = StopException
	case C.SIS_STOP_INVALID:
		ex.Reason = StopInvalidInsn
	case C.SIS_STOP_MEMFAULT:
		ex.Reason = StopMemFault
		ex.Fault = Fault{Access: Access(c.s.mem_type), Page: uint64(c.s.mem_addr)}
	case C.SIS_STOP_DEBUG:
		ex.Reason = StopDebug
		ex.Debug = DebugStop(c.s.dbg.stop)
		ex.Addr = uint64(c.s.dbg.addr)
		if ex.Debug == DebugWatch {
			ex.Fault = Fault{Access: Access(c.s.mem_type), Page: uint64(c.s.mem_addr)}
		}
	default:
		if err == C.UC_ERR_OK {
			// Reached the end address or Stop from outside a hook.
			ex.Reason = StopRequested
		}
	}
	if ex.Reason != 0 {
		return ex, nil
	}
	return ex, ucErr("emu_start", err)
}

// Stop asks a running CPU to stop (safe from the syscall handler).
func (c *CPU) Stop() {
	c.s.stop = C.SIS_STOP_REQUEST
	C.uc_emu_stop(c.s.uc)
}

// SetStopAt stops the CPU once the machine's instruction count reaches n
// (only when instructions are counted).
func (c *CPU) SetStopAt(n uint64) { C.sis_set_stop_at(c.s, C.uint64_t(n)) }

// Insns is the number of instructions this CPU retired.
func (c *CPU) Insns() uint64 { return uint64(c.s.insns) }

// Stats are counters of the CPU's memory translation.
type Stats struct {
	Fills  uint64 // TLB misses served from the page table
	Faults uint64 // TLB misses that went to the kernel
}

// Stats returns the translation counters.
func (c *CPU) Stats() Stats { return Stats{Fills: uint64(c.s.fills), Faults: uint64(c.s.faults)} }

// FlushTranslations drops all translated code (needed after hooks change).
func (c *CPU) FlushTranslations() error {
	return ucErr("ctl_flush_tb", C.sis_flush_tb(c.s.uc))
}

// Context is a saved register state of one task: general, SIMD&FP and
// system registers. Allocate one per task (NewContext) and move it in and
// out of the CPU with Load and Save, which do not allocate.
type Context struct {
	ctx  *C.uc_context
	size C.size_t
	// mem holds a context cloned into Go memory (Clone), which any CPU
	// can load and nothing needs to free.
	mem []uint64
}

// NewContext allocates a context holding the CPU's current state.
func (c *CPU) NewContext() (*Context, error) {
	x := &Context{size: C.uc_context_size(c.s.uc)}
	if err := ucErr("context_alloc", C.uc_context_alloc(c.s.uc, &x.ctx)); err != nil {
		return nil, err
	}
	if err := c.Save(x); err != nil {
		x.Free()
		return nil, err
	}
	return x, nil
}

// Save stores the CPU's registers in x.
func (c *CPU) Save(x *Context) error {
	return ucErr("context_save", C.uc_context_save(c.s.uc, x.ctx))
}

// Load makes x the CPU's registers.
func (c *CPU) Load(x *Context) error {
	return ucErr("context_restore", C.uc_context_restore(c.s.uc, x.ctx))
}

// CopyFrom makes x a copy of y (both of CPUs of one kind).
func (x *Context) CopyFrom(y *Context) {
	C.memcpy(unsafe.Pointer(x.ctx), unsafe.Pointer(y.ctx), min(x.size, y.size))
}

// Clone returns a copy of x in Go memory (a machine checkpoint's): any
// CPU of the same kind can load it, and it needs no Free.
func (x *Context) Clone() *Context {
	if x.ctx == nil {
		return &Context{size: x.size} // freed
	}
	y := &Context{size: x.size, mem: make([]uint64, (x.size+7)/8)}
	y.ctx = (*C.uc_context)(unsafe.Pointer(&y.mem[0]))
	C.memcpy(unsafe.Pointer(y.ctx), unsafe.Pointer(x.ctx), x.size)
	return y
}

// Reg returns register r of a saved context.
func (x *Context) Reg(r Reg) uint64 {
	var v C.uint64_t
	C.uc_context_reg_read(x.ctx, ucRegs[r], unsafe.Pointer(&v))
	return uint64(v)
}

// SetReg sets register r of a saved context.
func (x *Context) SetReg(r Reg, v uint64) {
	cv := C.uint64_t(v)
	C.uc_context_reg_write(x.ctx, ucRegs[r], unsafe.Pointer(&cv))
}

// Free releases the context.
func (x *Context) Free() {
	if x.mem != nil {
		x.ctx, x.mem = nil, nil
		return
	}
	if x.ctx != nil {
		C.uc_context_free(x.ctx)
		x.ctx = nil
	}
}

// Close releases the CPU.
func (c *CPU) Close() error {
	if c.s == nil {
		return nil
	}
	var err error
	if c.s.uc != nil {
		err = ucErr("close", C.uc_close(c.s.uc))
	}
	if c.scratch != nil {
		c.scratch.Free()
	}
	for b := range c.bps {
		C.free(unsafe.Pointer(b.b))
		b.b = nil
	}
	c.bps = nil
	C.free(unsafe.Pointer(c.s))
	c.s = nil
	c.pin.Unpin()
	return err
}
