/*
 * timers - self-checking test of interval timers (alarm, setitimer,
 * getitimer: ITIMER_REAL on the clock, ITIMER_VIRTUAL and ITIMER_PROF on
 * CPU time) and POSIX timers (timer_create, timer_settime, timer_gettime,
 * timer_getoverrun, timer_delete with SIGEV_SIGNAL, SIGEV_NONE,
 * SIGEV_THREAD_ID and the C library's SIGEV_THREAD; SI_TIMER siginfo with
 * si_value and overruns; absolute times; CPU-time clocks; fork).
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. The
 * expected results are Linux's: every check passes under
 * qemu-aarch64-static. No times are printed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t alarms, vtalrms, profs;
static void on_alrm(int s) { (void)s; alarms++; }
static void on_vtalrm(int s) { (void)s; vtalrms++; }
static void on_prof(int s) { (void)s; profs++; }

static void handle(int sig, void (*fn)(int)) {
	struct sigaction sa = {.sa_handler = fn};
	sigaction(sig, &sa, NULL);
}

static void block(int sig) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

/* spin burns CPU until *flag becomes nonzero (bounded). */
static void spin(volatile sig_atomic_t *flag) {
	for (long i = 0; i < 400000000L && !*flag; i++)
		__asm__ volatile("" ::: "memory");
}

static long ms(struct timeval tv) { return tv.tv_sec * 1000 + tv.tv_usec / 1000; }

static void itimers(void) {
	handle(SIGALRM, on_alrm);
	alarm(1);
	pause();
	TRUE("alarm(1) delivers SIGALRM", alarms == 1);
	alarm(5);
	TRUE("alarm(0) returns the seconds left", alarm(0) == 5);
	struct itimerval v;
	OK("getitimer ITIMER_REAL", getitimer(ITIMER_REAL, &v));
	TRUE("disarmed", v.it_value.tv_sec == 0 && v.it_value.tv_usec == 0 && v.it_interval.tv_usec == 0);

	struct itimerval p = {.it_interval = {0, 10000}, .it_value = {0, 10000}}, old;
	alarms = 0;
	OK("setitimer ITIMER_REAL every 10 ms", setitimer(ITIMER_REAL, &p, NULL));
	while (alarms < 3)
		pause();
	TRUE("three periods, three signals", alarms == 3);
	OK("getitimer", getitimer(ITIMER_REAL, &v));
	TRUE("the interval, and at most one period left", ms(v.it_interval) == 10 && ms(v.it_value) <= 10 &&
	                                                      (v.it_value.tv_sec || v.it_value.tv_usec));
	struct itimerval zero = {0};
	OK("disarm, getting the old setting", setitimer(ITIMER_REAL, &zero, &old));
	TRUE("the old interval", ms(old.it_interval) == 10);
	FAILS("a bad which", setitimer(7, &p, NULL), EINVAL);
	struct itimerval bad = {.it_value = {0, 1000000}};
	FAILS("tv_usec of a million", setitimer(ITIMER_REAL, &bad, NULL), EINVAL);

	handle(SIGVTALRM, on_vtalrm);
	struct itimerval cpu = {.it_value = {0, 20000}};
	OK("ITIMER_VIRTUAL 20 ms of CPU", setitimer(ITIMER_VIRTUAL, &cpu, NULL));
	spin(&vtalrms);
	TRUE("SIGVTALRM after spinning", vtalrms == 1);
	handle(SIGPROF, on_prof);
	OK("ITIMER_PROF 20 ms of CPU", setitimer(ITIMER_PROF, &cpu, NULL));
	OK("getitimer ITIMER_PROF", getitimer(ITIMER_PROF, &v));
	/* Linux adds a tick to a CPU timer's value (set_cpu_itimer). */
	TRUE("armed, about 20 ms", ms(v.it_value) <= 30 && (v.it_value.tv_sec || v.it_value.tv_usec));
	spin(&profs);
	TRUE("SIGPROF after spinning", profs == 1);
	OK("getitimer after", getitimer(ITIMER_PROF, &v));
	TRUE("a one-shot timer is disarmed", v.it_value.tv_sec == 0 && v.it_value.tv_usec == 0);

	/* A child inherits no timers. */
	OK("arm ITIMER_REAL for 10 s", setitimer(ITIMER_REAL, &(struct itimerval){.it_value = {10, 0}}, NULL));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		struct itimerval cv;
		getitimer(ITIMER_REAL, &cv);
		_exit(cv.it_value.tv_sec == 0 && cv.it_value.tv_usec == 0 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	TRUE("fork: the child has no interval timer", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	setitimer(ITIMER_REAL, &zero, NULL);
}

static siginfo_t wait_sig(int sig) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	sigwaitinfo(&s, &si);
	return si;
}

static volatile int thread_done;
static pid_t worker_tid;
static siginfo_t worker_si;

static void *worker(void *arg) {
	(void)arg;
	worker_tid = syscall(SYS_gettid);
	worker_si = wait_sig(SIGRTMIN + 2);
	thread_done = 1;
	return NULL;
}

static volatile int notified;
static void notify(union sigval v) { notified = v.sival_int; }

static void posix_timers(void) {
	int rt = SIGRTMIN + 1;
	block(rt);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = rt, .sigev_value.sival_int = 42};
	timer_t id;
	OK("timer_create CLOCK_MONOTONIC", timer_create(CLOCK_MONOTONIC, &ev, &id));
	struct itimerspec one = {.it_value = {0, 5000000}}, cur;
	OK("timer_settime 5 ms", timer_settime(id, 0, &one, NULL));
	OK("timer_gettime", timer_gettime(id, &cur));
	TRUE("armed, at most 5 ms left", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 5000000);
	siginfo_t si = wait_sig(rt);
	TRUE("SI_TIMER with the value and the timer id", si.si_signo == rt && si.si_code == SI_TIMER &&
	                                                     si.si_value.sival_int == 42 && si.si_timerid == 0);
	OK("timer_gettime after", timer_gettime(id, &cur));
	TRUE("expired", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* Overruns: a periodic timer whose signal stays pending. */
	struct itimerspec per = {.it_interval = {0, 10000000}, .it_value = {0, 10000000}};
	OK("every 10 ms", timer_settime(id, 0, &per, NULL));
	struct timespec nap = {0, 55000000};
	nanosleep(&nap, NULL);
	si = wait_sig(rt);
	TRUE("one signal, with the overruns", si.si_code == SI_TIMER && si.si_overrun >= 3);
	TRUE("timer_getoverrun agrees", timer_getoverrun(id) == si.si_overrun);
	OK("old setting", timer_settime(id, 0, &(struct itimerspec){0}, &cur));
	TRUE("the interval", cur.it_interval.tv_nsec == 10000000);
	OK("timer_delete", timer_delete(id));
	FAILS("timer_settime of a deleted timer", timer_settime(id, 0, &one, NULL), EINVAL);
	FAILS("timer_delete twice", timer_delete(id), EINVAL);
	FAILS("timer_getoverrun of a bad id", timer_getoverrun((timer_t)12345), EINVAL);

	/* SIGEV_NONE: armed, never signals. */
	struct sigevent none = {.sigev_notify = SIGEV_NONE};
	OK("SIGEV_NONE", timer_create(CLOCK_MONOTONIC, &none, &id));
	OK("settime 1 s", timer_settime(id, 0, &(struct itimerspec){.it_value = {1, 0}}, NULL));
	OK("gettime", timer_gettime(id, &cur));
	TRUE("counting down", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 900000000);
	timer_delete(id);

	/* NULL sigevent: SIGALRM with the timer id as value. */
	block(SIGALRM);
	OK("timer_create without a sigevent", timer_create(CLOCK_REALTIME, NULL, &id));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec += 10000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	OK("TIMER_ABSTIME on CLOCK_REALTIME", timer_settime(id, TIMER_ABSTIME, &(struct itimerspec){.it_value = now}, NULL));
	si = wait_sig(SIGALRM);
	/* (The kernel's value is the timer id; qemu-user, which creates the
	 * host's timer through the host's C library, gives 0.) */
	TRUE("SIGALRM with SI_TIMER", si.si_signo == SIGALRM && si.si_code == SI_TIMER);
	timer_delete(id);

	/* A CPU-time timer. */
	handle(SIGVTALRM, on_vtalrm);
	vtalrms = 0;
	struct sigevent cev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGVTALRM};
	OK("timer_create CLOCK_PROCESS_CPUTIME_ID", timer_create(CLOCK_PROCESS_CPUTIME_ID, &cev, &id));
	OK("settime 20 ms", timer_settime(id, 0, &(struct itimerspec){.it_value = {0, 20000000}}, NULL));
	spin(&vtalrms);
	TRUE("fires after 20 ms of CPU", vtalrms == 1);
	timer_delete(id);

	/* SIGEV_THREAD_ID: a signal for one thread. */
	block(SIGRTMIN + 2);
	pthread_t th;
	pthread_create(&th, NULL, worker, NULL);
	while (!worker_tid)
		usleep(1000);
	struct sigevent tev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN + 2, .sigev_value.sival_int = 7};
	tev._sigev_un._tid = worker_tid;
	OK("SIGEV_THREAD_ID", timer_create(CLOCK_MONOTONIC, &tev, &id));
	OK("settime 5 ms", timer_settime(id, 0, &one, NULL));
	pthread_join(th, NULL);
	TRUE("the thread got it", thread_done && worker_si.si_code == SI_TIMER && worker_si.si_value.sival_int == 7);
	timer_delete(id);
	tev._sigev_un._tid = getppid();
	FAILS("SIGEV_THREAD_ID for a thread of another process", timer_create(CLOCK_MONOTONIC, &tev, &id), EINVAL);
	struct sigevent badsig = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 99};
	FAILS("a bad signal", timer_create(CLOCK_MONOTONIC, &badsig, &id), EINVAL);
	FAILS("a bad notify", timer_create(CLOCK_MONOTONIC, &(struct sigevent){.sigev_notify = 9}, &id), EINVAL);
	FAILS("a bad clock", timer_create(99, &ev, &id), EINVAL);

	/* The C library's SIGEV_THREAD. */
	struct sigevent thr = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = notify, .sigev_value.sival_int = 9};
	OK("SIGEV_THREAD", timer_create(CLOCK_MONOTONIC, &thr, &id));
	OK("settime 5 ms", timer_settime(id, 0, &one, NULL));
	for (int i = 0; i < 2000 && !notified; i++)
		usleep(1000);
	TRUE("the notification function ran", notified == 9);
	timer_delete(id);

	/* Timers are not inherited. */
	OK("timer for the fork", timer_create(CLOCK_MONOTONIC, &ev, &id));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(timer_gettime(id, &cur) == -1 && errno == EINVAL ? 0 : 1);
	int st;
	waitpid(c, &st, 0);
	TRUE("fork: the child has no POSIX timer", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
	itimers();
	posix_timers();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
