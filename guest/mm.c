/*
 * mm - self-checks of Linux's memory management, for the differential
 * tests against qemu-user: many mappings, big sparse mappings, mprotect
 * and munmap of single pages inside them, shared and private memory
 * across fork, msync write-back, madvise(MADV_DONTNEED), mremap, mincore,
 * the siginfo of SIGSEGV (SEGV_MAPERR, SEGV_ACCERR, si_addr), and the
 * memory figures of /proc/self/status and smaps_rollup.
 * Each check prints "ok - <name>" or "not ok - <name>: <detail>", then
 * "<N> passed, <M> failed". Output depends on nothing but the program.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PG 4096UL

/* Many mappings: 100 000 one-page mmaps (adjacent ones merge, as on
 * Linux), every other one unmapped again (50 000 separate mappings),
 * contents intact. */
static void check_many_mappings(void)
{
	enum { N = 100000 };
	static char *pages[N];
	int bad = 0, failed_at = -1;
	for (int i = 0; i < N; i++) {
		pages[i] = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pages[i] == MAP_FAILED) {
			failed_at = i;
			break;
		}
		pages[i][i % PG] = (char)i;
	}
	for (int i = 0; i < N && failed_at < 0; i += 2)
		if (munmap(pages[i], PG) != 0)
			bad++;
	for (int i = 1; i < N && failed_at < 0; i += 2)
		if (pages[i][i % PG] != (char)i)
			bad++;
	for (int i = 1; i < N && failed_at < 0; i += 2)
		munmap(pages[i], PG);
	report("100000 mmaps, 50000 unmapped", failed_at < 0 && bad == 0, "failed at %d, %d bad", failed_at, bad);
}

/* 1100 mallocs of 200 KB: glibc maps each one. */
static void check_mallocs(void)
{
	enum { N = 1100, SZ = 200 * 1024 };
	static unsigned char *p[N];
	int bad = 0;
	for (int i = 0; i < N; i++) {
		p[i] = malloc(SZ);
		if (!p[i]) {
			bad++;
			continue;
		}
		for (int k = 0; k < SZ; k += 4096)
			p[i][k] = (unsigned char)(i + k);
	}
	for (int i = 0; i < N; i++) {
		for (int k = 0; p[i] && k < SZ; k += 4096)
			if (p[i][k] != (unsigned char)(i + k))
				bad++;
		free(p[i]);
	}
	report("1100 mallocs of 200 KB", bad == 0, "%d bad", bad);
}

/* mprotect and munmap of one page in the middle of a big mapping. */
static sigjmp_buf jb;
static volatile void *fault_addr;
static volatile int fault_code, fault_sig;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	siglongjmp(jb, 1);
}

/* probe writes to p and reports whether it faulted. */
static int probe_write(volatile char *p)
{
	fault_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		*p = 1;
		return 0;
	}
	return 1;
}

static void check_big(const char *name, unsigned long size, int flags)
{
	char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (base == MAP_FAILED) {
		report(name, 0, "mmap of %lu bytes failed: %s", size, strerror(errno));
		return;
	}
	char *mid = base + (size / 2 & ~(PG - 1));
	mid[-1] = 'a';
	mid[PG] = 'b';
	int pr = mprotect(mid, PG, PROT_READ);
	int faulted = probe_write(mid);
	int code = fault_code;
	void *addr = (void *)fault_addr;
	int ok = pr == 0 && faulted && code == SEGV_ACCERR && addr == mid && mid[-1] == 'a' && mid[PG] == 'b';
	int um = munmap(mid, PG);
	int faulted2 = probe_write(mid + 8);
	ok = ok && um == 0 && faulted2 && fault_code == SEGV_MAPERR && fault_addr == mid + 8;
	base[0] = 'c';
	base[size - 1] = 'd';
	ok = ok && base[0] == 'c' && base[size - 1] == 'd' && mid[-1] == 'a' && mid[PG] == 'b';
	report(name, ok, "mprotect %d faulted %d code %d addr %p (want %p) munmap %d faulted %d code %d",
	       pr, faulted, code, addr, (void *)mid, um, faulted2, fault_code);
	munmap(base, size);
}

/* Shared anonymous memory is shared across fork; private memory is
 * copied on write. */
static void check_fork_sharing(void)
{
	int *shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int *private = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*shared = 1;
	*private = 1;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		*shared = 42;
		*private = 43;
		_exit(*private == 43 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	report("MAP_SHARED anonymous memory across fork", *shared == 42, "parent sees %d", *shared);
	report("private memory is copied on write", *private == 1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "parent sees %d, child status %#x", *private, st);
	munmap(shared, PG);
	munmap(private, PG);
}

/* A shared file mapping: a child's writes reach the file (msync), and the
 * parent's mapping sees them; a private mapping of the file does not
 * change it. */
static void check_file_sharing(void)
{
	const char *path = "/tmp/mm-shared.dat";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char page[2 * PG];
	memset(page, 'x', sizeof page);
	write(fd, page, sizeof page);
	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pm = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	pm[10] = 'p';
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		memcpy(m + PG, "child", 5);
		msync(m, 2 * PG, MS_SYNC);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	char buf[5];
	pread(fd, buf, 5, PG);
	int synced = memcmp(buf, "child", 5) == 0;
	char b10;
	pread(fd, &b10, 1, 10);
	report("shared file mapping: a child's write reaches the file", synced && memcmp(m + PG, "child", 5) == 0,
	       "file has %.5s", buf);
	report("private file mapping leaves the file alone", b10 == 'x' && pm[10] == 'p', "file byte %c", b10);
	/* A write through the mapping is visible to read(2) after munmap. */
	m[0] = 'M';
	munmap(m, 2 * PG);
	pread(fd, buf, 1, 0);
	report("munmap writes a shared mapping back", buf[0] == 'M', "file byte %c", buf[0]);
	munmap(pm, 2 * PG);
	close(fd);
	unlink(path);
}

/* MADV_DONTNEED: private anonymous pages read zeros afterwards. */
static void check_dontneed(void)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 7, 4 * PG);
	int r = madvise(p + PG, 2 * PG, MADV_DONTNEED);
	report("madvise(MADV_DONTNEED) zero-fills", r == 0 && p[0] == 7 && p[PG] == 0 && p[3 * PG - 1] == 0 && p[3 * PG] == 7,
	       "madvise %d, bytes %d %d %d %d", r, p[0], p[PG], p[3 * PG - 1], p[3 * PG]);
	munmap(p, 4 * PG);
}

/* mremap: grow a mapping (moving it if needed) with its contents. */
static void check_mremap(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *guard = mmap(p + 2 * PG, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	strcpy(p, "kept");
	p[PG + 5] = 'k';
	char *q = mremap(p, 2 * PG, 64 * PG, MREMAP_MAYMOVE);
	int ok = q != MAP_FAILED && strcmp(q, "kept") == 0 && q[PG + 5] == 'k' && q[63 * PG] == 0;
	if (ok)
		q[63 * PG] = 1;
	report("mremap grows and moves a mapping with its contents", ok, "q %p", (void *)q);
	char *s = mremap(q, 64 * PG, PG, 0);
	report("mremap shrinks in place", s == q && strcmp(s, "kept") == 0, "s %p", (void *)s);
	munmap(s, PG);
	if (guard != MAP_FAILED)
		munmap(guard, PG);
}

/* mincore: resident pages are the touched ones. */
static void check_mincore(void)
{
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	p[5 * PG] = 1;
	unsigned char vec[8];
	int r = mincore(p, 8 * PG, vec);
	report("mincore reports the touched pages", r == 0 && (vec[0] & 1) && (vec[5] & 1), "r %d vec %d %d", r, vec[0], vec[5]);
	munmap(p, 8 * PG);
}

/* SIGSEGV's siginfo: an unmapped address is SEGV_MAPERR, a protected one
 * SEGV_ACCERR, si_addr the exact byte. */
static void check_segv(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p + PG, PG);
	probe_write(p + 123);
	int acc = fault_sig == SIGSEGV && fault_code == SEGV_ACCERR && fault_addr == p + 123;
	probe_write(p + PG + 777);
	int map = fault_sig == SIGSEGV && fault_code == SEGV_MAPERR && fault_addr == p + PG + 777;
	report("SEGV_ACCERR on a read-only page, exact si_addr", acc, "");
	report("SEGV_MAPERR on an unmapped page, exact si_addr", map, "code %d addr %p want %p", fault_code, fault_addr, (void *)(p + PG + 777));
	munmap(p, PG);
}

/* status returns a field of /proc/self/status (or smaps_rollup) in kB. */
static long status(const char *file, const char *field)
{
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	FILE *f = fopen(file, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = atol(line + n + 1);
	fclose(f);
	return v;
}

/* The memory figures of /proc follow what the process does: 8 MiB touched
 * grow VmRSS and RssAnon by 8 MiB and VmHWM with them; unmapping them
 * lowers VmRSS but not VmHWM or VmPeak; a child that shares every page
 * (the 8 MiB with them) halves their share in Pss. */
static void check_proc_figures(void)
{
	const long mib8 = 8 << 10; /* kB */
	const long slack = 512;    /* kB: the stdio buffer, page tables */
	long rss0 = status("/proc/self/status", "VmRSS"), anon0 = status("/proc/self/status", "RssAnon");
	char *p = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long size1 = status("/proc/self/status", "VmSize");
	memset(p, 1, 8 << 20);
	long rss1 = status("/proc/self/status", "VmRSS"), anon1 = status("/proc/self/status", "RssAnon");
	long hwm1 = status("/proc/self/status", "VmHWM"), peak1 = status("/proc/self/status", "VmPeak");
	report("VmRSS grows by the pages touched", rss1 - rss0 >= mib8 && rss1 - rss0 < mib8 + slack, "%ld -> %ld kB", rss0, rss1);
	report("RssAnon grows by the pages touched", anon1 - anon0 >= mib8 && anon1 - anon0 < mib8 + slack, "%ld -> %ld kB", anon0, anon1);
	report("VmHWM and VmPeak at least the current sizes", hwm1 >= rss1 && peak1 >= size1, "hwm %ld rss %ld peak %ld size %ld", hwm1, rss1, peak1, size1);
	long pss1 = status("/proc/self/smaps_rollup", "Pss");
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	long pss2 = status("/proc/self/smaps_rollup", "Pss");
	report("a child sharing the pages halves their Pss", pss1 - pss2 >= mib8 / 2 - slack && pss2 >= pss1 / 2 - slack,
	       "%ld -> %ld kB", pss1, pss2);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	munmap(p, 8 << 20);
	long rss3 = status("/proc/self/status", "VmRSS");
	report("munmap lowers VmRSS, not VmHWM or VmPeak", rss1 - rss3 >= mib8 - slack && status("/proc/self/status", "VmHWM") >= hwm1 &&
	       status("/proc/self/status", "VmPeak") >= peak1, "rss %ld -> %ld", rss1, rss3);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	check_many_mappings();
	check_mallocs();
	check_big("single pages in a 1 GiB mapping", 1UL << 30, 0);
	check_big("single pages in an 8 GiB mapping", 8UL << 30, MAP_NORESERVE);
	check_fork_sharing();
	check_file_sharing();
	check_dontneed();
	check_mremap();
	check_mincore();
	check_segv();
	check_proc_figures();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
