package strace

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// dec decodes one system call into its strace line.
type dec struct {
	tr   *Tracer
	mem  Memory
	nr   uint64
	a    [6]uint64
	sp   uint64
	sys  *sysent
	spec []arg

	b       strings.Builder
	n       int  // arguments printed
	next    int  // index into spec of the first argument printed on exit
	more    bool // arguments remain after entry
	exiting bool

	raw   bool // decoding failed: the arguments are printed in hex
	ret   uint64
	errno linux.Errno
	tail  string // after the result, e.g. " (flags O_RDONLY)"
	rv    rvKind
	// restart is the ERESTART* result of a call a signal interrupted,
	// e.g. "ERESTARTSYS (To be restarted if SA_RESTART is set)".
	restart string

	// saved holds what an in/out argument read at entry (accept's
	// address length, say) for printing at exit.
	saved [6]uint64
	ok    [6]bool
}

// arg prints one argument of a system call.
type arg struct {
	f   func(d *dec, i int) // prints argument i
	dir dir
}

type dir uint8

const (
	dirIn    dir = iota // read by the call: printed at entry
	dirOut              // written by the call: printed at exit, as an address if it failed
	dirInOut            // printed at exit by f, which handles failure itself
)

// rvKind says how a successful result is printed.
type rvKind uint8

const (
	rvDec  rvKind = iota // signed decimal
	rvHex                // 0x1f
	rvOct                // 022
	rvUdec               // unsigned decimal
	rvNone               // "?"
)

func (d *dec) enter() {
	d.spec = d.sys.args(d)
	for i, a := range d.spec {
		if a.dir == dirInOut && i < len(d.a) {
			if b := d.read(d.a[i], 4); b != nil {
				d.saved[i], d.ok[i] = le32(b), true
			}
		}
	}
	for i, a := range d.spec {
		if a.dir != dirIn {
			d.next, d.more = i, true
			return
		}
		d.sep()
		a.f(d, i)
	}
	d.next = len(d.spec)
}

func (d *dec) exit() {
	if d.raw {
		return
	}
	d.exiting = true
	d.more = false
	for i := d.next; i < len(d.spec); i++ {
		a := d.spec[i]
		d.sep()
		if a.dir == dirOut && d.errno != 0 {
			d.addr(d.a[i])
			continue
		}
		a.f(d, i)
	}
}

// result is the text after "= ".
func (d *dec) result() string {
	if d.restart != "" {
		return "? " + d.restart
	}
	if d.errno != 0 {
		return "-1 " + d.errno.Name() + " (" + d.errno.Error() + ")" + d.tail
	}
	var s string
	switch d.rv {
	case rvHex:
		s = hex0(d.ret)
	case rvOct:
		s = octal(d.ret)
	case rvUdec:
		s = strconv.FormatUint(d.ret, 10)
	case rvNone:
		s = "?"
	default:
		s = strconv.FormatInt(int64(d.ret), 10)
	}
	return s + d.tail
}

func (d *dec) failed() bool { return d.errno != 0 }

// sep writes the ", " between arguments.
func (d *dec) sep() {
	if d.n > 0 {
		d.b.WriteString(", ")
	}
	d.n++
}

func (d *dec) w(s string) { d.b.WriteString(s) }

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// octal prints a mode as strace does: 0, 022, 0644, 04755 (at least
// three digits).
func octal(v uint64) string {
	s := strconv.FormatUint(v, 8)
	for len(s) < 3 {
		s = "0" + s
	}
	if s[0] != '0' {
		s = "0" + s
	}
	return s
}

// addr prints a pointer: NULL or 0x...
func (d *dec) addr(v uint64) { d.w(addrStr(v)) }

func addrStr(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return hex(v)
}

// read reads n bytes at addr; on failure it returns nil.
func (d *dec) read(addr uint64, n int) []byte {
	if addr == 0 || n < 0 || d.mem == nil || addr+uint64(n) < addr {
		return nil
	}
	b := make([]byte, n)
	if d.mem.ReadMem(addr, b) != nil {
		return nil
	}
	return b
}

// fetch reads n bytes at addr or prints the address (NULL or 0x...) and
// returns nil when it cannot, as strace's umoven_or_printaddr.
func (d *dec) fetch(addr uint64, n int) []byte {
	b := d.read(addr, n)
	if b == nil {
		d.addr(addr)
	}
	return b
}

// readStr reads a NUL-terminated string of at most max bytes at addr. It
// returns the bytes before the NUL, whether the NUL was found, and whether
// anything could be read.
func (d *dec) readStr(addr uint64, max int) (s []byte, term, ok bool) {
	if addr == 0 || d.mem == nil || addr+uint64(max) < addr {
		return nil, false, false
	}
	const page = 4096
	for len(s) < max+1 {
		// Read up to the end of the page so that a string ending just
		// before an unmapped page reads.
		n := page - int((addr+uint64(len(s)))%page)
		if rest := max + 1 - len(s); n > rest {
			n = rest
		}
		chunk := make([]byte, n)
		if d.mem.ReadMem(addr+uint64(len(s)), chunk) != nil {
			// The memory may end before the page does: read on a
			// byte at a time.
			chunk = d.readBytes(addr+uint64(len(s)), n)
			if len(chunk) == 0 {
				if len(s) == 0 {
					return nil, false, false
				}
				break
			}
		}
		if i := indexByte(chunk, 0); i >= 0 {
			return append(s, chunk[:i]...), true, true
		}
		s = append(s, chunk...)
	}
	if len(s) > max {
		s = s[:max]
	}
	return s, false, true
}

// readBytes reads up to n bytes at addr one at a time, stopping at the
// first unreadable byte or after a NUL.
func (d *dec) readBytes(addr uint64, n int) []byte {
	var out []byte
	var c [1]byte
	for i := 0; i < n; i++ {
		if d.mem.ReadMem(addr+uint64(i), c[:]) != nil {
			break
		}
		out = append(out, c[0])
		if c[0] == 0 {
			break
		}
	}
	return out
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// quote quotes b as strace does: C escapes for \t \n \v \f \r " \\, octal
// escapes for other unprintable bytes.
func quote(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) + 2)
	s.WriteByte('"')
	for i, c := range b {
		switch c {
		case '"', '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case '\f':
			s.WriteString(`\f`)
		case '\n':
			s.WriteString(`\n`)
		case '\r':
			s.WriteString(`\r`)
		case '\t':
			s.WriteString(`\t`)
		case '\v':
			s.WriteString(`\v`)
		default:
			if c >= ' ' && c < 0x7f {
				s.WriteByte(c)
				continue
			}
			s.WriteByte('\\')
			o := strconv.FormatUint(uint64(c), 8)
			if i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7' {
				o = strings.Repeat("0", 3-len(o)) + o
			}
			s.WriteString(o)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// quoteHex quotes every byte of b as \xNN (getrandom's buffers).
func quoteHex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		s.WriteString(`\x`)
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	s.WriteByte('"')
	return s.String()
}

// strn prints a buffer of n bytes at addr: at most -s bytes, then "..."
// if it is longer.
func (d *dec) strn(addr, n uint64) { d.strnQ(addr, n, quote) }

func (d *dec) strnQ(addr, n uint64, q func([]byte) string) {
	if addr == 0 {
		d.w("NULL")
		return
	}
	show := n
	if lim := uint64(d.tr.opt.StringLimit); show > lim {
		show = lim
	}
	b := d.fetch(addr, int(show))
	if b == nil {
		return
	}
	d.w(q(b))
	if n > show {
		d.w("...")
	}
}

// str prints a NUL-terminated string, at most -s bytes of it.
func (d *dec) str(addr uint64) { d.w(d.strS(addr, d.tr.opt.StringLimit)) }

// path prints a NUL-terminated path (up to PATH_MAX; -s does not apply).
func (d *dec) path(addr uint64) { d.w(d.strS(addr, linux.PATH_MAX-1)) }

func (d *dec) strS(addr uint64, max int) string {
	if addr == 0 {
		return "NULL"
	}
	s, term, ok := d.readStr(addr, max)
	if !ok {
		return hex(addr)
	}
	if !term {
		return quote(s) + "..."
	}
	return quote(s)
}

func le16(b []byte) uint64 { return uint64(binary.LittleEndian.Uint16(b)) }
func le32(b []byte) uint64 { return uint64(binary.LittleEndian.Uint32(b)) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func i32(b []byte) int64   { return int64(int32(binary.LittleEndian.Uint32(b))) }
func i64(b []byte) int64   { return int64(binary.LittleEndian.Uint64(b)) }

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// fields joins "name=value" pairs into "{a=1, b=2}".
type fields struct{ b strings.Builder }

func (f *fields) add(name, val string) {
	if f.b.Len() == 0 {
		f.b.WriteByte('{')
	} else {
		f.b.WriteString(", ")
	}
	if name != "" {
		f.b.WriteString(name)
		f.b.WriteByte('=')
	}
	f.b.WriteString(val)
}

// more ends an abbreviated structure with ", ...".
func (f *fields) more() { f.add("", "...") }

func (f *fields) String() string {
	if f.b.Len() == 0 {
		return "{}"
	}
	return f.b.String() + "}"
}
