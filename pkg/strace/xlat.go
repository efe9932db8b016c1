package strace

import "strings"

// xv names one value of a constant or flag.
type xv struct {
	v uint64
	s string
}

// xlat is a table of constants or flags, in the order strace prints them.
type xlat []xv

// name returns the name of v.
func (x xlat) name(v uint64) (string, bool) {
	for _, e := range x {
		if e.v == v {
			return e.s, true
		}
	}
	return "", false
}

// xval prints a constant by name, or as 0x... with a /* PREFIX??? */
// comment.
func xval(x xlat, v uint64, unknown string) string {
	if s, ok := x.name(v); ok {
		return s
	}
	return hex(v) + " /* " + unknown + " */"
}

// xvalDec is xval with an unknown value printed in decimal.
func xvalDec(x xlat, v int64, unknown string) string {
	if s, ok := x.name(uint64(v)); ok {
		return s
	}
	return itoa(v) + " /* " + unknown + " */"
}

// flags prints a bit set as NAME|NAME|0x..., a zero-valued entry's name for
// 0 (else "0"), and 0x... /* PREFIX??? */ when no bit has a name.
func flags(x xlat, v uint64, unknown string) string {
	if v == 0 {
		for _, e := range x {
			if e.v == 0 {
				return e.s
			}
		}
		return "0"
	}
	var parts []string
	rest := v
	for _, e := range x {
		if e.v != 0 && rest&e.v == e.v {
			parts = append(parts, e.s)
			rest &^= e.v
		}
	}
	if len(parts) == 0 {
		return hex(v) + " /* " + unknown + " */"
	}
	if rest != 0 {
		parts = append(parts, hex(rest))
	}
	return strings.Join(parts, "|")
}

// Open flags (arm64 values of O_DIRECTORY, O_NOFOLLOW, O_DIRECT and
// O_LARGEFILE).
var openFlags = xlat{
	{0o100, "O_CREAT"}, {0o200, "O_EXCL"}, {0o400, "O_NOCTTY"}, {0o1000, "O_TRUNC"},
	{0o2000, "O_APPEND"}, {0o4000, "O_NONBLOCK"}, {0o4010000, "O_SYNC"}, {0o10000, "O_DSYNC"},
	{0o200000, "O_DIRECT"}, {0o400000, "O_LARGEFILE"}, {0o100000, "O_NOFOLLOW"},
	{0o1000000, "O_NOATIME"}, {0o2000000, "O_CLOEXEC"}, {0o10000000, "O_PATH"},
	{0o20040000, "O_TMPFILE"}, {0o40000, "O_DIRECTORY"}, {0o20000, "O_ASYNC"},
}

var accModes = [4]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}

// openMode prints open(2) flags: the access mode first, then the rest.
func openMode(v uint64) string {
	s := accModes[v&3]
	if rest := v &^ 3; rest != 0 {
		s += "|" + flags(openFlags, rest, "O_???")
	}
	return s
}

var atFlags = xlat{
	{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"}, {0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"}, {0x1000, "AT_EMPTY_PATH"}, {0x8000, "AT_RECURSIVE"},
}

var atStatxSync = xlat{{0, "AT_STATX_SYNC_AS_STAT"}, {0x2000, "AT_STATX_FORCE_SYNC"}, {0x4000, "AT_STATX_DONT_SYNC"}}

var accessModes = xlat{{0, "F_OK"}, {4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}}

var faccessatFlags = xlat{{0x200, "AT_EACCESS"}, {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x1000, "AT_EMPTY_PATH"}}

var unlinkatFlags = xlat{{0x200, "AT_REMOVEDIR"}}

var fcntlCmds = xlat{
	{0, "F_DUPFD"}, {1, "F_GETFD"}, {2, "F_SETFD"}, {3, "F_GETFL"}, {4, "F_SETFL"},
	{5, "F_GETLK"}, {6, "F_SETLK"}, {7, "F_SETLKW"}, {8, "F_SETOWN"}, {9, "F_GETOWN"},
	{10, "F_SETSIG"}, {11, "F_GETSIG"}, {15, "F_SETOWN_EX"}, {16, "F_GETOWN_EX"},
	{17, "F_GETOWNER_UIDS"}, {36, "F_OFD_GETLK"}, {37, "F_OFD_SETLK"}, {38, "F_OFD_SETLKW"},
	{1024, "F_SETLEASE"}, {1025, "F_GETLEASE"}, {1026, "F_NOTIFY"}, {1027, "F_DUPFD_QUERY"},
	{1029, "F_CANCELLK"}, {1030, "F_DUPFD_CLOEXEC"}, {1031, "F_SETPIPE_SZ"}, {1032, "F_GETPIPE_SZ"},
	{1033, "F_ADD_SEALS"}, {1034, "F_GET_SEALS"}, {1035, "F_GET_RW_HINT"}, {1036, "F_SET_RW_HINT"},
	{1037, "F_GET_FILE_RW_HINT"}, {1038, "F_SET_FILE_RW_HINT"},
}

var fdFlags = xlat{{1, "FD_CLOEXEC"}}

var lockTypes = xlat{{0, "F_RDLCK"}, {1, "F_WRLCK"}, {2, "F_UNLCK"}}

var seekWhence = xlat{{0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"}}

var leaseTypes = xlat{{0, "F_RDLCK"}, {1, "F_WRLCK"}, {2, "F_UNLCK"}}

var notifyFlags = xlat{
	{1, "DN_ACCESS"}, {2, "DN_MODIFY"}, {4, "DN_CREATE"}, {8, "DN_DELETE"},
	{0x10, "DN_RENAME"}, {0x20, "DN_ATTRIB"}, {0x80000000, "DN_MULTISHOT"},
}

var sealFlags = xlat{{1, "F_SEAL_SEAL"}, {2, "F_SEAL_SHRINK"}, {4, "F_SEAL_GROW"}, {8, "F_SEAL_WRITE"}, {0x10, "F_SEAL_FUTURE_WRITE"}, {0x20, "F_SEAL_EXEC"}}

var fownerTypes = xlat{{0, "F_OWNER_TID"}, {1, "F_OWNER_PID"}, {2, "F_OWNER_PGRP"}}

var flockCmds = xlat{{1, "LOCK_SH"}, {2, "LOCK_EX"}, {4, "LOCK_NB"}, {8, "LOCK_UN"}, {32, "LOCK_MAND"}, {192, "LOCK_RW"}, {64, "LOCK_READ"}, {128, "LOCK_WRITE"}}

var modeTypes = xlat{
	{0o100000, "S_IFREG"}, {0o140000, "S_IFSOCK"}, {0o010000, "S_IFIFO"}, {0o120000, "S_IFLNK"},
	{0o040000, "S_IFDIR"}, {0o060000, "S_IFBLK"}, {0o020000, "S_IFCHR"},
}

// fileMode prints st_mode: S_IFREG|0644 (with S_ISUID etc. as octal).
func fileMode(m uint64) string {
	t := m & 0o170000
	perm := m &^ 0o170000
	if t == 0 {
		return octal(perm)
	}
	s := xval(modeTypes, t, "S_IF???")
	if strings.HasPrefix(s, "0x") {
		s = octal(t)
	}
	return s + "|" + octal(perm)
}

var protFlags = xlat{
	{0, "PROT_NONE"}, {1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"}, {8, "PROT_SEM"},
	{0x10, "PROT_BTI"}, {0x20, "PROT_MTE"}, {0x01000000, "PROT_GROWSDOWN"}, {0x02000000, "PROT_GROWSUP"},
}

var mapTypes = xlat{{1, "MAP_SHARED"}, {2, "MAP_PRIVATE"}, {3, "MAP_SHARED_VALIDATE"}, {8, "MAP_DROPPABLE"}}

var mapFlags = xlat{
	{0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"}, {0x100, "MAP_GROWSDOWN"}, {0x800, "MAP_DENYWRITE"},
	{0x1000, "MAP_EXECUTABLE"}, {0x2000, "MAP_LOCKED"}, {0x4000, "MAP_NORESERVE"},
	{0x8000, "MAP_POPULATE"}, {0x10000, "MAP_NONBLOCK"}, {0x20000, "MAP_STACK"},
	{0x40000, "MAP_HUGETLB"}, {0x80000, "MAP_SYNC"}, {0x100000, "MAP_FIXED_NOREPLACE"},
	{0x4000000, "MAP_UNINITIALIZED"},
}

// mmapFlags prints mmap's flags: the mapping type, then the flags.
func mmapFlags(v uint64) string {
	t := v & 0xf
	s := xval(mapTypes, t, "MAP_???")
	if rest := v &^ 0xf; rest != 0 {
		if t == 0 {
			return flags(mapFlags, rest, "MAP_???")
		}
		s += "|" + flags(mapFlags, rest, "MAP_???")
	}
	return s
}

var madviseAdvice = xlat{
	{0, "MADV_NORMAL"}, {1, "MADV_RANDOM"}, {2, "MADV_SEQUENTIAL"}, {3, "MADV_WILLNEED"},
	{4, "MADV_DONTNEED"}, {8, "MADV_FREE"}, {9, "MADV_REMOVE"}, {10, "MADV_DONTFORK"},
	{11, "MADV_DOFORK"}, {12, "MADV_MERGEABLE"}, {13, "MADV_UNMERGEABLE"}, {14, "MADV_HUGEPAGE"},
	{15, "MADV_NOHUGEPAGE"}, {16, "MADV_DONTDUMP"}, {17, "MADV_DODUMP"}, {18, "MADV_WIPEONFORK"},
	{19, "MADV_KEEPONFORK"}, {20, "MADV_COLD"}, {21, "MADV_PAGEOUT"}, {22, "MADV_POPULATE_READ"},
	{23, "MADV_POPULATE_WRITE"}, {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"},
	{100, "MADV_HWPOISON"}, {101, "MADV_SOFT_OFFLINE"},
}

var fadviseAdvice = xlat{
	{0, "POSIX_FADV_NORMAL"}, {1, "POSIX_FADV_RANDOM"}, {2, "POSIX_FADV_SEQUENTIAL"},
	{3, "POSIX_FADV_WILLNEED"}, {4, "POSIX_FADV_DONTNEED"}, {5, "POSIX_FADV_NOREUSE"},
}

var mremapFlags = xlat{{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}}

var msyncFlags = xlat{{1, "MS_ASYNC"}, {2, "MS_INVALIDATE"}, {4, "MS_SYNC"}}

var mlockallFlags = xlat{{1, "MCL_CURRENT"}, {2, "MCL_FUTURE"}, {4, "MCL_ONFAULT"}}

var mlock2Flags = xlat{{1, "MLOCK_ONFAULT"}}

var cloneFlags = xlat{
	{0x100, "CLONE_VM"}, {0x200, "CLONE_FS"}, {0x400, "CLONE_FILES"}, {0x800, "CLONE_SIGHAND"},
	{0x1000, "CLONE_PIDFD"}, {0x2000, "CLONE_PTRACE"}, {0x4000, "CLONE_VFORK"},
	{0x8000, "CLONE_PARENT"}, {0x10000, "CLONE_THREAD"}, {0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"}, {0x80000, "CLONE_SETTLS"}, {0x100000, "CLONE_PARENT_SETTID"},
	{0x200000, "CLONE_CHILD_CLEARTID"}, {0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"}, {0x80000000, "CLONE_IO"},
	{0x100000000, "CLONE_CLEAR_SIGHAND"}, {0x200000000, "CLONE_INTO_CGROUP"},
}

var unshareFlags = xlat{
	{0x80, "CLONE_NEWTIME"}, {0x100, "CLONE_VM"}, {0x200, "CLONE_FS"}, {0x400, "CLONE_FILES"},
	{0x800, "CLONE_SIGHAND"}, {0x10000, "CLONE_THREAD"}, {0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"}, {0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"}, {0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
}

var waitOptions = xlat{
	{1, "WNOHANG"}, {2, "WSTOPPED"}, {4, "WEXITED"}, {8, "WCONTINUED"}, {0x1000000, "WNOWAIT"},
	{0x80000000, "__WCLONE"}, {0x40000000, "__WALL"}, {0x20000000, "__WNOTHREAD"},
}

// wait4Options names bit 2 WUNTRACED, as wait4(2) documents it.
var idTypes = xlat{{0, "P_ALL"}, {1, "P_PID"}, {2, "P_PGID"}, {3, "P_PIDFD"}}

var sigprocmaskHow = xlat{{0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}}

var saFlags = xlat{
	{0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"},
	{0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"}, {4, "SA_SIGINFO"},
	{1, "SA_NOCLDSTOP"}, {2, "SA_NOCLDWAIT"}, {0x400, "SA_UNSUPPORTED"}, {0x800, "SA_EXPOSE_TAGBITS"},
}

var ssFlags = xlat{{1, "SS_ONSTACK"}, {2, "SS_DISABLE"}, {0x80000000, "SS_AUTODISARM"}}

var sigevNotify = xlat{{0, "SIGEV_SIGNAL"}, {1, "SIGEV_NONE"}, {2, "SIGEV_THREAD"}, {4, "SIGEV_THREAD_ID"}}

var clockNames = xlat{
	{0, "CLOCK_REALTIME"}, {1, "CLOCK_MONOTONIC"}, {2, "CLOCK_PROCESS_CPUTIME_ID"},
	{3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"}, {5, "CLOCK_REALTIME_COARSE"},
	{6, "CLOCK_MONOTONIC_COARSE"}, {7, "CLOCK_BOOTTIME"}, {8, "CLOCK_REALTIME_ALARM"},
	{9, "CLOCK_BOOTTIME_ALARM"}, {10, "CLOCK_SGI_CYCLE"}, {11, "CLOCK_TAI"},
}

var timerFlags = xlat{{1, "TIMER_ABSTIME"}}

var timerfdSetFlags = xlat{{1, "TFD_TIMER_ABSTIME"}, {2, "TFD_TIMER_CANCEL_ON_SET"}}

var timerfdCreateFlags = xlat{{0o2000000, "TFD_CLOEXEC"}, {0o4000, "TFD_NONBLOCK"}}

var itimerWhich = xlat{{0, "ITIMER_REAL"}, {1, "ITIMER_VIRTUAL"}, {2, "ITIMER_PROF"}}

var efdFlags = xlat{{1, "EFD_SEMAPHORE"}, {0o2000000, "EFD_CLOEXEC"}, {0o4000, "EFD_NONBLOCK"}}

var sfdFlags = xlat{{0o2000000, "SFD_CLOEXEC"}, {0o4000, "SFD_NONBLOCK"}}

var epollCreateFlags = xlat{{0o2000000, "EPOLL_CLOEXEC"}}

var epollCtlOps = xlat{{1, "EPOLL_CTL_ADD"}, {2, "EPOLL_CTL_DEL"}, {3, "EPOLL_CTL_MOD"}}

var epollEvents = xlat{
	{0x1, "EPOLLIN"}, {0x2, "EPOLLPRI"}, {0x4, "EPOLLOUT"}, {0x8, "EPOLLERR"}, {0x10, "EPOLLHUP"},
	{0x20, "EPOLLNVAL"}, {0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"}, {0x100, "EPOLLWRNORM"},
	{0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"}, {0x2000, "EPOLLRDHUP"}, {0x10000000, "EPOLLEXCLUSIVE"},
	{0x20000000, "EPOLLWAKEUP"}, {0x40000000, "EPOLLONESHOT"}, {0x80000000, "EPOLLET"},
}

var pollEvents = xlat{
	{0x1, "POLLIN"}, {0x2, "POLLPRI"}, {0x4, "POLLOUT"}, {0x8, "POLLERR"}, {0x10, "POLLHUP"},
	{0x20, "POLLNVAL"}, {0x40, "POLLRDNORM"}, {0x80, "POLLRDBAND"}, {0x100, "POLLWRNORM"},
	{0x200, "POLLWRBAND"}, {0x400, "POLLMSG"}, {0x1000, "POLLREMOVE"}, {0x2000, "POLLRDHUP"},
}

var inotifyInitFlags = xlat{{0o4000, "IN_NONBLOCK"}, {0o2000000, "IN_CLOEXEC"}}

var inotifyMask = xlat{
	{0x1, "IN_ACCESS"}, {0x2, "IN_MODIFY"}, {0x4, "IN_ATTRIB"}, {0x8, "IN_CLOSE_WRITE"},
	{0x10, "IN_CLOSE_NOWRITE"}, {0x20, "IN_OPEN"}, {0x40, "IN_MOVED_FROM"}, {0x80, "IN_MOVED_TO"},
	{0x100, "IN_CREATE"}, {0x200, "IN_DELETE"}, {0x400, "IN_DELETE_SELF"}, {0x800, "IN_MOVE_SELF"},
	{0x2000, "IN_UNMOUNT"}, {0x4000, "IN_Q_OVERFLOW"}, {0x8000, "IN_IGNORED"},
	{0x1000000, "IN_ONLYDIR"}, {0x2000000, "IN_DONT_FOLLOW"}, {0x4000000, "IN_EXCL_UNLINK"},
	{0x10000000, "IN_MASK_CREATE"}, {0x20000000, "IN_MASK_ADD"}, {0x40000000, "IN_ISDIR"},
	{0x80000000, "IN_ONESHOT"},
}

var memfdFlags = xlat{{1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"}, {8, "MFD_NOEXEC_SEAL"}, {0x10, "MFD_EXEC"}}

var pipeFlags = xlat{{0o2000000, "O_CLOEXEC"}, {0o200000, "O_DIRECT"}, {0o4000, "O_NONBLOCK"}, {0o10000000, "O_NOTIFICATION_PIPE"}}

var dup3Flags = xlat{{0o2000000, "O_CLOEXEC"}}

var renameFlags = xlat{{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}}

var xattrFlags = xlat{{1, "XATTR_CREATE"}, {2, "XATTR_REPLACE"}}

var fallocFlags = xlat{
	{1, "FALLOC_FL_KEEP_SIZE"}, {2, "FALLOC_FL_PUNCH_HOLE"}, {4, "FALLOC_FL_NO_HIDE_STALE"},
	{8, "FALLOC_FL_COLLAPSE_RANGE"}, {0x10, "FALLOC_FL_ZERO_RANGE"}, {0x20, "FALLOC_FL_INSERT_RANGE"},
	{0x40, "FALLOC_FL_UNSHARE_RANGE"}, {0x80, "FALLOC_FL_WRITE_ZEROES"},
}

var mountFlags = xlat{
	{1, "MS_RDONLY"}, {2, "MS_NOSUID"}, {4, "MS_NODEV"}, {8, "MS_NOEXEC"}, {0x10, "MS_SYNCHRONOUS"},
	{0x20, "MS_REMOUNT"}, {0x40, "MS_MANDLOCK"}, {0x80, "MS_DIRSYNC"}, {0x100, "MS_NOSYMFOLLOW"},
	{0x400, "MS_NOATIME"}, {0x800, "MS_NODIRATIME"}, {0x1000, "MS_BIND"}, {0x2000, "MS_MOVE"},
	{0x4000, "MS_REC"}, {0x8000, "MS_SILENT"}, {0x10000, "MS_POSIXACL"}, {0x20000, "MS_UNBINDABLE"},
	{0x40000, "MS_PRIVATE"}, {0x80000, "MS_SLAVE"}, {0x100000, "MS_SHARED"}, {0x200000, "MS_RELATIME"},
	{0x400000, "MS_KERNMOUNT"}, {0x800000, "MS_I_VERSION"}, {0x1000000, "MS_STRICTATIME"},
	{0x2000000, "MS_LAZYTIME"}, {0x4000000, "MS_SUBMOUNT"}, {0x8000000, "MS_NOREMOTELOCK"},
	{0x10000000, "MS_NOSEC"}, {0x20000000, "MS_BORN"}, {0x40000000, "MS_ACTIVE"}, {0x80000000, "MS_NOUSER"},
}

var umountFlags = xlat{{1, "MNT_FORCE"}, {2, "MNT_DETACH"}, {4, "MNT_EXPIRE"}, {8, "UMOUNT_NOFOLLOW"}}

var statfsFlags = xlat{
	{0x20, "ST_VALID"}, {1, "ST_RDONLY"}, {2, "ST_NOSUID"}, {4, "ST_NODEV"}, {8, "ST_NOEXEC"},
	{0x10, "ST_SYNCHRONOUS"}, {0x40, "ST_MANDLOCK"}, {0x400, "ST_NOATIME"}, {0x800, "ST_NODIRATIME"},
	{0x1000, "ST_RELATIME"}, {0x2000, "ST_NOSYMFOLLOW"},
}

var fsMagic = xlat{
	{0x0000002f, "QNX4_SUPER_MAGIC"}, {0x00000187, "AUTOFS_SUPER_MAGIC"}, {0x00001373, "DEVFS_SUPER_MAGIC"},
	{0x0000137d, "EXT_SUPER_MAGIC"}, {0x0000137f, "MINIX_SUPER_MAGIC"}, {0x00001cd1, "DEVPTS_SUPER_MAGIC"},
	{0x00004d44, "MSDOS_SUPER_MAGIC"}, {0x00006969, "NFS_SUPER_MAGIC"}, {0x00009660, "ISOFS_SUPER_MAGIC"},
	{0x00009fa0, "PROC_SUPER_MAGIC"}, {0x0000ef53, "EXT2_SUPER_MAGIC"}, {0x0027e0eb, "CGROUP_SUPER_MAGIC"},
	{0x01021994, "TMPFS_MAGIC"}, {0x01021997, "V9FS_MAGIC"}, {0x1cd1, "DEVPTS_SUPER_MAGIC"},
	{0x42494e4d, "BINFMTFS_MAGIC"}, {0x534f434b, "SOCKFS_MAGIC"}, {0x50495045, "PIPEFS_MAGIC"},
	{0x62656572, "SYSFS_MAGIC"}, {0x63677270, "CGROUP2_SUPER_MAGIC"}, {0x64626720, "DEBUGFS_MAGIC"},
	{0x73636673, "SECURITYFS_MAGIC"}, {0x794c7630, "OVERLAYFS_SUPER_MAGIC"}, {0x858458f6, "RAMFS_MAGIC"},
	{0x9123683e, "BTRFS_SUPER_MAGIC"}, {0x58465342, "XFS_SUPER_MAGIC"}, {0x65735546, "FUSE_SUPER_MAGIC"},
	{0x74726163, "TRACEFS_MAGIC"}, {0xf2f52010, "F2FS_SUPER_MAGIC"}, {0x2fc12fc1, "ZFS_SUPER_MAGIC"},
	{0x6e736673, "NSFS_MAGIC"}, {0xcafe4a11, "BPF_FS_MAGIC"}, {0x19800202, "MQUEUE_MAGIC"},
	{0x09041934, "ANON_INODE_FS_MAGIC"}, {0x27e0eb, "CGROUP_SUPER_MAGIC"},
}

var rlimitResources = xlat{
	{0, "RLIMIT_CPU"}, {1, "RLIMIT_FSIZE"}, {2, "RLIMIT_DATA"}, {3, "RLIMIT_STACK"}, {4, "RLIMIT_CORE"},
	{5, "RLIMIT_RSS"}, {6, "RLIMIT_NPROC"}, {7, "RLIMIT_NOFILE"}, {8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"},
	{10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"}, {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"},
	{14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
}

var rusageWho = xlat{{0, "RUSAGE_SELF"}, {0xffffffffffffffff, "RUSAGE_CHILDREN"}, {1, "RUSAGE_THREAD"}}

var priorityWhich = xlat{{0, "PRIO_PROCESS"}, {1, "PRIO_PGRP"}, {2, "PRIO_USER"}}

var schedPolicies = xlat{
	{0, "SCHED_OTHER"}, {1, "SCHED_FIFO"}, {2, "SCHED_RR"}, {3, "SCHED_BATCH"}, {4, "SCHED_ISO"},
	{5, "SCHED_IDLE"}, {6, "SCHED_DEADLINE"}, {7, "SCHED_EXT"},
}

var personalityTypes = xlat{
	{0, "PER_LINUX"}, {0x0800000, "PER_LINUX_32BIT"}, {0x0080000, "PER_LINUX_FDPIC"},
	{0x0006, "PER_BSD"}, {0x0008, "PER_LINUX32"}, {0x8000008, "PER_LINUX32_3GB"}, {0x000c, "PER_RISCOS"},
	{0x000f, "PER_OSF4"}, {0x0010, "PER_HPUX"}, {0x00ff, "PER_MASK"},
}

var personalityFlags = xlat{
	{0x0020000, "UNAME26"}, {0x0040000, "ADDR_NO_RANDOMIZE"}, {0x0080000, "FDPIC_FUNCPTRS"},
	{0x0100000, "MMAP_PAGE_ZERO"}, {0x0200000, "ADDR_COMPAT_LAYOUT"}, {0x0400000, "READ_IMPLIES_EXEC"},
	{0x0800000, "ADDR_LIMIT_32BIT"}, {0x1000000, "SHORT_INODE"}, {0x2000000, "WHOLE_SECONDS"},
	{0x4000000, "STICKY_TIMEOUTS"}, {0x8000000, "ADDR_LIMIT_3GB"},
}

// personality prints a persona as strace does: PER_LINUX,
// PER_LINUX|ADDR_NO_RANDOMIZE, or the bare number for 0xffffffff queries.
func personality(v uint64) string {
	if v == 0xffffffff {
		return "0xffffffff"
	}
	s, ok := personalityTypes.name(v & 0xff)
	if !ok {
		s = hex(v&0xff) + " /* PER_??? */"
	}
	if rest := v &^ 0xff; rest != 0 {
		s += "|" + flags(personalityFlags, rest, "???")
	}
	return s
}

var ioprioWho = xlat{{1, "IOPRIO_WHO_PROCESS"}, {2, "IOPRIO_WHO_PGRP"}, {3, "IOPRIO_WHO_USER"}}

var ioprioClass = xlat{{0, "IOPRIO_CLASS_NONE"}, {1, "IOPRIO_CLASS_RT"}, {2, "IOPRIO_CLASS_BE"}, {3, "IOPRIO_CLASS_IDLE"}}

// ioprio prints IOPRIO_PRIO_VALUE(class, data).
func ioprio(v uint64) string {
	return "IOPRIO_PRIO_VALUE(" + xval(ioprioClass, (v>>13)&7, "IOPRIO_CLASS_???") + ", " + utoa(v&0x1fff) + ")"
}

var grndFlags = xlat{{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}}

var closeRangeFlags = xlat{{2, "CLOSE_RANGE_UNSHARE"}, {4, "CLOSE_RANGE_CLOEXEC"}}

var membarrierCmds = xlat{
	{0, "MEMBARRIER_CMD_QUERY"}, {1, "MEMBARRIER_CMD_GLOBAL"}, {2, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"},
	{4, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"}, {8, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"},
	{0x10, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"}, {0x20, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"},
	{0x40, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"}, {0x80, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"},
	{0x100, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"}, {0x200, "MEMBARRIER_CMD_GET_REGISTRATIONS"},
}

var syncFileRangeFlags = xlat{{1, "SYNC_FILE_RANGE_WAIT_BEFORE"}, {2, "SYNC_FILE_RANGE_WRITE"}, {4, "SYNC_FILE_RANGE_WAIT_AFTER"}}

var spliceFlags = xlat{{1, "SPLICE_F_MOVE"}, {2, "SPLICE_F_NONBLOCK"}, {4, "SPLICE_F_MORE"}, {8, "SPLICE_F_GIFT"}}

var rwfFlags = xlat{{1, "RWF_HIPRI"}, {2, "RWF_DSYNC"}, {4, "RWF_SYNC"}, {8, "RWF_NOWAIT"}, {0x10, "RWF_APPEND"}, {0x20, "RWF_NOAPPEND"}, {0x40, "RWF_ATOMIC"}, {0x80, "RWF_DONTCACHE"}}

var statxMask = xlat{
	{0xfff, "STATX_ALL"}, {0x7ff, "STATX_BASIC_STATS"}, {0x1, "STATX_TYPE"}, {0x2, "STATX_MODE"},
	{0x4, "STATX_NLINK"}, {0x8, "STATX_UID"}, {0x10, "STATX_GID"}, {0x20, "STATX_ATIME"},
	{0x40, "STATX_MTIME"}, {0x80, "STATX_CTIME"}, {0x100, "STATX_INO"}, {0x200, "STATX_SIZE"},
	{0x400, "STATX_BLOCKS"}, {0x800, "STATX_BTIME"}, {0x1000, "STATX_MNT_ID"}, {0x2000, "STATX_DIOALIGN"},
	{0x4000, "STATX_MNT_ID_UNIQUE"}, {0x8000, "STATX_SUBVOL"}, {0x10000, "STATX_WRITE_ATOMIC"},
}

var statxAttrs = xlat{
	{0x4, "STATX_ATTR_COMPRESSED"}, {0x10, "STATX_ATTR_IMMUTABLE"}, {0x20, "STATX_ATTR_APPEND"},
	{0x40, "STATX_ATTR_NODUMP"}, {0x800, "STATX_ATTR_ENCRYPTED"}, {0x1000, "STATX_ATTR_AUTOMOUNT"},
	{0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"}, {0x200000, "STATX_ATTR_DAX"},
}

var prctlOptions = xlat{
	{1, "PR_SET_PDEATHSIG"}, {2, "PR_GET_PDEATHSIG"}, {3, "PR_GET_DUMPABLE"}, {4, "PR_SET_DUMPABLE"},
	{5, "PR_GET_UNALIGN"}, {6, "PR_SET_UNALIGN"}, {7, "PR_GET_KEEPCAPS"}, {8, "PR_SET_KEEPCAPS"},
	{9, "PR_GET_FPEMU"}, {10, "PR_SET_FPEMU"}, {11, "PR_GET_FPEXC"}, {12, "PR_SET_FPEXC"},
	{13, "PR_GET_TIMING"}, {14, "PR_SET_TIMING"}, {15, "PR_SET_NAME"}, {16, "PR_GET_NAME"},
	{19, "PR_GET_ENDIAN"}, {20, "PR_SET_ENDIAN"}, {21, "PR_GET_SECCOMP"}, {22, "PR_SET_SECCOMP"},
	{23, "PR_CAPBSET_READ"}, {24, "PR_CAPBSET_DROP"}, {25, "PR_GET_TSC"}, {26, "PR_SET_TSC"},
	{27, "PR_GET_SECUREBITS"}, {28, "PR_SET_SECUREBITS"}, {29, "PR_SET_TIMERSLACK"}, {30, "PR_GET_TIMERSLACK"},
	{31, "PR_TASK_PERF_EVENTS_DISABLE"}, {32, "PR_TASK_PERF_EVENTS_ENABLE"}, {33, "PR_MCE_KILL"},
	{34, "PR_MCE_KILL_GET"}, {35, "PR_SET_MM"}, {36, "PR_SET_CHILD_SUBREAPER"}, {37, "PR_GET_CHILD_SUBREAPER"},
	{38, "PR_SET_NO_NEW_PRIVS"}, {39, "PR_GET_NO_NEW_PRIVS"}, {40, "PR_GET_TID_ADDRESS"},
	{41, "PR_SET_THP_DISABLE"}, {42, "PR_GET_THP_DISABLE"}, {43, "PR_MPX_ENABLE_MANAGEMENT"},
	{44, "PR_MPX_DISABLE_MANAGEMENT"}, {45, "PR_SET_FP_MODE"}, {46, "PR_GET_FP_MODE"}, {47, "PR_CAP_AMBIENT"},
	{50, "PR_SVE_SET_VL"}, {51, "PR_SVE_GET_VL"}, {52, "PR_GET_SPECULATION_CTRL"}, {53, "PR_SET_SPECULATION_CTRL"},
	{54, "PR_PAC_RESET_KEYS"}, {55, "PR_SET_TAGGED_ADDR_CTRL"}, {56, "PR_GET_TAGGED_ADDR_CTRL"},
	{57, "PR_SET_IO_FLUSHER"}, {58, "PR_GET_IO_FLUSHER"}, {59, "PR_SET_SYSCALL_USER_DISPATCH"},
	{60, "PR_PAC_SET_ENABLED_KEYS"}, {61, "PR_PAC_GET_ENABLED_KEYS"}, {62, "PR_SCHED_CORE"},
	{63, "PR_SME_SET_VL"}, {64, "PR_SME_GET_VL"}, {65, "PR_SET_MDWE"}, {66, "PR_GET_MDWE"},
	{67, "PR_SET_MEMORY_MERGE"}, {68, "PR_GET_MEMORY_MERGE"}, {0x41555856, "PR_GET_AUXV"}, {0x53564d41, "PR_SET_VMA"},
}

var dumpableValues = xlat{{0, "SUID_DUMP_DISABLE"}, {1, "SUID_DUMP_USER"}, {2, "SUID_DUMP_ROOT"}}

var futexOps = xlat{
	{0, "FUTEX_WAIT"}, {1, "FUTEX_WAKE"}, {2, "FUTEX_FD"}, {3, "FUTEX_REQUEUE"}, {4, "FUTEX_CMP_REQUEUE"},
	{5, "FUTEX_WAKE_OP"}, {6, "FUTEX_LOCK_PI"}, {7, "FUTEX_UNLOCK_PI"}, {8, "FUTEX_TRYLOCK_PI"},
	{9, "FUTEX_WAIT_BITSET"}, {10, "FUTEX_WAKE_BITSET"}, {11, "FUTEX_WAIT_REQUEUE_PI"},
	{12, "FUTEX_CMP_REQUEUE_PI"}, {13, "FUTEX_LOCK_PI2"},
}

var futexWakeOps = xlat{{0, "FUTEX_OP_SET"}, {1, "FUTEX_OP_ADD"}, {2, "FUTEX_OP_OR"}, {3, "FUTEX_OP_ANDN"}, {4, "FUTEX_OP_XOR"}}

var futexWakeCmps = xlat{{0, "FUTEX_OP_CMP_EQ"}, {1, "FUTEX_OP_CMP_NE"}, {2, "FUTEX_OP_CMP_LT"}, {3, "FUTEX_OP_CMP_LE"}, {4, "FUTEX_OP_CMP_GT"}, {5, "FUTEX_OP_CMP_GE"}}

// futexOp prints a futex operation: FUTEX_WAIT_PRIVATE,
// FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME.
func futexOp(v uint64) string {
	cmd := v & 0x7f
	s, ok := futexOps.name(cmd)
	if !ok {
		s = hex(cmd) + " /* FUTEX_??? */"
	}
	if v&0x80 != 0 {
		s += "_PRIVATE"
	}
	if v&0x100 != 0 {
		s += "|FUTEX_CLOCK_REALTIME"
	}
	if rest := v &^ 0x1ff; rest != 0 {
		s += "|" + hex(rest)
	}
	return s
}

var addrFamilies = xlat{
	{0, "AF_UNSPEC"}, {1, "AF_UNIX"}, {2, "AF_INET"}, {3, "AF_AX25"}, {4, "AF_IPX"}, {5, "AF_APPLETALK"},
	{6, "AF_NETROM"}, {7, "AF_BRIDGE"}, {8, "AF_ATMPVC"}, {9, "AF_X25"}, {10, "AF_INET6"}, {11, "AF_ROSE"},
	{12, "AF_DECnet"}, {13, "AF_NETBEUI"}, {14, "AF_SECURITY"}, {15, "AF_KEY"}, {16, "AF_NETLINK"},
	{17, "AF_PACKET"}, {18, "AF_ASH"}, {19, "AF_ECONET"}, {20, "AF_ATMSVC"}, {21, "AF_RDS"}, {22, "AF_SNA"},
	{23, "AF_IRDA"}, {24, "AF_PPPOX"}, {25, "AF_WANPIPE"}, {26, "AF_LLC"}, {27, "AF_IB"}, {28, "AF_MPLS"},
	{29, "AF_CAN"}, {30, "AF_TIPC"}, {31, "AF_BLUETOOTH"}, {32, "AF_IUCV"}, {33, "AF_RXRPC"}, {34, "AF_ISDN"},
	{35, "AF_PHONET"}, {36, "AF_IEEE802154"}, {37, "AF_CAIF"}, {38, "AF_ALG"}, {39, "AF_NFC"}, {40, "AF_VSOCK"},
	{41, "AF_KCM"}, {42, "AF_QIPCRTR"}, {43, "AF_SMC"}, {44, "AF_XDP"}, {45, "AF_MCTP"},
}

var sockTypes = xlat{{1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"}, {4, "SOCK_RDM"}, {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"}, {10, "SOCK_PACKET"}}

var sockTypeFlags = xlat{{0o2000000, "SOCK_CLOEXEC"}, {0o4000, "SOCK_NONBLOCK"}}

// sockType prints a socket type with its flags: SOCK_STREAM|SOCK_CLOEXEC.
func sockType(v uint64) string {
	s := xval(sockTypes, v&0xf, "SOCK_???")
	if rest := v &^ 0xf; rest != 0 {
		s += "|" + flags(sockTypeFlags, rest, "SOCK_???")
	}
	return s
}

var inetProtocols = xlat{
	{0, "IPPROTO_IP"}, {1, "IPPROTO_ICMP"}, {2, "IPPROTO_IGMP"}, {4, "IPPROTO_IPIP"}, {6, "IPPROTO_TCP"},
	{8, "IPPROTO_EGP"}, {12, "IPPROTO_PUP"}, {17, "IPPROTO_UDP"}, {22, "IPPROTO_IDP"}, {29, "IPPROTO_TP"},
	{33, "IPPROTO_DCCP"}, {41, "IPPROTO_IPV6"}, {43, "IPPROTO_ROUTING"}, {44, "IPPROTO_FRAGMENT"},
	{46, "IPPROTO_RSVP"}, {47, "IPPROTO_GRE"}, {50, "IPPROTO_ESP"}, {51, "IPPROTO_AH"}, {58, "IPPROTO_ICMPV6"},
	{59, "IPPROTO_NONE"}, {60, "IPPROTO_DSTOPTS"}, {92, "IPPROTO_MTP"}, {94, "IPPROTO_BEETPH"},
	{98, "IPPROTO_ENCAP"}, {103, "IPPROTO_PIM"}, {108, "IPPROTO_COMP"}, {115, "IPPROTO_L2TP"},
	{132, "IPPROTO_SCTP"}, {135, "IPPROTO_MH"}, {136, "IPPROTO_UDPLITE"}, {137, "IPPROTO_MPLS"},
	{143, "IPPROTO_ETHERNET"}, {255, "IPPROTO_RAW"}, {262, "IPPROTO_MPTCP"},
}

var netlinkProtocols = xlat{
	{0, "NETLINK_ROUTE"}, {2, "NETLINK_USERSOCK"}, {4, "NETLINK_SOCK_DIAG"}, {5, "NETLINK_NFLOG"},
	{6, "NETLINK_XFRM"}, {7, "NETLINK_SELINUX"}, {8, "NETLINK_ISCSI"}, {9, "NETLINK_AUDIT"},
	{10, "NETLINK_FIB_LOOKUP"}, {11, "NETLINK_CONNECTOR"}, {12, "NETLINK_NETFILTER"}, {13, "NETLINK_IP6_FW"},
	{14, "NETLINK_DNRTMSG"}, {15, "NETLINK_KOBJECT_UEVENT"}, {16, "NETLINK_GENERIC"},
	{18, "NETLINK_SCSITRANSPORT"}, {19, "NETLINK_ECRYPTFS"}, {20, "NETLINK_RDMA"}, {21, "NETLINK_CRYPTO"},
	{22, "NETLINK_SMC"},
}

var sockLevels = xlat{
	{0, "SOL_IP"}, {1, "SOL_SOCKET"}, {6, "SOL_TCP"}, {17, "SOL_UDP"}, {41, "SOL_IPV6"}, {58, "SOL_ICMPV6"},
	{132, "SOL_SCTP"}, {136, "SOL_UDPLITE"}, {255, "SOL_RAW"}, {263, "SOL_PACKET"}, {270, "SOL_NETLINK"},
	{279, "SOL_ALG"}, {282, "SOL_TLS"}, {283, "SOL_XDP"}, {284, "SOL_MPTCP"},
}

var solSocketOpts = xlat{
	{1, "SO_DEBUG"}, {2, "SO_REUSEADDR"}, {3, "SO_TYPE"}, {4, "SO_ERROR"}, {5, "SO_DONTROUTE"},
	{6, "SO_BROADCAST"}, {7, "SO_SNDBUF"}, {8, "SO_RCVBUF"}, {9, "SO_KEEPALIVE"}, {10, "SO_OOBINLINE"},
	{11, "SO_NO_CHECK"}, {12, "SO_PRIORITY"}, {13, "SO_LINGER"}, {14, "SO_BSDCOMPAT"}, {15, "SO_REUSEPORT"},
	{16, "SO_PASSCRED"}, {17, "SO_PEERCRED"}, {18, "SO_RCVLOWAT"}, {19, "SO_SNDLOWAT"},
	{20, "SO_RCVTIMEO_OLD"}, {21, "SO_SNDTIMEO_OLD"}, {25, "SO_BINDTODEVICE"}, {26, "SO_ATTACH_FILTER"},
	{27, "SO_DETACH_FILTER"}, {28, "SO_PEERNAME"}, {29, "SO_TIMESTAMP_OLD"}, {30, "SO_ACCEPTCONN"},
	{31, "SO_PEERSEC"}, {32, "SO_SNDBUFFORCE"}, {33, "SO_RCVBUFFORCE"}, {34, "SO_PASSSEC"},
	{36, "SO_MARK"}, {38, "SO_PROTOCOL"}, {39, "SO_DOMAIN"}, {40, "SO_RXQ_OVFL"}, {42, "SO_PEEK_OFF"},
	{46, "SO_BUSY_POLL"}, {47, "SO_MAX_PACING_RATE"}, {49, "SO_INCOMING_CPU"}, {59, "SO_PEERGROUPS"},
	{66, "SO_RCVTIMEO_NEW"}, {67, "SO_SNDTIMEO_NEW"},
}

var tcpOpts = xlat{
	{1, "TCP_NODELAY"}, {2, "TCP_MAXSEG"}, {3, "TCP_CORK"}, {4, "TCP_KEEPIDLE"}, {5, "TCP_KEEPINTVL"},
	{6, "TCP_KEEPCNT"}, {7, "TCP_SYNCNT"}, {8, "TCP_LINGER2"}, {9, "TCP_DEFER_ACCEPT"},
	{10, "TCP_WINDOW_CLAMP"}, {11, "TCP_INFO"}, {12, "TCP_QUICKACK"}, {13, "TCP_CONGESTION"},
	{18, "TCP_USER_TIMEOUT"}, {23, "TCP_FASTOPEN"},
}

var ipOpts = xlat{
	{1, "IP_TOS"}, {2, "IP_TTL"}, {3, "IP_HDRINCL"}, {4, "IP_OPTIONS"}, {6, "IP_RECVOPTS"},
	{10, "IP_MTU_DISCOVER"}, {11, "IP_RECVERR"}, {12, "IP_RECVTTL"}, {14, "IP_MTU"}, {15, "IP_FREEBIND"},
	{32, "IP_MULTICAST_IF"}, {33, "IP_MULTICAST_TTL"}, {34, "IP_MULTICAST_LOOP"},
	{35, "IP_ADD_MEMBERSHIP"}, {36, "IP_DROP_MEMBERSHIP"},
}

var ipv6Opts = xlat{
	{16, "IPV6_UNICAST_HOPS"}, {17, "IPV6_MULTICAST_IF"}, {18, "IPV6_MULTICAST_HOPS"},
	{19, "IPV6_MULTICAST_LOOP"}, {20, "IPV6_ADD_MEMBERSHIP"}, {21, "IPV6_DROP_MEMBERSHIP"},
	{23, "IPV6_MTU_DISCOVER"}, {24, "IPV6_MTU"}, {25, "IPV6_RECVERR"}, {26, "IPV6_V6ONLY"},
}

var msgFlags = xlat{
	{0x1, "MSG_OOB"}, {0x2, "MSG_PEEK"}, {0x4, "MSG_DONTROUTE"}, {0x8, "MSG_CTRUNC"}, {0x10, "MSG_PROBE"},
	{0x20, "MSG_TRUNC"}, {0x40, "MSG_DONTWAIT"}, {0x80, "MSG_EOR"}, {0x100, "MSG_WAITALL"},
	{0x200, "MSG_FIN"}, {0x400, "MSG_SYN"}, {0x800, "MSG_CONFIRM"}, {0x1000, "MSG_RST"},
	{0x2000, "MSG_ERRQUEUE"}, {0x4000, "MSG_NOSIGNAL"}, {0x8000, "MSG_MORE"}, {0x10000, "MSG_WAITFORONE"},
	{0x40000, "MSG_BATCH"}, {0x4000000, "MSG_ZEROCOPY"}, {0x20000000, "MSG_FASTOPEN"},
	{0x40000000, "MSG_CMSG_CLOEXEC"},
}

var shutdownHow = xlat{{0, "SHUT_RD"}, {1, "SHUT_WR"}, {2, "SHUT_RDWR"}}

var sigCodes = xlat{
	{0, "SI_USER"}, {0x80, "SI_KERNEL"}, {0xffffffffffffffff, "SI_QUEUE"}, {0xfffffffffffffffe, "SI_TIMER"},
	{0xfffffffffffffffd, "SI_MESGQ"}, {0xfffffffffffffffc, "SI_ASYNCIO"}, {0xfffffffffffffffb, "SI_SIGIO"},
	{0xfffffffffffffffa, "SI_TKILL"}, {0xfffffffffffffff9, "SI_DETHREAD"}, {0xffffffffffffffc4, "SI_ASYNCNL"},
}

var sigchldCodes = xlat{{1, "CLD_EXITED"}, {2, "CLD_KILLED"}, {3, "CLD_DUMPED"}, {4, "CLD_TRAPPED"}, {5, "CLD_STOPPED"}, {6, "CLD_CONTINUED"}}

var sigillCodes = xlat{{1, "ILL_ILLOPC"}, {2, "ILL_ILLOPN"}, {3, "ILL_ILLADR"}, {4, "ILL_ILLTRP"}, {5, "ILL_PRVOPC"}, {6, "ILL_PRVREG"}, {7, "ILL_COPROC"}, {8, "ILL_BADSTK"}}

var sigsegvCodes = xlat{{1, "SEGV_MAPERR"}, {2, "SEGV_ACCERR"}, {3, "SEGV_BNDERR"}, {4, "SEGV_PKUERR"}, {8, "SEGV_MTEAERR"}, {9, "SEGV_MTESERR"}}

var sigbusCodes = xlat{{1, "BUS_ADRALN"}, {2, "BUS_ADRERR"}, {3, "BUS_OBJERR"}, {4, "BUS_MCEERR_AR"}, {5, "BUS_MCEERR_AO"}}

var sigfpeCodes = xlat{{1, "FPE_INTDIV"}, {2, "FPE_INTOVF"}, {3, "FPE_FLTDIV"}, {4, "FPE_FLTOVF"}, {5, "FPE_FLTUND"}, {6, "FPE_FLTRES"}, {7, "FPE_FLTINV"}, {8, "FPE_FLTSUB"}, {14, "FPE_FLTUNK"}, {15, "FPE_CONDTRAP"}}

var sigtrapCodes = xlat{{1, "TRAP_BRKPT"}, {2, "TRAP_TRACE"}, {3, "TRAP_BRANCH"}, {4, "TRAP_HWBKPT"}, {5, "TRAP_UNK"}, {6, "TRAP_PERF"}}

var sigpollCodes = xlat{{1, "POLL_IN"}, {2, "POLL_OUT"}, {3, "POLL_MSG"}, {4, "POLL_ERR"}, {5, "POLL_PRI"}, {6, "POLL_HUP"}}

var sigsysCodes = xlat{{1, "SYS_SECCOMP"}, {2, "SYS_USER_DISPATCH"}}

// Capabilities, in bit order.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

var capVersions = xlat{{0x19980330, "_LINUX_CAPABILITY_VERSION_1"}, {0x20071026, "_LINUX_CAPABILITY_VERSION_2"}, {0x20080522, "_LINUX_CAPABILITY_VERSION_3"}}

var keyctlCmds = xlat{
	{0, "KEYCTL_GET_KEYRING_ID"}, {1, "KEYCTL_JOIN_SESSION_KEYRING"}, {2, "KEYCTL_UPDATE"},
	{3, "KEYCTL_REVOKE"}, {4, "KEYCTL_CHOWN"}, {5, "KEYCTL_SETPERM"}, {6, "KEYCTL_DESCRIBE"},
	{7, "KEYCTL_CLEAR"}, {8, "KEYCTL_LINK"}, {9, "KEYCTL_UNLINK"}, {10, "KEYCTL_SEARCH"}, {11, "KEYCTL_READ"},
}

var rebootMagic = xlat{{0xfee1dead, "LINUX_REBOOT_MAGIC1"}, {672274793, "LINUX_REBOOT_MAGIC2"}, {85072278, "LINUX_REBOOT_MAGIC2A"}, {369367448, "LINUX_REBOOT_MAGIC2B"}, {537993216, "LINUX_REBOOT_MAGIC2C"}}

var rebootCmds = xlat{
	{0x01234567, "LINUX_REBOOT_CMD_RESTART"}, {0xCDEF0123, "LINUX_REBOOT_CMD_HALT"},
	{0x89ABCDEF, "LINUX_REBOOT_CMD_CAD_ON"}, {0x00000000, "LINUX_REBOOT_CMD_CAD_OFF"},
	{0x4321FEDC, "LINUX_REBOOT_CMD_POWER_OFF"}, {0xA1B2C3D4, "LINUX_REBOOT_CMD_RESTART2"},
	{0xD000FCE2, "LINUX_REBOOT_CMD_SW_SUSPEND"}, {0x45584543, "LINUX_REBOOT_CMD_KEXEC"},
}

var syslogCmds = xlat{
	{0, "SYSLOG_ACTION_CLOSE"}, {1, "SYSLOG_ACTION_OPEN"}, {2, "SYSLOG_ACTION_READ"}, {3, "SYSLOG_ACTION_READ_ALL"},
	{4, "SYSLOG_ACTION_READ_CLEAR"}, {5, "SYSLOG_ACTION_CLEAR"}, {6, "SYSLOG_ACTION_CONSOLE_OFF"},
	{7, "SYSLOG_ACTION_CONSOLE_ON"}, {8, "SYSLOG_ACTION_CONSOLE_LEVEL"}, {9, "SYSLOG_ACTION_SIZE_UNREAD"},
	{10, "SYSLOG_ACTION_SIZE_BUFFER"},
}

var pidfdOpenFlags = xlat{{0o4000, "PIDFD_NONBLOCK"}, {0x2, "PIDFD_THREAD"}}

var seccompOps = xlat{{0, "SECCOMP_SET_MODE_STRICT"}, {1, "SECCOMP_SET_MODE_FILTER"}, {2, "SECCOMP_GET_ACTION_AVAIL"}, {3, "SECCOMP_GET_NOTIF_SIZES"}}

var openat2Resolve = xlat{{1, "RESOLVE_NO_XDEV"}, {2, "RESOLVE_NO_MAGICLINKS"}, {4, "RESOLVE_NO_SYMLINKS"}, {8, "RESOLVE_BENEATH"}, {0x10, "RESOLVE_IN_ROOT"}, {0x20, "RESOLVE_CACHED"}}

var rseqFlags = xlat{{1, "RSEQ_FLAG_UNREGISTER"}}

var mbindModes = xlat{{0, "MPOL_DEFAULT"}, {1, "MPOL_PREFERRED"}, {2, "MPOL_BIND"}, {3, "MPOL_INTERLEAVE"}, {4, "MPOL_LOCAL"}, {5, "MPOL_PREFERRED_MANY"}, {6, "MPOL_WEIGHTED_INTERLEAVE"}}

var ptraceRequests = xlat{
	{0, "PTRACE_TRACEME"}, {1, "PTRACE_PEEKTEXT"}, {2, "PTRACE_PEEKDATA"}, {3, "PTRACE_PEEKUSER"},
	{4, "PTRACE_POKETEXT"}, {5, "PTRACE_POKEDATA"}, {6, "PTRACE_POKEUSER"}, {7, "PTRACE_CONT"},
	{8, "PTRACE_KILL"}, {9, "PTRACE_SINGLESTEP"}, {16, "PTRACE_ATTACH"}, {17, "PTRACE_DETACH"},
	{24, "PTRACE_SYSCALL"}, {0x4200, "PTRACE_SETOPTIONS"}, {0x4201, "PTRACE_GETEVENTMSG"},
	{0x4202, "PTRACE_GETSIGINFO"}, {0x4203, "PTRACE_SETSIGINFO"}, {0x4204, "PTRACE_GETREGSET"},
	{0x4205, "PTRACE_SETREGSET"}, {0x4206, "PTRACE_SEIZE"}, {0x4207, "PTRACE_INTERRUPT"},
	{0x4208, "PTRACE_LISTEN"},
}
