/* dbgrev: reads a line and folds it into a checksum, for reverse debugging. */
#include <stdio.h>

long acc = 7;
char line[64];

void fold(long v)
{
	acc = acc * 31 + v;
}

int main(void)
{
	if (!fgets(line, sizeof line, stdin))
		return 2;
	printf("read %s", line);
	fflush(stdout);
	for (int i = 0; line[i] && line[i] != '\n'; i++)
		fold(line[i]);
	printf("acc %ld\n", acc);
	return 0;
}
