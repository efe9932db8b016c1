package kernel

import (
	"io"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

func registerFileSyscalls(reg registerFn) {
	registerFSSyscalls(reg)
	reg(linux.SysClose, syscallEntry{fn: sysClose})
	reg(linux.SysRead, syscallEntry{fn: sysRead})
	reg(linux.SysWrite, syscallEntry{fn: sysWrite})
	reg(linux.SysReadv, syscallEntry{fn: sysReadv})
	reg(linux.SysWritev, syscallEntry{fn: sysWritev})
	reg(linux.SysPread64, syscallEntry{fn: sysPread64})
	reg(linux.SysPwrite64, syscallEntry{fn: sysPwrite64})
	reg(linux.SysLseek, syscallEntry{fn: sysLseek})
	reg(linux.SysSendfile, syscallEntry{fn: sysSendfile, support: Partial, note: "from a file with offsets (a regular file) to any writable descriptor"})
	reg(linux.SysIoctl, syscallEntry{fn: sysIoctl, support: Partial, note: "TCGETS and TIOCGWINSZ on the console, the fbdev screen-info requests on /dev/fb0, FS_IOC_GETFLAGS/SETFLAGS on tmpfs files (guests cannot change FS_APPEND_FL), FIONBIO/FIOCLEX/FIONCLEX on any descriptor, FIONREAD on sockets, pipes and regular files, the SIOCGIF* interface requests on sockets (SIOCSIFFLAGS only where nothing changes, other SIOCSIF* EPERM); ENOTTY elsewhere"})
	reg(linux.SysGetcwd, syscallEntry{fn: sysGetcwd})
	reg(linux.SysDup, syscallEntry{fn: sysDup})
	reg(linux.SysDup3, syscallEntry{fn: sysDup3})
	reg(linux.SysFcntl, syscallEntry{fn: sysFcntl, support: Partial, note: "descriptor and status flags, POSIX and OFD record locks, pipe sizes, F_GETLEASE (no leases), F_GETOWN/F_SETOWN (kept, no SIGIO); other commands are EINVAL"})
	registerLockSyscalls(reg)
}

// Close implements close(2).
func sysClose(t *Task, a *args) (uint64, error) {
	return 0, t.fds.close(a.int32(0))
}

// maxIO bounds one read or write, as Linux's MAX_RW_COUNT does.
const maxIO = 0x7ffff000

// maxBuf bounds the host buffer of one transfer step.
const maxBuf = 1 << 20

// ioBuf returns a new transfer buffer of n bytes, at most maxBuf.
func ioBuf(n uint64) []byte {
	return make([]byte, min(n, maxBuf))
}

// scratch returns the machine's transfer buffer cut to n bytes, at most
// maxBuf. It is valid until the system call returns.
func (t *Task) scratch(n uint64) []byte {
	n = min(n, maxBuf)
	m := t.m
	if uint64(cap(m.scratch)) < n {
		m.scratch = make([]byte, max(n, 64<<10))
	}
	return m.scratch[:n]
}

// readFile reads from of into guest memory at addr.
func (t *Task) readFile(of *openFile, addr, n uint64, off int64) (uint64, error) {
	if of.flags&linux.O_ACCMODE == linux.O_WRONLY {
		return 0, linux.EBADF
	}
	if n > maxIO {
		n = maxIO
	}
	if !t.as.check(addr, n, cpu.ProtWrite) {
		return 0, linux.EFAULT
	}
	buf := t.scratch(n)
	var got int
	var err error
	if off >= 0 {
		ra, ok := of.f.(io.ReaderAt)
		if !ok {
			return 0, linux.ESPIPE
		}
		got, err = ra.ReadAt(buf, off)
	} else {
		got, err = of.f.Read(buf)
	}
	if err != nil && err != io.EOF && got == 0 {
		return 0, fileErr(err)
	}
	return uint64(got), t.copyOut(addr, buf[:got])
}

// writeFile writes guest memory at addr to of.
func (t *Task) writeFile(of *openFile, addr, n uint64, off int64) (uint64, error) {
	if of.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return 0, linux.EBADF
	}
	if n > maxIO {
		n = maxIO
	}
	var done uint64
	for done < n {
		buf := t.scratch(n - done)
		if err := t.copyIn(addr+done, buf); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		var w int
		var err error
		switch {
		case off >= 0:
			wa, ok := of.f.(io.WriterAt)
			if !ok {
				return 0, linux.ESPIPE
			}
			w, err = wa.WriteAt(buf, off+int64(done))
		default:
			w, err = of.f.Write(buf)
		}
		done += uint64(w)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, fileErr(err)
		}
	}
	return done, nil
}

// fileErr maps an I/O error to errno.
func fileErr(err error) error {
	if err == nil {
		return nil
	}
	return linux.ErrnoFromError(err)
}

// Read implements read(2).
func sysRead(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	return t.readFile(of, a[1], a[2], -1)
}

// Write implements write(2).
func sysWrite(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	return t.writeFile(of, a[1], a[2], -1)
}

// Pread64 implements pread64(2).
func sysPread64(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if a.int(3) < 0 {
		return 0, linux.EINVAL
	}
	return t.readFile(of, a[1], a[2], a.int(3))
}

// Pwrite64 implements pwrite64(2).
func sysPwrite64(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if a.int(3) < 0 {
		return 0, linux.EINVAL
	}
	return t.writeFile(of, a[1], a[2], a.int(3))
}

// iovecs reads an iovec array.
func (t *Task) iovecs(addr uint64, cnt int) ([][2]uint64, error) {
	if cnt < 0 || cnt > 1024 {
		return nil, linux.EINVAL
	}
	raw := make([]byte, 16*cnt)
	if err := t.copyIn(addr, raw); err != nil {
		return nil, err
	}
	iov := make([][2]uint64, cnt)
	for i := range iov {
		iov[i] = [2]uint64{le64(raw[16*i:]), le64(raw[16*i+8:])}
	}
	return iov, nil
}

// Readv implements readv(2).
func sysReadv(t *Task, a *args) (uint64, error) {
	return t.vectorIO(a, t.readFile, false)
}

// Writev implements writev(2).
func sysWritev(t *Task, a *args) (uint64, error) {
	return t.vectorIO(a, t.writeFile, true)
}

func (t *Task) vectorIO(a *args, op func(*openFile, uint64, uint64, int64) (uint64, error), write bool) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	iov, err := t.iovecs(a[1], a.int32(2))
	if err != nil {
		return 0, err
	}
	if s, ok := of.f.(socket); ok { // one send or receive (sys_socket.go)
		return t.sockVectorIO(s, of, iov, write)
	}
	var total uint64
	for _, v := range iov {
		if v[1] == 0 {
			continue
		}
		n, err := op(of, v[0], v[1], -1)
		total += n
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n < v[1] {
			break
		}
	}
	return total, nil
}

// Lseek implements lseek(2).
func sysLseek(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	s, ok := of.f.(io.Seeker)
	if !ok {
		return 0, linux.ESPIPE
	}
	whence := a.int32(2)
	if whence < 0 || whence > linux.SEEK_END {
		return 0, linux.EINVAL
	}
	off, err := s.Seek(a.int(1), whence)
	if err != nil {
		return 0, fileErr(err)
	}
	return uint64(off), nil
}

// Sendfile implements sendfile(2): up to count bytes from in_fd, at *offset
// (which is then advanced) or else at its file offset, written to out_fd.
func sysSendfile(t *Task, a *args) (uint64, error) {
	out, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	in, err := t.fds.get(a.int32(1))
	if err != nil {
		return 0, err
	}
	if in.flags&linux.O_ACCMODE == linux.O_WRONLY || out.flags&linux.O_ACCMODE == linux.O_RDONLY {
		return 0, linux.EBADF
	}
	ra, ok := in.f.(io.ReaderAt)
	seeker, seekable := in.f.(io.Seeker)
	if !ok || !seekable {
		return 0, linux.EINVAL
	}
	var off int64
	if a[2] != 0 {
		var b [8]byte
		if err := t.copyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		if off = int64(le64(b[:])); off < 0 {
			return 0, linux.EINVAL
		}
	} else if off, err = seeker.Seek(0, io.SeekCurrent); err != nil {
		return 0, fileErr(err)
	}
	count := min(a[3], maxIO)
	var done uint64
	for done < count {
		buf := t.scratch(count - done)
		n, rerr := ra.ReadAt(buf, off+int64(done))
		if n == 0 {
			if rerr != nil && rerr != io.EOF && done == 0 {
				return 0, fileErr(rerr)
			}
			break
		}
		w, werr := out.f.Write(buf[:n])
		done += uint64(w)
		if werr != nil {
			if done == 0 {
				return 0, fileErr(werr) // a full pipe blocks here; nothing was consumed
			}
			break
		}
		if w < n {
			break
		}
	}
	if a[2] != 0 {
		var b [8]byte
		put64(b[:], uint64(off)+done)
		return done, t.copyOut(a[2], b[:])
	}
	if _, err := seeker.Seek(off+int64(done), io.SeekStart); err != nil {
		return done, fileErr(err)
	}
	return done, nil
}

// termiosSize is sizeof(struct termios) as the kernel's TCGETS/TCSETS
// copy it (four flag words, c_line and NCCS=19 control characters); glibc's
// larger user-space struct termios is converted by glibc.
const termiosSize = 36

// Ioctl implements ioctl(2) for the terminal requests glibc and busybox use.
func sysIoctl(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if r, ok, err := t.genericIoctl(a.int32(0), of, a[1], a[2]); ok { // sys_socket_ioctl.go
		return r, err
	}
	if vf, ok := of.f.(*vfs.File); ok {
		if d, ok := vf.Handle().(vfs.Ioctler); ok { // a device's own requests (fbdev)
			return d.Ioctl(a[1], a[2], userMemory{t})
		}
	}
	tty, ok := of.f.(terminal)
	if !ok || !tty.IsTerminal() {
		return 0, linux.ENOTTY
	}
	switch a[1] {
	case linux.TCGETS:
		// A cooked terminal: ICRNL, OPOST|ONLCR, B38400|CS8|CREAD, ISIG|
		// ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE.
		var tio [termiosSize]byte
		put32(tio[0:], 0o400)
		put32(tio[4:], 0o5)
		put32(tio[8:], 0o277)
		put32(tio[12:], 0o105073)
		copy(tio[17:], []byte{3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22})
		return 0, t.copyOut(a[2], tio[:])
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		var tio [termiosSize]byte
		return 0, t.copyIn(a[2], tio[:])
	case linux.TIOCGWINSZ:
		var ws [8]byte
		put16(ws[0:], 24)
		put16(ws[2:], 80)
		return 0, t.copyOut(a[2], ws[:])
	case linux.TIOCGPGRP:
		pgrp := t.pgid
		if len(t.m.group(t.m.ttyPgrp)) > 0 {
			pgrp = t.m.ttyPgrp
		}
		var pg [4]byte
		put32(pg[:], uint32(pgrp))
		return 0, t.copyOut(a[2], pg[:])
	case linux.TIOCSPGRP:
		var pg [4]byte
		if err := t.copyIn(a[2], pg[:]); err != nil {
			return 0, err
		}
		pgrp := int(int32(leU32(pg[:])))
		switch {
		case pgrp < 0:
			return 0, linux.EINVAL
		case len(t.m.group(pgrp)) == 0:
			return 0, linux.ESRCH
		}
		t.m.ttyPgrp = pgrp
		return 0, nil
	case linux.TIOCSCTTY, tiocNOTTY:
		return 0, t.controllingTerminal(a[1])
	}
	return 0, linux.EINVAL
}

// userMemory is a task's memory for a device's ioctl.
type userMemory struct{ t *Task }

func (u userMemory) CopyIn(addr uint64, b []byte) error  { return u.t.copyIn(addr, b) }
func (u userMemory) CopyOut(addr uint64, b []byte) error { return u.t.copyOut(addr, b) }

// Getcwd implements getcwd(2): the working directory from the process's
// root, prefixed "(unreachable)" when it lies outside that root.
func sysGetcwd(t *Task, a *args) (uint64, error) {
	cwd := t.vctx().Rel(t.cwd)
	if t.root != "" && cwd == t.cwd && t.cwd != t.root {
		cwd = "(unreachable)" + t.cwd
	}
	b := append([]byte(cwd), 0)
	if uint64(len(b)) > a[1] {
		return 0, linux.ERANGE
	}
	return uint64(len(b)), t.copyOut(a[0], b)
}

// Dup implements dup(2).
func sysDup(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	fd, err := t.fds.installOpen(of, 0, false)
	return uint64(fd), err
}

// Dup3 implements dup3(2).
func sysDup3(t *Task, a *args) (uint64, error) {
	oldfd, newfd, flags := a.int32(0), a.int32(1), a.int32(2)
	if flags&^linux.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, linux.EINVAL
	}
	of, err := t.fds.get(oldfd)
	if err != nil {
		return 0, err
	}
	if err := t.fds.setAt(newfd, of, flags&linux.O_CLOEXEC != 0); err != nil {
		return 0, err
	}
	return uint64(newfd), nil
}

// Fcntl implements fcntl(2): descriptor and status flags, record locks
// (sys_lock.go) and pipe sizes.
func sysFcntl(t *Task, a *args) (uint64, error) {
	fd := a.int32(0)
	e, err := t.fds.entry(fd)
	if err != nil {
		return 0, err
	}
	cmd := a.int32(1)
	if e.of.flags&linux.O_PATH != 0 {
		switch cmd {
		case linux.F_DUPFD, linux.F_DUPFD_CLOEXEC, linux.F_GETFD, linux.F_SETFD, linux.F_GETFL:
		default:
			return 0, linux.EBADF
		}
	}
	switch cmd {
	case linux.F_GETLK, linux.F_SETLK, linux.F_SETLKW, linux.F_OFD_GETLK, linux.F_OFD_SETLK, linux.F_OFD_SETLKW:
		return t.fcntlLock(e.of, cmd, a[2])
	case linux.F_GETPIPE_SZ, linux.F_SETPIPE_SZ:
		return t.pipeSize(e.of, cmd, a[2])
	case linux.F_GETLEASE:
		return linux.F_UNLCK, nil
	case linux.F_GETOWN:
		return uint64(e.of.owner), nil
	case linux.F_SETOWN:
		e.of.owner = a.int32(2)
		return 0, nil
	case linux.F_DUPFD, linux.F_DUPFD_CLOEXEC:
		min := a.int32(2)
		if min < 0 || min >= t.fds.limit {
			return 0, linux.EINVAL
		}
		nfd, err := t.fds.installOpen(e.of, min, a.int32(1) == linux.F_DUPFD_CLOEXEC)
		return uint64(nfd), err
	case linux.F_GETFD:
		if e.cloexec {
			return linux.FD_CLOEXEC, nil
		}
		return 0, nil
	case linux.F_SETFD:
		e.cloexec = a[2]&linux.FD_CLOEXEC != 0
		return 0, nil
	case linux.F_GETFL:
		return uint64(e.of.flags), nil
	case linux.F_SETFL:
		const settable = linux.O_APPEND | linux.O_NONBLOCK | linux.O_NOATIME | linux.O_DIRECT
		vf, isFile := e.of.f.(*vfs.File)
		if isFile && e.of.flags&linux.O_APPEND != 0 && a.int32(2)&linux.O_APPEND == 0 {
			if at, err := vf.Stat(); err == nil && at.Flags&linux.FS_APPEND_FL != 0 {
				return 0, linux.EPERM // an append-only file keeps O_APPEND
			}
		}
		e.of.flags = e.of.flags&^settable | a.int32(2)&settable
		if isFile {
			vf.SetFlags(vf.Flags&^settable | a.int32(2)&settable)
		}
		return 0, nil
	}
	return 0, linux.EINVAL
}
