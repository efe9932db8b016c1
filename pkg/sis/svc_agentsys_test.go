package sis_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	sissim "github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/agentsys"
	"github.com/sis-kernel/sissim/pkg/fb"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
	"github.com/sis-kernel/sissim/pkg/sis"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

func TestAgentSysBootAndDevices(t *testing.T) {
	var con bytes.Buffer
	m := bootSys(t, kernel.Config{}, &con)
	require.Contains(t, con.String(), "GIC: INIT\n[AgentSys] Initialized (sync mode)\n")

	ls := sh(t, m, "ls /dev")
	require.Contains(t, ls, " agentsys\n")
	require.Contains(t, ls, " fb0\n")
	require.Contains(t, ls, " null\n")
	for _, d := range []struct {
		path         string
		major, minor uint32
	}{{"/dev/fb0", 29, 0}, {"/dev/agentsys", 10, 240}} {
		a, err := m.FS().StatAt(nil, "/", d.path, true)
		require.NoError(t, err, d.path)
		require.Equal(t, uint32(vfs.ModeChar|0o666), a.Mode, d.path)
		require.Equal(t, vfs.Makedev(d.major, d.minor), a.Rdev, d.path)
	}
	// The service sees the devices through the same VFS.
	out := sh(t, m, "run /bin/agentctl-demo stat /dev/fb0")
	require.Contains(t, out, "[FS] Stat: /dev/fb0 - size=0 mode=0666 type=char\n")

	// Without the feature there is neither service nor device.
	m2, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Services: sis.DefaultServices(), Options: sis.Options{Features: sis.Features{}}})
	require.NoError(t, err)
	defer m2.Close()
	_, err = m2.FS().StatAt(nil, "/", "/dev/agentsys", true)
	require.ErrorIs(t, err, linux.ENOENT)
}

func TestAgentSysDemoGuest(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	out := sh(t, m, "run /bin/agentctl-demo")
	require.Equal(t, `status=OK
[FS] Created: /tmp/files (dir)
[AUDIT] agent=2 op=0x34 result=ALLOW
status=OK
[FS] Entries: (empty)
[AUDIT] agent=2 op=0x30 result=ALLOW
status=OK
[FS] Wrote 25 bytes to /tmp/files/demo.txt
[AUDIT] agent=2 op=0x32 result=ALLOW
status=OK
[FS] Read 25 bytes
[FS] Preview: hello from a guest agent.
[AUDIT] agent=2 op=0x31 result=ALLOW
status=OK
[FS] Stat: /tmp/files/demo.txt - size=25 mode=0644 type=file
[AUDIT] agent=2 op=0x33 result=ALLOW
status=OK
[FS] Entries: demo.txt
[AUDIT] agent=2 op=0x30 result=ALLOW
agentctl-demo: ok
[pid 2] exit status 0
`, out)
	b, err := m.FS().ReadFile("/tmp/files/demo.txt")
	require.NoError(t, err)
	require.Equal(t, "hello from a guest agent\n", string(b))

	// The operations are audited, in the ring and in the log.
	audit := sh(t, m, "agentsys audit")
	require.Contains(t, audit, "agent=2 op=0x32 ")
	log, err := m.FS().ReadFile("/var/log/agentsys-audit.jsonl")
	require.NoError(t, err)
	require.Equal(t, 6, bytes.Count(log, []byte("\n")))
}

// guestOp runs agentctl-demo with args and returns its output.
func guestOp(t *testing.T, m *sis.System, args string) string {
	t.Helper()
	out, _ := m.Shell().Exec("run /bin/agentctl-demo " + args)
	return out
}

func TestAgentSysEachOpFromGuest(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	ok := func(args string, want ...string) string {
		t.Helper()
		out := guestOp(t, m, args)
		require.True(t, strings.HasPrefix(out, "status=OK\n"), "%s:\n%s", args, out)
		require.Contains(t, out, "exit status 0\n", args)
		for _, w := range want {
			require.Contains(t, out, w+"\n", args)
		}
		return out
	}
	ok("create /tmp/work dir", "[FS] Created: /tmp/work (dir)", "[AUDIT] agent=0 op=0x34 result=ALLOW")
	ok("create /tmp/work/a.txt", "[FS] Created: /tmp/work/a.txt (file)")
	ok("write /tmp/work/a.txt 0 0123456789abcdef", "[FS] Wrote 16 bytes to /tmp/work/a.txt", "[AUDIT] agent=0 op=0x32 result=ALLOW")
	ok("write /tmp/work/a.txt 4 XY", "[FS] Wrote 2 bytes to /tmp/work/a.txt")
	ok("read /tmp/work/a.txt", "[FS] Read 16 bytes", "[FS] Preview: 0123XY6789abcdef", "data=0123XY6789abcdef")
	ok("read /tmp/work/a.txt 10 4", "[FS] Read 4 bytes", "data=abcd", "[AUDIT] agent=0 op=0x31 result=ALLOW")
	ok("list /tmp/work", "[FS] Entries: a.txt", "[AUDIT] agent=0 op=0x30 result=ALLOW")
	ok("stat /tmp/work/a.txt", "[FS] Stat: /tmp/work/a.txt - size=16 mode=0644 type=file", "[AUDIT] agent=0 op=0x33 result=ALLOW")
	ok("delete /tmp/work/a.txt", "[FS] Deleted: /tmp/work/a.txt", "[AUDIT] agent=0 op=0x35 result=ALLOW")
	_, err := m.FS().StatAt(nil, "/", "/tmp/work/a.txt", false)
	require.ErrorIs(t, err, linux.ENOENT)

	ok("play 7", "[Audio] Playing track 7 -> /tmp/agentsys/audio_track_7.wav", "[AUDIT] agent=0 op=0x36 result=ALLOW")
	wav, err := m.FS().ReadFile("/tmp/agentsys/audio_track_7.wav")
	require.NoError(t, err)
	require.Equal(t, "RIFF", string(wav[0:4]))
	require.Equal(t, "WAVE", string(wav[8:12]))
	require.Equal(t, uint32(len(wav)-8), binary.LittleEndian.Uint32(wav[4:]))
	require.Equal(t, "data", string(wav[36:40]))
	require.Equal(t, uint32(len(wav)-44), binary.LittleEndian.Uint32(wav[40:]))
	require.Greater(t, len(wav), 44)
	require.NoError(t, agentsys.CheckWAV(wav))
	require.True(t, m.AgentSys().Audio().Playing)
	ok("volume 30", "[Audio] Volume: 30", "[AUDIT] agent=0 op=0x38 result=ALLOW")
	require.Equal(t, uint8(30), m.AgentSys().Audio().Volume)
	ok("stop", "[Audio] Stopped track 7", "[AUDIT] agent=0 op=0x37 result=ALLOW")
	require.False(t, m.AgentSys().Audio().Playing)

	out := ok("docnew notes", "[AUDIT] agent=0 op=0x39 result=ALLOW")
	ref := regexp.MustCompile(`\[Doc\] Created: (\S+) \(ref=(\d+)\)`).FindStringSubmatch(out)
	require.NotNil(t, ref, out)
	ok("docedit "+ref[2]+" 3", "[AUDIT] agent=0 op=0x3A result=ALLOW")
	ok("docsave "+ref[2], "[AUDIT] agent=0 op=0x3B result=ALLOW")
	doc, err := m.FS().ReadFile(ref[1])
	require.NoError(t, err, "saved document %s", ref[1])
	require.Equal(t, "/tmp/docs/notes", ref[1])
	require.Regexp(t, `^# notes\nedit 1: agent 0 at \d+ ms\nedit 2: agent 0 at \d+ ms\nedit 3: agent 0 at \d+ ms\n$`, string(doc))

	ok("screenshot", "[AUDIT] agent=0 op=0x3C result=ALLOW")
	ok("record 200", "[AUDIT] agent=0 op=0x3D result=ALLOW")

	// Denials reach the guest as error statuses.
	out = guestOp(t, m, "-a 2 read /etc/hostname")
	require.Contains(t, out, "status=PermissionDenied\n[AgentSys] FS_READ denied: Path outside allowed scope\n[AUDIT] agent=2 op=0x31 result=DENY\n")
	require.Contains(t, out, "exit status 3\n")
	out = guestOp(t, m, "-a 4 stat /tmp")
	require.Contains(t, out, "[AgentSys] FS_STAT denied: Capability not granted\n")
	out = guestOp(t, m, "-a 77 stat /tmp")
	require.Contains(t, out, "[AgentSys] FS_STAT denied: Agent not registered\n")
	out = guestOp(t, m, "-a 2 list /tmp/files/../../etc")
	require.Contains(t, out, "status=PermissionDenied\n[AgentSys] FS_LIST denied: Path outside allowed scope\n")

	// The assistant may do 20 ops a second: guests starting one after the
	// other within microseconds of machine time hit the limit, and the
	// reply carries the retry-after.
	limited := regexp.MustCompile(`(?s)^status=ResourceLimit\nretry_after_ms=(\d+)\n` +
		`\[AgentSys\] FS_STAT denied: Rate limit exceeded \(retry after (\d+) ms\)\n` +
		`\[AUDIT\] agent=5 op=0x33 result=DENY\n`)
	for i := 0; ; i++ {
		require.LessOrEqual(t, i, 20, "no rate limit after %d ops", i)
		out = guestOp(t, m, "-a 5 stat /tmp")
		if sm := limited.FindStringSubmatch(out); sm != nil {
			require.Equal(t, 20, i, "limited after %d ops", i)
			require.Equal(t, sm[1], sm[2])
			require.NotEqual(t, "0", sm[1])
			break
		}
		require.True(t, strings.HasPrefix(out, "status=OK\n"), "op %d:\n%s", i, out)
	}
	last := m.AgentSys().Audit()
	require.Equal(t, "ResourceLimit: Rate limit exceeded", last[len(last)-1].Result)
}

// fbPattern is the colour fbdraw draws at (x, y) (guest/fbdraw.c).
func fbPattern(x, y int) color.RGBA {
	bars := [8]uint32{0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff, 0xffffff}
	var p uint32
	if y < fb.Height/2 {
		p = bars[x/(fb.Width/8)]
	} else {
		p = uint32(x&255)<<16 | uint32(y&255)<<8 | uint32((x^y)&255)
	}
	return color.RGBA{R: byte(p >> 16), G: byte(p >> 8), B: byte(p), A: 0xff}
}

func TestFbDrawAndScreenshot(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	out := sh(t, m, "run /bin/fbdraw")
	require.Equal(t, "fb0: 640x480 32bpp line=2560 id=sissim-fb\nmmap: ENODEV\nreadback: ok\nfbdraw: drew 480 rows\n[pid 2] exit status 0\n", out)

	// Video memory holds the pattern, in XRGB8888 little endian.
	f, err := m.FS().Open("/dev/fb0", linux.O_RDONLY, 0)
	require.NoError(t, err)
	mem := make([]byte, fb.Size)
	n, err := f.ReadAt(mem, 0)
	require.NoError(t, err)
	require.Equal(t, fb.Size, n)
	require.NoError(t, f.Close())
	for y := 0; y < fb.Height; y++ {
		for x := 0; x < fb.Width; x++ {
			c, px := fbPattern(x, y), mem[(y*fb.Width+x)*4:]
			if px[0] != c.B || px[1] != c.G || px[2] != c.R || px[3] != 0 {
				t.Fatalf("video memory at (%d,%d) = % x, want %v", x, y, px[:4], c)
			}
		}
	}

	// SCREENSHOT from a guest encodes the framebuffer as a PNG.
	out = guestOp(t, m, "screenshot")
	sm := regexp.MustCompile(`\[Screenshot\] Saved: (\S+\.png) \((\d+) bytes\)`).FindStringSubmatch(out)
	require.NotNil(t, sm, out)
	data, err := m.FS().ReadFile(sm[1])
	require.NoError(t, err)
	require.Equal(t, sm[2], fmt.Sprint(len(data)))
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, fb.Width, fb.Height), img.Bounds())
	for y := 0; y < fb.Height; y++ {
		for x := 0; x < fb.Width; x++ {
			if got := color.RGBAModel.Convert(img.At(x, y)); got != fbPattern(x, y) {
				t.Fatalf("screenshot at (%d,%d) = %v, want %v", x, y, got, fbPattern(x, y))
			}
		}
	}
}

// near reports whether two colours differ by at most d per channel.
func near(a, b color.RGBA, d int) bool {
	diff := func(x, y uint8) bool { return int(x)-int(y) <= d && int(y)-int(x) <= d }
	return diff(a.R, b.R) && diff(a.G, b.G) && diff(a.B, b.B)
}

// TestAgentSysRecordFromGuest: a recording a guest starts captures
// frames as machine time passes while other guests run.
func TestAgentSysRecordFromGuest(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	out := guestOp(t, m, "record 300")
	sm := regexp.MustCompile(`\[Record\] Started: (\S+\.gif) \(300ms\)`).FindStringSubmatch(out)
	require.NotNil(t, sm, out)
	start := m.Now()
	sh(t, m, "run /bin/fbdraw")
	// Keep machine time moving past the end of the recording.
	sh(t, m, "run /bin/alu_loop 40000000")
	require.Greater(t, m.Now()-start, 300*time.Millisecond)
	data, err := m.FS().ReadFile(sm[1])
	require.NoError(t, err, "the recording is written when it ends")
	g, err := gif.DecodeAll(bytes.NewReader(data))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(g.Image), 2, "a black frame, then the pattern")
	total := 0
	for _, d := range g.Delay {
		total += d
	}
	require.Equal(t, 30, total, "the frames last the recorded 300 ms")
	first, last := g.Image[0], g.Image[len(g.Image)-1]
	require.Equal(t, image.Rect(0, 0, fb.Width, fb.Height), first.Bounds())
	require.Equal(t, color.RGBA{A: 0xff}, color.RGBAModel.Convert(first.At(100, 100)))
	for i := 0; i < 8; i++ {
		x, y := i*80+40, 100
		got := color.RGBAModel.Convert(last.At(x, y)).(color.RGBA)
		require.True(t, near(got, fbPattern(x, y), 0x22), "bar %d: %v, want %v", i, got, fbPattern(x, y))
	}
}

// TestAgentSysShellSelfTests: every opcode runs from the shell as
// test_agent through the dispatcher and passes its check.
func TestAgentSysShellSelfTests(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, "run /bin/fbdraw")
	covered := map[byte]bool{}
	for _, c := range []struct {
		sub, first string
		op         byte
	}{
		{"test-fs-list", "Testing FS_LIST on /tmp/", agentsys.OpFsList},
		{"test-fs-read", "Testing FS_READ on /tmp/agentsys/test.txt", agentsys.OpFsRead},
		{"test-fs-write", "Testing FS_WRITE on /tmp/agentsys/test.txt", agentsys.OpFsWrite},
		{"test-fs-stat", "Testing FS_STAT on /tmp/agentsys", agentsys.OpFsStat},
		{"test-fs-create", "Testing FS_CREATE on /tmp/agentsys/test_created.txt", agentsys.OpFsCreate},
		{"test-fs-delete", "Testing FS_DELETE on /tmp/agentsys/test_delete.txt", agentsys.OpFsDelete},
		{"test-audio-play", "Testing AUDIO_PLAY track=42", agentsys.OpAudioPlay},
		{"test-audio-stop", "Testing AUDIO_STOP", agentsys.OpAudioStop},
		{"test-audio-volume", "Testing AUDIO_VOLUME level=50", agentsys.OpAudioVolume},
		{"test-doc-new", "Testing DOC_NEW on /tmp/docs/test_doc.md", agentsys.OpDocNew},
		{"test-doc-edit", "Testing DOC_EDIT on /tmp/docs/test_doc.md", agentsys.OpDocEdit},
		{"test-doc-save", "Testing DOC_SAVE on /tmp/docs/test_doc.md", agentsys.OpDocSave},
		{"test-screenshot", "Testing SCREENSHOT", agentsys.OpScreenshot},
		{"test-record", "Testing RECORD duration=1000ms", agentsys.OpRecord},
	} {
		n := len(m.AgentSys().Audit())
		out := sh(t, m, "agentsys "+c.sub)
		l := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		require.GreaterOrEqual(t, len(l), 4, "%s:\n%s", c.sub, out)
		require.Equal(t, "[AgentSys] "+c.first, l[0], c.sub)
		require.Equal(t, fmt.Sprintf("[AUDIT] agent=65535 op=0x%02X result=ALLOW", c.op), l[len(l)-2], "%s:\n%s", c.sub, out)
		require.Equal(t, "[AgentSys] Test PASSED", l[len(l)-1], "%s:\n%s", c.sub, out)
		recs := m.AgentSys().Audit()[n:]
		last := recs[len(recs)-1]
		require.Equal(t, c.op, last.Op, c.sub)
		require.Equal(t, uint16(0xFFFF), last.Agent, c.sub)
		require.True(t, last.Allowed, c.sub)
		require.Equal(t, "OK", last.Result, c.sub)
		covered[c.op] = true
	}
	for op := agentsys.OpFsList; op <= agentsys.OpRecord; op++ {
		require.True(t, covered[op], "op 0x%02X has no shell self-test", op)
	}
}

// TestAgentSysShellLines: the spec's lines of agentsys status, audit and
// the unknown subcommand, through the machine's shell; the audit shows
// the guest's operations with the machine time the log records.
func TestAgentSysShellLines(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	guestOp(t, m, "-a 4 stat /tmp") // denied: music_agent has no FsBasic
	guestOp(t, m, "stat /tmp")
	out := sh(t, m, "agentsys status")
	require.True(t, strings.HasPrefix(out, `[AgentSys] Status:
  Registered agents: 7
    - system (ID=0, enabled=yes)
    - agentd (ID=1, enabled=yes)
    - files_agent (ID=2, enabled=yes)
    - docs_agent (ID=3, enabled=yes)
    - music_agent (ID=4, enabled=yes)
    - assistant (ID=5, enabled=yes)
    - test_agent (ID=65535, enabled=yes)
  Total operations: 2
`), out)

	logs := readAgentSysAuditLog(t, m)
	require.Len(t, logs, 2)
	require.Equal(t, asAuditKey{Agent: 4, Op: "0x33", Allowed: false, Result: "PermissionDenied: Capability not granted"}, logs[0].key())
	require.Equal(t, asAuditKey{Agent: 0, Op: "0x33", Allowed: true, Result: "OK"}, logs[1].key())
	require.Positive(t, logs[0].TimestampUs)
	require.Greater(t, logs[1].TimestampUs, logs[0].TimestampUs)
	require.Equal(t, fmt.Sprintf("[AgentSys] Recent audit records:\n"+
		"  agent=4 op=0x33 ts=%d allowed=false\n  agent=0 op=0x33 ts=%d allowed=true\n",
		logs[0].TimestampUs, logs[1].TimestampUs), sh(t, m, "agentsys audit"))

	require.True(t, strings.HasPrefix(sh(t, m, "agentsys list"), "[AgentSys] Registered agents:\n"))
	require.Contains(t, sh(t, m, "agentsys policy"),
		"  files_agent (ID=2): enabled=yes caps=FsBasic scope=/tmp/files/ max_file_size=1048576 bytes max_ops_per_sec=100\n")
	help := sh(t, m, "agentsys help")
	for _, sub := range []string{"status", "list", "audit", "policy", "test-fs-list", "test-fs-read", "test-fs-write",
		"test-fs-stat", "test-fs-create", "test-fs-delete", "test-audio-play", "test-screenshot", "test-record"} {
		require.Contains(t, help, "  agentsys "+sub+" ", sub)
	}
	out, err := m.Shell().Exec("agentsys bogus")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
	require.True(t, strings.HasPrefix(out, "error: Unknown agentsys subcommand. Use 'agentsys help' for usage.\nusage: agentsys status|list|"), out)
	out, err = m.Shell().Exec("agentsys audit x")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
	require.Equal(t, "error: agentsys audit: N \"x\" is not a positive number\nusage: agentsys audit [N]\n", out)
}

// asAuditKey is the part of an audit log line a test compares.
type asAuditKey struct {
	Agent   uint16
	Op      string
	Allowed bool
	Result  string
}

type asAuditLogLine struct {
	Seq         uint64 `json:"seq"`
	Agent       uint16 `json:"agent"`
	Op          string `json:"op"`
	TimestampUs int64  `json:"timestamp_us"`
	Allowed     bool   `json:"allowed"`
	Result      string `json:"result"`
}

func (l asAuditLogLine) key() asAuditKey { return asAuditKey{l.Agent, l.Op, l.Allowed, l.Result} }

// readAgentSysAuditLog parses /var/log/agentsys-audit.jsonl.
func readAgentSysAuditLog(t *testing.T, m *sis.System) []asAuditLogLine {
	t.Helper()
	b, err := m.FS().ReadFile("/var/log/agentsys-audit.jsonl")
	require.NoError(t, err)
	var out []asAuditLogLine
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var a asAuditLogLine
		require.NoError(t, json.Unmarshal([]byte(l), &a), l)
		require.Equal(t, uint64(len(out)+1), a.Seq)
		out = append(out, a)
	}
	return out
}

// TestAgentSysGuestBadPathsAndAuditLog: from a guest, empty and invalid
// UTF-8 paths are InvalidFormat and write nothing; an agent with an
// unrestricted scope cannot overwrite, truncate or delete the audit log;
// every one of these is audited, in the ring and the log.
func TestAgentSysGuestBadPathsAndAuditLog(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	hexFrame := func(op byte, payload []byte) string {
		return hex.EncodeToString(agentsys.EncodeFrame(op, 0, agentsys.Token(agentsys.AgentSystem), payload))
	}
	for _, c := range []struct{ name, frame string }{
		{"empty path", hexFrame(agentsys.OpFsWrite, agentsys.WritePayload("", 0, []byte("x")))},
		{"invalid UTF-8", hexFrame(agentsys.OpFsWrite, agentsys.WritePayload("/tmp/\xff\xfe", 0, []byte("x")))},
		{"invalid UTF-8 create", hexFrame(agentsys.OpFsCreate, agentsys.CreatePayload("/tmp/\xc3", true))},
	} {
		out := guestOp(t, m, "raw "+c.frame)
		require.True(t, strings.HasPrefix(out, "status=InvalidFormat\n"), "%s:\n%s", c.name, out)
		require.Contains(t, out, "[AUDIT] agent=0 op=0x3", c.name)
		require.Contains(t, out, " result=DENY\n", c.name)
		require.Contains(t, out, "exit status 3\n", c.name)
	}
	ents, err := m.FS().ReadDir("/tmp")
	require.NoError(t, err)
	for _, e := range ents {
		require.True(t, utf8.ValidString(e.Name), "a bad path made %q", e.Name)
	}

	before, err := m.FS().ReadFile("/var/log/agentsys-audit.jsonl")
	require.NoError(t, err)
	for _, c := range []string{
		"write /var/log/agentsys-audit.jsonl 0 {}",
		"-a 1 write /var/log/agentsys-audit.jsonl 0 {}",
		"delete /var/log/agentsys-audit.jsonl",
		"create /var/log/agentsys-audit.jsonl",
	} {
		out := guestOp(t, m, c)
		require.True(t, strings.HasPrefix(out, "status=PermissionDenied\n"), "%s:\n%s", c, out)
		require.Contains(t, out, " denied: Audit log is append-only\n", c)
	}
	out := guestOp(t, m, "read /var/log/agentsys-audit.jsonl 0 9")
	require.Contains(t, out, "data={\"seq\":1,\n", out)

	logs := readAgentSysAuditLog(t, m)
	after, err := m.FS().ReadFile("/var/log/agentsys-audit.jsonl")
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(after, before), "the audit log was rewritten")
	require.Len(t, logs, 3+4+1)
	for i, l := range logs[:7] {
		require.False(t, l.Allowed, i)
		if i < 3 {
			require.True(t, strings.HasPrefix(l.Result, "InvalidFormat: "), l.Result)
		} else {
			require.Equal(t, "PermissionDenied: Audit log is append-only", l.Result)
		}
	}
	require.Equal(t, uint16(1), logs[4].Agent)
	ring := m.AgentSys().Audit()
	require.Len(t, ring, len(logs))
	for i, r := range ring {
		require.Equal(t, logs[i].key(), asAuditKey{r.Agent, fmt.Sprintf("0x%02X", r.Op), r.Allowed, r.Result}, i)
		require.Equal(t, logs[i].TimestampUs, r.Time.Microseconds(), i)
	}
}

// TestAgentSysShellRecordCompletes: `agentsys test-record` on an idle
// machine moves the clock on and leaves a complete recording.
func TestAgentSysShellRecordCompletes(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	sh(t, m, "run /bin/fbdraw")
	before := m.Now()
	out := sh(t, m, "agentsys test-record")
	sm := regexp.MustCompile(`\[Record\] Started: (\S+_(\d+)\.gif) \((\d+)ms\)`).FindStringSubmatch(out)
	require.NotNil(t, sm, out)
	var dur int
	fmt.Sscan(sm[3], &dur)
	require.GreaterOrEqual(t, m.Now()-before, time.Duration(dur)*time.Millisecond)
	data, err := m.FS().ReadFile(sm[1])
	require.NoError(t, err)
	g, err := gif.DecodeAll(bytes.NewReader(data))
	require.NoError(t, err)
	require.NotEmpty(t, g.Image)
	total := 0
	for _, d := range g.Delay {
		total += d
	}
	require.Equal(t, dur/10, total)
	got := color.RGBAModel.Convert(g.Image[0].At(120, 10)).(color.RGBA)
	require.True(t, near(got, fbPattern(120, 10), 0x22), "%v", got)

	// The same on a second machine gives the same bytes (deterministic).
	m2 := bootSys(t, kernel.Config{}, nil)
	sh(t, m2, "run /bin/fbdraw")
	out2 := sh(t, m2, "agentsys test-record")
	require.Equal(t, out, out2)
	data2, err := m2.FS().ReadFile(sm[1])
	require.NoError(t, err)
	require.Equal(t, data, data2)
}

func TestAgentSysBadFramesFromGuest(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	out := sh(t, m, "run /bin/agentctl-demo badframes")
	require.Equal(t, `short: status=BadFrame
magic: status=BadFrame
version: status=Unsupported
truncated: status=BadFrame
trailing: status=BadFrame
oversize: status=Oversize
token: status=AuthFailed
unknown-op: status=Unsupported
no-token: status=InvalidFormat
valid: status=OK
[pid 2] exit status 0
`, out)
	// A raw frame that is not one at all, then the machine goes on.
	out = guestOp(t, m, "raw 00")
	require.Contains(t, out, "status=BadFrame\n")
	out = sh(t, m, "run /bin/agentctl-demo")
	require.Contains(t, out, "agentctl-demo: ok\n")
	require.Zero(t, m.KernelErrors())
}

// TestAgentSysOpenFiles: every open file has its own reply queue (a
// parent and its child, each with two frames in flight), and a read with
// nothing queued fails with EAGAIN.
func TestAgentSysOpenFiles(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	out := sh(t, m, "run /bin/agentctl-demo multi 20")
	require.Contains(t, out, "multi: child ok\n")
	require.Contains(t, out, "multi: parent ok\n")
	require.Contains(t, out, "exit status 0\n")

	// The same through the host's VFS.
	f, err := m.FS().Open("/dev/agentsys", linux.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Read(make([]byte, 16))
	require.ErrorIs(t, err, linux.EAGAIN)
	_, err = f.ReadAt(make([]byte, 16), 0)
	require.ErrorIs(t, err, linux.ESPIPE)
	frame := []byte{'C', 0, 0x33, 0, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, '/', 't', 'm', 'p'}
	// Token of agent 0: its check value only.
	binary.LittleEndian.PutUint64(frame[8:], (0^0x534953414754)&(1<<48-1))
	n, err := f.Write(frame)
	require.NoError(t, err)
	require.Equal(t, len(frame), n)
	// A small buffer reads the reply in pieces; reads stop at its end.
	var rep []byte
	for {
		b := make([]byte, 5)
		n, err := f.Read(b)
		if err != nil {
			require.ErrorIs(t, err, linux.EAGAIN)
			break
		}
		rep = append(rep, b[:n]...)
	}
	require.Equal(t, uint32(0), binary.LittleEndian.Uint32(rep))
	olen := binary.LittleEndian.Uint32(rep[8:])
	require.Equal(t, 16+int(olen), len(rep))
	require.True(t, strings.HasPrefix(string(rep[16:]), "[FS] Stat: /tmp - "), string(rep[16:]))

	// A full queue refuses the frame before handling it.
	for i := 0; ; i++ {
		_, err := f.Write(frame)
		if err != nil {
			require.ErrorIs(t, err, linux.EAGAIN)
			require.Equal(t, 64, i)
			break
		}
	}
}

// BenchmarkAgentSysFrames measures FS_STAT frames per second through
// /dev/agentsys from a guest (write a frame, read the reply).
func BenchmarkAgentSysFrames(b *testing.B) {
	m := bootSys(b, kernel.Config{}, nil)
	const frames = 5000
	line := fmt.Sprintf("run /bin/agentsys-bench %d", frames)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		out, err := m.Shell().Exec(line)
		if err != nil || !strings.Contains(out, "frames ok") {
			b.Fatalf("%s: %v\n%s", line, err, out)
		}
	}
	b.ReportMetric(float64(frames*b.N)/time.Since(start).Seconds(), "frames/s")
}

// The service logs are append-only for guests: the appendonly self-checks
// pass on the AgentSys audit log, and AgentSys goes on appending to it.
func TestServiceLogsAreAppendOnly(t *testing.T) {
	m := bootSys(t, kernel.Config{}, nil)
	_, err := m.Shell().Exec("agentsys test-fs-list")
	require.NoError(t, err)
	out, err := m.Shell().Exec("run /bin/appendonly " + agentsys.DefaultAuditLog)
	require.NoError(t, err, out)
	require.Contains(t, out, " passed, 0 failed\n")
	before, err := m.FS().ReadFile(agentsys.DefaultAuditLog)
	require.NoError(t, err)
	_, err = m.Shell().Exec("agentsys test-fs-stat")
	require.NoError(t, err)
	after, err := m.FS().ReadFile(agentsys.DefaultAuditLog)
	require.NoError(t, err)
	require.Greater(t, len(after), len(before))
	require.Equal(t, before, after[:len(before)])
	for _, p := range []string{"/var/log/decisions.json", "/var/log/rollback.json"} {
		a, err := m.FS().StatAt(nil, "/", p, true)
		require.NoError(t, err)
		require.NotZero(t, a.Flags&linux.FS_APPEND_FL, p)
	}
}
