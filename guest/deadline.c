/*
 * deadline - a periodic real-time task: jobs of fixed work each period.
 *
 * Usage: deadline [jobs [work_ms [period_ms]]]   (defaults 20 8 100; decimal
 *                  numbers, jobs 1..100000, work_ms 1..10000,
 *                  period_ms work_ms..100000)
 * Job j (from 0) is released at start + j*period_ms on CLOCK_MONOTONIC. It
 * computes work_ms * 500000 iterations of a two-instruction loop (work_ms
 * of processor time on sissim's deterministic 1-instruction-per-ns clock)
 * then sleeps until the next release (clock_nanosleep, TIMER_ABSTIME). A job that ends after the next release
 * is late; the next one starts at once. At the end it prints
 *   jobs <jobs> late <late jobs>
 * and exits 0. A bad argument prints a usage line to stderr and exits 2.
 * Run alone, "deadline 5 8 100" prints "jobs 5 late 0"; several copies at
 * once overload the processor and their jobs become late, and the kernel's
 * CBS servers count deadline misses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int arg(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* spin runs n iterations of subs+b.ne. */
static void spin(uint64_t n)
{
	if (n == 0)
		return;
	__asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long jobs = 20, work = 8, period = 100, j, late = 0;
	uint64_t start, release;
	struct timespec ts;

	if ((argc > 1 && arg(argv[1], 1, 100000, &jobs) != 0) ||
	    (argc > 2 && arg(argv[2], 1, 10000, &work) != 0) ||
	    (argc > 3 && arg(argv[3], 1, 100000, &period) != 0) ||
	    period < work || argc > 4) {
		fprintf(stderr, "usage: deadline [jobs [work_ms [period_ms]]]\n");
		return 2;
	}
	start = monotonic_ns();
	for (j = 0; j < jobs; j++) {
		spin(work * 500000ULL);
		release = start + (j + 1) * period * 1000000ULL;
		if (monotonic_ns() > release) {
			late++;
			continue;
		}
		ts.tv_sec = (time_t)(release / 1000000000ULL);
		ts.tv_nsec = (long)(release % 1000000000ULL);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	printf("jobs %lu late %lu\n", jobs, late);
	return 0;
}
