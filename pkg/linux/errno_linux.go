//go:build linux && !mips && !mipsle && !mips64 && !mips64le

package linux

import (
	"errors"
	"syscall"
)

// hostErrno extracts a host syscall.Errno from err. The host uses the same
// asm-generic numbering as arm64, so the number is kept as is.
func hostErrno(err error) (Errno, bool) {
	var se syscall.Errno
	if errors.As(err, &se) && se != 0 && se <= 0xffff {
		return Errno(se), true
	}
	return 0, false
}
