package timeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"sort"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Picture layout, in pixels.
const (
	// DefaultWidth is the picture's width unless told otherwise;
	// MinWidth and MaxWidth bound it.
	DefaultWidth, MinWidth, MaxWidth = 1200, 400, 8000
	// MaxTracks is how many thread tracks a picture draws at most.
	MaxTracks = 80

	labelWidth  = 190
	rightMargin = 12
	headerH     = 44
	rowH        = 14
	rowGap      = 3
	counterH    = 40
	footerH     = 20
)

// Colours of the picture.
var (
	colBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colText       = color.RGBA{0x20, 0x20, 0x20, 0xff}
	colGrid       = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	colRow        = color.RGBA{0xf6, 0xf6, 0xf6, 0xff}
	colWait       = color.RGBA{0xc8, 0xc8, 0xc8, 0xff}
	colSyscall    = color.RGBA{0x30, 0x30, 0x30, 0xff}
	colSignal     = color.RGBA{0xf0, 0x8c, 0x00, 0xff}
	colMiss       = color.RGBA{0xd0, 0x10, 0x10, 0xff}
	colMark       = color.RGBA{0x70, 0x30, 0xa0, 0xff}
	colMemory     = color.RGBA{0x4a, 0x90, 0xc0, 0xff}
	palette       = []color.RGBA{
		{0x2e, 0x7d, 0x32, 0xff}, {0x15, 0x65, 0xc0, 0xff}, {0xc6, 0x28, 0x28, 0xff}, {0x6a, 0x1b, 0x9a, 0xff},
		{0xef, 0x6c, 0x00, 0xff}, {0x00, 0x83, 0x8f, 0xff}, {0x8d, 0x6e, 0x63, 0xff}, {0xad, 0x14, 0x57, 0xff},
	}
)

// traceEvent is what the picture reads of an event.
type traceEvent struct {
	Ph   string          `json:"ph"`
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Cat  string          `json:"cat"`
	Name string          `json:"name"`
	Ts   float64         `json:"ts"`
	Dur  float64         `json:"dur"`
	Args json.RawMessage `json:"args"` // decoded only where read (arg)
}

// arg decodes the arg key of ev into v, reporting whether it could.
func (ev *traceEvent) arg(key string, v any) bool {
	var args map[string]json.RawMessage
	if json.Unmarshal(ev.Args, &args) != nil {
		return false
	}
	raw, ok := args[key]
	return ok && json.Unmarshal(raw, v) == nil
}

// track is one row of the picture: a thread (or a CBS server) of a process.
type track struct {
	pid, tid int
	name     string
	row      int // -1 when not drawn
}

// scan is what a first reading of the file finds: the tracks, the time
// span and the largest memory value.
type scan struct {
	tracks       map[[2]int]*track
	procs        map[int]string
	t0, t1       float64
	memMin       float64
	memMax       float64
	eligible     int // tracks that may be drawn
	events       int
	marks, mem   bool
	slicesByProc map[int]bool
}

// Render draws the trace-event file read from in as a PNG picture of the
// given width (DefaultWidth when 0) on out: a row per thread with its
// slices (in its process's colour), waits (grey), system calls (dark
// ticks), signals (orange) and deadline misses (red); a row of the
// machine's marks; and the memory in use. It reads the file twice (it
// keeps no event), so memory stays small however large the file.
func Render(in io.ReadSeeker, out io.Writer, width int) error {
	if width == 0 {
		width = DefaultWidth
	}
	if width < MinWidth || width > MaxWidth {
		return fmt.Errorf("timeline: width %d is out of range [%d, %d]", width, MinWidth, MaxWidth)
	}
	sc := scan{tracks: map[[2]int]*track{}, procs: map[int]string{}, t0: math.Inf(1), t1: math.Inf(-1),
		memMin: math.Inf(1), slicesByProc: map[int]bool{}}
	if err := eachEvent(in, sc.add); err != nil {
		return err
	}
	if sc.events == 0 || math.IsInf(sc.t0, 1) {
		return errors.New("timeline: the file has no timed event")
	}
	rows := sc.layout()
	p := newPicture(width, rows, &sc)
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	if err := eachEvent(in, p.paint); err != nil {
		return err
	}
	p.finish()
	return png.Encode(out, p.img)
}

// eachEvent decodes the traceEvents array of in, one event at a time.
func eachEvent(in io.Reader, f func(*traceEvent)) error {
	dec := json.NewDecoder(in)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return errors.New(`timeline: not a trace-event file: want {"traceEvents": [...]}`)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		if key, _ := tok.(string); key != "traceEvents" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("timeline: %w", err)
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return errors.New("timeline: traceEvents is not an array")
		}
		for dec.More() {
			var ev traceEvent
			if err := dec.Decode(&ev); err != nil {
				return fmt.Errorf("timeline: event: %w", err)
			}
			f(&ev)
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		return nil
	}
	return errors.New("timeline: the file has no traceEvents")
}

// add takes one event into the scan.
func (sc *scan) add(ev *traceEvent) {
	switch ev.Ph {
	case "M":
		var name string
		ev.arg("name", &name)
		switch ev.Name {
		case "process_name":
			sc.procs[ev.Pid] = name
		case "thread_name":
			sc.track(ev.Pid, ev.Tid).name = name
		}
		return
	case "X", "i", "I", "C":
	default:
		return
	}
	if math.IsNaN(ev.Ts) || math.IsInf(ev.Ts, 0) || ev.Dur < 0 || math.IsNaN(ev.Dur) || math.IsInf(ev.Dur, 0) {
		return
	}
	sc.events++
	sc.t0 = math.Min(sc.t0, ev.Ts)
	sc.t1 = math.Max(sc.t1, ev.Ts+ev.Dur)
	switch {
	case ev.Ph == "C" && ev.Name == "memory":
		var v float64
		if ev.arg("used_bytes", &v) {
			sc.memMax = math.Max(sc.memMax, v)
			sc.memMin = math.Min(sc.memMin, v)
			sc.mem = true
		}
	case ev.Ph == "C":
	case ev.Pid == 0 && ev.Tid == 0:
		sc.marks = true
	default:
		sc.track(ev.Pid, ev.Tid)
		if ev.Ph == "X" {
			sc.slicesByProc[ev.Pid] = true
		}
	}
}

func (sc *scan) track(pid, tid int) *track {
	k := [2]int{pid, tid}
	t := sc.tracks[k]
	if t == nil {
		t = &track{pid: pid, tid: tid, row: -1}
		sc.tracks[k] = t
	}
	return t
}

// layout gives the tracks of processes with slices their rows, by pid
// then tid (the machine's own, pid 0, last), and returns them in order.
func (sc *scan) layout() []*track {
	var ts []*track
	for _, t := range sc.tracks {
		if sc.slicesByProc[t.pid] && !(t.pid == 0 && t.tid == 0) {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if (a.pid == 0) != (b.pid == 0) {
			return b.pid == 0
		}
		if a.pid != b.pid {
			return a.pid < b.pid
		}
		return a.tid < b.tid
	})
	sc.eligible = len(ts)
	if len(ts) > MaxTracks {
		ts = ts[:MaxTracks]
	}
	for i, t := range ts {
		t.row = i
	}
	return ts
}

// picture is the image being drawn.
type picture struct {
	img          *image.RGBA
	sc           *scan
	rows         []*track
	plotX, plotW int
	marksY       int // top of the marks row (-1: none)
	memY         int // top of the memory chart (-1: none)
	mem          []float64
	memLast      float64
	memLastX     int
	procColor    map[int]color.RGBA
}

func newPicture(width int, rows []*track, sc *scan) *picture {
	h := headerH + len(rows)*(rowH+rowGap)
	p := &picture{sc: sc, rows: rows, plotX: labelWidth, plotW: width - labelWidth - rightMargin, marksY: -1, memY: -1, procColor: map[int]color.RGBA{}, memLastX: -1}
	if sc.marks {
		p.marksY = h
		h += rowH + rowGap
	}
	if sc.mem {
		p.memY = h + 4
		h += counterH + 8
		p.mem = make([]float64, p.plotW)
		for i := range p.mem {
			p.mem[i] = -1
		}
	}
	h += footerH
	p.img = image.NewRGBA(image.Rect(0, 0, width, h))
	draw.Draw(p.img, p.img.Bounds(), image.NewUniform(colBackground), image.Point{}, draw.Src)
	for _, t := range rows {
		if _, ok := p.procColor[t.pid]; !ok {
			p.procColor[t.pid] = palette[len(p.procColor)%len(palette)]
		}
	}
	p.frame()
	return p
}

// frame draws the labels, the row backgrounds and the time axis.
func (p *picture) frame() {
	sc := p.sc
	span := sc.t1 - sc.t0
	p.text(8, 16, fmt.Sprintf("sissim timeline: %d events, %d tracks, %s of machine time", sc.events, sc.eligible, usText(span)))
	// Time axis: about 8 ticks at round values.
	step := niceStep(span / 8)
	for v := math.Ceil(sc.t0/step) * step; v <= sc.t1; v += step {
		x := p.x(v)
		p.fill(x, headerH-8, x+1, p.img.Bounds().Dy()-footerH, colGrid)
		p.text(min(x+2, p.img.Bounds().Dx()-60), headerH-10, usText(v))
	}
	last := -1
	for _, t := range p.rows {
		y := p.rowY(t.row)
		p.fill(p.plotX, y, p.plotX+p.plotW, y+rowH, colRow)
		label := t.name
		if t.pid == 0 {
			label = "machine: " + label
		} else if t.pid != last {
			label = fmt.Sprintf("%d %s: %s", t.pid, sc.procs[t.pid], t.name)
		} else {
			label = fmt.Sprintf("  %d %s", t.tid, t.name)
		}
		if t.pid != 0 && t.tid == t.pid {
			label = fmt.Sprintf("%d %s", t.pid, sc.procs[t.pid])
		}
		last = t.pid
		p.text(6, y+rowH-3, clip(label, (labelWidth-10)/7))
	}
	if p.marksY >= 0 {
		p.fill(p.plotX, p.marksY, p.plotX+p.plotW, p.marksY+rowH, colRow)
		p.text(6, p.marksY+rowH-3, "marks")
	}
	if p.memY >= 0 {
		p.text(6, p.memY+12, "memory in use")
		p.text(6, p.memY+counterH-2, bytesText(sc.memMin)+" - "+bytesText(sc.memMax))
	}
	if drawn := len(p.rows); drawn < sc.eligible {
		p.text(8, p.img.Bounds().Dy()-6, fmt.Sprintf("%d of %d tracks drawn", drawn, sc.eligible))
	}
}

// paint draws one event.
func (p *picture) paint(ev *traceEvent) {
	switch ev.Ph {
	case "X", "i", "I", "C":
	default:
		return
	}
	if math.IsNaN(ev.Ts) || math.IsInf(ev.Ts, 0) || ev.Dur < 0 || math.IsNaN(ev.Dur) || math.IsInf(ev.Dur, 0) {
		return
	}
	if ev.Ph == "C" {
		if ev.Name == "memory" && p.memY >= 0 {
			var v float64
			if ev.arg("used_bytes", &v) {
				p.memoryAt(p.x(ev.Ts)-p.plotX, v)
			}
		}
		return
	}
	if ev.Pid == 0 && ev.Tid == 0 {
		if p.marksY >= 0 {
			x := p.x(ev.Ts)
			p.fill(x, p.marksY+1, x+2, p.marksY+rowH-1, colMark)
		}
		return
	}
	t := p.sc.tracks[[2]int{ev.Pid, ev.Tid}]
	if t == nil || t.row < 0 {
		return
	}
	y := p.rowY(t.row)
	x0 := p.x(ev.Ts)
	x1 := max(p.x(ev.Ts+ev.Dur), x0+1)
	switch {
	case ev.Ph == "X" && ev.Cat == "wait":
		p.fill(x0, y+rowH/2-2, x1, y+rowH/2+2, colWait)
	case ev.Ph == "X" && ev.Cat == "syscall":
		p.fill(x0, y+rowH-4, x1, y+rowH, colSyscall)
	case ev.Ph == "X":
		c, ok := p.procColor[ev.Pid]
		if !ok {
			c = palette[0]
		}
		p.fill(x0, y+1, x1, y+rowH-1, c)
	case ev.Cat == "syscall":
		p.fill(x0, y+rowH-3, x0+1, y+rowH, colSyscall)
	case ev.Cat == "signal":
		p.fill(x0, y, x0+2, y+5, colSignal)
	case ev.Cat == "deadline":
		p.fill(x0, y, x0+2, y+rowH, colMiss)
	}
}

// memoryAt records the memory in use from plot column x on.
func (p *picture) memoryAt(x int, v float64) {
	x = max(0, min(x, p.plotW-1))
	if p.memLastX >= 0 {
		for i := p.memLastX; i < x; i++ {
			p.mem[i] = math.Max(p.mem[i], p.memLast)
		}
	}
	p.mem[x] = math.Max(p.mem[x], v)
	p.memLast, p.memLastX = v, x
}

// finish draws the memory chart.
func (p *picture) finish() {
	if p.memY < 0 {
		return
	}
	if p.memLastX >= 0 {
		for i := p.memLastX; i < p.plotW; i++ {
			p.mem[i] = math.Max(p.mem[i], p.memLast)
		}
	}
	p.fill(p.plotX, p.memY, p.plotX+p.plotW, p.memY+counterH, colRow)
	// The chart spans the values seen, with a floor: changes show.
	lo, hi := p.sc.memMin, p.sc.memMax
	lo = math.Max(0, lo-(hi-lo)/4)
	for i, v := range p.mem {
		if v < 0 || hi <= lo {
			continue
		}
		h := max(1, int(math.Round((v-lo)/(hi-lo)*float64(counterH))))
		p.fill(p.plotX+i, p.memY+counterH-h, p.plotX+i+1, p.memY+counterH, colMemory)
	}
}

// x is the column of time ts (µs).
func (p *picture) x(ts float64) int {
	span := p.sc.t1 - p.sc.t0
	if span <= 0 {
		return p.plotX
	}
	return p.plotX + int((ts-p.sc.t0)/span*float64(p.plotW-1))
}

func (p *picture) rowY(row int) int { return headerH + row*(rowH+rowGap) }

func (p *picture) fill(x0, y0, x1, y1 int, c color.RGBA) {
	draw.Draw(p.img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
}

// text writes s with its baseline at y.
func (p *picture) text(x, y int, s string) {
	d := font.Drawer{Dst: p.img, Src: image.NewUniform(colText), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:max(n-3, 0)]) + "..."
}

// niceStep rounds d up to 1, 2 or 5 times a power of ten.
func niceStep(d float64) float64 {
	if d <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(d)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= d {
			return m * p
		}
	}
	return 10 * p
}

// usText writes a time in µs with a fitting unit.
func usText(us float64) string {
	switch {
	case us >= 1e6:
		return strconv.FormatFloat(us/1e6, 'g', 4, 64) + " s"
	case us >= 1e3:
		return strconv.FormatFloat(us/1e3, 'g', 4, 64) + " ms"
	}
	return strconv.FormatFloat(us, 'g', 4, 64) + " us"
}

// bytesText writes a size in MiB or KiB.
func bytesText(b float64) string {
	if b >= 1<<20 {
		return strconv.FormatFloat(b/(1<<20), 'f', 2, 64) + " MiB"
	}
	return strconv.FormatFloat(b/(1<<10), 'f', 0, 64) + " KiB"
}
