// The debugger's hooks (see debug.go). Breakpoints are UC_HOOK_CODE hooks
// bounded to their address, so only the instructions at breakpoints call
// out of the translated code; a single step or a target position stops
// before a block (hook_block) and, inside one, at a one-shot hook bounded
// to the instruction. Every check is here in C: Go is entered only when
// the CPU stops.
#include "shim.h"

// sis_set_stop_at sets the kernel's budget; a target position lowers the
// effective stop so that hook_block stops before the target's block.
void sis_set_stop_at(sis_cpu *c, uint64_t n) {
	c->dbg.budget_at = n;
	uint64_t t = c->dbg.target_on ? c->dbg.target + 1 : ~0ull;
	c->stop_at = n < t ? n : t;
}

static void debug_stop(uc_engine *uc, sis_cpu *c, uint32_t why, uint64_t addr) {
	c->stop = SIS_STOP_DEBUG;
	c->dbg.stop = why;
	c->dbg.addr = addr;
	uc_emu_stop(uc);
}

static void hook_bp(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	sis_bp *b = ud;
	sis_cpu *c = b->c;
	if (!b->active || b->pid != c->dbg.pid)
		return;
	if (c->dbg.skip_on && c->dbg.skip_pc == addr) {
		c->dbg.skip_on = 0;
		return;
	}
	debug_stop(uc, c, SIS_DBG_BREAK, addr);
}

uc_err sis_bp_add(sis_cpu *c, sis_bp *b) {
	b->c = c;
	return uc_hook_add(c->uc, &b->hook, UC_HOOK_CODE, hook_bp, b, b->addr, b->addr);
}

// sis_hook_del_quiet deletes a hook. Unicorn then drops the code it was
// translated into, looking the pages up by virtual address in the current
// address space: those fills must not fault pages in (quiet_fill).
uc_err sis_hook_del_quiet(sis_cpu *c, uc_hook h) {
	c->dbg.quiet_fill = 1;
	uc_err err = uc_hook_del(c->uc, h);
	c->dbg.quiet_fill = 0;
	uc_ctl_flush_tlb(c->uc);
	return err;
}

// The one-shot stop: before at_addr, for at_tid, and with at_target only
// at position target (the instruction's position is its block's count
// minus the instructions after it in the block).
static void hook_at(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
	sis_cpu *c = ud;
	if (!c->dbg.at_on || addr != c->dbg.at_addr || c->dbg.tid != c->dbg.at_tid)
		return;
	if (c->dbg.at_target) {
		uint64_t end = c->blk_pc + 4 * c->blk_n;
		if (addr < c->blk_pc || addr >= end)
			return;
		if (c->clock->insns - (end - addr) / 4 != c->dbg.target)
			return;
	}
	c->dbg.at_on = 0;
	debug_stop(uc, c, SIS_DBG_AT, addr);
}

// sis_at_hook installs the one-shot hook at dbg.at_addr, or deletes it. The
// caller drops the code translated from that address when installing.
uc_err sis_at_hook(sis_cpu *c, int on) {
	if (c->dbg.at_hook) {
		uc_err err = sis_hook_del_quiet(c, c->dbg.at_hook);
		c->dbg.at_hook = 0;
		if (err)
			return err;
	}
	c->dbg.at_on = on;
	if (!on)
		return UC_ERR_OK;
	return uc_hook_add(c->uc, &c->dbg.at_hook, UC_HOOK_CODE, hook_at, c, c->dbg.at_addr, c->dbg.at_addr);
}

// sis_watched returns the watched accesses (1 read, 2 write) of the
// running process on va's 1 KiB page.
uint32_t sis_watched(sis_cpu *c, uint64_t va) {
	uint64_t page = va & ~1023ull;
	uint32_t acc = 0;
	for (uint32_t i = 0; i < c->dbg.nwatch; i++)
		if (c->dbg.watch[i].page == page && c->dbg.watch[i].pid == c->dbg.pid)
			acc |= c->dbg.watch[i].acc;
	return acc;
}
