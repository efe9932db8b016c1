/*
 * wx - W^X policy: may a page be writable and executable at once?
 *
 * 1. mmap(NULL, page, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS)
 * 2. mmap a PROT_READ|PROT_WRITE page, then mprotect it to RWX.
 * Prints the result of each as "ok" or the errno name:
 *   mmap wx: <ok|EACCES|...>
 *   mprotect wx: <ok|EACCES|...>
 * and exits 0 (the verdict is the output, not the status).
 *
 * Expected under Linux and qemu-aarch64-static:   mmap wx: ok / mprotect wx: ok
 * Expected under sissim (refuses W^X mappings):   mmap wx: EACCES / mprotect wx: EACCES
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *result(int failed, int err)
{
	const char *s;

	if (!failed)
		return "ok";
	s = strerrorname_np(err);
	return s ? s : "E?";
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int r;

	p = mmap(NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap wx: %s\n", result(p == MAP_FAILED, errno));
	if (p != MAP_FAILED)
		munmap(p, page);

	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mprotect wx: mmap rw failed: %s\n", result(1, errno));
		return 1;
	}
	r = mprotect(p, page, PROT_READ | PROT_WRITE | PROT_EXEC);
	printf("mprotect wx: %s\n", result(r != 0, errno));
	munmap(p, page);
	return 0;
}
