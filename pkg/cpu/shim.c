#include <time.h>
#include "shim.h"
#include "_cgo_export.h"

#define CNTFRQ_HZ 62500000ull
#define NS_PER_TICK (1000000000ull / CNTFRQ_HZ)

static uint64_t host_mono_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sis_clock_ns(sis_clock *c) {
	if (c->realtime)
		return host_mono_ns() - c->rt_base_ns;
	return c->insns * c->ns_per_insn + c->offset_ns;
}

// Counts retired instructions a translation block at a time (A64 words are
// 4 bytes) and stops the engine when the budget is reached.
static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	sis_cpu *c = ud;
	uint64_t n = size >> 2;
	c->insns += n;
	c->clock->insns += n;
	if (c->clock->insns >= c->stop_at) {
		c->stop = SIS_STOP_BUDGET;
		uc_emu_stop(uc);
	}
}

// SVC enters Go; every other exception stops the engine for the kernel.
static void hook_intr(uc_engine *uc, uint32_t intno, void *ud) {
	sis_cpu *c = ud;
	if (intno == 2) {
		static int regs[7] = {UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2,
		                      UC_ARM64_REG_X3, UC_ARM64_REG_X4, UC_ARM64_REG_X5,
		                      UC_ARM64_REG_X8};
		void *ptrs[7];
		for (int i = 0; i < 7; i++)
			ptrs[i] = &c->sc[i];
		uc_reg_read_batch(uc, regs, ptrs, 7);
		int r = sisGoSyscall(c->gou);
		if (r & 1)
			uc_reg_write(uc, UC_ARM64_REG_X0, &c->sc_ret);
		if (r & 2) {
			c->stop = SIS_STOP_REQUEST;
			uc_emu_stop(uc);
		}
		return;
	}
	c->stop = SIS_STOP_EXCEPTION;
	c->intno = intno;
	uc_emu_stop(uc);
}

// Emulates the generic timer registers; other system registers are left to
// Unicorn (return 0).
static uint32_t hook_mrs(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *ud) {
	sis_cpu *c = ud;
	if (cp->op0 != 3 || cp->op1 != 3 || cp->crn != 14 || cp->crm != 0)
		return 0;
	uint64_t v;
	if (cp->op2 == 2)
		v = sis_clock_ns(c->clock) / NS_PER_TICK;      // CNTVCT_EL0
	else if (cp->op2 == 0)
		v = CNTFRQ_HZ;                                 // CNTFRQ_EL0
	else
		return 0;
	uc_reg_write(uc, reg, &v);
	return 1;
}

static bool hook_mem_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud) {
	sis_cpu *c = ud;
	c->stop = SIS_STOP_MEMFAULT;
	c->mem_type = type;
	c->mem_addr = addr;
	c->mem_size = size;
	return false;
}

static bool hook_insn_invalid(uc_engine *uc, void *ud) {
	sis_cpu *c = ud;
	c->stop = SIS_STOP_INVALID;
	return false;
}

uc_err sis_attach(sis_cpu *c, int count_insns) {
	uc_err err;
	int n = 0;
	if ((err = uc_hook_add(c->uc, &c->hooks[n++], UC_HOOK_INTR, hook_intr, c, 1, 0)))
		return err;
	if ((err = uc_hook_add(c->uc, &c->hooks[n++], UC_HOOK_INSN, hook_mrs, c, 1, 0, UC_ARM64_INS_MRS)))
		return err;
	if ((err = uc_hook_add(c->uc, &c->hooks[n++], UC_HOOK_MEM_INVALID, hook_mem_invalid, c, 1, 0)))
		return err;
	if ((err = uc_hook_add(c->uc, &c->hooks[n++], UC_HOOK_INSN_INVALID, hook_insn_invalid, c, 1, 0)))
		return err;
	if (count_insns &&
	    (err = uc_hook_add(c->uc, &c->hooks[n++], UC_HOOK_BLOCK, hook_block, c, 1, 0)))
		return err;
	return UC_ERR_OK;
}

uc_err sis_run(sis_cpu *c, uint64_t pc) {
	c->stop = SIS_STOP_NONE;
	return uc_emu_start(c->uc, pc, 0xffffffffffffffffull, 0, 0);
}

// The 2.0.x macro for this is misnamed (uc_ctl_flush_tlb); the raw control
// code is the same in 2.0 and 2.1+.
uc_err sis_flush_tb(uc_engine *uc) { return uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0)); }

uc_err sis_set_cpu_model(uc_engine *uc, int model) { return uc_ctl_set_cpu_model(uc, model); }

uc_err sis_reg_read_batch(uc_engine *uc, int *regs, uint64_t *vals, int n) {
	void *ptrs[64];
	if (n > 64)
		return UC_ERR_ARG;
	for (int i = 0; i < n; i++)
		ptrs[i] = &vals[i];
	return uc_reg_read_batch(uc, regs, ptrs, n);
}

uc_err sis_reg_write_batch(uc_engine *uc, int *regs, uint64_t *vals, int n) {
	void *ptrs[64];
	if (n > 64)
		return UC_ERR_ARG;
	for (int i = 0; i < n; i++)
		ptrs[i] = &vals[i];
	return uc_reg_write_batch(uc, regs, (void *const *)ptrs, n);
}
