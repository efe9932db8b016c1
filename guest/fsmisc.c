/*
 * fsmisc - self-checking test of file system calls: extended attributes,
 * fallocate, statx's birth time, statfs's f_fsid, copy_file_range,
 * splice and tee, posix_fadvise, sync_file_range, /proc/sys,
 * /proc/self/loginuid, POSIX shared memory and named semaphores in the
 * /dev/shm tmpfs, and chroot.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. It must run
 * as root in a directory of a file system with user extended attributes
 * (a tmpfs, ext4); the expected results are Linux's: every check passes
 * under qemu-aarch64-static. With the argument "tty" it only reports
 * whether /dev/tty opens (a controlling terminal), before and after
 * setsid().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"

static void xattrs(void) {
	int fd = open("x", O_RDWR | O_CREAT | O_TRUNC, 0644);
	OK("setxattr user.a", setxattr("x", "user.a", "one", 3, 0));
	OK("lsetxattr user.b", lsetxattr("x", "user.b", "", 0, 0));
	OK("fsetxattr user.c", fsetxattr(fd, "user.c", "three", 5, 0));
	TRUE("the size of a value", getxattr("x", "user.a", NULL, 0) == 3);
	char buf[256] = {0};
	TRUE("getxattr", getxattr("x", "user.a", buf, sizeof buf) == 3 && memcmp(buf, "one", 3) == 0);
	TRUE("an empty value", lgetxattr("x", "user.b", buf, sizeof buf) == 0);
	TRUE("fgetxattr", fgetxattr(fd, "user.c", buf, sizeof buf) == 5 && memcmp(buf, "three", 5) == 0);
	FAILS("a buffer too small", getxattr("x", "user.c", buf, 2), ERANGE);
	FAILS("a missing attribute", getxattr("x", "user.zz", buf, sizeof buf), ENODATA);
	FAILS("XATTR_CREATE over an existing one", setxattr("x", "user.a", "1", 1, XATTR_CREATE), EEXIST);
	FAILS("XATTR_REPLACE of a missing one", setxattr("x", "user.d", "1", 1, XATTR_REPLACE), ENODATA);
	OK("XATTR_REPLACE", setxattr("x", "user.a", "uno", 3, XATTR_REPLACE));
	FAILS("both flags: XATTR_CREATE wins", setxattr("x", "user.a", "1", 1, XATTR_CREATE | XATTR_REPLACE), EEXIST);
	FAILS("unknown flags", setxattr("x", "user.a", "1", 1, 4), EINVAL);
	ssize_t n = listxattr("x", buf, sizeof buf);
	TRUE("listxattr", n == 21 && memcmp(buf, "user.a\0user.b\0user.c\0", 21) == 0);
	TRUE("its size", listxattr("x", NULL, 0) == 21);
	FAILS("a list buffer too small", listxattr("x", buf, 5), ERANGE);
	TRUE("flistxattr", flistxattr(fd, buf, sizeof buf) == 21);
	OK("removexattr", removexattr("x", "user.b"));
	FAILS("removexattr again", removexattr("x", "user.b"), ENODATA);
	OK("fremovexattr", fremovexattr(fd, "user.c"));
	TRUE("one left", listxattr("x", buf, sizeof buf) == 7);
	FAILS("an unknown namespace", setxattr("x", "other.a", "1", 1, 0), EOPNOTSUPP);
	FAILS("a namespace without a name", setxattr("x", "user.", "1", 1, 0), EINVAL);
	FAILS("an empty name", setxattr("x", "", "1", 1, 0), ERANGE);
	char longname[300];
	memset(longname, 'a', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[299] = 0;
	FAILS("a name too long", setxattr("x", longname, "1", 1, 0), ERANGE);
	static char big[70000];
	FAILS("a value too big", setxattr("x", "user.big", big, sizeof big, 0), E2BIG);
	OK("trusted.* as root", setxattr("x", "trusted.t", "t", 1, 0));
	TRUE("read it", getxattr("x", "trusted.t", buf, sizeof buf) == 1);
	FAILS("no POSIX ACL", getxattr("x", "system.posix_acl_access", buf, sizeof buf), ENODATA);
	FAILS("a missing file", getxattr("nope", "user.a", buf, sizeof buf), ENOENT);
	symlink("x", "lnk");
	TRUE("getxattr follows a symlink", getxattr("lnk", "user.a", buf, sizeof buf) == 3);
	FAILS("lgetxattr of user.* on a symlink", lgetxattr("lnk", "user.a", buf, sizeof buf), ENODATA);
	FAILS("lsetxattr of user.* on a symlink", lsetxattr("lnk", "user.a", "1", 1, 0), EPERM);
	mkdir("d", 0755);
	OK("user.* on a directory", setxattr("d", "user.dir", "1", 1, 0));
	int p[2];
	pipe(p);
	FAILS("fgetxattr of a pipe", fgetxattr(p[0], "user.a", buf, sizeof buf), ENODATA);
	close(p[0]);
	close(p[1]);
	FAILS("procfs has none", getxattr("/proc/self/status", "user.a", buf, sizeof buf), EOPNOTSUPP);
	close(fd);
	unlink("lnk");
	unlink("x");
	rmdir("d");
}

static void allocate(void) {
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct stat st;
	OK("fallocate 8192", fallocate(fd, 0, 0, 8192));
	fstat(fd, &st);
	TRUE("the size grows, blocks allocated", st.st_size == 8192 && st.st_blocks >= 16);
	OK("FALLOC_FL_KEEP_SIZE past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
	fstat(fd, &st);
	TRUE("the size stays", st.st_size == 8192 && st.st_blocks >= 32);
	char page[4096];
	memset(page, 'x', sizeof page);
	pwrite(fd, page, sizeof page, 4096);
	blkcnt_t before = st.st_blocks;
	OK("punch a hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096));
	fstat(fd, &st);
	char c = 1;
	TRUE("it reads as zeros", pread(fd, &c, 1, 5000) == 1 && c == 0);
	TRUE("and frees the blocks", st.st_blocks < before && st.st_size == 8192);
	FAILS("PUNCH_HOLE without KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
	FAILS("a length of 0", fallocate(fd, 0, 0, 0), EINVAL);
	FAILS("a negative offset", fallocate(fd, 0, -1, 10), EINVAL);
	FAILS("an unknown mode", fallocate(fd, 0x100, 0, 10), EOPNOTSUPP);
	int ro = open("f", O_RDONLY);
	FAILS("a read-only descriptor", fallocate(ro, 0, 0, 10), EBADF);
	int p[2];
	pipe(p);
	FAILS("a pipe", fallocate(p[1], 0, 0, 10), ESPIPE);

	/* posix_fadvise returns the error. */
	TRUE("posix_fadvise SEQUENTIAL", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
	TRUE("posix_fadvise DONTNEED", posix_fadvise(ro, 0, 100, POSIX_FADV_DONTNEED) == 0);
	TRUE("a bad advice", posix_fadvise(fd, 0, 0, 99) == EINVAL);
	TRUE("a pipe", posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL) == ESPIPE);
	TRUE("a bad descriptor", posix_fadvise(99, 0, 0, POSIX_FADV_NORMAL) == EBADF);
	OK("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	FAILS("bad flags", sync_file_range(fd, 0, 0, 8), EINVAL);
	FAILS("a negative offset", sync_file_range(fd, -1, 0, 0), EINVAL);
	FAILS("a pipe", sync_file_range(p[0], 0, 0, 0), ESPIPE);

	/* statx's birth time and statfs's f_fsid. */
	struct statx sx;
	OK("statx", statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, &sx));
	TRUE("a birth time", (sx.stx_mask & STATX_BTIME) && sx.stx_btime.tv_sec > 0 &&
	                         sx.stx_btime.tv_sec <= sx.stx_mtime.tv_sec);
	struct statfs sf;
	OK("statfs", statfs(".", &sf));
	TRUE("a file system id", sf.f_fsid.__val[0] != 0 || sf.f_fsid.__val[1] != 0);
	close(fd);
	close(ro);
	close(p[0]);
	close(p[1]);
	unlink("f");
}

static void copy_range(void) {
	int a = open("a", O_RDWR | O_CREAT | O_TRUNC, 0644);
	int b = open("b", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(a, "0123456789", 10);
	loff_t in = 2, out = 0;
	TRUE("copy 5 bytes at offsets", copy_file_range(a, &in, b, &out, 5, 0) == 5);
	TRUE("the offsets moved", in == 7 && out == 5);
	char buf[16] = {0};
	TRUE("the copy", pread(b, buf, sizeof buf, 0) == 5 && memcmp(buf, "23456", 5) == 0);
	TRUE("the file offsets did not", lseek(a, 0, SEEK_CUR) == 10 && lseek(b, 0, SEEK_CUR) == 0);
	lseek(a, 8, SEEK_SET);
	TRUE("with the file offsets, to the end", copy_file_range(a, NULL, b, NULL, 100, 0) == 2);
	TRUE("they advanced", lseek(a, 0, SEEK_CUR) == 10 && lseek(b, 0, SEEK_CUR) == 2);
	TRUE("at the end: 0", copy_file_range(a, NULL, b, NULL, 100, 0) == 0);
	FAILS("flags", copy_file_range(a, NULL, b, NULL, 1, 1), EINVAL);
	in = 0, out = 2;
	FAILS("overlapping ranges of one file", copy_file_range(a, &in, a, &out, 5, 0), EINVAL);
	int ap = open("b", O_WRONLY | O_APPEND);
	FAILS("to an O_APPEND descriptor", copy_file_range(a, NULL, ap, NULL, 1, 0), EBADF);
	int p[2];
	pipe(p);
	FAILS("from a pipe", copy_file_range(p[0], NULL, b, NULL, 1, 0), EINVAL);
	close(p[0]);
	close(p[1]);
	close(ap);
	close(a);
	close(b);
	unlink("a");
	unlink("b");
}

static void vectors(void) {
	int fd = open("v", O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct iovec w[2] = {{"abc", 3}, {"defg", 4}};
	TRUE("pwritev at 10", pwritev(fd, w, 2, 10) == 7);
	TRUE("the offset stays", lseek(fd, 0, SEEK_CUR) == 0);
	char a[2], b[8];
	struct iovec r[2] = {{a, 2}, {b, 8}};
	TRUE("preadv at 11", preadv(fd, r, 2, 11) == 6 && memcmp(a, "bc", 2) == 0 && memcmp(b, "defg", 4) == 0);
	FAILS("preadv at a negative offset", preadv(fd, r, 2, -1), EINVAL);
	TRUE("preadv2 at -1 reads at the file offset", preadv2(fd, r, 2, -1, 0) == 10 && lseek(fd, 0, SEEK_CUR) == 10);
	TRUE("pwritev2 at -1 writes at the file offset", pwritev2(fd, w, 1, -1, 0) == 3 && lseek(fd, 0, SEEK_CUR) == 13);
	TRUE("there", pread(fd, b, 3, 10) == 3 && memcmp(b, "abc", 3) == 0);
	FAILS("an unknown flag", preadv2(fd, r, 2, 0, 0x1000), EOPNOTSUPP);
	int p[2];
	pipe(p);
	FAILS("preadv of a pipe", preadv(p[0], r, 2, 0), ESPIPE);
	OK("syncfs", syncfs(fd));
	FAILS("syncfs of a bad descriptor", syncfs(99), EBADF);
	OK("readahead", readahead(fd, 0, 4096));
	FAILS("readahead of a pipe", readahead(p[0], 0, 1), EINVAL);

	int d1 = dup(fd), d2 = dup(fd), d3 = dup(fd);
	OK("close_range CLOEXEC", syscall(SYS_close_range, d1, d1, 4));
	TRUE("marked", fcntl(d1, F_GETFD) == FD_CLOEXEC);
	OK("close_range", syscall(SYS_close_range, d2, d3, 0));
	TRUE("closed", fcntl(d2, F_GETFD) == -1 && fcntl(d3, F_GETFD) == -1 && fcntl(d1, F_GETFD) >= 0);
	FAILS("first > last", syscall(SYS_close_range, 5, 4, 0), EINVAL);
	FAILS("bad flags", syscall(SYS_close_range, 5, 6, 1), EINVAL);
	OK("close_range UNSHARE of an unshared table", syscall(SYS_close_range, d1, d1, 2));
	close(p[0]);
	close(p[1]);
	close(fd);
	unlink("v");
}

static int read_file(const char *path, char *buf, size_t n) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t k = read(fd, buf, n - 1);
	close(fd);
	buf[k > 0 ? k : 0] = 0;
	return k;
}

static int numeric_line(const char *s) {
	if (!*s)
		return 0;
	for (; *s && *s != '\n'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return *s == '\n' && s[1] == 0;
}

static void procsys(void) {
	char buf[256];
	TRUE("kernel.ostype", read_file("/proc/sys/kernel/ostype", buf, sizeof buf) > 0 && strcmp(buf, "Linux\n") == 0);
	TRUE("kernel.osrelease", read_file("/proc/sys/kernel/osrelease", buf, sizeof buf) > 1);
	TRUE("kernel.hostname", read_file("/proc/sys/kernel/hostname", buf, sizeof buf) > 1);
	const char *nums[] = {"/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max", "/proc/sys/vm/overcommit_memory",
	                      "/proc/sys/vm/max_map_count", "/proc/sys/fs/file-max", "/proc/sys/net/core/somaxconn"};
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		TRUE(nums[i], read_file(nums[i], buf, sizeof buf) > 0 && numeric_line(buf));
	DIR *d = opendir("/proc/sys/kernel");
	int seen = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		seen += strcmp(e->d_name, "ostype") == 0 && e->d_type == DT_REG;
	if (d)
		closedir(d);
	TRUE("/proc/sys/kernel lists ostype", seen == 1);
	struct stat st;
	TRUE("/proc/sys/vm is a directory", stat("/proc/sys/vm", &st) == 0 && S_ISDIR(st.st_mode));
	FAILS("a missing parameter", open("/proc/sys/kernel/nope", O_RDONLY), ENOENT);
	TRUE("/proc/self/loginuid", read_file("/proc/self/loginuid", buf, sizeof buf) == 10 && strcmp(buf, "4294967295") == 0);
}

static void jail(void) {
	mkdir("jail", 0755);
	mkdir("jail/sub", 0755);
	close(open("jail/inside", O_CREAT | O_WRONLY, 0644));
	symlink("/inside", "jail/abs");
	OK("chroot", chroot("jail"));
	struct stat st;
	TRUE("/inside is the jail's", stat("/inside", &st) == 0 && S_ISREG(st.st_mode));
	TRUE("an absolute symlink stays inside", stat("/abs", &st) == 0 && S_ISREG(st.st_mode));
	TRUE("/.. is /", stat("/../../inside", &st) == 0);
	char buf[256];
	errno = 0;
	TRUE("getcwd outside the root fails", getcwd(buf, sizeof buf) == NULL && errno == ENOENT);
	OK("chdir /sub", chdir("/sub"));
	TRUE("getcwd is /sub", getcwd(buf, sizeof buf) && strcmp(buf, "/sub") == 0);
	OK("chdir ../..", chdir("../.."));
	TRUE("still /", getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
	FAILS("chroot to a file", chroot("/inside"), ENOTDIR);
	FAILS("chroot to nothing", chroot("/nope"), ENOENT);
	OK("chroot again, deeper", chroot("sub"));
	FAILS("the old root is gone", stat("/inside", &st), ENOENT);
	setresuid(1000, 1000, 1000);
	FAILS("not root: EPERM", chroot("/"), EPERM);
}

static void splices(void) {
	int p[2], q[2];
	char b[64] = {0};
	pipe(p);
	pipe(q);
	int fd = open("s", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "hello splice world", 18);
	off64_t off = 6;
	TRUE("splice file to pipe at an offset", splice(fd, &off, p[1], NULL, 6, 0) == 6 && off == 12);
	TRUE("the file offset did not move", lseek(fd, 0, SEEK_CUR) == 18);
	TRUE("tee copies", tee(p[0], q[1], 100, 0) == 6);
	TRUE("the copy reads", read(q[0], b, sizeof b) == 6 && memcmp(b, "splice", 6) == 0);
	off64_t o2 = 0;
	TRUE("splice pipe to file at an offset", splice(p[0], NULL, fd, &o2, 100, 0) == 6 && o2 == 6);
	memset(b, 0, sizeof b);
	TRUE("the file holds it", pread(fd, b, sizeof b, 0) == 18 && memcmp(b, "splicesplice world", 18) == 0);
	FAILS("splice without a pipe", splice(fd, NULL, fd, NULL, 1, 0), EINVAL);
	FAILS("an offset for a pipe", splice(p[0], &off, fd, NULL, 1, 0), ESPIPE);
	FAILS("an empty pipe, nonblocking", splice(p[0], NULL, fd, NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
	FAILS("tee of one pipe to itself", tee(p[0], p[1], 1, 0), EINVAL);
	write(p[1], "abc", 3);
	TRUE("splice pipe to pipe", splice(p[0], NULL, q[1], NULL, 2, 0) == 2);
	TRUE("the rest stays", read(p[0], b, sizeof b) == 1 && b[0] == 'c');
	close(p[1]);
	TRUE("end of file", splice(p[0], NULL, fd, NULL, 1, 0) == 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	TRUE("no reader: EPIPE", splice(fd, &o2, q[1], NULL, 1, 0) == 1 && (close(q[0]), 1) &&
	     splice(fd, &o2, q[1], NULL, 1, 0) == -1 && errno == EPIPE);
	close(q[1]);
	close(fd);
}

static unsigned modeof(const char *p) {
	struct stat st;
	return lstat(p, &st) == 0 ? st.st_mode & 07777 : 0;
}

/* fchmodat2 (Linux 6.6; qemu-user 7.2 has not got it). */
static void fchmodat2s(void) {
	int fd = open("f2", O_CREAT | O_RDWR, 0600);
	symlink("f2", "l2");
	TRUE("fchmodat2 follows a symlink", syscall(452, AT_FDCWD, "l2", 0640, 0) == 0 && modeof("f2") == 0640);
	FAILS("AT_SYMLINK_NOFOLLOW on a symlink", syscall(452, AT_FDCWD, "l2", 0600, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	TRUE("AT_SYMLINK_NOFOLLOW on a file", syscall(452, AT_FDCWD, "f2", 0604, AT_SYMLINK_NOFOLLOW) == 0 && modeof("f2") == 0604);
	TRUE("AT_EMPTY_PATH", syscall(452, fd, "", 0600, AT_EMPTY_PATH) == 0 && modeof("f2") == 0600);
	FAILS("an empty path alone", syscall(452, fd, "", 0600, 0), ENOENT);
	FAILS("unknown flags", syscall(452, AT_FDCWD, "f2", 0600, 0x2), EINVAL);
	close(fd);
	unlink("l2");
	unlink("f2");
}

/* shm: shm_open and sem_open make their objects in /dev/shm, a tmpfs on
 * Linux systems (Python's multiprocessing locks are named semaphores). */
static void shm(void) {
	struct statfs sf;
	TRUE("/dev/shm is a tmpfs", statfs("/dev/shm", &sf) == 0 && sf.f_type == 0x01021994);
	char name[64];
	snprintf(name, sizeof name, "/fsmisc-%d", (int)getpid());
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	OK("shm_open", fd);
	OK("ftruncate a shared memory object", ftruncate(fd, 4096));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TRUE("mmap it", p != MAP_FAILED);
	if (p != MAP_FAILED)
		strcpy(p, "shared");
	int fd2 = shm_open(name, O_RDONLY, 0);
	char buf[8] = {0};
	TRUE("seen through a second shm_open", read(fd2, buf, 6) == 6 && strcmp(buf, "shared") == 0);
	close(fd2);
	OK("shm_unlink", shm_unlink(name));
	FAILS("gone after shm_unlink", shm_open(name, O_RDONLY, 0), ENOENT);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(fd);
	sem_t *sem = sem_open(name, O_CREAT | O_EXCL, 0600, 2);
	TRUE("sem_open", sem != SEM_FAILED);
	int v = -1;
	if (sem != SEM_FAILED) {
		sem_wait(sem);
		sem_post(sem);
		sem_post(sem);
		sem_getvalue(sem, &v);
		sem_close(sem);
	}
	TRUE("a named semaphore counts", v == 3);
	OK("sem_unlink", sem_unlink(name));
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "fchmodat2") == 0) {
		fchmodat2s();
		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	if (argc > 1 && strcmp(argv[1], "tty") == 0) {
		int fd = open("/dev/tty", O_RDWR);
		printf("tty: %s\n", fd >= 0 ? "yes" : strerror(errno));
		fflush(stdout);
		if (fork() == 0) {
			setsid();
			fd = open("/dev/tty", O_RDWR);
			printf("after setsid: %s\n", fd >= 0 ? "yes" : strerror(errno));
			return 0;
		}
		wait(NULL);
		return 0;
	}
	xattrs();
	allocate();
	copy_range();
	splices();
	vectors();
	procsys();
	shm();
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		passed = failed = 0;
		jail();
		fflush(stdout);
		_exit(failed != 0);
	}
	int st;
	waitpid(c, &st, 0);
	TRUE("chroot", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink("jail/inside");
	unlink("jail/abs");
	rmdir("jail/sub");
	rmdir("jail");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
