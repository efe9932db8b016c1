package agentsys

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func readLog(t *testing.T, fs afero.Fs, name string) []logLine {
	b, err := afero.ReadFile(fs, name)
	require.NoError(t, err)
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l logLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		out = append(out, l)
	}
	return out
}

func TestAuditRingAndLogSurviveWrap(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	var seen []Record
	s.Observe(func(r Record) {
		seen = append(seen, r)
		_ = s.Audit() // callbacks may call back into the service
	})
	const n = 2500
	for i := range n {
		m.now = time.Duration(i) * time.Millisecond
		if i%3 == 0 {
			do(s, AgentMusic, OpFsStat, PathPayload("/tmp")) // denied
		} else {
			do(s, AgentSystem, OpFsStat, PathPayload("/tmp"))
		}
	}
	s.Handle([]byte{1, 2, 3}) // rejected frames are not operations
	ring := s.Audit()
	require.Len(t, ring, DefaultRingSize)
	for i, r := range ring {
		seq := uint64(n - DefaultRingSize + i + 1)
		assert.Equal(t, seq, r.Seq)
		assert.Equal(t, time.Duration(seq-1)*time.Millisecond, r.Time)
		assert.Equal(t, (seq-1)%3 != 0, r.Allowed)
	}
	require.Len(t, seen, n)
	assert.Equal(t, ring[len(ring)-1], seen[n-1])

	logs := readLog(t, m.fs, DefaultAuditLog)
	require.Len(t, logs, n, "the log keeps what the ring dropped")
	for i, l := range logs {
		allowed := i%3 != 0
		agent := AgentSystem
		result := "OK"
		if !allowed {
			agent = AgentMusic
			result = "PermissionDenied: " + ReasonNoCapability
		}
		require.Equal(t, logLine{Seq: uint64(i + 1), Agent: agent, Op: "0x33", Name: "FS_STAT",
			TimestampUs: int64(i) * 1000, Allowed: allowed, Result: result,
			Time: time.Date(2025, 1, 1, 0, 0, 0, i*1e6, time.UTC).Format(time.RFC3339Nano)}, l)
	}
	st := s.Stats()
	assert.Equal(t, uint64(n), st.Operations)
	assert.Equal(t, uint64((n+2)/3), st.Denied)
	assert.Equal(t, uint64(1), st.RejectedFrames)
	assert.Equal(t, uint64(n), st.LogWritten)

	var b strings.Builder
	require.NoError(t, s.Command(&b, []string{"audit", "2"}))
	assert.Equal(t, fmt.Sprintf("[AgentSys] Recent audit records:\n"+
		"  agent=0 op=0x33 ts=%d allowed=true\n  agent=4 op=0x33 ts=%d allowed=false\n",
		(n-2)*1000, (n-1)*1000), b.String())
}

func TestAuditLogFailureKeepsTheRing(t *testing.T) {
	m := newMachine(t)
	// The log's directory is a file: every append fails.
	require.NoError(t, afero.WriteFile(m.fs, "/var/log/blocked", nil, 0o644))
	s := newService(t, m, Config{AuditLog: "/var/log/blocked/audit.jsonl"})
	for range 3 {
		rep := do(s, AgentSystem, OpFsStat, PathPayload("/tmp"))
		assert.Equal(t, OK, rep.Err, "a log failure does not fail the operation")
	}
	assert.Len(t, s.Audit(), 3)
	st := s.Stats()
	assert.Equal(t, uint64(3), st.LogErrors)
	assert.Equal(t, uint64(0), st.LogWritten)
	assert.Contains(t, statusOf(t, s),
		"  Audit log: /var/log/blocked/audit.jsonl (0 records written, 3 write errors; last: Not a directory)\n")

	// The log's directory cannot be removed; a log file that was (it is
	// not append-only here) is made again.
	s2 := newService(t, m, Config{AuditLog: "/var/audit2/a.jsonl"})
	require.ErrorIs(t, m.fs.RemoveAll("/var/audit2"), linux.EBUSY)
	_, err := m.fs.Stat("/var/audit2/a.jsonl")
	require.ErrorIs(t, err, fs.ErrNotExist)
	do(s2, AgentSystem, OpFsStat, PathPayload("/tmp"))
	assert.Len(t, readLog(t, m.fs, "/var/audit2/a.jsonl"), 1)
}

func TestRingSizeConfigurable(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{RingSize: 2000})
	for range 2100 {
		do(s, AgentSystem, OpAudioStop, nil)
	}
	r := s.Audit()
	require.Len(t, r, 2000)
	assert.Equal(t, uint64(101), r[0].Seq)
}
