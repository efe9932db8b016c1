package strace

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// A golden case is one system call: its arguments and the guest memory
// they point to, the raw result, and the line strace(1) prints for it.
//
// Unless marked, each expected line is copied from strace 6.1 tracing an
// x86-64 C program that makes the same call with the same values
// (testdata/calls*.c are the programs, built with gcc and run as "strace -f ./calls1"); the arm64 register and
// structure layouts differ, the printed text does not. Lines marked
// "assembled" were put together from strace's format where the host run
// could not give the line whole (arm64-only values, lines split by
// "Process N attached").
type golden struct {
	name string
	nr   uint64
	// setup places memory and returns the arguments and the result.
	setup func(m *fakeMem) ([6]uint64, uint64)
	// after changes memory between entry and exit (the call's output).
	after func(m *fakeMem)
	want  string
}

func a(v ...uint64) [6]uint64 {
	var r [6]uint64
	copy(r[:], v)
	return r
}

const atFDCWD = uint64(0xffffffffffffff9c)

func stat128(mode uint32, size int64, rdev uint64) []byte {
	b := zeros(128)
	copy(b[16:], u32s(mode))
	copy(b[32:], u64s(rdev))
	copy(b[48:], u64s(uint64(size)))
	return b
}

func sigact(handler, flags, restorer, mask uint64) []byte {
	return u64s(handler, flags, restorer, mask)
}

func sigmask(sigs ...int) []byte {
	var m uint64
	for _, s := range sigs {
		m |= 1 << (s - 1)
	}
	return u64s(m)
}

func siginfoKill(sig, code int32, pid int32, uid uint32) []byte {
	b := zeros(128)
	copy(b, u32s(uint32(sig), 0, uint32(code)))
	copy(b[16:], u32s(uint32(pid), uid))
	return b
}

func timespecB(sec, nsec int64) []byte { return u64s(uint64(sec), uint64(nsec)) }

var goldens = []golden{
	{name: "openat", nr: linux.SysOpenat, want: `openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/etc/hostname"), 0o2000000), 3
		}},
	{name: "openat creat", nr: linux.SysOpenat, want: `openat(AT_FDCWD, "/tmp/sg/out", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/tmp/sg/out"), 0o1|0o100|0o1000, 0o644), 3
		}},
	{name: "read", nr: linux.SysRead, want: `read(3, "vm\n", 100)                    = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, m.put([]byte("vm\nxx")), 100), 3 }},
	{name: "read binary", nr: linux.SysRead, want: `read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..., 832) = 832`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			b := cat([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, '>', 0, 1, 0, 0, 0, 0o20, 't', 2, 0, 0, 0, 0, 0}, zeros(800))
			return a(3, m.put(b), 832), 832
		}},
	{name: "fstat", nr: linux.SysFstat, want: `fstat(3, {st_mode=S_IFREG|0755, st_size=3, ...}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, m.put(stat128(0o100755, 3, 0))), 0 }},
	{name: "newfstatat", nr: linux.SysNewfstatat, want: `newfstatat(AT_FDCWD, "/etc/passwd", {st_mode=S_IFREG|0644, st_size=1221, ...}, 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/etc/passwd"), m.put(stat128(0o100644, 1221, 0)), 0), 0
		}},
	{name: "newfstatat ENOENT", nr: linux.SysNewfstatat, want: `newfstatat(AT_FDCWD, "/nonexist", 0x7ffc91cec570, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/nonexist"), m.at(0x7ffc91cec570, zeros(128)), 0x100), neg(2)
		}},
	{name: "newfstatat empty path", nr: linux.SysNewfstatat, want: `newfstatat(3, "", {st_mode=S_IFREG|0755, st_size=3, ...}, AT_EMPTY_PATH) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(3, m.str(""), m.put(stat128(0o100755, 3, 0)), 0x1000), 0
		}},
	{name: "lseek", nr: linux.SysLseek, want: `lseek(3, 0, SEEK_SET)                   = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0, 0), 0 }},
	{name: "pread64", nr: linux.SysPread64, want: `pread64(3, "vm\n", 10, 0)               = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, m.put([]byte("vm\n")), 10, 0), 3 }},
	{name: "close", nr: linux.SysClose, want: `close(3)                                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3), 0 }},
	{name: "write escapes", nr: linux.SysWrite, want: `write(3, "hello\tworld\n\1\2\0033\377x\"\\", 20) = 20`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(3, m.put([]byte("hello\tworld\n\x01\x02\x033\xffx\"\\")), 20), 20
		}},
	{name: "writev", nr: linux.SysWritev, want: `writev(3, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=3}], 2) = 5`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(3, m.put(u64s(m.put([]byte("ab")), 2, m.put([]byte("cde")), 3)), 2), 5
		}},
	{name: "fcntl F_GETFD", nr: linux.SysFcntl, want: `fcntl(3, F_GETFD)                       = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 1), 0 }},
	{name: "fcntl F_SETFD", nr: linux.SysFcntl, want: `fcntl(3, F_SETFD, FD_CLOEXEC)           = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 2, 1), 0 }},
	// assembled: arm64's O_LARGEFILE is 0x20000 (x86-64: 0x8000).
	{name: "fcntl F_GETFL", nr: linux.SysFcntl, want: `fcntl(3, F_GETFL)                       = 0x20001 (flags O_WRONLY|O_LARGEFILE)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 3), 0x20001 }},
	{name: "fcntl F_SETFL", nr: linux.SysFcntl, want: `fcntl(3, F_SETFL, O_RDONLY|O_APPEND|O_NONBLOCK) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 4, 0o2000|0o4000), 0 }},
	{name: "fcntl F_DUPFD_CLOEXEC", nr: linux.SysFcntl, want: `fcntl(3, F_DUPFD_CLOEXEC, 10)           = 11`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 1030, 10), 11 }},
	{name: "fcntl F_SETLK", nr: linux.SysFcntl, want: `fcntl(3, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(3, 6, m.put(cat(u16s(1, 0), zeros(4), u64s(0, 10), u32s(0, 0)))), 0
		}},
	{name: "fcntl F_GETLK", nr: linux.SysFcntl, want: `fcntl(3, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=10, l_pid=0}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(3, 5, m.put(cat(u16s(2, 0), zeros(4), u64s(0, 10), u32s(0, 0)))), 0
		}},
	{name: "flock", nr: linux.SysFlock, want: `flock(3, LOCK_EX|LOCK_NB)               = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 6), 0 }},
	{name: "dup3", nr: linux.SysDup3, want: `dup3(3, 7, O_CLOEXEC)                   = 7`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 7, 0o2000000), 7 }},
	{name: "ftruncate", nr: linux.SysFtruncate, want: `ftruncate(3, 4)                         = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 4), 0 }},
	{name: "fallocate", nr: linux.SysFallocate, want: `fallocate(3, 0, 0, 4096)                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0, 0, 4096), 0 }},
	{name: "fsync", nr: linux.SysFsync, want: `fsync(3)                                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3), 0 }},
	{name: "mkdirat", nr: linux.SysMkdirat, want: `mkdirat(AT_FDCWD, "/tmp/sg/d", 0755)    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp/sg/d"), 0o755), 0 }},
	{name: "unlinkat", nr: linux.SysUnlinkat, want: `unlinkat(AT_FDCWD, "/tmp/sg/d", AT_REMOVEDIR) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp/sg/d"), 0x200), 0 }},
	{name: "faccessat", nr: linux.SysFaccessat, want: `faccessat(AT_FDCWD, "/etc", R_OK|X_OK)  = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/etc"), 5), 0 }},
	{name: "faccessat F_OK", nr: linux.SysFaccessat, want: `faccessat(AT_FDCWD, "/etc", F_OK)       = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/etc"), 0), 0 }},
	{name: "fchmodat", nr: linux.SysFchmodat, want: `fchmodat(AT_FDCWD, "/tmp/sg/out", 04755) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp/sg/out"), 0o4755), 0 }},
	{name: "readlinkat", nr: linux.SysReadlinkat, want: `readlinkat(AT_FDCWD, "/proc/self/exe", "/tmp/sg/a", 256) = 9`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/proc/self/exe"), m.put([]byte("/tmp/sg/a")), 256), 9
		}},
	{name: "getcwd", nr: linux.SysGetcwd, want: `getcwd("/tmp/sg", 256)                  = 8`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.str("/tmp/sg"), 256), 8 }},
	{name: "mknodat fifo", nr: linux.SysMknodat, want: `mknodat(AT_FDCWD, "/tmp/sg/fifo", S_IFIFO|0600) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp/sg/fifo"), 0o10600, 0), 0 }},
	{name: "renameat2", nr: linux.SysRenameat2, want: `renameat2(AT_FDCWD, "/tmp/sg/out", AT_FDCWD, "/tmp/sg/out2", RENAME_NOREPLACE) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/tmp/sg/out"), atFDCWD, m.str("/tmp/sg/out2"), 1), 0
		}},
	{name: "symlinkat", nr: linux.SysSymlinkat, want: `symlinkat("out2", AT_FDCWD, "/tmp/sg/ln") = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.str("out2"), atFDCWD, m.str("/tmp/sg/ln")), 0 }},
	{name: "linkat", nr: linux.SysLinkat, want: `linkat(AT_FDCWD, "/tmp/sg/out2", AT_FDCWD, "/tmp/sg/hl", 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/tmp/sg/out2"), atFDCWD, m.str("/tmp/sg/hl"), 0), 0
		}},
	{name: "utimensat", nr: linux.SysUtimensat, want: `utimensat(AT_FDCWD, "/tmp/sg/out2", [{tv_sec=1, tv_nsec=2} /* 1970-01-01T00:00:01.000000002+0000 */, UTIME_NOW], 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/tmp/sg/out2"), m.put(cat(timespecB(1, 2), timespecB(0, 1<<30-1))), 0), 0
		}},
	{name: "utimensat NULL", nr: linux.SysUtimensat, want: `utimensat(AT_FDCWD, "/tmp/sg/out2", NULL, 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp/sg/out2"), 0, 0), 0 }},
	{name: "mmap", nr: linux.SysMmap, want: `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f8aec5b4000`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 8192, 3, 0x22, 0xffffffff, 0), 0x7f8aec5b4000 }},
	{name: "mmap file", nr: linux.SysMmap, want: `mmap(0x7ff1a3428000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7ff1a3428000`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0x7ff1a3428000, 1400832, 5, 0x812, 3, 0x26000), 0x7ff1a3428000
		}},
	{name: "mprotect", nr: linux.SysMprotect, want: `mprotect(0x7f8aec5b4000, 4096, PROT_READ) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f8aec5b4000, 4096, 1), 0 }},
	{name: "madvise", nr: linux.SysMadvise, want: `madvise(0x7f8aec5b4000, 4096, MADV_DONTNEED) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f8aec5b4000, 4096, 4), 0 }},
	{name: "munmap", nr: linux.SysMunmap, want: `munmap(0x7f8aec5b4000, 8192)            = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f8aec5b4000, 8192), 0 }},
	{name: "brk", nr: linux.SysBrk, want: `brk(NULL)                               = 0x55be98d3e000`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0x55be98d3e000 }},
	{name: "clock_gettime", nr: linux.SysClockGettime, want: `clock_gettime(CLOCK_MONOTONIC, {tv_sec=701, tv_nsec=687188276}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, m.put(timespecB(701, 687188276))), 0 }},
	{name: "clock_getres", nr: linux.SysClockGetres, want: `clock_getres(CLOCK_REALTIME, {tv_sec=0, tv_nsec=1}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(timespecB(0, 1))), 0 }},
	{name: "nanosleep", nr: linux.SysNanosleep, want: `nanosleep({tv_sec=0, tv_nsec=1000}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(timespecB(0, 1000)), 0), 0 }},
	{name: "clock_nanosleep", nr: linux.SysClockNanosleep, want: `clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 0, m.put(timespecB(0, 1000)), 0), 0 }},
	{name: "gettimeofday", nr: linux.SysGettimeofday, want: `gettimeofday({tv_sec=1796541797, tv_usec=822929}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(timespecB(1796541797, 822929)), 0), 0 }},
	{name: "prlimit64 get", nr: linux.SysPrlimit64, want: `prlimit64(0, RLIMIT_NOFILE, NULL, {rlim_cur=20000, rlim_max=20000}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 7, 0, m.put(u64s(20000, 20000))), 0 }},
	{name: "prlimit64 stack", nr: linux.SysPrlimit64, want: `prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 3, 0, m.put(u64s(8192*1024, ^uint64(0)))), 0 }},
	{name: "prlimit64 set", nr: linux.SysPrlimit64, want: `prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=2*1024}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 7, m.put(u64s(1024, 2048)), 0), 0 }},
	{name: "prlimit64 EINVAL", nr: linux.SysPrlimit64, want: `prlimit64(0, RLIMIT_CORE, {rlim_cur=4*1024, rlim_max=2*1024}, NULL) = -1 EINVAL (Invalid argument)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 4, m.put(u64s(4096, 2048)), 0), neg(22) }},
	{name: "getrlimit", nr: linux.SysGetrlimit, want: `getrlimit(RLIMIT_STACK, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, m.put(u64s(8192*1024, ^uint64(0)))), 0 }},
	{name: "uname", nr: linux.SysUname, want: `uname({sysname="Linux", nodename="vm", ...}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			b := zeros(linux.SizeofUtsname)
			copy(b, "Linux")
			copy(b[65:], "vm")
			return a(m.put(b)), 0
		}},
	{name: "sysinfo", nr: linux.SysSysinfo, want: `sysinfo({uptime=702, loads=[19712, 33952, 22976], totalram=25276194816, freeram=24269869056, sharedram=10465280, bufferram=9625600, totalswap=0, freeswap=0, procs=120, totalhigh=0, freehigh=0, mem_unit=1}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			b := cat(u64s(702, 19712, 33952, 22976, 25276194816, 24269869056, 10465280, 9625600, 0, 0), u16s(120, 0, 0, 0), u64s(0, 0), u32s(1), zeros(4))
			return a(m.put(b)), 0
		}},
	{name: "umask", nr: linux.SysUmask, want: `umask(022)                              = 022`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0o22), 0o22 }},
	{name: "getrandom", nr: linux.SysGetrandom, want: `getrandom("\xbf\xe6\x79\xde\xeb\xcd\x4f\x10\x8d\x9f\x8c\xa4\x01\x28\x0a\x8f", 16, GRND_NONBLOCK) = 16`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.put([]byte("\xbf\xe6\x79\xde\xeb\xcd\x4f\x10\x8d\x9f\x8c\xa4\x01\x28\x0a\x8f")), 16, 1), 16
		}},
	{name: "ioctl TIOCGWINSZ ENOTTY", nr: linux.SysIoctl, want: `ioctl(1, TIOCGWINSZ, 0x7ffc91cec2c8)    = -1 ENOTTY (Inappropriate ioctl for device)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 0x5413, 0x7ffc91cec2c8), neg(25) }},
	{name: "ioctl TCGETS ENOTTY", nr: linux.SysIoctl, want: `ioctl(1, TCGETS, 0x7ffc91cec280)        = -1 ENOTTY (Inappropriate ioctl for device)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 0x5401, 0x7ffc91cec280), neg(25) }},
	{name: "ioctl TCGETS", nr: linux.SysIoctl, want: `ioctl(0, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0, 0x5401, m.put(cat(u32s(0o2400, 0o5, 0o277, 0o105073), zeros(20)))), 0
		}},
	{name: "ioctl TIOCGWINSZ", nr: linux.SysIoctl, want: `ioctl(0, TIOCGWINSZ, {ws_row=0, ws_col=0, ws_xpixel=0, ws_ypixel=0}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0x5413, m.put(zeros(8))), 0 }},
	{name: "ioctl TIOCGPGRP", nr: linux.SysIoctl, want: `ioctl(0, TIOCGPGRP, [31334])            = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0x540f, m.put(u32s(31334))), 0 }},
	{name: "ioctl FIONREAD ENOTTY", nr: linux.SysIoctl, want: `ioctl(0, FIONREAD, 0x7ffc91cec600)      = -1 ENOTTY (Inappropriate ioctl for device)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0x541b, 0x7ffc91cec600), neg(25) }},
	{name: "pipe2", nr: linux.SysPipe2, want: `pipe2([4, 5], O_CLOEXEC)                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(u32s(4, 5)), 0o2000000), 0 }},
	{name: "ppoll", nr: linux.SysPpoll, want: `ppoll([{fd=4, events=POLLIN}, {fd=5, events=POLLOUT}], 2, {tv_sec=0, tv_nsec=0}, NULL, 8) = 1 ([{fd=5, revents=POLLOUT}], left {tv_sec=0, tv_nsec=0})`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			fds := m.put(cat(u32s(4), u16s(1, 0), u32s(5), u16s(4, 0)))
			return a(fds, 2, m.put(timespecB(0, 0)), 0, 8), 1
		},
		after: func(m *fakeMem) { m.regions[0x10000] = cat(u32s(4), u16s(1, 0), u32s(5), u16s(4, 4)) }},
	{name: "rt_sigaction", nr: linux.SysRtSigaction, want: `rt_sigaction(SIGUSR2, {sa_handler=0x55be6f50a1b9, sa_mask=[USR1], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f8aec407050}, NULL, 8) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(12, m.put(sigact(0x55be6f50a1b9, 0x14000000, 0x7f8aec407050, 1<<9)), 0, 8), 0
		}},
	{name: "rt_sigaction old", nr: linux.SysRtSigaction, want: `rt_sigaction(SIGINT, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(2, 0, m.put(sigact(0, 0, 0, 0)), 8), 0 }},
	{name: "rt_sigaction inverted mask", nr: linux.SysRtSigaction, want: `rt_sigaction(SIGCHLD, {sa_handler=0x55718fb60dc0, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, sa_restorer=0x7ff50f0b6050}, NULL, 8) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(17, m.put(sigact(0x55718fb60dc0, 0x04000000, 0x7ff50f0b6050, ^uint64(3<<31))), 0, 8), 0
		}},
	{name: "rt_sigprocmask", nr: linux.SysRtSigprocmask, want: `rt_sigprocmask(SIG_BLOCK, [INT RT_3], NULL, 8) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(sigmask(2, 35)), 0, 8), 0 }},
	{name: "rt_sigprocmask old", nr: linux.SysRtSigprocmask, want: `rt_sigprocmask(SIG_SETMASK, [INT RT_3], [INT RT_3], 8) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(2, m.put(sigmask(2, 35)), m.put(sigmask(2, 35)), 8), 0 }},
	{name: "rt_sigprocmask inverted", nr: linux.SysRtSigprocmask, want: `rt_sigprocmask(SIG_BLOCK, ~[RT_1], NULL, 8) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(u64s(^uint64(1<<32))), 0, 8), 0 }},
	{name: "kill", nr: linux.SysKill, want: `kill(17886, SIGUSR2)                    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(17886, 12), 0 }},
	{name: "getpid", nr: linux.SysGetpid, want: `getpid()                                = 17886`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(), 17886 }},
	{name: "tgkill", nr: linux.SysTgkill, want: `tgkill(17886, 17886, 0)                 = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(17886, 17886, 0), 0 }},
	{name: "setpgid", nr: linux.SysSetpgid, want: `setpgid(0, 0)                           = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0), 0 }},
	{name: "getgroups", nr: linux.SysGetgroups, want: `getgroups(4, [])                        = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4, m.put(zeros(16))), 0 }},
	{name: "setgroups", nr: linux.SysSetgroups, want: `setgroups(2, [0, 1])                    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(2, m.put(u32s(0, 1))), 0 }},
	{name: "getresuid", nr: linux.SysGetresuid, want: `getresuid([0], [0], [0])                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(zeros(4)), m.put(zeros(4)), m.put(zeros(4))), 0 }},
	{name: "setresuid", nr: linux.SysSetresuid, want: `setresuid(-1, 0, -1)                    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0xffffffff, 0, 0xffffffff), 0 }},
	{name: "getpriority", nr: linux.SysGetpriority, want: `getpriority(PRIO_PROCESS, 0)            = 20`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0), 20 }},
	{name: "setpriority", nr: linux.SysSetpriority, want: `setpriority(PRIO_PROCESS, 0, 5)         = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, 5), 0 }},
	{name: "personality", nr: linux.SysPersonality, want: `personality(0xffffffff)                 = 0 (PER_LINUX)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0xffffffff), 0 }},
	{name: "sched_getaffinity", nr: linux.SysSchedGetaffinity, want: `sched_getaffinity(0, 128, [0 1])        = 32`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 128, m.put(cat([]byte{3}, zeros(127)))), 32 }},
	{name: "sched_setaffinity", nr: linux.SysSchedSetaffinity, want: `sched_setaffinity(0, 128, [0])          = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 128, m.put(cat([]byte{1}, zeros(127)))), 0 }},
	{name: "set_tid_address", nr: linux.SysSetTidAddress, want: `set_tid_address(0x7ffc91cec11c)         = 17886`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7ffc91cec11c), 17886 }},
	{name: "set_robust_list", nr: linux.SysSetRobustList, want: `set_robust_list(0x7ff1a33ffa20, 24)     = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7ff1a33ffa20, 24), 0 }},
	{name: "rseq", nr: linux.SysRseq, want: `rseq(0x7ff1a3400060, 0x20, 0, 0x53053053) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7ff1a3400060, 0x20, 0, 0x53053053), 0 }},
	{name: "prctl PR_SET_NAME", nr: linux.SysPrctl, want: `prctl(PR_SET_NAME, "hello")             = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(15, m.str("hello")), 0 }},
	{name: "prctl PR_GET_DUMPABLE", nr: linux.SysPrctl, want: `prctl(PR_GET_DUMPABLE)                  = 1 (SUID_DUMP_USER)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3), 1 }},
	{name: "eventfd2", nr: linux.SysEventfd2, want: `eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK)   = 6`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0o2004000), 6 }},
	{name: "epoll_create1", nr: linux.SysEpollCreate1, want: `epoll_create1(EPOLL_CLOEXEC)            = 8`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0o2000000), 8 }},
	{name: "epoll_ctl", nr: linux.SysEpollCtl, want: `epoll_ctl(8, EPOLL_CTL_ADD, 6, {events=EPOLLIN|EPOLLET, data={u32=5, u64=5}}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(8, 1, 6, m.put(cat(u32s(0x80000001, 0), u64s(5)))), 0 }},
	{name: "epoll_pwait", nr: linux.SysEpollPwait, want: `epoll_pwait(8, [], 4, 0, NULL, 8)       = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(8, m.put(zeros(64)), 4, 0, 0, 8), 0 }},
	{name: "timerfd_create", nr: linux.SysTimerfdCreate, want: `timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC) = 9`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 0o2000000), 9 }},
	{name: "timerfd_settime", nr: linux.SysTimerfdSettime, want: `timerfd_settime(9, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=500}}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(9, 0, m.put(u64s(0, 0, 1, 500)), 0), 0 }},
	{name: "timerfd_gettime", nr: linux.SysTimerfdGettime, want: `timerfd_gettime(9, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=999980590}}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(9, m.put(u64s(0, 0, 0, 999980590))), 0 }},
	{name: "signalfd4", nr: linux.SysSignalfd4, want: `signalfd4(-1, [INT RT_3], 8, SFD_CLOEXEC) = 12`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0xffffffff, m.put(sigmask(2, 35)), 8, 0o2000000), 12 }},
	{name: "setitimer", nr: linux.SysSetitimer, want: `setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=0, tv_usec=0}}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(zeros(32)), 0), 0 }},
	{name: "getitimer", nr: linux.SysGetitimer, want: `getitimer(ITIMER_VIRTUAL, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=0, tv_usec=0}}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, m.put(zeros(32))), 0 }},
	{name: "timer_create", nr: linux.SysTimerCreate, want: `timer_create(CLOCK_MONOTONIC, {sigev_signo=SIGALRM, sigev_notify=SIGEV_SIGNAL}, [0]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(1, m.put(cat(u64s(0), u32s(14, 0), zeros(48))), m.put(u32s(0))), 0
		}},
	{name: "timer_create NULL", nr: linux.SysTimerCreate, want: `timer_create(CLOCK_REALTIME, NULL, [0]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, m.put(u32s(0))), 0 }},
	{name: "timer_settime", nr: linux.SysTimerSettime, want: `timer_settime(0, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=5, tv_nsec=0}}, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=0}}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, m.put(u64s(0, 0, 5, 0)), m.put(zeros(32))), 0 }},
	{name: "timer_getoverrun", nr: linux.SysTimerGetoverrun, want: `timer_getoverrun(0)                     = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0 }},
	{name: "timer_delete", nr: linux.SysTimerDelete, want: `timer_delete(0)                         = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0 }},
	{name: "socket", nr: linux.SysSocket, want: `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 13`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(2, 0o2000001, 6), 13 }},
	{name: "socket IP", nr: linux.SysSocket, want: `socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 9`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(2, 1, 0), 9 }},
	{name: "socket unix", nr: linux.SysSocket, want: `socket(AF_UNIX, SOCK_DGRAM, 0)          = 14`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 2, 0), 14 }},
	{name: "connect", nr: linux.SysConnect, want: `connect(13, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(13, m.put(cat(u16s(2), []byte{0, 80, 127, 0, 0, 1}, zeros(8))), 16), neg(111)
		}},
	{name: "connect inet6", nr: linux.SysConnect, want: `connect(11, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			ip := zeros(16)
			ip[15] = 1
			return a(11, m.put(cat(u16s(10), []byte{1, 187}, zeros(4), ip, zeros(4))), 28), 0
		}},
	{name: "setsockopt", nr: linux.SysSetsockopt, want: `setsockopt(13, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(13, 1, 2, m.put(u32s(1)), 4), 0 }},
	{name: "bind unix", nr: linux.SysBind, want: `bind(14, {sa_family=AF_UNIX, sun_path="/tmp/sg/sock"}, 110) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(14, m.put(cat(u16s(1), []byte("/tmp/sg/sock"), zeros(96))), 110), 0
		}},
	{name: "bind inet", nr: linux.SysBind, want: `bind(9, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(9, m.put(cat(u16s(2), []byte{0, 0, 127, 0, 0, 1}, zeros(8))), 16), 0
		}},
	{name: "listen", nr: linux.SysListen, want: `listen(9, 5)                            = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(9, 5), 0 }},
	{name: "getsockname", nr: linux.SysGetsockname, want: `getsockname(9, {sa_family=AF_INET, sin_port=htons(47105), sin_addr=inet_addr("127.0.0.1")}, [16]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(9, m.put(cat(u16s(2), []byte{0xb8, 0x01, 127, 0, 0, 1}, zeros(8))), m.put(u32s(16))), 0
		}},
	{name: "getsockopt", nr: linux.SysGetsockopt, want: `getsockopt(9, SOL_SOCKET, SO_TYPE, [1], [4]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(9, 1, 3, m.put(u32s(1)), m.put(u32s(4))), 0 }},
	{name: "accept4 EAGAIN", nr: linux.SysAccept4, want: `accept4(9, 0x7ffebf3a61e0, [16], SOCK_NONBLOCK) = -1 EAGAIN (Resource temporarily unavailable)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(9, m.at(0x7ffebf3a61e0, zeros(16)), m.put(u32s(16)), 0o4000), neg(11)
		}},
	{name: "socketpair", nr: linux.SysSocketpair, want: `socketpair(AF_UNIX, SOCK_STREAM, 0, [15, 16]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 1, 0, m.put(u32s(15, 16))), 0 }},
	{name: "sendto", nr: linux.SysSendto, want: `sendto(15, "hi", 2, MSG_DONTWAIT, NULL, 0) = 2`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(15, m.put([]byte("hi")), 2, 0x40, 0, 0), 2 }},
	{name: "recvfrom", nr: linux.SysRecvfrom, want: `recvfrom(16, "hi", 10, 0, NULL, NULL)   = 2`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(16, m.put([]byte("hi")), 10, 0, 0, 0), 2 }},
	{name: "shutdown", nr: linux.SysShutdown, want: `shutdown(15, SHUT_WR)                   = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(15, 1), 0 }},
	{name: "sendmsg", nr: linux.SysSendmsg, want: `sendmsg(7, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="xyz", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			iov := m.put(u64s(m.put([]byte("xyz")), 3))
			return a(7, m.put(cat(u64s(0), u32s(0, 0), u64s(iov, 1, 0, 0), u32s(0, 0))), 0), 3
		}},
	{name: "recvmsg", nr: linux.SysRecvmsg, want: `recvmsg(8, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="xyz", iov_len=10}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			iov := m.put(u64s(m.put([]byte("xyz\000\000\000\000\000\000\000")), 10))
			return a(8, m.put(cat(u64s(0), u32s(0, 0), u64s(iov, 1, 0, 0), u32s(0, 0))), 0), 3
		}},
	{name: "sendmmsg", nr: linux.SysSendmmsg, want: `sendmmsg(7, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="one", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=3}, {msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="two!", iov_len=4}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=4}], 2, 0) = 2`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			iov1 := m.put(u64s(m.put([]byte("one")), 3))
			iov2 := m.put(u64s(m.put([]byte("two!")), 4))
			vec := m.put(cat(u64s(0), u32s(0, 0), u64s(iov1, 1, 0, 0), u32s(0, 0), u32s(3, 0),
				u64s(0), u32s(0, 0), u64s(iov2, 1, 0, 0), u32s(0, 0), u32s(4, 0)))
			return a(7, vec, 2, 0), 2
		}},
	{name: "recvmmsg", nr: linux.SysRecvmmsg, want: `recvmmsg(8, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="hey", iov_len=10}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=3}], 4, MSG_DONTWAIT, NULL) = 1`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			iov := m.put(u64s(m.put([]byte("hey\000\000\000\000\000\000\000")), 10))
			return a(8, m.put(cat(u64s(0), u32s(0, 0), u64s(iov, 1, 0, 0), u32s(0, 0), u32s(3, 0))), 4, 0x40, 0), 1
		}},
	{name: "setxattr", nr: linux.SysSetxattr, want: `setxattr("/tmp/sg/out2", "user.a", "v", 1, XATTR_CREATE) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.str("/tmp/sg/out2"), m.str("user.a"), m.put([]byte("v")), 1, 1), 0
		}},
	{name: "getxattr", nr: linux.SysGetxattr, want: `getxattr("/tmp/sg/out2", "user.a", "v", 10) = 1`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.str("/tmp/sg/out2"), m.str("user.a"), m.put([]byte("v")), 10), 1
		}},
	{name: "listxattr", nr: linux.SysListxattr, want: `listxattr("/tmp/sg/out2", "user.a\0", 100) = 7`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.str("/tmp/sg/out2"), m.put([]byte("user.a\000")), 100), 7
		}},
	{name: "statx", nr: linux.SysStatx, want: `statx(AT_FDCWD, "/etc/passwd", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=1221, ...}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			b := zeros(256)
			copy(b, u32s(0x17ff))
			copy(b[28:], u16s(0o100644))
			copy(b[40:], u64s(1221))
			return a(atFDCWD, m.str("/etc/passwd"), 0, 0x7ff, m.put(b)), 0
		}},
	// assembled: strace split this line around "Process 17887 attached".
	{name: "clone fork", nr: linux.SysClone, want: `clone(child_stack=NULL, flags=SIGCHLD)  = 17887`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(17), 17887 }},
	// assembled: as above; arm64 passes child_tidptr in x4.
	{name: "clone glibc fork", nr: linux.SysClone, want: `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f40cc7f7a10) = 31339`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x1200011, 0, 0, 0, 0x7f40cc7f7a10), 31339 }},
	// assembled: as above.
	{name: "clone3 thread", nr: linux.SysClone3, want: `clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f40cc7f6990, parent_tid=0x7f40cc7f6990, exit_signal=0, stack=0x7f40cbff6000, stack_size=0x7fff80, tls=0x7f40cc7f66c0} => {parent_tid=[31338]}, 88) = 31338`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			m.at(0x7f40cc7f6990, u32s(31338))
			return a(m.put(u64s(0x3d0f00, 0, 0x7f40cc7f6990, 0x7f40cc7f6990, 0, 0x7f40cbff6000, 0x7fff80, 0x7f40cc7f66c0, 0, 0, 0)), 88), 31338
		}},
	{name: "wait4 exited", nr: linux.SysWait4, want: `wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 17887`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0xffffffff, m.put(u32s(3<<8)), 0, 0), 17887 }},
	{name: "wait4 signaled", nr: linux.SysWait4, want: `wait4(31339, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV}], 0, NULL) = 31339`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(31339, m.put(u32s(11)), 0, 0), 31339 }},
	{name: "wait4 WSTOPPED", nr: linux.SysWait4, want: `wait4(31340, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGTERM}], WSTOPPED, NULL) = 31340`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(31340, m.put(u32s(15)), 2, 0), 31340 }},
	{name: "waitid ECHILD", nr: linux.SysWaitid, want: `waitid(P_ALL, 0, 0x7ffc73e5a3c0, WNOHANG|WEXITED, NULL) = -1 ECHILD (No child processes)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, 0x7ffc73e5a3c0, 5, 0), neg(10) }},
	{name: "futex wake", nr: linux.SysFutex, want: `futex(0x7ffc91cebe18, FUTEX_WAKE_PRIVATE, 1) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7ffc91cebe18, 0x81, 1), 0 }},
	{name: "futex wait", nr: linux.SysFutex, want: `futex(0x7ffc91cebe18, FUTEX_WAIT_PRIVATE, 1, NULL) = -1 EAGAIN (Resource temporarily unavailable)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7ffc91cebe18, 0x80, 1, 0), neg(11) }},
	{name: "futex wait bitset", nr: linux.SysFutex, want: `futex(0x7f40cc7f6990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 31338, NULL, FUTEX_BITSET_MATCH_ANY) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f40cc7f6990, 0x109, 31338, 0, 0, 0xffffffff), 0 }},
	{name: "execve", nr: linux.SysExecve, want: `execve("/bin/true", ["/bin/true", "a"], 0x7ffc91cebde0 /* 2 vars */) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			argv := m.ptrs(m.str("/bin/true"), m.str("a"))
			m.at(0x7ffc91cebde0, u64s(m.str("A=1"), m.str("B=2"), 0))
			return a(m.str("/bin/true"), argv, 0x7ffc91cebde0), 0
		}},
	{name: "execve ENOENT", nr: linux.SysExecve, want: `execve("/nonexistent", ["x"], 0x7ffc73e5a3b0 /* 1 var */) = -1 ENOENT (No such file or directory)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			x := m.str("x")
			argv := m.ptrs(x)
			m.at(0x7ffc73e5a3b0, u64s(x, 0))
			return a(m.str("/nonexistent"), argv, 0x7ffc73e5a3b0), neg(2)
		}},
	{name: "exit_group", nr: linux.SysExitGroup, want: `exit_group(0)                           = ?`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0 }},
	{name: "exit", nr: linux.SysExit, want: `exit(0)                                 = ?`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0 }},
	{name: "getdents64", nr: linux.SysGetdents64, want: `getdents64(3, 0x7ffc7d026a50 /* 10 entries */, 1024) = 256`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			var b []byte
			for i := 0; i < 10; i++ {
				e := zeros(24)
				copy(e[16:], u16s(24))
				b = append(b, e...)
			}
			b = append(b, zeros(16)...)
			return a(3, m.at(0x7ffc7d026a50, b), 1024), 256
		}},
	{name: "statfs", nr: linux.SysStatfs, want: `statfs("/", {f_type=EXT2_SUPER_MAGIC, f_bsize=4096, f_blocks=66053021, f_bfree=62605482, f_bavail=20427777, f_files=16777216, f_ffree=16349214, f_fsid={val=[0x7be47f7d, 0xe89a1cf]}, f_namelen=255, f_frsize=4096, f_flags=ST_VALID|ST_RELATIME}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			b := cat(u64s(0xef53, 4096, 66053021, 62605482, 20427777, 16777216, 16349214), u32s(0x7be47f7d, 0xe89a1cf), u64s(255, 4096, 0x1020), zeros(32))
			return a(m.str("/"), m.put(b)), 0
		}},
	{name: "readv", nr: linux.SysReadv, want: `readv(4, [{iov_base="vm\n", iov_len=4}, {iov_base="", iov_len=100}], 2) = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(4, m.put(u64s(m.put([]byte("vm\n\000")), 4, m.put(zeros(100)), 100)), 2), 3
		}},
	{name: "sendfile NULL", nr: linux.SysSendfile, want: `sendfile(1, 4, NULL, 10)                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 4, 0, 10), 0 }},
	{name: "sendfile offset", nr: linux.SysSendfile, want: `sendfile(1, 4, [0], 0)                  = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 4, m.put(u64s(0)), 0), 0 }},
	{name: "fadvise64", nr: linux.SysFadvise64, want: `fadvise64(4, 0, 0, POSIX_FADV_SEQUENTIAL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4, 0, 0, 2), 0 }},
	{name: "readahead", nr: linux.SysReadahead, want: `readahead(4, 0, 100)                    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4, 0, 100), 0 }},
	{name: "getrusage", nr: linux.SysGetrusage, want: `getrusage(RUSAGE_SELF, {ru_utime={tv_sec=0, tv_usec=1781}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(cat(u64s(0, 1781, 0, 0), zeros(112)))), 0 }},
	{name: "times", nr: linux.SysTimes, want: `times({tms_utime=0, tms_stime=0, tms_cutime=0, tms_cstime=0}) = 1718030792`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(zeros(32))), 1718030792 }},
	{name: "sched_yield", nr: linux.SysSchedYield, want: `sched_yield()                           = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(), 0 }},
	{name: "sched_getparam", nr: linux.SysSchedGetparam, want: `sched_getparam(0, [0])                  = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(u32s(0))), 0 }},
	{name: "sched_getscheduler", nr: linux.SysSchedGetscheduler, want: `sched_getscheduler(0)                   = 0 (SCHED_OTHER)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0 }},
	{name: "sched_get_priority_max", nr: linux.SysSchedGetPriorityMax, want: `sched_get_priority_max(SCHED_FIFO)      = 99`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1), 99 }},
	{name: "sigaltstack", nr: linux.SysSigaltstack, want: `sigaltstack(NULL, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(cat(u64s(0), u32s(2, 0), u64s(0)))), 0 }},
	{name: "rt_sigpending", nr: linux.SysRtSigpending, want: `rt_sigpending([], 8)                    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(u64s(0)), 8), 0 }},
	{name: "rt_sigtimedwait EAGAIN", nr: linux.SysRtSigtimedwait, want: `rt_sigtimedwait([USR1], 0x7ffc7d026720, {tv_sec=0, tv_nsec=0}, 8) = -1 EAGAIN (Resource temporarily unavailable)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.put(sigmask(10)), m.at(0x7ffc7d026720, zeros(128)), m.put(timespecB(0, 0)), 8), neg(11)
		}},
	{name: "rt_sigtimedwait", nr: linux.SysRtSigtimedwait, want: `rt_sigtimedwait([USR1], {si_signo=SIGUSR1, si_code=SI_USER, si_pid=18507, si_uid=0}, {tv_sec=0, tv_nsec=0}, 8) = 10 (SIGUSR1)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.put(sigmask(10)), m.put(siginfoKill(10, 0, 18507, 0)), m.put(timespecB(0, 0)), 8), 10
		}},
	{name: "rt_sigqueueinfo", nr: linux.SysRtSigqueueinfo, want: `rt_sigqueueinfo(18507, SIGUSR1, {si_signo=SIGUSR1, si_code=SI_USER, si_pid=18507, si_uid=0}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(18507, 10, m.put(siginfoKill(10, 0, 18507, 0))), 0 }},
	{name: "pselect6", nr: linux.SysPselect6, want: `pselect6(5, [0 4], NULL, NULL, {tv_sec=0, tv_nsec=0}, NULL) = 2 (in [0 4], left {tv_sec=0, tv_nsec=0})`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(5, m.put(u64s(0x11)), 0, 0, m.put(timespecB(0, 0)), 0), 2
		}},
	{name: "inotify_init1", nr: linux.SysInotifyInit1, want: `inotify_init1(IN_CLOEXEC)               = 5`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0o2000000), 5 }},
	{name: "inotify_add_watch", nr: linux.SysInotifyAddWatch, want: `inotify_add_watch(5, "/tmp", IN_CREATE|IN_DELETE) = 1`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(5, m.str("/tmp"), 0x300), 1 }},
	{name: "mremap", nr: linux.SysMremap, want: `mremap(0x7f4b11e98000, 8192, 16384, MREMAP_MAYMOVE) = 0x7f4b11e94000`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f4b11e98000, 8192, 16384, 1), 0x7f4b11e94000 }},
	{name: "msync", nr: linux.SysMsync, want: `msync(0x7f4b11e94000, 4096, MS_SYNC)    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f4b11e94000, 4096, 4), 0 }},
	{name: "mlock", nr: linux.SysMlock, want: `mlock(0x7f4b11e94000, 4096)             = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f4b11e94000, 4096), 0 }},
	{name: "mincore", nr: linux.SysMincore, want: `mincore(0x7f4b11e94000, 4096, [1])      = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0x7f4b11e94000, 4096, m.put([]byte{1})), 0 }},
	{name: "memfd_create", nr: linux.SysMemfdCreate, want: `memfd_create("mf", MFD_CLOEXEC)         = 6`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.str("mf"), 1), 6 }},
	{name: "close_range", nr: linux.SysCloseRange, want: `close_range(100, 4294967295, 0)         = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(100, 0xffffffff, 0), 0 }},
	{name: "unshare", nr: linux.SysUnshare, want: `unshare(0)                              = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0), 0 }},
	{name: "capget EFAULT", nr: linux.SysCapget, want: `capget(NULL, NULL)                      = -1 EFAULT (Bad address)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0), neg(14) }},
	{name: "getcpu", nr: linux.SysGetcpu, want: `getcpu(NULL, NULL, NULL)                = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, 0), 0 }},
	{name: "sethostname", nr: linux.SysSethostname, want: `sethostname("vm", 2)                    = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put([]byte("vm")), 2), 0 }},
	{name: "chdir", nr: linux.SysChdir, want: `chdir("/tmp")                           = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.str("/tmp")), 0 }},
	{name: "fchdir", nr: linux.SysFchdir, want: `fchdir(3)                               = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3), 0 }},
	{name: "umount2", nr: linux.SysUmount2, want: `umount2("/nonexist", MNT_DETACH)        = -1 ENOENT (No such file or directory)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.str("/nonexist"), 2), neg(2) }},
	{name: "mount", nr: linux.SysMount, want: `mount("none", "/nonexist", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m") = -1 ENOENT (No such file or directory)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.str("none"), m.str("/nonexist"), m.str("tmpfs"), 6, m.str("size=1m")), neg(2)
		}},
	{name: "copy_file_range", nr: linux.SysCopyFileRange, want: `copy_file_range(4, NULL, 1, NULL, 10, 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4, 0, 1, 0, 10, 0), 0 }},
	{name: "pidfd_open", nr: linux.SysPidfdOpen, want: `pidfd_open(10757, 0)                    = 12`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(10757, 0), 12 }},
	{name: "ioprio_get", nr: linux.SysIoprioGet, want: `ioprio_get(IOPRIO_WHO_PROCESS, 0)       = 0 (IOPRIO_PRIO_VALUE(IOPRIO_CLASS_NONE, 0))`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 0), 0 }},
	{name: "sync_file_range", nr: linux.SysSyncFileRange, want: `sync_file_range(4, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4, 0, 0, 1), 0 }},
	// calls4.c
	{name: "ioctl FS_IOC_GETFLAGS", nr: linux.SysIoctl, want: `ioctl(3, FS_IOC_GETFLAGS, [FS_EXTENT_FL]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0x80086601, m.put(u32s(0x80000))), 0 }},
	{name: "ioctl unknown read", nr: linux.SysIoctl, want: `ioctl(3, _IOC(_IOC_READ, 0x99, 0x1, 0x8), 0x7ffea44b16d4) = -1 ENOTTY (Inappropriate ioctl for device)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0x80089901, 0x7ffea44b16d4), neg(25) }},
	{name: "ioctl unknown none", nr: linux.SysIoctl, want: `ioctl(3, _IOC(_IOC_NONE, 0x99, 0x2, 0), 0) = -1 ENOTTY (Inappropriate ioctl for device)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0x9902, 0), neg(25) }},
	{name: "ioctl FIONBIO", nr: linux.SysIoctl, want: `ioctl(3, FIONBIO, [1])                  = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0x5421, m.put(u32s(1))), 0 }},
	{name: "ioctl FIOCLEX", nr: linux.SysIoctl, want: `ioctl(3, FIOCLEX)                       = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 0x5451), 0 }},
	{name: "fcntl F_GETFD cloexec", nr: linux.SysFcntl, want: `fcntl(3, F_GETFD)                       = 0x1 (flags FD_CLOEXEC)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 1), 1 }},
	{name: "fcntl unknown", nr: linux.SysFcntl, want: `fcntl(3, 0x3e8 /* F_??? */, 0x5)        = -1 EINVAL (Invalid argument)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, 1000, 5), neg(22) }},
	{name: "sigaltstack set", nr: linux.SysSigaltstack, want: `sigaltstack({ss_sp=0x7ffea44af6d0, ss_flags=0, ss_size=8192}, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.put(cat(u64s(0x7ffea44af6d0), u32s(0, 0), u64s(8192))), 0), 0
		}},
	{name: "prctl PR_SET_PDEATHSIG", nr: linux.SysPrctl, want: `prctl(PR_SET_PDEATHSIG, SIGKILL)        = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 9), 0 }},
	{name: "prctl PR_SET_NO_NEW_PRIVS", nr: linux.SysPrctl, want: `prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(38, 1), 0 }},
	{name: "prctl PR_SET_CHILD_SUBREAPER", nr: linux.SysPrctl, want: `prctl(PR_SET_CHILD_SUBREAPER, 1)        = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(36, 1), 0 }},
	{name: "wait4 ECHILD", nr: linux.SysWait4, want: `wait4(-1, 0x7ffea44af6ac, WNOHANG, NULL) = -1 ECHILD (No child processes)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0xffffffff, 0x7ffea44af6ac, 1, 0), neg(10) }},
	{name: "clock_nanosleep abstime", nr: linux.SysClockNanosleep, want: `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=0, tv_nsec=0}, 0x7ffea44af680) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(1, 1, m.put(timespecB(0, 0)), m.at(0x7ffea44af680, zeros(16))), 0
		}},
	{name: "getpeername ENOTCONN", nr: linux.SysGetpeername, want: `getpeername(4, 0x7ffea44af670, [16])    = -1 ENOTCONN (Transport endpoint is not connected)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(4, m.at(0x7ffea44af670, zeros(16)), m.put(u32s(16))), neg(107)
		}},
	{name: "futex wake op", nr: linux.SysFutex, want: `futex(0x7ffea44af668, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x7ffea44af664, FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0x7ffea44af668, 0x85, 1, 1, 0x7ffea44af664, 0x04000001), 0
		}},
	{name: "kill bad signal", nr: linux.SysKill, want: `kill(4633, 100)                         = -1 EINVAL (Invalid argument)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4633, 100), neg(22) }},
	{name: "mmap shared", nr: linux.SysMmap, want: `mmap(NULL, 4096, PROT_READ, MAP_SHARED|MAP_POPULATE|MAP_FIXED_NOREPLACE, 3, 0x1000) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 4096, 1, 0x108001, 3, 0x1000), 0 }},
	{name: "shmget", nr: linux.SysShmget, want: `shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 4096, 0o1600), 0 }},
	{name: "timer_create thread id", nr: linux.SysTimerCreate, want: `timer_create(CLOCK_REALTIME, {sigev_signo=SIGRT_2, sigev_notify=SIGEV_THREAD_ID, sigev_notify_thread_id=4633}, [0]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0, m.put(cat(u64s(0), u32s(34, 4, 4633), zeros(44))), m.put(u32s(0))), 0
		}},
	{name: "getrandom empty", nr: linux.SysGetrandom, want: `getrandom("", 0, 0)                     = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(m.put(zeros(8)), 0, 0), 0 }},
	{name: "read empty", nr: linux.SysRead, want: `read(3, "", 0)                          = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(3, m.put(zeros(8)), 0), 0 }},
	{name: "readlinkat ENOENT", nr: linux.SysReadlinkat, want: `readlinkat(AT_FDCWD, "/nonexistent", 0x7ffea44af6d0, 100) = -1 ENOENT (No such file or directory)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/nonexistent"), m.at(0x7ffea44af6d0, zeros(100)), 100), neg(2)
		}},
	{name: "openat O_PATH", nr: linux.SysOpenat, want: `openat(AT_FDCWD, "/tmp", O_RDONLY|O_PATH|O_DIRECTORY) = 5`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp"), 0o10040000), 5 }},
	{name: "openat O_TMPFILE", nr: linux.SysOpenat, want: `openat(AT_FDCWD, "/tmp", O_RDWR|O_TMPFILE, 0600) = 6`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(atFDCWD, m.str("/tmp"), 0o20040002, 0o600), 6 }},
	{name: "close EBADF", nr: linux.SysClose, want: `close(-1)                               = -1 EBADF (Bad file descriptor)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0xffffffff), neg(9) }},
	// calls5.c
	{name: "pselect6 sigmask", nr: linux.SysPselect6, want: `pselect6(4, [3], NULL, NULL, NULL, {sigmask=[INT], sigsetsize=8}) = 1 (in [3])`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(4, m.put(u64s(8)), 0, 0, 0, m.put(u64s(m.put(sigmask(2)), 8))), 1
		}},
	{name: "epoll_ctl data", nr: linux.SysEpollCtl, want: `epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=7, u64=4294967303}}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(4, 1, 3, m.put(cat(u32s(1, 0), u64s(0x100000007)))), 0 }},
	{name: "epoll_pwait events", nr: linux.SysEpollPwait, want: `epoll_pwait(4, [{events=EPOLLIN, data={u32=7, u64=4294967303}}], 2, -1, [INT], 8) = 1`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(4, m.put(cat(u32s(1, 0), u64s(0x100000007), zeros(16))), 2, 0xffffffff, m.put(sigmask(2)), 8), 1
		}},
	{name: "waitid", nr: linux.SysWaitid, want: `waitid(P_PID, 12788, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12788, si_uid=0, si_status=7, si_utime=0, si_stime=0}, WEXITED, NULL) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			si := zeros(128)
			copy(si, u32s(17, 0, 1))
			copy(si[16:], u32s(12788, 0, 7))
			return a(1, 12788, m.put(si), 4, 0), 0
		}},
	{name: "utimensat omit", nr: linux.SysUtimensat, want: `utimensat(AT_FDCWD, "/tmp/sg/a.c", [UTIME_OMIT, {tv_sec=5, tv_nsec=6} /* 1970-01-01T00:00:05.000000006+0000 */], AT_SYMLINK_NOFOLLOW) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/tmp/sg/a.c"), m.put(cat(timespecB(0, 1<<30-2), timespecB(5, 6))), 0x100), 0
		}},
	{name: "sched_setscheduler", nr: linux.SysSchedSetscheduler, want: `sched_setscheduler(0, SCHED_BATCH, [0]) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 3, m.put(u32s(0))), 0 }},
	{name: "statx device", nr: linux.SysStatx, want: `statx(AT_FDCWD, "/dev/null", AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW, STATX_TYPE|STATX_SIZE, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFCHR|0666, stx_size=0, ...}) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			b := zeros(256)
			copy(b, u32s(0x17ff))
			copy(b[28:], u16s(0o20666))
			return a(atFDCWD, m.str("/dev/null"), 0x4100, 0x201, m.put(b)), 0
		}},
	{name: "newfstatat device", nr: linux.SysNewfstatat, want: `newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(atFDCWD, m.str("/dev/null"), m.put(stat128(0o20666, 0, 0x103)), 0), 0
		}},
	{name: "socket netlink", nr: linux.SysSocket, want: `socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 5`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(16, 0o2000003, 0), 5 }},
	{name: "bind netlink", nr: linux.SysBind, want: `bind(5, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(5, m.put(cat(u16s(16, 0), u32s(0, 0))), 12), 0 }},
	{name: "bind abstract", nr: linux.SysBind, want: `bind(6, {sa_family=AF_UNIX, sun_path=@"abs"}, 6) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(6, m.put(cat(u16s(1), []byte("\x00abs"))), 6), 0 }},
	{name: "accept4", nr: linux.SysAccept4, want: `accept4(6, {sa_family=AF_UNIX}, [110 => 2], SOCK_CLOEXEC) = 8`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(6, m.put(cat(u16s(1), zeros(108))), m.at(0x30000, u32s(110)), 0o2000000), 8
		},
		after: func(m *fakeMem) { m.regions[0x30000] = u32s(2) }},
	{name: "sendto address", nr: linux.SysSendto, want: `sendto(9, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = 1`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(9, m.put([]byte("x")), 1, 0, m.put(cat(u16s(2), []byte{0, 9, 127, 0, 0, 1}, zeros(8))), 16), 1
		}},
	{name: "rt_sigtimedwait NULL info", nr: linux.SysRtSigtimedwait, want: `rt_sigtimedwait([INT], NULL, {tv_sec=0, tv_nsec=0}, 8) = -1 EAGAIN (Resource temporarily unavailable)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(m.put(sigmask(2)), 0, m.put(timespecB(0, 0)), 8), neg(11)
		}},
	{name: "ppoll timeout", nr: linux.SysPpoll, want: `ppoll(NULL, 0, {tv_sec=0, tv_nsec=0}, [INT], 8) = 0 (Timeout)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, m.put(timespecB(0, 0)), m.put(sigmask(2)), 8), 0 }},
	{name: "dup EBADF", nr: linux.SysDup, want: `dup(1000)                               = -1 EBADF (Bad file descriptor)`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1000), neg(9) }},
	// calls6.c
	{name: "semget", nr: linux.SysSemget, want: `semget(IPC_PRIVATE, 1, IPC_CREAT|0600)  = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 1, 0o1600), 0 }},
	{name: "semop", nr: linux.SysSemop, want: `semop(0, [{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}, {sem_num=0, sem_op=-1, sem_flg=IPC_NOWAIT}], 2) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, m.put(u16s(0, 1, 0x1000, 0, 0xffff, 0o4000)), 2), 0 }},
	{name: "semctl", nr: linux.SysSemctl, want: `semctl(0, 0, IPC_RMID, NULL)            = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, 0, 0), 0 }},
	{name: "shmctl", nr: linux.SysShmctl, want: `shmctl(1, IPC_RMID, NULL)               = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(1, 0, 0), 0 }},
	{name: "msgget", nr: linux.SysMsgget, want: `msgget(IPC_PRIVATE, IPC_CREAT|0600)     = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0o1600), 0 }},
	{name: "msgsnd", nr: linux.SysMsgsnd, want: `msgsnd(0, {mtype=1, mtext="hello"}, 5, 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0, m.put(cat(u64s(1), []byte("hello"), zeros(11))), 5, 0), 0
		}},
	{name: "msgrcv", nr: linux.SysMsgrcv, want: `msgrcv(0, {mtype=1, mtext="hello\0\0\0\0\0\0\0\0\0\0\0"}, 16, 0, IPC_NOWAIT) = 5`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0, m.put(cat(u64s(1), []byte("hello"), zeros(11))), 16, 0, 0o4000), 5
		}},
	{name: "msgctl", nr: linux.SysMsgctl, want: `msgctl(0, IPC_RMID, NULL)               = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0, 0, 0), 0 }},
	{name: "sched_getattr", nr: linux.SysSchedGetattr, want: `sched_getattr(0, {size=56, sched_policy=SCHED_OTHER, sched_flags=0, sched_nice=0, sched_priority=0, sched_runtime=1400000, sched_deadline=0, sched_period=0, sched_util_min=0, sched_util_max=0}, 56, 0) = 0`,
		setup: func(m *fakeMem) ([6]uint64, uint64) {
			return a(0, m.put(cat(u32s(56, 0), u64s(0), u32s(0, 0), u64s(1400000, 0, 0), u32s(0, 0))), 56, 0), 0
		}},
	{name: "userfaultfd", nr: linux.SysUserfaultfd, want: `userfaultfd(O_CLOEXEC)                  = 3`,
		setup: func(m *fakeMem) ([6]uint64, uint64) { return a(0o2000000), 3 }},
}

func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			m := newMem()
			args, ret := g.setup(m)
			var out strings.Builder
			tr := New(&out, Options{})
			c := tr.Enter(1, m, g.nr, args)
			if g.after != nil {
				g.after(m)
			}
			c.Exit(m, ret)
			require.Equal(t, g.want+"\n", out.String())
		})
	}
}
