/* dbgfork: a fork for debugger tests. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int child_work(int x)
{
	int y = x * 3;
	return y;
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_work(1));
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	return 0;
}
