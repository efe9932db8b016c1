package linux

import (
	"encoding/binary"
	"io"
)

// Sizes in bytes of the arm64 structures below.
const (
	SizeofStat           = 128
	SizeofStatx          = 256
	SizeofStatxTimestamp = 16
	SizeofTimespec       = 16
	SizeofTimeval        = 16
	SizeofUtsname        = 6 * UtsnameLen
	SizeofRlimit         = 16
	SizeofIovec          = 16

	// UtsnameLen is the size of each Utsname field, including the NUL.
	UtsnameLen = 65
)

// Bits of Statx.Mask and of the statx(2) mask argument.
const (
	STATX_TYPE        = 0x1
	STATX_MODE        = 0x2
	STATX_NLINK       = 0x4
	STATX_UID         = 0x8
	STATX_GID         = 0x10
	STATX_ATIME       = 0x20
	STATX_MTIME       = 0x40
	STATX_CTIME       = 0x80
	STATX_INO         = 0x100
	STATX_SIZE        = 0x200
	STATX_BLOCKS      = 0x400
	STATX_BASIC_STATS = 0x7ff
	STATX_BTIME       = 0x800
	STATX_MNT_ID      = 0x1000
	STATX_DIOALIGN    = 0x2000
)

// Stat is the arm64 struct stat filled in by fstat(2) and newfstatat(2)
// (asm-generic layout).
type Stat struct {
	Dev       uint64
	Ino       uint64
	Mode      uint32
	Nlink     uint32
	Uid       uint32
	Gid       uint32
	Rdev      uint64
	_         uint64
	Size      int64
	Blksize   int32
	_         int32
	Blocks    int64
	Atime     int64
	AtimeNsec int64
	Mtime     int64
	MtimeNsec int64
	Ctime     int64
	CtimeNsec int64
	_         [2]int32
}

// AppendBinary appends the SizeofStat-byte little-endian encoding of s to b.
func (s *Stat) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, s.Dev)
	b = binary.LittleEndian.AppendUint64(b, s.Ino)
	b = binary.LittleEndian.AppendUint32(b, s.Mode)
	b = binary.LittleEndian.AppendUint32(b, s.Nlink)
	b = binary.LittleEndian.AppendUint32(b, s.Uid)
	b = binary.LittleEndian.AppendUint32(b, s.Gid)
	b = binary.LittleEndian.AppendUint64(b, s.Rdev)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Size))
	b = binary.LittleEndian.AppendUint32(b, uint32(s.Blksize))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Blocks))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Atime))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.AtimeNsec))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Mtime))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.MtimeNsec))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Ctime))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.CtimeNsec))
	return binary.LittleEndian.AppendUint64(b, 0), nil
}

// MarshalBinary returns the SizeofStat-byte little-endian encoding of s.
func (s *Stat) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, SizeofStat))
}

// StatxTimestamp is struct statx_timestamp.
type StatxTimestamp struct {
	Sec  int64
	Nsec uint32
	_    int32
}

// AppendBinary appends the SizeofStatxTimestamp-byte little-endian
// encoding of t to b.
func (t StatxTimestamp) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Sec))
	b = binary.LittleEndian.AppendUint32(b, t.Nsec)
	return binary.LittleEndian.AppendUint32(b, 0), nil
}

// MarshalBinary returns the SizeofStatxTimestamp-byte little-endian
// encoding of t.
func (t StatxTimestamp) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, SizeofStatxTimestamp))
}

// Statx is struct statx filled in by statx(2).
type Statx struct {
	Mask           uint32
	Blksize        uint32
	Attributes     uint64
	Nlink          uint32
	Uid            uint32
	Gid            uint32
	Mode           uint16
	_              uint16
	Ino            uint64
	Size           uint64
	Blocks         uint64
	AttributesMask uint64
	Atime          StatxTimestamp
	Btime          StatxTimestamp
	Ctime          StatxTimestamp
	Mtime          StatxTimestamp
	RdevMajor      uint32
	RdevMinor      uint32
	DevMajor       uint32
	DevMinor       uint32
	MntID          uint64
	DioMemAlign    uint32
	DioOffsetAlign uint32
	_              [12]uint64
}

// AppendBinary appends the SizeofStatx-byte little-endian encoding of s to b.
func (s *Statx) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, s.Mask)
	b = binary.LittleEndian.AppendUint32(b, s.Blksize)
	b = binary.LittleEndian.AppendUint64(b, s.Attributes)
	b = binary.LittleEndian.AppendUint32(b, s.Nlink)
	b = binary.LittleEndian.AppendUint32(b, s.Uid)
	b = binary.LittleEndian.AppendUint32(b, s.Gid)
	b = binary.LittleEndian.AppendUint16(b, s.Mode)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, s.Ino)
	b = binary.LittleEndian.AppendUint64(b, s.Size)
	b = binary.LittleEndian.AppendUint64(b, s.Blocks)
	b = binary.LittleEndian.AppendUint64(b, s.AttributesMask)
	for _, t := range [...]StatxTimestamp{s.Atime, s.Btime, s.Ctime, s.Mtime} {
		b, _ = t.AppendBinary(b)
	}
	b = binary.LittleEndian.AppendUint32(b, s.RdevMajor)
	b = binary.LittleEndian.AppendUint32(b, s.RdevMinor)
	b = binary.LittleEndian.AppendUint32(b, s.DevMajor)
	b = binary.LittleEndian.AppendUint32(b, s.DevMinor)
	b = binary.LittleEndian.AppendUint64(b, s.MntID)
	b = binary.LittleEndian.AppendUint32(b, s.DioMemAlign)
	b = binary.LittleEndian.AppendUint32(b, s.DioOffsetAlign)
	return append(b, make([]byte, 12*8)...), nil
}

// MarshalBinary returns the SizeofStatx-byte little-endian encoding of s.
func (s *Statx) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, SizeofStatx))
}

// Timespec is struct timespec (struct __kernel_timespec on arm64).
type Timespec struct {
	Sec  int64
	Nsec int64
}

// AppendBinary appends the SizeofTimespec-byte little-endian encoding of t
// to b.
func (t Timespec) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Sec))
	return binary.LittleEndian.AppendUint64(b, uint64(t.Nsec)), nil
}

// MarshalBinary returns the SizeofTimespec-byte little-endian encoding of t.
func (t Timespec) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, SizeofTimespec))
}

// UnmarshalBinary decodes t from the first SizeofTimespec bytes of b;
// it returns io.ErrUnexpectedEOF if b is shorter.
func (t *Timespec) UnmarshalBinary(b []byte) error {
	if len(b) < SizeofTimespec {
		return io.ErrUnexpectedEOF
	}
	t.Sec, t.Nsec = int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	return nil
}

// Timeval is struct timeval (struct __kernel_old_timeval on arm64).
type Timeval struct {
	Sec  int64
	Usec int64
}

// AppendBinary appends the SizeofTimeval-byte little-endian encoding of t
// to b.
func (t Timeval) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Sec))
	return binary.LittleEndian.AppendUint64(b, uint64(t.Usec)), nil
}

// MarshalBinary returns the SizeofTimeval-byte little-endian encoding of t.
func (t Timeval) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, SizeofTimeval))
}

// UnmarshalBinary decodes t from the first SizeofTimeval bytes of b;
// it returns io.ErrUnexpectedEOF if b is shorter.
func (t *Timeval) UnmarshalBinary(b []byte) error {
	if len(b) < SizeofTimeval {
		return io.ErrUnexpectedEOF
	}
	t.Sec, t.Usec = int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	return nil
}

// Utsname is struct new_utsname filled in by uname(2). Each field holds a
// NUL-terminated string.
type Utsname struct {
	Sysname    [UtsnameLen]byte
	Nodename   [UtsnameLen]byte
	Release    [UtsnameLen]byte
	Version    [UtsnameLen]byte
	Machine    [UtsnameLen]byte
	Domainname [UtsnameLen]byte
}

// NewUtsname returns a Utsname holding the given strings, each truncated
// to UtsnameLen-1 bytes so that it stays NUL-terminated.
func NewUtsname(sysname, nodename, release, version, machine, domainname string) *Utsname {
	u := new(Utsname)
	copy(u.Sysname[:UtsnameLen-1], sysname)
	copy(u.Nodename[:UtsnameLen-1], nodename)
	copy(u.Release[:UtsnameLen-1], release)
	copy(u.Version[:UtsnameLen-1], version)
	copy(u.Machine[:UtsnameLen-1], machine)
	copy(u.Domainname[:UtsnameLen-1], domainname)
	return u
}

// AppendBinary appends the SizeofUtsname-byte encoding of u to b.
func (u *Utsname) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, u.Sysname[:]...)
	b = append(b, u.Nodename[:]...)
	b = append(b, u.Release[:]...)
	b = append(b, u.Version[:]...)
	b = append(b, u.Machine[:]...)
	return append(b, u.Domainname[:]...), nil
}

// MarshalBinary returns the SizeofUtsname-byte encoding of u.
func (u *Utsname) MarshalBinary() ([]byte, error) {
	return u.AppendBinary(make([]byte, 0, SizeofUtsname))
}

// Rlimit is struct rlimit (and struct rlimit64, identical on arm64).
type Rlimit struct {
	Cur uint64
	Max uint64
}

// AppendBinary appends the SizeofRlimit-byte little-endian encoding of r
// to b.
func (r Rlimit) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, r.Cur)
	return binary.LittleEndian.AppendUint64(b, r.Max), nil
}

// MarshalBinary returns the SizeofRlimit-byte little-endian encoding of r.
func (r Rlimit) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, SizeofRlimit))
}

// UnmarshalBinary decodes r from the first SizeofRlimit bytes of b;
// it returns io.ErrUnexpectedEOF if b is shorter.
func (r *Rlimit) UnmarshalBinary(b []byte) error {
	if len(b) < SizeofRlimit {
		return io.ErrUnexpectedEOF
	}
	r.Cur, r.Max = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return nil
}

// Iovec is struct iovec as used by readv(2) and writev(2); Base is a guest
// address.
type Iovec struct {
	Base uint64
	Len  uint64
}

// AppendBinary appends the SizeofIovec-byte little-endian encoding of v
// to b.
func (v Iovec) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, v.Base)
	return binary.LittleEndian.AppendUint64(b, v.Len), nil
}

// MarshalBinary returns the SizeofIovec-byte little-endian encoding of v.
func (v Iovec) MarshalBinary() ([]byte, error) {
	return v.AppendBinary(make([]byte, 0, SizeofIovec))
}

// UnmarshalBinary decodes v from the first SizeofIovec bytes of b;
// it returns io.ErrUnexpectedEOF if b is shorter.
func (v *Iovec) UnmarshalBinary(b []byte) error {
	if len(b) < SizeofIovec {
		return io.ErrUnexpectedEOF
	}
	v.Base, v.Len = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return nil
}
