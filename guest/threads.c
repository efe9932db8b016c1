/*
 * threads - self-checks of POSIX threads (glibc's, on clone, futex,
 * set_robust_list, tgkill and friends): each prints "ok - <name>" or
 * "not ok - <name>: <detail>", then "<N> passed, <M> failed".
 *
 * Usage: threads            every check that qemu-user also passes
 *        threads beyond-qemu what qemu-user 7.2 cannot do: a thread that
 *                           is not the leader calls execve (qemu without
 *                           binfmt cannot re-exec), and a robust mutex
 *                           whose owner died (qemu has no set_robust_list,
 *                           so the next locker waits forever), and
 *                           /proc/self/task (qemu shows its own threads)
 *        threads exec-done  (internal: what the exec runs)
 * Output depends only on the arguments: threads report through shared
 * memory and the main thread prints after joining them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* mutex: 8 threads each add 20000 under one lock. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void check_mutex(void)
{
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, adder, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	report("mutex-protected counter", counter == 160000, "counter %ld", counter);
}

/* condvar ping-pong: two threads take turns 2000 times. */
static pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pc = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *ponger(void *arg)
{
	int me = (int)(long)arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&pm);
		while (turn != me)
			pthread_cond_wait(&pc, &pm);
		rounds++;
		turn = 1 - me;
		pthread_cond_signal(&pc);
		pthread_mutex_unlock(&pm);
	}
	return NULL;
}

static void check_condvar(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, ponger, (void *)0L);
	pthread_create(&b, NULL, ponger, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	report("condvar ping-pong", rounds == 2000, "rounds %d", rounds);
}

/* TLS and pthread_key destructors. */
static __thread int tls_value;
static pthread_key_t key;
static atomic_int destructed, tls_ok;

static void destructor(void *v) { atomic_fetch_add(&destructed, (int)(long)v); }

static void *tls_thread(void *arg)
{
	int n = (int)(long)arg;
	tls_value = n;
	pthread_setspecific(key, (void *)(long)n);
	sched_yield();
	if (tls_value == n && (long)pthread_getspecific(key) == n)
		atomic_fetch_add(&tls_ok, 1);
	return NULL;
}

static void check_tls(void)
{
	pthread_key_create(&key, destructor);
	pthread_t t[4];
	tls_value = 99;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, tls_thread, (void *)(long)(i + 1));
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	report("TLS per thread", tls_ok == 4 && tls_value == 99, "tls_ok %d main %d", tls_ok, tls_value);
	report("pthread_key destructors", destructed == 1 + 2 + 3 + 4, "destructed %d", destructed);
}

/* semaphores: a producer and a consumer through a bounded buffer. */
static sem_t empty, full;
static int ring[4], ringsum;

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 500; i++) {
		sem_wait(&empty);
		ring[i % 4] = i;
		sem_post(&full);
	}
	return NULL;
}

static void check_semaphores(void)
{
	sem_init(&empty, 0, 4);
	sem_init(&full, 0, 0);
	pthread_t p;
	pthread_create(&p, NULL, producer, NULL);
	for (int i = 1; i <= 500; i++) {
		sem_wait(&full);
		ringsum += ring[i % 4];
		sem_post(&empty);
	}
	pthread_join(p, NULL);
	report("semaphores", ringsum == 500 * 501 / 2, "sum %d", ringsum);
}

/* barriers: 4 threads, 5 phases; no thread runs ahead. */
static pthread_barrier_t bar;
static atomic_int phase_count[5], ahead;

static void *barrier_thread(void *arg)
{
	(void)arg;
	for (int ph = 0; ph < 5; ph++) {
		atomic_fetch_add(&phase_count[ph], 1);
		pthread_barrier_wait(&bar);
		if (atomic_load(&phase_count[ph]) != 4)
			atomic_fetch_add(&ahead, 1);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static void check_barriers(void)
{
	pthread_barrier_init(&bar, NULL, 4);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, barrier_thread, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	report("barriers", ahead == 0 && phase_count[4] == 4, "ahead %d", ahead);
}

/* rwlocks: readers never see a half-written pair. */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long pair[2];
static atomic_int torn;

static void *rw_reader(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3000; i++) {
		pthread_rwlock_rdlock(&rw);
		if (pair[0] != pair[1])
			atomic_fetch_add(&torn, 1);
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}

static void *rw_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3000; i++) {
		pthread_rwlock_wrlock(&rw);
		pair[0]++;
		sched_yield();
		pair[1]++;
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}

static void check_rwlock(void)
{
	pthread_t r[3], w;
	pthread_create(&w, NULL, rw_writer, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&r[i], NULL, rw_reader, NULL);
	pthread_join(w, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	report("rwlocks", torn == 0 && pair[0] == 3000, "torn %d", torn);
}

/* pthread_cancel of a thread blocked in a cancellation point. */
static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void check_cancel(void)
{
	pthread_t t;
	void *ret = NULL;
	pthread_create(&t, NULL, sleeper, NULL);
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
	pthread_cancel(t);
	pthread_join(t, &ret);
	report("pthread_cancel", ret == PTHREAD_CANCELED, "returned %p", ret);
}

/* detached threads signal completion through a semaphore. */
static sem_t done;

static void *detached(void *arg)
{
	(void)arg;
	sem_post(&done);
	return NULL;
}

static void check_detached(void)
{
	sem_init(&done, 0, 0);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 6; i++) {
		pthread_t t;
		pthread_create(&t, &at, detached, NULL);
	}
	for (int i = 0; i < 6; i++)
		sem_wait(&done);
	report("detached threads", 1, "");
}

/* a thread calls exit_group: the whole process ends with its status. */
static void *exiter(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 3);
	return NULL;
}

static void check_exit_group(void)
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, exiter, NULL);
		for (;;)
			pause();
	}
	int st = 0;
	waitpid(c, &st, 0);
	report("a thread's exit ends the process", WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %#x", st);
}

/* robust mutexes: the owner dies holding it; the next locker gets
 * EOWNERDEAD and makes it consistent. */
static pthread_mutex_t robust;

static void *die_holding(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL; /* ends without unlocking */
}

static void check_robust(void)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	pthread_t t;
	pthread_create(&t, NULL, die_holding, NULL);
	pthread_join(t, NULL);
	int r = pthread_mutex_lock(&robust);
	int c = r == EOWNERDEAD ? pthread_mutex_consistent(&robust) : -1;
	int u = pthread_mutex_unlock(&robust);
	int again = pthread_mutex_lock(&robust);
	pthread_mutex_unlock(&robust);
	report("robust mutex of a dead owner", r == EOWNERDEAD && c == 0 && u == 0 && again == 0,
	       "lock %d consistent %d unlock %d again %d", r, c, u, again);
}

/* pthread_kill runs the handler in the target thread. */
static atomic_int handled_tid;
static pid_t target_tid;
static sem_t target_ready, target_go;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&handled_tid, (int)gettid_());
}

static void *kill_target(void *arg)
{
	(void)arg;
	target_tid = gettid_();
	sem_post(&target_ready);
	while (sem_wait(&target_go) != 0)
		;
	return NULL;
}

static void check_pthread_kill(void)
{
	signal(SIGUSR1, on_usr1);
	sem_init(&target_ready, 0, 0);
	sem_init(&target_go, 0, 0);
	pthread_t t;
	pthread_create(&t, NULL, kill_target, NULL);
	sem_wait(&target_ready);
	pthread_kill(t, SIGUSR1);
	for (int i = 0; i < 1000 && atomic_load(&handled_tid) == 0; i++)
		sched_yield();
	sem_post(&target_go);
	pthread_join(t, NULL);
	report("pthread_kill runs the handler in the target thread",
	       handled_tid == target_tid && target_tid != getpid(), "handled in %d, target %d", handled_tid, target_tid);
	report("thread ids differ from the process id", target_tid != getpid() && gettid_() == getpid(), "");
}

/* a thread that is not the leader calls execve: the others die and the
 * new program runs with the process's pid. */
static void *execer(void *arg)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%d", getpid());
	char *argv[] = {(char *)arg, "exec-done", pid, NULL};
	execv("/proc/self/exe", argv);
	_exit(99);
}

/* /proc/<pid>/task lists the threads; each has its own comm and status,
 * also as /proc/<tid>. */
static pthread_barrier_t named;
static atomic_int worker_tid;

static void *named_thread(void *arg)
{
	pthread_setname_np(pthread_self(), "worker");
	atomic_store(&worker_tid, (int)gettid_());
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&named);
	return arg;
}

static int read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
	return (int)got;
}

static void check_proc_task(void)
{
	pthread_t t;
	pthread_barrier_init(&named, NULL, 2);
	pthread_create(&t, NULL, named_thread, NULL);
	pthread_barrier_wait(&named);
	int tid = atomic_load(&worker_tid), n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	report("/proc/self/task lists both threads", n == 2, "%d entries", n);
	char path[64], buf[4096], want[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
	report("the thread's comm", read_file(path, buf, sizeof buf) > 0 && strcmp(buf, "worker\n") == 0, "%s", buf);
	snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
	snprintf(want, sizeof want, "Tgid:\t%d\n", getpid());
	int ok = read_file(path, buf, sizeof buf) > 0 && strstr(buf, want);
	snprintf(want, sizeof want, "\nPid:\t%d\n", tid);
	report("its status: Tgid the process, Pid the thread", ok && strstr(buf, want), "%s", buf);
	snprintf(path, sizeof path, "/proc/%d/comm", tid);
	report("/proc/<tid> is the thread", read_file(path, buf, sizeof buf) > 0 && strcmp(buf, "worker\n") == 0, "%s", buf);
	pthread_barrier_wait(&named);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-done") == 0) {
		int same = argc > 2 && atoi(argv[2]) == getpid() && gettid_() == getpid();
		printf("%s after exec from a thread\n", same ? "same pid" : "NEW PID");
		return same ? 7 : 1;
	}
	if (argc > 1 && strcmp(argv[1], "beyond-qemu") == 0) {
		check_robust();
		check_proc_task();
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			pthread_t t, idle;
			pthread_create(&idle, NULL, sleeper, NULL);
			pthread_create(&t, NULL, execer, argv[0]);
			for (;;)
				pause();
		}
		int st = 0;
		waitpid(c, &st, 0);
		fflush(stdout);
		report("execve from a thread", WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	check_exit_group(); /* first: qemu-user 7.2 may hang forking after threads ran */
	check_mutex();
	check_condvar();
	check_tls();
	check_semaphores();
	check_barriers();
	check_rwlock();
	check_cancel();
	check_detached();
	check_pthread_kill();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
