// Package cpu runs AArch64 guest code on Unicorn through cgo: one CPU per
// machine, whose memory is the machine's RAM (pkg/mem) seen through
// kernel-owned page tables (PageTable) on Unicorn's virtual TLB.
//
// Hot paths stay in C: the per-block instruction counter, the generic-timer
// register reads (CNTVCT_EL0, CNTFRQ_EL0) and the TLB fill that walks the
// page table. Go is entered only for SVC (system calls) and page faults;
// every other event stops the CPU and is reported by Run.
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
	StopDebug                             // a debugger's stop (Exit.Debug)
)

var stopNames = map[StopReason]string{
	StopRequested: "requested", StopBudget: "budget", StopException: "exception",
	StopMemFault: "memory fault", StopInvalidInsn: "invalid instruction", StopDebug: "debug",
}

func (r StopReason) String() string {
	if s, ok := stopNames[r]; ok {
		return s
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// Access is the kind of a memory access.
type Access int

// Access kinds (the values of Unicorn's UC_MEM_READ, UC_MEM_WRITE and
// UC_MEM_FETCH).
const (
	AccessRead Access = iota + 16
	AccessWrite
	AccessFetch
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessFetch:
		return "fetch"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Fault describes a memory access the kernel refused.
type Fault struct {
	Access Access
	// Page is the start of the 1 KiB page (Unicorn's AArch64 page size)
	// of the access; the kernel knows the exact address (FaultHandler).
	Page uint64
}

// AArch64 exception numbers that Unicorn reports (QEMU's EXCP_*).
const (
	ExcpUDEF = 1 // undefined instruction
	ExcpSWI  = 2 // SVC
	ExcpBKPT = 7 // BRK
)

// Exit describes why Run returned.
type Exit struct {
	Reason StopReason
	Intno  uint32 // StopException: the exception number
	Fault  Fault  // StopMemFault, and StopDebug with DebugWatch
	// Debug says why a StopDebug happened, and Addr where: the
	// instruction (DebugBreak, DebugAt).
	Debug DebugStop
	Addr  uint64
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

// FaultHandler is called during Run when the page table holds no entry for
// the page of va that permits the access: it may install one (demand
// paging, copy on write) and return true, or return false, and Run stops
// with StopMemFault at the faulting instruction. va is the start of the
// access's 1 KiB page.
type FaultHandler func(va uint64, acc Access) bool
