/* dbgwork: a write, then about 3*10^7 instructions of work, for reverse
 * debugging over many time slices. */
#include <unistd.h>

volatile long sink;

int main(void)
{
	write(1, "start\n", 6);
	for (long i = 0; i < 5000000; i++)
		sink += i;
	return 0;
}
