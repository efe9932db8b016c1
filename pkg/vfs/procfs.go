package vfs

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// ProcSource is what procfs needs from the machine (the kernel implements
// it); every value is the simulated machine's own.
type ProcSource interface {
	// PIDs lists the live processes.
	PIDs() []int
	// Process describes one process.
	Process(pid int) (ProcInfo, bool)
	// MemInfo reports guest memory accounting.
	MemInfo() MemInfo
	// Uptime is the time since boot and the time every CPU spent idle.
	Uptime() (up, idle time.Duration)
	// CPUInfo is the text of /proc/cpuinfo.
	CPUInfo() string
	// Boot is the wall-clock time at boot.
	Boot() time.Time
}

// ProcInfo describes a process for /proc/<pid>.
type ProcInfo struct {
	PID, PPID, PGID, SID int
	// TGID is the thread group's id when this describes one thread of it
	// (/proc/<pid>/task/<tid>); 0 for a process.
	TGID int
	// Tasks are the process's threads, the leader first.
	Tasks            []ProcTask
	Comm             string
	State            byte // R, S, Z, ...
	Exe, Cwd         string
	Root             string // the process's root directory ("" for "/")
	Cmdline, Environ []string
	UID, GID         uint32 // effective ids (the owner of /proc/<pid>)
	// UIDs and GIDs are the real, effective, saved and file-system ids;
	// Groups the supplementary groups.
	UIDs, GIDs   [4]uint32
	Groups       []uint32
	Threads      int
	Start        time.Duration // since boot
	UTime, STime time.Duration
	// Memory, in bytes: mapped (and its peak), resident (and its peak,
	// by kind of page), data, stack, text and page tables.
	VmSize, VmPeak   uint64
	VmRSS, VmHWM     uint64
	RssAnon, RssFile uint64
	RssShmem         uint64
	VmData, VmStk    uint64
	VmExe, VmPTE     uint64
	// Rollup computes /proc/<pid>/smaps_rollup's sums (it walks the
	// resident pages); nil without an address space.
	Rollup               func() ProcRollup
	Maps                 []ProcMap
	FDs                  []ProcFD
	SigPending, SigBlock uint64
	// Prio and Nice are the main thread's priority and nice value as
	// stat shows them; RTPrio and Policy its real-time priority and
	// scheduling policy.
	Prio, Nice, RTPrio, Policy int
}

// ProcRollup is what smaps_rollup sums over a process's mappings: the
// proportional set size (each resident page divided by the number of its
// users), in bytes, and its parts by kind of page.
type ProcRollup struct {
	Start, End                      uint64 // the lowest and highest mapped address
	Pss, PssAnon, PssFile, PssShmem uint64
}

// ProcTask describes one thread for /proc/<pid>/task/<tid>.
type ProcTask struct {
	TID                  int
	Comm                 string
	State                byte
	SigPending, SigBlock uint64
	UTime                time.Duration
}

// threadView is info as /proc/<pid>/task/<tid> shows it: the process's
// figures with the thread's id, name, state, signals and CPU time.
func threadView(info ProcInfo, tid int) (ProcInfo, bool) {
	for _, t := range info.Tasks {
		if t.TID == tid {
			v := info
			v.TGID, v.PID, v.Tasks = info.PID, tid, nil
			v.Comm, v.State, v.SigPending, v.SigBlock, v.UTime = t.Comm, t.State, t.SigPending, t.SigBlock, t.UTime
			return v, true
		}
	}
	return ProcInfo{}, false
}

// ProcMap is one line of /proc/<pid>/maps.
type ProcMap struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64
	Dev        uint64
	Ino        uint64
	Name       string
}

// ProcFD is one entry of /proc/<pid>/fd.
type ProcFD struct {
	FD     int
	Target string // what readlink shows: a path, or "pipe:[ino]" and the like
	// Object is set for a descriptor that refers to no file of the VFS (a
	// pipe, an anonymous inode): its link is a magic link, whose object
	// has the attributes Attr.
	Object bool
	Attr   Attr
}

// MemInfo is /proc/meminfo's data, in bytes.
type MemInfo struct {
	Total, Free, Available uint64
	Mapped, Anon           uint64
	Cached, Shmem          uint64 // page cache (host files and tmpfs) and tmpfs/shared memory
	PageTables             uint64
}

// Procfs is the /proc file system, generated from a ProcSource and the
// VFS's mount table.
type Procfs struct {
	src ProcSource
	v   *FS
}

// procMagic is PROC_SUPER_MAGIC.
const procMagic = 0x9fa0

// NewProcfs returns a procfs over src showing v's mounts.
func NewProcfs(src ProcSource, v *FS) *Procfs { return &Procfs{src: src, v: v} }

// procNode is one resolved procfs path.
type procNode struct {
	mode uint32
	ino  uint64
	pid  int    // 0 for the top level
	kind string // file name within its directory, "" for a directory root
	// procDir marks /proc/<pid> itself (also reached by a thread's id),
	// whose open descriptor pidfd_send_signal accepts.
	procDir bool
	data    func() []byte
	link    func(c *Ctx) (string, error)
	list    func() []Dirent
}

// Top-level files and per-process files, in listing order; the index
// gives each a stable inode number.
const (
	procTopNames = "cpuinfo meminfo mounts self uptime version sys stat loadavg vmstat"
	procPIDNames = "cmdline comm cwd environ exe fd maps mounts root stat status loginuid sessionid statm smaps_rollup task mountinfo"
)

func procIno(pid, idx int) uint64 {
	if pid == 0 {
		return uint64(2 + idx)
	}
	return uint64(pid)<<16 | uint64(idx+1)
}

// lookup resolves a procfs path.
func (p *Procfs) lookup(name string) (*procNode, error) {
	parts := components(name)
	if len(parts) == 0 {
		return &procNode{mode: ModeDir | 0o555, ino: 1, list: p.listTop}, nil
	}
	if pid, err := strconv.Atoi(parts[0]); err == nil && parts[0] == strconv.Itoa(pid) {
		info, ok := p.src.Process(pid)
		if ok && info.PID != pid {
			// A thread's id: /proc/<tid> works, as on Linux, though
			// only processes are listed.
			info, ok = threadView(info, pid)
		}
		if !ok {
			return nil, linux.ENOENT
		}
		n, err := p.lookupPID(info, parts[1:])
		if err == nil && len(parts) == 1 {
			n.procDir = true
		}
		return n, err
	}
	if parts[0] == "sys" {
		return p.lookupSys(parts[1:])
	}
	if parts[0] == "net" {
		return p.lookupNet(parts[1:]) // procfs_net.go
	}
	if len(parts) > 1 {
		if i := index(strings.Fields(procTopNames), parts[0]); i >= 0 && parts[0] != "self" {
			return nil, linux.ENOTDIR
		}
		return nil, linux.ENOENT
	}
	i := index(strings.Fields(procTopNames), parts[0])
	n := &procNode{mode: ModeRegular | 0o444, ino: procIno(0, i), kind: parts[0]}
	switch parts[0] {
	case "self":
		n.mode = ModeSymlink | 0o777
		n.link = func(c *Ctx) (string, error) {
			if c == nil || c.PID == 0 {
				return "", linux.ENOENT
			}
			return strconv.Itoa(c.PID), nil
		}
	case "cpuinfo":
		n.data = func() []byte { return []byte(p.src.CPUInfo()) }
	case "meminfo":
		n.data = p.meminfo
	case "mounts":
		// As on Linux, a link to the caller's own mounts.
		n.mode = ModeSymlink | 0o777
		n.link = func(*Ctx) (string, error) { return "self/mounts", nil }
	case "uptime":
		n.data = func() []byte {
			up, idle := p.src.Uptime()
			return fmt.Appendf(nil, "%d.%02d %d.%02d\n", int64(up/time.Second), int64(up%time.Second/(10*time.Millisecond)),
				int64(idle/time.Second), int64(idle%time.Second/(10*time.Millisecond)))
		}
	case "stat":
		n.data = p.stat
	case "loadavg":
		n.data = p.loadavg
	case "vmstat":
		n.data = p.vmstat
	case "version":
		n.data = func() []byte {
			return []byte("Linux version 6.1.0-sis (sissim) (Go) #1 SMP PREEMPT\n")
		}
	default:
		return nil, linux.ENOENT
	}
	return n, nil
}

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (p *Procfs) lookupPID(info ProcInfo, parts []string) (*procNode, error) {
	pid := info.PID
	if len(parts) == 0 {
		return &procNode{mode: ModeDir | 0o555, ino: procIno(pid, 64), pid: pid, list: func() []Dirent {
			out := make([]Dirent, len(strings.Fields(procPIDNames)))
			for i, name := range strings.Fields(procPIDNames) {
				n, _ := p.lookupPID(info, []string{name})
				out[i] = Dirent{Name: name, Ino: n.ino, Type: DirentType(n.mode)}
			}
			return out
		}}, nil
	}
	i := index(strings.Fields(procPIDNames), parts[0])
	if i < 0 {
		return nil, linux.ENOENT
	}
	if parts[0] == "fd" {
		return p.lookupFD(info, parts[1:])
	}
	if parts[0] == "task" {
		return p.lookupTask(info, parts[1:])
	}
	if len(parts) > 1 {
		return nil, linux.ENOTDIR
	}
	n := &procNode{mode: ModeRegular | 0o444, ino: procIno(pid, i), pid: pid, kind: parts[0]}
	switch parts[0] {
	case "exe", "cwd", "root":
		target := info.Exe
		switch parts[0] {
		case "cwd":
			target = info.Cwd
		case "root":
			target = info.Root
			if target == "" {
				target = "/"
			}
		}
		n.mode = ModeSymlink | 0o777
		n.link = func(c *Ctx) (string, error) { return c.Rel(target), nil }
	case "cmdline":
		n.data = func() []byte { return nulJoin(info.Cmdline) }
	case "environ":
		n.mode = ModeRegular | 0o400
		n.data = func() []byte { return nulJoin(info.Environ) }
	case "comm":
		n.mode = ModeRegular | 0o644
		n.data = func() []byte { return []byte(info.Comm + "\n") }
	case "maps":
		n.data = func() []byte { return procMaps(info.Maps) }
	case "mounts":
		n.data = p.mounts
	case "mountinfo":
		n.data = p.mountinfo
	case "stat":
		n.data = func() []byte { return procStat(info) }
	case "status":
		n.data = func() []byte { return procStatus(info) }
	case "statm":
		n.data = func() []byte { return procStatm(info) }
	case "smaps_rollup":
		n.data = func() []byte { return procRollup(info) }
	case "loginuid", "sessionid":
		// No audit login: AUDIT_UID_UNSET, AUDIT_SID_UNSET.
		if parts[0] == "loginuid" {
			n.mode = ModeRegular | 0o644
		}
		n.data = func() []byte { return []byte("4294967295") }
	}
	return n, nil
}

// lookupTask resolves /proc/<pid>/task and what is below it.
func (p *Procfs) lookupTask(info ProcInfo, parts []string) (*procNode, error) {
	pid := info.PID
	if len(parts) == 0 {
		return &procNode{mode: ModeDir | 0o555, ino: procIno(pid, index(strings.Fields(procPIDNames), "task")), pid: pid, list: func() []Dirent {
			out := make([]Dirent, len(info.Tasks))
			for i, t := range info.Tasks {
				out[i] = Dirent{Name: strconv.Itoa(t.TID), Ino: procIno(t.TID, 64), Type: DTDir}
			}
			return out
		}}, nil
	}
	tid, err := strconv.Atoi(parts[0])
	if err != nil || parts[0] != strconv.Itoa(tid) {
		return nil, linux.ENOENT
	}
	v, ok := threadView(info, tid)
	if !ok {
		return nil, linux.ENOENT
	}
	return p.lookupPID(v, parts[1:])
}

func (p *Procfs) lookupFD(info ProcInfo, parts []string) (*procNode, error) {
	pid := info.PID
	if len(parts) == 0 {
		return &procNode{mode: ModeDir | 0o500, ino: procIno(pid, index(strings.Fields(procPIDNames), "fd")), pid: pid, list: func() []Dirent {
			out := make([]Dirent, len(info.FDs))
			for i, fd := range info.FDs {
				out[i] = Dirent{Name: strconv.Itoa(fd.FD), Ino: procIno(pid, 1024+fd.FD), Type: DTLink}
			}
			return out
		}}, nil
	}
	if len(parts) > 1 {
		return nil, linux.ENOTDIR
	}
	fd, err := strconv.Atoi(parts[0])
	if err != nil {
		return nil, linux.ENOENT
	}
	for _, e := range info.FDs {
		if e.FD == fd && parts[0] == strconv.Itoa(fd) {
			target := e.Target
			return &procNode{mode: ModeSymlink | 0o700, ino: procIno(pid, 1024+fd), pid: pid,
				link: func(c *Ctx) (string, error) {
					if strings.HasPrefix(target, "/") {
						return c.Rel(target), nil
					}
					return target, nil
				}}, nil
		}
	}
	return nil, linux.ENOENT
}

func nulJoin(ss []string) []byte {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.Bytes()
}

func procMaps(maps []ProcMap) []byte {
	var b bytes.Buffer
	for _, m := range maps {
		line := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d", m.Start, m.End, m.Perms, m.Offset, m.Dev>>8, m.Dev&0xff, m.Ino)
		if m.Name != "" {
			line = fmt.Sprintf("%-72s %s", line, m.Name)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// clockTicks converts a duration to USER_HZ (100) ticks.
func clockTicks(d time.Duration) int64 { return int64(d / (10 * time.Millisecond)) }

func procStat(i ProcInfo) []byte {
	// Fields of proc_pid_stat(5), up to rsslim; the rest are zero.
	return fmt.Appendf(nil, "%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 %d %d 0 0 %d %d %d 0 %d %d %d 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 %d %d 0 0 0 0 0 0 0 0 0 0 0\n",
		i.PID, i.Comm, i.State, i.PPID, i.PGID, i.SID, clockTicks(i.UTime), clockTicks(i.STime),
		i.Prio, i.Nice, max(i.Threads, 1), clockTicks(i.Start), i.VmSize, i.VmRSS/4096, i.RTPrio, i.Policy)
}

func procStatus(i ProcInfo) []byte {
	state := map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'Z': "Z (zombie)", 'T': "T (stopped)", 'D': "D (disk sleep)"}[i.State]
	if state == "" {
		state = string(i.State)
	}
	var b bytes.Buffer
	tgid := i.TGID
	if tgid == 0 {
		tgid = i.PID
	}
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", i.Comm, state, tgid, i.PID, i.PPID)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t%d\nGroups:\t", i.UIDs[0], i.UIDs[1], i.UIDs[2], i.UIDs[3],
		i.GIDs[0], i.GIDs[1], i.GIDs[2], i.GIDs[3], max(64, len(i.FDs)))
	for k, g := range i.Groups {
		if k > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d", g)
	}
	b.WriteString(" \n")
	for _, kv := range []struct {
		k string
		v uint64
	}{{"VmPeak", i.VmPeak}, {"VmSize", i.VmSize}, {"VmHWM", i.VmHWM}, {"VmRSS", i.VmRSS}, {"RssAnon", i.RssAnon},
		{"RssFile", i.RssFile}, {"RssShmem", i.RssShmem}, {"VmData", i.VmData}, {"VmStk", i.VmStk}, {"VmExe", i.VmExe},
		{"VmPTE", i.VmPTE}, {"VmSwap", 0}} {
		fmt.Fprintf(&b, "%s:\t%8d kB\n", kv.k, kv.v/1024)
	}
	fmt.Fprintf(&b, "Threads:\t%d\nSigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\n", max(i.Threads, 1), i.SigPending, uint64(0), i.SigBlock)
	return b.Bytes()
}

// procStatm is /proc/<pid>/statm: sizes in pages (size resident shared
// text lib data dt; lib and dt are 0 since Linux 2.6).
func procStatm(i ProcInfo) []byte {
	pg := func(v uint64) uint64 { return v / 4096 }
	return fmt.Appendf(nil, "%d %d %d %d 0 %d 0\n", pg(i.VmSize), pg(i.VmRSS), pg(i.RssFile+i.RssShmem),
		pg(i.VmExe), pg(i.VmData+i.VmStk))
}

// procRollup is /proc/<pid>/smaps_rollup.
func procRollup(i ProcInfo) []byte {
	var r ProcRollup
	if i.Rollup != nil {
		r = i.Rollup()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%08x-%08x ---p 00000000 00:00 0                          [rollup]\n", r.Start, r.End)
	for _, kv := range []struct {
		k string
		v uint64
	}{{"Rss", i.VmRSS}, {"Pss", r.Pss}, {"Pss_Anon", r.PssAnon}, {"Pss_File", r.PssFile}, {"Pss_Shmem", r.PssShmem},
		{"Anonymous", i.RssAnon}, {"Swap", 0}, {"SwapPss", 0}} {
		fmt.Fprintf(&b, "%-16s%8d kB\n", kv.k+":", kv.v/1024)
	}
	return b.Bytes()
}

func (p *Procfs) meminfo() []byte {
	m := p.src.MemInfo()
	var b bytes.Buffer
	for _, kv := range []struct {
		k string
		v uint64
	}{{"MemTotal", m.Total}, {"MemFree", m.Free}, {"MemAvailable", m.Available}, {"Buffers", 0}, {"Cached", m.Cached},
		{"SwapCached", 0}, {"AnonPages", m.Anon}, {"Mapped", m.Mapped}, {"Shmem", m.Shmem}, {"PageTables", m.PageTables},
		{"SwapTotal", 0}, {"SwapFree", 0}} {
		fmt.Fprintf(&b, "%-16s%8d kB\n", kv.k+":", kv.v/1024)
	}
	return b.Bytes()
}

func (p *Procfs) mounts() []byte {
	var b bytes.Buffer
	for _, m := range p.v.Mounts() {
		b.WriteString(m.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// SwitchCounter is a ProcSource that counts the context switches since
// boot (/proc/stat's "ctxt").
type SwitchCounter interface{ Switches() uint64 }

// ForkCounter is a ProcSource that counts the processes and threads
// created since boot (/proc/stat's "processes").
type ForkCounter interface{ Forks() uint64 }

// vmstat is /proc/vmstat: the page counts of MemInfo, and the swap and
// block I/O counters, which stay 0 on a machine with neither swap nor
// block devices.
func (p *Procfs) vmstat() []byte {
	mi := p.src.MemInfo()
	var b bytes.Buffer
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"nr_free_pages", mi.Free / 4096}, {"nr_anon_pages", mi.Anon / 4096}, {"nr_mapped", mi.Mapped / 4096},
		{"nr_file_pages", mi.Cached / 4096}, {"nr_shmem", mi.Shmem / 4096}, {"nr_page_table_pages", mi.PageTables / 4096},
		{"pgpgin", 0}, {"pgpgout", 0}, {"pswpin", 0}, {"pswpout", 0},
	} {
		fmt.Fprintf(&b, "%s %d\n", kv.k, kv.v)
	}
	return b.Bytes()
}

// LoadReporter is a ProcSource that keeps load averages (/proc/loadavg):
// the 1, 5 and 15 minute averages in fixed point with 11 bits of
// fraction, the threads runnable now and in all, and the last pid.
type LoadReporter interface {
	LoadAvg() (avg [3]uint64, running, threads, lastPID int)
}

// loadavg is /proc/loadavg (proc_loadavg(5)).
func (p *Procfs) loadavg() []byte {
	lr, ok := p.src.(LoadReporter)
	if !ok {
		return []byte("0.00 0.00 0.00 0/0 0\n")
	}
	avg, running, threads, last := lr.LoadAvg()
	var b bytes.Buffer
	for _, a := range avg {
		a += (1 << 11) / 200 // round to two decimals, as Linux
		fmt.Fprintf(&b, "%d.%02d ", a>>11, ((a&(1<<11-1))*100)>>11)
	}
	fmt.Fprintf(&b, "%d/%d %d\n", running, threads, last)
	return b.Bytes()
}

// stat is /proc/stat (proc_stat(5)) for the machine's one CPU: the time
// spent running guests (user) and idle, in USER_HZ ticks; the boot time;
// the processes and threads created since boot; the threads running now.
func (p *Procfs) stat() []byte {
	up, idle := p.src.Uptime()
	user, idl := clockTicks(max(up-idle, 0)), clockTicks(idle)
	running := 0
	for _, pid := range p.src.PIDs() {
		if info, ok := p.src.Process(pid); ok {
			for _, t := range info.Tasks {
				if t.State == 'R' {
					running++
				}
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 %d 0 0 %d 0 0 0 0 0 0\n", user, idl, user, idl)
	if sc, ok := p.src.(SwitchCounter); ok {
		fmt.Fprintf(&b, "ctxt %d\n", sc.Switches())
	}
	fmt.Fprintf(&b, "btime %d\n", p.src.Boot().Unix())
	if fc, ok := p.src.(ForkCounter); ok {
		fmt.Fprintf(&b, "processes %d\n", fc.Forks())
	}
	fmt.Fprintf(&b, "procs_running %d\nprocs_blocked 0\n", running)
	return b.Bytes()
}

// mountinfo is /proc/<pid>/mountinfo (proc_pid_mountinfo(5)): mount and
// parent ids, the device, the mount's root, its mount point, options,
// "-", type, source and super options. A mount's id is derived from its
// device number; the first root's parent is 1, the rootfs Linux hides.
func (p *Procfs) mountinfo() []byte {
	id := func(m *Mount) uint64 { return 20 + m.Dev }
	var b bytes.Buffer
	for _, m := range p.v.Mounts() {
		parent := uint64(1)
		if m.parent != nil {
			parent = id(m.parent)
		}
		dev := Makedev(0, uint32(m.Dev))
		if a, err := m.Backend.Lstat("/"); err == nil && a.Dev != 0 {
			dev = a.Dev
		}
		opt := "rw"
		if m.ReadOnly {
			opt = "ro"
		}
		major := (dev>>8)&0xfff | (dev>>32)&0xfffff000
		minor := dev&0xff | (dev>>12)&0xffffff00
		fmt.Fprintf(&b, "%d %d %d:%d / %s %s - %s %s %s\n", id(&m), parent, major, minor,
			mountEscape(m.Path), opt, m.Type, mountEscape(m.Source), opt)
	}
	return b.Bytes()
}

// mountEscape escapes a path as the mount tables do: space, tab, newline
// and backslash in octal.
func mountEscape(s string) string {
	return strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`).Replace(s)
}

func (p *Procfs) listTop() []Dirent {
	var out []Dirent
	pids := p.src.PIDs()
	sort.Ints(pids)
	for i, name := range strings.Fields(procTopNames) {
		t := uint8(DTReg)
		switch name {
		case "self", "mounts":
			t = DTLink
		case "sys":
			t = DTDir
			if _, ok := p.src.(SysctlSource); !ok {
				continue
			}
		}
		out = append(out, Dirent{Name: name, Ino: procIno(0, i), Type: t})
	}
	if p.hasNet() {
		out = append(out, Dirent{Name: "net", Ino: procNetIno(-1), Type: DTDir})
	}
	for _, pid := range pids {
		out = append(out, Dirent{Name: strconv.Itoa(pid), Ino: procIno(pid, 64), Type: DTDir})
	}
	return out
}

func (p *Procfs) attr(n *procNode) Attr {
	boot := p.src.Boot()
	a := Attr{Ino: n.ino, Mode: n.mode, Nlink: 1, Blksize: 1024, Atime: boot, Mtime: boot, Ctime: boot}
	if n.mode&ModeType == ModeDir {
		a.Nlink = 2
	}
	if n.pid != 0 {
		if info, ok := p.src.Process(n.pid); ok {
			a.UID, a.GID = info.UID, info.GID
			t := boot.Add(info.Start)
			a.Atime, a.Mtime, a.Ctime = t, t, t
		}
	}
	return a
}

// SysctlSource is a ProcSource with kernel parameters for /proc/sys.
type SysctlSource interface {
	// Sysctls returns the parameters by path under /proc/sys
	// ("kernel/hostname") with their values, newline included.
	Sysctls() map[string]string
}

// lookupSys resolves a path under /proc/sys: the parameters are read-only
// files, their path components directories.
func (p *Procfs) lookupSys(parts []string) (*procNode, error) {
	src, ok := p.src.(SysctlSource)
	if !ok {
		return nil, linux.ENOENT
	}
	params := src.Sysctls()
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	// Inode numbers: a hash of the path, above the per-process ones.
	ino := func(path string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(path))
		return 1<<40 | h.Sum64()&(1<<40-1)
	}
	path := strings.Join(parts, "/")
	if v, ok := params[path]; ok {
		return &procNode{mode: ModeRegular | 0o444, ino: ino(path), kind: parts[len(parts)-1],
			data: func() []byte { return []byte(v) }}, nil
	}
	prefix := path + "/"
	if path == "" {
		prefix = ""
	}
	var ents []Dirent
	seen := map[string]bool{}
	for _, k := range names {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		typ := uint8(DTReg)
		if isDir {
			typ = DTDir
		}
		ents = append(ents, Dirent{Name: name, Ino: ino(prefix + name), Type: typ})
	}
	if len(ents) == 0 {
		for _, k := range names {
			if strings.HasPrefix(path, k+"/") {
				return nil, linux.ENOTDIR
			}
		}
		return nil, linux.ENOENT
	}
	if path == "" {
		path = "sys"
	}
	return &procNode{mode: ModeDir | 0o555, ino: ino(path), list: func() []Dirent { return ents }}, nil
}

// Lstat implements Backend.
func (p *Procfs) Lstat(name string) (Attr, error) {
	n, err := p.lookup(name)
	if err != nil {
		return Attr{}, err
	}
	return p.attr(n), nil
}

// Readlink implements Backend (without a caller, /proc/self is ENOENT).
func (p *Procfs) Readlink(name string) (string, error) { return p.ReadlinkCtx(nil, name) }

// ReadlinkCtx implements Contexter.
func (p *Procfs) ReadlinkCtx(c *Ctx, name string) (string, error) {
	n, err := p.lookup(name)
	if err != nil {
		return "", err
	}
	if n.link == nil {
		return "", linux.EINVAL
	}
	return n.link(c)
}

// MagicLink implements MagicLinker: /proc/<pid>/fd/<n> of a descriptor
// that refers to an object outside the VFS.
func (p *Procfs) MagicLink(c *Ctx, name string) (*MagicLink, error) {
	parts := components(name)
	if len(parts) != 3 || parts[1] != "fd" {
		return nil, nil
	}
	pid, err := strconv.Atoi(parts[0])
	if err != nil {
		return nil, nil
	}
	fd, err := strconv.Atoi(parts[2])
	if err != nil {
		return nil, nil
	}
	info, ok := p.src.Process(pid)
	if !ok {
		return nil, linux.ENOENT
	}
	for _, e := range info.FDs {
		if e.FD == fd {
			if !e.Object {
				return nil, nil
			}
			return &MagicLink{PID: pid, FD: fd, Attr: e.Attr}, nil
		}
	}
	return nil, linux.ENOENT
}

// Open implements Backend; a file's content is generated at open.
func (p *Procfs) Open(name string, flags int, perm uint32) (Handle, error) {
	n, err := p.lookup(name)
	if err != nil {
		if flags&linux.O_CREAT != 0 && err == linux.ENOENT {
			return nil, linux.EACCES
		}
		return nil, err
	}
	if flags&linux.O_CREAT != 0 && flags&linux.O_EXCL != 0 {
		return nil, linux.EEXIST
	}
	if flags&linux.O_ACCMODE != linux.O_RDONLY {
		return nil, linux.EACCES
	}
	h := &procHandle{p: p, n: n}
	if n.data != nil {
		h.data = n.data()
	}
	return h, nil
}

// Mkdir implements Backend.
func (p *Procfs) Mkdir(string, uint32) error { return linux.ENOENT }

// Symlink implements Backend.
func (p *Procfs) Symlink(string, string) error { return linux.ENOENT }

// Link implements Backend.
func (p *Procfs) Link(string, string) error { return linux.ENOENT }

// Unlink implements Backend.
func (p *Procfs) Unlink(string) error { return linux.EACCES }

// Rmdir implements Backend.
func (p *Procfs) Rmdir(string) error { return linux.EACCES }

// Rename implements Backend.
func (p *Procfs) Rename(string, string, bool) error { return linux.EACCES }

// SetAttr implements Backend.
func (p *Procfs) SetAttr(string, SetAttr) error { return linux.EPERM }

// Statfs implements Backend.
func (p *Procfs) Statfs() (Statfs, error) {
	return Statfs{Type: procMagic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}, nil
}

// procHandle is an open procfs file: a snapshot taken at open.
type procHandle struct {
	p    *Procfs
	n    *procNode
	data []byte
}

// ProcessDir returns the id in the name of an open /proc/<pid> directory
// (a process's, or a thread's), for pidfd_send_signal(2), which takes
// such a descriptor as a pidfd.
func (h *procHandle) ProcessDir() (int, bool) { return h.n.pid, h.n.procDir }

func (h *procHandle) ReadAt(b []byte, off int64) (int, error) {
	if h.n.list != nil {
		return 0, linux.EISDIR
	}
	if h.n.data == nil {
		return 0, linux.EINVAL
	}
	if off >= int64(len(h.data)) {
		return 0, nil
	}
	return copy(b, h.data[off:]), nil
}

func (h *procHandle) WriteAt([]byte, int64) (int, error) { return 0, linux.EBADF }
func (h *procHandle) Stat() (Attr, error)                { return h.p.attr(h.n), nil }
func (h *procHandle) Truncate(int64) error               { return linux.EACCES }
func (h *procHandle) Sync() error                        { return linux.EINVAL }
func (h *procHandle) Close() error                       { return nil }

func (h *procHandle) ReadDir() ([]Dirent, error) {
	if h.n.list == nil {
		return nil, linux.ENOTDIR
	}
	return h.n.list(), nil
}
