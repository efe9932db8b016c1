package gdbstub

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// maxOpenFiles bounds the files a debugger may hold open through vFile.
const maxOpenFiles = 64

// File-I/O protocol values (gdb's "fileio" numbering).
const (
	fioEBADF        = 9
	fioEINVAL       = 22
	fioEMFILE       = 24
	fioEROFS        = 30
	fioENAMETOOLONG = 91
	fioEUNKNOWN     = 9999

	fioAccMode = 3 // O_RDONLY 0, O_WRONLY 1, O_RDWR 2
	fioOCreat  = 0x200
	fioOTrunc  = 0x400
	fioOAppend = 0x8
)

// fioErrno maps an error to the File-I/O errno: the common errnos share
// Linux's numbers; the rest are EUNKNOWN.
func fioErrno(err error) int {
	e := linux.ErrnoFromError(err)
	switch e {
	case linux.EPERM, linux.ENOENT, linux.EINTR, linux.EBADF, linux.EACCES,
		linux.EFAULT, linux.EBUSY, linux.EEXIST, linux.ENODEV, linux.ENOTDIR,
		linux.EISDIR, linux.EINVAL, linux.ENFILE, linux.EMFILE, linux.EFBIG,
		linux.ENOSPC, linux.ESPIPE, linux.EROFS:
		return int(e)
	case linux.ENAMETOOLONG:
		return fioENAMETOOLONG
	}
	return fioEUNKNOWN
}

// fileErr replies F-1,errno.
func (ss *session) fileErr(errno int, err error) error {
	if err != nil {
		ss.srv.logf("   vFile error: %v", err)
	}
	return ss.reply(fmt.Sprintf("F-1,%x", errno))
}

// handleFile implements vFile:setfs, open, pread, close and fstat for
// reading guest files. Writes are refused with EROFS.
func (ss *session) handleFile(p []byte) error {
	fo, ok := ss.t.(FileOpener)
	if !ok {
		return ss.reply("")
	}
	op, arg, _ := strings.Cut(string(p), ":")
	args := strings.Split(arg, ",")
	num := func(i int) (uint64, bool) {
		if i >= len(args) {
			return 0, false
		}
		v, err := strconv.ParseUint(args[i], 16, 64)
		return v, err == nil
	}
	switch op {
	case "setfs":
		pid, ok := num(0)
		if !ok || pid > 1<<31 {
			return ss.fileErr(fioEINVAL, fmt.Errorf("bad setfs %q", arg))
		}
		ss.fsPid = int(pid)
		return ss.reply("F0")
	case "open":
		if len(args) != 3 {
			return ss.fileErr(fioEINVAL, fmt.Errorf("bad open %q", arg))
		}
		path, err := hex.DecodeString(args[0])
		flags, okf := num(1)
		if err != nil || !okf {
			return ss.fileErr(fioEINVAL, fmt.Errorf("bad open %q", arg))
		}
		if flags&fioAccMode != 0 || flags&(fioOCreat|fioOTrunc|fioOAppend) != 0 {
			return ss.fileErr(fioEROFS, nil)
		}
		if len(ss.files) >= maxOpenFiles {
			return ss.fileErr(fioEMFILE, nil)
		}
		f, err := fo.OpenFile(ss.fsPid, string(path))
		if err != nil {
			return ss.fileErr(fioErrno(err), err)
		}
		fd := ss.nextFd
		ss.nextFd++
		ss.files[fd] = f
		return ss.reply(fmt.Sprintf("F%x", fd))
	case "readlink":
		lr, ok := ss.t.(LinkReader)
		if !ok {
			return ss.reply("")
		}
		path, err := hex.DecodeString(arg)
		if err != nil {
			return ss.fileErr(fioEINVAL, fmt.Errorf("bad readlink %q", arg))
		}
		target, err := lr.Readlink(ss.fsPid, string(path))
		if err != nil {
			return ss.fileErr(fioErrno(err), err)
		}
		return ss.replyBinary(fmt.Sprintf("F%x;", len(target)), []byte(target))
	case "pread":
		fd, ok1 := num(0)
		count, ok2 := num(1)
		off, ok3 := num(2)
		f := ss.files[int(fd)]
		if !ok1 || !ok2 || !ok3 || f == nil {
			return ss.fileErr(fioEBADF, fmt.Errorf("bad pread %q", arg))
		}
		if off > 1<<62 {
			return ss.fileErr(fioEINVAL, fmt.Errorf("bad offset %#x", off))
		}
		buf := make([]byte, min(count, PacketSize/2))
		n, err := f.ReadAt(buf, int64(off))
		if n == 0 && err != nil && !errors.Is(err, io.EOF) {
			return ss.fileErr(fioErrno(err), err)
		}
		return ss.replyBinary(fmt.Sprintf("F%x;", n), buf[:n])
	case "close":
		fd, ok := num(0)
		f := ss.files[int(fd)]
		if !ok || f == nil {
			return ss.fileErr(fioEBADF, fmt.Errorf("bad close %q", arg))
		}
		delete(ss.files, int(fd))
		if err := f.Close(); err != nil {
			return ss.fileErr(fioErrno(err), err)
		}
		return ss.reply("F0")
	case "fstat":
		fd, ok := num(0)
		f := ss.files[int(fd)]
		if !ok || f == nil {
			return ss.fileErr(fioEBADF, fmt.Errorf("bad fstat %q", arg))
		}
		fi, err := f.Stat()
		if err != nil {
			return ss.fileErr(fioErrno(err), err)
		}
		st := fioStat(fi)
		return ss.replyBinary(fmt.Sprintf("F%x;", len(st)), st)
	}
	return ss.reply("")
}

// fioStat encodes a File-I/O struct stat: big-endian st_dev, st_ino,
// st_mode, st_nlink, st_uid, st_gid, st_rdev (4 bytes each), st_size,
// st_blksize, st_blocks (8 bytes each), st_atime, st_mtime, st_ctime (4).
func fioStat(fi fs.FileInfo) []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(b[8:], fioMode(fi.Mode()))
	be.PutUint32(b[12:], 1) // st_nlink
	size := uint64(max(fi.Size(), 0))
	be.PutUint64(b[28:], size)
	be.PutUint64(b[36:], 4096)
	be.PutUint64(b[44:], (size+511)/512)
	mtime := uint32(max(fi.ModTime().Unix(), 0))
	be.PutUint32(b[52:], mtime)
	be.PutUint32(b[56:], mtime)
	be.PutUint32(b[60:], mtime)
	return b
}

// fioMode converts a Go file mode to the Unix st_mode bits.
func fioMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	switch {
	case m.IsDir():
		mode |= 0o040000
	case m&fs.ModeSymlink != 0:
		mode |= 0o120000
	case m&fs.ModeCharDevice != 0:
		mode |= 0o020000
	case m&fs.ModeDevice != 0:
		mode |= 0o060000
	case m&fs.ModeNamedPipe != 0:
		mode |= 0o010000
	case m&fs.ModeSocket != 0:
		mode |= 0o140000
	default:
		mode |= 0o100000
	}
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
