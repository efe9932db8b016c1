package agentsys

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

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
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, r)
	} else {
		s.ring[s.ringNext] = r
	}
	s.ringNext = (s.ringNext + 1) % cap(s.ring)
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
		b = append(b, '\n')
		err = s.appendFile(s.cfg.AuditLog, b)
		if errors.Is(err, fs.ErrNotExist) {
			// The directory went away: make it again, once.
			if s.env.FS.MkdirAll(path.Dir(s.cfg.AuditLog), 0o755) == nil {
				err = s.appendFile(s.cfg.AuditLog, b)
			}
		}
	}
	if err != nil {
		s.logErrors++
		s.logLastErr = linux.ErrnoFromError(err).Error()
		return
	}
	s.logWritten++
}

func (s *Service) appendFile(name string, b []byte) error {
	f, err := s.env.FS.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// isAuditLog reports whether the clean absolute path p names the audit
// log: the log's path itself, or (following symlinks, the last one only
// when followLast) a path that leads to it, or another hard link to the
// log's file. Operations that change such a path are refused, so agents
// can neither overwrite, truncate, delete nor replace the log.
func (s *Service) isAuditLog(p string, followLast bool) bool {
	logPath := path.Clean(s.cfg.AuditLog)
	logReal := s.resolve(logPath, true)
	if p == logPath {
		return true
	}
	r := s.resolve(p, followLast)
	if r == logPath || r == logReal {
		return true
	}
	if !followLast {
		return false // unlinking another name of the file leaves the log alone
	}
	fi, err := s.env.FS.Stat(r)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	li, err := s.env.FS.Stat(logReal)
	if err != nil {
		return false
	}
	a, ok1 := fi.Sys().(*vfs.Attr)
	b, ok2 := li.Sys().(*vfs.Attr)
	return ok1 && ok2 && a.Dev == b.Dev && a.Ino == b.Ino
}
