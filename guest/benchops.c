/*
 * benchops - the kernel and memory micro-benchmarks of make bench.
 *
 * Usage: benchops <op> N [arg]
 *   store N          N rounds of 64 stores into a 64 KiB stack buffer
 *   mprotect N MiB   map MiB MiB, touch one page in its middle, then N times
 *                    mprotect that page read-only and back to read-write
 *   thread N         N pthread_create + pthread_join of an empty thread
 *   futex N          N round trips between two threads that hand a token
 *                    back and forth with FUTEX_WAIT/FUTEX_WAKE
 *
 * N = 0 measures the start-up (and set-up) the loops pay once. Prints one
 * line, the same under every engine (a checksum of the work done), and
 * exits 0; a failed call prints its errno and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char *what)
{
	printf("benchops: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t store(long n)
{
	uint64_t buf[8192];
	volatile uint64_t *p = buf; /* every store happens */
	for (long i = 0; i < n; i++) {
		/* 64 stores of 8 bytes spread over the buffer's pages. */
		for (int j = 0; j < 64; j++)
			p[(j * 128 + i) & 8191] = (uint64_t)i + j;
	}
	uint64_t sum = 0;
	for (int j = 0; j < 8192; j += 128)
		sum += n ? p[j] : 0;
	return sum;
}

static uint64_t protect(long n, long mib)
{
	size_t len = (size_t)mib << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		die("mmap");
	char *page = m + len / 2;
	page[0] = 1;
	for (long i = 0; i < n; i++) {
		if (mprotect(page, 4096, PROT_READ) != 0)
			die("mprotect read");
		if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0)
			die("mprotect write");
		page[0]++;
	}
	return (unsigned char)page[0];
}

static void *empty(void *arg)
{
	return arg;
}

static uint64_t threads(long n)
{
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *r;
		if ((errno = pthread_create(&t, NULL, empty, (void *)(uintptr_t)i)) != 0)
			die("pthread_create");
		if ((errno = pthread_join(t, &r)) != 0)
			die("pthread_join");
		sum += (uintptr_t)r;
	}
	return sum;
}

/* turn is 0 when the main thread may go, 1 when the partner may. */
static _Atomic int turn;
static long rounds;

static void pass(int to)
{
	atomic_store(&turn, to);
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void await(int me)
{
	while (atomic_load(&turn) != me)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, !me, NULL, NULL, 0);
}

static void *partner(void *arg)
{
	for (long i = 0; i < rounds; i++) {
		await(1);
		pass(0);
	}
	return arg;
}

static uint64_t futex(long n)
{
	pthread_t t;
	rounds = n;
	if ((errno = pthread_create(&t, NULL, partner, NULL)) != 0)
		die("pthread_create");
	for (long i = 0; i < n; i++) {
		pass(1);
		await(0);
	}
	if ((errno = pthread_join(t, NULL)) != 0)
		die("pthread_join");
	return (uint64_t)n;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: benchops store|mprotect|thread|futex N [MiB]\n");
		return 2;
	}
	long n = atol(argv[2]);
	uint64_t sum;
	if (strcmp(argv[1], "store") == 0)
		sum = store(n);
	else if (strcmp(argv[1], "mprotect") == 0 && argc > 3)
		sum = protect(n, atol(argv[3]));
	else if (strcmp(argv[1], "thread") == 0)
		sum = threads(n);
	else if (strcmp(argv[1], "futex") == 0)
		sum = futex(n);
	else {
		fprintf(stderr, "benchops: unknown op %s\n", argv[1]);
		return 2;
	}
	printf("%s %ld: %llu\n", argv[1], n, (unsigned long long)sum);
	return 0;
}
