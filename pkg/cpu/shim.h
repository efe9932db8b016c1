// C side of the Unicorn binding: hot hooks stay in C, Go is entered only for
// system calls. See unicorn.go for the Go side.
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
	SIS_STOP_MEMFAULT,   // an invalid memory access (mem_* set)
	SIS_STOP_INVALID,    // an invalid instruction
};

// Machine-wide clock shared by all engines of one machine.
typedef struct sis_clock {
	uint64_t insns;       // instructions retired on the machine
	uint64_t offset_ns;   // deterministic: time skipped by sleeps
	uint64_t rt_base_ns;  // realtime: host CLOCK_MONOTONIC at boot
	uint32_t realtime;    // 0 deterministic, 1 realtime
	uint32_t ns_per_insn; // deterministic: virtual nanoseconds per instruction
} sis_clock;

// Per-engine state, shared with Go.
typedef struct sis_cpu {
	uc_engine *uc;
	sis_clock *clock;
	void *gou;            // the Go *Unicorn (pinned by the engine)
	uint64_t insns;       // instructions retired by this engine
	uint64_t stop_at;     // stop when clock->insns >= stop_at
	uint32_t stop;        // SIS_STOP_*
	uint32_t intno;
	uint32_t mem_type;
	int32_t mem_size;
	uint64_t mem_addr;
	uint64_t sc[7];       // x0..x5, x8 at the last SVC
	uint64_t sc_ret;      // value for x0
	uc_hook hooks[5];
} sis_cpu;

uint64_t sis_clock_ns(sis_clock *c);
uc_err sis_attach(sis_cpu *c, int count_insns);
uc_err sis_run(sis_cpu *c, uint64_t pc);
uc_err sis_flush_tb(uc_engine *uc);
uc_err sis_set_cpu_model(uc_engine *uc, int model);
uc_err sis_reg_read_batch(uc_engine *uc, int *regs, uint64_t *vals, int n);
uc_err sis_reg_write_batch(uc_engine *uc, int *regs, uint64_t *vals, int n);

#endif
