package agentsys

import (
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/vfs"
)

// machine is a stand-in for the kernel side: a real VFS, a settable
// clock and a 640x480 framebuffer.
type machine struct {
	vfs    *vfs.FS
	fs     afero.Fs
	now    time.Duration
	screen *image.RGBA
}

func newMachine(t testing.TB) *machine {
	v, err := vfs.NewDefaultRoot("sis")
	require.NoError(t, err)
	require.NoError(t, v.Mount("/dev", "devtmpfs", "devtmpfs", vfs.NewDevfs(devices{}, time.Unix(0, 0)), false))
	m := &machine{vfs: v, fs: v.Afero(), screen: image.NewRGBA(image.Rect(0, 0, 640, 480))}
	m.paint(0)
	return m
}

// devices is a devfs without a console.
type devices struct{}

func (devices) Random(b []byte)     { clear(b) }
func (devices) Console() vfs.Handle { return nil }

// paint fills the framebuffer with a pattern that depends on k.
func (m *machine) paint(k int) {
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			c := color.RGBA{uint8(x/80*30 + k*7), uint8(y/60*30 + k*3), uint8(k * 40), 0xff}
			m.screen.SetRGBA(x, y, c)
		}
	}
}

func (m *machine) env() Env {
	return Env{FS: m.fs, Now: func() time.Duration { return m.now },
		Epoch:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Screen: func() image.Image { return m.screen }}
}

func newService(t testing.TB, m *machine, cfg Config) *Service {
	s, err := New(cfg, m.env())
	require.NoError(t, err)
	return s
}

// do sends one request as agent.
func do(s *Service, agent uint16, op byte, payload []byte) Reply {
	return s.Handle(EncodeFrame(op, 0, Token(agent), payload))
}

// snapshot maps every path in the tree (but skip) to a digest of its
// type, mode and contents.
func snapshot(t testing.TB, fsys afero.Fs, skip ...string) map[string]string {
	out := map[string]string{}
	var walk func(p string)
	walk = func(p string) {
		for _, s := range skip {
			if p == s {
				return
			}
		}
		fi, _, err := fsys.(afero.Lstater).LstatIfPossible(p)
		require.NoError(t, err, p)
		d := fmt.Sprintf("%v %d", fi.Mode(), fi.Size())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			tgt, err := fsys.(afero.LinkReader).ReadlinkIfPossible(p)
			require.NoError(t, err)
			d += " -> " + tgt
		case fi.IsDir():
			ents, err := afero.ReadDir(fsys, p)
			require.NoError(t, err)
			for _, e := range ents {
				walk(path.Join(p, e.Name()))
			}
		case fi.Mode().IsRegular():
			b, err := afero.ReadFile(fsys, p)
			require.NoError(t, err)
			d += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[p] = d
	}
	walk("/")
	return out
}

// diff lists the paths that differ between two snapshots.
func diff(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k)
		}
	}
	sort.Strings(d)
	return d
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func fmtSprint(f string, a ...any) string { return fmt.Sprintf(f, a...) }
