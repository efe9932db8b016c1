/*
 * mapzero - big mappings that are never touched: 1 GiB of /dev/zero and
 * 1 GiB of anonymous memory, mapped privately, one byte of each read.
 * Prints "mapped 2 GiB, read 0 0" and exits 0; a failed mmap prints the
 * error and exits 1. Untouched memory must cost the host nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>

int main(void)
{
	int fd = open("/dev/zero", O_RDONLY);
	volatile char *z = mmap(NULL, 1UL << 30, PROT_READ, MAP_PRIVATE, fd, 0);
	volatile char *a = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || z == MAP_FAILED || a == MAP_FAILED) {
		printf("mmap failed: %s\n", strerror(errno));
		return 1;
	}
	printf("mapped 2 GiB, read %d %d\n", z[12345], a[(1UL << 29) + 7]);
	return 0;
}
