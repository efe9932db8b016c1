package cpu

/*
#include <stdlib.h>
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

// Version returns the version of the linked libunicorn, e.g. "2.0.1".
func Version() string {
	var major, minor C.uint
	v := C.uc_version(&major, &minor)
	return fmt.Sprintf("%d.%d.%d", major, minor, (v>>8)&0xff)
}

// Clock is the machine-wide time source shared by all engines of a machine.
// In deterministic mode time is the count of retired instructions (times
// NsPerInsn) plus the time skipped by sleeps; in realtime mode it is the host
// monotonic clock since the clock was created.
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

// Insns returns the number of instructions retired on the machine (counted
// only when an engine counts instructions).
func (k *Clock) Insns() uint64 { return uint64(k.c.insns) }

// Skip moves deterministic time forward by ns (a sleeping machine). It has no
// effect on a realtime clock.
func (k *Clock) Skip(ns uint64) {
	if k.c.realtime == 0 {
		k.c.offset_ns += C.uint64_t(ns)
	}
}

// Close frees the clock; no engine may use it afterwards.
func (k *Clock) Close() {
	if k.c != nil {
		C.free(unsafe.Pointer(k.c))
		k.c = nil
	}
}

// Unicorn is an Engine backed by libunicorn.
type Unicorn struct {
	s       *C.sis_cpu
	handler SyscallHandler
	// pin keeps the engine at a fixed address: the C side holds a pointer
	// to it (sis_cpu.gou) to enter Go on SVC without a handle lookup.
	pin runtime.Pinner
}

// Options configure a new engine.
type Options struct {
	// Clock is the machine clock; required.
	Clock *Clock
	// CountInsns installs the block counter that drives deterministic time
	// and instruction budgets. Without it the engine runs free.
	CountInsns bool
	// Syscall handles SVC; required.
	Syscall SyscallHandler
}

var _ Engine = (*Unicorn)(nil)

// New opens a Unicorn AArch64 engine.
func New(o Options) (*Unicorn, error) {
	if o.Clock == nil || o.Syscall == nil {
		return nil, errors.New("cpu: Clock and Syscall are required")
	}
	var uc *C.uc_engine
	if err := ucErr("open", C.uc_open(C.UC_ARCH_ARM64, C.UC_MODE_ARM, &uc)); err != nil {
		return nil, err
	}
	s := (*C.sis_cpu)(C.calloc(1, C.sizeof_sis_cpu))
	s.uc = uc
	s.clock = o.Clock.c
	s.stop_at = ^C.uint64_t(0)
	u := &Unicorn{s: s, handler: o.Syscall}
	u.pin.Pin(u)
	s.gou = unsafe.Pointer(u)
	count := C.int(0)
	if o.CountInsns {
		count = 1
	}
	if err := ucErr("hook_add", C.sis_attach(s, count)); err != nil {
		u.Close()
		return nil, err
	}
	return u, nil
}

// sisGoSyscall is called by the C SVC hook with the engine's pinned
// pointer; the arguments stay in C memory (sis_cpu.sc) for the call.
//
//export sisGoSyscall
func sisGoSyscall(p unsafe.Pointer) C.int {
	u := (*Unicorn)(p)
	args := (*[6]uint64)(unsafe.Pointer(&u.s.sc[0]))
	ret, act := u.handler(uint64(u.s.sc[6]), args)
	u.s.sc_ret = C.uint64_t(ret)
	return C.int(act)
}

// Map implements Engine.
func (u *Unicorn) Map(addr, size uint64, prot Prot) error {
	return ucErr("mem_map", C.uc_mem_map(u.s.uc, C.uint64_t(addr), C.size_t(size), C.uint32_t(prot)))
}

// Unmap implements Engine.
func (u *Unicorn) Unmap(addr, size uint64) error {
	return ucErr("mem_unmap", C.uc_mem_unmap(u.s.uc, C.uint64_t(addr), C.size_t(size)))
}

// Protect implements Engine.
func (u *Unicorn) Protect(addr, size uint64, prot Prot) error {
	return ucErr("mem_protect", C.uc_mem_protect(u.s.uc, C.uint64_t(addr), C.size_t(size), C.uint32_t(prot)))
}

// ReadMem implements Engine.
func (u *Unicorn) ReadMem(addr uint64, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return ucErr("mem_read", C.uc_mem_read(u.s.uc, C.uint64_t(addr), unsafe.Pointer(&p[0]), C.size_t(len(p))))
}

// WriteMem implements Engine.
func (u *Unicorn) WriteMem(addr uint64, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return ucErr("mem_write", C.uc_mem_write(u.s.uc, C.uint64_t(addr), unsafe.Pointer(&p[0]), C.size_t(len(p))))
}

// Reg implements Engine.
func (u *Unicorn) Reg(r Reg) (uint64, error) {
	var v C.uint64_t
	err := ucErr("reg_read", C.uc_reg_read(u.s.uc, ucRegs[r], unsafe.Pointer(&v)))
	return uint64(v), err
}

// SetReg implements Engine.
func (u *Unicorn) SetReg(r Reg, v uint64) error {
	cv := C.uint64_t(v)
	return ucErr("reg_write", C.uc_reg_write(u.s.uc, ucRegs[r], unsafe.Pointer(&cv)))
}

func (u *Unicorn) regBatch(regs []Reg, vals []uint64, write bool) error {
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
		return ucErr("reg_write_batch", C.sis_reg_write_batch(u.s.uc, &ids[0], vp, C.int(len(regs))))
	}
	return ucErr("reg_read_batch", C.sis_reg_read_batch(u.s.uc, &ids[0], vp, C.int(len(regs))))
}

// ReadRegs implements Engine.
func (u *Unicorn) ReadRegs(regs []Reg, vals []uint64) error { return u.regBatch(regs, vals, false) }

// WriteRegs implements Engine.
func (u *Unicorn) WriteRegs(regs []Reg, vals []uint64) error { return u.regBatch(regs, vals, true) }

// Run implements Engine.
func (u *Unicorn) Run(pc uint64) (Exit, error) {
	err := C.sis_run(u.s, C.uint64_t(pc))
	ex := Exit{Intno: uint32(u.s.intno)}
	switch u.s.stop {
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
		ex.Fault = decodeFault(u.s.mem_type, uint64(u.s.mem_addr), int(u.s.mem_size))
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

func decodeFault(t C.uint32_t, addr uint64, size int) Fault {
	f := Fault{Addr: addr, Size: size}
	switch t {
	case C.UC_MEM_READ_UNMAPPED:
		f.Access, f.Unmapped = AccessRead, true
	case C.UC_MEM_WRITE_UNMAPPED:
		f.Access, f.Unmapped = AccessWrite, true
	case C.UC_MEM_FETCH_UNMAPPED:
		f.Access, f.Unmapped = AccessFetch, true
	case C.UC_MEM_READ_PROT:
		f.Access = AccessRead
	case C.UC_MEM_WRITE_PROT:
		f.Access = AccessWrite
	case C.UC_MEM_FETCH_PROT:
		f.Access = AccessFetch
	}
	return f
}

// Stop implements Engine.
func (u *Unicorn) Stop() {
	u.s.stop = C.SIS_STOP_REQUEST
	C.uc_emu_stop(u.s.uc)
}

// SetStopAt implements Engine.
func (u *Unicorn) SetStopAt(n uint64) { u.s.stop_at = C.uint64_t(n) }

// Insns implements Engine.
func (u *Unicorn) Insns() uint64 { return uint64(u.s.insns) }

// FlushTranslations drops translated code (needed after hooks change).
func (u *Unicorn) FlushTranslations() error {
	return ucErr("ctl_flush_tb", C.sis_flush_tb(u.s.uc))
}

type ucContext struct{ ctx *C.uc_context }

func (c *ucContext) Free() {
	if c.ctx != nil {
		C.uc_context_free(c.ctx)
		c.ctx = nil
	}
}

// SaveContext implements Engine.
func (u *Unicorn) SaveContext() (Context, error) {
	c := &ucContext{}
	if err := ucErr("context_alloc", C.uc_context_alloc(u.s.uc, &c.ctx)); err != nil {
		return nil, err
	}
	if err := ucErr("context_save", C.uc_context_save(u.s.uc, c.ctx)); err != nil {
		c.Free()
		return nil, err
	}
	return c, nil
}

// RestoreContext implements Engine.
func (u *Unicorn) RestoreContext(ctx Context) error {
	c, ok := ctx.(*ucContext)
	if !ok || c.ctx == nil {
		return errors.New("cpu: foreign or freed context")
	}
	return ucErr("context_restore", C.uc_context_restore(u.s.uc, c.ctx))
}

// Close implements Engine.
func (u *Unicorn) Close() error {
	if u.s == nil {
		return nil
	}
	err := ucErr("close", C.uc_close(u.s.uc))
	C.free(unsafe.Pointer(u.s))
	u.s = nil
	u.pin.Unpin()
	return err
}

// VRegs holds the 32 128-bit SIMD&FP registers V0..V31 (little-endian).
type VRegs [32][16]byte

// ReadVRegs reads V0..V31 (fork and signal frames need the FP state).
func (u *Unicorn) ReadVRegs(v *VRegs) error {
	for i := range v {
		if err := ucErr("reg_read", C.uc_reg_read(u.s.uc, C.UC_ARM64_REG_Q0+C.int(i), unsafe.Pointer(&v[i][0]))); err != nil {
			return err
		}
	}
	return nil
}

// WriteVRegs writes V0..V31.
func (u *Unicorn) WriteVRegs(v *VRegs) error {
	for i := range v {
		if err := ucErr("reg_write", C.uc_reg_write(u.s.uc, C.UC_ARM64_REG_Q0+C.int(i), unsafe.Pointer(&v[i][0]))); err != nil {
			return err
		}
	}
	return nil
}
