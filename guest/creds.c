/*
 * creds - self-checking test of credentials: the user and group ids,
 * supplementary groups and capabilities of a root process, dropping root
 * (for good, or keeping the capabilities with PR_SET_KEEPCAPS), the
 * saved and file-system ids, /proc/self/status, and the permission checks
 * of open(2) and access(2) that follow the ids.
 *
 * Prints "ok - <name>" or "not ok - <name>: <detail>" per check, then
 * "<N> passed, <M> failed", and exits 0 if every check passed. It must
 * start as root with no supplementary groups; the expected results are
 * Linux's: every check passes under qemu-aarch64-static run by root. It
 * works in the current directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int run(void (*fn)(void)) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		passed = failed = 0;
		fn();
		fflush(stdout);
		_exit(failed != 0);
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int caps(__u32 *eff, __u32 *prm) {
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	*eff = d[0].effective;
	*prm = d[0].permitted;
	return 0;
}

/* status_has reports whether /proc/self/status contains line. */
static int status_has(const char *line) {
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, line) != NULL;
}

static void as_root(void) {
	uid_t r, e, s;
	gid_t gr, ge, gs;
	OK("getresuid", getresuid(&r, &e, &s));
	TRUE("root everywhere", r == 0 && e == 0 && s == 0 && getuid() == 0 && geteuid() == 0);
	OK("getresgid", getresgid(&gr, &ge, &gs));
	TRUE("group root", gr == 0 && ge == 0 && gs == 0 && getgid() == 0 && getegid() == 0);
	TRUE("no supplementary groups", getgroups(0, NULL) == 0);
	__u32 eff = 0, prm = 0;
	OK("capget", caps(&eff, &prm));
	TRUE("capabilities effective", eff == prm && (eff & (1u << CAP_SETUID)) && (eff & (1u << CAP_DAC_OVERRIDE)));
	TRUE("/proc/self/status Uid", status_has("\nUid:\t0\t0\t0\t0\n"));

	gid_t set[] = {50, 7, 30};
	OK("setgroups", setgroups(3, set));
	gid_t got[8] = {0};
	TRUE("getgroups returns them sorted", getgroups(8, got) == 3 && got[0] == 7 && got[1] == 30 && got[2] == 50);
	FAILS("getgroups into too small a buffer", getgroups(2, got), EINVAL);
	volatile int neg = -1;
	FAILS("getgroups with a negative size", syscall(SYS_getgroups, neg, got), EINVAL);
	TRUE("/proc/self/status Groups", status_has("\nGroups:\t7 30 50 \n"));
	OK("setgroups to none", setgroups(0, NULL));

	TRUE("setfsuid returns the old id", setfsuid(1234) == 0);
	TRUE("setfsuid(-1) only asks", setfsuid(-1) == 1234);
	TRUE("/proc/self/status shows the fsuid", status_has("\nUid:\t0\t0\t0\t1234\n"));
	TRUE("setfsuid back to 0", setfsuid(0) == 1234 && setfsuid(-1) == 0);
	OK("setresgid 10 11 12", setresgid(10, 11, 12));
	TRUE("getresgid", getresgid(&gr, &ge, &gs) == 0 && gr == 10 && ge == 11 && gs == 12);
	TRUE("/proc/self/status Gid", status_has("\nGid:\t10\t11\t12\t11\n"));
	OK("setgid 0 (root may)", setgid(0));
	TRUE("setgid as root sets all three", getresgid(&gr, &ge, &gs) == 0 && gr == 0 && ge == 0 && gs == 0);
}

static void drop_for_good(void) {
	OK("setresuid 1000 1001 1002", setresuid(1000, 1001, 1002));
	uid_t r, e, s;
	TRUE("getresuid", getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1001 && s == 1002);
	TRUE("/proc/self/status", status_has("\nUid:\t1000\t1001\t1002\t1001\n"));
	__u32 eff = 1, prm = 1;
	caps(&eff, &prm);
	TRUE("every capability is gone", eff == 0 && prm == 0);
	FAILS("setuid 0 is refused", setuid(0), EPERM);
	FAILS("setresuid to a foreign id", setresuid(-1, 5, -1), EPERM);
	FAILS("setgroups needs CAP_SETGID", setgroups(0, NULL), EPERM);
	FAILS("setgid to a foreign group", setgid(5), EPERM);
	FAILS("kill a root process: EPERM", kill(getppid(), 0), EPERM);
	OK("kill ourselves", kill(getpid(), 0));
	OK("setuid to the saved id", setuid(1002));
	TRUE("only the effective id changes", getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1002 && s == 1002);
	OK("setreuid(-1, 1000)", setreuid(-1, 1000));
	TRUE("an effective id equal to the real one keeps the saved id", getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1000 && s == 1002);
	FAILS("setreuid to a real id that is only the saved one", setreuid(1002, 1000), EPERM);
	OK("setreuid(1000, 1002): the saved id becomes the effective", setreuid(1000, 1002));
	TRUE("ids", getresuid(&r, &e, &s) == 0 && r == 1000 && e == 1002 && s == 1002);
	TRUE("setfsuid to a foreign id does nothing", setfsuid(4321) == 1002 && setfsuid(-1) == 1002);
	TRUE("setfsuid to the real id", setfsuid(1000) == 1002 && setfsuid(-1) == 1000);
	TRUE("and back", setfsuid(1002) == 1000);

	/* Permissions follow the ids now. */
	FAILS("open of root's 0600 file", open("secret", O_RDONLY), EACCES);
	FAILS("access of root's 0600 file", access("secret", R_OK), EACCES);
	OK("open of a 0644 file for reading", open("public", O_RDONLY));
	FAILS("but not for writing", open("public", O_WRONLY), EACCES);
	int fd = open("mine", O_CREAT | O_WRONLY, 0600);
	OK("create a file", fd);
	struct stat st;
	TRUE("owned by the file-system ids", fstat(fd, &st) == 0 && st.st_uid == 1002 && st.st_gid == 0);
	OK("write it", write(fd, "x", 1));
	close(fd);
	OK("mkdir", mkdir("mydir", 0755));
	TRUE("owned by us", stat("mydir", &st) == 0 && st.st_uid == 1002);
}

static void keep_caps(void) {
	OK("PR_SET_KEEPCAPS", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	TRUE("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1);
	OK("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
	__u32 eff = 1, prm = 0;
	caps(&eff, &prm);
	TRUE("permitted kept, effective cleared", eff == 0 && (prm & (1u << CAP_SETUID)));
	FAILS("setuid 0 without an effective CAP_SETUID", setuid(0), EPERM);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{.effective = 1u << CAP_SETUID, .permitted = 1u << CAP_SETUID}};
	OK("capset: make CAP_SETUID effective, keep only it", syscall(SYS_capset, &h, d));
	OK("now setuid 0 works", setuid(0));
	uid_t r, e, s;
	TRUE("root ids again", getresuid(&r, &e, &s) == 0 && r == 0 && e == 0 && s == 0);
	caps(&eff, &prm);
	TRUE("but only the kept capability", prm == 1u << CAP_SETUID);
	d[0].permitted = (1u << CAP_SETUID) | (1u << CAP_KILL);
	FAILS("capset cannot raise the permitted set", syscall(SYS_capset, &h, d), EPERM);
}

static void real_vs_effective(void) {
	OK("seteuid 1000 (real stays root)", seteuid(1000));
	OK("access checks the real id", access("secret", R_OK));
	FAILS("faccessat AT_EACCESS checks the effective id", faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS), EACCES);
	FAILS("open checks the file-system id", open("secret", O_RDONLY), EACCES);
	OK("seteuid 0 (the saved id is root)", seteuid(0));
	OK("open again", open("secret", O_RDONLY));
}

int main(void) {
	/* Work in a directory anyone may search. */
	mkdir("d", 0777);
	chmod("d", 0777);
	chdir("d");
	int fd = open("secret", O_CREAT | O_WRONLY, 0600);
	close(fd);
	fd = open("public", O_CREAT | O_WRONLY, 0644);
	close(fd);
	as_root();
	TRUE("dropping root for good", run(drop_for_good) == 0);
	TRUE("keeping capabilities across the drop", run(keep_caps) == 0);
	TRUE("real and effective ids", run(real_vs_effective) == 0);
	unlink("secret");
	unlink("public");
	unlink("mine");
	rmdir("mydir");
	chdir("..");
	rmdir("d");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
