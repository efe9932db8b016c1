package agentsys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/png"
	"math"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Audio output parameters.
const (
	SampleRate    = 22050
	ToneDuration  = time.Second
	maxRecordMs   = 10 * 60 * 1000 // RECORD durations above 10 minutes are refused
	maxRecordings = 4              // recordings running at once
	maxGIFFrames  = 100            // the capture period grows for long recordings
)

// audioState is the simulated audio device.
type audioState struct {
	volume  uint8 // 0..100
	track   uint32
	file    string
	playing bool
	until   time.Duration // machine time the tone ends
	plays   uint64
}

// ToneFrequency is the pitch of a track's tone in Hz: A3 (220 Hz) raised
// by track mod 36 semitones.
func ToneFrequency(track uint32) float64 {
	return 220 * math.Pow(2, float64(track%36)/12)
}

// ToneWAV returns a mono 16-bit PCM WAV of ToneDuration at SampleRate: a
// sine at ToneFrequency(track), amplitude scaled by volume (0..100), with
// 10 ms fades at both ends.
func ToneWAV(track uint32, volume uint8) []byte {
	n := int(int64(SampleRate) * int64(ToneDuration) / int64(time.Second))
	dataLen := n * 2
	b := make([]byte, 44, 44+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)           // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)            // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)            // channels
	binary.LittleEndian.PutUint32(b[24:], SampleRate)   // sample rate
	binary.LittleEndian.PutUint32(b[28:], SampleRate*2) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)            // block align
	binary.LittleEndian.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	f := ToneFrequency(track)
	amp := 0.6 * 32767 * float64(min(volume, 100)) / 100
	fade := SampleRate / 100
	for i := range n {
		env := 1.0
		if i < fade {
			env = float64(i) / float64(fade)
		} else if n-1-i < fade {
			env = float64(n-1-i) / float64(fade)
		}
		v := int16(math.Round(amp * env * math.Sin(2*math.Pi*f*float64(i)/SampleRate)))
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func (s *Service) audioPlay(q *request, track uint32) outcome {
	name := fmt.Sprintf("%s/audio_track_%d.wav", MediaDir, track)
	if err := s.writeFile(name, ToneWAV(track, s.audio.volume)); err != nil {
		return mediaErr(q, "Audio", err)
	}
	a := &s.audio
	a.track, a.file, a.playing, a.until = track, name, true, q.now+ToneDuration
	a.plays++
	q.printf("[Audio] Playing track %d -> %s", track, name)
	return outcome{}
}

// playingAt reports whether a tone is sounding at now.
func (a *audioState) playingAt(now time.Duration) bool { return a.playing && now < a.until }

func (s *Service) audioStop(q *request) outcome {
	if s.audio.playingAt(q.now) {
		q.printf("[Audio] Stopped track %d", s.audio.track)
	} else {
		q.printf("[Audio] Nothing playing")
	}
	s.audio.playing = false
	return outcome{}
}

func (s *Service) audioVolume(q *request, level uint8) outcome {
	s.audio.volume = level
	q.printf("[Audio] Volume: %d", level)
	return outcome{}
}

// AudioState is what the audio device is doing.
type AudioState struct {
	Playing bool
	Track   uint32
	File    string
	Volume  uint8
	Plays   uint64
}

// Audio returns the audio device's state at the current machine time.
func (s *Service) Audio() AudioState {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.audio
	return AudioState{Playing: a.playingAt(s.env.Now()), Track: a.track, File: a.file, Volume: a.volume, Plays: a.plays}
}

// screen returns the framebuffer contents, or ENODEV.
func (s *Service) screen() (image.Image, error) {
	if s.env.Screen == nil {
		return nil, linux.ENODEV
	}
	img := s.env.Screen()
	if img == nil || img.Bounds().Empty() {
		return nil, linux.ENODEV
	}
	return img, nil
}

func (s *Service) screenshot(q *request) outcome {
	img, err := s.screen()
	if err != nil {
		return mediaErr(q, "Screenshot", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return mediaErr(q, "Screenshot", linux.EIO)
	}
	name := fmt.Sprintf("%s/screenshot_%d.png", MediaDir, q.now.Milliseconds())
	if err := s.writeFile(name, buf.Bytes()); err != nil {
		return mediaErr(q, "Screenshot", err)
	}
	q.printf("[Screenshot] Saved: %s (%d bytes)", name, buf.Len())
	return outcome{}
}

// recording is a RECORD in progress.
type recording struct {
	path       string
	start, end time.Duration
	next       time.Duration // next capture slot
	interval   time.Duration
	rect       image.Rectangle
	frames     []*image.Paletted
	times      []time.Duration // capture slot of each frame
}

// recorder holds the recordings.
type recorder struct {
	active       []*recording
	done, failed uint64
	lastErr      string
}

func (s *Service) startRecording(q *request, durMs uint32) outcome {
	img, err := s.screen()
	if err != nil {
		return mediaErr(q, "Record", err)
	}
	if len(s.rec.active) >= maxRecordings {
		first := s.rec.active[0].end
		for _, r := range s.rec.active {
			first = min(first, r.end)
		}
		q.printf("[Record] Error: %s", linux.EBUSY.Error())
		return outcome{err: ResourceLimit, detail: "recordings running: " + linux.EBUSY.Error(), retry: first - q.now}
	}
	dur := time.Duration(durMs) * time.Millisecond
	r := &recording{
		path:     fmt.Sprintf("%s/recording_%d_%d.gif", MediaDir, q.now.Milliseconds(), durMs),
		start:    q.now,
		end:      q.now + dur,
		interval: max(s.cfg.FrameInterval, (dur+maxGIFFrames-1)/maxGIFFrames),
		rect:     img.Bounds(),
	}
	r.capture(img, q.now)
	r.next = q.now + r.interval
	s.rec.active = append(s.rec.active, r)
	q.printf("[Record] Started: %s (%dms)", r.path, durMs)
	return outcome{}
}

// capture adds the screen as the frame of slot t, unless it equals the
// previous frame (which then simply lasts longer).
func (r *recording) capture(img image.Image, t time.Duration) {
	p := toPaletted(img, r.rect)
	if n := len(r.frames); n > 0 && samePaletted(r.frames[n-1], p) {
		return
	}
	r.frames = append(r.frames, p)
	r.times = append(r.times, t)
}

// encode returns the recording as an animated GIF that plays once per
// loop over the recorded duration.
func (r *recording) encode() ([]byte, error) {
	g := &gif.GIF{Image: r.frames, LoopCount: 0}
	cs := func(t time.Duration) int { return int((t - r.start) / (10 * time.Millisecond)) }
	for i := range r.frames {
		end := r.end
		if i+1 < len(r.frames) {
			end = r.times[i+1]
		}
		g.Delay = append(g.Delay, max(cs(end)-cs(r.times[i]), 1))
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, g)
	return buf.Bytes(), err
}

// opaque returns c composited over black, as a GIF shows it.
func opaque(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// toPaletted converts img (clipped to rect) to a paletted frame: exact
// when it has at most 256 colours, else quantized to the Plan 9 palette.
func toPaletted(img image.Image, rect image.Rectangle) *image.Paletted {
	p := image.NewPaletted(rect, nil)
	index := map[color.RGBA]uint8{}
	var pal color.Palette
	exact := true
	rgba, isRGBA := img.(*image.RGBA)
	at := func(x, y int) color.RGBA {
		if isRGBA {
			i := rgba.PixOffset(x, y)
			px := rgba.Pix[i : i+4 : i+4]
			if px[3] == 0xff {
				return color.RGBA{px[0], px[1], px[2], 0xff}
			}
		}
		return opaque(img.At(x, y))
	}
	src := img.Bounds()
	for y := rect.Min.Y; y < rect.Max.Y && exact; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			c := color.RGBA{0, 0, 0, 0xff}
			if (image.Point{x, y}).In(src) {
				c = at(x, y)
			}
			i, ok := index[c]
			if !ok {
				if len(pal) == 256 {
					exact = false
					break
				}
				i = uint8(len(pal))
				index[c] = i
				pal = append(pal, c)
			}
			p.Pix[p.PixOffset(x, y)] = i
		}
	}
	if exact {
		p.Palette = pal
		return p
	}
	p.Palette = palette.Plan9
	clear(p.Pix)
	draw.Draw(p, rect, img, rect.Min, draw.Src)
	return p
}

func samePaletted(a, b *image.Paletted) bool {
	if len(a.Palette) != len(b.Palette) || !bytes.Equal(a.Pix, b.Pix) {
		return false
	}
	for i := range a.Palette {
		if a.Palette[i] != b.Palette[i] {
			return false
		}
	}
	return true
}

// Tick captures the recording frames due by now and writes the
// recordings whose duration has elapsed.
func (s *Service) Tick(now time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
}

func (s *Service) tickLocked(now time.Duration) {
	if len(s.rec.active) == 0 {
		return
	}
	keep := s.rec.active[:0]
	for _, r := range s.rec.active {
		if r.next < r.end && r.next <= now {
			if img, err := s.screen(); err == nil {
				r.capture(img, r.next)
			}
			// The first slot after now (a loop could spin for a
			// long idle stretch).
			r.next += ((now-r.next)/r.interval + 1) * r.interval
		}
		if now < r.end {
			keep = append(keep, r)
			continue
		}
		b, err := r.encode()
		if err == nil {
			err = s.writeFile(r.path, b)
		}
		if err != nil {
			s.rec.failed++
			s.rec.lastErr = r.path + ": " + errText(err)
		} else {
			s.rec.done++
		}
	}
	clear(s.rec.active[len(keep):])
	s.rec.active = keep
}

// Recording describes a running recording.
type Recording struct {
	Path       string // the GIF file it writes when it ends
	Start, End time.Duration
}

// Recordings returns the running recordings, in the order they started.
func (s *Service) Recordings() []Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recording, len(s.rec.active))
	for i, r := range s.rec.active {
		out[i] = Recording{Path: r.path, Start: r.start, End: r.end}
	}
	return out
}

// NextTick returns when Tick is next needed: the earliest capture slot
// or end of a running recording; false when none runs.
func (s *Service) NextTick() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t time.Duration
	ok := false
	for _, r := range s.rec.active {
		due := r.end
		if r.next < r.end {
			due = r.next
		}
		if !ok || due < t {
			t, ok = due, true
		}
	}
	return t, ok
}
