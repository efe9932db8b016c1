/*
 * sched - self-checking test of priorities and process attributes: nice
 * values (getpriority/setpriority, nice, /proc/self/stat), scheduling
 * policies (sched_setscheduler and friends, SCHED_RESET_ON_FORK), CPU
 * affinity, getcpu, membarrier, I/O priorities, personality and
 * PR_SET_PDEATHSIG.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. It must
 * start as root with nice 0; the expected results are Linux's: every check
 * passes under qemu-aarch64-static run by root. With the argument "more"
 * it checks instead what qemu-user gets wrong (it rejects
 * PR_SET_CHILD_SUBREAPER and reports its own machine for PER_LINUX32):
 * sissim's test compares that part with Linux's documented behaviour.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define IOPRIO_PRIO_VALUE(c, d) (((c) << 13) | (d))

/* stat_field returns field n (1-based) of /proc/<pid>/stat. */
static long stat_field(pid_t pid, int n) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	ssize_t k = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (k <= 0)
		return -999;
	buf[k] = 0;
	char *s = strrchr(buf, ')') + 2; /* field 3 */
	for (int i = 3; i < n; i++) {
		s = strchr(s, ' ');
		if (!s)
			return -999;
		s++;
	}
	return strtol(s, NULL, 10);
}

/* self_field returns field n of the caller's /proc stat, read by a child
 * (qemu-user makes up its own /proc/self/stat). */
static long self_field(int n) {
	int p[2];
	pipe(p);
	pid_t me = getpid();
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		long v = stat_field(me, n);
		write(p[1], &v, sizeof v);
		_exit(0);
	}
	long v = -999;
	read(p[0], &v, sizeof v);
	waitpid(c, NULL, 0);
	close(p[0]);
	close(p[1]);
	return v;
}

static int run(void (*fn)(void)) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		passed = failed = 0;
		fn();
		fflush(stdout);
		_exit(failed != 0);
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static void nice_values(void) {
	errno = 0;
	TRUE("getpriority is 0", getpriority(PRIO_PROCESS, 0) == 0 && errno == 0);
	TRUE("the raw system call returns 20 - nice", syscall(SYS_getpriority, PRIO_PROCESS, 0) == 20);
	OK("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
	TRUE("getpriority 5", getpriority(PRIO_PROCESS, 0) == 5);
	TRUE("/proc/self/stat nice", self_field(19) == 5);
	TRUE("/proc/self/stat priority", self_field(18) == 25);
	TRUE("nice(-3) as root", nice(-3) == 2 && getpriority(PRIO_PROCESS, getpid()) == 2);
	OK("setpriority 100 clamps", setpriority(PRIO_PROCESS, 0, 100));
	TRUE("to 19", getpriority(PRIO_PROCESS, 0) == 19);
	OK("setpriority -100 clamps", setpriority(PRIO_PROCESS, 0, -100));
	TRUE("to -20", getpriority(PRIO_PROCESS, 0) == -20);
	OK("back to 4", setpriority(PRIO_PROCESS, 0, 4));
	setpgid(0, 0); /* a group of our own (a session leader already has one) */
	int sync[2];
	pipe(sync);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char x;
		read(sync[0], &x, 1);
		_exit(getpriority(PRIO_PROCESS, 0));
	}
	TRUE("a child inherits the nice value", getpriority(PRIO_PROCESS, c) == 4);
	OK("setpriority of the child", setpriority(PRIO_PROCESS, c, 9));
	TRUE("its /proc stat", stat_field(c, 19) == 9);
	OK("setpriority PRIO_PGRP", setpriority(PRIO_PGRP, 0, 6));
	TRUE("getpriority PRIO_PGRP", getpriority(PRIO_PGRP, 0) == 6);
	setpriority(PRIO_PROCESS, 0, 8);
	TRUE("PRIO_PGRP reports the best of the group", getpriority(PRIO_PGRP, 0) == 6);
	setpriority(PRIO_PROCESS, 0, 6);
	write(sync[1], "x", 1);
	int st;
	waitpid(c, &st, 0);
	TRUE("the child saw the group's value", WIFEXITED(st) && WEXITSTATUS(st) == 6);
	TRUE("and so do we", getpriority(PRIO_PROCESS, 0) == 6);
	errno = 0;
	TRUE("PRIO_USER of a user without processes: ESRCH", getpriority(PRIO_USER, 4242) == -1 && errno == ESRCH);
	FAILS("a missing pid: ESRCH", setpriority(PRIO_PROCESS, 0x3fffffff, 1), ESRCH);
	FAILS("a bad which: EINVAL", setpriority(7, 0, 1), EINVAL);
	OK("back to 0", setpriority(PRIO_PROCESS, 0, 0));
	close(sync[0]);
	close(sync[1]);
}

static pid_t root_pid;

static void unprivileged_nice(void) {
	setpriority(PRIO_PROCESS, 0, 3);
	OK("drop root", setresuid(1000, 1000, 1000));
	OK("raise the nice value", setpriority(PRIO_PROCESS, 0, 8));
	FAILS("lower it: EACCES", setpriority(PRIO_PROCESS, 0, 2), EACCES);
	FAILS("renice a root process: EPERM", setpriority(PRIO_PROCESS, root_pid, 10), EPERM);
	struct sched_param sp = {.sched_priority = 10};
	FAILS("SCHED_FIFO without CAP_SYS_NICE: EPERM", sched_setscheduler(0, SCHED_FIFO, &sp), EPERM);
}

static void policies(void) {
	TRUE("SCHED_OTHER", sched_getscheduler(0) == SCHED_OTHER);
	struct sched_param sp = {.sched_priority = 0};
	OK("sched_getparam", sched_getparam(0, &sp));
	TRUE("priority 0", sp.sched_priority == 0);
	TRUE("FIFO max 99", sched_get_priority_max(SCHED_FIFO) == 99);
	TRUE("RR min 1", sched_get_priority_min(SCHED_RR) == 1);
	TRUE("OTHER max 0", sched_get_priority_max(SCHED_OTHER) == 0);
	FAILS("max of a bad policy", sched_get_priority_max(42), EINVAL);
	sp.sched_priority = 5;
	FAILS("SCHED_OTHER with a priority", sched_setscheduler(0, SCHED_OTHER, &sp), EINVAL);
	sp.sched_priority = 100;
	FAILS("SCHED_FIFO priority 100", sched_setscheduler(0, SCHED_FIFO, &sp), EINVAL);
	FAILS("a bad policy", sched_setscheduler(0, 42, &sp), EINVAL);
	FAILS("a NULL param", sched_setscheduler(0, SCHED_OTHER, NULL), EINVAL);
	FAILS("a missing pid", sched_getscheduler(0x3fffffff), ESRCH);
	FAILS("a negative pid", sched_getscheduler(-1), EINVAL);
	sp.sched_priority = 10;
	OK("SCHED_RR 10", sched_setscheduler(0, SCHED_RR, &sp));
	TRUE("is SCHED_RR", sched_getscheduler(0) == SCHED_RR);
	struct timespec ts = {1, 1};
	OK("sched_rr_get_interval", sched_rr_get_interval(0, &ts));
	TRUE("100 ms for SCHED_RR", ts.tv_sec == 0 && ts.tv_nsec == 100000000);
	sp.sched_priority = 20;
	OK("sched_setparam 20", sched_setparam(0, &sp));
	sp.sched_priority = 0;
	TRUE("sched_getparam 20", sched_getparam(0, &sp) == 0 && sp.sched_priority == 20);
	TRUE("/proc/self/stat priority -21", self_field(18) == -21);
	TRUE("/proc/self/stat rt_priority", self_field(40) == 20);
	TRUE("/proc/self/stat policy", self_field(41) == SCHED_RR);
	sp.sched_priority = 10;
	OK("SCHED_FIFO with SCHED_RESET_ON_FORK", sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp));
	TRUE("reported with the flag", sched_getscheduler(0) == (SCHED_FIFO | SCHED_RESET_ON_FORK));
	OK("sched_rr_get_interval", sched_rr_get_interval(0, &ts));
	TRUE("0 for SCHED_FIFO", ts.tv_sec == 0 && ts.tv_nsec == 0);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(sched_getscheduler(0));
	int st;
	waitpid(c, &st, 0);
	TRUE("the child is back to SCHED_OTHER", WIFEXITED(st) && WEXITSTATUS(st) == SCHED_OTHER);
	sp.sched_priority = 0;
	OK("SCHED_BATCH", sched_setscheduler(0, SCHED_BATCH, &sp));
	OK("SCHED_IDLE", sched_setscheduler(0, SCHED_IDLE, &sp));
	OK("SCHED_OTHER", sched_setscheduler(0, SCHED_OTHER, &sp));
}

static void cpus(void) {
	cpu_set_t set;
	CPU_ZERO(&set);
	OK("sched_getaffinity", sched_getaffinity(0, sizeof set, &set));
	TRUE("CPU 0 is in it", CPU_ISSET(0, &set));
	FAILS("a mask too small", syscall(SYS_sched_getaffinity, 0, 4, &set), EINVAL);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	OK("sched_setaffinity to CPU 0", sched_setaffinity(0, sizeof set, &set));
	CPU_ZERO(&set);
	FAILS("an empty mask", sched_setaffinity(0, sizeof set, &set), EINVAL);
	CPU_SET(1000, &set);
	FAILS("a CPU that does not exist", sched_setaffinity(0, sizeof set, &set), EINVAL);
	CPU_SET(0, &set);
	FAILS("a missing pid", sched_setaffinity(0x3fffffff, sizeof set, &set), ESRCH);
	unsigned cpu = 99, node = 99;
	OK("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof set, &set);
	TRUE("on a CPU of its mask", cpu < 1024 && CPU_ISSET(cpu, &set) && node == 0);

	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	TRUE("membarrier QUERY", q > 0 && (q & MEMBARRIER_CMD_GLOBAL) && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED));
	OK("MEMBARRIER_CMD_GLOBAL", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0));
	FAILS("PRIVATE_EXPEDITED before registering", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0), EPERM);
	OK("register", syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
	OK("PRIVATE_EXPEDITED", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	FAILS("flags", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 1, 0), EINVAL);
	FAILS("a bad command", syscall(SYS_membarrier, 1 << 20, 0, 0), EINVAL);

	TRUE("ioprio none", syscall(SYS_ioprio_get, 1, 0) == 0);
	OK("ioprio best-effort 3", syscall(SYS_ioprio_set, 1, 0, IOPRIO_PRIO_VALUE(2, 3)));
	TRUE("read back", syscall(SYS_ioprio_get, 1, 0) == IOPRIO_PRIO_VALUE(2, 3));
	OK("ioprio idle", syscall(SYS_ioprio_set, 1, getpid(), IOPRIO_PRIO_VALUE(3, 0)));
	TRUE("read back", syscall(SYS_ioprio_get, 1, getpid()) == IOPRIO_PRIO_VALUE(3, 0));
	FAILS("a bad class", syscall(SYS_ioprio_set, 1, 0, IOPRIO_PRIO_VALUE(5, 0)), EINVAL);
	FAILS("a bad who", syscall(SYS_ioprio_get, 9, 0), EINVAL);
	OK("ioprio real-time 0 (root)", syscall(SYS_ioprio_set, 1, 0, IOPRIO_PRIO_VALUE(1, 0)));
	OK("back to none", syscall(SYS_ioprio_set, 1, 0, 0));
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

static void attributes(void) {
	TRUE("PER_LINUX", personality(0xffffffff) == PER_LINUX);
	TRUE("set ADDR_NO_RANDOMIZE, get the old one", personality(PER_LINUX | ADDR_NO_RANDOMIZE) == PER_LINUX);
	TRUE("query", personality(0xffffffff) == (PER_LINUX | ADDR_NO_RANDOMIZE));
	personality(PER_LINUX);

	int sig = -1;
	OK("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig));
	TRUE("none", sig == 0);
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t mid = fork();
	if (mid == 0) {
		pid_t c = fork();
		if (c == 0) {
			struct sigaction sa = {.sa_handler = on_usr1};
			sigaction(SIGUSR1, &sa, NULL);
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			int s = 0;
			prctl(PR_GET_PDEATHSIG, &s);
			write(p[1], s == SIGUSR1 ? "s" : "x", 1);
			while (!got)
				pause();
			write(p[1], getppid() != getpid() ? "d" : "y", 1);
			_exit(0);
		}
		char x;
		read(p[0], &x, 1); /* the grandchild is armed */
		_exit(x == 's' ? 0 : 1);
	}
	int st;
	waitpid(mid, &st, 0);
	TRUE("the grandchild set PR_SET_PDEATHSIG", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char x = 0;
	read(p[0], &x, 1);
	TRUE("its parent's exit sent the signal", x == 'd');
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		int s = -1;
		prctl(PR_GET_PDEATHSIG, &s);
		_exit(s);
	}
	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	waitpid(c, &st, 0);
	TRUE("a fork starts with none", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	prctl(PR_SET_PDEATHSIG, 0);
	FAILS("PR_SET_PDEATHSIG of a bad signal", prctl(PR_SET_PDEATHSIG, 65), EINVAL);
	close(p[0]);
	close(p[1]);
}

static void misc(void) {
	struct tms tm;
	clock_t now = times(&tm);
	TRUE("times", now != (clock_t)-1 && tm.tms_utime >= 0 && tm.tms_stime >= 0 && tm.tms_cutime >= 0);
	OK("unshare nothing", unshare(0));
	OK("unshare CLONE_FILES", unshare(CLONE_FILES));
	OK("unshare CLONE_FS", unshare(CLONE_FS));
	FAILS("unshare of a bad flag", unshare(1), EINVAL);
}

/* more: what qemu-user cannot show. */
static void more(void) {
	struct utsname u;
	TRUE("PER_LINUX32 is accepted", personality(PER_LINUX32) == PER_LINUX);
	uname(&u);
	TRUE("uname reports armv8l under PER_LINUX32", strcmp(u.machine, "armv8l") == 0);
	personality(PER_LINUX);
	uname(&u);
	TRUE("aarch64 again", strcmp(u.machine, "aarch64") == 0);

	int on = -1;
	OK("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &on));
	TRUE("off", on == 0);
	OK("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1));
	prctl(PR_GET_CHILD_SUBREAPER, &on);
	TRUE("on", on == 1);
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t mid = fork();
	if (mid == 0) {
		if (fork() == 0) {
			char x;
			read(p[0], &x, 1); /* after the middle process exited */
			_exit(getppid() == getppid() ? 0 : 1);
		}
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	write(p[1], "g", 1);
	int st;
	pid_t w = wait(&st);
	TRUE("the orphaned grandchild became our child", w > 0 && w != mid && WIFEXITED(st));
}

int main(int argc, char **argv) {
	root_pid = getpid();
	if (argc > 1 && strcmp(argv[1], "more") == 0) {
		more();
	} else {
		nice_values();
		TRUE("without root", run(unprivileged_nice) == 0);
		TRUE("policies", run(policies) == 0);
		cpus();
		attributes();
		misc();
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
