/* dbg: a small program for debugger tests (built unstripped, -g -O0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long counter = 5;
volatile int stop_spinning;
char message[32] = "hello, debugger";

long bump(long by)
{
	long before = counter;
	counter = before + by;
	return counter;
}

int square(int x)
{
	int y = x * x;
	return y;
}

void crash(long *p)
{
	*p = counter;
}

void spin(void)
{
	while (!stop_spinning)
		;
}

int main(int argc, char **argv)
{
	long total = 0;
	for (int i = 1; i <= 3; i++)
		total += bump(i);
	printf("total %ld counter %ld square %d\n", total, counter, square(7));
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "spin") == 0)
		spin();
	if (argc > 1 && strcmp(argv[1], "crash") == 0)
		crash(NULL);
	return (int)(counter & 0x7f);
}
