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

// A guest's read of the clock. In deterministic mode each read returns the
// time plus 0 to jitter_max ns drawn from a seeded generator (xorshift64*),
// never less than the read before: reading a real clock gives a varying
// answer, and programs that measure timing jitter for entropy find some.
// The clock itself does not move, so runs stay reproducible and CPU time
// is still the instruction count.
uint64_t sis_clock_read(sis_clock *c) {
	uint64_t ns = sis_clock_ns(c);
	if (c->realtime || !c->jitter)
		return ns;
	uint64_t x = c->jitter;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->jitter = x;
	ns += ((x * 0x2545F4914F6CDD1Dull) >> 32) % (c->jitter_max + 1);
	if (ns < c->last_read)
		ns = c->last_read;
	c->last_read = ns;
	return ns;
}

// Counts retired instructions a translation block at a time (A64 words are
// 4 bytes) and stops the engine when the budget is reached. A stop from
// here happens before the block runs. The block is remembered, so that a
// run that ends inside it knows which of its instructions ran (sis_run).
// A debugger's target position also stops here, before its block; that
// block is not counted, so the stop does not change the count.
static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	sis_cpu *c = ud;
	uint64_t n = size >> 2;
	c->blk_pc = addr;
	c->blk_n = n;
	c->insns += n;
	c->clock->insns += n;
	if (c->clock->insns >= c->stop_at) {
		if (c->clock->insns >= c->dbg.budget_at) {
			c->stop = SIS_STOP_BUDGET;
		} else {
			c->insns -= n;
			c->clock->insns -= n;
			c->blk_n = 0;
			c->stop = SIS_STOP_DEBUG;
			c->dbg.stop = SIS_DBG_TARGET;
		}
		uc_emu_stop(uc);
		return;
	}
	if (c->dbg.skip_on && addr != c->dbg.skip_pc)
		c->dbg.skip_on = 0;
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
		v = sis_clock_read(c->clock) / NS_PER_TICK;    // CNTVCT_EL0
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
	if (c->dbg.quiet_fill) {
		// Unicorn looks pages up to drop the code a deleted hook was
		// translated into: answer from the table, never fault (the
		// zero frame holds no code). The TLB is flushed afterwards.
		uint64_t pte = sis_pt_lookup(c, va);
		e->paddr = (pte & PTE_VALID) ? (pte & PTE_ADDR) | (va & 0xfff) : 0;
		e->perms = UC_PROT_EXEC;
		return true;
	}
	uint32_t strip = 0;
	if (c->dbg.nwatch && !c->dbg.watch_bypass && type != UC_MEM_FETCH) {
		// A watched page: the watched access stops the CPU before the
		// instruction (the kernel decodes its exact address); the entry
		// for other accesses lacks the watched permission, so that the
		// watched access comes back here.
		strip = sis_watched(c, va);
		if (strip & (type == UC_MEM_WRITE ? 2 : 1)) {
			c->stop = SIS_STOP_DEBUG;
			c->dbg.stop = SIS_DBG_WATCH;
			c->mem_type = type;
			c->mem_addr = va;
			return false;
		}
	}
	for (int try = 0; try < 2; try++) {
		uint64_t pte = sis_pt_lookup(c, va);
		if ((pte & PTE_VALID) && (pte & need)) {
			c->fills++;
			// Unicorn's AArch64 pages are 1 KiB: keep va's offset in the frame.
			e->paddr = (pte & PTE_ADDR) | (va & 0xfff);
			e->perms = (pte & PTE_READ && !(strip & 1) ? UC_PROT_READ : 0) |
			           (pte & PTE_WRITE && !(strip & 2) ? UC_PROT_WRITE : 0) |
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
	c->dbg.budget_at = ~0ull;
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

// blk_tail returns how many instructions of the last block entered were
// counted but not run, for a run that stopped before the one at pc.
static uint64_t blk_tail(sis_cpu *c, uint64_t pc) {
	uint64_t end = c->blk_pc + 4 * c->blk_n;
	if (pc < c->blk_pc || pc >= end)
		return 0;
	return (end - pc) / 4;
}

// sis_run runs from pc until a hook stops the engine. Blocks are counted
// when they are entered, so a run that ends inside one leaves its tail
// counted: end_pos is then the position of the instruction the run stopped
// at. A debugger's stop also takes the tail off the count, so that
// resuming there counts it again exactly once, as a run without the stop
// would have (its stops do not change the machine's timeline).
uc_err sis_run(sis_cpu *c, uint64_t pc) {
	c->stop = SIS_STOP_NONE;
	c->dbg.stop = 0;
	c->blk_pc = pc;
	c->blk_n = 0;
	uc_err err = uc_emu_start(c->uc, pc, 0xffffffffffffffffull, 0, 0);
	uint64_t end = c->clock->insns, now = pc;
	switch (c->stop) {
	case SIS_STOP_BUDGET:
		// The block was counted and did not run. With code hooks
		// installed Unicorn leaves a stale PC on this exit: set it.
		end -= c->blk_n;
		uc_reg_write(c->uc, UC_ARM64_REG_PC, &c->blk_pc);
		break;
	case SIS_STOP_DEBUG:
		if (c->dbg.stop == SIS_DBG_TARGET) {
			uc_reg_write(c->uc, UC_ARM64_REG_PC, &c->blk_pc);
			break;
		}
		uc_reg_read(c->uc, UC_ARM64_REG_PC, &now);
		uint64_t r = blk_tail(c, now);
		c->insns -= r;
		c->clock->insns -= r;
		end -= r;
		break;
	case SIS_STOP_EXCEPTION:
	case SIS_STOP_MEMFAULT:
	case SIS_STOP_INVALID:
		uc_reg_read(c->uc, UC_ARM64_REG_PC, &now);
		end -= blk_tail(c, now);
		break;
	}
	c->end_pos = end;
	return err;
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
