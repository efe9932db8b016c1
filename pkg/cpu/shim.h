// C side of the Unicorn binding: hot hooks stay in C, Go is entered only
// for system calls and page faults. See unicorn.go for the Go side.
#ifndef SISSIM_SHIM_H
#define SISSIM_SHIM_H

#include <stdint.h>
#include <unicorn/unicorn.h>

#if UC_API_MAJOR < 2 || (UC_API_MAJOR == 2 && UC_API_MINOR < 1)
#error "sissim needs libunicorn 2.1 or later (its virtual TLB); run `make deps` to fetch it into .cache/unicorn, or install a libunicorn >= 2.1 and build with -tags unicorn_shared"
#endif

// Why sis_run returned.
enum {
	SIS_STOP_NONE = 0,   // the guest code ran to the end address (never used)
	SIS_STOP_REQUEST,    // Go asked to stop (syscall handler, Stop)
	SIS_STOP_BUDGET,     // the instruction budget was reached
	SIS_STOP_EXCEPTION,  // a CPU exception other than SVC (intno set)
	SIS_STOP_MEMFAULT,   // a page fault the kernel refused (mem_* set)
	SIS_STOP_INVALID,    // an invalid instruction
};

// Page-table entries (see pagetable.go): a 4-level table of 512-entry
// frames in the machine's RAM, indexed by virtual address bits 47..12.
// Interior entries hold the physical address of the next table and
// PTE_VALID; leaves hold the frame's physical address and permissions.
#define PTE_VALID 1ull
#define PTE_READ 2ull
#define PTE_WRITE 4ull
#define PTE_EXEC 8ull
#define PTE_ADDR 0x0000fffffffff000ull

// Virtual window onto physical memory used only inside sis_invalidate.
#define INV_BASE (1ull << 48)

// Machine-wide clock.
typedef struct sis_clock {
	uint64_t insns;       // instructions retired on the machine
	uint64_t offset_ns;   // deterministic: time skipped by sleeps
	uint64_t rt_base_ns;  // realtime: host CLOCK_MONOTONIC at boot
	uint32_t realtime;    // 0 deterministic, 1 realtime
	uint32_t ns_per_insn; // deterministic: virtual nanoseconds per instruction
} sis_clock;

// The CPU of a machine, shared with Go.
typedef struct sis_cpu {
	uc_engine *uc;
	sis_clock *clock;
	void *gou;            // the Go *CPU (pinned)
	uint8_t *ram;         // host address of physical address 0
	uint64_t ram_size;
	uint64_t pt_root;     // physical address of the current root table
	uint64_t insns;       // instructions retired on this CPU
	uint64_t stop_at;     // stop when clock->insns >= stop_at
	uint64_t fills;       // TLB fills served
	uint64_t faults;      // fills that entered Go
	uint32_t stop;        // SIS_STOP_*
	uint32_t intno;
	uint32_t mem_type;    // UC_MEM_READ, UC_MEM_WRITE or UC_MEM_FETCH
	uint32_t inv_active;  // sis_invalidate is running (see INV_BASE)
	uint64_t mem_addr;    // page of the faulting access
	uint64_t sc[7];       // x0..x5, x8 at the last SVC
	uint64_t sc_ret;      // value for x0
	uc_hook hooks[6];
} sis_cpu;

uint64_t sis_clock_ns(sis_clock *c);
uc_err sis_open(sis_cpu *c, int count_insns);
uc_err sis_run(sis_cpu *c, uint64_t pc);
uc_err sis_flush_tlb(uc_engine *uc);
uc_err sis_flush_tb(uc_engine *uc);
uc_err sis_invalidate(sis_cpu *c, uint64_t pa, uint64_t n);
uc_err sis_reg_read_batch(uc_engine *uc, int *regs, uint64_t *vals, int n);
uc_err sis_reg_write_batch(uc_engine *uc, int *regs, uint64_t *vals, int n);
uint64_t sis_pt_lookup(sis_cpu *c, uint64_t va);

#endif
