package timeline

import (
	"bytes"
	"image/color"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"
)

// A slice is drawn in its process's colour where its time falls, on its
// thread's row; waits are grey; the memory chart is drawn.
func TestRenderDrawsSlices(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 0)
	w.Process(2, "a")
	w.Thread(2, 2, "a")
	w.Process(3, "b")
	w.Thread(3, 3, "b")
	w.Complete(2, 2, "run", "a", 0, 500_000)
	w.Complete(3, 3, "wait", "wait: read", 0, 500_000)
	w.Complete(3, 3, "run", "b", 500_000, 1_000_000)
	w.Counter(0, "memory", 0, Arg{"used_bytes", 1 << 20})
	w.Counter(0, "memory", 600_000, Arg{"used_bytes", 2 << 20})
	w.Instant(0, 0, "autonomy", "decision", 250_000, ScopeGlobal)
	require.NoError(t, w.Close())

	var out bytes.Buffer
	require.NoError(t, Render(bytes.NewReader(buf.Bytes()), &out, 600))
	img, err := png.Decode(&out)
	require.NoError(t, err)
	require.Equal(t, 600, img.Bounds().Dx())
	rows := 2
	require.Equal(t, headerH+rows*(rowH+rowGap)+(rowH+rowGap)+counterH+8+footerH, img.Bounds().Dy())

	plotW := 600 - labelWidth - rightMargin
	quarter, threeQuarters := labelWidth+plotW/4, labelWidth+3*plotW/4
	rowMid := func(row int) int { return headerH + row*(rowH+rowGap) + rowH/2 }
	at := func(x, y int) color.RGBA {
		r, g, b, a := img.At(x, y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
	}
	require.Equal(t, palette[0], at(quarter, rowMid(0)), "a ran in the first half")
	require.Equal(t, colRow, at(threeQuarters, rowMid(0)), "and not in the second")
	require.Equal(t, colWait, at(quarter, rowMid(1)), "b waited in the first half")
	require.Equal(t, palette[1], at(threeQuarters, rowMid(1)), "and ran in the second")
}

func TestRenderBadInput(t *testing.T) {
	for in, want := range map[string]string{
		``:                             "not a trace-event file",
		`[1,2]`:                        "not a trace-event file",
		`{"other": 1}`:                 "no traceEvents",
		`{"traceEvents": [{"ph": 3}]}`: "event:",
		`{"traceEvents": [{"ph":"X","ts":1e400}]}`: "event:",
	} {
		err := Render(bytes.NewReader([]byte(in)), &bytes.Buffer{}, 0)
		require.ErrorContains(t, err, want, in)
	}
}
