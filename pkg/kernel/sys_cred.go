package kernel

import (
	"slices"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Credentials: real, effective, saved and file-system user and group ids,
// supplementary groups and capability sets, per process, changed as
// Linux's kernel/sys.c changes them. Guests start as root with every
// capability; dropping to other ids drops the capabilities as Linux's
// setuid emulation does (unless PR_SET_KEEPCAPS), so a process that gave
// up root cannot take it back. access(2) checks the real ids and open(2)
// the file-system ids, with root's override while CAP_DAC_OVERRIDE is
// effective.

func registerCredSyscalls(reg registerFn) {
	reg(linux.SysGetuid, syscallEntry{fn: sysGetuid})
	reg(linux.SysGeteuid, syscallEntry{fn: sysGeteuid})
	reg(linux.SysGetgid, syscallEntry{fn: sysGetgid})
	reg(linux.SysGetegid, syscallEntry{fn: sysGetegid})
	reg(linux.SysGetresuid, syscallEntry{fn: sysGetresuid})
	reg(linux.SysGetresgid, syscallEntry{fn: sysGetresgid})
	reg(linux.SysSetuid, syscallEntry{fn: sysSetuid})
	reg(linux.SysSetgid, syscallEntry{fn: sysSetgid})
	reg(linux.SysSetreuid, syscallEntry{fn: sysSetreuid})
	reg(linux.SysSetregid, syscallEntry{fn: sysSetregid})
	reg(linux.SysSetresuid, syscallEntry{fn: sysSetresuid})
	reg(linux.SysSetresgid, syscallEntry{fn: sysSetresgid})
	reg(linux.SysSetfsuid, syscallEntry{fn: sysSetfsuid})
	reg(linux.SysSetfsgid, syscallEntry{fn: sysSetfsgid})
	reg(linux.SysGetgroups, syscallEntry{fn: sysGetgroups})
	reg(linux.SysSetgroups, syscallEntry{fn: sysSetgroups})
	reg(linux.SysCapget, syscallEntry{fn: sysCapget})
	reg(linux.SysCapset, syscallEntry{fn: sysCapset})
}

// Capabilities (linux/capability.h).
const (
	capChown          = 0
	capDacOverride    = 1
	capDacReadSearch  = 2
	capFowner         = 3
	capFsetid         = 4
	capKill           = 5
	capSetgid         = 6
	capSetuid         = 7
	capLinuxImmutable = 9
	capNetRaw         = 13
	capSysChroot      = 18
	capSysAdmin       = 21
	capSysNice        = 23
	capSysResource    = 24
	capMknod          = 27
	capMacOverride    = 32
	capLastCap        = 40 // CAP_CHECKPOINT_RESTORE

	capAll = 1<<(capLastCap+1) - 1
	// capFS are the capabilities that follow the file-system uid
	// (CAP_FS_SET).
	capFS = 1<<capChown | 1<<capDacOverride | 1<<capDacReadSearch | 1<<capFowner | 1<<capFsetid |
		1<<capLinuxImmutable | 1<<capMknod | 1<<capMacOverride
)

// ngroupsMax is NGROUPS_MAX.
const ngroupsMax = 65536

// noID is -1 as an id argument: leave the id as it is.
const noID = ^uint32(0)

// cred is a process's credentials.
type cred struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32 // sorted, as Linux keeps them
	capEff, capPrm, capInh  uint64
	keepCaps                bool // PR_SET_KEEPCAPS
}

// rootCred is what a program started by the machine runs with: root,
// every capability, no supplementary groups.
func rootCred() cred { return cred{capEff: capAll, capPrm: capAll} }

// capable reports whether the process has capability c in its effective
// set.
func (p *Process) capable(c uint) bool { return p.cred.capEff&(1<<c) != 0 }

// fixUIDCaps adjusts the capabilities after a change of user ids from
// old, as Linux's cap_emulate_setxuid does.
func (c *cred) fixUIDCaps(old cred) {
	if (old.ruid == 0 || old.euid == 0 || old.suid == 0) && c.ruid != 0 && c.euid != 0 && c.suid != 0 {
		if !c.keepCaps {
			c.capPrm = 0
		}
		c.capEff = 0
	}
	if old.euid == 0 && c.euid != 0 {
		c.capEff = 0
	}
	if old.euid != 0 && c.euid == 0 {
		c.capEff = c.capPrm
	}
	c.fixFSCaps(old.fsuid)
}

// fixFSCaps adjusts the file-system capabilities after the file-system
// uid changed from old.
func (c *cred) fixFSCaps(old uint32) {
	switch {
	case old == 0 && c.fsuid != 0:
		c.capEff &^= capFS
	case old != 0 && c.fsuid == 0:
		c.capEff |= c.capPrm & capFS
	}
}

// Getuid implements getuid(2).
func sysGetuid(t *Task, _ *args) (uint64, error) { return uint64(t.cred.ruid), nil }

// Geteuid implements geteuid(2).
func sysGeteuid(t *Task, _ *args) (uint64, error) { return uint64(t.cred.euid), nil }

// Getgid implements getgid(2).
func sysGetgid(t *Task, _ *args) (uint64, error) { return uint64(t.cred.rgid), nil }

// Getegid implements getegid(2).
func sysGetegid(t *Task, _ *args) (uint64, error) { return uint64(t.cred.egid), nil }

// putIDs stores three ids at three addresses.
func (t *Task) putIDs(a *args, ids [3]uint32) error {
	for i, id := range ids {
		var b [4]byte
		put32(b[:], id)
		if err := t.copyOut(a[i], b[:]); err != nil {
			return err
		}
	}
	return nil
}

// Getresuid implements getresuid(2).
func sysGetresuid(t *Task, a *args) (uint64, error) {
	c := &t.cred
	return 0, t.putIDs(a, [3]uint32{c.ruid, c.euid, c.suid})
}

// Getresgid implements getresgid(2).
func sysGetresgid(t *Task, a *args) (uint64, error) {
	c := &t.cred
	return 0, t.putIDs(a, [3]uint32{c.rgid, c.egid, c.sgid})
}

// setIDs is the common part of the set*id calls for users (user) or
// groups: r, e and s are the new real, effective and saved ids (noID
// keeps one), allowed without the capability when each is one of the
// current three.
type idSet struct{ r, e, s, fs *uint32 }

func (c *cred) ids(user bool) idSet {
	if user {
		return idSet{&c.ruid, &c.euid, &c.suid, &c.fsuid}
	}
	return idSet{&c.rgid, &c.egid, &c.sgid, &c.fsgid}
}

// capFor is the capability that lets a process set any user (CAP_SETUID)
// or group (CAP_SETGID) id.
func capFor(user bool) uint {
	if user {
		return capSetuid
	}
	return capSetgid
}

// commit installs new credentials, fixing the capabilities after a
// change of user ids.
func (t *Task) commitCred(n cred, user bool) {
	if user {
		n.fixUIDCaps(t.cred)
	}
	t.cred = n
}

// setid implements setuid(2) and setgid(2).
func (t *Task) setid(id uint32, user bool) (uint64, error) {
	if id == noID {
		return 0, linux.EINVAL
	}
	n := t.cred
	ids := n.ids(user)
	switch {
	case t.capable(capFor(user)):
		*ids.r, *ids.s = id, id
	case id != *ids.r && id != *ids.s:
		return 0, linux.EPERM
	}
	*ids.e, *ids.fs = id, id
	t.commitCred(n, user)
	return 0, nil
}

// setreid implements setreuid(2) and setregid(2).
func (t *Task) setreid(r, e uint32, user bool) (uint64, error) {
	n := t.cred
	old := n.ids(user)
	oldR, oldE, oldS := *old.r, *old.e, *old.s
	ids := n.ids(user)
	priv := t.capable(capFor(user))
	if r != noID {
		if oldR != r && oldE != r && !priv {
			return 0, linux.EPERM
		}
		*ids.r = r
	}
	if e != noID {
		if oldR != e && oldE != e && oldS != e && !priv {
			return 0, linux.EPERM
		}
		*ids.e = e
	}
	if r != noID || e != noID && e != oldR {
		*ids.s = *ids.e
	}
	*ids.fs = *ids.e
	t.commitCred(n, user)
	return 0, nil
}

// setresid implements setresuid(2) and setresgid(2).
func (t *Task) setresid(r, e, s uint32, user bool) (uint64, error) {
	n := t.cred
	ids := n.ids(user)
	if !t.capable(capFor(user)) {
		for _, id := range []uint32{r, e, s} {
			if id != noID && id != *ids.r && id != *ids.e && id != *ids.s {
				return 0, linux.EPERM
			}
		}
	}
	for _, x := range []struct {
		dst *uint32
		v   uint32
	}{{ids.r, r}, {ids.e, e}, {ids.s, s}} {
		if x.v != noID {
			*x.dst = x.v
		}
	}
	*ids.fs = *ids.e
	t.commitCred(n, user)
	return 0, nil
}

// setfsid implements setfsuid(2) and setfsgid(2): it returns the old id
// whether or not the change is allowed.
func (t *Task) setfsid(id uint32, user bool) (uint64, error) {
	n := t.cred
	ids := n.ids(user)
	old := *ids.fs
	if id != noID && (id == *ids.r || id == *ids.e || id == *ids.s || id == *ids.fs || t.capable(capFor(user))) {
		*ids.fs = id
		if user {
			n.fixFSCaps(old)
		}
		t.cred = n
	}
	return uint64(old), nil
}

// Setuid implements setuid(2).
func sysSetuid(t *Task, a *args) (uint64, error) { return t.setid(uint32(a[0]), true) }

// Setgid implements setgid(2).
func sysSetgid(t *Task, a *args) (uint64, error) { return t.setid(uint32(a[0]), false) }

// Setreuid implements setreuid(2).
func sysSetreuid(t *Task, a *args) (uint64, error) {
	return t.setreid(uint32(a[0]), uint32(a[1]), true)
}

// Setregid implements setregid(2).
func sysSetregid(t *Task, a *args) (uint64, error) {
	return t.setreid(uint32(a[0]), uint32(a[1]), false)
}

// Setresuid implements setresuid(2).
func sysSetresuid(t *Task, a *args) (uint64, error) {
	return t.setresid(uint32(a[0]), uint32(a[1]), uint32(a[2]), true)
}

// Setresgid implements setresgid(2).
func sysSetresgid(t *Task, a *args) (uint64, error) {
	return t.setresid(uint32(a[0]), uint32(a[1]), uint32(a[2]), false)
}

// Setfsuid implements setfsuid(2).
func sysSetfsuid(t *Task, a *args) (uint64, error) { return t.setfsid(uint32(a[0]), true) }

// Setfsgid implements setfsgid(2).
func sysSetfsgid(t *Task, a *args) (uint64, error) { return t.setfsid(uint32(a[0]), false) }

// Getgroups implements getgroups(2).
func sysGetgroups(t *Task, a *args) (uint64, error) {
	size := a.int32(0)
	g := t.cred.groups
	switch {
	case size < 0:
		return 0, linux.EINVAL
	case size == 0:
		return uint64(len(g)), nil
	case size < len(g):
		return 0, linux.EINVAL
	}
	b := make([]byte, 4*len(g))
	for i, id := range g {
		put32(b[4*i:], id)
	}
	return uint64(len(g)), t.copyOut(a[1], b)
}

// Setgroups implements setgroups(2).
func sysSetgroups(t *Task, a *args) (uint64, error) {
	size := a.int32(0)
	if size < 0 || size > ngroupsMax {
		return 0, linux.EINVAL
	}
	if !t.capable(capSetgid) {
		return 0, linux.EPERM
	}
	b := make([]byte, 4*size)
	if err := t.copyIn(a[1], b); err != nil {
		return 0, err
	}
	g := make([]uint32, size)
	for i := range g {
		g[i] = leU32(b[4*i:])
	}
	slices.Sort(g)
	t.cred.groups = g
	return 0, nil
}

// capget/capset header versions.
const (
	capV1 = 0x19980330
	capV2 = 0x20071026
	capV3 = 0x20080522
)

// capHeader reads a cap_user_header_t and checks its version, writing the
// preferred version back for an unknown one (as Linux does).
func (t *Task) capHeader(addr uint64) (words int, pid int, err error) {
	var h [8]byte
	if err := t.copyIn(addr, h[:]); err != nil {
		return 0, 0, err
	}
	switch leU32(h[0:]) {
	case capV1:
		words = 1
	case capV2, capV3:
		words = 2
	default:
		put32(h[0:], capV3)
		if err := t.copyOut(addr, h[:4]); err != nil {
			return 0, 0, err
		}
		return 0, 0, linux.EINVAL
	}
	pid = int(int32(leU32(h[4:])))
	if pid < 0 {
		return 0, 0, linux.EINVAL
	}
	return words, pid, nil
}

// Capget implements capget(2).
func sysCapget(t *Task, a *args) (uint64, error) {
	words, pid, err := t.capHeader(a[0])
	if err != nil {
		return 0, err
	}
	q := t.Process
	if pid != 0 {
		if q = t.m.lookup(pid); q == nil || q == t.m.init {
			return 0, linux.ESRCH
		}
	}
	if a[1] == 0 {
		return 0, nil
	}
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		put32(b[12*i:], uint32(q.cred.capEff>>(32*i)))
		put32(b[12*i+4:], uint32(q.cred.capPrm>>(32*i)))
		put32(b[12*i+8:], uint32(q.cred.capInh>>(32*i)))
	}
	return 0, t.copyOut(a[1], b)
}

// Capset implements capset(2) for the calling process: the new permitted
// set must be within the old, the effective set within the new
// permitted one, and the inheritable set within the old inheritable and
// permitted sets (there is no bounding set but every capability).
func sysCapset(t *Task, a *args) (uint64, error) {
	words, pid, err := t.capHeader(a[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && pid != t.PID {
		return 0, linux.EPERM
	}
	b := make([]byte, 12*words)
	if err := t.copyIn(a[1], b); err != nil {
		return 0, err
	}
	var eff, prm, inh uint64
	for i := 0; i < words; i++ {
		eff |= uint64(leU32(b[12*i:])) << (32 * i)
		prm |= uint64(leU32(b[12*i+4:])) << (32 * i)
		inh |= uint64(leU32(b[12*i+8:])) << (32 * i)
	}
	c := &t.cred
	if words == 1 {
		// Version 1 sets only the low 32 capabilities.
		eff, prm, inh = eff|c.capEff&^0xffffffff, prm|c.capPrm&^0xffffffff, inh|c.capInh&^0xffffffff
	}
	eff, prm, inh = eff&capAll, prm&capAll, inh&capAll
	switch {
	case prm&^c.capPrm != 0:
		return 0, linux.EPERM
	case eff&^prm != 0:
		return 0, linux.EPERM
	case inh&^(c.capInh|c.capPrm) != 0:
		return 0, linux.EPERM
	}
	c.capEff, c.capPrm, c.capInh = eff, prm, inh
	return 0, nil
}

// mayAccess checks a file permission (mode: R 4, W 2, X 1) for the
// process's file-system ids, or with real for its real ids (access(2)).
// Root (CAP_DAC_OVERRIDE) passes, except for executing a file with no
// execute bit.
func (p *Process) mayAccess(a vfs.Attr, mode uint32, real bool) error {
	uid, gid := p.cred.fsuid, p.cred.fsgid
	override := p.capable(capDacOverride)
	if real {
		// access(2) checks with the real ids, and root's override
		// applies to a real uid of 0 only.
		uid, gid = p.cred.ruid, p.cred.rgid
		override = uid == 0 && p.cred.capPrm&(1<<capDacOverride) != 0
	}
	if override {
		if mode&1 != 0 && !a.IsDir() && a.Mode&0o111 == 0 {
			return linux.EACCES
		}
		return nil
	}
	perm := a.Mode & 7
	switch {
	case a.UID == uid:
		perm = a.Mode >> 6 & 7
	case a.GID == gid || slices.Contains(p.cred.groups, a.GID):
		perm = a.Mode >> 3 & 7
	}
	if mode&perm != mode {
		return linux.EACCES
	}
	return nil
}

// execCred returns the credentials a program with attributes a runs with,
// as Linux's execve computes them: a set-user-ID (set-group-ID) file
// makes its owner (group) the effective id unless no_new_privs is set;
// the saved ids are copied from the effective ones; an effective uid of
// 0 gets every capability, another loses them. secure is AT_SECURE: the
// ids differ from the real ones.
func (t *Task) execCred(a vfs.Attr) (cred, bool) {
	n := t.cred
	if !t.noNewPrivs {
		if a.Mode&0o4000 != 0 {
			n.euid = a.UID
		}
		if a.Mode&0o2000 != 0 && a.Mode&0o010 != 0 {
			n.egid = a.GID
		}
	}
	n.suid, n.fsuid = n.euid, n.euid
	n.sgid, n.fsgid = n.egid, n.egid
	// Root's capabilities (no file capabilities): a process with uid 0
	// gets the full set, effective when the effective uid is 0.
	switch {
	case n.euid == 0 || n.ruid == 0:
		n.capPrm = capAll
		n.capEff = 0
		if n.euid == 0 {
			n.capEff = capAll
		}
	default:
		n.capPrm, n.capEff = 0, 0
	}
	n.keepCaps = false
	secure := n.euid != n.ruid || n.egid != n.rgid
	return n, secure
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// tiocNOTTY is TIOCNOTTY.
const tiocNOTTY = 0x5422

// controllingTerminal implements TIOCSCTTY (a session leader without a
// controlling terminal takes the console) and TIOCNOTTY (the process
// gives it up) on the console.
func (t *Task) controllingTerminal(req uint64) error {
	if req == tiocNOTTY {
		if !t.ctty {
			return linux.ENOTTY
		}
		t.ctty = false
		return nil
	}
	switch {
	case t.ctty:
		return nil
	case t.sid != t.PID:
		return linux.EPERM
	}
	t.ctty = true
	return nil
}

// maySignal reports whether t may send sig to q (Linux's
// check_kill_permission): within its own process, to a process whose
// real or saved uid is t's real or effective uid, with CAP_KILL, or
// SIGCONT within its session.
func (t *Task) maySignal(q *Process, sig linux.Signal) bool {
	if q == t.Process || t.capable(capKill) {
		return true
	}
	c, o := &t.cred, &q.cred
	if c.euid == o.suid || c.euid == o.ruid || c.ruid == o.suid || c.ruid == o.ruid {
		return true
	}
	return sig == linux.SIGCONT && q.sid == t.sid
}
