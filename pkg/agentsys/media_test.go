package agentsys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScreenshotIsTheFramebuffer(t *testing.T) {
	m := newMachine(t)
	m.now = 1234567 * time.Microsecond
	s := newService(t, m, Config{})
	rep := do(s, AgentSystem, OpScreenshot, nil)
	require.Equal(t, OK, rep.Err, rep.Output)
	b, err := afero.ReadFile(m.fs, "/tmp/agentsys/screenshot_1234.png")
	require.NoError(t, err)
	assert.Equal(t, []string{
		fmt.Sprintf("[Screenshot] Saved: /tmp/agentsys/screenshot_1234.png (%d bytes)", len(b)),
		"[AUDIT] agent=0 op=0x3C result=ALLOW",
	}, lines(rep.Output))
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 640, 480), img.Bounds())
	require.NoError(t, sameImage(img, m.screen))
	// A different framebuffer gives a different image.
	m.screen.SetRGBA(5, 5, color.RGBA{1, 2, 3, 255})
	assert.Error(t, sameImage(img, m.screen))

	// No display: IoError, nothing written.
	env := m.env()
	env.Screen = nil
	s2, err := New(Config{}, env)
	require.NoError(t, err)
	m.now += time.Second
	rep = do(s2, AgentSystem, OpScreenshot, nil)
	assert.Equal(t, IoError, rep.Err)
	assert.Equal(t, "[Screenshot] Error: No such device", lines(rep.Output)[0])
	assert.Equal(t, IoError, do(s2, AgentSystem, OpRecord, nil).Err)
}

func TestRecordingIsAnAnimatedGIF(t *testing.T) {
	m := newMachine(t)
	m.now = 2 * time.Second
	s := newService(t, m, Config{})
	_, ok := s.NextTick()
	assert.False(t, ok)
	rep := do(s, AgentSystem, OpRecord, U32Payload(1000))
	require.Equal(t, OK, rep.Err, rep.Output)
	const name = "/tmp/agentsys/recording_2000_1000.gif"
	assert.Equal(t, "[Record] Started: "+name+" (1000ms)", lines(rep.Output)[0])

	// Drive the machine: the picture changes at 300 ms and 650 ms; the
	// kernel calls Tick at NextTick.
	want := []*image.RGBA{cloneRGBA(m.screen)}
	ticks := 0
	for {
		next, ok := s.NextTick()
		if !ok {
			break
		}
		require.Greater(t, next, m.now)
		m.now = next
		switch m.now - 2*time.Second {
		case 300 * time.Millisecond:
			m.paint(1)
			want = append(want, cloneRGBA(m.screen))
		case 700 * time.Millisecond:
			m.paint(2)
			want = append(want, cloneRGBA(m.screen))
		}
		s.Tick(m.now)
		ticks++
		require.Less(t, ticks, 100)
	}
	assert.Equal(t, 3*time.Second, m.now)
	assert.Equal(t, 10, ticks) // captures at 100..900 ms, the end at 1000 ms

	b, err := afero.ReadFile(m.fs, name)
	require.NoError(t, err)
	g, err := gif.DecodeAll(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, 640, g.Config.Width)
	assert.Equal(t, 480, g.Config.Height)
	require.Len(t, g.Image, 3)
	assert.Equal(t, []int{30, 40, 30}, g.Delay)
	for i, fr := range g.Image {
		require.NoError(t, sameImage(fr, want[i]), "frame %d", i)
	}
	assert.Contains(t, statusOf(t, s), "  Recordings: 0 running, 1 written, 0 failed\n")
}

func TestRecordingDefaultsAndLateTicks(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{FrameInterval: 50 * time.Millisecond})
	rep := do(s, AgentSystem, OpRecord, nil)
	require.Equal(t, OK, rep.Err, rep.Output)
	assert.Contains(t, rep.Output, "recording_0_5000.gif (5000ms)")
	next, ok := s.NextTick()
	assert.True(t, ok)
	assert.Equal(t, 50*time.Millisecond, next)
	// A long recording spreads maxGIFFrames frames over its duration.
	rep = do(s, AgentSystem, OpRecord, U32Payload(60000))
	require.Equal(t, OK, rep.Err)
	assert.Equal(t, 600*time.Millisecond, s.rec.active[1].interval)
	// Only maxRecordings run at once.
	do(s, AgentSystem, OpRecord, U32Payload(100))
	do(s, AgentSystem, OpRecord, U32Payload(200))
	rep = do(s, AgentSystem, OpRecord, U32Payload(100))
	assert.Equal(t, ResourceLimit, rep.Err)
	assert.Equal(t, 100*time.Millisecond, rep.RetryAfter)
	// A late tick (or any request) finishes what is due; a frame that
	// changes before the end shows up.
	m.now = 3 * time.Second
	m.paint(5)
	s.Tick(m.now)
	m.now = 6 * time.Second
	do(s, AgentSystem, OpAudioStop, nil) // a request ticks too
	for _, n := range []string{"recording_0_5000.gif", "recording_0_100.gif", "recording_0_200.gif"} {
		b, err := afero.ReadFile(m.fs, "/tmp/agentsys/"+n)
		require.NoError(t, err, n)
		g, err := gif.DecodeAll(bytes.NewReader(b))
		require.NoError(t, err)
		sum := 0
		for _, d := range g.Delay {
			sum += d
		}
		ms := map[string]int{"recording_0_5000.gif": 500, "recording_0_100.gif": 10, "recording_0_200.gif": 20}[n]
		assert.Equal(t, ms, sum, n)
		if n == "recording_0_5000.gif" {
			require.Len(t, g.Image, 2)
			require.NoError(t, sameImage(g.Image[1], m.screen))
		}
	}
	assert.Len(t, s.rec.active, 1)
}

func TestRecordingQuantizesManyColours(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 128, 255})
		}
	}
	p := toPaletted(img, img.Bounds())
	assert.Len(t, p.Palette, 256) // Plan 9
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, p, nil))
	// Exact palettes keep every colour.
	small := image.NewRGBA(image.Rect(0, 0, 4, 4))
	small.SetRGBA(1, 1, color.RGBA{9, 8, 7, 255})
	require.NoError(t, sameImage(toPaletted(small, small.Bounds()), opaqueImage(small)))
}

func opaqueImage(img *image.RGBA) *image.RGBA {
	c := cloneRGBA(img)
	for i := 3; i < len(c.Pix); i += 4 {
		c.Pix[i] = 255
	}
	return c
}

func cloneRGBA(img *image.RGBA) *image.RGBA {
	c := *img
	c.Pix = append([]byte(nil), img.Pix...)
	return &c
}

// toneFreq estimates a WAV's frequency from its zero crossings.
func toneFreq(t *testing.T, b []byte) float64 {
	require.NoError(t, CheckWAV(b))
	data := b[44:]
	n := len(data) / 2
	cross := 0
	prev := int16(0)
	for i := range n {
		v := int16(binary.LittleEndian.Uint16(data[2*i:]))
		if (prev < 0) != (v < 0) && i > 0 {
			cross++
		}
		prev = v
	}
	return float64(cross) / 2 / (float64(n) / SampleRate)
}

func peak(b []byte) int {
	p := 0
	for i := 44; i+1 < len(b); i += 2 {
		v := int(int16(binary.LittleEndian.Uint16(b[i:])))
		p = max(p, v, -v)
	}
	return p
}

func TestAudio(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	read := func(track int) []byte {
		b, err := afero.ReadFile(m.fs, fmt.Sprintf("/tmp/agentsys/audio_track_%d.wav", track))
		require.NoError(t, err)
		return b
	}
	rep := do(s, AgentMusic, OpAudioPlay, U32Payload(42))
	require.Equal(t, OK, rep.Err)
	assert.Equal(t, []string{"[Audio] Playing track 42 -> /tmp/agentsys/audio_track_42.wav",
		"[AUDIT] agent=4 op=0x36 result=ALLOW"}, lines(rep.Output))
	b42 := read(42)
	assert.Len(t, b42, 44+SampleRate*2)
	assert.InDelta(t, ToneFrequency(42), toneFreq(t, b42), 3)
	assert.InDelta(t, 220*math.Pow(2, 6.0/12), ToneFrequency(42), 0.001)
	assert.True(t, s.Audio().Playing)
	assert.Contains(t, statusOf(t, s), "  Audio: playing track 42 (volume 80)\n")

	rep = do(s, AgentMusic, OpAudioStop, nil)
	assert.Equal(t, "[Audio] Stopped track 42", lines(rep.Output)[0])
	assert.False(t, s.Audio().Playing)
	assert.Equal(t, "[Audio] Nothing playing", lines(do(s, AgentMusic, OpAudioStop, nil).Output)[0])

	rep = do(s, AgentMusic, OpAudioVolume, VolumePayload(20))
	assert.Equal(t, "[Audio] Volume: 20", lines(rep.Output)[0])
	assert.Equal(t, uint8(20), s.Audio().Volume)
	do(s, AgentMusic, OpAudioPlay, U32Payload(0))
	b0 := read(0)
	assert.InDelta(t, 220, toneFreq(t, b0), 3)
	assert.InDelta(t, 0.6*32767*0.2, float64(peak(b0)), 20)
	assert.InDelta(t, 0.6*32767*0.8, float64(peak(b42)), 20)
	assert.Contains(t, statusOf(t, s), "  Audio: playing track 0 (volume 20)\n")
	// The tone ends after a second of machine time.
	m.now += ToneDuration
	assert.False(t, s.Audio().Playing)
	assert.Contains(t, statusOf(t, s), "  Audio: stopped (volume 20)\n")
	// Deterministic.
	assert.Equal(t, ToneWAV(7, 50), ToneWAV(7, 50))
}

func TestCheckWAVRejects(t *testing.T) {
	good := ToneWAV(1, 100)
	require.NoError(t, CheckWAV(good))
	for name, f := range map[string]func(b []byte) []byte{
		"short":     func(b []byte) []byte { return b[:40] },
		"truncated": func(b []byte) []byte { return b[:len(b)-2] },
		"riff size": func(b []byte) []byte { b[4]++; return b },
		"data size": func(b []byte) []byte { b[40] += 2; return b },
		"not pcm":   func(b []byte) []byte { b[20] = 3; return b },
		"channels0": func(b []byte) []byte { b[22] = 0; return b },
		"byte rate": func(b []byte) []byte { b[28]++; return b },
		// 256 channels of 2048 bits: a frame of 2^16 bytes, which must not
		// wrap to 0 (and divide by zero) in 16-bit arithmetic.
		"huge frame": func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[22:], 256)
			binary.LittleEndian.PutUint32(b[28:], 0)
			binary.LittleEndian.PutUint16(b[32:], 0)
			binary.LittleEndian.PutUint16(b[34:], 2048)
			binary.LittleEndian.PutUint32(b[24:], 0)
			return b
		},
	} {
		assert.Error(t, CheckWAV(f(append([]byte(nil), good...))), name)
	}
}

func TestDocuments(t *testing.T) {
	m := newMachine(t)
	m.now = 5 * time.Second
	s := newService(t, m, Config{})
	rep := do(s, AgentDocs, OpDocNew, NamePayload("notes.txt"))
	require.Equal(t, OK, rep.Err, rep.Output)
	assert.Equal(t, "[Doc] Created: /tmp/docs/notes.txt (ref=1)", lines(rep.Output)[0])
	read := func() string {
		b, err := afero.ReadFile(m.fs, "/tmp/docs/notes.txt")
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "# notes.txt\n", read())
	rep = do(s, AgentDocs, OpDocEdit, EditPayload(1, 2))
	require.Equal(t, OK, rep.Err, rep.Output)
	m.now += time.Millisecond
	do(s, AgentDocs, OpDocEdit, EditPayload(1, 1))
	assert.Equal(t, "# notes.txt\n", read(), "edits are unsaved")
	rep = do(s, AgentDocs, OpDocSave, U32Payload(1))
	require.Equal(t, OK, rep.Err, rep.Output)
	want := "# notes.txt\nedit 1: agent 3 at 5000 ms\nedit 2: agent 3 at 5000 ms\nedit 3: agent 3 at 5001 ms\n"
	assert.Equal(t, want, read())
	assert.Equal(t, fmt.Sprintf("[Doc] Saved: /tmp/docs/notes.txt (%d bytes)", len(want)), lines(rep.Output)[0])

	// Errors: an existing name, an unknown ref, a document too large.
	rep = do(s, AgentDocs, OpDocNew, NamePayload("notes.txt"))
	assert.Equal(t, IoError, rep.Err)
	assert.Equal(t, "[Doc] Error: File exists", lines(rep.Output)[0])
	rep = do(s, AgentDocs, OpDocEdit, EditPayload(9, 1))
	assert.Equal(t, IoError, rep.Err)
	assert.Equal(t, "[Doc] Error: No such document: ref=9", lines(rep.Output)[0])
	for i := 0; ; i++ {
		rep = do(s, AgentSystem, OpDocEdit, EditPayload(1, 65535))
		if rep.Err != OK {
			break
		}
		require.Less(t, i, 100)
	}
	assert.Equal(t, "[Doc] Error: File too large", lines(rep.Output)[0])
	// agentd may write docs; a document's scope is its file.
	scoped := []Agent{{ID: 1, Name: "x", Enabled: true, Caps: CapDocBasic, Scope: "/tmp/other/"}}
	s2 := newService(t, m, Config{Agents: scoped, AuditLog: "/var/log/other.jsonl"})
	rep = do(s2, 1, OpDocNew, NamePayload("a"))
	assert.Contains(t, rep.Output, ReasonOutsideScope)
	assert.True(t, strings.HasPrefix(statusOf(t, s), "[AgentSys] Status:\n"))
	assert.Contains(t, statusOf(t, s), "  Documents open: 1\n")
}

// TestDocumentsTotalLimit: open documents stay in host memory, so their
// total size is bounded; an edit past it fails and changes nothing.
func TestDocumentsTotalLimit(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	var rep Reply
	var ref uint32
	for i := 0; ; i++ {
		require.Less(t, i, 2*maxDocTotal/maxDocSize, "no limit reached")
		rep = do(s, AgentSystem, OpDocNew, NamePayload(fmt.Sprintf("d%d", i)))
		require.Equal(t, OK, rep.Err, rep.Output)
		ref = uint32(i + 1)
		// About 900 KB: below the per-document limit.
		rep = do(s, AgentSystem, OpDocEdit, EditPayload(ref, 30000))
		if rep.Err != OK {
			break
		}
	}
	assert.Equal(t, ResourceLimit, rep.Err)
	assert.Equal(t, "[Doc] Error: No space left on device", lines(rep.Output)[0])
	rep = do(s, AgentSystem, OpDocSave, U32Payload(ref))
	require.Equal(t, OK, rep.Err, rep.Output)
	b, err := afero.ReadFile(m.fs, fmt.Sprintf("/tmp/docs/d%d", ref-1))
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("# d%d\n", ref-1), string(b))
}

func statusOf(t *testing.T, s *Service) string {
	var b strings.Builder
	require.NoError(t, s.Command(&b, []string{"status"}))
	return b.String()
}
