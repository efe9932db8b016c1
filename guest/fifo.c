/*
 * fifo - self-checking test of FIFOs, mknod and reopening descriptors
 * through /proc/self/fd and /dev/fd.
 *
 * FIFOs made with mknod(S_IFIFO) and mkfifo: Linux's open rules (a reader
 * waits for a writer and a writer for a reader; O_NONBLOCK readers open at
 * once and writers without a reader fail with ENXIO; O_RDWR never waits),
 * data passing between processes, a signal interrupting a waiting open.
 * mknod of regular files, sockets (ENXIO to open) and, unless the argument
 * "nodev" is given (a host mount, where sissim refuses them), device
 * nodes. /proc/self/fd/N of a pipe reopens the pipe (readlink pipe:[ino]),
 * of a file reopens the file with its own offset; pipe sizes.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. The
 * expected results are Linux's (run as root): every check passes under
 * qemu-aarch64-static. It works in the current directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

/* wait_blocked waits until process p sleeps. */
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

static void fifos(void) {
	umask(022);
	OK("mknod S_IFIFO", mknod("f1", S_IFIFO | 0666, 0));
	struct stat st;
	OK("stat", stat("f1", &st));
	TRUE("a FIFO with the umask applied", S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_size == 0);
	OK("mkfifo", mkfifo("f2", 0600));
	FAILS("mkfifo over an existing file", mkfifo("f2", 0600), EEXIST);

	int r = open("f1", O_RDONLY | O_NONBLOCK);
	OK("O_RDONLY|O_NONBLOCK opens at once", r);
	char buf[64];
	TRUE("no writer yet: read gives end of file", read(r, buf, sizeof buf) == 0);
	struct pollfd pfd = {.fd = r, .events = POLLIN};
	TRUE("no writer ever: poll reports no hang-up", poll(&pfd, 1, 0) == 0);
	int w = open("f1", O_WRONLY | O_NONBLOCK);
	OK("O_WRONLY|O_NONBLOCK with a reader", w);
	OK("write", write(w, "abc", 3));
	TRUE("the reader reads it", read(r, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
	FAILS("empty with a writer: EAGAIN", read(r, buf, sizeof buf), EAGAIN);
	close(w);
	pfd.revents = 0;
	TRUE("the writer left: POLLHUP", poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP));
	close(r);
	FAILS("O_WRONLY|O_NONBLOCK without a reader: ENXIO", open("f1", O_WRONLY | O_NONBLOCK), ENXIO);

	int rw = open("f1", O_RDWR);
	OK("O_RDWR never waits", rw);
	OK("write through O_RDWR", write(rw, "left", 4));
	close(rw);
	rw = open("f1", O_RDWR | O_NONBLOCK);
	FAILS("the data went with the last close", read(rw, buf, sizeof buf), EAGAIN);
	struct stat fst;
	OK("fstat of an open FIFO", fstat(rw, &fst));
	TRUE("fstat describes the node", S_ISFIFO(fst.st_mode) && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev);
	char link[64], want[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", rw);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	getcwd(want, sizeof want - 4);
	strcat(want, "/f1");
	TRUE("/proc/self/fd of a FIFO names its path", strcmp(buf, want) == 0);
	close(rw);

	/* Blocking opens: a writer waits for a reader, a reader for a writer. */
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int fd = open("f2", O_WRONLY); /* waits for the parent */
		write(fd, "hello", 5);
		close(fd);
		_exit(fd >= 0 ? 0 : 1);
	}
	wait_blocked(p);
	r = open("f2", O_RDONLY);
	OK("a blocking reader meets the waiting writer", r);
	int got = 0;
	for (int k; (k = read(r, buf + got, sizeof buf - got)) > 0;)
		got += k;
	TRUE("it reads the data, then end of file", got == 5 && memcmp(buf, "hello", 5) == 0);
	close(r);
	int status;
	waitpid(p, &status, 0);
	TRUE("the writer succeeded", WIFEXITED(status) && WEXITSTATUS(status) == 0);

	fflush(stdout);
	p = fork();
	if (p == 0) {
		int fd = open("f2", O_RDONLY); /* waits for the parent */
		int k = read(fd, buf, sizeof buf);
		_exit(k == 2 && memcmp(buf, "hi", 2) == 0 ? 0 : 1);
	}
	wait_blocked(p);
	w = open("f2", O_WRONLY | O_NONBLOCK);
	OK("a waiting reader counts: O_NONBLOCK writer opens", w);
	write(w, "hi", 2);
	close(w);
	waitpid(p, &status, 0);
	TRUE("the waiting reader got the data", WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A signal handler ends a waiting open with EINTR; the open is undone. */
	fflush(stdout);
	p = fork();
	if (p == 0) {
		struct sigaction sa = {.sa_handler = on_usr1};
		sigaction(SIGUSR1, &sa, NULL);
		int fd = open("f2", O_RDONLY);
		_exit(fd == -1 && errno == EINTR && got_usr1 ? 0 : 1);
	}
	wait_blocked(p);
	kill(p, SIGUSR1);
	waitpid(p, &status, 0);
	TRUE("a handler without SA_RESTART: EINTR", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	FAILS("the interrupted reader is gone: ENXIO", open("f2", O_WRONLY | O_NONBLOCK), ENXIO);
	OK("unlink", unlink("f1"));
	OK("unlink", unlink("f2"));
}

static void nodes(int devices) {
	struct stat st;
	OK("mknod S_IFREG", mknod("reg", S_IFREG | 0640, 0));
	TRUE("an empty regular file", stat("reg", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 && (st.st_mode & 0777) == 0640);
	OK("mknod type 0 is a regular file", mknod("reg0", 0644, 0));
	TRUE("regular", stat("reg0", &st) == 0 && S_ISREG(st.st_mode));
	FAILS("mknod over an existing file", mknod("reg", S_IFREG | 0644, 0), EEXIST);
	FAILS("mknod of a directory type", mknod("dir", S_IFDIR | 0755, 0), EPERM);
	FAILS("mknod of a symlink type", mknod("lnk", S_IFLNK | 0777, 0), EINVAL);
	OK("mknod S_IFSOCK", mknod("sock", S_IFSOCK | 0644, 0));
	TRUE("a socket node", stat("sock", &st) == 0 && S_ISSOCK(st.st_mode));
	FAILS("opening a socket node: ENXIO", open("sock", O_RDONLY), ENXIO);
	OK("mknodat", mknodat(AT_FDCWD, "reg2", S_IFREG | 0600, 0));
	if (devices) {
		OK("mknod S_IFCHR 1,3 (root)", mknod("null", S_IFCHR | 0666, makedev(1, 3)));
		TRUE("a character device node", stat("null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
		int fd = open("null", O_RDWR);
		OK("it opens the device", fd);
		TRUE("writes vanish", write(fd, "x", 1) == 1);
		char c;
		TRUE("reads give end of file", read(fd, &c, 1) == 0);
		close(fd);
		OK("mknod S_IFCHR 1,5", mknod("zero", S_IFCHR | 0666, makedev(1, 5)));
		fd = open("zero", O_RDONLY);
		c = 1;
		TRUE("reads give zeros", read(fd, &c, 1) == 1 && c == 0);
		close(fd);
		unlink("null");
		unlink("zero");
	}
	unlink("reg");
	unlink("reg0");
	unlink("reg2");
	unlink("sock");
}

static void reopen(void) {
	int p[2];
	OK("pipe", pipe(p));
	char link[64], buf[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", p[0]);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	TRUE("readlink of a pipe is pipe:[ino]", strncmp(buf, "pipe:[", 6) == 0 && buf[n - 1] == ']');
	struct stat st, lst;
	OK("fstat of the pipe", fstat(p[0], &st));
	TRUE("a FIFO of size 0, mode 0600, one link", S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600 && st.st_size == 0 && st.st_nlink == 1);
	char ino[64];
	snprintf(ino, sizeof ino, "pipe:[%lu]", (unsigned long)st.st_ino);
	TRUE("the link names the inode", strcmp(buf, ino) == 0);
	OK("stat through the link", stat(link, &lst));
	TRUE("the same inode", lst.st_ino == st.st_ino && lst.st_dev == st.st_dev && S_ISFIFO(lst.st_mode));
	OK("lstat of the link", lstat(link, &lst));
	TRUE("is a symlink", S_ISLNK(lst.st_mode));

	write(p[1], "through", 7);
	int r = open(link, O_RDONLY);
	OK("open /proc/self/fd/N of the read end", r);
	TRUE("reads the pipe", read(r, buf, 7) == 7 && memcmp(buf, "through", 7) == 0);
	int w = open(link, O_WRONLY); /* a pipe: no wait for a reader */
	OK("open the read end's link for writing", w);
	write(w, "back", 4);
	TRUE("writes into the same pipe", read(p[0], buf, 4) == 4 && memcmp(buf, "back", 4) == 0);
	char devfd[64];
	snprintf(devfd, sizeof devfd, "/dev/fd/%d", p[0]);
	int d = open(devfd, O_RDONLY | O_NONBLOCK);
	OK("open /dev/fd/N", d);
	write(p[1], "dev", 3);
	TRUE("the same pipe again", read(d, buf, 3) == 3 && memcmp(buf, "dev", 3) == 0);
	close(d);
	close(r);
	close(w);
	close(p[1]);
	TRUE("with every writer gone: end of file", read(p[0], buf, 1) == 0);
	close(p[0]);

	/* A file reopens with its own offset. */
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "0123456789", 10);
	snprintf(link, sizeof link, "/dev/fd/%d", fd);
	int again = open(link, O_RDONLY);
	OK("reopen a file through /dev/fd", again);
	TRUE("from offset 0", read(again, buf, 3) == 3 && memcmp(buf, "012", 3) == 0);
	TRUE("the first offset is unchanged", lseek(fd, 0, SEEK_CUR) == 10);
	close(again);
	close(fd);
	unlink("file");

	int efd = eventfd(0, 0);
	snprintf(link, sizeof link, "/proc/self/fd/%d", efd);
	FAILS("an eventfd cannot be reopened: ENXIO", open(link, O_RDONLY), ENXIO);
	close(efd);
	FAILS("a closed descriptor's link", open("/proc/self/fd/77", O_RDONLY), ENOENT);

	/* Pipe sizes. */
	pipe(p);
	TRUE("F_GETPIPE_SZ is 64 KiB", fcntl(p[0], F_GETPIPE_SZ) == 65536);
	TRUE("F_SETPIPE_SZ 4096", fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
	TRUE("F_SETPIPE_SZ rounds up to a power of two pages", fcntl(p[1], F_SETPIPE_SZ, 100000) == 131072);
	TRUE("both ends see it", fcntl(p[0], F_GETPIPE_SZ) == 131072);
	fcntl(p[1], F_SETPIPE_SZ, 8192);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	char big[16384] = {0};
	TRUE("an 8 KiB pipe takes 8 KiB", write(p[1], big, sizeof big) == 8192);
	FAILS("shrinking below its contents: EBUSY", fcntl(p[1], F_SETPIPE_SZ, 0), EBUSY);
	TRUE("it keeps its data", read(p[0], big, sizeof big) == 8192);
	/* (Root may go past it with CAP_SYS_RESOURCE, which the hosts that
	 * run the reference may withhold.) */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		_exit(fcntl(p[1], F_SETPIPE_SZ, 4 << 20) == -1 && errno == EPERM ? 0 : 1);
	}
	int ws;
	waitpid(c, &ws, 0);
	TRUE("past pipe-max-size without root: EPERM", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	FAILS("F_GETPIPE_SZ of a file", fcntl(0 + open("/proc/self/stat", O_RDONLY), F_GETPIPE_SZ), EBADF);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv) {
	fifos();
	nodes(!(argc > 1 && strcmp(argv[1], "nodev") == 0));
	reopen();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
