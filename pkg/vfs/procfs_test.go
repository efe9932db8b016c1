package vfs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// oneProc is a ProcSource with one process, pid 1.
type oneProc struct{}

func (oneProc) PIDs() []int { return []int{1} }
func (oneProc) Process(pid int) (ProcInfo, bool) {
	return ProcInfo{PID: 1, Comm: "init", State: 'R', Exe: "/bin/init", Cwd: "/tmp"}, pid == 1
}
func (oneProc) MemInfo() MemInfo                 { return MemInfo{} }
func (oneProc) Uptime() (up, idle time.Duration) { return 0, 0 }
func (oneProc) CPUInfo() string                  { return "" }
func (oneProc) Boot() time.Time                  { return time.Unix(0, 0) }

// TestProcLinks: /proc/<pid>/root is "/" and /proc/mounts is a link to
// self/mounts, as on Linux.
func TestProcLinks(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.Mount("/proc", "proc", "proc", NewProcfs(oneProc{}, v), false))
	c := &Ctx{PID: 1}
	for p, want := range map[string]string{"/proc/self/root": "/", "/proc/1/root": "/", "/proc/1/cwd": "/tmp", "/proc/mounts": "self/mounts"} {
		got, err := v.ReadlinkAt(c, "/", p)
		require.NoError(t, err, p)
		require.Equal(t, want, got, p)
	}
	p, _, err := v.Resolve(c, "/", "/proc/self/root/etc/passwd")
	require.NoError(t, err)
	require.Equal(t, "/etc/passwd", p)
	f, err := v.OpenAt(c, "/", "/proc/mounts", linux.O_RDONLY, 0)
	require.NoError(t, err)
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	require.NoError(t, err)
	require.Contains(t, string(buf[:n]), "proc /proc proc rw 0 0\n")
	require.NoError(t, f.Close())
	ents, err := v.ReadDir("/proc/1")
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	require.Contains(t, names, "root")
}

// TestProcMountinfo: /proc/<pid>/mountinfo lists every mount with its id,
// its parent's, its device, root and mount point (escaped), options, and
// after "-" its type, source and super options (df and libmount read it).
func TestProcMountinfo(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.Mount("/proc", "proc", "proc", NewProcfs(oneProc{}, v), false))
	require.NoError(t, v.MkdirAll("/mnt/a b", 0o755))
	require.NoError(t, v.Mount("/mnt/a b", "tmpfs", "my\tsrc", NewTmpfs(v.Now, 0o755, v.RAM(), 0), true))
	data, err := v.ReadFile("/proc/1/mountinfo")
	require.NoError(t, err)
	root := v.Mounts()[0]
	want := fmt.Sprintf("%d 1 0:%d / / rw - %s %s rw\n", 20+root.Dev, root.Dev, root.Type, root.Source)
	require.True(t, strings.HasPrefix(string(data), want), "%s", data)
	proc, mnt := v.Mounts()[1], v.Mounts()[2]
	require.Contains(t, string(data), fmt.Sprintf("%d %d 0:%d / /proc rw - proc proc rw\n", 20+proc.Dev, 20+root.Dev, proc.Dev))
	require.Contains(t, string(data), fmt.Sprintf("%d %d 0:%d / /mnt/a\\040b ro - tmpfs my\\011src ro\n", 20+mnt.Dev, 20+root.Dev, mnt.Dev))
	require.Equal(t, len(v.Mounts()), strings.Count(string(data), "\n"))
}

// TestProcStat: /proc/stat's CPU times, boot time and running threads
// (oneProc has no fork counter: no "processes" line).
func TestProcStat(t *testing.T) {
	v := newTestFS(t)
	require.NoError(t, v.Mount("/proc", "proc", "proc", NewProcfs(oneProc{}, v), false))
	data, err := v.ReadFile("/proc/stat")
	require.NoError(t, err)
	require.Equal(t, "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nbtime 0\nprocs_running 0\nprocs_blocked 0\n", string(data))
	data, err = v.ReadFile("/proc/vmstat")
	require.NoError(t, err)
	require.Equal(t, "nr_free_pages 0\nnr_anon_pages 0\nnr_mapped 0\nnr_file_pages 0\nnr_shmem 0\nnr_page_table_pages 0\n"+
		"pgpgin 0\npgpgout 0\npswpin 0\npswpout 0\n", string(data))
}
