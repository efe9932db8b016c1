package strace

import (
	"encoding/binary"
	"math/bits"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// signalName names a signal as strace does: SIGSEGV, SIGRTMIN, SIGRT_3.
func signalName(s linux.Signal) string {
	switch {
	case s > 0 && s < linux.SIGRTMIN:
		return s.String()
	case s == linux.SIGRTMIN:
		return "SIGRTMIN"
	case s > linux.SIGRTMIN && s <= linux.SIGRTMAX:
		return "SIGRT_" + itoa(int64(s-linux.SIGRTMIN))
	}
	return ""
}

// sigArg prints a signal number argument: SIGTERM, or the number (0, 100).
func sigArg(v uint64) string {
	s := int64(int32(v))
	if s == 0 {
		return "0"
	}
	if n := signalName(linux.Signal(s)); n != "" && s > 0 {
		return n
	}
	return itoa(s)
}

// sigset prints a signal mask of n bytes: [INT RT_3], or ~[...] for the
// signals not in the mask when at least two thirds of them are in it.
func sigset(mask []byte) string {
	words := (len(mask) + 3) / 4
	if words > 2 {
		words = 2
	}
	var m uint64
	for i := 0; i < len(mask) && i < 8; i++ {
		m |= uint64(mask[i]) << (8 * i)
	}
	nbits := words * 32
	if nbits < 64 {
		m &= 1<<nbits - 1
	}
	var b strings.Builder
	if bits.OnesCount64(m) >= nbits*2/3 {
		b.WriteByte('~')
		m = ^m
		if nbits < 64 {
			m &= 1<<nbits - 1
		}
	}
	b.WriteByte('[')
	first := true
	for m != 0 {
		i := bits.TrailingZeros64(m)
		m &^= 1 << i
		name := signalName(linux.Signal(i + 1))
		if name == "" {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(strings.TrimPrefix(name, "SIG"))
	}
	b.WriteByte(']')
	return b.String()
}

// sigsetAt prints the sigset of size n at addr (n must be 8, as the kernel
// requires, or strace prints the address).
func (d *dec) sigsetAt(addr, n uint64) {
	if n == 0 || n > 8 {
		d.addr(addr)
		return
	}
	if b := d.fetch(addr, int(n)); b != nil {
		d.w(sigset(b))
	}
}

// Siginfo is the part of a siginfo_t that strace prints.
type Siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	// Pid and Uid: the sender (kill, sigqueue, SIGCHLD's child).
	Pid int32
	Uid uint32
	// Status is SIGCHLD's exit code or signal; Utime and Stime its
	// child's CPU times in clock ticks.
	Status       int32
	Utime, Stime int64
	// Addr is the faulting address of SIGSEGV, SIGBUS, SIGILL, SIGFPE and
	// SIGTRAP.
	Addr uint64
	// Value is the sigqueue/timer value (si_int/si_ptr).
	Value uint64
	// TimerID and Overrun are the POSIX timer's (SI_TIMER).
	TimerID int32
	Overrun int32
	// Band and FD are SIGPOLL's.
	Band int64
	FD   int32
	// CallAddr, Syscall and Arch are SIGSYS's.
	CallAddr uint64
	Syscall  int32
	Arch     uint32
}

// SizeofSiginfo is the size of siginfo_t.
const SizeofSiginfo = 128

// ParseSiginfo decodes a 128-byte arm64 siginfo_t.
func ParseSiginfo(b []byte) (Siginfo, bool) {
	if len(b) < SizeofSiginfo {
		return Siginfo{}, false
	}
	le := binary.LittleEndian
	si := Siginfo{Signo: int32(le.Uint32(b)), Errno: int32(le.Uint32(b[4:])), Code: int32(le.Uint32(b[8:]))}
	f := b[16:] // the union, 8-byte aligned
	switch si.kind() {
	case siKill:
		si.Pid, si.Uid = int32(le.Uint32(f)), le.Uint32(f[4:])
	case siRT:
		si.Pid, si.Uid, si.Value = int32(le.Uint32(f)), le.Uint32(f[4:]), le.Uint64(f[8:])
	case siTimer:
		si.TimerID, si.Overrun, si.Value = int32(le.Uint32(f)), int32(le.Uint32(f[4:])), le.Uint64(f[8:])
	case siChld:
		si.Pid, si.Uid, si.Status = int32(le.Uint32(f)), le.Uint32(f[4:]), int32(le.Uint32(f[8:]))
		si.Utime, si.Stime = int64(le.Uint64(f[16:])), int64(le.Uint64(f[24:]))
	case siFault:
		si.Addr = le.Uint64(f)
	case siPoll:
		si.Band, si.FD = int64(le.Uint64(f)), int32(le.Uint32(f[8:]))
	case siSys:
		si.CallAddr, si.Syscall, si.Arch = le.Uint64(f), int32(le.Uint32(f[8:])), le.Uint32(f[12:])
	}
	return si, true
}

type siKind int

const (
	siKill siKind = iota
	siRT
	siTimer
	siChld
	siFault
	siPoll
	siSys
)

// kind is which union member the kernel filled in (as siginfo_layout).
func (si *Siginfo) kind() siKind {
	if si.Code <= 0 || si.Code == 0x80 { // SI_USER, SI_KERNEL, SI_QUEUE, SI_TKILL...
		switch si.Code {
		case 0, -6, 0x80: // SI_USER, SI_TKILL, SI_KERNEL
			return siKill
		case -2: // SI_TIMER
			return siTimer
		}
		return siRT
	}
	switch linux.Signal(si.Signo) {
	case linux.SIGCHLD:
		return siChld
	case linux.SIGSEGV, linux.SIGBUS, linux.SIGILL, linux.SIGFPE, linux.SIGTRAP:
		return siFault
	case linux.SIGIO:
		return siPoll
	case linux.SIGSYS:
		return siSys
	}
	return siKill
}

// code names si_code for the signal.
func (si *Siginfo) code() string {
	c := uint64(int64(si.Code))
	if si.Code <= 0 || si.Code == 0x80 {
		return xvalDec(sigCodes, int64(si.Code), "SI_???")
	}
	var x xlat
	switch linux.Signal(si.Signo) {
	case linux.SIGCHLD:
		x = sigchldCodes
	case linux.SIGILL:
		x = sigillCodes
	case linux.SIGSEGV:
		x = sigsegvCodes
	case linux.SIGBUS:
		x = sigbusCodes
	case linux.SIGFPE:
		x = sigfpeCodes
	case linux.SIGTRAP:
		x = sigtrapCodes
	case linux.SIGIO:
		x = sigpollCodes
	case linux.SIGSYS:
		x = sigsysCodes
	}
	if s, ok := x.name(c); ok {
		return s
	}
	return itoa(int64(si.Code))
}

// String prints the siginfo as strace does, e.g. {si_signo=SIGCHLD,
// si_code=CLD_EXITED, si_pid=2, si_uid=0, si_status=0, si_utime=0,
// si_stime=0}.
func (si Siginfo) String() string {
	var f fields
	sig := linux.Signal(si.Signo)
	name := signalName(sig)
	if name == "" {
		name = itoa(int64(si.Signo))
	}
	f.add("si_signo", name)
	f.add("si_code", si.code())
	if si.Errno != 0 {
		f.add("si_errno", linux.Errno(si.Errno).Name())
	}
	switch si.kind() {
	case siKill:
		f.add("si_pid", itoa(int64(si.Pid)))
		f.add("si_uid", utoa(uint64(si.Uid)))
	case siRT:
		f.add("si_pid", itoa(int64(si.Pid)))
		f.add("si_uid", utoa(uint64(si.Uid)))
		f.add("si_int", itoa(int64(int32(si.Value))))
		f.add("si_ptr", addrStr(si.Value))
	case siTimer:
		f.add("si_timerid", hex0(uint64(uint32(si.TimerID))))
		f.add("si_overrun", itoa(int64(si.Overrun)))
		f.add("si_int", itoa(int64(int32(si.Value))))
		f.add("si_ptr", addrStr(si.Value))
	case siChld:
		f.add("si_pid", itoa(int64(si.Pid)))
		f.add("si_uid", utoa(uint64(si.Uid)))
		if si.Code == 1 { // CLD_EXITED
			f.add("si_status", itoa(int64(si.Status)))
		} else {
			st := signalName(linux.Signal(si.Status))
			if st == "" {
				st = itoa(int64(si.Status))
			}
			f.add("si_status", st)
		}
		f.add("si_utime", itoa(si.Utime))
		f.add("si_stime", itoa(si.Stime))
	case siFault:
		f.add("si_addr", addrStr(si.Addr))
	case siPoll:
		f.add("si_band", flags(pollEvents, uint64(si.Band), "POLL???"))
		f.add("si_fd", itoa(int64(si.FD)))
	case siSys:
		f.add("si_call_addr", addrStr(si.CallAddr))
		f.add("si_syscall", "__NR_"+linux.SyscallName(uint64(si.Syscall)))
		f.add("si_arch", "AUDIT_ARCH_AARCH64")
	}
	return f.String()
}

// siginfoAt prints the siginfo_t at addr.
func (d *dec) siginfoAt(addr uint64) {
	b := d.fetch(addr, SizeofSiginfo)
	if b == nil {
		return
	}
	si, _ := ParseSiginfo(b)
	d.w(si.String())
}
