/*
 * memhog - a memory-hungry program that grows in steps.
 *
 * Usage: memhog [steps [MiB [ms]]]   (defaults 16 2 200; decimal numbers,
 *                                     steps 1..256, MiB 1..1024, ms 0..60000)
 * Each step maps MiB MiB of anonymous memory (mmap), writes one byte into
 * every 4 KiB page of it - page k of step s gets (s*7 + k*31) & 0xff - and
 * prints
 *   step <s>: <total> MiB
 * then sleeps ms milliseconds (nanosleep). After the last step it reads
 * every touched byte back, prints
 *   held <total> MiB, sum <sum of the bytes read back>
 * unmaps every chunk, prints "released" and exits 0.
 *
 * A bad argument prints a usage line to stderr and exits 2; a failed mmap
 * prints "mmap failed at step <s>" to stderr and exits 1. The program does
 * not catch SIGTERM: a kernel that reclaims memory by terminating it ends
 * it there. Output depends only on the arguments.
 * Expected output of "memhog 2 1 0": "step 1: 1 MiB", "step 2: 2 MiB",
 * "held 2 MiB, sum 65280", "released".
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096
#define MAXSTEPS 256

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

static void nap(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	unsigned long steps = 16, mib = 2, ms = 200, s, k, pages, sum = 0;
	volatile unsigned char *chunk[MAXSTEPS];

	if ((argc > 1 && arg(argv[1], 1, MAXSTEPS, &steps) != 0) ||
	    (argc > 2 && arg(argv[2], 1, 1024, &mib) != 0) ||
	    (argc > 3 && arg(argv[3], 0, 60000, &ms) != 0) || argc > 4) {
		fprintf(stderr, "usage: memhog [steps [MiB [ms]]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	pages = (mib << 20) / PAGE;
	for (s = 0; s < steps; s++) {
		void *p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "mmap failed at step %lu\n", s + 1);
			return 1;
		}
		chunk[s] = p;
		for (k = 0; k < pages; k++)
			chunk[s][k * PAGE] = (unsigned char)((s + 1) * 7 + k * 31);
		printf("step %lu: %lu MiB\n", s + 1, (s + 1) * mib);
		nap(ms);
	}
	for (s = 0; s < steps; s++)
		for (k = 0; k < pages; k++)
			sum += chunk[s][k * PAGE];
	printf("held %lu MiB, sum %lu\n", steps * mib, sum);
	for (s = 0; s < steps; s++)
		munmap((void *)chunk[s], mib << 20);
	printf("released\n");
	return 0;
}
