package agentsys

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func run(t *testing.T, s *Service, args ...string) string {
	var b strings.Builder
	require.NoError(t, s.Command(&b, args))
	return b.String()
}

// runFailing runs a command that must fail and returns what it printed.
func runFailing(t *testing.T, s *Service, args ...string) string {
	var b strings.Builder
	require.ErrorContains(t, s.Command(&b, args), "test failed", "a failed self-test fails the command")
	return b.String()
}

func TestCommandStatusListPolicy(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	do(s, AgentSystem, OpFsStat, PathPayload("/tmp"))
	do(s, AgentMusic, OpFsStat, PathPayload("/tmp"))
	assert.Equal(t, `[AgentSys] Status:
  Registered agents: 7
    - system (ID=0, enabled=yes)
    - agentd (ID=1, enabled=yes)
    - files_agent (ID=2, enabled=yes)
    - docs_agent (ID=3, enabled=yes)
    - music_agent (ID=4, enabled=yes)
    - assistant (ID=5, enabled=yes)
    - test_agent (ID=65535, enabled=yes)
  Total operations: 2
  Denied operations: 1
  Rejected frames: 0
  Audit ring: 2/1024 records
  Audit log: /var/log/agentsys-audit.jsonl (2 records written, 0 write errors)
  Audio: stopped (volume 80)
  Documents open: 0
  Recordings: 0 running, 0 written, 0 failed
`, run(t, s, "status"))
	list := run(t, s, "list")
	assert.True(t, strings.HasPrefix(list, "[AgentSys] Registered agents:\n"))
	assert.Contains(t, list, "  2     files_agent  enabled=yes caps=FsBasic\n")
	pol := run(t, s, "policy")
	assert.Contains(t, pol, "  files_agent (ID=2): enabled=yes caps=FsBasic scope=/tmp/files/ max_file_size=1048576 bytes max_ops_per_sec=100\n")
	assert.Contains(t, pol, "  system (ID=0): enabled=yes caps=FsBasic,AudioControl,DocBasic,Screenshot,Capture,Admin scope=unrestricted max_file_size=unlimited max_ops_per_sec=unlimited\n")
	assert.Contains(t, pol, "test_agent (ID=65535): enabled=yes caps=FsBasic,AudioControl,DocBasic,Screenshot,Capture scope")
	help := run(t, s, "help")
	assert.Equal(t, help, run(t, s), "agentsys alone prints the help")
	assert.True(t, strings.HasPrefix(help, "usage: agentsys <subcommand> [args...]\n"), help)
	for name := range selfTests {
		assert.Contains(t, help, "  agentsys "+name+" ", "help lists every self-test")
	}
	assert.Len(t, selfTestHelp, len(selfTests))
	err := s.Command(&strings.Builder{}, []string{"bogus"})
	assert.ErrorIs(t, err, shellcmd.ErrUsage)
	assert.ErrorContains(t, err, "Unknown agentsys subcommand. Use 'agentsys help' for usage.")
	for _, bad := range [][]string{{"audit", "x"}, {"audit", "0"}, {"audit", "1", "2"}, {"test-fs-list", "x"}} {
		assert.ErrorIs(t, s.Command(&strings.Builder{}, bad), shellcmd.ErrUsage, "%v", bad)
	}
}

func TestCommandSelfTests(t *testing.T) {
	m := newMachine(t)
	m.now = 3 * time.Second
	s := newService(t, m, Config{})
	for _, c := range []struct{ cmd, first string }{
		{"test-fs-list", "[AgentSys] Testing FS_LIST on /tmp/"},
		{"test-fs-read", "[AgentSys] Testing FS_READ on /tmp/agentsys/test.txt"},
		{"test-fs-write", "[AgentSys] Testing FS_WRITE on /tmp/agentsys/test.txt"},
		{"test-fs-read", "[AgentSys] Testing FS_READ on /tmp/agentsys/test.txt"},
		{"test-fs-stat", "[AgentSys] Testing FS_STAT on /tmp/agentsys"},
		{"test-fs-create", "[AgentSys] Testing FS_CREATE on /tmp/agentsys/test_created.txt"},
		{"test-fs-create", "[AgentSys] Testing FS_CREATE on /tmp/agentsys/test_created.txt"},
		{"test-fs-delete", "[AgentSys] Testing FS_DELETE on /tmp/agentsys/test_delete.txt"},
		{"test-audio-play", "[AgentSys] Testing AUDIO_PLAY track=42"},
		{"test-audio-stop", "[AgentSys] Testing AUDIO_STOP"},
		{"test-audio-volume", "[AgentSys] Testing AUDIO_VOLUME level=50"},
		{"test-doc-new", "[AgentSys] Testing DOC_NEW on /tmp/docs/test_doc.md"},
		{"test-doc-edit", "[AgentSys] Testing DOC_EDIT on /tmp/docs/test_doc.md"},
		{"test-doc-save", "[AgentSys] Testing DOC_SAVE on /tmp/docs/test_doc.md"},
		{"test-screenshot", "[AgentSys] Testing SCREENSHOT"},
		{"test-record", "[AgentSys] Testing RECORD duration=1000ms"},
	} {
		out := lines(run(t, s, c.cmd))
		assert.Equal(t, c.first, out[0], c.cmd)
		assert.Equal(t, "[AgentSys] Test PASSED", out[len(out)-1], "%s: %v", c.cmd, out)
		require.GreaterOrEqual(t, len(out), 3)
		assert.Regexp(t, `^\[AUDIT\] agent=65535 op=0x3[0-9A-D] result=ALLOW$`, out[len(out)-2])
	}
	out := run(t, s, "test-fs-list")
	assert.Contains(t, out, "[FS] Entries: agentsys/, docs/\n")
	// Every test went through the dispatcher as test_agent.
	for _, r := range s.Audit() {
		assert.Equal(t, AgentTest, r.Agent)
		assert.True(t, r.Allowed)
	}
	assert.Len(t, s.Audit(), 17)
	assert.Equal(t, uint8(50), s.Audio().Volume)
	b, err := afero.ReadFile(m.fs, "/tmp/docs/test_doc.md")
	require.NoError(t, err)
	assert.Equal(t, "# test_doc.md\nedit 1: agent 65535 at 3000 ms\nedit 2: agent 65535 at 3000 ms\n", string(b))
	// The recording the test started finishes with machine time.
	m.now += time.Second
	s.Tick(m.now)
	_, err = m.fs.Stat("/tmp/agentsys/recording_3000_1000.gif")
	assert.NoError(t, err)
}

// TestCommandSelfTestsSetUpState: the audio and document self-tests make
// what they need with real frames first, and print exact lines.
func TestCommandSelfTestsSetUpState(t *testing.T) {
	m := newMachine(t)
	m.now = 2 * time.Second
	s := newService(t, m, Config{})
	assert.Equal(t, "[AgentSys] Testing AUDIO_STOP\n"+
		"[Audio] Stopped track 42\n"+
		"[AUDIT] agent=65535 op=0x37 result=ALLOW\n"+
		"[AgentSys] Test PASSED\n", run(t, s, "test-audio-stop"))
	assert.False(t, s.Audio().Playing)
	assert.Equal(t, "[AgentSys] Testing DOC_SAVE on /tmp/docs/test_doc.md\n"+
		"[Doc] Saved: /tmp/docs/test_doc.md (14 bytes)\n"+
		"[AUDIT] agent=65535 op=0x3B result=ALLOW\n"+
		"[AgentSys] Test PASSED\n", run(t, s, "test-doc-save"))
	m.now += 5 * time.Millisecond
	assert.Equal(t, "[AgentSys] Testing DOC_EDIT on /tmp/docs/test_doc.md\n"+
		"[Doc] Edited: ref=1 (2 ops, 76 bytes unsaved)\n"+
		"[AUDIT] agent=65535 op=0x3A result=ALLOW\n"+
		"[AgentSys] Test PASSED\n", run(t, s, "test-doc-edit"))
	// test-doc-new makes the file anew: a new document.
	assert.Equal(t, "[AgentSys] Testing DOC_NEW on /tmp/docs/test_doc.md\n"+
		"[Doc] Created: /tmp/docs/test_doc.md (ref=2)\n"+
		"[AUDIT] agent=65535 op=0x39 result=ALLOW\n"+
		"[AgentSys] Test PASSED\n", run(t, s, "test-doc-new"))
	var ops []byte
	for _, r := range s.Audit() {
		ops = append(ops, r.Op)
		assert.Equal(t, AgentTest, r.Agent)
	}
	assert.Equal(t, []byte{OpAudioPlay, OpAudioStop, OpDocNew, OpDocSave, OpDocEdit, OpDocNew}, ops)
	// A self-test whose check fails says why.
	require.NoError(t, m.fs.Remove("/tmp/docs/test_doc.md"))
	require.NoError(t, m.fs.Mkdir("/tmp/docs/test_doc.md", 0o755))
	out := lines(runFailing(t, s, "test-doc-save"))
	assert.Equal(t, "[Doc] Error: Is a directory", out[1])
	assert.Equal(t, "[AgentSys] Test FAILED: IoError", out[3])
}

func TestCommandSelfTestsFail(t *testing.T) {
	m := newMachine(t)
	env := m.env()
	env.Screen = func() image.Image { return nil }
	s, err := New(Config{}, env)
	require.NoError(t, err)
	out := lines(runFailing(t, s, "test-screenshot"))
	assert.Equal(t, []string{"[AgentSys] Testing SCREENSHOT", "[Screenshot] Error: No such device",
		"[AUDIT] agent=65535 op=0x3C result=ALLOW", "[AgentSys] Test FAILED: IoError"}, out)
	// Without test_agent the tests are denied and fail.
	s2 := newService(t, m, Config{Agents: []Agent{{ID: 0, Name: "system", Enabled: true, Caps: CapAll}}, AuditLog: "/var/log/b.jsonl"})
	out = lines(runFailing(t, s2, "test-fs-stat"))
	assert.Equal(t, "[AgentSys] FS_STAT denied: Agent not registered", out[1])
	assert.Equal(t, "[AgentSys] Test FAILED: PermissionDenied", out[3])
	// test-fs-read reads whatever the file holds.
	require.NoError(t, afero.WriteFile(m.fs, "/tmp/agentsys/test.txt", []byte("old contents that are long\n"), 0o644))
	out = lines(run(t, s, "test-fs-read"))
	assert.Equal(t, "[AgentSys] Test PASSED", out[len(out)-1])
}
