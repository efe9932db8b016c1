/*
 * syscalls - self-checking test of the machine core's system calls.
 *
 * Prints one line per check, "ok - <name>" or "not ok - <name>: <detail>",
 * then "<N> passed, <M> failed", and exits 0 if every check passed, else 1.
 * The expected results are those of Linux: every check passes under
 * qemu-aarch64-static and must pass under sissim. The output is the same on
 * every run (no times, pids or random values are printed, except in the
 * detail of a failing check), so a run can be compared with a golden file.
 *
 * Raw syscall() is used wherever glibc might check a pointer itself, take a
 * vDSO path or pick a different syscall. Things Linux does differently from
 * sissim on purpose (W^X mappings) are left to guest/wx.c.
 *
 * The file checks create and remove /tmp/sissim-test-<pid>, so /tmp must
 * exist and be writable. readlink("/proc/self/exe") must end in "/syscalls",
 * so run this binary under its own name.
 *
 * Expected output (exit status 0):
 *   ok - getpid > 0
 *   ok - getppid >= 0
 *   ok - getuid == geteuid
 *   ok - getgid == getegid
 *   ok - gettid == getpid
 *   ok - uname
 *   ok - uname machine aarch64
 *   ok - uname sysname Linux
 *   ok - clock_gettime REALTIME
 *   ok - clock_gettime MONOTONIC
 *   ok - clock_gettime BOOTTIME
 *   ok - clock_gettime REALTIME_COARSE
 *   ok - clock_gettime MONOTONIC_COARSE
 *   ok - clock_gettime PROCESS_CPUTIME_ID
 *   ok - clock_gettime THREAD_CPUTIME_ID
 *   ok - MONOTONIC non-decreasing
 *   ok - clock_gettime MONOTONIC (raw)
 *   ok - clock_gettime bad clock id EINVAL
 *   ok - clock_gettime bad pointer EFAULT
 *   ok - gettimeofday
 *   ok - gettimeofday (raw)
 *   ok - nanosleep 1ms
 *   ok - nanosleep 1ms advances MONOTONIC >= 1ms
 *   ok - getrandom 16 bytes
 *   ok - getrandom bad pointer EFAULT
 *   ok - write bad pointer EFAULT
 *   ok - openat bad path pointer EFAULT
 *   ok - write fd 99 EBADF
 *   ok - close fd 99 EBADF
 *   ok - unknown syscall 4000 ENOSYS
 *   ok - sbrk 1 MiB
 *   ok - malloc 64 MiB
 *   ok - mmap anonymous 1 MiB
 *   ok - munmap 1 MiB
 *   ok - mprotect unmapped ENOMEM
 *   ok - mprotect RW to R
 *   ok - read after mprotect R
 *   ok - open O_CREAT
 *   ok - write 4 bytes
 *   ok - close written file
 *   ok - open O_RDONLY
 *   ok - fstat (raw) size 4
 *   ok - fstat (glibc) size 4
 *   ok - lseek SEEK_SET 1
 *   ok - read 3 bytes
 *   ok - lseek SEEK_END
 *   ok - lseek SEEK_SET 0
 *   ok - read bad pointer EFAULT
 *   ok - ioctl TCGETS regular file ENOTTY
 *   ok - close read file
 *   ok - newfstatat size 4
 *   ok - stat size 4
 *   ok - unlink
 *   ok - open unlinked file ENOENT
 *   ok - open missing file ENOENT
 *   ok - readlink /proc/self/exe
 *   ok - writev
 *   57 passed, 0 failed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define BAD_PTR ((void *)8)	/* an address no guest maps */

static int passed, failed;

static void ok(const char *name)
{
	printf("ok - %s\n", name);
	passed++;
}

static void notok(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed++;
}

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

/* check: cond must hold; detail describes the failure. */
#define check(name, cond, ...) \
	do { if (cond) ok(name); else notok(name, __VA_ARGS__); } while (0)

/* check_ret: ret must equal want (and not be an error). */
static void check_ret(const char *name, long ret, long want)
{
	if (ret == want)
		ok(name);
	else if (ret == -1)
		notok(name, "returned -1 errno=%s, want %ld", errname(errno), want);
	else
		notok(name, "returned %ld, want %ld", ret, want);
}

/* check_err: ret must be -1 with errno == want. */
static void check_err(const char *name, long ret, int want)
{
	if (ret == -1 && errno == want)
		ok(name);
	else if (ret == -1)
		notok(name, "errno=%s, want %s", errname(errno), errname(want));
	else
		notok(name, "returned %ld, want -1 errno=%s", ret, errname(want));
}

static int64_t ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void test_ids(void)
{
	pid_t pid = getpid();
	long tid;

	check("getpid > 0", pid > 0, "getpid() = %d", (int)pid);
	check("getppid >= 0", getppid() >= 0, "getppid() = %d", (int)getppid());
	check("getuid == geteuid", getuid() == geteuid(),
	      "uid %u euid %u", getuid(), geteuid());
	check("getgid == getegid", getgid() == getegid(),
	      "gid %u egid %u", getgid(), getegid());
	tid = syscall(SYS_gettid);
	check("gettid == getpid", tid == pid, "gettid %ld getpid %d", tid, (int)pid);
}

static void test_uname(void)
{
	struct utsname u;

	if (uname(&u) != 0) {
		notok("uname", "errno=%s", errname(errno));
		return;
	}
	ok("uname");
	check("uname machine aarch64", strcmp(u.machine, "aarch64") == 0,
	      "machine \"%s\"", u.machine);
	check("uname sysname Linux", strcmp(u.sysname, "Linux") == 0,
	      "sysname \"%s\"", u.sysname);
}

static void test_clocks(void)
{
	static const struct { clockid_t id; const char *name; } clocks[] = {
		{ CLOCK_REALTIME, "clock_gettime REALTIME" },
		{ CLOCK_MONOTONIC, "clock_gettime MONOTONIC" },
		{ CLOCK_BOOTTIME, "clock_gettime BOOTTIME" },
		{ CLOCK_REALTIME_COARSE, "clock_gettime REALTIME_COARSE" },
		{ CLOCK_MONOTONIC_COARSE, "clock_gettime MONOTONIC_COARSE" },
		{ CLOCK_PROCESS_CPUTIME_ID, "clock_gettime PROCESS_CPUTIME_ID" },
		{ CLOCK_THREAD_CPUTIME_ID, "clock_gettime THREAD_CPUTIME_ID" },
	};
	struct timespec a, b, ts;
	struct timeval tv;
	size_t i;
	long r;

	for (i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		ts.tv_sec = -1;
		ts.tv_nsec = -1;
		r = clock_gettime(clocks[i].id, &ts);
		if (r != 0)
			notok(clocks[i].name, "errno=%s", errname(errno));
		else
			check(clocks[i].name,
			      ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000,
			      "bad timespec {%lld, %ld}", (long long)ts.tv_sec, ts.tv_nsec);
	}

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	check("MONOTONIC non-decreasing", ns(&b) >= ns(&a),
	      "%lld then %lld", (long long)ns(&a), (long long)ns(&b));

	r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	check_ret("clock_gettime MONOTONIC (raw)", r, 0);
	check_err("clock_gettime bad clock id EINVAL",
		  syscall(SYS_clock_gettime, 12345, &ts), EINVAL);
	check_err("clock_gettime bad pointer EFAULT",
		  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);

	r = gettimeofday(&tv, NULL);
	if (r != 0)
		notok("gettimeofday", "errno=%s", errname(errno));
	else
		check("gettimeofday", tv.tv_sec > 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
		      "bad timeval {%lld, %ld}", (long long)tv.tv_sec, (long)tv.tv_usec);
	r = syscall(SYS_gettimeofday, &tv, NULL);
	if (r != 0)
		notok("gettimeofday (raw)", "returned %ld errno=%s", r, errname(errno));
	else
		check("gettimeofday (raw)", tv.tv_sec > 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
		      "bad timeval {%lld, %ld}", (long long)tv.tv_sec, (long)tv.tv_usec);

	{
		struct timespec req = { 0, 1000000 };

		clock_gettime(CLOCK_MONOTONIC, &a);
		r = nanosleep(&req, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		check_ret("nanosleep 1ms", r, 0);
		check("nanosleep 1ms advances MONOTONIC >= 1ms", ns(&b) - ns(&a) >= 1000000,
		      "advanced %lld ns", (long long)(ns(&b) - ns(&a)));
	}
}

static void test_random(void)
{
	unsigned char buf[16];

	check_ret("getrandom 16 bytes", syscall(SYS_getrandom, buf, sizeof buf, 0), 16);
	check_err("getrandom bad pointer EFAULT",
		  syscall(SYS_getrandom, BAD_PTR, 16, 0), EFAULT);
}

/* Is fd 1 /dev/null (char device 1:3)? Linux's /dev/null never reads the buffer. */
static int stdout_is_devnull(void)
{
	struct stat st;

	return fstat(1, &st) == 0 && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

static void test_bad_fds_and_pointers(void)
{
	long r;

	fflush(stdout);
	r = syscall(SYS_write, 1, BAD_PTR, 10);
	if (r == 10 && stdout_is_devnull())
		ok("write bad pointer EFAULT");
	else
		check_err("write bad pointer EFAULT", r, EFAULT);
	check_err("openat bad path pointer EFAULT",
		  syscall(SYS_openat, AT_FDCWD, BAD_PTR, O_RDONLY), EFAULT);
	check_err("write fd 99 EBADF", syscall(SYS_write, 99, "x", 1), EBADF);
	check_err("close fd 99 EBADF", syscall(SYS_close, 99), EBADF);
	check_err("unknown syscall 4000 ENOSYS", syscall(4000, 0, 0, 0), ENOSYS);
}

static void test_memory(void)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	unsigned char *p, *q;
	size_t n, i;
	int good;

	/* brk */
	p = sbrk(0);
	q = sbrk(1 << 20);
	if (q == (void *)-1) {
		notok("sbrk 1 MiB", "errno=%s", errname(errno));
	} else {
		memset(q, 0x5a, 1 << 20);
		good = q[0] == 0x5a && q[(1 << 20) - 1] == 0x5a &&
		       (unsigned char *)sbrk(0) == q + (1 << 20);
		check("sbrk 1 MiB", good, "break %p -> %p, sbrk(0) = %p",
		      (void *)p, (void *)q, sbrk(0));
	}

	/* malloc 64 MiB (glibc mmaps it) */
	n = 64 << 20;
	p = malloc(n);
	if (p == NULL) {
		notok("malloc 64 MiB", "NULL");
	} else {
		memset(p, 0xa5, n);
		good = 1;
		for (i = 0; i < n; i += 4096)
			good &= p[i] == 0xa5;
		check("malloc 64 MiB", good && p[n - 1] == 0xa5, "memory did not hold its value");
		free(p);
	}

	/* mmap, munmap, then mprotect of the hole */
	n = 1 << 20;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		notok("mmap anonymous 1 MiB", "errno=%s", errname(errno));
	} else {
		good = p[0] == 0 && p[n - 1] == 0;
		memset(p, 0x3c, n);
		good &= p[0] == 0x3c && p[n / 2] == 0x3c && p[n - 1] == 0x3c;
		check("mmap anonymous 1 MiB", good, "not zero-filled or not writable");
		check_ret("munmap 1 MiB", munmap(p, n), 0);
		check_err("mprotect unmapped ENOMEM",
			  syscall(SYS_mprotect, p, n, PROT_READ), ENOMEM);
	}

	/* mprotect RW -> R, then read */
	p = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		notok("mprotect RW to R", "mmap errno=%s", errname(errno));
	} else {
		p[7] = 42;
		check_ret("mprotect RW to R", mprotect(p, pagesize, PROT_READ), 0);
		check("read after mprotect R", *(volatile unsigned char *)&p[7] == 42,
		      "read %d", p[7]);
		munmap(p, pagesize);
	}
}

static void test_files(void)
{
	static const struct iovec iov[2] = {
		{ "ok - ", 5 },
		{ "writev\n", 7 },
	};
	char path[64], buf[256];
	struct stat st;
	struct termios tio;
	int fd;
	long r;

	snprintf(path, sizeof path, "/tmp/sissim-test-%d", (int)getpid());

	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0) {
		notok("open O_CREAT", "%s: errno=%s", path, errname(errno));
		return;
	}
	ok("open O_CREAT");
	check_ret("write 4 bytes", write(fd, "abc\n", 4), 4);
	check_ret("close written file", close(fd), 0);

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		notok("open O_RDONLY", "errno=%s", errname(errno));
		unlink(path);
		return;
	}
	ok("open O_RDONLY");

	memset(&st, 0, sizeof st);
	r = syscall(SYS_fstat, fd, &st);
	check("fstat (raw) size 4", r == 0 && st.st_size == 4 && S_ISREG(st.st_mode),
	      "returned %ld errno=%s size %lld mode %o", r, r ? errname(errno) : "-",
	      (long long)st.st_size, st.st_mode);
	memset(&st, 0, sizeof st);
	r = fstat(fd, &st);	/* glibc: newfstatat(fd, "", AT_EMPTY_PATH) */
	check("fstat (glibc) size 4", r == 0 && st.st_size == 4 && S_ISREG(st.st_mode),
	      "returned %ld errno=%s size %lld mode %o", r, r ? errname(errno) : "-",
	      (long long)st.st_size, st.st_mode);

	check_ret("lseek SEEK_SET 1", lseek(fd, 1, SEEK_SET), 1);
	memset(buf, 0, sizeof buf);
	r = read(fd, buf, 3);
	check("read 3 bytes", r == 3 && memcmp(buf, "bc\n", 3) == 0,
	      "returned %ld errno=%s data \"%.3s\"", r, r < 0 ? errname(errno) : "-", buf);
	check_ret("lseek SEEK_END", lseek(fd, 0, SEEK_END), 4);

	check_ret("lseek SEEK_SET 0", lseek(fd, 0, SEEK_SET), 0);
	check_err("read bad pointer EFAULT", syscall(SYS_read, fd, BAD_PTR, 10), EFAULT);

	check_err("ioctl TCGETS regular file ENOTTY",
		  syscall(SYS_ioctl, fd, TCGETS, &tio), ENOTTY);
	check_ret("close read file", close(fd), 0);

	memset(&st, 0, sizeof st);
	r = syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0);
	check("newfstatat size 4", r == 0 && st.st_size == 4 && S_ISREG(st.st_mode),
	      "returned %ld errno=%s size %lld mode %o", r, r ? errname(errno) : "-",
	      (long long)st.st_size, st.st_mode);
	memset(&st, 0, sizeof st);
	r = stat(path, &st);
	check("stat size 4", r == 0 && st.st_size == 4 && S_ISREG(st.st_mode),
	      "returned %ld errno=%s size %lld mode %o", r, r ? errname(errno) : "-",
	      (long long)st.st_size, st.st_mode);

	check_ret("unlink", unlink(path), 0);
	check_err("open unlinked file ENOENT", open(path, O_RDONLY), ENOENT);
	check_err("open missing file ENOENT", open("/nonexistent-sissim/file", O_RDONLY), ENOENT);

	memset(buf, 0, sizeof buf);
	r = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, sizeof buf - 1);
	check("readlink /proc/self/exe", r > 9 && strcmp(buf + r - 9, "/syscalls") == 0,
	      "returned %ld errno=%s \"%s\"", r, r < 0 ? errname(errno) : "-", buf);

	/* writev prints its own "ok" line */
	fflush(stdout);
	r = writev(1, iov, 2);
	if (r == 12)
		passed++;
	else if (r == -1)
		notok("writev", "errno=%s", errname(errno));
	else
		notok("writev", "\nreturned %ld, want 12", r);
}

int main(void)
{
	static char outbuf[4096];

	setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);

	test_ids();
	test_uname();
	test_clocks();
	test_random();
	test_bad_fds_and_pointers();
	test_memory();
	test_files();

	printf("%d passed, %d failed\n", passed, failed);
	fflush(stdout);
	exit(failed ? 1 : 0);
}
