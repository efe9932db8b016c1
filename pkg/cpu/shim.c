#include <string.h>
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

// sis_pt_lookup walks the current page table for va: the leaf entry, or 0.
uint64_t sis_pt_lookup(sis_cpu *c, uint64_t va) {
	if (va >> 48)
		return 0;
	uint64_t pa = c->pt_root;
	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = ((uint64_t *)(c->ram + pa))[(va >> shift) & 511];
		if (!(e & PTE_VALID))
			return 0;
		if (shift == 12)
			return e;
		pa = e & PTE_ADDR;
		if (pa + 4096 > c->ram_size)
			return 0;
	}
	return 0;
}

// The virtual TLB's miss handler: a present entry with the permission the
// access needs is served in C; otherwise Go resolves the fault (demand
// paging, copy on write) or refuses it, and the CPU then raises a precise
// exception that ends the run with SIS_STOP_MEMFAULT.
static bool hook_tlb_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *ud) {
	sis_cpu *c = ud;
	uint64_t need = type == UC_MEM_WRITE ? PTE_WRITE : type == UC_MEM_FETCH ? PTE_EXEC : PTE_READ;
	if (c->inv_active && va >= INV_BASE && va - INV_BASE < c->ram_size && type == UC_MEM_FETCH) {
		e->paddr = va - INV_BASE;
		e->perms = UC_PROT_EXEC;
		return true;
	}
	for (int try = 0; try < 2; try++) {
		uint64_t pte = sis_pt_lookup(c, va);
		if ((pte & PTE_VALID) && (pte & need)) {
			c->fills++;
			// Unicorn's AArch64 pages are 1 KiB: keep va's offset in the frame.
			e->paddr = (pte & PTE_ADDR) | (va & 0xfff);
			e->perms = (pte & PTE_READ ? UC_PROT_READ : 0) |
			           (pte & PTE_WRITE ? UC_PROT_WRITE : 0) |
			           (pte & PTE_EXEC ? UC_PROT_EXEC : 0);
			return true;
		}
		if (try)
			break;
		c->faults++;
		if (!sisGoPageFault(c->gou, va, (int)type))
			break;
	}
	c->stop = SIS_STOP_MEMFAULT;
	c->mem_type = type;
	c->mem_addr = va;
	return false;
}

static bool hook_insn_invalid(uc_engine *uc, void *ud) {
	sis_cpu *c = ud;
	c->stop = SIS_STOP_INVALID;
	return false;
}

uc_err sis_open(sis_cpu *c, int count_insns) {
	uc_err err;
	if ((err = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &c->uc)))
		return err;
	uc_engine *uc = c->uc;
	if ((err = uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL)))
		return err;
	// Runs end only when a hook stops them. With exits enabled and none
	// set, Unicorn neither plants an exit at uc_emu_start's `until` nor
	// looks that address up (a TLB fill) when a run ends.
	if ((err = uc_ctl_exits_enable(uc)))
		return err;
	if ((err = uc_mem_map_ptr(uc, 0, c->ram_size, UC_PROT_ALL, c->ram)))
		return err;
	int n = 0;
	if ((err = uc_hook_add(uc, &c->hooks[n++], UC_HOOK_INTR, hook_intr, c, 1, 0)))
		return err;
	if ((err = uc_hook_add(uc, &c->hooks[n++], UC_HOOK_INSN, hook_mrs, c, 1, 0, UC_ARM64_INS_MRS)))
		return err;
	if ((err = uc_hook_add(uc, &c->hooks[n++], UC_HOOK_TLB_FILL, hook_tlb_fill, c, 1, 0)))
		return err;
	if ((err = uc_hook_add(uc, &c->hooks[n++], UC_HOOK_INSN_INVALID, hook_insn_invalid, c, 1, 0)))
		return err;
	if (count_insns &&
	    (err = uc_hook_add(uc, &c->hooks[n++], UC_HOOK_BLOCK, hook_block, c, 1, 0)))
		return err;
	return UC_ERR_OK;
}

uc_err sis_run(sis_cpu *c, uint64_t pc) {
	c->stop = SIS_STOP_NONE;
	return uc_emu_start(c->uc, pc, 0xffffffffffffffffull, 0, 0);
}

uc_err sis_flush_tlb(uc_engine *uc) { return uc_ctl_flush_tlb(uc); }

uc_err sis_flush_tb(uc_engine *uc) { return uc_ctl_flush_tb(uc); }

// sis_invalidate drops the code translated from physical [pa, pa+n).
// Unicorn invalidates translations by virtual address only (it looks the
// page up with a TLB fill), so for the call the fill hook maps a window of
// virtual addresses above user space directly onto physical memory
// (INV_BASE + pa -> pa); the TLB is flushed afterwards so that no guest
// access can reach the window.
uc_err sis_invalidate(sis_cpu *c, uint64_t pa, uint64_t n) {
	if (n == 0 || pa + n > c->ram_size)
		return UC_ERR_ARG;
	c->inv_active = 1;
	uint64_t saved_stop = c->stop;
	uc_err err = uc_ctl_remove_cache(c->uc, INV_BASE + pa, INV_BASE + pa + n);
	c->inv_active = 0;
	c->stop = saved_stop;
	uc_ctl_flush_tlb(c->uc);
	return err;
}

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
