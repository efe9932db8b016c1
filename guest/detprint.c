/*
 * detprint: prints everything a deterministic machine must reproduce
 * byte for byte: clock readings, the generic timer, getrandom and AT_RANDOM
 * bytes, and the initial process state from the auxiliary vector.
 *
 * Under sissim's deterministic clock two runs with the same seed print the
 * same bytes; another --seed changes only the random lines. Under a real
 * kernel every run differs. Exit status 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

extern char _start[];

static void hex(const char *name, const unsigned char *b, size_t n) {
	printf("%s=", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

int main(int argc, char **argv) {
	struct timespec mono, real;
	uint64_t cntvct, cntfrq;
	unsigned char rnd[16];
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(cntvct));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(cntfrq));
	printf("monotonic=%lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
	printf("realtime=%lld.%09ld\n", (long long)real.tv_sec, real.tv_nsec);
	printf("cntvct=%llu cntfrq=%llu\n", (unsigned long long)cntvct, (unsigned long long)cntfrq);
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		return 1;
	hex("getrandom", rnd, sizeof rnd);
	hex("at_random", (const unsigned char *)getauxval(AT_RANDOM), 16);

	/* Initial process state, as a real kernel lays it out. */
	printf("argc=%d argv0=%s\n", argc, argv[0]);
	printf("at_pagesz=%lu\n", getauxval(AT_PAGESZ));
	printf("at_platform=%s\n", (const char *)getauxval(AT_PLATFORM));
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	size_t n = strlen(execfn);
	printf("at_execfn_ends_in_name=%d\n", n >= 8 && strcmp(execfn + n - 8, "detprint") == 0);
	printf("at_entry_is_start=%d\n", getauxval(AT_ENTRY) == (unsigned long)_start);
	printf("at_phent=%lu\n", getauxval(AT_PHENT));
	printf("at_secure=%lu\n", getauxval(AT_SECURE));
	printf("argv_on_stack_aligned=%d\n", ((uintptr_t)argv & 7) == 0);
	return 0;
}
