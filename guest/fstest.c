/*
 * fstest - self-checking test of the VFS system calls.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed"; exits 0 when every check passed. The expected
 * results are Linux's (run as root): every check passes under
 * qemu-aarch64-static and must pass under sissim. Nothing printed depends
 * on times, inode numbers or paths, so runs compare byte for byte.
 *
 * Works in a fresh directory: argv[1] if given, else a new /tmp/fstest.*
 * (mkdtemp), removed at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "check.h"

static void write_file(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror("write");
		close(fd);
	}
}

static off_t size_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

struct linux_dirent64 {
	unsigned long d_ino;
	long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static void test_open(void)
{
	int fd = open("f", O_WRONLY | O_CREAT | O_EXCL, 0640);
	OK("open O_CREAT|O_EXCL new", fd);
	OK("write 5", write(fd, "hello", 5));
	close(fd);
	FAILS("open O_CREAT|O_EXCL existing EEXIST", open("f", O_WRONLY | O_CREAT | O_EXCL, 0640), EEXIST);
	FAILS("open missing ENOENT", open("missing", O_RDONLY), ENOENT);
	FAILS("open through file ENOTDIR", open("f/x", O_RDONLY), ENOTDIR);
	FAILS("open O_DIRECTORY on file ENOTDIR", open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	FAILS("open dir O_WRONLY EISDIR", open(".", O_WRONLY), EISDIR);
	FAILS("open dir O_RDWR EISDIR", open(".", O_RDWR), EISDIR);
	FAILS("open O_CREAT trailing slash EISDIR", open("newdir/", O_WRONLY | O_CREAT, 0644), EISDIR);
	FAILS("open O_CREAT|O_DIRECTORY EINVAL", open("nd", O_RDONLY | O_CREAT | O_DIRECTORY, 0644), EINVAL);
	struct stat st;
	TRUE("O_CREAT mode with umask", stat("f", &st) == 0 && (st.st_mode & 07777) == 0640 && S_ISREG(st.st_mode));

	fd = open("f", O_WRONLY | O_APPEND);
	OK("open O_APPEND", fd);
	lseek(fd, 0, SEEK_SET);
	OK("write O_APPEND", write(fd, " world", 6));
	close(fd);
	TRUE("O_APPEND wrote at the end", size_of("f") == 11);
	char buf[32] = {0};
	fd = open("f", O_RDONLY);
	TRUE("read back", read(fd, buf, sizeof buf) == 11 && memcmp(buf, "hello world", 11) == 0);
	FAILS("write on O_RDONLY EBADF", write(fd, "x", 1), EBADF);
	close(fd);
	fd = open("ap", O_WRONLY | O_CREAT | O_APPEND, 0644);
	TRUE("pwrite with O_APPEND appends", fd >= 0 && write(fd, "ab", 2) == 2 &&
	     pwrite(fd, "c", 1, 0) == 1 && size_of("ap") == 3);
	close(fd);
	OK("unlink ap", unlink("ap"));
	fd = open("f", O_RDWR | O_TRUNC);
	TRUE("O_TRUNC empties", fd >= 0 && size_of("f") == 0);
	close(fd);

	fd = open("f", O_RDONLY | O_CLOEXEC);
	TRUE("O_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD) == FD_CLOEXEC);
	TRUE("F_GETFL access mode", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	close(fd);

	OK("symlink", symlink("f", "lf"));
	FAILS("open O_NOFOLLOW on symlink ELOOP", open("lf", O_RDONLY | O_NOFOLLOW), ELOOP);
	OK("open through symlink", fd = open("lf", O_RDONLY));
	close(fd);
	OK("dangling symlink", symlink("target", "dangle"));
	FAILS("O_CREAT|O_EXCL on dangling symlink EEXIST", open("dangle", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	fd = open("dangle", O_WRONLY | O_CREAT, 0644);
	TRUE("O_CREAT through dangling symlink creates the target", fd >= 0 && size_of("target") == 0);
	close(fd);

	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = 0;
	FAILS("name over NAME_MAX ENAMETOOLONG", open(longname, O_RDONLY), ENAMETOOLONG);
	static char longpath[5000];
	for (int i = 0; i < 4998; i += 2)
		memcpy(longpath + i, "./", 2);
	longpath[4998] = 0;
	FAILS("path over PATH_MAX ENAMETOOLONG", open(longpath, O_RDONLY), ENAMETOOLONG);
	FAILS("empty path ENOENT", open("", O_RDONLY), ENOENT);
	FAILS("read bad fd EBADF", read(999, buf, 1), EBADF);
	FAILS("openat bad dirfd EBADF", openat(999, "f", O_RDONLY), EBADF);
	fd = open("f", O_RDONLY);
	FAILS("openat file dirfd ENOTDIR", openat(fd, "x", O_RDONLY), ENOTDIR);
	OK("openat file dirfd absolute path", close(openat(fd, "/", O_RDONLY)));
	close(fd);
}

static void test_dirs(void)
{
	OK("mkdir", mkdir("d", 0755));
	FAILS("mkdir existing EEXIST", mkdir("d", 0755), EEXIST);
	FAILS("mkdir missing parent ENOENT", mkdir("nope/d", 0755), ENOENT);
	FAILS("mkdir under file ENOTDIR", mkdir("f/d", 0755), ENOTDIR);
	OK("mkdir trailing slash", mkdir("d2/", 0755));
	write_file("d/a", "a");
	write_file("d/b", "bb");
	OK("mkdir sub", mkdir("d/sub", 0755));
	struct stat st;
	TRUE("dir nlink counts subdirs", stat("d", &st) == 0 && st.st_nlink == 3 && S_ISDIR(st.st_mode));
	FAILS("rmdir non-empty ENOTEMPTY", rmdir("d"), ENOTEMPTY);
	FAILS("unlink dir EISDIR", unlink("d"), EISDIR);
	FAILS("rmdir file ENOTDIR", rmdir("f"), ENOTDIR);
	FAILS("rmdir . EINVAL", rmdir("d/."), EINVAL);
	FAILS("rmdir missing ENOENT", rmdir("d/zz"), ENOENT);
	FAILS("unlinkat bad flag EINVAL", unlinkat(AT_FDCWD, "d/a", 0x1), EINVAL);
	OK("unlinkat AT_REMOVEDIR", unlinkat(AT_FDCWD, "d2", AT_REMOVEDIR));

	/* getdents64 */
	int fd = open("d", O_RDONLY | O_DIRECTORY);
	char buf[4096];
	int n = syscall(SYS_getdents64, fd, buf, sizeof buf);
	int count = 0, dots = 0, types_ok = 1;
	for (int off = 0; off < n;) {
		struct linux_dirent64 *d = (void *)(buf + off);
		count++;
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			dots++;
		if (!strcmp(d->d_name, "a") && d->d_type != DT_REG)
			types_ok = 0;
		if (!strcmp(d->d_name, "sub") && d->d_type != DT_DIR)
			types_ok = 0;
		if (d->d_reclen % 8 != 0)
			types_ok = 0;
		off += d->d_reclen;
	}
	TRUE("getdents64 lists . .. a b sub", n > 0 && count == 5 && dots == 2);
	TRUE("getdents64 d_type and reclen", types_ok);
	TRUE("getdents64 at end returns 0", syscall(SYS_getdents64, fd, buf, sizeof buf) == 0);
	lseek(fd, 0, SEEK_SET);
	TRUE("getdents64 after rewind", syscall(SYS_getdents64, fd, buf, sizeof buf) == n);
	lseek(fd, 0, SEEK_SET);
	FAILS("getdents64 tiny buffer EINVAL", syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	close(fd);
	fd = open("f", O_RDONLY);
	FAILS("getdents64 on file ENOTDIR", syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
	close(fd);
	FAILS("getdents64 bad fd EBADF", syscall(SYS_getdents64, 999, buf, sizeof buf), EBADF);

	DIR *dir = opendir("d");
	int seen = 0;
	struct dirent *de;
	while (dir && (de = readdir(dir)) != NULL)
		seen++;
	if (dir)
		closedir(dir);
	TRUE("readdir sees 5 entries", seen == 5);
}

static void test_links(void)
{
	struct stat a, b;
	OK("link", link("d/a", "hard"));
	TRUE("link shares inode, nlink 2", stat("d/a", &a) == 0 && stat("hard", &b) == 0 &&
	     a.st_ino == b.st_ino && a.st_dev == b.st_dev && b.st_nlink == 2);
	FAILS("link existing EEXIST", link("d/a", "hard"), EEXIST);
	FAILS("link dir EPERM", link("d", "dlink"), EPERM);
	FAILS("link missing ENOENT", link("nothing", "x"), ENOENT);
	OK("unlink one link", unlink("hard"));
	TRUE("nlink back to 1", stat("d/a", &a) == 0 && a.st_nlink == 1);
	FAILS("unlink missing ENOENT", unlink("hard"), ENOENT);

	char buf[64];
	OK("symlink relative", symlink("d/b", "sl"));
	FAILS("symlink existing EEXIST", symlink("x", "sl"), EEXIST);
	ssize_t n = readlink("sl", buf, sizeof buf);
	TRUE("readlink", n == 3 && memcmp(buf, "d/b", 3) == 0);
	TRUE("readlink truncates", readlink("sl", buf, 2) == 2 && memcmp(buf, "d/", 2) == 0);
	FAILS("readlink non-link EINVAL", readlink("f", buf, sizeof buf), EINVAL);
	FAILS("readlink missing ENOENT", readlink("nothing", buf, sizeof buf), ENOENT);
	FAILS("readlinkat bufsiz 0 EINVAL", syscall(SYS_readlinkat, AT_FDCWD, "sl", buf, 0), EINVAL);
	TRUE("lstat sees the link", lstat("sl", &a) == 0 && S_ISLNK(a.st_mode) && a.st_size == 3);
	TRUE("stat follows the link", stat("sl", &b) == 0 && S_ISREG(b.st_mode) && b.st_size == 2);
	TRUE("fstatat AT_SYMLINK_NOFOLLOW", fstatat(AT_FDCWD, "sl", &a, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(a.st_mode));
	FAILS("fstatat bad flag EINVAL", fstatat(AT_FDCWD, "sl", &a, 0x4), EINVAL);
	OK("symlink loop a", symlink("loopb", "loopa"));
	OK("symlink loop b", symlink("loopa", "loopb"));
	FAILS("stat symlink loop ELOOP", stat("loopa", &a), ELOOP);
	OK("symlink to dir", symlink("d", "sd"));
	TRUE("walk through dir symlink", stat("sd/sub/../a", &a) == 0 && S_ISREG(a.st_mode));
	TRUE("lstat trailing slash follows", lstat("sd/", &a) == 0 && S_ISDIR(a.st_mode));
	OK("symlink up", symlink("..", "d/up"));
	TRUE("symlink .. resolves", stat("d/up/f", &a) == 0 && S_ISREG(a.st_mode));
	n = readlink("/proc/self/exe", buf, sizeof buf);
	TRUE("readlink /proc/self/exe", n > 0 && buf[0] == '/');
}

static void test_rename(void)
{
	write_file("r1", "one");
	write_file("r2", "two");
	OK("rename file over file", rename("r1", "r2"));
	TRUE("rename replaced", size_of("r2") == 3 && size_of("r1") == -1);
	FAILS("rename missing ENOENT", rename("r1", "r3"), ENOENT);
	FAILS("rename dir into itself EINVAL", rename("d", "d/sub/x"), EINVAL);
	FAILS("rename file over dir EISDIR", rename("r2", "d"), EISDIR);
	FAILS("rename dir over file ENOTDIR", rename("d", "r2"), ENOTDIR);
	mkdir("e", 0755);
	FAILS("rename dir over non-empty dir ENOTEMPTY", rename("e", "d"), ENOTEMPTY);
	OK("rename dir over empty dir", rename("e", "d/sub"));
	write_file("r4", "four");
	FAILS("renameat2 NOREPLACE EEXIST", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r2", 1), EEXIST);
	OK("renameat2 NOREPLACE new name", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r5", 1));
	OK("renameat2 EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "r2", 2));
	TRUE("exchange swapped", size_of("r2") == 4 && size_of("r5") == 3);
	FAILS("renameat2 EXCHANGE missing ENOENT", syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "r9", 2), ENOENT);
	FAILS("renameat2 bad flags EINVAL", syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "r9", 3), EINVAL);
	OK("rename same file", rename("r5", "r5"));
}

static void test_attrs(void)
{
	struct stat st;
	int fd = open("f", O_RDWR);
	OK("fchmod", fchmod(fd, 0600));
	TRUE("fchmod applied", fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0600);
	OK("fchmodat", fchmodat(AT_FDCWD, "f", 0751, 0));
	TRUE("fchmodat applied", stat("f", &st) == 0 && (st.st_mode & 07777) == 0751);
	FAILS("fchmodat missing ENOENT", fchmodat(AT_FDCWD, "zz", 0644, 0), ENOENT);
	OK("fchownat to self", fchownat(AT_FDCWD, "f", getuid(), getgid(), 0));
	OK("fchownat -1 -1", fchownat(AT_FDCWD, "f", -1, -1, AT_SYMLINK_NOFOLLOW));
	OK("fchown", fchown(fd, getuid(), getgid()));
	TRUE("owner", stat("f", &st) == 0 && st.st_uid == getuid() && st.st_gid == getgid());
	FAILS("fchownat bad flag EINVAL", fchownat(AT_FDCWD, "f", -1, -1, 0x4), EINVAL);

	OK("ftruncate grow", ftruncate(fd, 100));
	TRUE("ftruncate size 100", fstat(fd, &st) == 0 && st.st_size == 100);
	char buf[8];
	TRUE("grown part reads zeros", pread(fd, buf, 4, 50) == 4 && buf[0] == 0 && buf[3] == 0);
	OK("ftruncate shrink", ftruncate(fd, 3));
	TRUE("ftruncate size 3", fstat(fd, &st) == 0 && st.st_size == 3);
	FAILS("ftruncate negative EINVAL", ftruncate(fd, -1), EINVAL);
	OK("fsync", fsync(fd));
	OK("fdatasync", fdatasync(fd));
	close(fd);
	fd = open("f", O_RDONLY);
	FAILS("ftruncate read-only fd EINVAL", ftruncate(fd, 0), EINVAL);
	close(fd);
	FAILS("ftruncate bad fd EBADF", ftruncate(999, 0), EBADF);
	FAILS("fsync bad fd EBADF", fsync(999), EBADF);
	OK("truncate", truncate("f", 7));
	TRUE("truncate size", size_of("f") == 7);
	FAILS("truncate dir EISDIR", truncate("d", 0), EISDIR);
	FAILS("truncate missing ENOENT", truncate("zz", 0), ENOENT);

	OK("faccessat F_OK", faccessat(AT_FDCWD, "f", F_OK, 0));
	OK("faccessat R_OK|W_OK", faccessat(AT_FDCWD, "f", R_OK | W_OK, 0));
	chmod("f", 0644);
	FAILS("faccessat X_OK without x bits EACCES", faccessat(AT_FDCWD, "f", X_OK, 0), EACCES);
	OK("faccessat X_OK on dir", faccessat(AT_FDCWD, "d", X_OK, 0));
	FAILS("faccessat missing ENOENT", faccessat(AT_FDCWD, "zz", F_OK, 0), ENOENT);
	FAILS("faccessat bad mode EINVAL", syscall(SYS_faccessat, AT_FDCWD, "f", 8), EINVAL);
	FAILS("faccessat2 bad flags EINVAL", syscall(SYS_faccessat2, AT_FDCWD, "f", F_OK, 0x4), EINVAL);
	OK("faccessat2 AT_SYMLINK_NOFOLLOW on dangling link", syscall(SYS_faccessat2, AT_FDCWD, "loopa", F_OK, AT_SYMLINK_NOFOLLOW));

	struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
	OK("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
	TRUE("utimensat times", stat("f", &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
	     st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 987654321);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {42, 0}};
	OK("utimensat UTIME_OMIT", utimensat(AT_FDCWD, "f", omit, 0));
	TRUE("UTIME_OMIT kept atime", stat("f", &st) == 0 && st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 42);
	struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
	FAILS("utimensat bad nsec EINVAL", utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
	FAILS("utimensat missing ENOENT", utimensat(AT_FDCWD, "zz", ts, 0), ENOENT);
	fd = open("f", O_RDONLY);
	OK("futimens", futimens(fd, ts));
	close(fd);

	struct statx sx;
	OK("statx", statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
	stat("f", &st);
	TRUE("statx agrees with stat", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS &&
	     sx.stx_ino == st.st_ino && sx.stx_size == (unsigned long)st.st_size && sx.stx_mode == st.st_mode &&
	     sx.stx_nlink == st.st_nlink && sx.stx_mtime.tv_sec == st.st_mtim.tv_sec);
	OK("statx AT_SYMLINK_NOFOLLOW", statx(AT_FDCWD, "sl", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
	TRUE("statx sees the link", S_ISLNK(sx.stx_mode));
	FAILS("statx missing ENOENT", statx(AT_FDCWD, "zz", 0, STATX_BASIC_STATS, &sx), ENOENT);
	fd = open("f", O_RDONLY);
	OK("statx AT_EMPTY_PATH", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	TRUE("fstat regular", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 7);
	close(fd);

	struct statfs sf;
	OK("statfs", statfs(".", &sf));
	TRUE("statfs sizes", sf.f_bsize > 0 && sf.f_namelen == 255);
	fd = open(".", O_RDONLY);
	OK("fstatfs", fstatfs(fd, &sf));
	close(fd);
	FAILS("statfs missing ENOENT", statfs("zz", &sf), ENOENT);
	FAILS("fstatfs bad fd EBADF", fstatfs(999, &sf), EBADF);
}

static void test_cwd(void)
{
	char start[4096], buf[4096];
	if (!getcwd(start, sizeof start))
		return;
	OK("chdir", chdir("d/sub"));
	TRUE("getcwd after chdir", getcwd(buf, sizeof buf) && strlen(buf) == strlen(start) + 6 &&
	     strcmp(buf + strlen(start), "/d/sub") == 0);
	OK("chdir ..", chdir("../.."));
	TRUE("getcwd back", getcwd(buf, sizeof buf) && strcmp(buf, start) == 0);
	OK("chdir through symlink", chdir("sd"));
	TRUE("getcwd resolves symlink", getcwd(buf, sizeof buf) && strcmp(buf + strlen(start), "/d") == 0);
	int fd = open("..", O_RDONLY | O_DIRECTORY);
	OK("fchdir", fchdir(fd));
	close(fd);
	TRUE("getcwd after fchdir", getcwd(buf, sizeof buf) && strcmp(buf, start) == 0);
	FAILS("chdir file ENOTDIR", chdir("f"), ENOTDIR);
	FAILS("chdir missing ENOENT", chdir("zz"), ENOENT);
	fd = open("f", O_RDONLY);
	FAILS("fchdir file ENOTDIR", fchdir(fd), ENOTDIR);
	close(fd);
	FAILS("fchdir bad fd EBADF", fchdir(999), EBADF);
	FAILS("getcwd small buffer ERANGE", syscall(SYS_getcwd, buf, 2), ERANGE);
}

static void test_fds(void)
{
	write_file("g", "0123456789");
	int fd = open("g", O_RDONLY);
	int fd2 = dup(fd);
	char c;
	TRUE("dup shares the offset", read(fd, &c, 1) == 1 && read(fd2, &c, 1) == 1 && c == '1');
	TRUE("lseek SEEK_CUR", lseek(fd, 0, SEEK_CUR) == 2);
	TRUE("lseek SEEK_END", lseek(fd, -1, SEEK_END) == 9);
	FAILS("lseek negative EINVAL", lseek(fd, -100, SEEK_SET), EINVAL);
	FAILS("lseek bad whence EINVAL", lseek(fd, 0, 77), EINVAL);
	TRUE("pread does not move", pread(fd, &c, 1, 5) == 1 && c == '5' && lseek(fd, 0, SEEK_CUR) == 9);
	int fd3 = dup3(fd, 50, O_CLOEXEC);
	TRUE("dup3 O_CLOEXEC", fd3 == 50 && fcntl(50, F_GETFD) == FD_CLOEXEC);
	FAILS("dup3 same fd EINVAL", dup3(fd, fd, 0), EINVAL);
	close(fd3);
	close(fd2);
	close(fd);

	/* sendfile: from the file offset, or from *offset leaving it alone. */
	fd = open("g", O_RDONLY);
	int out = open("g2", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	off_t soff = 7;
	TRUE("sendfile from the offset", lseek(fd, 2, SEEK_SET) == 2 && sendfile(out, fd, NULL, 4) == 4 &&
	     lseek(fd, 0, SEEK_CUR) == 6);
	TRUE("sendfile at *offset", sendfile(out, fd, &soff, 100) == 3 && soff == 10 && lseek(fd, 0, SEEK_CUR) == 6);
	TRUE("sendfile at the end", sendfile(out, fd, &soff, 5) == 0);
	TRUE("sendfile wrote 2345789", size_of("g2") == 7);
	FAILS("sendfile to a read-only fd EBADF", sendfile(fd, fd, NULL, 1), EBADF);
	FAILS("sendfile bad fd EBADF", sendfile(out, 99, NULL, 1), EBADF);
	close(out);
	close(fd);

	char buf[16];
	fd = open("/dev/null", O_RDWR);
	TRUE("/dev/null", fd >= 0 && read(fd, buf, 16) == 0 && write(fd, "abc", 3) == 3);
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof buf);
	TRUE("/dev/zero", fd >= 0 && read(fd, buf, 16) == 16 && buf[0] == 0 && buf[15] == 0);
	close(fd);
	fd = open("/dev/full", O_WRONLY);
	FAILS("/dev/full ENOSPC", write(fd, "x", 1), ENOSPC);
	close(fd);
	fd = open("/dev/urandom", O_RDONLY);
	TRUE("/dev/urandom", fd >= 0 && read(fd, buf, 16) == 16);
	close(fd);
	struct stat st;
	TRUE("/dev/null is a char device 1,3", stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));

	fd = open("g", O_RDONLY);
	char link[64], big[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, big, sizeof big - 1);
	TRUE("/proc/self/fd/N names the file", n > 2 && big[n - 2] == '/' && big[n - 1] == 'g');
	close(fd);
	fd = open("/proc/self/cmdline", O_RDONLY);
	n = read(fd, big, sizeof big);
	TRUE("/proc/self/cmdline", n > 0 && big[n - 1] == 0);
	close(fd);
	TRUE("/proc/self/maps exists", stat("/proc/self/maps", &st) == 0 && S_ISREG(st.st_mode));
	TRUE("/proc/self is a symlink", lstat("/proc/self", &st) == 0 && S_ISLNK(st.st_mode));
}

static int rm_rf(const char *p)
{
	struct stat st;
	if (lstat(p, &st) != 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(p);
		struct dirent *e;
		char sub[4096];
		while (d && (e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(sub, sizeof sub, "%s/%s", p, e->d_name);
			rm_rf(sub);
		}
		if (d)
			closedir(d);
		return rmdir(p);
	}
	return unlink(p);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/fstest.XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	if (!dir || chdir(dir) != 0) {
		perror("fstest: work directory");
		return 2;
	}
	umask(022);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_open();
	test_dirs();
	test_links();
	test_rename();
	test_attrs();
	test_cwd();
	test_fds();
	if (argc <= 1) {
		if (chdir("/") == 0)
			rm_rf(dir);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
