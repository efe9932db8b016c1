// Package fb is the machine's simulated display: a 640x480 framebuffer in
// XRGB8888 that guests draw into through /dev/fb0 and the SIS services read
// as an image (screenshots, recordings).
//
// Pixel format: 32 bits per pixel, little endian, so byte 0 of a pixel is
// blue, byte 1 green, byte 2 red and byte 3 unused (X); rows follow each
// other without padding (a line is 2560 bytes). The pixel at (x, y) starts
// at byte offset (y*640 + x) * 4. A fresh display is black.
package fb

import (
	"image"
	"image/color"
	"sync"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Errors of ReadAt and WriteAt, as Linux's fbdev returns them.
var (
	ErrOffset  error = linux.EFBIG  // a write starting past the end
	ErrNoSpace error = linux.ENOSPC // a write running past the end
	ErrNegOff  error = linux.EINVAL // a negative offset
)

// Geometry of the display.
const (
	Width         = 640
	Height        = 480
	BytesPerPixel = 4
	LineLength    = Width * BytesPerPixel
	Size          = LineLength * Height // bytes of video memory
)

// Display is the framebuffer. It is safe for concurrent use.
type Display struct {
	mu  sync.RWMutex
	mem []byte
}

// New returns a black display.
func New() *Display { return &Display{mem: make([]byte, Size)} }

// ReadAt reads video memory at byte offset off. At or past the end it
// returns 0 bytes (end of file).
func (d *Display) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrNegOff
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if off >= Size {
		return 0, nil
	}
	return copy(p, d.mem[off:]), nil
}

// WriteAt writes video memory at byte offset off. A write that starts past
// the end fails with ErrOffset; one that runs past the end writes what fits
// and returns ErrNoSpace with the count.
func (d *Display) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrNegOff
	}
	if off > Size {
		return 0, ErrOffset
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := copy(d.mem[off:], p)
	if n < len(p) {
		return n, ErrNoSpace
	}
	return n, nil
}

// Image returns a snapshot of the display as an opaque RGBA image; later
// writes do not change it.
func (d *Display) Image() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	d.mu.RLock()
	defer d.mu.RUnlock()
	src, dst := d.mem[:Size], img.Pix[:Size]
	for i := 0; i < Size; i += 4 {
		dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
	}
	return img
}

// Encode returns the framebuffer bytes of color c (B, G, R, X).
func Encode(c color.Color) [4]byte {
	r, g, b, _ := c.RGBA()
	return [4]byte{byte(b >> 8), byte(g >> 8), byte(r >> 8), 0}
}
