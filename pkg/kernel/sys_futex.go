package kernel

import (
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
)

func registerFutexSyscalls(reg registerFn) {
	reg(linux.SysFutex, syscallEntry{fn: sysFutex, support: Partial,
		note: "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP, LOCK_PI, LOCK_PI2, UNLOCK_PI, TRYLOCK_PI; the requeue-PI operations are ENOSYS"})
	reg(linux.SysSetRobustList, syscallEntry{fn: sysSetRobustList})
	reg(linux.SysGetRobustList, syscallEntry{fn: sysGetRobustList})
}

// Futex operations and flags (linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexLockPI2       = 13
	futexPrivateFlag   = 128
	futexClockRealtime = 256

	futexWaiters    = 0x80000000
	futexOwnerDied  = 0x40000000
	futexTIDMask    = 0x3fffffff
	robustListLimit = 2048
)

// futexKey identifies a futex word: by address space and address for
// private memory, by physical address for shared memory (so processes
// sharing the memory meet on it).
type futexKey struct {
	as   *addressSpace
	addr uint64
}

// futexKeyOf returns the key of the word at addr, which must be 4-byte
// aligned and mapped.
func (t *Task) futexKeyOf(addr uint64, private bool) (futexKey, error) {
	if addr%4 != 0 {
		return futexKey{}, linux.EINVAL
	}
	if !private {
		if v := t.as.find(addr); v != nil && v.shared() {
			f, err := t.as.pageFor(addr, cpu.AccessRead)
			if err != nil {
				return futexKey{}, err
			}
			return futexKey{addr: f.Addr() + addr%pageSize}, nil
		}
	}
	return futexKey{as: t.as, addr: addr}, nil
}

// futexQueue returns the wait queue of key, creating it when create.
func (m *Machine) futexQueue(k futexKey, create bool) *waitQueue {
	q := m.futexes[k]
	if q == nil && create {
		q = &waitQueue{}
		m.futexes[k] = q
	}
	return q
}

// futexGC drops the queue of k when nobody waits on it.
func (m *Machine) futexGC(k futexKey) {
	if q := m.futexes[k]; q != nil && q.empty() {
		delete(m.futexes, k)
	}
}

func (t *Task) loadWord(addr uint64) (uint32, error) {
	var b [4]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return leU32(b[:]), nil
}

func (t *Task) storeWord(addr uint64, v uint32) error {
	var b [4]byte
	put32(b[:], v)
	return t.copyOut(addr, b[:])
}

// Futex implements futex(2).
func sysFutex(t *Task, a *args) (uint64, error) {
	uaddr, op, val := a[0], a.int32(1), uint32(a[2])
	private := op&futexPrivateFlag != 0
	realtime := op&futexClockRealtime != 0
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	if realtime && cmd != futexWaitBitset && cmd != futexLockPI && cmd != futexLockPI2 && cmd != futexWait {
		return 0, linux.ENOSYS
	}
	switch cmd {
	case futexWait:
		return t.futexWait(uaddr, val, a[3], false, realtime, ^uint32(0), private)
	case futexWaitBitset:
		if uint32(a[5]) == 0 {
			return 0, linux.EINVAL
		}
		return t.futexWait(uaddr, val, a[3], true, realtime, uint32(a[5]), private)
	case futexWake, futexWakeBitset:
		bitset := ^uint32(0)
		if cmd == futexWakeBitset {
			if bitset = uint32(a[5]); bitset == 0 {
				return 0, linux.EINVAL
			}
		}
		k, err := t.futexKeyOf(uaddr, private)
		if err != nil {
			return 0, err
		}
		return uint64(t.m.futexWakeKey(k, int(val), bitset)), nil
	case futexRequeue, futexCmpRequeue:
		return t.futexRequeue(uaddr, a[4], int(int32(val)), int(int32(a[3])), cmd == futexCmpRequeue, uint32(a[5]), private)
	case futexWakeOp:
		return t.futexWakeOp(uaddr, a[4], int(int32(val)), int(int32(a[3])), uint32(a[5]), private)
	case futexLockPI, futexLockPI2:
		return t.futexLockPI(uaddr, a[3], cmd == futexLockPI || realtime, private, false)
	case futexTrylockPI:
		return t.futexLockPI(uaddr, 0, false, private, true)
	case futexUnlockPI:
		return t.futexUnlockPI(uaddr, private)
	}
	return 0, linux.ENOSYS
}

// futexWait blocks while the word at uaddr holds val (FUTEX_WAIT,
// FUTEX_WAIT_BITSET): until a wake, a signal or the timeout (relative
// for WAIT, absolute for WAIT_BITSET).
func (t *Task) futexWait(uaddr uint64, val uint32, tsAddr uint64, abs, realtime bool, bitset uint32, private bool) (uint64, error) {
	if t.futexWoken {
		t.futexWoken = false
		t.deadline = 0
		return 0, nil
	}
	k, err := t.futexKeyOf(uaddr, private)
	if err != nil {
		return 0, err
	}
	var wakeAt uint64
	if tsAddr != 0 {
		d, err := t.readTimespec(tsAddr)
		if err != nil {
			return 0, err
		}
		if abs {
			now, _ := t.clockNow(clockOf(realtime))
			d -= time.Duration(now)
		}
		if d <= 0 && t.deadline == 0 {
			return 0, linux.ETIMEDOUT
		}
		wakeAt = t.timeout(d)
		if t.expired() {
			return 0, linux.ETIMEDOUT
		}
	}
	w, err := t.loadWord(uaddr)
	if err != nil {
		return 0, err
	}
	if w != val {
		t.deadline = 0
		return 0, linux.EAGAIN
	}
	t.dropWaiters()
	t.addWaiter(t.m.futexQueue(k, true)).bitset = bitset
	t.blockOn(wakeAt)
	t.restart = true
	return 0, errRestart
}

func clockOf(realtime bool) int {
	if realtime {
		return linux.CLOCK_REALTIME
	}
	return linux.CLOCK_MONOTONIC
}

// futexWakeKey wakes up to n waiters of k whose bitset meets bitset, in
// the order they started waiting, and returns how many it woke.
func (m *Machine) futexWakeKey(k futexKey, n int, bitset uint32) int {
	q := m.futexQueue(k, false)
	if q == nil {
		return 0
	}
	woken := 0
	if m.sched.Perturbing() {
		// Linux promises no order among waiters of one priority: a
		// perturbed schedule wakes them in a random one.
		var ws []*waiter
		for w := q.head; w != nil; w = w.next {
			if w.bitset&bitset != 0 {
				ws = append(ws, w)
			}
		}
		for woken < n && len(ws) > 0 {
			i := m.sched.Choose(len(ws))
			ws[i].t.futexWoken = true
			ws[i].t.wake()
			ws = append(ws[:i], ws[i+1:]...)
			woken++
		}
		m.futexGC(k)
		return woken
	}
	for w := q.head; w != nil && woken < n; {
		next := w.next
		if w.bitset&bitset != 0 {
			w.t.futexWoken = true
			w.t.wake()
			woken++
		}
		w = next
	}
	m.futexGC(k)
	return woken
}

// futexWake wakes up to n waiters of the word at addr (thread exit's
// CLONE_CHILD_CLEARTID, robust futexes).
func (t *Task) futexWake(addr uint64, n int, bitset uint32, private bool) int {
	k, err := t.futexKeyOf(addr, private)
	if err != nil {
		return 0
	}
	return t.m.futexWakeKey(k, n, bitset)
}

// futexRequeue implements FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wake up to
// nwake waiters of uaddr and move up to nmove of the rest to uaddr2.
func (t *Task) futexRequeue(uaddr, uaddr2 uint64, nwake, nmove int, cmp bool, val3 uint32, private bool) (uint64, error) {
	if nwake < 0 || nmove < 0 {
		return 0, linux.EINVAL
	}
	k1, err := t.futexKeyOf(uaddr, private)
	if err != nil {
		return 0, err
	}
	k2, err := t.futexKeyOf(uaddr2, private)
	if err != nil {
		return 0, err
	}
	if cmp {
		w, err := t.loadWord(uaddr)
		if err != nil {
			return 0, err
		}
		if w != val3 {
			return 0, linux.EAGAIN
		}
	}
	m := t.m
	woken := m.futexWakeKey(k1, nwake, ^uint32(0))
	q1 := m.futexQueue(k1, false)
	moved := 0
	if q1 != nil && k1 != k2 {
		q2 := m.futexQueue(k2, true)
		for q1.head != nil && moved < nmove {
			w := q1.head
			q1.remove(w)
			q2.push(w)
			moved++
		}
		m.futexGC(k1)
		m.futexGC(k2)
	}
	return uint64(woken + moved), nil
}

// futexWakeOp implements FUTEX_WAKE_OP: it applies an operation to the
// word at uaddr2, wakes up to n1 waiters of uaddr and, if the old value of
// uaddr2 passes the comparison, up to n2 waiters of uaddr2.
func (t *Task) futexWakeOp(uaddr, uaddr2 uint64, n1, n2 int, op uint32, private bool) (uint64, error) {
	k1, err := t.futexKeyOf(uaddr, private)
	if err != nil {
		return 0, err
	}
	k2, err := t.futexKeyOf(uaddr2, private)
	if err != nil {
		return 0, err
	}
	old, err := t.loadWord(uaddr2)
	if err != nil {
		return 0, err
	}
	oparg := op >> 12 & 0xfff
	if op>>28&8 != 0 { // FUTEX_OP_OPARG_SHIFT
		oparg = 1 << (oparg & 31)
	}
	cmparg := op & 0xfff
	var nv uint32
	switch op >> 28 & 7 {
	case 0:
		nv = oparg
	case 1:
		nv = old + oparg
	case 2:
		nv = old | oparg
	case 3:
		nv = old &^ oparg
	case 4:
		nv = old ^ oparg
	default:
		return 0, linux.ENOSYS
	}
	if err := t.storeWord(uaddr2, nv); err != nil {
		return 0, err
	}
	woken := t.m.futexWakeKey(k1, n1, ^uint32(0))
	var ok bool
	o, c := int32(old), int32(cmparg)
	switch op >> 24 & 15 {
	case 0:
		ok = o == c
	case 1:
		ok = o != c
	case 2:
		ok = o < c
	case 3:
		ok = o <= c
	case 4:
		ok = o > c
	case 5:
		ok = o >= c
	default:
		return 0, linux.ENOSYS
	}
	if ok {
		woken += t.m.futexWakeKey(k2, n2, ^uint32(0))
	}
	return uint64(woken), nil
}

// futexLockPI implements FUTEX_LOCK_PI (and TRYLOCK_PI): take the lock at
// uaddr for the caller, or wait for its owner to hand it over.
func (t *Task) futexLockPI(uaddr, tsAddr uint64, realtime, private, try bool) (uint64, error) {
	if t.futexWoken {
		// UNLOCK_PI handed the lock over (the word holds our TID).
		t.futexWoken = false
		t.deadline = 0
		return 0, nil
	}
	k, err := t.futexKeyOf(uaddr, private)
	if err != nil {
		return 0, err
	}
	w, err := t.loadWord(uaddr)
	if err != nil {
		return 0, err
	}
	owner := int(w & futexTIDMask)
	switch {
	case owner == t.TID:
		return 0, linux.EDEADLK
	case owner == 0 || t.m.lookupTask(owner) == nil:
		// Free, or its owner is gone: take it (an owner that died
		// leaves FUTEX_OWNER_DIED for the new owner to see).
		nw := uint32(t.TID) | w&futexWaiters
		if owner != 0 {
			nw |= futexOwnerDied
		}
		t.deadline = 0
		return 0, t.storeWord(uaddr, nw)
	case try:
		return 0, linux.EAGAIN
	}
	var wakeAt uint64
	if tsAddr != 0 {
		d, err := t.readTimespec(tsAddr)
		if err != nil {
			return 0, err
		}
		now, _ := t.clockNow(clockOf(realtime))
		wakeAt = t.timeout(d - time.Duration(now))
		if t.expired() {
			return 0, linux.ETIMEDOUT
		}
	}
	if w&futexWaiters == 0 {
		if err := t.storeWord(uaddr, w|futexWaiters); err != nil {
			return 0, err
		}
	}
	t.dropWaiters()
	t.addWaiter(t.m.futexQueue(k, true))
	t.blockOn(wakeAt)
	t.restart = true
	return 0, errRestart
}

// futexUnlockPI implements FUTEX_UNLOCK_PI: the lock goes to the first
// waiter, or is released.
func (t *Task) futexUnlockPI(uaddr uint64, private bool) (uint64, error) {
	k, err := t.futexKeyOf(uaddr, private)
	if err != nil {
		return 0, err
	}
	w, err := t.loadWord(uaddr)
	if err != nil {
		return 0, err
	}
	if int(w&futexTIDMask) != t.TID {
		return 0, linux.EPERM
	}
	q := t.m.futexQueue(k, false)
	if q == nil || q.empty() {
		return 0, t.storeWord(uaddr, 0)
	}
	next := q.head.t
	nw := uint32(next.TID)
	if q.head.next != nil {
		nw |= futexWaiters
	}
	if err := t.storeWord(uaddr, nw); err != nil {
		return 0, err
	}
	next.futexWoken = true
	next.wake()
	t.m.futexGC(k)
	return 0, nil
}

// SetRobustList implements set_robust_list(2).
func sysSetRobustList(t *Task, a *args) (uint64, error) {
	if a[1] != 24 { // sizeof(struct robust_list_head)
		return 0, linux.EINVAL
	}
	t.robustList = a[0]
	return 0, nil
}

// GetRobustList implements get_robust_list(2).
func sysGetRobustList(t *Task, a *args) (uint64, error) {
	target := t
	if pid := a.int32(0); pid != 0 {
		if target = t.m.lookupTask(pid); target == nil {
			return 0, linux.ESRCH
		}
	}
	var b [8]byte
	put64(b[:], target.robustList)
	if err := t.copyOut(a[1], b[:]); err != nil {
		return 0, err
	}
	put64(b[:], 24)
	return 0, t.copyOut(a[2], b[:])
}

// exitRobustList releases the robust futexes a dying thread holds: each
// word it owns gets FUTEX_OWNER_DIED and one waiter is woken, as Linux's
// exit_robust_list does.
func (t *Task) exitRobustList() {
	head := t.robustList
	if head == 0 || t.as == nil {
		return
	}
	t.robustList = 0
	var hb [24]byte
	if t.copyIn(head, hb[:]) != nil {
		return
	}
	next, off, pending := le64(hb[0:]), int64(le64(hb[8:])), le64(hb[16:])
	release := func(entry uint64) {
		addr := uint64(int64(entry&^1) + off)
		w, err := t.loadWord(addr)
		if err != nil || int(w&futexTIDMask) != t.TID {
			return
		}
		if t.storeWord(addr, w&futexWaiters|futexOwnerDied) != nil {
			return
		}
		if w&futexWaiters != 0 {
			t.futexWake(addr, 1, ^uint32(0), false)
		}
	}
	for i := 0; next != head && next != 0 && i < robustListLimit; i++ {
		var nb [8]byte
		if t.copyIn(next&^1, nb[:]) != nil {
			break
		}
		if next != pending {
			release(next)
		}
		next = le64(nb[:])
	}
	if pending != 0 {
		release(pending)
	}
}
