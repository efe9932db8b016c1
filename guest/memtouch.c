/*
 * memtouch - demand paging of a large heap allocation.
 *
 * Usage: memtouch [MiB]   (default 64; must be a positive decimal number)
 * mallocs MiB MiB (glibc satisfies this with mmap), writes one byte in every
 * 4 KiB block - block k gets the byte (k*31 + 7) & 0xff - then reads every
 * one of those bytes back and prints
 *   touched <blocks> pages, sum <sum of the bytes read back>
 *   done
 * and exits 0. A bad argument prints a usage line to stderr and exits 2; a
 * failed malloc prints "malloc failed" to stderr and exits 1.
 *
 * The 4 KiB stride is fixed so the output does not depend on the page size.
 * Expected output: "memtouch" (64 MiB) -> "touched 16384 pages, sum 2088960",
 * "memtouch 1" -> "touched 256 pages, sum 32640", each followed by "done".
 */
#include <stdio.h>
#include <stdlib.h>

#define BLOCK 4096

int main(int argc, char **argv)
{
	unsigned long mib = 64, blocks, k, sum = 0;
	volatile unsigned char *p;
	char *end;

	if (argc > 1) {
		mib = strtoul(argv[1], &end, 10);
		if (argv[1][0] < '0' || argv[1][0] > '9' || *end != '\0' ||
		    mib == 0 || mib > (1UL << 20)) {
			fprintf(stderr, "usage: memtouch [MiB]\n");
			return 2;
		}
	}
	blocks = mib << 20 >> 12;
	p = malloc(mib << 20);
	if (p == NULL) {
		fprintf(stderr, "malloc failed\n");
		return 1;
	}
	for (k = 0; k < blocks; k++)
		p[k * BLOCK] = (unsigned char)(k * 31 + 7);
	for (k = 0; k < blocks; k++)
		sum += p[k * BLOCK];
	printf("touched %lu pages, sum %lu\n", blocks, sum);
	printf("done\n");
	return 0;
}
