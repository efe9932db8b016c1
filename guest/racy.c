/*
 * racy - a deliberately racy program: two threads each add 1 to a shared
 * counter 2000 times with an unlocked read-modify-write, so an increment
 * is lost whenever one thread is preempted between its load and its
 * store. It prints "counter N of 4000" and exits 0 when no increment was
 * lost, 1 otherwise.
 *
 * A plain deterministic schedule runs each thread for long slices and
 * never interleaves them there; `--sched-seed` perturbs the schedule and
 * finds the race.
 */
#include <pthread.h>
#include <stdio.h>

static volatile long counter;

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		long v = counter;
		for (volatile int k = 0; k < 20; k++) /* widen the window */
			;
		counter = v + 1;
	}
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, adder, NULL);
	pthread_create(&b, NULL, adder, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("counter %ld of 4000\n", counter);
	return counter != 4000;
}
