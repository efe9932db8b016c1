package agentsys

import (
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolicyDenials(t *testing.T) {
	m := newMachine(t)
	agents := append(BuiltinAgents(), Agent{ID: 9, Name: "off", Enabled: false, Caps: CapAll})
	s := newService(t, m, Config{Agents: agents})
	require.NoError(t, m.fs.MkdirAll("/tmp/files", 0o755))
	require.NoError(t, m.fs.(afero.Symlinker).SymlinkIfPossible("/etc", "/tmp/files/etc"))
	require.NoError(t, m.fs.(afero.Symlinker).SymlinkIfPossible("../..", "/tmp/files/up"))
	before := snapshot(t, m.fs, "/var/log")

	cases := []struct {
		name   string
		agent  uint16
		op     byte
		pl     []byte
		reason string
		err    CtrlError
	}{
		{"unregistered", 77, OpFsStat, PathPayload("/tmp"), ReasonNotRegistered, PermissionDenied},
		{"disabled", 9, OpFsStat, PathPayload("/tmp"), ReasonDisabled, PermissionDenied},
		{"no capability", AgentMusic, OpFsWrite, WritePayload("/tmp/x", 0, []byte("x")), ReasonNoCapability, PermissionDenied},
		{"no screenshot cap", AgentAgentd, OpScreenshot, nil, ReasonNoCapability, PermissionDenied},
		{"no capture cap", AgentFiles, OpRecord, nil, ReasonNoCapability, PermissionDenied},
		{"outside scope", AgentFiles, OpFsWrite, WritePayload("/etc/passwd", 0, []byte("x")), ReasonOutsideScope, PermissionDenied},
		{"dotdot escape", AgentFiles, OpFsWrite, WritePayload("/tmp/files/../../etc/passwd", 0, []byte("x")), ReasonOutsideScope, PermissionDenied},
		{"dotdot list", AgentFiles, OpFsList, PathPayload("/tmp/files/../../etc"), ReasonOutsideScope, PermissionDenied},
		{"prefix is not a dir", AgentFiles, OpFsCreate, PathPayload("/tmp/filesX"), ReasonOutsideScope, PermissionDenied},
		{"symlink escape", AgentFiles, OpFsWrite, WritePayload("/tmp/files/etc/passwd", 0, []byte("x")), ReasonOutsideScope, PermissionDenied},
		{"relative symlink escape", AgentFiles, OpFsDelete, PathPayload("/tmp/files/up/etc/hostname"), ReasonOutsideScope, PermissionDenied},
		{"doc outside docs scope", AgentDocs, OpFsRead, PathPayload("/etc/passwd"), ReasonOutsideScope, PermissionDenied},
		{"size over limit", AgentFiles, OpFsWrite, WritePayload("/tmp/files/big", 1<<20, []byte("x")), ReasonTooLarge, PermissionDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := do(s, c.agent, c.op, c.pl)
			assert.Equal(t, c.err, rep.Err)
			assert.Equal(t, []string{
				"[AgentSys] " + OpName(c.op) + " denied: " + c.reason,
				"[AUDIT] agent=" + itoa(c.agent) + " op=0x" + hex2(c.op) + " result=DENY",
			}, lines(rep.Output))
			recs := s.Audit()
			last := recs[len(recs)-1]
			assert.Equal(t, c.agent, last.Agent)
			assert.Equal(t, c.op, last.Op)
			assert.False(t, last.Allowed)
			assert.Equal(t, c.err.String()+": "+c.reason, last.Result)
		})
	}
	assert.Empty(t, diff(before, snapshot(t, m.fs, "/var/log")), "denied operations changed files")

	// Inside the scope the same agent works, up to the size limit; the
	// link itself may be stat'ed (it lies in the scope).
	rep := do(s, AgentFiles, OpFsWrite, WritePayload("/tmp/files/big", 1<<20-1, []byte("x")))
	assert.Equal(t, OK, rep.Err, rep.Output)
	rep = do(s, AgentFiles, OpFsStat, PathPayload("/tmp/files/etc"))
	assert.Equal(t, OK, rep.Err, rep.Output)
	assert.Contains(t, rep.Output, "type=symlink")
	rep = do(s, AgentFiles, OpFsList, PathPayload("/tmp/files"))
	assert.Equal(t, OK, rep.Err, rep.Output)
	assert.Contains(t, rep.Output, "[FS] Entries: big, etc, up\n")
	rep = do(s, AgentFiles, OpFsStat, PathPayload("/tmp/files/"))
	assert.Equal(t, OK, rep.Err, rep.Output)
}

func itoa(v uint16) string { return fmtSprint("%d", v) }
func hex2(v byte) string   { return fmtSprint("%02X", v) }

func TestRateLimit(t *testing.T) {
	m := newMachine(t)
	m.now = 10 * time.Second
	s := newService(t, m, Config{Agents: []Agent{
		{ID: 1, Name: "slow", Enabled: true, Caps: CapAudioControl, MaxOpsPerSec: 50},
		{ID: 2, Name: "free", Enabled: true, Caps: CapAudioControl},
	}})
	// A burst of 50 at one instant passes, the 51st waits 20 ms.
	for i := range 50 {
		rep := do(s, 1, OpAudioVolume, VolumePayload(50))
		require.Equal(t, OK, rep.Err, "op %d: %s", i, rep.Output)
	}
	rep := do(s, 1, OpAudioVolume, VolumePayload(50))
	assert.Equal(t, ResourceLimit, rep.Err)
	assert.Equal(t, 20*time.Millisecond, rep.RetryAfter)
	assert.Equal(t, []string{
		"[AgentSys] AUDIO_VOLUME denied: Rate limit exceeded (retry after 20 ms)",
		"[AUDIT] agent=1 op=0x38 result=DENY",
	}, lines(rep.Output))
	last := s.Audit()[len(s.Audit())-1]
	assert.Equal(t, "ResourceLimit: "+ReasonRateLimit, last.Result)
	// Another agent is not affected.
	assert.Equal(t, OK, do(s, 2, OpAudioVolume, VolumePayload(1)).Err)
	// Machine time refills the bucket: 15 ms is not enough, 20 ms is.
	m.now += 15 * time.Millisecond
	rep = do(s, 1, OpAudioVolume, VolumePayload(50))
	assert.Equal(t, ResourceLimit, rep.Err)
	assert.Equal(t, 5*time.Millisecond, rep.RetryAfter)
	m.now += 5 * time.Millisecond
	assert.Equal(t, OK, do(s, 1, OpAudioVolume, VolumePayload(50)).Err)
	assert.Equal(t, ResourceLimit, do(s, 1, OpAudioVolume, VolumePayload(50)).Err)
	// After a full second the whole burst is back.
	m.now += time.Second
	for range 50 {
		require.Equal(t, OK, do(s, 1, OpAudioVolume, VolumePayload(50)).Err)
	}
	assert.Equal(t, ResourceLimit, do(s, 1, OpAudioVolume, VolumePayload(50)).Err)
	// The wire reply carries the retry-after.
	r, err := DecodeReply(rep.Encode())
	require.NoError(t, err)
	assert.Equal(t, 5*time.Millisecond, r.RetryAfter)
}

func TestPolicyOrder(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{Agents: []Agent{
		{ID: 1, Name: "off", Enabled: false, Caps: 0, Scope: "/tmp/files/", MaxFileSize: 1},
		{ID: 2, Name: "nocap", Enabled: true, Caps: CapAudioControl, Scope: "/tmp/files/"},
		{ID: 3, Name: "scoped", Enabled: true, Caps: CapFsBasic, Scope: "/tmp/files/", MaxFileSize: 1, MaxOpsPerSec: 1},
	}})
	w := WritePayload("/etc/x", 0, []byte("too big"))
	assert.Contains(t, do(s, 1, OpFsWrite, w).Output, ReasonDisabled)
	assert.Contains(t, do(s, 2, OpFsWrite, w).Output, ReasonNoCapability)
	assert.Contains(t, do(s, 3, OpFsWrite, w).Output, ReasonOutsideScope)
	assert.Contains(t, do(s, 3, OpFsWrite, WritePayload("/tmp/files/x", 0, []byte("too big"))).Output, ReasonTooLarge)
	// Denied requests take no rate tokens: the one allowed op still passes.
	require.NoError(t, m.fs.MkdirAll("/tmp/files", 0o755))
	assert.Equal(t, OK, do(s, 3, OpFsStat, PathPayload("/tmp/files")).Err)
	assert.Contains(t, do(s, 3, OpFsStat, PathPayload("/tmp/files")).Output, ReasonRateLimit)
	// A bad token fails authentication before the policy.
	rep := s.Handle(EncodeFrame(OpFsStat, 0, Token(3)+1, PathPayload("/tmp/files")))
	assert.Equal(t, AuthFailed, rep.Err)
	assert.Contains(t, rep.Output, "[AgentSys] FS_STAT denied: "+ReasonAuth)
}

func TestInScope(t *testing.T) {
	assert.True(t, inScope("", "/etc"))
	assert.True(t, inScope("/", "/etc"))
	assert.True(t, inScope("/tmp/files/", "/tmp/files"))
	assert.True(t, inScope("/tmp/files/", "/tmp/files/a/b"))
	assert.True(t, inScope("/tmp/files", "/tmp/files/a"))
	assert.False(t, inScope("/tmp/files/", "/tmp/filesX"))
	assert.False(t, inScope("/tmp/files/", "/tmp"))
}
