package strace

import "strings"

// Decoders whose arguments depend on other arguments (fcntl's command,
// futex's operation, ...).

func fcntlSpec(d *dec) []arg {
	a := []arg{in(aFD), in(xArg(fcntlCmds, "F_???"))}
	switch uint32(d.a[1]) {
	case 0, 1030, 8, 1031: // F_DUPFD, F_DUPFD_CLOEXEC, F_SETOWN, F_SETPIPE_SZ
		a = append(a, in(aInt))
	case 2: // F_SETFD
		a = append(a, in(fArg(fdFlags, "FD_???")))
	case 4: // F_SETFL
		a = append(a, in(aOpen))
	case 6, 7, 37, 38: // F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW
		a = append(a, in(aStruct(32, func(b []byte) string { return flock(b, false) })))
	case 5, 36: // F_GETLK, F_OFD_GETLK
		a = append(a, out(aStruct(32, func(b []byte) string { return flock(b, true) })))
	case 10: // F_SETSIG
		a = append(a, in(aSig))
	case 1024: // F_SETLEASE
		a = append(a, in(xArg(leaseTypes, "F_???")))
	case 1026: // F_NOTIFY
		a = append(a, in(fArg(notifyFlags, "DN_???")))
	case 1033: // F_ADD_SEALS
		a = append(a, in(fArg(sealFlags, "F_SEAL_???")))
	case 15: // F_SETOWN_EX
		a = append(a, in(aFOwnerEx))
	case 16: // F_GETOWN_EX
		a = append(a, out(aFOwnerEx))
	case 1, 3, 9, 11, 1025, 1032, 1034: // the F_GET* without an argument
	default:
		a = append(a, in(aHex))
	}
	return a
}

func aFOwnerEx(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("{type=" + xval(fownerTypes, le32(b), "F_OWNER_???") + ", pid=" + itoa(i32(b[4:])) + "}")
	}
}

func fcntlDone(d *dec) {
	switch uint32(d.a[1]) {
	case 1: // F_GETFD
		if d.ret != 0 {
			d.rv, d.tail = rvHex, " (flags "+flags(fdFlags, d.ret, "FD_???")+")"
		}
	case 3: // F_GETFL
		d.rv, d.tail = rvHex, " (flags "+openMode(d.ret)+")"
	case 1025: // F_GETLEASE
		d.rv, d.tail = rvDec, " ("+xval(leaseTypes, d.ret, "F_???")+")"
	case 1034: // F_GET_SEALS
		d.rv, d.tail = rvHex, " (seals "+flags(sealFlags, d.ret, "F_SEAL_???")+")"
	case 11: // F_GETSIG
		if d.ret != 0 {
			d.tail = " (" + sigArg(d.ret) + ")"
		}
	}
}

func futexSpec(d *dec) []arg {
	a := []arg{in(aPtr), in(func(d *dec, i int) { d.w(futexOp(uint64(uint32(d.a[i])))) })}
	val := in(aUint)
	timeout := in(aTimespec)
	val2 := in(aUint)
	uaddr2 := in(aPtr)
	bitset := in(func(d *dec, i int) {
		if uint32(d.a[i]) == 0xffffffff {
			d.w("FUTEX_BITSET_MATCH_ANY")
			return
		}
		d.w(hex(uint64(uint32(d.a[i]))))
	})
	switch uint32(d.a[1]) & 0x7f {
	case 0: // FUTEX_WAIT
		return append(a, val, timeout)
	case 1, 2: // FUTEX_WAKE, FUTEX_FD
		return append(a, val)
	case 3: // FUTEX_REQUEUE
		return append(a, val, val2, uaddr2)
	case 4, 12: // FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE_PI
		return append(a, val, val2, uaddr2, in(aUint))
	case 5: // FUTEX_WAKE_OP
		return append(a, val, val2, uaddr2, in(aWakeOp))
	case 6, 13: // FUTEX_LOCK_PI, FUTEX_LOCK_PI2
		return append(a, at(3, aTimespec))
	case 7, 8: // FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI
		return a
	case 9: // FUTEX_WAIT_BITSET
		return append(a, val, timeout, at(5, bitset.f))
	case 10: // FUTEX_WAKE_BITSET
		return append(a, val, at(5, bitset.f))
	case 11: // FUTEX_WAIT_REQUEUE_PI
		return append(a, val, timeout, uaddr2)
	}
	return append(a, in(aHex), in(aHex), in(aHex), in(aHex))
}

// aWakeOp prints FUTEX_WAKE_OP's operation as strace does:
// FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1.
func aWakeOp(d *dec, i int) {
	v := uint32(d.a[i])
	s := ""
	if v>>28&8 != 0 {
		s = "FUTEX_OP_OPARG_SHIFT<<28|"
	}
	s += xval(futexWakeOps, uint64(v>>28&7), "FUTEX_OP_???") + "<<28|" + utoa(uint64(v>>12&0xfff)) + "<<12|" +
		xval(futexWakeCmps, uint64(v>>24&0xf), "FUTEX_OP_CMP_???") + "<<24|" + hex0(uint64(v&0xfff))
	d.w(s)
}

// at prints register j with f wherever it appears in the list.
func at(j int, f func(d *dec, i int)) arg {
	return in(func(d *dec, _ int) { f(d, j) })
}

// prctlSpec decodes prctl's arguments for the options strace decodes;
// others print their remaining arguments in hex.
func prctlSpec(d *dec) []arg {
	a := []arg{in(xArg(prctlOptions, "PR_???"))}
	hx := in(aHex)
	switch uint32(d.a[0]) {
	case 15: // PR_SET_NAME
		return append(a, in(aStr))
	case 16: // PR_GET_NAME
		return append(a, out(aStr))
	case 1: // PR_SET_PDEATHSIG
		return append(a, in(aSig))
	case 2: // PR_GET_PDEATHSIG
		return append(a, out(func(d *dec, i int) {
			if b := d.fetch(d.a[i], 4); b != nil {
				d.w("[" + sigArg(le32(b)) + "]")
			}
		}))
	case 3, 7, 19, 21, 30, 39, 42, 46, 58: // PR_GET_* returning the value
		return a
	case 4: // PR_SET_DUMPABLE
		return append(a, in(xArg(dumpableValues, "SUID_DUMP_???")))
	case 37, 40: // PR_GET_CHILD_SUBREAPER, PR_GET_TID_ADDRESS
		return append(a, out(aPtrOrInt(uint32(d.a[0]) == 40)))
	case 36, 8, 41: // PR_SET_CHILD_SUBREAPER, PR_SET_KEEPCAPS, PR_SET_THP_DISABLE
		return append(a, in(aUlong))
	case 38: // PR_SET_NO_NEW_PRIVS
		return append(a, in(aUlong), in(aUlong), in(aUlong), in(aUlong))
	case 23, 24: // PR_CAPBSET_READ, PR_CAPBSET_DROP
		return append(a, in(func(d *dec, i int) {
			if v := d.a[i]; v < uint64(len(capNames)) {
				d.w(capNames[v])
				return
			}
			d.w(hex(d.a[i]) + " /* CAP_??? */")
		}))
	case 0x53564d41: // PR_SET_VMA
		return append(a, in(func(d *dec, i int) {
			if d.a[i] == 0 {
				d.w("PR_SET_VMA_ANON_NAME")
				return
			}
			d.w(hex(d.a[i]) + " /* PR_SET_VMA_??? */")
		}), in(aPtr), in(aUlong), in(aStr))
	}
	return append(a, hx, hx, hx, hx)
}

func aPtrOrInt(ptr bool) func(d *dec, i int) {
	if ptr {
		return aPtrPtr
	}
	return aIntPtr
}

func prctlDone(d *dec) {
	switch uint32(d.a[0]) {
	case 3: // PR_GET_DUMPABLE
		d.tail = " (" + xval(dumpableValues, d.ret, "SUID_DUMP_???") + ")"
	}
}

func pselectSpec(d *dec) []arg {
	set := in(func(d *dec, i int) { d.fdSetAt(d.a[i], int(int32(d.a[0]))) })
	return []arg{in(aInt), set, set, set, in(aTimespec), in(aPselectMask)}
}

func (d *dec) fdSetAt(addr uint64, nfds int) {
	if nfds < 0 || nfds > 1<<16 {
		d.addr(addr)
		return
	}
	if b := d.fetch(addr, (nfds+63)/64*8); b != nil {
		d.w(fdSet(b, nfds))
	}
}

func aPselectMask(d *dec, i int) {
	b := d.fetch(d.a[i], 16)
	if b == nil {
		return
	}
	d.w("{sigmask=")
	d.sigsetAt(le64(b), le64(b[8:]))
	d.w(", sigsetsize=" + utoa(le64(b[8:])) + "}")
}

func pselectDone(d *dec) {
	if d.ret == 0 {
		d.tail = " (Timeout)"
		return
	}
	nfds := int(int32(d.a[0]))
	var parts []string
	for k, name := range []string{"in", "out", "except"} {
		addr := d.a[1+k]
		if addr == 0 || nfds < 0 || nfds > 1<<16 {
			continue
		}
		b := d.read(addr, (nfds+63)/64*8)
		if b == nil {
			continue
		}
		if s := fdSet(b, nfds); s != "[]" {
			parts = append(parts, name+" "+s)
		}
	}
	if d.a[4] != 0 {
		if b := d.read(d.a[4], 16); b != nil {
			parts = append(parts, "left "+timespec(b))
		}
	}
	d.tail = " (" + strings.Join(parts, ", ") + ")"
}

func ppollSpec(d *dec) []arg {
	return []arg{in(aPollfds), in(aUint), in(aTimespec), in(aSigset(4)), in(aUlong)}
}

func aPollfds(d *dec, i int) {
	n := d.a[i+1]
	if n > 1024 {
		d.addr(d.a[i])
		return
	}
	b := d.fetch(d.a[i], int(n)*8)
	if b == nil {
		return
	}
	d.w("[")
	for k := uint64(0); k < n; k++ {
		if k > 0 {
			d.w(", ")
		}
		if k >= uint64(d.tr.opt.StringLimit) {
			d.w("...")
			break
		}
		p := b[8*k:]
		d.w("{fd=" + itoa(i32(p)))
		if i32(p) >= 0 {
			d.w(", events=" + flags(pollEvents, le16(p[4:]), "POLL???"))
		}
		d.w("}")
	}
	d.w("]")
}

func ppollDone(d *dec) {
	if d.ret == 0 {
		d.tail = " (Timeout)"
		return
	}
	n := d.a[1]
	var parts []string
	if b := d.read(d.a[0], int(min(n, 1024))*8); b != nil {
		var evs []string
		for k := 0; k+8 <= len(b); k += 8 {
			if rev := le16(b[k+6:]); rev != 0 {
				evs = append(evs, "{fd="+itoa(i32(b[k:]))+", revents="+flags(pollEvents, rev, "POLL???")+"}")
			}
		}
		parts = append(parts, "["+strings.Join(evs, ", ")+"]")
	}
	if d.a[2] != 0 {
		if b := d.read(d.a[2], 16); b != nil {
			parts = append(parts, "left "+timespec(b))
		}
	}
	d.tail = " (" + strings.Join(parts, ", ") + ")"
}

// sigreturnSpec prints the mask rt_sigreturn restores from the frame at
// the stack pointer (arm64 rt_sigframe: siginfo, then ucontext whose
// uc_sigmask is at offset 40).
func sigreturnSpec(d *dec) []arg {
	if d.sp == 0 {
		return nil
	}
	return []arg{in(func(d *dec, i int) {
		b := d.read(d.sp+128+40, 8)
		if b == nil {
			d.w("{mask=" + hex(d.sp+128+40) + "}")
			return
		}
		d.w("{mask=" + sigset(b) + "}")
	})}
}

// cloneFlags prints clone's flags with the exit signal in the low byte.
func cloneFlagsStr(v uint64) string {
	sig := v & 0xff
	rest := v &^ 0xff
	var s string
	if rest != 0 {
		s = flags(cloneFlags, rest, "CLONE_???")
	}
	if sig != 0 {
		if s != "" {
			s += "|"
		}
		s += sigArg(sig)
	}
	if s == "" {
		s = "0"
	}
	return s
}

// cloneSpec decodes arm64 clone(flags, stack, parent_tid, tls, child_tid).
func cloneSpec(d *dec) []arg {
	fl := d.a[0]
	a := []arg{
		in(func(d *dec, i int) { d.w("child_stack="); d.addr(d.a[1]) }),
		in(func(d *dec, i int) { d.w("flags=" + cloneFlagsStr(d.a[0])) }),
	}
	if fl&(0x100000|0x1000) != 0 { // CLONE_PARENT_SETTID, CLONE_PIDFD
		a = append(a, inout(func(d *dec, i int) {
			name := "parent_tid="
			if d.a[0]&0x1000 != 0 {
				name = "pidfd="
			}
			d.w(name)
			if d.failed() {
				d.addr(d.a[2])
				return
			}
			aIntPtrAt(d, d.a[2])
		}))
	}
	if fl&0x80000 != 0 { // CLONE_SETTLS
		a = append(a, inout(func(d *dec, i int) { d.w("tls="); d.addr(d.a[3]) }))
	}
	if fl&(0x1000000|0x200000) != 0 { // CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID
		a = append(a, inout(func(d *dec, i int) { d.w("child_tidptr="); d.addr(d.a[4]) }))
	}
	return a
}

func aIntPtrAt(d *dec, addr uint64) {
	if b := d.fetch(addr, 4); b != nil {
		d.w("[" + itoa(i32(b)) + "]")
	}
}

// aCloneArgs prints clone3's struct clone_args and, after the call, the
// values the kernel stored: {...} => {parent_tid=[N]}.
func aCloneArgs(d *dec, i int) {
	size := d.a[1]
	if size < 64 || size > 4096 {
		d.addr(d.a[i])
		return
	}
	n := min(size, 88)
	b := d.read(d.a[i], int(n))
	if b == nil {
		d.addr(d.a[i])
		return
	}
	for len(b) < 88 {
		b = append(b, 0)
	}
	fl := le64(b)
	var f fields
	f.add("flags", flags(cloneFlags, fl, "CLONE_???"))
	if fl&0x1000 != 0 {
		f.add("pidfd", addrStr(le64(b[8:])))
	}
	if fl&(0x1000000|0x200000) != 0 {
		f.add("child_tid", addrStr(le64(b[16:])))
	}
	if fl&0x100000 != 0 {
		f.add("parent_tid", addrStr(le64(b[24:])))
	}
	f.add("exit_signal", sigArg(le64(b[32:])))
	f.add("stack", addrStr(le64(b[40:])))
	f.add("stack_size", hex0(le64(b[48:])))
	if fl&0x80000 != 0 {
		f.add("tls", addrStr(le64(b[56:])))
	}
	if n >= 80 && le64(b[72:]) != 0 {
		f.add("set_tid", addrStr(le64(b[64:])))
		f.add("set_tid_size", utoa(le64(b[72:])))
	}
	if n >= 88 && fl&0x200000000 != 0 {
		f.add("cgroup", utoa(le64(b[80:])))
	}
	d.w(f.String())
	if d.failed() {
		return
	}
	var r fields
	if fl&0x1000 != 0 {
		if p := d.read(le64(b[8:]), 4); p != nil {
			r.add("pidfd", "["+itoa(i32(p))+"]")
		}
	}
	if fl&0x100000 != 0 {
		if p := d.read(le64(b[24:]), 4); p != nil {
			r.add("parent_tid", "["+itoa(i32(p))+"]")
		}
	}
	if r.b.Len() > 0 {
		d.w(" => " + r.String())
	}
}
