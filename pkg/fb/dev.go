package fb

import (
	"encoding/binary"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Device numbers of /dev/fb0 (Linux's FB_MAJOR, first framebuffer).
const (
	Major = 29
	Minor = 0
)

// Linux fbdev ioctl requests the device answers (<linux/fb.h>).
const (
	FBIOGET_VSCREENINFO = 0x4600
	FBIOPUT_VSCREENINFO = 0x4601
	FBIOGET_FSCREENINFO = 0x4602
	FBIOPAN_DISPLAY     = 0x4606
)

// Sizes of the fbdev structures on a 64-bit kernel.
const (
	varInfoSize = 160 // struct fb_var_screeninfo
	fixInfoSize = 80  // struct fb_fix_screeninfo
)

// ID is the fb_fix_screeninfo id of the display.
const ID = "sissim-fb"

// Device returns the /dev/fb0 node of the display.
func (d *Display) Device() vfs.Device {
	return vfs.Device{Name: "fb0", Major: Major, Minor: Minor, Perm: 0o666, Open: d.open}
}

func (d *Display) open(flags int, stat func() (vfs.Attr, error)) (vfs.Handle, error) {
	return &handle{d: d, stat: stat}, nil
}

// handle is an open /dev/fb0: positional reads and writes of video memory
// (read, write, pread, pwrite, lseek) and the fbdev ioctls. mmap is not
// offered: the kernel's file mappings are private copies.
type handle struct {
	d    *Display
	stat func() (vfs.Attr, error)
}

func (h *handle) ReadAt(p []byte, off int64) (int, error)  { return h.d.ReadAt(p, off) }
func (h *handle) WriteAt(p []byte, off int64) (int, error) { return h.d.WriteAt(p, off) }
func (h *handle) Stat() (vfs.Attr, error)                  { return h.stat() }
func (h *handle) Truncate(int64) error                     { return linux.EINVAL }
func (h *handle) Sync() error                              { return nil }
func (h *handle) Close() error                             { return nil }
func (h *handle) ReadDir() ([]vfs.Dirent, error)           { return nil, linux.ENOTDIR }

// NoMmap tells the kernel to refuse mmap of the device (ENODEV).
func (h *handle) NoMmap() {}

// Ioctl implements vfs.Ioctler: the screen-information requests of
// Linux's fbdev, for a fixed 640x480 XRGB8888 mode.
func (h *handle) Ioctl(req, arg uint64, mem vfs.UserMemory) (uint64, error) {
	switch req {
	case FBIOGET_VSCREENINFO:
		return 0, mem.CopyOut(arg, VarInfo())
	case FBIOGET_FSCREENINFO:
		return 0, mem.CopyOut(arg, FixInfo())
	case FBIOPUT_VSCREENINFO, FBIOPAN_DISPLAY:
		in := make([]byte, varInfoSize)
		if err := mem.CopyIn(arg, in); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		if req == FBIOPAN_DISPLAY {
			if le.Uint32(in[16:]) != 0 || le.Uint32(in[20:]) != 0 {
				return 0, linux.EINVAL
			}
			return 0, nil
		}
		// The mode is fixed: accept a request for it and nothing else.
		if le.Uint32(in[0:]) != Width || le.Uint32(in[4:]) != Height || le.Uint32(in[24:]) != 8*BytesPerPixel {
			return 0, linux.EINVAL
		}
		return 0, mem.CopyOut(arg, VarInfo())
	}
	return 0, linux.ENOTTY
}

// VarInfo returns the display's struct fb_var_screeninfo.
func VarInfo() []byte {
	b := make([]byte, varInfoSize)
	le := binary.LittleEndian
	for i, v := range []uint32{
		Width, Height, Width, Height, // xres, yres, xres_virtual, yres_virtual
		0, 0, 8 * BytesPerPixel, 0, // xoffset, yoffset, bits_per_pixel, grayscale
		16, 8, 0, // red: offset, length, msb_right
		8, 8, 0, // green
		0, 8, 0, // blue
		0, 0, 0, // transp: none (the X byte is unused)
		0, 0, // nonstd, activate (FB_ACTIVATE_NOW)
		0xffffffff, 0xffffffff, // height, width in mm: unknown
	} {
		le.PutUint32(b[4*i:], v)
	}
	return b
}

// FixInfo returns the display's struct fb_fix_screeninfo: packed pixels,
// true colour, no mappable video memory (smem_start 0).
func FixInfo() []byte {
	b := make([]byte, fixInfoSize)
	le := binary.LittleEndian
	copy(b[0:16], ID)
	le.PutUint32(b[24:], Size)       // smem_len
	le.PutUint32(b[28:], 0)          // type: FB_TYPE_PACKED_PIXELS
	le.PutUint32(b[36:], 2)          // visual: FB_VISUAL_TRUECOLOR
	le.PutUint32(b[48:], LineLength) // line_length
	return b
}
