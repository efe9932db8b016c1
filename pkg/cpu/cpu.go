// Package cpu runs AArch64 guest code. It defines the Engine interface the
// kernel programs against and implements it with Unicorn through cgo.
//
// Hot paths stay in C: the per-block instruction counter, the generic-timer
// register reads (CNTVCT_EL0, CNTFRQ_EL0) and the fault hooks. Go is entered
// only for SVC (system calls); every other event stops the engine and is
// reported by Run.
package cpu

import "fmt"

// CounterHz is the frequency of the emulated generic timer (CNTFRQ_EL0).
const CounterHz = 62_500_000

// Prot is a set of memory access permissions.
type Prot uint32

// Memory permissions (values match Unicorn's and Linux's PROT_* bits).
const (
	ProtNone  Prot = 0
	ProtRead  Prot = 1
	ProtWrite Prot = 2
	ProtExec  Prot = 4
	ProtAll   Prot = 7
)

// String formats p like the permission column of /proc/<pid>/maps.
func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// StopReason says why Run returned.
type StopReason int

// Stop reasons.
const (
	StopRequested   StopReason = iota + 1 // the syscall handler or Stop asked
	StopBudget                            // the instruction budget was spent
	StopException                         // a CPU exception (Exit.Intno)
	StopMemFault                          // an invalid memory access (Exit.Fault)
	StopInvalidInsn                       // an undefined instruction
)

var stopNames = map[StopReason]string{
	StopRequested: "requested", StopBudget: "budget", StopException: "exception",
	StopMemFault: "memory fault", StopInvalidInsn: "invalid instruction",
}

func (r StopReason) String() string {
	if s, ok := stopNames[r]; ok {
		return s
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// Access is the kind of a faulting memory access.
type Access int

// Access kinds.
const (
	AccessRead Access = iota
	AccessWrite
	AccessFetch
)

func (a Access) String() string {
	return [...]string{"read", "write", "fetch"}[a]
}

// Fault describes an invalid memory access.
type Fault struct {
	Access   Access
	Addr     uint64
	Size     int
	Unmapped bool // false: the page is mapped but the permission is missing
}

// AArch64 exception numbers that Unicorn reports (QEMU's EXCP_*).
const (
	ExcpUDEF          = 1 // undefined instruction
	ExcpSWI           = 2 // SVC
	ExcpPrefetchAbort = 3
	ExcpDataAbort     = 4
	ExcpBKPT          = 7 // BRK
)

// Exit describes why Run returned.
type Exit struct {
	Reason StopReason
	Intno  uint32 // StopException: the exception number
	Fault  Fault  // StopMemFault
}

// SyscallAction tells the engine what to do after a system call.
type SyscallAction int

// Syscall actions; they combine.
const (
	SetX0 SyscallAction = 1 << iota // write the result to x0
	Stop                            // stop the engine after the call
)

// SyscallHandler is called for every SVC with the syscall number (x8) and
// arguments (x0..x5). It returns the value for x0 and what to do next. The PC
// already points past the SVC. args is valid only during the call.
type SyscallHandler func(nr uint64, args *[6]uint64) (ret uint64, act SyscallAction)

// Engine is one guest address space with one CPU.
type Engine interface {
	// Map maps [addr, addr+size) zero-filled; both must be 4 KiB aligned.
	Map(addr, size uint64, prot Prot) error
	Unmap(addr, size uint64) error
	Protect(addr, size uint64, prot Prot) error
	ReadMem(addr uint64, p []byte) error
	WriteMem(addr uint64, p []byte) error

	Reg(r Reg) (uint64, error)
	SetReg(r Reg, v uint64) error
	// ReadRegs and WriteRegs move several registers in one call.
	ReadRegs(regs []Reg, vals []uint64) error
	WriteRegs(regs []Reg, vals []uint64) error

	// Run executes from pc until something stops it.
	Run(pc uint64) (Exit, error)
	// Stop asks a running engine to stop (safe from the syscall handler).
	Stop()
	// SetStopAt stops the engine once the machine's instruction count
	// reaches n (only when instructions are counted).
	SetStopAt(n uint64)
	// Insns is the number of instructions this engine retired.
	Insns() uint64

	// SaveContext snapshots the CPU registers (not memory).
	SaveContext() (Context, error)
	RestoreContext(Context) error

	Close() error
}

// Context is a saved CPU register state.
type Context interface {
	Free()
}
