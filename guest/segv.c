/*
 * segv - synchronous faults: how does the kernel report a guest crash?
 *
 * Usage: segv MODE   where MODE is one of
 *   null  store to address 0                      -> dies of SIGSEGV
 *   wild  load from 0xdead0000                    -> dies of SIGSEGV
 *   udf   execute the undefined word 0x00000000   -> dies of SIGILL
 *   jump  call a function pointer to 0x1234560    -> dies of SIGSEGV
 *   brk   execute "brk #0"                        -> dies of SIGTRAP
 * Each mode first prints "about to <MODE>\n" to stdout (flushed), then
 * faults. The faulting instruction is written in inline asm so the compiler
 * cannot turn it into something else. If the process survives the fault it
 * prints "survived <MODE>\n" and exits 3; an unknown or missing MODE prints
 * a usage line to stderr and exits 2.
 *
 * Expected under Linux / qemu-aarch64-static: stdout "about to <MODE>\n",
 * then death by the signal above (a shell shows status 128+signal: 139 for
 * SIGSEGV, 132 for SIGILL, 133 for SIGTRAP).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void do_null(void)
{
	asm volatile("str %w0, [%1]" : : "r"(1), "r"((uintptr_t)0) : "memory");
}

static void do_wild(void)
{
	uint32_t v;

	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"((uintptr_t)0xdead0000) : "memory");
}

static void do_udf(void)
{
	asm volatile(".inst 0x00000000" : : : "memory");
}

static void do_jump(void)
{
	/* volatile: the compiler must not reason about the target */
	void (*volatile fn)(void) = (void (*)(void))(uintptr_t)0x1234560;

	fn();
}

static void do_brk(void)
{
	asm volatile("brk #0" : : : "memory");
}

static const struct {
	const char *name;
	void (*fn)(void);
} modes[] = {
	{ "null", do_null },
	{ "wild", do_wild },
	{ "udf", do_udf },
	{ "jump", do_jump },
	{ "brk", do_brk },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(argv[1], modes[i].name) != 0)
			continue;
		printf("about to %s\n", modes[i].name);
		fflush(stdout);
		modes[i].fn();
		printf("survived %s\n", modes[i].name);
		fflush(stdout);
		return 3;
	}
	fprintf(stderr, "usage: segv null|wild|udf|jump|brk\n");
	return 2;
}
