/*
 * appendonly - self-checking test of an append-only file (FS_APPEND_FL,
 * chattr +a). Usage: appendonly FILE, where FILE is a regular file the
 * kernel made append-only (vfs.FS.SetAppendOnly) and that holds at least
 * one byte. Prints "ok - <name>" or "not ok - <name>: <detail>" per
 * check, then "<N> passed, <M> failed"; exits 0 when every check passed.
 *
 * The expectations are Linux's for a process without
 * CAP_LINUX_IMMUTABLE: writes only append, and the file cannot be
 * truncated, unlinked, renamed, replaced, linked, changed in its mode,
 * or have the flag cleared.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static off_t size_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: appendonly FILE\n");
		return 2;
	}
	const char *f = argv[1];
	char other[4096];
	snprintf(other, sizeof other, "%s.other", f);

	int fd = open(f, O_RDONLY);
	OK("open O_RDONLY", fd);
	int flags = 0;
	OK("FS_IOC_GETFLAGS", ioctl(fd, FS_IOC_GETFLAGS, &flags));
	TRUE("FS_APPEND_FL is set", flags & FS_APPEND_FL);
	int none = 0;
	FAILS("FS_IOC_SETFLAGS clearing it EPERM", ioctl(fd, FS_IOC_SETFLAGS, &none), EPERM);
	OK("FS_IOC_SETFLAGS unchanged", ioctl(fd, FS_IOC_SETFLAGS, &flags));
	close(fd);

	FAILS("open O_WRONLY EPERM", open(f, O_WRONLY), EPERM);
	FAILS("open O_RDWR EPERM", open(f, O_RDWR), EPERM);
	FAILS("open O_APPEND|O_TRUNC EPERM", open(f, O_WRONLY | O_APPEND | O_TRUNC), EPERM);

	off_t before = size_of(f);
	TRUE("not empty", before > 0);
	fd = open(f, O_WRONLY | O_APPEND);
	OK("open O_WRONLY|O_APPEND", fd);
	OK("write appends", write(fd, "x", 1));
	OK("pwrite at 0 appends too", pwrite(fd, "y", 1, 0));
	TRUE("grew by 2", size_of(f) == before + 2);
	char first;
	int rfd = open(f, O_RDONLY);
	TRUE("the first byte is kept", rfd >= 0 && pread(rfd, &first, 1, 0) == 1 && first != 'y');
	close(rfd);
	FAILS("ftruncate EPERM", ftruncate(fd, 0), EPERM);
	FAILS("fcntl F_SETFL without O_APPEND EPERM", fcntl(fd, F_SETFL, 0), EPERM);
	OK("fcntl F_SETFL keeping O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	close(fd);

	FAILS("truncate EPERM", truncate(f, 0), EPERM);
	FAILS("unlink EPERM", unlink(f), EPERM);
	FAILS("rename EPERM", rename(f, other), EPERM);
	FAILS("link EPERM", link(f, other), EPERM);
	FAILS("chmod EPERM", chmod(f, 0600), EPERM);
	fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	OK("create another file", fd);
	close(fd);
	FAILS("rename over it EPERM", rename(other, f), EPERM);
	OK("unlink the other file", unlink(other));
	TRUE("size kept", size_of(f) == before + 2);

	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
