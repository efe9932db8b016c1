package agentsys

import (
	"bytes"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuditLogIsAppendOnly: no agent, however broad its scope, can
// overwrite, truncate, delete or replace the audit log, directly, through
// a symlink or a hard link, or by a document or media file that leads to
// it; the log keeps every record, the denials included.
func TestAuditLogIsAppendOnly(t *testing.T) {
	m := newMachine(t)
	m.now = 7 * time.Second
	s := newService(t, m, Config{})
	const log = DefaultAuditLog
	sym := m.fs.(afero.Symlinker)
	require.Equal(t, OK, do(s, AgentSystem, OpFsStat, PathPayload("/tmp")).Err) // the log exists
	require.NoError(t, sym.SymlinkIfPossible(log, "/tmp/loglink"))
	require.NoError(t, sym.SymlinkIfPossible("/var/log", "/tmp/logdir"))
	require.NoError(t, m.vfs.LinkAt(nil, "/", log, "/", "/tmp/hard", false))
	before, err := afero.ReadFile(m.fs, log)
	require.NoError(t, err)

	denied := []struct {
		name string
		op   byte
		pl   []byte
	}{
		{"overwrite", OpFsWrite, WritePayload(log, 0, []byte("{}\n"))},
		{"append", OpFsWrite, WritePayload(log, uint64(len(before)), []byte("{\"forged\":1}\n"))},
		{"dotdot", OpFsWrite, WritePayload("/var/log/../log/./agentsys-audit.jsonl", 0, []byte("x"))},
		{"symlink", OpFsWrite, WritePayload("/tmp/loglink", 0, []byte("x"))},
		{"symlinked dir", OpFsWrite, WritePayload("/tmp/logdir/agentsys-audit.jsonl", 0, []byte("x"))},
		{"hard link", OpFsWrite, WritePayload("/tmp/hard", 0, []byte("x"))},
		{"delete", OpFsDelete, PathPayload(log)},
		{"delete via dir link", OpFsDelete, PathPayload("/tmp/logdir/agentsys-audit.jsonl")},
		{"create file", OpFsCreate, CreatePayload(log, false)},
		{"create dir", OpFsCreate, CreatePayload(log, true)},
	}
	n := 0
	for _, agent := range []uint16{AgentSystem, AgentAgentd, AgentTest} {
		for _, c := range denied {
			rep := do(s, agent, c.op, c.pl)
			n++
			assert.Equal(t, PermissionDenied, rep.Err, "agent %d %s: %s", agent, c.name, rep.Output)
			assert.Equal(t, []string{
				"[AgentSys] " + OpName(c.op) + " denied: " + ReasonAuditLog,
				"[AUDIT] agent=" + itoa(agent) + " op=0x" + hex2(c.op) + " result=DENY",
			}, lines(rep.Output), "agent %d %s", agent, c.name)
		}
	}

	// A document whose file a guest replaced by a link to the log.
	rep := do(s, AgentSystem, OpDocNew, NamePayload("d"))
	require.Equal(t, OK, rep.Err, rep.Output)
	require.NoError(t, m.fs.Remove("/tmp/docs/d"))
	require.NoError(t, sym.SymlinkIfPossible(log, "/tmp/docs/d"))
	rep = do(s, AgentSystem, OpDocSave, U32Payload(1))
	assert.Equal(t, PermissionDenied, rep.Err)
	assert.Equal(t, "[AgentSys] DOC_SAVE denied: "+ReasonAuditLog, lines(rep.Output)[0])
	// Media files the service names itself, linked to the log.
	require.NoError(t, m.fs.MkdirAll(MediaDir, 0o755))
	require.NoError(t, sym.SymlinkIfPossible(log, MediaDir+"/audio_track_5.wav"))
	require.NoError(t, sym.SymlinkIfPossible("/tmp/hard", MediaDir+"/screenshot_7000.png"))
	rep = do(s, AgentSystem, OpAudioPlay, U32Payload(5))
	assert.Equal(t, IoError, rep.Err)
	assert.Equal(t, "[Audio] Error: Operation not permitted", lines(rep.Output)[0])
	rep = do(s, AgentSystem, OpScreenshot, nil)
	assert.Equal(t, IoError, rep.Err)
	assert.Equal(t, "[Screenshot] Error: Operation not permitted", lines(rep.Output)[0])

	// Reading the log is allowed, and so is removing the other names.
	rep = do(s, AgentAgentd, OpFsRead, ReadPayload(log, 0, 16))
	assert.Equal(t, OK, rep.Err, rep.Output)
	assert.Equal(t, before[:16], rep.Data)
	for _, p := range []string{"/tmp/loglink", "/tmp/hard", "/tmp/logdir"} {
		rep = do(s, AgentSystem, OpFsDelete, PathPayload(p))
		assert.Equal(t, OK, rep.Err, "%s: %s", p, rep.Output)
	}

	// The log only grew, and holds every record: the denials with
	// agent, op, machine time and reason.
	after, err := afero.ReadFile(m.fs, log)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(after, before), "the log was rewritten")
	logs := readLog(t, m.fs, log)
	ring := s.Audit()
	require.Len(t, logs, len(ring))
	require.Equal(t, 1+n+1+1+2+1+3, len(logs))
	for i, l := range logs {
		r := ring[i]
		assert.Equal(t, uint64(i+1), l.Seq)
		assert.Equal(t, r.Agent, l.Agent)
		assert.Equal(t, fmtSprint("0x%02X", r.Op), l.Op)
		assert.Equal(t, int64(7e6), l.TimestampUs)
		assert.Equal(t, r.Allowed, l.Allowed)
		assert.Equal(t, r.Result, l.Result)
	}
	for i := 1; i <= n; i++ {
		assert.Equal(t, "PermissionDenied: "+ReasonAuditLog, logs[i].Result)
		assert.False(t, logs[i].Allowed)
	}
	assert.Equal(t, "PermissionDenied: "+ReasonAuditLog, logs[n+2].Result) // DOC_SAVE
	assert.Equal(t, "IoError: audio: Operation not permitted", logs[n+3].Result)
	st := s.Stats()
	assert.Zero(t, st.LogErrors)
	assert.Equal(t, uint64(len(logs)), st.LogWritten)
}
