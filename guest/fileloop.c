/*
 * fileloop: the small-file benchmark. Usage: fileloop DIR [N]. N times
 * (default 10000): create DIR/f<k>, write 256 bytes, close, reopen, read
 * them back, close, unlink. Prints "fileloop N ok" and exits 0; on the
 * first failure prints the failing step and errno and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *step, const char *path) {
	printf("fileloop: %s %s: %s\n", step, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: fileloop DIR [N]\n");
		return 2;
	}
	long n = argc > 2 ? atol(argv[2]) : 10000;
	char path[4096], buf[256], back[256];
	memset(buf, 'x', sizeof buf);
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/f%ld", argv[1], i % 16);
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		if (fd < 0)
			return fail("create", path);
		if (write(fd, buf, sizeof buf) != sizeof buf)
			return fail("write", path);
		close(fd);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return fail("open", path);
		if (read(fd, back, sizeof back) != sizeof back || memcmp(buf, back, sizeof buf) != 0)
			return fail("read", path);
		close(fd);
		if (unlink(path) != 0)
			return fail("unlink", path);
	}
	printf("fileloop %ld ok\n", n);
	return 0;
}
