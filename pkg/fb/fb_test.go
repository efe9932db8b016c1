package fb

import (
	"encoding/binary"
	"image/color"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// pixel returns the color at (x, y) of a snapshot of d.
func pixel(d *Display, x, y int) color.RGBA {
	return color.RGBAModel.Convert(d.Image().At(x, y)).(color.RGBA)
}

func TestWriteReadAndImage(t *testing.T) {
	d := New()
	require.Equal(t, color.RGBA{A: 0xff}, pixel(d, 3, 4))
	px := Encode(color.RGBA{R: 0x11, G: 0x22, B: 0x33, A: 0xff})
	require.Equal(t, [4]byte{0x33, 0x22, 0x11, 0}, px)
	off := int64((4*Width + 3) * BytesPerPixel)
	n, err := d.WriteAt(px[:], off)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Equal(t, color.RGBA{R: 0x11, G: 0x22, B: 0x33, A: 0xff}, pixel(d, 3, 4))

	img := d.Image()
	require.Equal(t, Width, img.Bounds().Dx())
	require.Equal(t, Height, img.Bounds().Dy())
	require.Equal(t, color.RGBA{R: 0x11, G: 0x22, B: 0x33, A: 0xff}, color.RGBAModel.Convert(img.At(3, 4)))
	require.Equal(t, color.RGBA{A: 0xff}, color.RGBAModel.Convert(img.At(4, 4)))

	// The snapshot is a copy.
	_, err = d.WriteAt([]byte{0xff, 0xff, 0xff, 0}, off)
	require.NoError(t, err)
	require.Equal(t, color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}, pixel(d, 3, 4))
	require.Equal(t, color.RGBA{R: 0x11, G: 0x22, B: 0x33, A: 0xff}, color.RGBAModel.Convert(img.At(3, 4)))

	got := make([]byte, 4)
	n, err = d.ReadAt(got, off)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Equal(t, []byte{0xff, 0xff, 0xff, 0}, got)
}

func TestBounds(t *testing.T) {
	d := New()
	n, err := d.WriteAt([]byte{1, 2, 3, 4, 5, 6}, Size-4)
	require.Equal(t, 4, n)
	require.ErrorIs(t, err, linux.ENOSPC)
	n, err = d.WriteAt([]byte{1}, Size)
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, linux.ENOSPC)
	_, err = d.WriteAt([]byte{1}, Size+1)
	require.ErrorIs(t, err, linux.EFBIG)
	_, err = d.WriteAt([]byte{1}, -1)
	require.ErrorIs(t, err, linux.EINVAL)
	_, err = d.ReadAt(make([]byte, 1), -1)
	require.ErrorIs(t, err, linux.EINVAL)
	n, err = d.ReadAt(make([]byte, 8), Size)
	require.NoError(t, err)
	require.Equal(t, 0, n)
	n, err = d.ReadAt(make([]byte, 8), Size-2)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, color.RGBA{R: 3, G: 2, B: 1, A: 0xff}, pixel(d, Width-1, Height-1))
}

// mem is a flat user memory for ioctl tests.
type mem []byte

func (m mem) CopyIn(addr uint64, b []byte) error {
	if addr+uint64(len(b)) > uint64(len(m)) {
		return linux.EFAULT
	}
	copy(b, m[addr:])
	return nil
}

func (m mem) CopyOut(addr uint64, b []byte) error {
	if addr+uint64(len(b)) > uint64(len(m)) {
		return linux.EFAULT
	}
	copy(m[addr:], b)
	return nil
}

func TestIoctls(t *testing.T) {
	d := New()
	h, err := d.Device().Open(linux.O_RDWR, func() (vfs.Attr, error) { return vfs.Attr{}, nil })
	require.NoError(t, err)
	io := h.(vfs.Ioctler)
	m := make(mem, 512)
	_, err = io.Ioctl(FBIOGET_VSCREENINFO, 0, m)
	require.NoError(t, err)
	le := binary.LittleEndian
	require.Equal(t, uint32(640), le.Uint32(m[0:]))
	require.Equal(t, uint32(480), le.Uint32(m[4:]))
	require.Equal(t, uint32(32), le.Uint32(m[24:]))
	require.Equal(t, uint32(16), le.Uint32(m[32:]), "red offset")
	require.Equal(t, uint32(0), le.Uint32(m[56:]), "blue offset")

	_, err = io.Ioctl(FBIOGET_FSCREENINFO, 200, m)
	require.NoError(t, err)
	require.Equal(t, ID, string(m[200:200+len(ID)]))
	require.Equal(t, uint32(Size), le.Uint32(m[224:]))
	require.Equal(t, uint32(2), le.Uint32(m[236:]))
	require.Equal(t, uint32(2560), le.Uint32(m[248:]))

	// Asking for the current mode works; another mode does not.
	_, err = io.Ioctl(FBIOPUT_VSCREENINFO, 0, m)
	require.NoError(t, err)
	le.PutUint32(m[0:], 800)
	_, err = io.Ioctl(FBIOPUT_VSCREENINFO, 0, m)
	require.ErrorIs(t, err, linux.EINVAL)

	_, err = io.Ioctl(FBIOGET_VSCREENINFO, 500, m)
	require.ErrorIs(t, err, linux.EFAULT)
	_, err = io.Ioctl(0x5401, 0, m)
	require.ErrorIs(t, err, linux.ENOTTY)
	_, isUnmappable := h.(vfs.Unmappable)
	require.True(t, isUnmappable)
}

func BenchmarkImage(b *testing.B) {
	d := New()
	for i := 0; i < b.N; i++ {
		_ = d.Image()
	}
}
