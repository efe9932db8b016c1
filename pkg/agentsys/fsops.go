package agentsys

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"strings"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// execute runs an allowed operation; target is the path to act on (the
// request's path with symlinks resolved for scoped agents).
func (s *Service) execute(q *request, a args, target string) outcome {
	switch q.op {
	case OpFsList:
		return s.fsList(q, target)
	case OpFsRead:
		return s.fsRead(q, a, target)
	case OpFsWrite:
		return s.fsWrite(q, a, target)
	case OpFsStat:
		return s.fsStat(q, a.path, target)
	case OpFsCreate:
		return s.fsCreate(q, a, target)
	case OpFsDelete:
		if err := s.env.FS.Remove(target); err != nil {
			return fsErr(q, err)
		}
		q.printf("[FS] Deleted: %s", a.path)
		return outcome{}
	case OpAudioPlay:
		return s.audioPlay(q, a.u32)
	case OpAudioStop:
		return s.audioStop(q)
	case OpAudioVolume:
		return s.audioVolume(q, a.u8)
	case OpDocNew:
		return s.docNew(q, a.name, target)
	case OpDocEdit:
		return s.docEdit(q, a.u32, a.u16)
	case OpDocSave:
		return s.docSave(q, a.u32, target)
	case OpScreenshot:
		return s.screenshot(q)
	case OpRecord:
		return s.startRecording(q, a.u32)
	}
	return outcome{err: Unsupported}
}

// errText is the strerror text of err.
func errText(err error) string { return linux.ErrnoFromError(err).Error() }

func fsErr(q *request, err error) outcome {
	t := errText(err)
	q.printf("[FS] Error: %s", t)
	return outcome{err: IoError, detail: t}
}

func (s *Service) fsList(q *request, target string) outcome {
	fi, err := s.env.FS.Stat(target)
	if err == nil && !fi.IsDir() {
		err = linux.ENOTDIR
	}
	var ents []fs.FileInfo
	if err == nil {
		ents, err = afero.ReadDir(s.env.FS, target)
	}
	if err != nil {
		return fsErr(q, err)
	}
	q.printf("%s", entriesLine(ents))
	return outcome{}
}

// entriesLine is FS_LIST's line for a directory's entries (sorted by
// afero.ReadDir): "[FS] Entries: a, b/" with directories ending in '/',
// or "[FS] Entries: (empty)".
func entriesLine(ents []fs.FileInfo) string {
	if len(ents) == 0 {
		return "[FS] Entries: (empty)"
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
		if e.IsDir() {
			names[i] += "/"
		}
	}
	return "[FS] Entries: " + strings.Join(names, ", ")
}

// preview renders the first 64 bytes with non-printable bytes as '.'.
func preview(b []byte) string {
	b = b[:min(len(b), 64)]
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

func (s *Service) fsRead(q *request, a args, target string) outcome {
	if a.off > math.MaxInt64 {
		return fsErr(q, linux.EINVAL)
	}
	f, err := s.env.FS.Open(target)
	if err != nil {
		return fsErr(q, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return fsErr(q, err)
	} else if fi.IsDir() {
		return fsErr(q, linux.EISDIR)
	}
	// A read returns at most MaxFrame bytes, the largest frame the
	// service takes.
	buf := make([]byte, min(int(a.n), s.cfg.MaxFrame))
	n, err := f.ReadAt(buf, int64(a.off))
	if err != nil && !errors.Is(err, io.EOF) {
		return fsErr(q, err)
	}
	q.data = buf[:n]
	q.printf("[FS] Read %d bytes", n)
	q.printf("[FS] Preview: %s", preview(q.data))
	return outcome{}
}

func (s *Service) fsWrite(q *request, a args, target string) outcome {
	end := a.off + uint64(len(a.data))
	if end < a.off || end > uint64(s.cfg.MaxWriteEnd) {
		return fsErr(q, linux.EFBIG)
	}
	f, err := s.env.FS.OpenFile(target, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fsErr(q, err)
	}
	n, err := f.WriteAt(a.data, int64(a.off))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fsErr(q, err)
	}
	q.printf("[FS] Wrote %d bytes to %s", n, a.path)
	return outcome{}
}

// fileType names the type of a file as FS_STAT prints it.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeCharDevice != 0:
		return "char"
	case m&fs.ModeDevice != 0:
		return "block"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "file"
}

// permBits returns the permission bits with setuid, setgid and sticky,
// as in st_mode & 07777.
func permBits(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

func (s *Service) fsStat(q *request, shown, target string) outcome {
	var fi fs.FileInfo
	var err error
	if ls, ok := s.env.FS.(afero.Lstater); ok {
		fi, _, err = ls.LstatIfPossible(target)
	} else {
		fi, err = s.env.FS.Stat(target)
	}
	if err != nil {
		return fsErr(q, err)
	}
	q.printf("[FS] Stat: %s - size=%d mode=%04o type=%s", shown, fi.Size(), permBits(fi.Mode()), fileType(fi.Mode()))
	return outcome{}
}

func (s *Service) fsCreate(q *request, a args, target string) outcome {
	kind := "file"
	if a.kind == 1 {
		kind = "dir"
		if err := s.env.FS.Mkdir(target, 0o755); err != nil {
			return fsErr(q, err)
		}
	} else {
		f, err := s.env.FS.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fsErr(q, err)
		}
		if err := f.Close(); err != nil {
			return fsErr(q, err)
		}
	}
	q.printf("[FS] Created: %s (%s)", a.path, kind)
	return outcome{}
}

// writeFile writes a whole file, making its directory. It refuses
// (EPERM) a name that leads to the audit log, say through a symlink a
// guest left where a media file or document goes.
func (s *Service) writeFile(name string, b []byte) error {
	if s.isAuditLog(name, true) {
		return linux.EPERM
	}
	if err := s.env.FS.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	return afero.WriteFile(s.env.FS, name, b, 0o644)
}

// mediaErr prints the "[<Tag>] Error: <text>" line for a failed media write.
func mediaErr(q *request, tag string, err error) outcome {
	t := errText(err)
	q.printf("[%s] Error: %s", tag, t)
	return outcome{err: IoError, detail: fmt.Sprintf("%s: %s", strings.ToLower(tag), t)}
}
