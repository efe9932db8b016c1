/*
 * hello - the smallest glibc guest: stdout, argv, envp and the exit status.
 *
 * Prints "Hello, world!", then one line "argv[<i>]=<argv[i]>" for every
 * argument (argv[0] included), then "SISSIM_GREETING=<value>" if that
 * environment variable is set. Exits with status atoi(argv[1]) when argv[1]
 * is a decimal number (optionally signed; the kernel keeps the low 8 bits),
 * otherwise 0.
 *
 * Example: SISSIM_GREETING=hi hello 7 x   prints
 *   Hello, world!
 *   argv[0]=hello
 *   argv[1]=7
 *   argv[2]=x
 *   SISSIM_GREETING=hi
 * and exits with status 7. (argv[0] is whatever the loader was given.)
 */
#include <stdio.h>
#include <stdlib.h>

static int is_number(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *greeting;
	int i;

	printf("Hello, world!\n");
	for (i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	greeting = getenv("SISSIM_GREETING");
	if (greeting != NULL)
		printf("SISSIM_GREETING=%s\n", greeting);
	fflush(stdout);
	if (argc > 1 && is_number(argv[1]))
		return atoi(argv[1]);
	return 0;
}
