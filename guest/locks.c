/*
 * locks - self-checking test of file locks: POSIX record locks (fcntl
 * F_SETLK, F_SETLKW, F_GETLK, deadlock detection), open file description
 * locks (F_OFD_*) and flock(2), across processes.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. The
 * expected results are Linux's: every check passes under
 * qemu-aarch64-static. It works in the current directory (a tmpfs or a
 * host mount) and prints no pids or times.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int setlk(int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* getlk returns the type of the first lock conflicting with a request. */
static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl) != 0)
		fl.l_type = -1;
	return fl;
}

/* child runs fn in a child process and returns its exit status. */
static int child(int (*fn)(void *), void *arg) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0)
		_exit(fn(arg));
	int st;
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int try_write_lock(void *arg) {
	int fd = open("data", O_RDWR);
	off_t *r = arg;
	if (setlk(fd, F_SETLK, F_WRLCK, r[0], r[1]) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

static int getlk_in_child(void *arg) {
	int fd = open("data", O_RDWR);
	pid_t want = *(pid_t *)arg;
	struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 0, 0);
	if (fl.l_type != F_WRLCK || fl.l_pid != want || fl.l_start != 10 || fl.l_len != 20 || fl.l_whence != SEEK_SET)
		return 1;
	fl = getlk(fd, F_GETLK, F_WRLCK, 30, 5);
	return fl.l_type == F_UNLCK ? 0 : 3;
}

static int child_read_lock(void *arg) {
	(void)arg;
	int fd = open("data", O_RDONLY);
	return setlk(fd, F_SETLK, F_RDLCK, 100, 10) == 0 ? 0 : 1;
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static void posix_locks(void) {
	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	OK("write 200 bytes", write(fd, "0123456789012345678901234567890123456789012345678901234567890123456789"
	                                  "0123456789012345678901234567890123456789012345678901234567890123456789"
	                                  "012345678901234567890123456789012345678901234567890123456789", 200));
	OK("F_SETLK write lock 10..29", setlk(fd, F_SETLK, F_WRLCK, 10, 20));
	off_t overlap[2] = {25, 10}, apart[2] = {30, 10};
	TRUE("another process: overlapping write lock is EAGAIN", child(try_write_lock, overlap) == 1);
	TRUE("another process: adjacent write lock is granted", child(try_write_lock, apart) == 0);
	pid_t me = getpid();
	TRUE("F_GETLK in another process reports the lock and its owner", child(getlk_in_child, &me) == 0);
	struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
	TRUE("F_GETLK of the owner's own lock is F_UNLCK", fl.l_type == F_UNLCK);
	TRUE("a read lock in another process elsewhere", child(child_read_lock, NULL) == 0);

	/* Unlocking the middle splits the lock. */
	OK("F_UNLCK 15..19", setlk(fd, F_SETLK, F_UNLCK, 15, 5));
	off_t hole[2] = {15, 5}, left[2] = {12, 1}, right[2] = {22, 1};
	TRUE("the unlocked middle is free", child(try_write_lock, hole) == 0);
	TRUE("the left part stays locked", child(try_write_lock, left) == 1);
	TRUE("the right part stays locked", child(try_write_lock, right) == 1);

	/* Locking again over it merges; a read lock converts a part. */
	OK("F_SETLK write 0..49", setlk(fd, F_SETLK, F_WRLCK, 0, 50));
	OK("F_SETLK read 20..29 converts", setlk(fd, F_SETLK, F_RDLCK, 20, 10));
	int rfd = open("data", O_RDONLY);
	/* Closing any descriptor of the file drops the process's locks. */
	close(rfd);
	off_t all[2] = {0, 0};
	TRUE("closing another descriptor of the file released the locks", child(try_write_lock, all) == 0);

	/* Whence and lengths. */
	lseek(fd, 50, SEEK_SET);
	struct flock cur = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = -10, .l_len = -5};
	OK("SEEK_CUR with a negative length locks 35..39", fcntl(fd, F_SETLK, &cur));
	off_t b35[2] = {35, 1}, b40[2] = {40, 1}, b34[2] = {34, 1};
	TRUE("35 is locked", child(try_write_lock, b35) == 1);
	TRUE("40 is not", child(try_write_lock, b40) == 0);
	TRUE("34 is not", child(try_write_lock, b34) == 0);
	struct flock end = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = 0, .l_len = 0};
	OK("SEEK_END to the end of the file", fcntl(fd, F_SETLK, &end));
	off_t far[2] = {1000000, 1};
	TRUE("a lock to EOF covers any later offset", child(try_write_lock, far) == 1);
	OK("unlock everything", setlk(fd, F_SETLK, F_UNLCK, 0, 0));

	/* Errors. */
	FAILS("bad l_type", setlk(fd, F_SETLK, 7, 0, 1), EINVAL);
	FAILS("negative start", setlk(fd, F_SETLK, F_WRLCK, -1, 1), EINVAL);
	struct flock bw = {.l_type = F_WRLCK, .l_whence = 9};
	FAILS("bad whence", fcntl(fd, F_SETLK, &bw), EINVAL);
	FAILS("F_GETLK of F_UNLCK", fcntl(fd, F_GETLK, &(struct flock){.l_type = F_UNLCK}), EINVAL);
	int ro = open("data", O_RDONLY), wo = open("data", O_WRONLY);
	FAILS("a write lock needs a writable descriptor", setlk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
	FAILS("a read lock needs a readable descriptor", setlk(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
	FAILS("a closed descriptor", setlk(99, F_SETLK, F_RDLCK, 0, 1), EBADF);
	int pfd = open("data", O_PATH);
	FAILS("an O_PATH descriptor", setlk(pfd, F_SETLK, F_RDLCK, 0, 1), EBADF);
	close(pfd);
	close(ro);
	close(wo);
	close(fd);
}

/* wait_blocked waits until process p sleeps (in the lock wait that
 * follows its last message). */
static void wait_blocked(pid_t p) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
	for (int i = 0; i < 10000; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			char *s = strrchr(buf, ')');
			if (s && s[1] == ' ' && s[2] == 'S')
				return;
		}
		usleep(1000);
	}
}

/* Two processes, ping-ponged over pipes. */
static int wait_byte(int fd) {
	char c;
	return read(fd, &c, 1) == 1 ? c : -1;
}

static void blocking_and_deadlock(void) {
	int fd = open("data", O_RDWR);
	int toparent[2], tochild[2];
	pipe(toparent);
	pipe(tochild);
	OK("parent locks A (0..9)", setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int cfd = open("data", O_RDWR);
		int ok = setlk(cfd, F_SETLK, F_WRLCK, 20, 10) == 0; /* B */
		write(toparent[1], ok ? "b" : "x", 1);
		/* Waits for A: the parent unlocks it after its deadlock check. */
		int r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
		write(toparent[1], r == 0 ? "a" : "y", 1);
		wait_byte(tochild[0]);
		_exit(0);
	}
	TRUE("the child locked B", wait_byte(toparent[0]) == 'b');
	wait_blocked(p); /* on A */
	FAILS("F_SETLKW on B would deadlock: EDEADLK", setlk(fd, F_SETLKW, F_WRLCK, 20, 10), EDEADLK);
	FAILS("F_SETLK on B is EAGAIN", setlk(fd, F_SETLK, F_WRLCK, 20, 10), EAGAIN);
	OK("parent unlocks A", setlk(fd, F_SETLK, F_UNLCK, 0, 10));
	TRUE("the child's F_SETLKW got A", wait_byte(toparent[0]) == 'a');
	off_t a[2] = {0, 10};
	TRUE("A is the child's now", child(try_write_lock, a) == 1);
	write(tochild[1], "q", 1);
	waitpid(p, NULL, 0);
	TRUE("the child's exit released its locks", child(try_write_lock, a) == 0);

	/* A signal interrupts F_SETLKW: EINTR without SA_RESTART. */
	OK("parent locks A again", setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	fflush(stdout);
	p = fork();
	if (p == 0) {
		struct sigaction sa = {.sa_handler = on_usr1};
		sigaction(SIGUSR1, &sa, NULL);
		int cfd = open("data", O_RDWR);
		write(toparent[1], "r", 1);
		int r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
		_exit(r == -1 && errno == EINTR && got_usr1 ? 0 : 1);
	}
	wait_byte(toparent[0]);
	wait_blocked(p);
	kill(p, SIGUSR1);
	int st;
	waitpid(p, &st, 0);
	TRUE("a handler without SA_RESTART ends F_SETLKW with EINTR", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	OK("unlock A", setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	close(fd);
	close(toparent[0]);
	close(toparent[1]);
	close(tochild[0]);
	close(tochild[1]);
}

static void ofd_locks(void) {
	int a = open("data", O_RDWR), b = open("data", O_RDWR);
	OK("F_OFD_SETLK on one description", setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	FAILS("another description of the same process conflicts", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN);
	FAILS("a POSIX lock of the same process conflicts too", setlk(b, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
	struct flock fl = getlk(b, F_OFD_GETLK, F_RDLCK, 0, 0);
	TRUE("F_OFD_GETLK reports l_pid -1", fl.l_type == F_WRLCK && fl.l_pid == -1 && fl.l_len == 10);
	struct flock bad = {.l_type = F_RDLCK, .l_pid = 1};
	FAILS("F_OFD_SETLK with l_pid set is EINVAL", fcntl(b, F_OFD_SETLK, &bad), EINVAL);
	int c = open("data", O_RDONLY);
	close(c);
	FAILS("closing another descriptor keeps an OFD lock", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN);
	int d = dup(a);
	close(a);
	FAILS("a dup keeps the description and its lock", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN);
	close(d);
	OK("closing the last descriptor released it", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 10));
	close(b);
}

static int flock_nb(void *arg) {
	int fd = open("data", O_RDONLY);
	int r = flock(fd, *(int *)arg | LOCK_NB);
	return r == 0 ? 0 : errno == EWOULDBLOCK ? 1 : 2;
}

static int flock_inherited(void *arg) {
	return flock(*(int *)arg, LOCK_EX | LOCK_NB) == 0 ? 0 : 1;
}

static void flocks(void) {
	int a = open("data", O_RDONLY), b = open("data", O_RDONLY);
	OK("LOCK_EX", flock(a, LOCK_EX));
	OK("LOCK_EX again is a no-op", flock(a, LOCK_EX));
	FAILS("another description: LOCK_SH|LOCK_NB", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	int ex = LOCK_EX, sh = LOCK_SH;
	TRUE("another process: LOCK_EX|LOCK_NB is EWOULDBLOCK", child(flock_nb, &ex) == 1);
	TRUE("the lock belongs to the description, which a child shares", child(flock_inherited, &a) == 0);
	OK("convert to LOCK_SH", flock(a, LOCK_SH));
	OK("a shared lock on another description", flock(b, LOCK_SH | LOCK_NB));
	TRUE("another process shares too", child(flock_nb, &sh) == 0);
	TRUE("but cannot take it exclusively", child(flock_nb, &ex) == 1);
	OK("LOCK_UN", flock(a, LOCK_UN));
	OK("LOCK_UN", flock(b, LOCK_UN));
	TRUE("free again", child(flock_nb, &ex) == 0);
	/* POSIX locks and flock locks do not interact. */
	int w = open("data", O_RDWR);
	OK("POSIX write lock", setlk(w, F_SETLK, F_WRLCK, 0, 0));
	OK("flock beside it", flock(a, LOCK_EX | LOCK_NB));
	close(w);
	close(a);
	OK("closing the description released the flock", flock(b, LOCK_EX | LOCK_NB));
	FAILS("bad operation", flock(b, LOCK_SH | LOCK_EX), EINVAL);
	FAILS("closed descriptor", flock(99, LOCK_EX), EBADF);
	close(b);

	/* A blocked flock wakes when the holder unlocks. */
	int fd = open("data", O_RDONLY);
	OK("LOCK_EX before the child", flock(fd, LOCK_EX));
	int sync[2];
	pipe(sync);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int cfd = open("data", O_RDONLY);
		write(sync[1], "s", 1);
		int r = flock(cfd, LOCK_EX);
		write(sync[1], r == 0 ? "g" : "x", 1);
		_exit(0);
	}
	wait_byte(sync[0]);
	wait_blocked(p);
	OK("unlock", flock(fd, LOCK_UN));
	TRUE("the blocked child got the lock", wait_byte(sync[0]) == 'g');
	waitpid(p, NULL, 0);
	close(fd);
	close(sync[0]);
	close(sync[1]);
}

int main(void) {
	posix_locks();
	blocking_and_deadlock();
	ofd_locks();
	flocks();
	unlink("data");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
