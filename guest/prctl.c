/*
 * prctl - process name, dumpable and no_new_privs through prctl(2), and
 * the consistency of sysinfo(2).
 *
 * Prints one line per check and "prctl: N passed, M failed"; exit status 1
 * when a check failed. The output is the same under Linux and sissim (the
 * sysinfo numbers themselves differ; only their consistency is printed).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static int passed, failed;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
	if (ok)
		passed++;
	else
		failed++;
}

static int read_comm(char *buf, size_t n)
{
	int fd = open("/proc/self/comm", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return 0;
}

int main(void)
{
	char name[16] = {0}, comm[64];

	/* The initial name is the program's (under qemu-user: qemu's). */
	check("PR_GET_NAME gives a name",
	      prctl(PR_GET_NAME, name) == 0 && name[0] != 0 && name[15] == 0);
	check("PR_SET_NAME truncates to 15 bytes",
	      prctl(PR_SET_NAME, "a-very-long-process-name") == 0 &&
		      prctl(PR_GET_NAME, name) == 0 && strcmp(name, "a-very-long-pro") == 0);
	check("/proc/self/comm follows PR_SET_NAME",
	      read_comm(comm, sizeof comm) == 0 && strcmp(comm, "a-very-long-pro\n") == 0);
	check("dumpable starts at 1", prctl(PR_GET_DUMPABLE) == 1);
	check("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0) == 0 && prctl(PR_GET_DUMPABLE) == 0);
	check("PR_SET_DUMPABLE 2 is EINVAL", prctl(PR_SET_DUMPABLE, 2) == -1);
	check("no_new_privs starts at 0", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
	check("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		      prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	check("unknown option is EINVAL", prctl(0x7fff0001, 0, 0, 0, 0) == -1);

	struct sysinfo si;
	memset(&si, 0xff, sizeof si);
	check("sysinfo", sysinfo(&si) == 0);
	check("sysinfo: RAM and free RAM", si.mem_unit >= 1 && si.totalram > 0 && si.freeram <= si.totalram);
	check("sysinfo: at least this process", si.procs >= 1);
	check("sysinfo: no high memory", si.totalhigh == 0 && si.freehigh == 0);

	printf("prctl: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
