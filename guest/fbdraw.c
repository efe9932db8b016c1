/*
 * fbdraw: draws a known pattern into the framebuffer /dev/fb0.
 *
 * It asks the device for its mode (FBIOGET_VSCREENINFO and
 * FBIOGET_FSCREENINFO) and prints
 *   "fb0: <xres>x<yres> <bpp>bpp line=<line_length> id=<id>",
 * then tries mmap(MAP_SHARED) and prints "mmap: ok" or "mmap: <ERRNO>"
 * (sissim refuses it with ENODEV: drawing is write-based). It draws the
 * pattern (32-bit XRGB, little endian): the top half has eight vertical
 * bars of width/8 pixels, black, red, green, blue, yellow, cyan, magenta,
 * white; in the bottom half the pixel (x, y) has red x & 255, green y & 255
 * and blue (x ^ y) & 255. Top rows are written with lseek+write, bottom
 * rows with pwrite. It reads row 300 back with pread and prints
 * "readback: ok", then "fbdraw: drew <yres> rows" and exits 0. Any failure
 * prints "fbdraw: <step>: <strerror>" and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(const char *step) {
	printf("fbdraw: %s: %s\n", step, strerror(errno));
	return 1;
}

static uint32_t pixel(unsigned x, unsigned y, unsigned w, unsigned h) {
	static const uint32_t bars[8] = {
		0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff, 0xffffff,
	};
	if (y < h / 2)
		return bars[(x / (w / 8)) & 7];
	return (x & 255) << 16 | (y & 255) << 8 | ((x ^ y) & 255);
}

static void fill_row(unsigned char *row, unsigned y, unsigned w, unsigned h) {
	for (unsigned x = 0; x < w; x++) {
		uint32_t p = pixel(x, y, w, h);
		row[4 * x] = (unsigned char)p;
		row[4 * x + 1] = (unsigned char)(p >> 8);
		row[4 * x + 2] = (unsigned char)(p >> 16);
		row[4 * x + 3] = 0;
	}
}

int main(void) {
	int fd = open("/dev/fb0", O_RDWR);
	if (fd < 0)
		return fail("open /dev/fb0");
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0)
		return fail("FBIOGET_VSCREENINFO");
	if (ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0)
		return fail("FBIOGET_FSCREENINFO");
	printf("fb0: %ux%u %ubpp line=%u id=%.16s\n", var.xres, var.yres, var.bits_per_pixel,
	       fix.line_length, fix.id);
	if (var.bits_per_pixel != 32 || var.xres < 8 || fix.line_length < var.xres * 4) {
		printf("fbdraw: unsupported mode\n");
		return 1;
	}
	size_t size = (size_t)fix.line_length * var.yres;
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		printf("mmap: %s\n", errno == ENODEV ? "ENODEV" : strerror(errno));
	} else {
		printf("mmap: ok\n");
		munmap(map, size);
	}
	unsigned w = var.xres, h = var.yres, line = fix.line_length;
	unsigned char *row = calloc(1, line);
	if (!row)
		return fail("calloc");
	for (unsigned y = 0; y < h / 2; y++) {
		fill_row(row, y, w, h);
		if (lseek(fd, (off_t)y * line, SEEK_SET) < 0)
			return fail("lseek");
		if (write(fd, row, line) != (ssize_t)line)
			return fail("write");
	}
	for (unsigned y = h / 2; y < h; y++) {
		fill_row(row, y, w, h);
		if (pwrite(fd, row, line, (off_t)y * line) != (ssize_t)line)
			return fail("pwrite");
	}
	unsigned char *back = calloc(1, line);
	if (!back)
		return fail("calloc");
	unsigned y = h > 300 ? 300 : h - 1;
	if (pread(fd, back, line, (off_t)y * line) != (ssize_t)line)
		return fail("pread");
	fill_row(row, y, w, h);
	if (memcmp(row, back, (size_t)w * 4) != 0) {
		printf("readback: differs\n");
		return 1;
	}
	printf("readback: ok\n");
	printf("fbdraw: drew %u rows\n", h);
	close(fd);
	return 0;
}
