/*
 * sysfuzz - runs its standard input as a sequence of system calls, for the
 * kernel's syscall-sequence fuzzer (FuzzSyscallSequence).
 *
 * The input is read whole (at most 64 KiB), then consumed a call at a
 * time: one byte picks the call among mmap, munmap, mprotect, brk, mremap,
 * madvise, open, close, dup, pipe2, read and write, and the bytes after it
 * its arguments. Addresses are picked from the mappings made so far, the
 * program's own data, NULL, kernel and unaligned addresses or raw bytes;
 * descriptors from those opened so far or raw numbers; lengths, flags and
 * protections from the bytes. Calls that would unmap, remap or protect the
 * program's own image or stack are skipped, so that sequences run long.
 * Every descriptor is non-blocking, so no call waits. It prints "done N" (N calls made) and exits 0; a call may of
 * course kill it (SIGSEGV after unmapping its own stack, say). The test is
 * that the kernel answers every call and stays sound.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned char in[65536];
static size_t len, pos;
static char scratch[65536];
static uint64_t maps[16];
static int fds[16];

static uint64_t byte(void) { return pos < len ? in[pos++] : 0; }

static uint64_t word(int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= byte() << (8 * i);
	return v;
}

/* addr picks an address to pass. */
static uint64_t addr(void)
{
	switch (byte() % 8) {
	case 0:
		return 0;
	case 1:
		return 0xffff000000001000ull; /* kernel space */
	case 2:
		return (uint64_t)scratch + word(2);
	case 3:
		return maps[byte() % 16] + word(1) * 4096;
	case 4:
		return maps[byte() % 16] + word(2); /* often unaligned */
	case 5:
		return word(6) & ~0xfffull;
	default:
		return maps[byte() % 16];
	}
}

/* length picks a length. */
static uint64_t length(void)
{
	switch (byte() % 6) {
	case 0:
		return 0;
	case 1:
		return word(1) * 4096;
	case 2:
		return word(3);
	case 3:
		return (word(1) + 1) << 30; /* gigabytes */
	case 4:
		return ~0ull - word(1);
	default:
		return word(2);
	}
}

extern char __executable_start[], _end[];
static uint64_t stack_lo, stack_hi;

/* spared reports whether [a, a+l) misses the program's image and stack. */
static int spared(uint64_t a, uint64_t l)
{
	uint64_t e = a + l < a ? ~0ull : a + l;
	if (a < (uint64_t)_end + 4096 && e > (uint64_t)__executable_start)
		return 0;
	return a >= stack_hi || e <= stack_lo;
}

static int fd(void)
{
	uint64_t b = byte();
	return b < 200 ? fds[b % 16] : (int)(b - 220);
}

static void keep_fd(long r)
{
	if (r >= 0)
		fds[byte() % 16] = (int)r;
}

int main(void)
{
	ssize_t n;
	while (len < sizeof in && (n = read(0, in + len, sizeof in - len)) > 0)
		len += n;
	close(0);
	stack_lo = ((uint64_t)&n & ~0xfffull) - (1 << 20);
	stack_hi = ((uint64_t)&n & ~0xfffull) + (1 << 20);
	long calls = 0;
	while (pos < len) {
		long r;
		uint64_t a, l;
		calls++;
		switch (byte() % 12) {
		case 0:
		{
			a = addr();
			l = length();
			uint64_t prot = byte() % 8, flags = (byte() & 0x3f) | (byte() % 2 ? MAP_ANONYMOUS : 0) | (byte() % 8 == 0 ? MAP_FIXED_NOREPLACE : 0);
			int f = fd();
			uint64_t off = word(1) * 4096;
			if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && !spared(a, l))
				break;
			r = syscall(SYS_mmap, a, l, prot, flags, f, off);
			if (r != -1)
				maps[byte() % 16] = (uint64_t)r;
			break;
		}
		case 1:
			a = addr();
			l = length();
			if (spared(a, l))
				syscall(SYS_munmap, a, l);
			break;
		case 2:
			a = addr();
			l = length();
			if (spared(a, l))
				syscall(SYS_mprotect, a, l, byte() % 8);
			break;
		case 3:
			syscall(SYS_brk, byte() % 2 ? addr() : (uint64_t)sbrk(0) + word(3));
			break;
		case 4:
		{
			a = addr();
			l = length();
			uint64_t nl = length(), flags = byte() % 4, na = addr();
			if (!spared(a, l) || ((flags & MREMAP_FIXED) && !spared(na, nl)))
				break;
			r = syscall(SYS_mremap, a, l, nl, flags, na);
			if (r != -1)
				maps[byte() % 16] = (uint64_t)r;
			break;
		}
		case 5:
			a = addr();
			l = length();
			if (spared(a, l))
				syscall(SYS_madvise, a, l, byte() % 24);
			break;
		case 6: {
			static const char *paths[] = {"/tmp/f0", "/tmp/f1", "/dev/zero", "/dev/null", "/proc/self/maps", "/tmp", "/nonexistent", "/dev/urandom"};
			r = syscall(SYS_openat, AT_FDCWD, paths[byte() % 8], (byte() & 0x3) | O_NONBLOCK | (byte() % 2 ? O_CREAT : 0) | (byte() % 4 == 0 ? O_TRUNC : 0), 0644);
			keep_fd(r);
			break;
		}
		case 7:
			syscall(SYS_close, fd());
			break;
		case 8:
			keep_fd(syscall(SYS_dup, fd()));
			break;
		case 9: {
			int p[2];
			if (syscall(SYS_pipe2, p, O_NONBLOCK) == 0) {
				fds[byte() % 16] = p[0];
				fds[byte() % 16] = p[1];
			}
			break;
		}
		case 10:
			a = addr();
			syscall(SYS_read, fd(), a, length());
			break;
		default:
			a = addr();
			syscall(SYS_write, fd(), a, length());
			break;
		}
	}
	printf("done %ld\n", calls);
	return 0;
}
