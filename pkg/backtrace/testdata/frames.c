// A guest for the backtrace tests, run under qemu-aarch64-static: leaf
// records its registers without a frame record of its own (as a leaf
// function does), then parent prints them with the live stack, from the
// recorded SP up to where the stack began, for the test to walk.
#include <stdint.h>
#include <stdio.h>

extern void *__libc_stack_end;

struct regs {
	uint64_t pc, sp, fp, lr;
};
struct regs captured;

void leaf(void);
__asm__(".text\n"
	".globl leaf\n"
	".type leaf, %function\n"
	"leaf:\n"
	"	adrp x9, captured\n"
	"	add x9, x9, :lo12:captured\n"
	"	adr x10, .\n"
	"	str x10, [x9]\n"
	"	mov x10, sp\n"
	"	str x10, [x9, #8]\n"
	"	str x29, [x9, #16]\n"
	"	str x30, [x9, #24]\n"
	"	ret\n"
	".size leaf, .-leaf\n");

__attribute__((noinline)) static void dump(void) {
	printf("regs %lx %lx %lx %lx\n", (unsigned long)captured.pc, (unsigned long)captured.sp,
	       (unsigned long)captured.fp, (unsigned long)captured.lr);
	printf("leaf %lx\n", (unsigned long)(uintptr_t)&leaf);
	const unsigned char *p = (const unsigned char *)(uintptr_t)captured.sp;
	const unsigned char *end = (const unsigned char *)__libc_stack_end;
	printf("stack %lx ", (unsigned long)captured.sp);
	for (; p < end; p++)
		printf("%02x", *p);
	printf("\n");
}

__attribute__((noinline)) int parent(int n) {
	leaf();
	dump();
	return n + 1;
}

__attribute__((noinline)) int grandparent(int n) {
	return parent(n) * 2;
}

int main(void) {
	return grandparent(1) == 4 ? 0 : 1;
}
