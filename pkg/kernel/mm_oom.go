package kernel

import (
	"fmt"
	"path"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Bounded memory: guests get no more than the machine's RAM. Mappings are
// checked against it as Linux's default overcommit heuristic does (one
// private writable mapping larger than all of RAM is refused), and when
// the frames run out the OOM killer ends the process with the largest
// footprint.

// canReserve reports whether a private writable mapping of n bytes passes
// the overcommit heuristic (vm.overcommit_memory = 0, no swap).
func (m *Machine) canReserve(n uint64) bool { return n <= m.ram.Size() }

// oomKill kills the process using the most RAM to free memory, as Linux's
// OOM killer does, and reports whether memory was freed: false when no
// process can be killed, or when the victim is the one on the CPU (its
// memory goes only once it stops; its allocation fails).
func (m *Machine) oomKill() bool {
	var victim *Process
	var most uint64
	for _, p := range m.liveProcs() {
		if p.zombie || p.exiting || p.as == nil {
			continue
		}
		if r := p.rss() + uint64(p.as.pt.Tables())*pageSize; r > most {
			victim, most = p, r
		}
	}
	if victim == nil {
		return false
	}
	as := victim.as
	kb := func(k int) int64 { return as.rss[k] * pageSize / 1024 }
	report := fmt.Sprintf("Out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:%dkB",
		victim.PID, path.Base(victim.exe), as.mapped/1024, kb(rssAnon), kb(rssFile), kb(rssShmem))
	if !victim.hostOwned {
		m.log.Warn(report) // a host-owned process's status carries it
	}
	m.oomKills.Add(1)
	cur := m.cur != nil && m.cur.Process == victim
	victim.kill(linux.SIGKILL, report)
	return !cur
}

// OOMKills returns how many processes the OOM killer ended.
func (m *Machine) OOMKills() uint64 { return m.oomKills.Load() }
