/* dbgthreads: two threads for debugger tests. */
#include <pthread.h>
#include <stdio.h>

int results[2];

void *worker(void *arg)
{
	int id = (int)(long)arg;
	results[id] = (id + 1) * 10;
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("results %d %d\n", results[0], results[1]);
	return 0;
}
