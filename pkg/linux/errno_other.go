//go:build !linux || mips || mipsle || mips64 || mips64le

package linux

// hostErrno reports false: host errno numbers differ from the arm64 ones
// here, so ErrnoFromError classifies host errors via the fs.Err* sentinels.
func hostErrno(error) (Errno, bool) { return 0, false }
