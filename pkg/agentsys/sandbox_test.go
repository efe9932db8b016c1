package agentsys

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// TestScopeLongSymlinkChain: a chain of more than 40 symlinks inside a
// scope that ends outside it is refused with ELOOP (the VFS would not
// follow it either); nothing outside is read or written.
func TestScopeLongSymlinkChain(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	require.NoError(t, afero.WriteFile(m.fs, "/etc/outside_secret", []byte("secret"), 0o600))
	require.NoError(t, m.fs.MkdirAll("/tmp/files", 0o755))
	sym := m.fs.(afero.Symlinker)
	const n = 50
	for i := 0; i < n-1; i++ {
		require.NoError(t, sym.SymlinkIfPossible(fmt.Sprintf("l%d", i+1), fmt.Sprintf("/tmp/files/l%d", i)))
		require.NoError(t, sym.SymlinkIfPossible(fmt.Sprintf("d%d", i+1), fmt.Sprintf("/tmp/files/d%d", i)))
	}
	require.NoError(t, sym.SymlinkIfPossible("/etc/outside_secret", fmt.Sprintf("/tmp/files/l%d", n-1)))
	require.NoError(t, sym.SymlinkIfPossible("/etc", fmt.Sprintf("/tmp/files/d%d", n-1)))
	// A short chain inside the scope still works.
	require.NoError(t, afero.WriteFile(m.fs, "/tmp/files/real", []byte("inside"), 0o644))
	require.NoError(t, sym.SymlinkIfPossible("real", "/tmp/files/s1"))
	require.NoError(t, sym.SymlinkIfPossible("s1", "/tmp/files/s2"))
	rep := do(s, AgentFiles, OpFsRead, PathPayload("/tmp/files/s2"))
	require.Equal(t, OK, rep.Err, rep.Output)
	require.Equal(t, "inside", string(rep.Data))

	before := snapshot(t, m.fs, "/var/log")
	for _, c := range []struct {
		op byte
		pl []byte
	}{
		{OpFsRead, PathPayload("/tmp/files/l0")},
		{OpFsWrite, WritePayload("/tmp/files/l0", 0, []byte("pwned"))},
		{OpFsRead, PathPayload("/tmp/files/d0/outside_secret")},
		{OpFsWrite, WritePayload("/tmp/files/d0/outside_secret", 0, []byte("pwned"))},
		{OpFsCreate, PathPayload("/tmp/files/d0/new")},
		{OpFsList, PathPayload("/tmp/files/d0")},
		{OpFsDelete, PathPayload("/tmp/files/d0/outside_secret")},
		{OpFsStat, PathPayload("/tmp/files/d0/outside_secret")},
	} {
		rep := do(s, AgentFiles, c.op, c.pl)
		assert.Equal(t, IoError, rep.Err, rep.Output)
		assert.Equal(t, []string{
			"[AgentSys] " + OpName(c.op) + " denied: Too many levels of symbolic links",
			"[AUDIT] agent=2 op=0x" + hex2(c.op) + " result=DENY",
		}, lines(rep.Output))
		assert.Empty(t, rep.Data)
	}
	require.Empty(t, diff(before, snapshot(t, m.fs, "/var/log")))
	b, err := afero.ReadFile(m.fs, "/etc/outside_secret")
	require.NoError(t, err)
	require.Equal(t, "secret", string(b))
	last := s.Audit()[len(s.Audit())-1]
	assert.Equal(t, "IoError: Too many levels of symbolic links", last.Result)
	assert.False(t, last.Allowed)
}

// TestScopeHardLink pins down what docs/agentsys.md says: a scope is a
// set of names, and a hard link in the scope is a name in it, whatever
// other names the file has. Agents cannot make hard links; whoever put
// one there could already reach the file.
func TestScopeHardLink(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	require.NoError(t, afero.WriteFile(m.fs, "/etc/outside", []byte("outside"), 0o644))
	require.NoError(t, m.fs.MkdirAll("/tmp/files", 0o755))
	require.NoError(t, m.vfs.LinkAt(nil, "/", "/etc/outside", "/", "/tmp/files/hl", false))
	rep := do(s, AgentFiles, OpFsRead, PathPayload("/tmp/files/hl"))
	require.Equal(t, OK, rep.Err, rep.Output)
	require.Equal(t, "outside", string(rep.Data))
	rep = do(s, AgentFiles, OpFsDelete, PathPayload("/tmp/files/hl"))
	require.Equal(t, OK, rep.Err, rep.Output)
	b, err := afero.ReadFile(m.fs, "/etc/outside")
	require.NoError(t, err)
	require.Equal(t, "outside", string(b), "deleting the link leaves the file")
	rep = do(s, AgentFiles, OpFsRead, PathPayload("/etc/outside"))
	require.Equal(t, PermissionDenied, rep.Err)
}

// deny sends a frame the policy refuses (music_agent has no FsBasic).
func deny(s *Service) Reply { return do(s, AgentMusic, OpFsStat, PathPayload("/tmp")) }

// logSeqs returns the seq of every line of the log file name (none when
// it does not exist), checking that each line is a whole record.
func logSeqs(t *testing.T, fsys afero.Fs, name string) []uint64 {
	t.Helper()
	b, err := afero.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []uint64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l logLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "%s: %q", name, sc.Text())
		out = append(out, l.Seq)
	}
	return out
}

// TestAuditLogCannotBeRedirected: once the service runs, its log's
// directory and those above it cannot be mounted over, renamed or
// removed (EBUSY); where that protection is missing (a file system
// without it), the records still go to the log the service opened.
func TestAuditLogCannotBeRedirected(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	deny(s)
	for _, p := range []string{"/var/log", "/var", "/"} {
		require.ErrorIs(t, m.vfs.Mount(p, "tmpfs", "tmpfs", vfs.NewTmpfs(m.vfs.Now, 0o777, m.vfs.RAM(), 0), false), linux.EBUSY, p)
	}
	require.NoError(t, m.fs.MkdirAll("/tmp/empty", 0o755))
	require.ErrorIs(t, m.vfs.Rename("/var/log", "/tmp/oldlog"), linux.EBUSY)
	require.ErrorIs(t, m.vfs.Rename("/var", "/tmp/oldvar"), linux.EBUSY)
	require.ErrorIs(t, m.vfs.Rename("/tmp/empty", "/var/log"), linux.EBUSY)
	deny(s)
	require.Equal(t, []uint64{1, 2}, logSeqs(t, m.fs, DefaultAuditLog))

	// Without the protection (a file system that only has the afero
	// methods), a mount over the directory or a rename of it hides the
	// log from view, but the records keep going to it.
	m2 := newMachine(t)
	env := m2.env()
	env.FS = struct{ afero.Fs }{m2.fs}
	s2, err := New(Config{}, env)
	require.NoError(t, err)
	deny(s2)
	require.NoError(t, m2.vfs.Mount("/var/log", "tmpfs", "tmpfs", vfs.NewTmpfs(m2.vfs.Now, 0o777, m2.vfs.RAM(), 0), false))
	deny(s2)
	require.Nil(t, logSeqs(t, m2.fs, DefaultAuditLog), "nothing in the mounted tmpfs")
	require.NoError(t, m2.vfs.Unmount("/var/log"))
	require.NoError(t, m2.vfs.Rename("/var/log", "/var/oldlog"))
	deny(s2)
	require.Equal(t, []uint64{1, 2, 3}, logSeqs(t, m2.fs, "/var/oldlog/agentsys-audit.jsonl"))
	assert.Zero(t, s2.Stats().LogErrors)
}

// TestAuditLogRotates: a flood of denied frames keeps the log within
// twice MaxLogBytes in two files (the current one and .1), both
// append-only, with consecutive whole records; the heap stays small.
func TestAuditLogRotates(t *testing.T) {
	m := newMachine(t)
	require.NoError(t, afero.WriteFile(m.fs, DefaultAuditLog, nil, 0o644))
	require.NoError(t, m.vfs.SetAppendOnly(DefaultAuditLog))
	s := newService(t, m, Config{MaxLogBytes: 64 << 10})
	const frames = 300_000
	for range frames {
		deny(s)
	}
	st := s.Stats()
	require.Zero(t, st.LogErrors, st.LogLastError)
	require.Equal(t, uint64(frames), st.LogWritten)
	old, cur := logSeqs(t, m.fs, DefaultAuditLog+".1"), logSeqs(t, m.fs, DefaultAuditLog)
	require.NotEmpty(t, old)
	all := append(old, cur...)
	for i, seq := range all {
		require.Equal(t, uint64(frames-len(all)+i+1), seq)
	}
	for _, p := range []string{DefaultAuditLog, DefaultAuditLog + ".1"} {
		fi, err := m.fs.Stat(p)
		require.NoError(t, err)
		require.LessOrEqual(t, fi.Size(), int64(64<<10))
		require.NotZero(t, fi.Sys().(*vfs.Attr).Flags&linux.FS_APPEND_FL, p)
	}
	// Agents cannot touch the rotated records either.
	rep := do(s, AgentSystem, OpFsDelete, PathPayload(DefaultAuditLog+".1"))
	require.Equal(t, PermissionDenied, rep.Err)

	// With the default size, the heap after a flood stays far below the
	// hundreds of MB an unbounded log took.
	m2 := newMachine(t)
	s2 := newService(t, m2, Config{})
	for range frames {
		deny(s2)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	require.Less(t, ms.HeapAlloc, uint64(32<<20), "heap after %d denied frames", frames)
}
