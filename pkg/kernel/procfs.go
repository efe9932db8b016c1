package kernel

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// onRename makes working directories follow renames, as they follow the
// inode on Linux.
func (m *Machine) onRename(move func(string) (string, bool)) {
	for _, p := range m.liveProcs() {
		p.cwd, _ = move(p.cwd)
	}
}

// mountSynthetic mounts devfs at /dev (with a tmpfs at /dev/shm, for
// POSIX shared memory and named semaphores) and procfs at /proc when those
// directories exist and nothing is mounted there yet, and makes the file
// system stamp times from the machine's wall clock.
func (m *Machine) mountSynthetic() error {
	m.fs.SetClock(m.wallTime)
	m.fs.OnRename(m.onRename)
	mounted := map[string]bool{}
	for _, mt := range m.fs.Mounts() {
		mounted[mt.Path] = true
	}
	for _, x := range []struct {
		dir, typ string
		b        vfs.Backend
	}{
		{"/dev", "devtmpfs", vfs.NewDevfs(machineDevices{m}, m.epoch)},
		{"/proc", "proc", vfs.NewProcfs(procSource{m}, m.fs)},
	} {
		if mounted[x.dir] {
			continue
		}
		if a, err := m.fs.StatAt(nil, "/", x.dir, true); err != nil || !a.IsDir() {
			continue
		}
		if err := m.fs.Mount(x.dir, x.typ, x.typ, x.b, false); err != nil {
			return err
		}
		if x.dir == "/dev" {
			shm := vfs.NewTmpfs(m.fs.Now, 0o1777, m.ram, 0)
			if err := m.fs.Mount("/dev/shm", "tmpfs", "tmpfs", shm, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// machineDevices gives devfs the machine's generator and console.
type machineDevices struct{ m *Machine }

func (d machineDevices) Random(b []byte)     { d.m.randomBytes(b) }
func (d machineDevices) Console() vfs.Handle { return &consoleHandle{m: d.m} }

// consoleHandle is /dev/console and /dev/tty opened by path: the machine's
// console streams as a character device.
type consoleHandle struct{ m *Machine }

func (c *consoleHandle) Read(p []byte) (int, error) { return c.m.console.read(p, false) }

func (c *consoleHandle) Write(p []byte) (int, error)        { return c.m.cfg.Stdout.Write(p) }
func (c *consoleHandle) ReadAt([]byte, int64) (int, error)  { return 0, linux.ESPIPE }
func (c *consoleHandle) WriteAt([]byte, int64) (int, error) { return 0, linux.ESPIPE }
func (c *consoleHandle) Truncate(int64) error               { return nil }
func (c *consoleHandle) Sync() error                        { return linux.EINVAL }
func (c *consoleHandle) Close() error                       { return nil }
func (c *consoleHandle) ReadDir() ([]vfs.Dirent, error)     { return nil, linux.ENOTDIR }
func (c *consoleHandle) IsTerminal() bool                   { return c.m.cfg.ConsoleIsTerminal }
func (c *consoleHandle) SetAttr(vfs.SetAttr) error          { return nil }
func (c *consoleHandle) Stat() (vfs.Attr, error) {
	return c.m.fs.StatAt(nil, "/", "/dev/console", true)
}

// procSource gives procfs the machine's processes, memory and clock.
type procSource struct{ m *Machine }

func (s procSource) PIDs() []int {
	var out []int
	for _, p := range s.m.liveProcs() {
		out = append(out, p.PID)
	}
	return out
}

func (s procSource) Boot() time.Time { return s.m.epoch }

// Forks implements vfs.ForkCounter: every process and thread id handed
// out after init's.
func (s procSource) Forks() uint64 {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return uint64(max(s.m.nextPID-2, 0))
}

// Switches implements vfs.SwitchCounter: the scheduler's switches from
// one thread to another.
func (s procSource) Switches() uint64 { return s.m.sched.Switches.Count() }

// LoadAvg implements vfs.LoadReporter: the scheduler's load averages
// (runnable CBS servers, sampled every 5 s of machine time), the threads
// runnable now and alive, and the last pid handed out.
func (s procSource) LoadAvg() (avg [3]uint64, running, threads, lastPID int) {
	avg, _ = s.m.sched.LoadAvg(s.m.clock.Now())
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, t := range s.m.tasks {
		if t.state == taskRunnable {
			running++
		}
	}
	return avg, running, len(s.m.tasks), s.m.nextPID - 1
}

// Uptime reports the machine time since boot and, as idle, the part of it
// during which no guest ran (the machine waited for a timer, a sleeper or
// the console, or the kernel worked alone).
func (s procSource) Uptime() (time.Duration, time.Duration) {
	up := s.m.Now()
	busy := time.Duration(s.m.busy.Load())
	return up, max(up-busy, 0)
}

// MemInfo reports the machine's RAM as Linux's /proc/meminfo does.
func (s procSource) MemInfo() vfs.MemInfo {
	rs := s.m.ram.Stats()
	var mapped uint64
	for _, p := range s.m.liveProcs() {
		if p.as != nil {
			mapped += uint64(p.as.rss[rssFile]+p.as.rss[rssShmem]) * pageSize
		}
	}
	avail := rs.Free + rs.ByKind(mem.Cache)
	return vfs.MemInfo{Total: rs.Total, Free: rs.Free, Available: avail, Mapped: mapped, Anon: rs.ByKind(mem.Anon),
		Cached: rs.ByKind(mem.Cache) + rs.ByKind(mem.Shmem), Shmem: rs.ByKind(mem.Shmem), PageTables: rs.ByKind(mem.PageTable)}
}

// CPUInfo describes the emulated CPU (Unicorn's Cortex-A72) as Linux's
// arm64 /proc/cpuinfo does.
func (s procSource) CPUInfo() string {
	return "processor\t: 0\nBogoMIPS\t: " + fmt.Sprintf("%.2f", float64(cpu.CounterHz)/500000) +
		"\nFeatures\t: fp asimd aes pmull sha1 sha2 crc32\nCPU implementer\t: 0x41\nCPU architecture: 8\n" +
		"CPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n"
}

func (s procSource) Process(pid int) (vfs.ProcInfo, bool) {
	p := s.m.lookup(pid)
	if p == nil {
		if t := s.m.lookupTask(pid); t != nil {
			p = t.Process // a thread: procfs shows its view
		}
	}
	if p == nil || p == s.m.init {
		return vfs.ProcInfo{}, false
	}
	comm := path.Base(p.exe)
	var block uint64
	sa := schedAttrs{}
	if t := p.leader(); t != nil {
		comm, block, sa = t.commName(), t.sigMask, t.sched
	}
	info := vfs.ProcInfo{
		PID: p.PID, PPID: p.PPID, PGID: p.pgid, SID: p.sid, Comm: comm, Exe: p.exe, Cwd: p.cwd, Root: p.root,
		Cmdline: p.argv, Environ: p.envp, Threads: len(p.tasks), State: p.stateLetter(),
		Start: time.Duration(p.startNs), UTime: time.Duration(p.cpuNs()),
		SigPending: p.sigPending.mask, SigBlock: block,
		UID: p.cred.euid, GID: p.cred.egid, Groups: p.cred.groups,
		UIDs: [4]uint32{p.cred.ruid, p.cred.euid, p.cred.suid, p.cred.fsuid},
		GIDs: [4]uint32{p.cred.rgid, p.cred.egid, p.cred.sgid, p.cred.fsgid},
		Prio: sa.prio(), Nice: sa.nice, RTPrio: sa.rtprio, Policy: sa.policy,
	}
	for _, t := range p.tasks {
		st := byte('S')
		switch {
		case p.zombie:
			st = 'Z'
		case t.state == taskStopped:
			st = 'T'
		case t.state == taskRunnable:
			st = 'R'
		}
		info.Tasks = append(info.Tasks, vfs.ProcTask{TID: t.TID, Comm: t.commName(), State: st,
			SigPending: t.sigPending.mask | p.sigPending.mask, SigBlock: t.sigMask, UTime: time.Duration(t.threadCPUNs())})
	}
	if as := p.as; as != nil {
		info.VmRSS = as.rssBytes()
		info.VmHWM = max(as.hwm, info.VmRSS)
		info.VmPeak = as.peakMapped
		info.RssAnon = uint64(as.rss[rssAnon]) * pageSize
		info.RssFile = uint64(as.rss[rssFile]) * pageSize
		info.RssShmem = uint64(as.rss[rssShmem]) * pageSize
		info.VmPTE = uint64(as.pt.Tables()) * pageSize
		info.Rollup = as.rollup
		p.as.vmas.Ascend(func(v *vma) bool {
			size := v.end - v.start
			info.VmSize += size
			switch {
			case v.name == "[stack]":
				info.VmStk += size
			case v.name == p.exe && v.prot&cpu.ProtExec != 0:
				info.VmExe += size
			case v.prot&cpu.ProtWrite != 0:
				info.VmData += size
			}
			info.Maps = append(info.Maps, s.procMap(*v))
			return true
		})
	}
	if p.fds != nil {
		for fd, e := range p.fds.fds {
			if e != nil {
				pfd := vfs.ProcFD{FD: fd, Target: fdTarget(e.of.f)}
				if !strings.HasPrefix(pfd.Target, "/") {
					// A pipe or an anonymous inode: a magic link to it.
					pfd.Object = true
					if st, ok := e.of.f.(statter); ok {
						if fi, err := st.Stat(); err == nil {
							pfd.Attr = infoAttr(fi)
						}
					}
				}
				info.FDs = append(info.FDs, pfd)
			}
		}
	}
	return info, true
}

// procMap renders one mapping for /proc/<pid>/maps.
func (s procSource) procMap(v vma) vfs.ProcMap {
	perms := []byte("---p")
	if v.prot&cpu.ProtRead != 0 {
		perms[0] = 'r'
	}
	if v.prot&cpu.ProtWrite != 0 {
		perms[1] = 'w'
	}
	if v.prot&cpu.ProtExec != 0 {
		perms[2] = 'x'
	}
	if v.shared() {
		perms[3] = 's'
	}
	pm := vfs.ProcMap{Start: v.start, End: v.end, Perms: string(perms), Offset: v.pgoff * pageSize, Name: v.name}
	if strings.HasPrefix(v.name, "/") {
		if a, err := s.m.fs.StatAt(nil, "/", v.name, true); err == nil {
			pm.Dev, pm.Ino = a.Dev, a.Ino
		}
	}
	return pm
}

// fdTarget is what /proc/<pid>/fd/<n> points to.
func fdTarget(f file) string {
	switch f := f.(type) {
	case *vfs.File:
		return f.Path
	case *console:
		return "/dev/console"
	case interface{ ProcName() string }:
		return f.ProcName()
	}
	return fmt.Sprintf("anon_inode:[%T]", f)
}

// Sysctls implements vfs.SysctlSource: the machine's kernel parameters
// under /proc/sys, read-only, each the value the kernel works with.
func (s procSource) Sysctls() map[string]string {
	m := s.m
	v := map[string]string{
		"kernel/hostname":              m.Hostname(),
		"kernel/domainname":            "(none)",
		"kernel/ostype":                "Linux",
		"kernel/osrelease":             "6.1.0-sis",
		"kernel/version":               "#1 SMP SIS Kernel",
		"kernel/pid_max":               "4194304", // PID_MAX_LIMIT: pids are never reused below it
		"kernel/threads-max":           fmt.Sprint(maxProcs),
		"kernel/ngroups_max":           fmt.Sprint(ngroupsMax),
		"kernel/cap_last_cap":          fmt.Sprint(capLastCap),
		"kernel/overflowuid":           "65534",
		"kernel/overflowgid":           "65534",
		"kernel/sched_rr_timeslice_ms": fmt.Sprint(rrTimeslice / 1_000_000),
		"vm/overcommit_memory":         "0", // the heuristic of mm_oom.go
		"vm/max_map_count":             fmt.Sprint(maxMapCount),
		"fs/file-max":                  fmt.Sprint(fileMax),
		"fs/nr_open":                   fmt.Sprint(nrOpen),
		"fs/pipe-max-size":             fmt.Sprint(pipeMaxPages * pageSize),
		"net/core/somaxconn":           "4096",
		"kernel/random/entropy_avail":  "256",
		"kernel/random/poolsize":       "256",
	}
	for k, x := range v {
		v[k] = x + "\n"
	}
	return v
}
