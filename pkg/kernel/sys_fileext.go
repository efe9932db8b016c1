package kernel

import (
	"io"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// More descriptor calls: positional vector I/O (preadv, pwritev and
// their flag-taking forms), close_range, syncfs and readahead.

func registerFileExtSyscalls(reg registerFn) {
	reg(linux.SysPreadv, syscallEntry{fn: sysPreadv})
	reg(linux.SysPwritev, syscallEntry{fn: sysPwritev})
	reg(linux.SysPreadv2, syscallEntry{fn: sysPreadv2})
	reg(linux.SysPwritev2, syscallEntry{fn: sysPwritev2})
	reg(linux.SysCloseRange, syscallEntry{fn: sysCloseRange})
	reg(linux.SysSyncfs, syscallEntry{fn: sysSyncfs})
	reg(linux.SysReadahead, syscallEntry{fn: sysReadahead})
}

// RWF_* flags of preadv2/pwritev2.
const (
	rwfHipri  = 0x01
	rwfDsync  = 0x02
	rwfSync   = 0x04
	rwfNowait = 0x08
	rwfAppend = 0x10
)

// vectorAt does a positional vector transfer at off (-1: the file offset,
// as readv/writev).
func (t *Task) vectorAt(a *args, off int64, op func(*openFile, uint64, uint64, int64) (uint64, error)) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if off < -1 {
		return 0, linux.EINVAL
	}
	iov, err := t.iovecs(a[1], a.int32(2))
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, v := range iov {
		if v[1] == 0 {
			continue
		}
		at := off
		if off >= 0 {
			at = off + int64(total)
		}
		n, err := op(of, v[0], v[1], at)
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

// Preadv implements preadv(2).
func sysPreadv(t *Task, a *args) (uint64, error) {
	if a.int(3) < 0 {
		return 0, linux.EINVAL
	}
	return t.vectorAt(a, a.int(3), t.readFile)
}

// Pwritev implements pwritev(2).
func sysPwritev(t *Task, a *args) (uint64, error) {
	if a.int(3) < 0 {
		return 0, linux.EINVAL
	}
	return t.vectorAt(a, a.int(3), t.writeFile)
}

// rwFlags checks preadv2/pwritev2's flags: the synchronous ones are what
// the VFS does anyway, RWF_NOWAIT needs no wait here either; RWF_APPEND
// appends (pwritev2 only).
func rwFlags(flags uint64, write bool) error {
	ok := uint64(rwfHipri | rwfDsync | rwfSync | rwfNowait)
	if write {
		ok |= rwfAppend
	}
	if flags&^ok != 0 {
		return linux.EOPNOTSUPP
	}
	return nil
}

// Preadv2 implements preadv2(2) (offset -1: the file offset).
func sysPreadv2(t *Task, a *args) (uint64, error) {
	if err := rwFlags(a[5], false); err != nil {
		return 0, err
	}
	return t.vectorAt(a, a.int(3), t.readFile)
}

// Pwritev2 implements pwritev2(2) (offset -1 or RWF_APPEND: the file
// offset, at the end for the latter).
func sysPwritev2(t *Task, a *args) (uint64, error) {
	if err := rwFlags(a[5], true); err != nil {
		return 0, err
	}
	off := a.int(3)
	if a[5]&rwfAppend != 0 {
		of, err := t.fds.get(a.int32(0))
		if err != nil {
			return 0, err
		}
		s, ok := of.f.(io.Seeker)
		if !ok {
			return 0, linux.ESPIPE
		}
		end, err := s.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, fileErr(err)
		}
		off = end
	}
	return t.vectorAt(a, off, t.writeFile)
}

// close_range(2) flags.
const (
	closeRangeUnshare = 2
	closeRangeCloexec = 4
)

// CloseRange implements close_range(2).
func sysCloseRange(t *Task, a *args) (uint64, error) {
	first, last, flags := uint32(a[0]), uint32(a[1]), a[2]
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return 0, linux.EINVAL
	}
	if flags&closeRangeUnshare != 0 && t.fds.refs > 1 {
		if len(t.tasks) > 1 {
			return 0, linux.EINVAL // one table for every thread here
		}
		c, err := t.fds.fork()
		if err != nil {
			return 0, err
		}
		t.fds.release()
		t.fds = c
	}
	for fd := int(first); fd < len(t.fds.fds) && uint32(fd) <= last; fd++ {
		e := t.fds.fds[fd]
		if e == nil {
			continue
		}
		if flags&closeRangeCloexec != 0 {
			e.cloexec = true
		} else {
			t.fds.close(fd)
		}
	}
	return 0, nil
}

// Syncfs implements syncfs(2): the VFS writes through.
func sysSyncfs(t *Task, a *args) (uint64, error) {
	_, err := t.fds.get(a.int32(0))
	return 0, err
}

// Readahead implements readahead(2): with no page cache to fill, it only
// checks its descriptor (EINVAL unless a regular file open for reading).
func sysReadahead(t *Task, a *args) (uint64, error) {
	of, err := t.fds.get(a.int32(0))
	if err != nil {
		return 0, err
	}
	if of.flags&linux.O_ACCMODE == linux.O_WRONLY || of.flags&linux.O_PATH != 0 {
		return 0, linux.EBADF
	}
	vf, ok := of.f.(*vfs.File)
	if !ok {
		return 0, linux.EINVAL
	}
	if at, err := vf.Stat(); err != nil || at.Mode&vfs.ModeType != vfs.ModeRegular {
		return 0, linux.EINVAL
	}
	return 0, nil
}
