package agentsys

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// logLine is one JSON line of the audit log.
type logLine struct {
	Seq         uint64 `json:"seq"`
	Agent       uint16 `json:"agent"`
	Op          string `json:"op"`
	Name        string `json:"name"`
	TimestampUs int64  `json:"timestamp_us"`
	Time        string `json:"time,omitempty"`
	Allowed     bool   `json:"allowed"`
	Result      string `json:"result"`
}

// audit records one operation in the ring and the log.
func (s *Service) audit(agent uint16, op byte, now time.Duration, allowed bool, result string) Record {
	s.seq++
	r := Record{Seq: s.seq, Agent: agent, Op: op, Time: now, Allowed: allowed, Result: result}
	s.ring.Add(r)
	s.appendLog(r)
	return r
}

func (s *Service) appendLog(r Record) {
	l := logLine{Seq: r.Seq, Agent: r.Agent, Op: fmt.Sprintf("0x%02X", r.Op), Name: OpName(r.Op),
		TimestampUs: r.Time.Microseconds(), Allowed: r.Allowed, Result: r.Result}
	if !s.env.Epoch.IsZero() {
		l.Time = s.env.Epoch.Add(r.Time).UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(l)
	if err == nil {
		err = s.log.append(append(b, '\n'))
	}
	if err != nil {
		s.logErrors++
		s.logLastErr = linux.ErrnoFromError(err).Error()
		return
	}
	s.logWritten++
}

// auditLog is the service's log file. One open description is kept from
// the start, so a mount over the log's directory or a rename cannot send
// the records to another file; it is opened again only when its file is
// gone (unlinked, say by a host process on a host mount). A record that
// would take the file past max bytes first rotates it to path+".1"
// (replacing the previous one), keeping its append-only flag: the log
// never takes more than about twice max bytes.
type auditLog struct {
	fs        afero.Fs
	path      string
	max       int64
	f         afero.File // nil when not open
	protected bool       // the directory is fixed in the namespace
}

// appendOnlyFS is a file system with the append-only inode flag
// (vfs.FS.Afero).
type appendOnlyFS interface {
	SetAppendOnly(name string, on bool) error
}

// open opens the log for appending, making its directory if needed, and
// the first time fixes the directory and those above it (where the file
// system can: vfs.FS.Protect), so that no mount or rename can move them.
func (l *auditLog) open() error {
	if err := l.fs.MkdirAll(path.Dir(l.path), 0o755); err != nil {
		return err
	}
	f, err := l.fs.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	l.f = f
	if p, ok := l.fs.(interface{ Protect(string) error }); ok && !l.protected {
		if err := p.Protect(path.Dir(l.path)); err != nil {
			return err
		}
		l.protected = true
	}
	return nil
}

func (l *auditLog) close() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// append writes one record.
func (l *auditLog) append(b []byte) error {
	var fi fs.FileInfo
	if l.f != nil {
		var err error
		if fi, err = l.f.Stat(); err != nil || unlinked(fi) {
			l.close()
		}
	}
	if l.f == nil {
		if err := l.open(); err != nil {
			return err
		}
		var err error
		if fi, err = l.f.Stat(); err != nil {
			return err
		}
	}
	if fi.Size() > 0 && fi.Size()+int64(len(b)) > l.max {
		if err := l.rotate(appendOnly(fi)); err != nil {
			return fmt.Errorf("rotate %s: %w", l.path, err)
		}
	}
	_, err := l.f.Write(b)
	return err
}

// rotate renames the log to path+".1" and opens a new, empty one; flag
// says the log is append-only, as the new one and the rotated one will be.
func (l *auditLog) rotate(flag bool) error {
	old := l.path + ".1"
	ao, _ := l.fs.(appendOnlyFS)
	flag = flag && ao != nil
	if flag {
		if err := ao.SetAppendOnly(old, false); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := ao.SetAppendOnly(l.path, false); err != nil {
			return err
		}
	}
	if err := l.fs.Rename(l.path, old); err != nil {
		if flag {
			ao.SetAppendOnly(l.path, true)
		}
		return err
	}
	l.close()
	if flag {
		if err := ao.SetAppendOnly(old, true); err != nil {
			return err
		}
	}
	f, err := l.fs.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	l.f = f
	if flag {
		return ao.SetAppendOnly(l.path, true)
	}
	return nil
}

// unlinked reports whether fi, of an open file, says it has no name left.
func unlinked(fi fs.FileInfo) bool {
	switch st := fi.Sys().(type) {
	case *vfs.Attr:
		return st.Nlink == 0
	case *syscall.Stat_t:
		return st.Nlink == 0
	}
	return false
}

// appendOnly reports whether fi has the append-only inode flag.
func appendOnly(fi fs.FileInfo) bool {
	a, ok := fi.Sys().(*vfs.Attr)
	return ok && a.Flags&linux.FS_APPEND_FL != 0
}

// isAuditLog reports whether the clean absolute path p names the audit
// log or the rotated one: their paths, a path that leads to one of them
// through symlinks (the last one only when followLast), or another hard
// link to one of their files. Operations that change such a path are
// refused, so agents can neither overwrite, truncate, delete nor replace
// the records. A path that cannot be resolved is not the log (an
// operation on it fails the same way).
func (s *Service) isAuditLog(p string, followLast bool) bool {
	r, err := s.realpath(p, followLast)
	if err != nil {
		return false
	}
	for _, logPath := range []string{s.log.path, s.log.path + ".1"} {
		logReal, err := s.realpath(logPath, true)
		if p == logPath || r == logPath || err == nil && r == logReal {
			return true
		}
		if !followLast {
			continue // unlinking another name of the file leaves the log alone
		}
		fi, err := s.env.FS.Stat(r)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		li, err := s.env.FS.Stat(logReal)
		if err != nil {
			continue
		}
		a, ok1 := fi.Sys().(*vfs.Attr)
		b, ok2 := li.Sys().(*vfs.Attr)
		if ok1 && ok2 && a.Dev == b.Dev && a.Ino == b.Ino {
			return true
		}
	}
	return false
}
