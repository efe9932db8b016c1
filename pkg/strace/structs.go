package strace

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// This file prints the structures strace decodes, in their arm64 layouts
// and in strace's abbreviated (non -v) form.

// timespec prints {tv_sec=1, tv_nsec=2}.
func timespec(b []byte) string {
	return "{tv_sec=" + itoa(i64(b)) + ", tv_nsec=" + itoa(i64(b[8:])) + "}"
}

// timeval prints {tv_sec=1, tv_usec=2}.
func timeval(b []byte) string {
	return "{tv_sec=" + itoa(i64(b)) + ", tv_usec=" + itoa(i64(b[8:])) + "}"
}

func (d *dec) timespecAt(addr uint64) {
	if b := d.fetch(addr, 16); b != nil {
		d.w(timespec(b))
	}
}

func (d *dec) timevalAt(addr uint64) {
	if b := d.fetch(addr, 16); b != nil {
		d.w(timeval(b))
	}
}

// itimerspec prints {it_interval={...}, it_value={...}}.
func (d *dec) itimerspecAt(addr uint64) {
	if b := d.fetch(addr, 32); b != nil {
		d.w("{it_interval=" + timespec(b) + ", it_value=" + timespec(b[16:]) + "}")
	}
}

func (d *dec) itimervalAt(addr uint64) {
	if b := d.fetch(addr, 32); b != nil {
		d.w("{it_interval=" + timeval(b) + ", it_value=" + timeval(b[16:]) + "}")
	}
}

// utimeTimespec prints one utimensat time with UTIME_NOW/UTIME_OMIT and
// the date as a comment (in UTC).
func utimeTimespec(b []byte) string {
	switch i64(b[8:]) {
	case 1<<30 - 1:
		return "UTIME_NOW"
	case 1<<30 - 2:
		return "UTIME_OMIT"
	}
	return timespec(b) + " /* " + dateComment(i64(b), i64(b[8:])) + " */"
}

// dateComment formats a time as strace's comments do:
// 1970-01-01T00:00:01.000000002+0000.
func dateComment(sec, nsec int64) string {
	t := time.Unix(sec, 0).UTC()
	s := t.Format("2006-01-02T15:04:05")
	if nsec > 0 && nsec < 1e9 {
		s += fmt.Sprintf(".%09d", nsec)
	}
	return s + "+0000"
}

// stat prints an abbreviated struct stat (asm-generic layout).
func stat(b []byte) string {
	var f fields
	mode := le32(b[16:])
	f.add("st_mode", fileMode(mode))
	switch mode & 0o170000 {
	case 0o020000, 0o060000:
		f.add("st_rdev", makedev(le64(b[32:])))
	default:
		f.add("st_size", itoa(i64(b[48:])))
	}
	f.more()
	return f.String()
}

// makedev prints a device number as makedev(0x88, 0).
func makedev(dev uint64) string {
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	return "makedev(" + hex0(major) + ", " + hex0(minor) + ")"
}

// hex0 prints 0 as 0 and others as 0x...
func hex0(v uint64) string {
	if v == 0 {
		return "0"
	}
	return hex(v)
}

// statx prints an abbreviated struct statx.
func statx(b []byte) string {
	var f fields
	mask := le32(b)
	f.add("stx_mask", flags(statxMask, mask, "STATX_???"))
	f.add("stx_attributes", flags(statxAttrs, le64(b[8:]), "STATX_ATTR_???"))
	if mask&(linux.STATX_TYPE|linux.STATX_MODE) != 0 {
		f.add("stx_mode", fileMode(le16(b[28:])))
	}
	if mask&linux.STATX_SIZE != 0 {
		f.add("stx_size", utoa(le64(b[40:])))
	}
	f.more()
	return f.String()
}

// statfs prints struct statfs (asm-generic 64-bit layout).
func statfs(b []byte) string {
	var f fields
	if name, ok := fsMagic.name(le64(b)); ok {
		f.add("f_type", name)
	} else {
		f.add("f_type", hex(le64(b)))
	}
	f.add("f_bsize", itoa(i64(b[8:])))
	f.add("f_blocks", utoa(le64(b[16:])))
	f.add("f_bfree", utoa(le64(b[24:])))
	f.add("f_bavail", utoa(le64(b[32:])))
	f.add("f_files", utoa(le64(b[40:])))
	f.add("f_ffree", utoa(le64(b[48:])))
	f.add("f_fsid", "{val=["+hex0(le32(b[56:]))+", "+hex0(le32(b[60:]))+"]}")
	f.add("f_namelen", itoa(i64(b[64:])))
	f.add("f_frsize", itoa(i64(b[72:])))
	f.add("f_flags", flags(statfsFlags, le64(b[80:]), "ST_???"))
	return f.String()
}

// rlim prints a resource limit: RLIM64_INFINITY, 8192*1024, 1024.
func rlim(v uint64) string {
	switch {
	case v == ^uint64(0):
		return "RLIM64_INFINITY"
	case v > 1024 && v%1024 == 0:
		return utoa(v/1024) + "*1024"
	}
	return utoa(v)
}

func (d *dec) rlimitAt(addr uint64) {
	if b := d.fetch(addr, 16); b != nil {
		d.w("{rlim_cur=" + rlim(le64(b)) + ", rlim_max=" + rlim(le64(b[8:])) + "}")
	}
}

// utsname prints {sysname="Linux", nodename="sis", ...}.
func utsname(b []byte) string {
	field := func(i int) string {
		s := b[i*linux.UtsnameLen : (i+1)*linux.UtsnameLen]
		if n := indexByte(s, 0); n >= 0 {
			s = s[:n]
		}
		return quote(s)
	}
	return "{sysname=" + field(0) + ", nodename=" + field(1) + ", ...}"
}

// sysinfo prints struct sysinfo.
func sysinfo(b []byte) string {
	var f fields
	f.add("uptime", itoa(i64(b)))
	f.add("loads", "["+utoa(le64(b[8:]))+", "+utoa(le64(b[16:]))+", "+utoa(le64(b[24:]))+"]")
	for i, n := range []string{"totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap"} {
		f.add(n, utoa(le64(b[32+8*i:])))
	}
	f.add("procs", utoa(le16(b[80:])))
	f.add("totalhigh", utoa(le64(b[88:])))
	f.add("freehigh", utoa(le64(b[96:])))
	f.add("mem_unit", utoa(le32(b[104:])))
	return f.String()
}

// rusage prints an abbreviated struct rusage.
func rusage(b []byte) string {
	return "{ru_utime=" + timeval(b) + ", ru_stime=" + timeval(b[16:]) + ", ...}"
}

func tms(b []byte) string {
	var f fields
	for i, n := range []string{"tms_utime", "tms_stime", "tms_cutime", "tms_cstime"} {
		f.add(n, utoa(le64(b[8*i:])))
	}
	return f.String()
}

// flock prints struct flock; l_pid only where the kernel reports it.
func flock(b []byte, pid bool) string {
	var f fields
	f.add("l_type", xval(lockTypes, le16(b), "F_???"))
	f.add("l_whence", xval(seekWhence, le16(b[2:]), "SEEK_???"))
	f.add("l_start", itoa(i64(b[8:])))
	f.add("l_len", itoa(i64(b[16:])))
	if pid {
		f.add("l_pid", itoa(i32(b[24:])))
	}
	return f.String()
}

// sigaction prints a kernel struct sigaction (arm64: handler, flags,
// restorer, mask).
func sigaction(b []byte) string {
	var f fields
	h := le64(b)
	switch h {
	case 0:
		f.add("sa_handler", "SIG_DFL")
	case 1:
		f.add("sa_handler", "SIG_IGN")
	case ^uint64(0):
		f.add("sa_handler", "SIG_ERR")
	default:
		f.add("sa_handler", hex(h))
	}
	fl := le64(b[8:])
	f.add("sa_mask", sigset(b[24:32]))
	f.add("sa_flags", flags(saFlags, fl, "SA_???"))
	if fl&0x04000000 != 0 {
		f.add("sa_restorer", addrStr(le64(b[16:])))
	}
	return f.String()
}

// stack prints stack_t.
func stack(b []byte) string {
	var f fields
	f.add("ss_sp", addrStr(le64(b)))
	f.add("ss_flags", flags(ssFlags, le32(b[8:]), "SS_???"))
	f.add("ss_size", utoa(le64(b[16:])))
	return f.String()
}

// sigevent prints struct sigevent.
func sigevent(b []byte) string {
	var f fields
	if v := le64(b); v != 0 {
		f.add("sigev_value", "{sival_int="+itoa(i32(b))+", sival_ptr="+hex(v)+"}")
	}
	notify := le32(b[12:])
	switch notify {
	case 0, 2, 4:
		f.add("sigev_signo", sigArg(le32(b[8:])))
	default:
		f.add("sigev_signo", utoa(le32(b[8:])))
	}
	f.add("sigev_notify", xval(sigevNotify, notify, "SIGEV_???"))
	switch notify {
	case 4:
		f.add("sigev_notify_thread_id", itoa(i32(b[16:])))
	case 2:
		f.add("sigev_notify_function", addrStr(le64(b[16:])))
		f.add("sigev_notify_attributes", addrStr(le64(b[24:])))
	}
	return f.String()
}

// epollEvent prints struct epoll_event (not packed on arm64: 16 bytes).
func epollEvent(b []byte) string {
	data := le64(b[8:])
	return "{events=" + flags(epollEvents, le32(b), "EPOLL???") + ", data={u32=" + utoa(data&0xffffffff) + ", u64=" + utoa(data) + "}}"
}

// waitStatus prints a wait status as strace does:
// [{WIFEXITED(s) && WEXITSTATUS(s) == 0}].
func waitStatus(s uint32) string {
	var out string
	switch {
	case s&0x7f == 0:
		out = "WIFEXITED(s) && WEXITSTATUS(s) == " + utoa(uint64(s>>8&0xff))
	case s&0xff == 0x7f:
		out = "WIFSTOPPED(s) && WSTOPSIG(s) == " + sigOrNum(s>>8&0xff)
		if ev := s >> 16; ev != 0 {
			out += " && s >> 16 == " + utoa(uint64(ev))
		}
	case s == 0xffff:
		out = "WIFCONTINUED(s)"
	default:
		out = "WIFSIGNALED(s) && WTERMSIG(s) == " + sigOrNum(s&0x7f)
		if s&0x80 != 0 {
			out += " && WCOREDUMP(s)"
		}
	}
	return "[{" + out + "}]"
}

func sigOrNum(v uint32) string {
	if n := signalName(linux.Signal(v)); n != "" {
		return n
	}
	return utoa(uint64(v))
}

// sockaddr prints a socket address of n bytes.
func sockaddr(b []byte) string {
	if len(b) < 2 {
		return "{sa_family=???}"
	}
	var f fields
	fam := le16(b)
	f.add("sa_family", xval(addrFamilies, fam, "AF_???"))
	switch {
	case fam == 1: // AF_UNIX
		p := b[2:]
		if len(p) == 0 {
			break
		}
		if p[0] == 0 && len(p) > 1 {
			f.add("sun_path", "@"+quote(p[1:]))
			break
		}
		if n := indexByte(p, 0); n >= 0 {
			p = p[:n]
		}
		f.add("sun_path", quote(p))
	case fam == 2 && len(b) >= 8: // AF_INET
		f.add("sin_port", "htons("+utoa(uint64(b[2])<<8|uint64(b[3]))+")")
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		f.add("sin_addr", "inet_addr(\""+ip.String()+"\")")
	case fam == 10 && len(b) >= 24: // AF_INET6
		f.add("sin6_port", "htons("+utoa(uint64(b[2])<<8|uint64(b[3]))+")")
		f.add("sin6_flowinfo", "htonl("+utoa(uint64(b[4])<<24|uint64(b[5])<<16|uint64(b[6])<<8|uint64(b[7]))+")")
		ip := netip.AddrFrom16([16]byte(b[8:24]))
		f.add("", "inet_pton(AF_INET6, \""+ip.String()+"\", &sin6_addr)")
		if len(b) >= 28 {
			f.add("sin6_scope_id", utoa(le32(b[24:])))
		}
	case fam == 16 && len(b) >= 12: // AF_NETLINK
		f.add("nl_pid", utoa(le32(b[4:])))
		f.add("nl_groups", fmt.Sprintf("%08x", le32(b[8:])))
	default:
		f.add("sa_data", quote(b[2:]))
	}
	return f.String()
}

// sockaddrAt prints the socket address of n bytes at addr.
func (d *dec) sockaddrAt(addr, n uint64) {
	if addr == 0 {
		d.w("NULL")
		return
	}
	if n > 128 {
		n = 128
	}
	if b := d.fetch(addr, int(n)); b != nil {
		d.w(sockaddr(b))
	}
}

// iovecs prints an array of n iovecs at addr; data says how many bytes of
// data to show in total (-1: each iov_len).
func (d *dec) iovecs(addr, n uint64, data int64) {
	if addr == 0 {
		d.w("NULL")
		return
	}
	if n > 1024 {
		d.addr(addr)
		return
	}
	raw := d.fetch(addr, int(n)*16)
	if raw == nil {
		return
	}
	d.w("[")
	for i := uint64(0); i < n; i++ {
		if i > 0 {
			d.w(", ")
		}
		if i >= uint64(d.tr.opt.StringLimit) {
			d.w("...")
			break
		}
		base, l := le64(raw[16*i:]), le64(raw[16*i+8:])
		show := l
		if data >= 0 {
			if uint64(data) < show {
				show = uint64(data)
			}
			data -= int64(show)
		}
		d.w("{iov_base=")
		d.strn(base, show)
		d.w(", iov_len=" + utoa(l) + "}")
	}
	d.w("]")
}

// msghdr prints struct msghdr; data as for iovecs.
func (d *dec) msghdrAt(addr uint64, data int64) {
	b := d.fetch(addr, 56)
	if b == nil {
		return
	}
	name, namelen := le64(b), le32(b[8:])
	d.w("{msg_name=")
	if name != 0 && namelen > 0 {
		d.sockaddrAt(name, namelen)
	} else {
		d.addr(name)
	}
	d.w(", msg_namelen=" + utoa(namelen) + ", msg_iov=")
	d.iovecs(le64(b[16:]), le64(b[24:]), data)
	d.w(", msg_iovlen=" + utoa(le64(b[24:])))
	if c := le64(b[32:]); c != 0 {
		d.w(", msg_control=" + hex(c))
	}
	d.w(", msg_controllen=" + utoa(le64(b[40:])) + ", msg_flags=" + flags(msgFlags, le32(b[48:]), "MSG_???") + "}")
}

// winsize prints struct winsize.
func winsize(b []byte) string {
	return "{ws_row=" + utoa(le16(b)) + ", ws_col=" + utoa(le16(b[2:])) + ", ws_xpixel=" + utoa(le16(b[4:])) + ", ws_ypixel=" + utoa(le16(b[6:])) + "}"
}

var termiosIflag = xlat{
	{0o1, "IGNBRK"}, {0o2, "BRKINT"}, {0o4, "IGNPAR"}, {0o10, "PARMRK"}, {0o20, "INPCK"}, {0o40, "ISTRIP"},
	{0o100, "INLCR"}, {0o200, "IGNCR"}, {0o400, "ICRNL"}, {0o1000, "IUCLC"}, {0o2000, "IXON"},
	{0o4000, "IXANY"}, {0o10000, "IXOFF"}, {0o20000, "IMAXBEL"}, {0o40000, "IUTF8"},
}

var termiosOflag = xlat{
	{0o1, "OPOST"}, {0o2, "OLCUC"}, {0o4, "ONLCR"}, {0o10, "OCRNL"}, {0o20, "ONOCR"}, {0o40, "ONLRET"},
	{0o100, "OFILL"}, {0o200, "OFDEL"},
}

var termiosCflag = xlat{
	{0o100, "CSTOPB"}, {0o200, "CREAD"}, {0o400, "PARENB"}, {0o1000, "PARODD"}, {0o2000, "HUPCL"},
	{0o4000, "CLOCAL"}, {0o10000000000, "CMSPAR"}, {0o20000000000, "CRTSCTS"},
}

var termiosLflag = xlat{
	{0o1, "ISIG"}, {0o2, "ICANON"}, {0o4, "XCASE"}, {0o10, "ECHO"}, {0o20, "ECHOE"}, {0o40, "ECHOK"},
	{0o100, "ECHONL"}, {0o200, "NOFLSH"}, {0o100000, "IEXTEN"}, {0o1000, "ECHOCTL"}, {0o2000, "ECHOPRT"},
	{0o4000, "ECHOKE"}, {0o10000, "FLUSHO"}, {0o40000, "PENDIN"}, {0o400, "TOSTOP"}, {0o200000, "EXTPROC"},
}

var baudRates = xlat{
	{0, "B0"}, {1, "B50"}, {2, "B75"}, {3, "B110"}, {4, "B134"}, {5, "B150"}, {6, "B200"}, {7, "B300"},
	{0o10, "B600"}, {0o11, "B1200"}, {0o12, "B1800"}, {0o13, "B2400"}, {0o14, "B4800"}, {0o15, "B9600"},
	{0o16, "B19200"}, {0o17, "B38400"}, {0o10001, "B57600"}, {0o10002, "B115200"}, {0o10003, "B230400"},
	{0o10004, "B460800"}, {0o10005, "B500000"}, {0o10006, "B576000"}, {0o10007, "B921600"},
	{0o10010, "B1000000"}, {0o10011, "B1152000"}, {0o10012, "B1500000"}, {0o10013, "B2000000"},
	{0o10014, "B2500000"}, {0o10015, "B3000000"}, {0o10016, "B3500000"}, {0o10017, "B4000000"},
}

// termios prints an abbreviated struct termios (TCGETS and friends).
func termios(b []byte) string {
	var f fields
	f.add("c_iflag", flags(termiosIflag, le32(b), "???"))
	o := le32(b[4:])
	delays := []string{
		"NL" + utoa(o>>8&1), "CR" + utoa(o>>9&3), "TAB" + utoa(o>>11&3),
		"BS" + utoa(o>>13&1), "VT" + utoa(o>>14&1), "FF" + utoa(o>>15&1),
	}
	of := strings.Join(delays, "|")
	if rest := o &^ 0o177400; rest != 0 {
		of += "|" + flags(termiosOflag, rest, "???")
	}
	f.add("c_oflag", of)
	c := le32(b[8:])
	cf := xval(baudRates, c&0o10017, "B???") + "|CS" + utoa(5+(c>>4&3))
	if rest := c &^ 0o10077; rest != 0 {
		if ib := rest >> 16 & 0o10017; ib != 0 {
			cf += "|" + xval(baudRates, ib, "B???") + "<<IBSHIFT"
			rest &^= 0o10017 << 16
		}
		if rest != 0 {
			cf += "|" + flags(termiosCflag, rest, "???")
		}
	}
	f.add("c_cflag", cf)
	f.add("c_lflag", flags(termiosLflag, le32(b[12:]), "???"))
	f.more()
	return f.String()
}

// capData prints a capability set as strace does: 1<<CAP_CHOWN|...
func capSet(lo, hi uint64) string {
	v := lo | hi<<32
	if v == 0 {
		return "0"
	}
	var parts []string
	for i, n := range capNames {
		if v&(1<<uint(i)) != 0 {
			parts = append(parts, "1<<"+n)
			v &^= 1 << uint(i)
		}
	}
	if v != 0 {
		parts = append(parts, hex(v))
	}
	return strings.Join(parts, "|")
}

// cpuSet prints a CPU mask as the list of CPUs: [0 1].
func cpuSet(b []byte) string {
	var parts []string
	for i, c := range b {
		for j := 0; j < 8; j++ {
			if c&(1<<j) != 0 {
				parts = append(parts, strconv.Itoa(8*i+j))
			}
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// fdSet prints an fd_set of nfds bits: [0 4].
func fdSet(b []byte, nfds int) string {
	var parts []string
	for i := 0; i < nfds && i/8 < len(b); i++ {
		if b[i/8]&(1<<(i%8)) != 0 {
			parts = append(parts, strconv.Itoa(i))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
