package kernel_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sissim "github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/fb"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// bootAgentSys boots a deterministic machine with the default services
// and the default root image (the guests in /bin).
func bootAgentSys(t testing.TB, con *bytes.Buffer) *kernel.Machine {
	t.Helper()
	var w io.Writer = io.Discard
	if con != nil {
		w = con
	}
	m, err := kernel.Boot(kernel.BootConfig{
		Image:    sissim.RootImage(),
		Console:  w,
		Services: kernel.DefaultServices(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// sh runs a shell line and fails the test on an error.
func sh(t testing.TB, m *kernel.Machine, line string) string {
	t.Helper()
	out, err := m.Shell().Exec(line)
	require.NoError(t, err, "%s:\n%s", line, out)
	return out
}

func TestAgentSysBootAndDevices(t *testing.T) {
	var con bytes.Buffer
	m := bootAgentSys(t, &con)
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
	m2, err := kernel.Boot(kernel.BootConfig{Image: sissim.RootImage(), Services: kernel.DefaultServices(), Features: kernel.Features{}})
	require.NoError(t, err)
	defer m2.Close()
	_, err = m2.FS().StatAt(nil, "/", "/dev/agentsys", true)
	require.ErrorIs(t, err, linux.ENOENT)
}

func TestAgentSysDemoGuest(t *testing.T) {
	m := bootAgentSys(t, nil)
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
[pid 1] exit status 0
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
func guestOp(t *testing.T, m *kernel.Machine, args string) string {
	t.Helper()
	out, _ := m.Shell().Exec("run /bin/agentctl-demo " + args)
	return out
}

func TestAgentSysEachOpFromGuest(t *testing.T) {
	m := bootAgentSys(t, nil)
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
	ok("volume 30", "[Audio] Volume: 30", "[AUDIT] agent=0 op=0x38 result=ALLOW")
	ok("stop", "[Audio] Stopped track 7", "[AUDIT] agent=0 op=0x37 result=ALLOW")

	out := ok("docnew notes", "[AUDIT] agent=0 op=0x39 result=ALLOW")
	ref := regexp.MustCompile(`\[Doc\] Created: (\S+) \(ref=(\d+)\)`).FindStringSubmatch(out)
	require.NotNil(t, ref, out)
	ok("docedit "+ref[2]+" 3", "[AUDIT] agent=0 op=0x3A result=ALLOW")
	ok("docsave "+ref[2], "[AUDIT] agent=0 op=0x3B result=ALLOW")
	_, err = m.FS().StatAt(nil, "/", ref[1], true)
	require.NoError(t, err, "saved document %s", ref[1])

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
	m := bootAgentSys(t, nil)
	out := sh(t, m, "run /bin/fbdraw")
	require.Equal(t, "fb0: 640x480 32bpp line=2560 id=sissim-fb\nmmap: ENODEV\nreadback: ok\nfbdraw: drew 480 rows\n[pid 1] exit status 0\n", out)

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
	m := bootAgentSys(t, nil)
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

func TestAgentSysShellSelfTests(t *testing.T) {
	m := bootAgentSys(t, nil)
	for _, sub := range []string{"test-fs-list", "test-fs-read", "test-fs-write", "test-fs-stat", "test-fs-create",
		"test-fs-delete", "test-audio-play", "test-screenshot", "test-record"} {
		out := sh(t, m, "agentsys "+sub)
		require.True(t, strings.HasPrefix(out, "[AgentSys] Testing "), "%s:\n%s", sub, out)
		require.True(t, strings.HasSuffix(out, "[AgentSys] Test PASSED\n"), "%s:\n%s", sub, out)
	}
}

// TestAgentSysShellRecordCompletes: `agentsys test-record` on an idle
// machine moves the clock on and leaves a complete recording.
func TestAgentSysShellRecordCompletes(t *testing.T) {
	m := bootAgentSys(t, nil)
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
	m2 := bootAgentSys(t, nil)
	sh(t, m2, "run /bin/fbdraw")
	out2 := sh(t, m2, "agentsys test-record")
	require.Equal(t, out, out2)
	data2, err := m2.FS().ReadFile(sm[1])
	require.NoError(t, err)
	require.Equal(t, data, data2)
}

func TestAgentSysBadFramesFromGuest(t *testing.T) {
	m := bootAgentSys(t, nil)
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
[pid 1] exit status 0
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
	m := bootAgentSys(t, nil)
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
	m := bootAgentSys(b, nil)
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
