package strace

import "github.com/sis-kernel/sissim/pkg/linux"

// Argument printers: each prints argument i of the call.

func in(f func(d *dec, i int)) arg    { return arg{f: f} }
func out(f func(d *dec, i int)) arg   { return arg{f: f, dir: dirOut} }
func inout(f func(d *dec, i int)) arg { return arg{f: f, dir: dirInOut} }

func aInt(d *dec, i int)   { d.w(itoa(int64(int32(d.a[i])))) }
func aUint(d *dec, i int)  { d.w(utoa(uint64(uint32(d.a[i])))) }
func aLong(d *dec, i int)  { d.w(itoa(int64(d.a[i]))) }
func aUlong(d *dec, i int) { d.w(utoa(d.a[i])) }
func aHex(d *dec, i int)   { d.w(hex0(d.a[i])) }
func aPtr(d *dec, i int)   { d.addr(d.a[i]) }
func aFD(d *dec, i int)    { aInt(d, i) }
func aPath(d *dec, i int)  { d.path(d.a[i]) }
func aStr(d *dec, i int)   { d.str(d.a[i]) }
func aMode(d *dec, i int)  { d.w(octal(uint64(uint32(d.a[i])))) }
func aOpen(d *dec, i int)  { d.w(openMode(uint64(uint32(d.a[i])))) }
func aSig(d *dec, i int)   { d.w(sigArg(d.a[i])) }
func aPID(d *dec, i int)   { aInt(d, i) }

// aDirFD prints a directory descriptor: AT_FDCWD or the number.
func aDirFD(d *dec, i int) {
	if int32(d.a[i]) == linux.AT_FDCWD {
		d.w("AT_FDCWD")
		return
	}
	aInt(d, i)
}

// aID prints a uid or gid (-1 as -1).
func aID(d *dec, i int) {
	if uint32(d.a[i]) == ^uint32(0) {
		d.w("-1")
		return
	}
	aUint(d, i)
}

// xArg prints a constant; fArg a flag set (both 32-bit unless wide).
func xArg(x xlat, unknown string) func(d *dec, i int) {
	return func(d *dec, i int) { d.w(xval(x, uint64(uint32(d.a[i])), unknown)) }
}

func fArg(x xlat, unknown string) func(d *dec, i int) {
	return func(d *dec, i int) { d.w(flags(x, uint64(uint32(d.a[i])), unknown)) }
}

// aBufIn prints a buffer the call reads; its length is the next argument.
func aBufIn(d *dec, i int) { d.strn(d.a[i], d.a[i+1]) }

// aBufRet prints a buffer the call filled; its length is the result.
func aBufRet(d *dec, i int) { d.strn(d.a[i], d.ret) }

// aStrRet prints a string the call filled; the result counts it with its
// NUL (getcwd).
func aStrRet(d *dec, i int) { d.str(d.a[i]) }

// aIntPtr prints the int at a pointer as [N].
func aIntPtr(d *dec, i int) {
	if b := d.fetch(d.a[i], 4); b != nil {
		d.w("[" + itoa(i32(b)) + "]")
	}
}

func aUintPtr(d *dec, i int) {
	if b := d.fetch(d.a[i], 4); b != nil {
		d.w("[" + utoa(le32(b)) + "]")
	}
}

func aLongPtr(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("[" + itoa(i64(b)) + "]")
	}
}

// aFDPair prints int[2] as [3, 4] (pipe2, socketpair).
func aFDPair(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("[" + itoa(i32(b)) + ", " + itoa(i32(b[4:])) + "]")
	}
}

func aTimespec(d *dec, i int)   { d.timespecAt(d.a[i]) }
func aTimeval(d *dec, i int)    { d.timevalAt(d.a[i]) }
func aItimerspec(d *dec, i int) { d.itimerspecAt(d.a[i]) }
func aItimerval(d *dec, i int)  { d.itimervalAt(d.a[i]) }
func aRlimit(d *dec, i int)     { d.rlimitAt(d.a[i]) }

// aStruct prints the n-byte structure at argument i with f.
func aStruct(n int, f func([]byte) string) func(d *dec, i int) {
	return func(d *dec, i int) {
		if b := d.fetch(d.a[i], n); b != nil {
			d.w(f(b))
		}
	}
}

// aSigset prints a sigset whose size is argument j.
func aSigset(j int) func(d *dec, i int) {
	return func(d *dec, i int) { d.sigsetAt(d.a[i], d.a[j]) }
}

// aClock prints a clock id.
func aClock(d *dec, i int) {
	v := int32(d.a[i])
	if v < 0 {
		d.w(itoa(int64(v)))
		return
	}
	d.w(xval(clockNames, uint64(v), "CLOCK_???"))
}

// aWhich prints a signed constant (RUSAGE_CHILDREN is -1).
func aSignedX(x xlat, unknown string) func(d *dec, i int) {
	return func(d *dec, i int) {
		v := int64(int32(d.a[i]))
		if s, ok := x.name(uint64(v)); ok {
			d.w(s)
			return
		}
		d.w(itoa(v) + " /* " + unknown + " */")
	}
}

// aSockaddr prints a socket address whose length is argument j.
func aSockaddr(j int) func(d *dec, i int) {
	return func(d *dec, i int) { d.sockaddrAt(d.a[i], uint64(uint32(d.a[j]))) }
}

// aIDs prints an array of n gids ([0, 1]); n is argument j, or the result
// when j < 0.
func aIDs(j int) func(d *dec, i int) {
	return func(d *dec, i int) {
		n := d.ret
		if j >= 0 {
			n = uint64(uint32(d.a[j]))
		}
		if n > 65536 {
			d.addr(d.a[i])
			return
		}
		b := d.fetch(d.a[i], int(n)*4)
		if b == nil {
			return
		}
		d.w("[")
		for k := 0; k < int(n); k++ {
			if k > 0 {
				d.w(", ")
			}
			if k >= d.tr.opt.StringLimit {
				d.w("...")
				break
			}
			d.w(utoa(le32(b[4*k:])))
		}
		d.w("]")
	}
}
