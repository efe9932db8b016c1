package linux_test

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// The sizes and offsets below were measured on the real arm64 ABI: a C
// program printing sizeof/offsetof of the kernel UAPI structures (asm/stat.h,
// linux/stat.h, linux/time_types.h, linux/utsname.h, linux/resource.h,
// linux/uio.h) was built with `aarch64-linux-gnu-gcc -static` and run with
// qemu-aarch64-static. The glibc views (struct stat, statx, timespec,
// timeval, utsname, rlimit, iovec) have the same sizes.

// field is a measured field: its offset and size in the C structure, its
// offset in the Go structure and the value it was set to.
type field struct {
	name   string
	off    uintptr // measured offsetof
	size   int
	goOff  uintptr // unsafe.Offsetof of the Go field
	setVal uint64
}

// checkLayout checks the marshalled size and, for each field, that the Go
// struct has it at the measured offset and that the marshalled bytes hold
// its value there.
func checkLayout(t *testing.T, b []byte, size int, goSize uintptr, fields []field) {
	t.Helper()
	require.Len(t, b, size)
	require.EqualValues(t, size, goSize, "Go struct size")
	for _, f := range fields {
		require.Equal(t, f.off, f.goOff, "Go offset of %s", f.name)
		var got uint64
		switch f.size {
		case 2:
			got = uint64(binary.LittleEndian.Uint16(b[f.off:]))
		case 4:
			got = uint64(binary.LittleEndian.Uint32(b[f.off:]))
		case 8:
			got = binary.LittleEndian.Uint64(b[f.off:])
		}
		require.Equal(t, f.setVal, got, "marshalled %s at offset %d", f.name, f.off)
	}
}

func TestStatLayout(t *testing.T) {
	s := linux.Stat{
		Dev: 0x101, Ino: 0x102, Mode: 0x103, Nlink: 0x104, Uid: 0x105, Gid: 0x106,
		Rdev: 0x107, Size: 0x108, Blksize: 0x109, Blocks: 0x10a,
		Atime: 0x10b, AtimeNsec: 0x10c, Mtime: 0x10d, MtimeNsec: 0x10e,
		Ctime: 0x10f, CtimeNsec: 0x110,
	}
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, 128, linux.SizeofStat)
	checkLayout(t, b, linux.SizeofStat, unsafe.Sizeof(s), []field{
		{"st_dev", 0, 8, unsafe.Offsetof(s.Dev), 0x101},
		{"st_ino", 8, 8, unsafe.Offsetof(s.Ino), 0x102},
		{"st_mode", 16, 4, unsafe.Offsetof(s.Mode), 0x103},
		{"st_nlink", 20, 4, unsafe.Offsetof(s.Nlink), 0x104},
		{"st_uid", 24, 4, unsafe.Offsetof(s.Uid), 0x105},
		{"st_gid", 28, 4, unsafe.Offsetof(s.Gid), 0x106},
		{"st_rdev", 32, 8, unsafe.Offsetof(s.Rdev), 0x107},
		{"st_size", 48, 8, unsafe.Offsetof(s.Size), 0x108},
		{"st_blksize", 56, 4, unsafe.Offsetof(s.Blksize), 0x109},
		{"st_blocks", 64, 8, unsafe.Offsetof(s.Blocks), 0x10a},
		{"st_atime", 72, 8, unsafe.Offsetof(s.Atime), 0x10b},
		{"st_atime_nsec", 80, 8, unsafe.Offsetof(s.AtimeNsec), 0x10c},
		{"st_mtime", 88, 8, unsafe.Offsetof(s.Mtime), 0x10d},
		{"st_mtime_nsec", 96, 8, unsafe.Offsetof(s.MtimeNsec), 0x10e},
		{"st_ctime", 104, 8, unsafe.Offsetof(s.Ctime), 0x10f},
		{"st_ctime_nsec", 112, 8, unsafe.Offsetof(s.CtimeNsec), 0x110},
	})
	// Padding is zero.
	require.Equal(t, make([]byte, 8), b[40:48])
	require.Equal(t, make([]byte, 4), b[60:64])
	require.Equal(t, make([]byte, 8), b[120:128])

	// AppendBinary appends.
	b2, err := s.AppendBinary([]byte{0xaa})
	require.NoError(t, err)
	require.Equal(t, append([]byte{0xaa}, b...), b2)
}

func TestStatxLayout(t *testing.T) {
	s := linux.Statx{
		Mask: 0x201, Blksize: 0x202, Attributes: 0x203, Nlink: 0x204, Uid: 0x205,
		Gid: 0x206, Mode: 0x207, Ino: 0x208, Size: 0x209, Blocks: 0x20a,
		AttributesMask: 0x20b,
		Atime:          linux.StatxTimestamp{Sec: 0x20c, Nsec: 0x20d},
		Btime:          linux.StatxTimestamp{Sec: 0x20e, Nsec: 0x20f},
		Ctime:          linux.StatxTimestamp{Sec: 0x210, Nsec: 0x211},
		Mtime:          linux.StatxTimestamp{Sec: 0x212, Nsec: 0x213},
		RdevMajor:      0x214, RdevMinor: 0x215, DevMajor: 0x216, DevMinor: 0x217,
		MntID: 0x218, DioMemAlign: 0x219, DioOffsetAlign: 0x21a,
	}
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, 256, linux.SizeofStatx)
	checkLayout(t, b, linux.SizeofStatx, unsafe.Sizeof(s), []field{
		{"stx_mask", 0, 4, unsafe.Offsetof(s.Mask), 0x201},
		{"stx_blksize", 4, 4, unsafe.Offsetof(s.Blksize), 0x202},
		{"stx_attributes", 8, 8, unsafe.Offsetof(s.Attributes), 0x203},
		{"stx_nlink", 16, 4, unsafe.Offsetof(s.Nlink), 0x204},
		{"stx_uid", 20, 4, unsafe.Offsetof(s.Uid), 0x205},
		{"stx_gid", 24, 4, unsafe.Offsetof(s.Gid), 0x206},
		{"stx_mode", 28, 2, unsafe.Offsetof(s.Mode), 0x207},
		{"stx_ino", 32, 8, unsafe.Offsetof(s.Ino), 0x208},
		{"stx_size", 40, 8, unsafe.Offsetof(s.Size), 0x209},
		{"stx_blocks", 48, 8, unsafe.Offsetof(s.Blocks), 0x20a},
		{"stx_attributes_mask", 56, 8, unsafe.Offsetof(s.AttributesMask), 0x20b},
		{"stx_atime", 64, 8, unsafe.Offsetof(s.Atime), 0x20c},
		{"stx_atime.tv_nsec", 72, 4, unsafe.Offsetof(s.Atime) + unsafe.Offsetof(s.Atime.Nsec), 0x20d},
		{"stx_btime", 80, 8, unsafe.Offsetof(s.Btime), 0x20e},
		{"stx_ctime", 96, 8, unsafe.Offsetof(s.Ctime), 0x210},
		{"stx_mtime", 112, 8, unsafe.Offsetof(s.Mtime), 0x212},
		{"stx_mtime.tv_nsec", 120, 4, unsafe.Offsetof(s.Mtime) + unsafe.Offsetof(s.Mtime.Nsec), 0x213},
		{"stx_rdev_major", 128, 4, unsafe.Offsetof(s.RdevMajor), 0x214},
		{"stx_rdev_minor", 132, 4, unsafe.Offsetof(s.RdevMinor), 0x215},
		{"stx_dev_major", 136, 4, unsafe.Offsetof(s.DevMajor), 0x216},
		{"stx_dev_minor", 140, 4, unsafe.Offsetof(s.DevMinor), 0x217},
		{"stx_mnt_id", 144, 8, unsafe.Offsetof(s.MntID), 0x218},
		{"stx_dio_mem_align", 152, 4, unsafe.Offsetof(s.DioMemAlign), 0x219},
		{"stx_dio_offset_align", 156, 4, unsafe.Offsetof(s.DioOffsetAlign), 0x21a},
	})
	require.Equal(t, make([]byte, 96), b[160:], "spare space")

	ts, err := s.Atime.MarshalBinary()
	require.NoError(t, err)
	require.Len(t, ts, linux.SizeofStatxTimestamp)
	require.Equal(t, 16, linux.SizeofStatxTimestamp)
}

func TestSmallStructLayouts(t *testing.T) {
	type marshaler interface{ MarshalBinary() ([]byte, error) }
	for _, tc := range []struct {
		name   string
		v      marshaler
		size   int // measured sizeof
		goSize uintptr
		first  uint64 // value at offset 0
		second uint64 // value at offset 8
	}{
		{"struct __kernel_timespec", linux.Timespec{Sec: 7, Nsec: 999999999}, 16, unsafe.Sizeof(linux.Timespec{}), 7, 999999999},
		{"struct __kernel_old_timeval", linux.Timeval{Sec: 8, Usec: 999999}, 16, unsafe.Sizeof(linux.Timeval{}), 8, 999999},
		{"struct rlimit64", linux.Rlimit{Cur: 1024, Max: linux.RLIM_INFINITY}, 16, unsafe.Sizeof(linux.Rlimit{}), 1024, ^uint64(0)},
		{"struct iovec", linux.Iovec{Base: 0x4000_1000, Len: 42}, 16, unsafe.Sizeof(linux.Iovec{}), 0x4000_1000, 42},
	} {
		b, err := tc.v.MarshalBinary()
		require.NoError(t, err)
		checkLayout(t, b, tc.size, tc.goSize, []field{
			{tc.name + " first", 0, 8, 0, tc.first},
			{tc.name + " second", 8, 8, 8, tc.second},
		})
	}
	require.Equal(t, 16, linux.SizeofTimespec)
	require.Equal(t, 16, linux.SizeofTimeval)
	require.Equal(t, 16, linux.SizeofRlimit)
	require.Equal(t, 16, linux.SizeofIovec)
}

func TestUnmarshal(t *testing.T) {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, 3)
	binary.LittleEndian.PutUint64(b[8:], 500)

	var ts linux.Timespec
	require.NoError(t, ts.UnmarshalBinary(b))
	require.Equal(t, linux.Timespec{Sec: 3, Nsec: 500}, ts)
	var tv linux.Timeval
	require.NoError(t, tv.UnmarshalBinary(b))
	require.Equal(t, linux.Timeval{Sec: 3, Usec: 500}, tv)
	var rl linux.Rlimit
	require.NoError(t, rl.UnmarshalBinary(b))
	require.Equal(t, linux.Rlimit{Cur: 3, Max: 500}, rl)
	var iov linux.Iovec
	require.NoError(t, iov.UnmarshalBinary(b))
	require.Equal(t, linux.Iovec{Base: 3, Len: 500}, iov)

	require.ErrorIs(t, ts.UnmarshalBinary(b[:15]), io.ErrUnexpectedEOF)
	require.ErrorIs(t, iov.UnmarshalBinary(nil), io.ErrUnexpectedEOF)
}

func TestUtsnameLayout(t *testing.T) {
	long := strings.Repeat("x", 100)
	u := linux.NewUtsname("Linux", "sissim", "6.1.0", "#1 SMP", "aarch64", long)
	b, err := u.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, 390, linux.SizeofUtsname)
	require.Len(t, b, linux.SizeofUtsname)
	require.EqualValues(t, linux.SizeofUtsname, unsafe.Sizeof(*u))
	// Measured offsets of struct new_utsname.
	for _, f := range []struct {
		off   uintptr
		goOff uintptr
		want  string
	}{
		{0, unsafe.Offsetof(u.Sysname), "Linux"},
		{65, unsafe.Offsetof(u.Nodename), "sissim"},
		{130, unsafe.Offsetof(u.Release), "6.1.0"},
		{195, unsafe.Offsetof(u.Version), "#1 SMP"},
		{260, unsafe.Offsetof(u.Machine), "aarch64"},
	} {
		require.Equal(t, f.off, f.goOff)
		require.Equal(t, f.want+"\x00", string(b[f.off:f.off+uintptr(len(f.want))+1]))
	}
	require.EqualValues(t, 325, unsafe.Offsetof(u.Domainname))
	// Over-long strings are truncated and stay NUL-terminated.
	require.Equal(t, strings.Repeat("x", 64)+"\x00", string(b[325:]))
}
