package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
)

// traceFile is the part of a timeline file the tests read.
type traceFile struct {
	TraceEvents []struct {
		Ph   string         `json:"ph"`
		Pid  int            `json:"pid"`
		Tid  int            `json:"tid"`
		Cat  string         `json:"cat"`
		Name string         `json:"name"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
}

// readTimeline parses a timeline file.
func readTimeline(t *testing.T, name string) (traceFile, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	var tf traceFile
	require.NoError(t, json.Unmarshal(data, &tf))
	return tf, data
}

// A busybox pipeline's timeline: each process has its slices, the file is
// the same from run to run, and it draws as a picture.
func TestTimelineOfAPipeline(t *testing.T) {
	bb := difftest.Busybox(t)
	dir := t.TempDir()
	runOnce := func(name string) (traceFile, []byte) {
		file := filepath.Join(dir, name)
		code, out, errOut := run(t, "run", "--timeline", file, bb, "sh", "-c", "seq 1 2000 | sort -rn | head -3")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "2000\n1999\n1998\n", out)
		return readTimeline(t, file)
	}
	tf, a := runOnce("a.json")
	_, b := runOnce("b.json")
	require.True(t, bytes.Equal(a, b), "two deterministic runs give the same file")

	slices := map[int]int{}
	names := map[int]string{}
	kinds := map[string]int{}
	for _, ev := range tf.TraceEvents {
		kinds[ev.Ph+" "+ev.Cat]++
		if ev.Ph == "X" && ev.Cat == "run" {
			slices[ev.Pid]++
		}
		if ev.Ph == "M" && ev.Name == "process_name" {
			names[ev.Pid], _ = ev.Args["name"].(string)
		}
	}
	require.GreaterOrEqual(t, len(slices), 4, "sh, seq, sort and head ran: %v", slices)
	require.Subset(t, []string{names[3], names[4], names[5]}, []string{"seq", "sort", "head"})
	require.Positive(t, kinds["X wait"], "waits (wait4, pipe reads)")
	require.Positive(t, kinds["i signal"], "SIGCHLD")
	require.Positive(t, kinds["i syscall"]+kinds["X syscall"])
	require.Positive(t, kinds["C "], "budget and memory counters")

	png1 := filepath.Join(dir, "a.png")
	code, _, errOut := run(t, "timeline", filepath.Join(dir, "a.json"), "-o", png1, "--width", "900")
	require.Equal(t, 0, code, errOut)
	f, err := os.Open(png1)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, 900, img.Bounds().Dx())
	require.Greater(t, img.Bounds().Dy(), 4*14, "a row per process")
	require.Greater(t, colours(img), 4, "slices in several colours, not a blank picture")
}

// colours counts the distinct colours of img.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

// The threads of a pthread guest are tracks of their process, each with
// its slices.
func TestTimelineOfThreads(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.json")
	code, _, errOut := run(t, "run", "--timeline", file, "../../testdata/guests/threads")
	require.Equal(t, 0, code, errOut)
	tf, _ := readTimeline(t, file)
	tids := map[int]bool{}
	threadNames := 0
	for _, ev := range tf.TraceEvents {
		if ev.Ph == "X" && ev.Cat == "run" && ev.Pid == 2 {
			tids[ev.Tid] = true
		}
		if ev.Ph == "M" && ev.Name == "thread_name" && ev.Pid == 2 {
			threadNames++
		}
	}
	require.Greater(t, len(tids), 8, "the guest's threads ran")
	require.GreaterOrEqual(t, threadNames, len(tids), "each thread's track is named")
}

// The shell writes the timeline of the commands it runs.
func TestShellTimeline(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.json")
	code, out, errOut := run(t, "shell", "--timeline", file, "-c", "run /bin/hello; run /bin/hello")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Hello, world!")
	tf, _ := readTimeline(t, file)
	pids := map[int]bool{}
	for _, ev := range tf.TraceEvents {
		if ev.Ph == "X" && ev.Cat == "run" {
			pids[ev.Pid] = true
		}
	}
	require.GreaterOrEqual(t, len(pids), 2, "both runs are on the timeline")
}

func TestTimelineCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"traceEvents": 3}`), 0o644))
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{"traceEvents": []}`), 0o644))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"timeline", bad}, 2, "want one timeline file and -o FILE.png"},
		{[]string{"timeline", filepath.Join(dir, "missing.json"), "-o", filepath.Join(dir, "x.png")}, 2, "no such file"},
		{[]string{"timeline", bad, "-o", filepath.Join(dir, "x.png")}, 1, "traceEvents is not an array"},
		{[]string{"timeline", empty, "-o", filepath.Join(dir, "x.png")}, 1, "no timed event"},
		{[]string{"timeline", empty, "-o", filepath.Join(dir, "x.png"), "--width", "5"}, 1, "out of range"},
	} {
		code, _, errOut := run(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, tc.args)
	}
	_, err := os.Stat(filepath.Join(dir, "x.png"))
	require.True(t, os.IsNotExist(err), "no picture is written on failure")
}
