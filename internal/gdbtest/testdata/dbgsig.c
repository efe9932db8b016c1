/* dbgsig: signals handled by the program, for reverse debugging. */
#include <signal.h>
#include <stdio.h>

volatile long hits;

void on_usr1(int sig)
{
	hits = hits * 10 + sig;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 3; i++) {
		raise(SIGUSR1);
		printf("hits %ld\n", hits);
	}
	return 0;
}
