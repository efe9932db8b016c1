package strace

// ioctlNames names the ioctl requests strace names (terminal, generic
// file, file system and framebuffer requests, arm64 values).
var ioctlNames = xlat{
	{0x5401, "TCGETS"}, {0x5402, "TCSETS"}, {0x5403, "TCSETSW"}, {0x5404, "TCSETSF"},
	{0x5405, "TCGETA"}, {0x5406, "TCSETA"}, {0x5407, "TCSETAW"}, {0x5408, "TCSETAF"},
	{0x5409, "TCSBRK"}, {0x540a, "TCXONC"}, {0x540b, "TCFLSH"}, {0x540c, "TIOCEXCL"},
	{0x540d, "TIOCNXCL"}, {0x540e, "TIOCSCTTY"}, {0x540f, "TIOCGPGRP"}, {0x5410, "TIOCSPGRP"},
	{0x5411, "TIOCOUTQ"}, {0x5412, "TIOCSTI"}, {0x5413, "TIOCGWINSZ"}, {0x5414, "TIOCSWINSZ"},
	{0x5415, "TIOCMGET"}, {0x5416, "TIOCMBIS"}, {0x5417, "TIOCMBIC"}, {0x5418, "TIOCMSET"},
	{0x5419, "TIOCGSOFTCAR"}, {0x541a, "TIOCSSOFTCAR"}, {0x541b, "FIONREAD"}, {0x541c, "TIOCLINUX"},
	{0x541d, "TIOCCONS"}, {0x541e, "TIOCGSERIAL"}, {0x541f, "TIOCSSERIAL"}, {0x5420, "TIOCPKT"},
	{0x5421, "FIONBIO"}, {0x5422, "TIOCNOTTY"}, {0x5423, "TIOCSETD"}, {0x5424, "TIOCGETD"},
	{0x5425, "TCSBRKP"}, {0x5427, "TIOCSBRK"}, {0x5428, "TIOCCBRK"}, {0x5429, "TIOCGSID"},
	{0x802c542a, "TCGETS2"}, {0x402c542b, "TCSETS2"}, {0x402c542c, "TCSETSW2"}, {0x402c542d, "TCSETSF2"},
	{0x80045430, "TIOCGPTN"}, {0x40045431, "TIOCSPTLCK"}, {0x80045432, "TIOCGDEV"},
	{0x5441, "TIOCGPTPEER"}, {0x80045439, "TIOCGPTLCK"}, {0x80045438, "TIOCGPKT"},
	{0x5450, "FIONCLEX"}, {0x5451, "FIOCLEX"}, {0x5452, "FIOASYNC"}, {0x5453, "TIOCSERCONFIG"},
	{0x5454, "TIOCSERGWILD"}, {0x5455, "TIOCSERSWILD"}, {0x5456, "TIOCGLCKTRMIOS"},
	{0x5457, "TIOCSLCKTRMIOS"}, {0x5459, "TIOCSERGETLSR"}, {0x545c, "TIOCMIWAIT"},
	{0x545d, "TIOCGICOUNT"}, {0x5460, "FIOQSIZE"},
	{0x80086601, "FS_IOC_GETFLAGS"}, {0x40086602, "FS_IOC_SETFLAGS"},
	{0x80087601, "FS_IOC_GETVERSION"}, {0x40087602, "FS_IOC_SETVERSION"},
	{0x8901, "FIOSETOWN"}, {0x8902, "SIOCSPGRP"}, {0x8903, "FIOGETOWN"}, {0x8904, "SIOCGPGRP"},
	{0x4600, "FBIOGET_VSCREENINFO"}, {0x4601, "FBIOPUT_VSCREENINFO"}, {0x4602, "FBIOGET_FSCREENINFO"},
	{0x4604, "FBIOGETCMAP"}, {0x4605, "FBIOPUTCMAP"}, {0x4606, "FBIOPAN_DISPLAY"},
	{0x4611, "FBIOBLANK"},
	{0x125f, "BLKRRPART"}, {0x80081272, "BLKGETSIZE64"}, {0x1268, "BLKSSZGET"}, {0x1260, "BLKGETSIZE"},
	{0x125d, "BLKROSET"}, {0x125e, "BLKROGET"}, {0x40081271, "BLKBSZSET"}, {0x80081270, "BLKBSZGET"},
	{0x4c00, "LOOP_SET_FD"}, {0x4c01, "LOOP_CLR_FD"}, {0x4c05, "LOOP_GET_STATUS64"},
	{0x4c04, "LOOP_SET_STATUS64"}, {0x4c82, "LOOP_CTL_GET_FREE"},
	{0x8912, "SIOCGIFCONF"}, {0x8913, "SIOCGIFFLAGS"}, {0x8914, "SIOCSIFFLAGS"},
	{0x8915, "SIOCGIFADDR"}, {0x8916, "SIOCSIFADDR"}, {0x8921, "SIOCGIFMTU"}, {0x8927, "SIOCGIFHWADDR"},
	{0x8933, "SIOCGIFINDEX"}, {0x8910, "SIOCGIFNAME"},
	{0x40049409, "BTRFS_IOC_CLONE"}, {0xc020660b, "FS_IOC_FIEMAP"},
}

var fsFlags = xlat{
	{0x1, "FS_SECRM_FL"}, {0x2, "FS_UNRM_FL"}, {0x4, "FS_COMPR_FL"}, {0x8, "FS_SYNC_FL"},
	{0x10, "FS_IMMUTABLE_FL"}, {0x20, "FS_APPEND_FL"}, {0x40, "FS_NODUMP_FL"}, {0x80, "FS_NOATIME_FL"},
	{0x100, "FS_DIRTY_FL"}, {0x200, "FS_COMPRBLK_FL"}, {0x400, "FS_NOCOMP_FL"}, {0x800, "FS_ENCRYPT_FL"},
	{0x1000, "FS_INDEX_FL"}, {0x2000, "FS_IMAGIC_FL"}, {0x4000, "FS_JOURNAL_DATA_FL"},
	{0x8000, "FS_NOTAIL_FL"}, {0x10000, "FS_DIRSYNC_FL"}, {0x20000, "FS_TOPDIR_FL"},
	{0x40000, "FS_HUGE_FILE_FL"}, {0x80000, "FS_EXTENT_FL"}, {0x100000, "FS_VERITY_FL"},
	{0x200000, "FS_EA_INODE_FL"}, {0x400000, "FS_EOFBLOCKS_FL"}, {0x800000, "FS_NOCOW_FL"},
	{0x2000000, "FS_DAX_FL"}, {0x10000000, "FS_INLINE_DATA_FL"}, {0x20000000, "FS_PROJINHERIT_FL"},
	{0x40000000, "FS_CASEFOLD_FL"},
}

var tcflshArgs = xlat{{0, "TCIFLUSH"}, {1, "TCOFLUSH"}, {2, "TCIOFLUSH"}}

var tcxoncArgs = xlat{{0, "TCOOFF"}, {1, "TCOON"}, {2, "TCIOFF"}, {3, "TCION"}}

var iocDirs = xlat{{0, "_IOC_NONE"}, {1, "_IOC_WRITE"}, {2, "_IOC_READ"}, {3, "_IOC_READ|_IOC_WRITE"}}

// ioctlRequest names an ioctl request, or decodes it as _IOC(dir, type,
// nr, size) as strace does for requests it does not know.
func ioctlRequest(v uint64) string {
	v &= 0xffffffff
	if s, ok := ioctlNames.name(v); ok {
		return s
	}
	dir, size := v>>30, v>>16&0x3fff
	return "_IOC(" + xval(iocDirs, dir, "_IOC_???") + ", " + hex0(v>>8&0xff) + ", " + hex0(v&0xff) + ", " + hex0(size) + ")"
}

func ioctlSpec(d *dec) []arg {
	a := []arg{in(aFD), in(func(d *dec, i int) { d.w(ioctlRequest(d.a[i])) })}
	switch uint32(d.a[1]) {
	case 0x5401: // TCGETS
		return append(a, out(aStruct(36, termios)))
	case 0x5402, 0x5403, 0x5404: // TCSETS*
		return append(a, in(aStruct(36, termios)))
	case 0x5413: // TIOCGWINSZ
		return append(a, out(aStruct(8, winsize)))
	case 0x5414: // TIOCSWINSZ
		return append(a, in(aStruct(8, winsize)))
	case 0x540f, 0x5429, 0x541b, 0x5411, 0x80045430, 0x5424: // TIOCGPGRP, TIOCGSID, FIONREAD, TIOCOUTQ, TIOCGPTN, TIOCGETD
		return append(a, out(aIntPtr))
	case 0x5410, 0x5421, 0x5452, 0x40045431, 0x5423: // TIOCSPGRP, FIONBIO, FIOASYNC, TIOCSPTLCK, TIOCSETD
		return append(a, in(aIntPtr))
	case 0x5450, 0x5451, 0x5422, 0x540c, 0x540d, 0x5427, 0x5428: // no argument
		return a
	case 0x540e, 0x5409, 0x5425: // TIOCSCTTY, TCSBRK, TCSBRKP
		return append(a, in(aInt))
	case 0x540b: // TCFLSH
		return append(a, in(xArg(tcflshArgs, "TC???")))
	case 0x540a: // TCXONC
		return append(a, in(xArg(tcxoncArgs, "TC???")))
	case 0x5412: // TIOCSTI
		return append(a, in(func(d *dec, i int) { d.strn(d.a[i], 1) }))
	case 0x80086601: // FS_IOC_GETFLAGS
		return append(a, out(aFSFlags))
	case 0x40086602: // FS_IOC_SETFLAGS
		return append(a, in(aFSFlags))
	}
	return append(a, in(aHex))
}

func aFSFlags(d *dec, i int) {
	if b := d.fetch(d.a[i], 4); b != nil {
		d.w("[" + flags(fsFlags, le32(b), "FS_???") + "]")
	}
}
