/*
 * mmapfile: file-backed and anonymous mmap semantics a loader or a database
 * relies on. Creates /tmp/mmapfile.dat (8 KiB: page 0 'a'..., page 1 'b'...
 * with "tail" at its end), maps it privately at offsets 0 and 4096, checks the
 * contents, writes to a private mapping (the file must not change), and uses
 * MAP_FIXED over an existing anonymous mapping. Prints one line per check and exits 0 when all pass.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failed;

static void check(int ok, const char *what) {
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	failed += !ok;
}

int main(void) {
	const char *path = "/tmp/mmapfile.dat";
	char page[4096];
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	check(fd >= 0, "create file");
	memset(page, 'a', sizeof page);
	check(write(fd, page, sizeof page) == sizeof page, "write page 0");
	memset(page, 'b', sizeof page);
	memcpy(page + sizeof page - 4, "tail", 4);
	check(write(fd, page, sizeof page) == sizeof page, "write page 1");

	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check(p != MAP_FAILED, "mmap whole file");
	check(p[0] == 'a' && p[4095] == 'a' && p[4096] == 'b', "contents at offset 0");
	check(memcmp(p + 8188, "tail", 4) == 0, "contents at the end");
	p[0] = 'X';
	char c;
	check(pread(fd, &c, 1, 0) == 1 && c == 'a', "private write leaves the file alone");
	check(munmap(p, 8192) == 0, "munmap");

	char *q = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
	check(q != MAP_FAILED && q[0] == 'b', "mmap at offset 4096");
	check(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED, "unaligned offset fails");

	check(q[4095] == 'l', "last byte of the file through offset 4096");

	char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(a != MAP_FAILED && a[0] == 0 && a[3 * 4096 - 1] == 0, "anonymous memory is zero");
	memset(a, 1, 3 * 4096);
	char *b = mmap(a + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	check(b == a + 4096 && b[0] == 'a', "MAP_FIXED replaces the middle page");
	check(a[0] == 1 && a[2 * 4096] == 1, "neighbours keep their contents");
	check(munmap(a, 3 * 4096) == 0, "munmap across three mappings");

	close(fd);
	unlink(path);
	printf("%d failed\n", failed);
	return failed != 0;
}
