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
	SIS_STOP_DEBUG,      // a debugger stop (sis_debug.stop says which)
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

// Debugger stops (sis_debug.stop), see debug.c.
enum {
	SIS_DBG_BREAK = 1,   // a breakpoint hook, before the instruction at addr
	SIS_DBG_TARGET,      // the block holding the target position is next
	SIS_DBG_WATCH,       // an access to a watched page (mem_type, mem_addr)
	SIS_DBG_AT,          // the one-shot stop address was reached
};

#define SIS_MAX_WATCH 64

// A watched 1 KiB page of a process: acc has bit 1 for reads, 2 for writes.
typedef struct sis_watch {
	uint64_t page;
	int32_t pid;
	uint32_t acc;
} sis_watch;

// The debugger's state of a CPU. Everything is off (zero) unless a
// debugger is attached, so that a free run pays one compare per block.
typedef struct sis_debug {
	int32_t pid, tid;       // the thread on the CPU (set before each run)
	uint32_t stop;          // SIS_DBG_* when stop == SIS_STOP_DEBUG
	uint64_t addr;          // BREAK, AT: the instruction's address
	uint64_t budget_at;     // the kernel's budget (stop_at is the minimum)
	uint64_t target;        // TARGET: stop before the block holding it
	uint32_t target_on;
	uint64_t at_addr;       // AT: stop at_tid before this address...
	int32_t at_tid;
	uint32_t at_on;
	uint32_t at_target;     // ...and only at position target
	uc_hook at_hook;
	uint64_t skip_pc;       // a breakpoint at skip_pc does not stop the
	uint32_t skip_on;       // run's first instruction
	uint32_t quiet_fill;    // TLB fills map without entering Go (hook_del)
	uint32_t watch_bypass;  // watched pages are filled normally
	uint32_t nwatch;
	sis_watch watch[SIS_MAX_WATCH];
} sis_debug;

// A breakpoint: one UC_HOOK_CODE hook bounded to its address.
typedef struct sis_bp {
	struct sis_cpu *c;
	uint64_t addr;
	int32_t pid;            // it stops only this process's threads
	uint32_t active;        // removed breakpoints keep their hook, inactive
	uc_hook hook;
} sis_bp;

// Machine-wide clock.
typedef struct sis_clock {
	uint64_t insns;       // instructions retired on the machine
	uint64_t offset_ns;   // deterministic: time skipped by sleeps
	uint64_t rt_base_ns;  // realtime: host CLOCK_MONOTONIC at boot
	uint32_t realtime;    // 0 deterministic, 1 realtime
	uint32_t ns_per_insn; // deterministic: virtual nanoseconds per instruction
	uint64_t jitter;      // deterministic: the read jitter's generator state (0: none)
	uint64_t jitter_max;  // deterministic: a read is 0..jitter_max ns late
	uint64_t last_read;   // deterministic: the last time a read returned
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
	uint64_t blk_pc;      // the last translation block entered...
	uint64_t blk_n;       // ...and its instruction count (counted at entry)
	uint64_t end_pos;     // instruction position where the last run ended
	sis_debug dbg;
} sis_cpu;

uint64_t sis_clock_ns(sis_clock *c);
uint64_t sis_clock_read(sis_clock *c);
uc_err sis_open(sis_cpu *c, int count_insns);
uc_err sis_run(sis_cpu *c, uint64_t pc);
uc_err sis_flush_tlb(uc_engine *uc);
uc_err sis_flush_tb(uc_engine *uc);
uc_err sis_invalidate(sis_cpu *c, uint64_t pa, uint64_t n);
uc_err sis_reg_read_batch(uc_engine *uc, int *regs, uint64_t *vals, int n);
uc_err sis_reg_write_batch(uc_engine *uc, int *regs, uint64_t *vals, int n);
uint64_t sis_pt_lookup(sis_cpu *c, uint64_t va);

void sis_set_stop_at(sis_cpu *c, uint64_t n);
uc_err sis_bp_add(sis_cpu *c, sis_bp *b);
uc_err sis_hook_del_quiet(sis_cpu *c, uc_hook h);
uc_err sis_at_hook(sis_cpu *c, int on);
uint32_t sis_watched(sis_cpu *c, uint64_t va);

#endif
