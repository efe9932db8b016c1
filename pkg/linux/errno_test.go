package linux_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func TestErrnoText(t *testing.T) {
	// Texts as printed by glibc 2.36 strerror() (aarch64, run under qemu).
	for e, want := range map[linux.Errno]string{
		0:                      "Success",
		linux.EPERM:            "Operation not permitted",
		linux.ENOENT:           "No such file or directory",
		linux.EINTR:            "Interrupted system call",
		linux.EIO:              "Input/output error",
		linux.EBADF:            "Bad file descriptor",
		linux.EAGAIN:           "Resource temporarily unavailable",
		linux.ENOMEM:           "Cannot allocate memory",
		linux.EACCES:           "Permission denied",
		linux.EFAULT:           "Bad address",
		linux.EEXIST:           "File exists",
		linux.ENOTDIR:          "Not a directory",
		linux.EISDIR:           "Is a directory",
		linux.EINVAL:           "Invalid argument",
		linux.ENOTTY:           "Inappropriate ioctl for device",
		linux.ESPIPE:           "Illegal seek",
		linux.ERANGE:           "Numerical result out of range",
		linux.ENAMETOOLONG:     "File name too long",
		linux.ENOSYS:           "Function not implemented",
		linux.ELOOP:            "Too many levels of symbolic links",
		linux.EOPNOTSUPP:       "Operation not supported",
		linux.ETIMEDOUT:        "Connection timed out",
		linux.ECANCELED:        "Operation canceled",
		linux.EHWPOISON:        "Memory page has hardware error",
		41:                     "Unknown error 41",
		58:                     "Unknown error 58",
		134:                    "Unknown error 134",
		linux.Errno(1<<16 - 1): "Unknown error 65535",
	} {
		require.Equal(t, want, e.Error(), "errno %d", e)
	}
}

func TestErrnoName(t *testing.T) {
	require.Equal(t, "ENOENT", linux.ENOENT.Name())
	require.Equal(t, "EAGAIN", linux.EWOULDBLOCK.Name())
	require.Equal(t, "EOPNOTSUPP", linux.ENOTSUP.Name())
	require.Equal(t, "EHWPOISON", linux.EHWPOISON.Name())
	require.Equal(t, "Errno(41)", linux.Errno(41).Name())
	require.Equal(t, "Errno(0)", linux.Errno(0).Name())
	require.Equal(t, "Errno(500)", linux.Errno(500).Name())

	require.EqualValues(t, 1, linux.EPERM)
	require.EqualValues(t, 2, linux.ENOENT)
	require.EqualValues(t, 11, linux.EAGAIN)
	require.EqualValues(t, 14, linux.EFAULT)
	require.EqualValues(t, 38, linux.ENOSYS)
	require.EqualValues(t, 95, linux.EOPNOTSUPP)
	require.EqualValues(t, 133, linux.EHWPOISON)
	require.Equal(t, linux.EAGAIN, linux.EWOULDBLOCK)
	require.Equal(t, linux.EDEADLK, linux.EDEADLOCK)
}

func TestErrnoFromError(t *testing.T) {
	dir := t.TempDir()
	_, errOpen := os.Open(filepath.Join(dir, "missing"))
	errMkdir := os.Mkdir(dir, 0o755)

	for _, tc := range []struct {
		name string
		err  error
		want linux.Errno
	}{
		{"nil", nil, 0},
		{"errno", linux.ENOTDIR, linux.ENOTDIR},
		{"wrapped errno", fmt.Errorf("lookup: %w", linux.ELOOP), linux.ELOOP},
		{"path error errno", &fs.PathError{Op: "open", Path: "/x", Err: linux.EISDIR}, linux.EISDIR},
		{"os.ErrNotExist", os.ErrNotExist, linux.ENOENT},
		{"fs.ErrNotExist", fs.ErrNotExist, linux.ENOENT},
		{"fs.ErrExist", fs.ErrExist, linux.EEXIST},
		{"fs.ErrPermission", fs.ErrPermission, linux.EACCES},
		{"fs.ErrInvalid", fs.ErrInvalid, linux.EINVAL},
		{"path error sentinel", &fs.PathError{Op: "stat", Path: "/x", Err: fs.ErrNotExist}, linux.ENOENT},
		{"link error sentinel", &os.LinkError{Op: "link", Old: "a", New: "b", Err: fs.ErrExist}, linux.EEXIST},
		{"syscall error sentinel", os.NewSyscallError("open", fs.ErrPermission), linux.EACCES},
		{"host open", errOpen, linux.ENOENT},
		{"host mkdir", errMkdir, linux.EEXIST},
		{"other", errors.New("boom"), linux.EIO},
	} {
		require.Equal(t, tc.want, linux.ErrnoFromError(tc.err), tc.name)
	}
}

func TestErrnoFromHostErrno(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("host errno numbers are only kept on Linux")
	}
	for _, tc := range []struct {
		name string
		err  error
		want linux.Errno
	}{
		{"bare", syscall.ENOTDIR, linux.ENOTDIR},
		// EPERM also matches fs.ErrPermission; the host number wins.
		{"eperm", syscall.EPERM, linux.EPERM},
		{"path error", &fs.PathError{Op: "open", Path: "/x", Err: syscall.ENAMETOOLONG}, linux.ENAMETOOLONG},
		{"link error", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV}, linux.EXDEV},
		{"syscall error", os.NewSyscallError("read", syscall.EAGAIN), linux.EAGAIN},
		{"wrapped", fmt.Errorf("x: %w", os.NewSyscallError("mmap", syscall.ENOMEM)), linux.ENOMEM},
	} {
		require.Equal(t, tc.want, linux.ErrnoFromError(tc.err), tc.name)
	}
}
