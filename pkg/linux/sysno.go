package linux

//go:generate go run ./internal/gensysno -o zsysno.go

// System calls newer than the cross toolchain's <asm/unistd.h>.
const (
	SysFchmodat2 = 452 // Linux 6.6
)

var newerSyscallNames = map[uint64]string{SysFchmodat2: "fchmodat2"}

// SyscallName returns the Linux name of the AArch64 system call nr (for
// example "openat" for SysOpenat), or "" if nr is not a known system call.
func SyscallName(nr uint64) string {
	if nr < uint64(len(syscallNames)) {
		return syscallNames[nr]
	}
	return newerSyscallNames[nr]
}
