/*
 * procs - self-checking test of processes, pipes and signals.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. The expected
 * results are Linux's: every check passes under qemu-aarch64-static. Output
 * is the same on every run (no pids or times are printed on success).
 *
 * /tmp must be writable. Argument "bomb" runs only the fork bomb check
 * (RLIMIT_NPROC lowered to 16 first; Linux exempts root, so it passes only
 * as a non-root user), "exec" only the execve-self checks (qemu-user cannot
 * execve an AArch64 program), "nofile" only the RLIMIT_NOFILE checks
 * (qemu-user's limits are its host's), "pidfd" only the process file
 * descriptor checks (qemu-user 7.2 has no CLONE_PIDFD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *name, const char *detail) {
	if (ok) {
		printf("ok - %s\n", name);
		passed++;
	} else {
		printf("not ok - %s: %s (errno %d)\n", name, detail, errno);
		failed++;
	}
	fflush(stdout);
}

static volatile sig_atomic_t got;
static volatile double fpval;

static void on_usr1(int sig) {
	got = sig;
	fpval = fpval * 2.0; /* uses FP registers inside the handler */
}

static void on_alrm(int sig) { got = sig; }

static int fork_bomb(void) {
	struct rlimit rl = {16, 16};
	if (setrlimit(RLIMIT_NPROC, &rl) != 0)
		return 2;
	int n = 0, eagain = 0;
	pid_t kids[64];
	for (int i = 0; i < 64; i++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			eagain = errno == EAGAIN;
			break;
		}
		kids[n++] = p;
	}
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	return eagain && n > 0 && n < 64 ? 0 : 1;
}

/* RLIMIT_NOFILE bounds the descriptors; raising it makes room for more. */
static void nofile(void) {
	struct rlimit r, got, lim;
	getrlimit(RLIMIT_NOFILE, &r);
	int pp[2], st;
	check(pipe(pp) == 0, "pipe", "pipe");
	pid_t c = fork();
	if (c == 0) {
		char b;
		read(pp[0], &b, 1);
		getrlimit(RLIMIT_NOFILE, &got);
		_exit(got.rlim_cur == 100 ? 0 : 1);
	}
	lim.rlim_cur = 100;
	lim.rlim_max = r.rlim_max;
	check(prlimit(c, RLIMIT_NOFILE, &lim, &got) == 0 && got.rlim_cur == r.rlim_cur, "prlimit of a child", "prlimit");
	write(pp[1], "x", 1);
	check(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child lives with its new limit", "waitpid");
	close(pp[0]);
	close(pp[1]);
	check(prlimit(99999, RLIMIT_NOFILE, NULL, &got) < 0 && errno == ESRCH, "prlimit of no process: ESRCH", "prlimit");
	int n = 0;
	while (dup(0) >= 0)
		n++;
	check(n + 3 == (int)r.rlim_cur && errno == EMFILE, "descriptors stop at the soft limit", "dups");
	r.rlim_cur = r.rlim_max = r.rlim_cur + 1000;
	check(setrlimit(RLIMIT_NOFILE, &r) == 0, "raise the limit", "setrlimit");
	int more = 0;
	while (dup(0) >= 0)
		more++;
	check(more == 1000, "raising it makes room for more", "dups");
	check(dup2(0, r.rlim_cur) < 0 && errno == EBADF, "dup2 at the limit: EBADF", "dup2");
	check(fcntl(0, F_DUPFD, r.rlim_cur) < 0 && errno == EINVAL, "F_DUPFD at the limit: EINVAL", "fcntl");
	close(r.rlim_cur - 1);
	check(dup2(0, r.rlim_cur - 1) == (int)r.rlim_cur - 1, "dup2 just below it", "dup2");
	r.rlim_cur = r.rlim_max = 2 << 20;
	check(setrlimit(RLIMIT_NOFILE, &r) < 0 && errno == EPERM, "above fs.nr_open: EPERM", "setrlimit");
}

/* pidfds name a process: poll says when it exits, it can be signalled and
 * waited for through them, and clone(CLONE_PIDFD) returns one. */
static void pidfds(void) {
	int self = syscall(SYS_pidfd_open, getpid(), 0);
	check(self >= 0 && (fcntl(self, F_GETFD) & FD_CLOEXEC), "pidfd_open of itself, close-on-exec", "pidfd_open");
	check(syscall(SYS_waitid, 3, self, NULL, WEXITED | WNOHANG, NULL) == -1 && errno == ECHILD, "waitid(P_PIDFD) of itself: ECHILD", "waitid");
	check(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0) == 0, "signal 0 to itself", "pidfd_send_signal");
	check(syscall(SYS_pidfd_open, getpid(), 1) == -1 && errno == EINVAL, "bad flags: EINVAL", "pidfd_open");
	check(syscall(SYS_pidfd_open, 99999, 0) == -1 && errno == ESRCH, "no such process: ESRCH", "pidfd_open");
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(3);
	}
	int pf = syscall(SYS_pidfd_open, c, 0);
	/* As on Linux, an open /proc/<pid> directory is a pidfd for
	 * pidfd_send_signal (psmisc's killall signals through one). */
	char dirname[32];
	snprintf(dirname, sizeof dirname, "/proc/%d", c);
	int dirfd = open(dirname, O_RDONLY | O_DIRECTORY);
	check(syscall(SYS_pidfd_send_signal, dirfd, 0, NULL, 0) == 0, "pidfd_send_signal through /proc/<pid>", "pidfd_send_signal");
	int statfd = openat(dirfd, "stat", O_RDONLY);
	check(syscall(SYS_pidfd_send_signal, statfd, 0, NULL, 0) == -1 && errno == EBADF, "through /proc/<pid>/stat: EBADF", "pidfd_send_signal");
	close(statfd);
	struct pollfd p = {pf, POLLIN, 0};
	check(poll(&p, 1, 0) == 0, "not readable while the child lives", "poll");
	check(syscall(SYS_pidfd_send_signal, pf, SIGTERM, NULL, 0) == 0, "pidfd_send_signal SIGTERM", "pidfd_send_signal");
	check(poll(&p, 1, -1) == 1 && (p.revents & POLLIN), "readable once it exited", "poll");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	check(syscall(SYS_waitid, 3, pf, &si, WEXITED, NULL) == 0 && si.si_code == CLD_KILLED && si.si_status == SIGTERM && si.si_pid == c,
	      "waitid(P_PIDFD) reaps it", "waitid");
	check(syscall(SYS_pidfd_send_signal, pf, SIGTERM, NULL, 0) == -1 && errno == ESRCH, "signalling it after: ESRCH", "pidfd_send_signal");
	check(syscall(SYS_pidfd_send_signal, dirfd, SIGTERM, NULL, 0) == -1 && errno == ESRCH, "through /proc/<pid> after: ESRCH", "pidfd_send_signal");
	close(dirfd);
	int cfd = -1;
	pid_t c2 = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &cfd, NULL, NULL);
	if (c2 == 0)
		_exit(7);
	memset(&si, 0, sizeof si);
	check(cfd >= 0 && syscall(SYS_waitid, 3, cfd, &si, WEXITED, NULL) == 0 && si.si_status == 7, "clone(CLONE_PIDFD)", "clone");
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "pidfd") == 0) {
		pidfds();
		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	if (argc > 1 && strcmp(argv[1], "nofile") == 0) {
		nofile();
		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	if (argc > 1 && strcmp(argv[1], "bomb") == 0) {
		signal(SIGTERM, SIG_IGN);
		int r = fork_bomb();
		signal(SIGTERM, SIG_DFL);
		printf("fork bomb %s\n", r == 0 ? "stopped by EAGAIN" : "NOT stopped");
		return r;
	}
	if (argc > 1 && strcmp(argv[1], "waitmask") == 0) {
		/* A signal that arrives during ppoll, blocked by ppoll's mask
		 * only, is delivered when ppoll returns. (qemu-user 7.2 loses
		 * it, so this check has no reference run.) */
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		pid_t c = fork();
		if (c == 0) {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
			kill(getppid(), SIGUSR1);
			_exit(0);
		}
		got = 0;
		struct timespec wait50 = {0, 50000000};
		int n = ppoll(NULL, 0, &wait50, &set);
		int st;
		waitpid(c, &st, 0);
		check(n == 0 && got == SIGUSR1, "ppoll mask holds a signal off for the wait only", "");
		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	if (argc > 2 && strcmp(argv[1], "exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		pid_t c;
		int st;
		char *ev[] = {NULL};
	/* execve self with arguments and a close-on-exec fd */
	c = fork();
	if (c == 0) {
		char *a2[] = {argv[0], "exit", "17", NULL};
		execve("/proc/self/exe", a2, ev);
		execv(argv[0], a2);
		_exit(99);
	}
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 17, "execve self exit 17", "");

	/* vfork + exec */
	c = vfork();
	if (c == 0) {
		char *a2[] = {argv[0], "exit", "5", NULL};
		execv(argv[0], a2);
		_exit(98);
	}
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 5, "vfork exec exit 5", "");

		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}

	/* fork + wait4 with exit status */
	pid_t c = fork();
	if (c == 0)
		_exit(42);
	int st = 0;
	pid_t w = waitpid(c, &st, 0);
	check(w == c && WIFEXITED(st) && WEXITSTATUS(st) == 42, "fork/wait exit 42", "status");
	check(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD, "wait without children ECHILD", "");

	/* child memory is a copy */
	static int shared = 1;
	c = fork();
	if (c == 0) {
		shared = 2;
		_exit(shared);
	}
	waitpid(c, &st, 0);
	check(shared == 1 && WEXITSTATUS(st) == 2, "fork copies memory", "");

	/* WNOHANG on a running child, then kill it */
	int pfd[2];
	check(pipe(pfd) == 0, "pipe", "");
	c = fork();
	if (c == 0) {
		char b;
		close(pfd[1]);
		read(pfd[0], &b, 1); /* blocks until the parent closes */
		_exit(3);
	}
	close(pfd[0]);
	check(waitpid(c, &st, WNOHANG) == 0, "WNOHANG running child", "");
	check(kill(c, SIGTERM) == 0, "kill child", "");
	waitpid(c, &st, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "child killed by SIGTERM", "");
	close(pfd[1]);

	/* pipe data between processes, EOF after the writer exits */
	check(pipe(pfd) == 0, "pipe 2", "");
	c = fork();
	if (c == 0) {
		close(pfd[0]);
		char big[100000];
		memset(big, 'x', sizeof big);
		size_t off = 0;
		while (off < sizeof big) {
			ssize_t n = write(pfd[1], big + off, sizeof big - off);
			if (n <= 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	close(pfd[1]);
	size_t total = 0;
	char buf[4096];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof buf)) > 0)
		total += n;
	check(n == 0 && total == 100000, "100000 bytes through a pipe then EOF", "");
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer exit 0", "");
	close(pfd[0]);

	/* EPIPE and SIGPIPE */
	check(pipe(pfd) == 0, "pipe 3", "");
	close(pfd[0]);
	signal(SIGPIPE, SIG_IGN);
	check(write(pfd[1], "x", 1) == -1 && errno == EPIPE, "write to closed pipe EPIPE", "");
	signal(SIGPIPE, SIG_DFL);
	c = fork();
	if (c == 0) {
		write(pfd[1], "x", 1);
		_exit(0);
	}
	waitpid(c, &st, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "SIGPIPE kills the writer", "");
	close(pfd[1]);

	/* poll on a pipe */
	check(pipe(pfd) == 0, "pipe 4", "");
	struct pollfd pf = {pfd[0], POLLIN, 0};
	check(poll(&pf, 1, 0) == 0, "poll empty pipe times out", "");
	write(pfd[1], "ab", 2);
	check(poll(&pf, 1, -1) == 1 && (pf.revents & POLLIN), "poll pipe POLLIN", "");
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(pfd[0], &rs);
	struct timeval tv = {0, 0};
	check(select(pfd[0] + 1, &rs, NULL, NULL, &tv) == 1 && FD_ISSET(pfd[0], &rs), "select pipe readable", "");
	close(pfd[1]);
	read(pfd[0], buf, 2);
	pf.revents = 0;
	check(poll(&pf, 1, 1000) == 1 && (pf.revents & POLLHUP), "poll POLLHUP after writer closes", "");
	close(pfd[0]);

	/* poll blocks until a child writes */
	check(pipe(pfd) == 0, "pipe 5", "");
	c = fork();
	if (c == 0) {
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
		write(pfd[1], "z", 1);
		_exit(0);
	}
	pf.fd = pfd[0];
	pf.revents = 0;
	check(poll(&pf, 1, -1) == 1 && (pf.revents & POLLIN), "poll wakes on a child's write", "");
	waitpid(c, &st, 0);
	close(pfd[0]);
	close(pfd[1]);

	/* signal handler with a frame; FP state survives */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	fpval = 1.5;
	double before = 3.25;
	got = 0;
	raise(SIGUSR1);
	check(got == SIGUSR1 && fpval == 3.0 && before == 3.25, "handler runs and returns", "");
	/* blocked signals stay pending until unblocked */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	got = 0;
	kill(getpid(), SIGUSR1);
	sigset_t pend;
	sigpending(&pend);
	check(got == 0 && sigismember(&pend, SIGUSR1), "blocked signal pending", "");
	sigprocmask(SIG_SETMASK, &old, NULL);
	check(got == SIGUSR1, "delivered on unblock", "");
	/* ppoll and pselect wait under their own mask and restore the old one */
	sigset_t none, cur;
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &set, &old);
	got = 0;
	raise(SIGUSR1);
	struct timespec wait1 = {1, 0};
	n = ppoll(NULL, 0, &wait1, &none);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	check(n == -1 && errno == EINTR && got == SIGUSR1 && sigismember(&cur, SIGUSR1),
	      "ppoll mask lets the pending signal in, then is restored", "");
	got = 0;
	raise(SIGUSR1);
	n = pselect(0, NULL, NULL, NULL, &wait1, &none);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	check(n == -1 && errno == EINTR && got == SIGUSR1 && sigismember(&cur, SIGUSR1),
	      "pselect mask lets the pending signal in, then is restored", "");
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* a handler interrupts a blocking read: EINTR without SA_RESTART */
	check(pipe(pfd) == 0, "pipe 6", "");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sigaction(SIGALRM, &sa, NULL);
	c = fork();
	if (c == 0) {
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		kill(getppid(), SIGALRM);
		_exit(0);
	}
	got = 0;
	n = read(pfd[0], buf, 1);
	check(n == -1 && errno == EINTR && got == SIGALRM, "read interrupted EINTR", "");
	waitpid(c, &st, 0);
	/* with SA_RESTART the read resumes and gets the data */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	c = fork();
	if (c == 0) {
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		kill(getppid(), SIGALRM);
		nanosleep(&ts, NULL);
		write(pfd[1], "q", 1);
		_exit(0);
	}
	got = 0;
	n = read(pfd[0], buf, 1);
	check(n == 1 && buf[0] == 'q' && got == SIGALRM, "read restarted with SA_RESTART", "");
	waitpid(c, &st, 0);
	close(pfd[0]);
	close(pfd[1]);

	/* sigaltstack */
	stack_t ss = {0};
	ss.ss_sp = malloc(65536);
	ss.ss_size = 65536;
	check(sigaltstack(&ss, NULL) == 0, "sigaltstack", "");

	/* kill and tgkill of missing pids */
	check(kill(99999, 0) == -1 && errno == ESRCH, "kill missing pid ESRCH", "");
	check(syscall(SYS_tgkill, 99999, 99999, SIGTERM) == -1 && errno == ESRCH, "tgkill missing ESRCH", "");
	check(kill(getpid(), 0) == 0, "kill self 0", "");
	check(kill(1, 99) == -1 && errno == EINVAL, "kill bad signal EINVAL", "");

	/* process groups and sessions */
	check(getpgid(0) == getpgrp(), "getpgid", "");
	c = fork();
	if (c == 0) {
		if (setpgid(0, 0) != 0 || getpgrp() != getpid())
			_exit(1);
		if (setsid() != -1 || errno != EPERM)
			_exit(2);
		_exit(0);
	}
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "setpgid/setsid in child", "");
	c = fork();
	if (c == 0)
		_exit(setsid() == getpid() && getsid(0) == getpid() ? 0 : 1);
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "setsid new session", "");

	/* execve errors */
	char *av[] = {"x", NULL};
	char *ev[] = {NULL};
	execve("/nonexistent", av, ev);
	check(errno == ENOENT, "execve missing ENOENT", "");
	execve("/tmp", av, ev);
	check(errno == EACCES, "execve directory EACCES", "");
	int fd = open("/tmp/procs-notelf", O_CREAT | O_WRONLY | O_TRUNC, 0755);
	write(fd, "hello world, not an ELF\n", 24);
	close(fd);
	execve("/tmp/procs-notelf", av, ev);
	check(errno == ENOEXEC, "execve non-ELF ENOEXEC", "");
	unlink("/tmp/procs-notelf");

	/* getrusage of children */
	struct rusage ru;
	check(getrusage(RUSAGE_CHILDREN, &ru) == 0, "getrusage children", "");

	/* waitid */
	c = fork();
	if (c == 0)
		_exit(9);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	check(waitid(P_PID, c, &si, WEXITED) == 0 && si.si_pid == c && si.si_status == 9 && si.si_code == CLD_EXITED,
	      "waitid exit 9", "");

	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
