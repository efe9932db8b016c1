package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// raceTree is a host directory shared by two machines: mnt is mounted,
// outside (next to it) holds canaries. mnt/d is a directory with decoys;
// mnt/s is a symlink to outside, made by the attacking machine.
type raceTree struct {
	mnt, outside string
	canaries     map[string]string // name in outside -> content
}

func newRaceTree(t *testing.T) *raceTree {
	t.Helper()
	root := t.TempDir()
	rt := &raceTree{
		mnt:      filepath.Join(root, "mnt"),
		outside:  filepath.Join(root, "outside"),
		canaries: map[string]string{"f": "canary", "r1": "canary-r1", "l": "canary-l", "w": "canary-w"},
	}
	require.NoError(t, os.MkdirAll(filepath.Join(rt.mnt, "d"), 0o755))
	require.NoError(t, os.MkdirAll(rt.outside, 0o755))
	for name, content := range rt.canaries {
		require.NoError(t, os.WriteFile(filepath.Join(rt.outside, name), []byte(content), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(rt.mnt, "d", "f"), []byte("decoy"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(rt.mnt, "d", "r1"), []byte("decoy-r"), 0o644))
	return rt
}

// checkOutside fails unless outside holds exactly the canaries, unchanged
// and with no other names linked to them.
func (rt *raceTree) checkOutside(t *testing.T) {
	t.Helper()
	ents, err := os.ReadDir(rt.outside)
	require.NoError(t, err)
	var names, want []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	for name := range rt.canaries {
		want = append(want, name)
	}
	sort.Strings(want)
	require.Equal(t, want, names, "names outside the mount")
	for name, content := range rt.canaries {
		p := filepath.Join(rt.outside, name)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, content, string(b), p)
		fi, err := os.Lstat(p)
		require.NoError(t, err)
		require.EqualValues(t, 1, fi.Sys().(*syscall.Stat_t).Nlink, p)
	}
}

// raceStats counts what the victim saw.
type raceStats struct {
	ops, decoyReads, escapes int
}

// raceVictim opens, writes, renames and links under /h/d through v until
// it has done at least minOps operations and read the decoy minDecoys
// times (at most maxOps operations).
func raceVictim(t *testing.T, v *FS, minOps, minDecoys, maxOps int) raceStats {
	var st raceStats
	buf := make([]byte, 64)
	for st.ops < maxOps && (st.ops < minOps || st.decoyReads < minDecoys) {
		st.ops++
		switch st.ops % 5 {
		case 0: // read the decoy
			f, err := v.OpenAt(nil, "/", "/h/d/f", linux.O_RDONLY, 0)
			if err != nil {
				continue
			}
			n, _ := f.Read(buf)
			f.Close()
			switch got := string(buf[:n]); {
			case got == "decoy":
				st.decoyReads++
			case bytes.HasPrefix(buf[:n], []byte("canary")):
				st.escapes++
			}
		case 1: // create and write
			f, err := v.OpenAt(nil, "/", "/h/d/w", linux.O_WRONLY|linux.O_CREAT|linux.O_TRUNC, 0o644)
			if err != nil {
				continue
			}
			f.Write([]byte("victim"))
			f.Close()
		case 2: // rename back and forth
			if v.RenameAt(nil, "/", "/h/d/r1", "/", "/h/d/r2", 0) == nil {
				v.RenameAt(nil, "/", "/h/d/r2", "/", "/h/d/r1", 0)
			}
		case 3: // hard link and unlink it
			if v.LinkAt(nil, "/", "/h/d/f", "/", "/h/d/l", false) == nil {
				v.UnlinkAt(nil, "/", "/h/d/l", false)
			}
		case 4: // change attributes and stat
			mode := uint32(0o644)
			v.SetAttrAt(nil, "/", "/h/d/w", false, SetAttr{Mode: &mode})
			v.StatAt(nil, "/", "/h/d/f", false)
		}
	}
	return st
}

// testHostMountSwapRace runs the race of issue 13: one machine's guest
// leaves a symlink to the outside next to a directory, a host actor
// exchanges the two in a loop, and the other machine works through the
// directory's path. Nothing outside the mount may be read or changed.
func testHostMountSwapRace(t *testing.T, walk bool) {
	rt := newRaceTree(t)
	attacker, victim := newTestFS(t), newTestFS(t)
	require.NoError(t, attacker.MountHost(rt.mnt, "/h", false))
	require.NoError(t, victim.MountHost(rt.mnt, "/h", false))
	if walk {
		for _, m := range victim.Mounts() {
			if h, ok := m.Backend.(*Hostfs); ok {
				h.noOpenat2.Store(true)
			}
		}
	}
	// The symlink is stored verbatim on the host: to the host (and to a
	// host-path join) it names the directory outside.
	require.NoError(t, attacker.Symlink(rt.outside, "/h/s"))

	var stop atomic.Bool
	var swaps atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d, s := filepath.Join(rt.mnt, "d"), filepath.Join(rt.mnt, "s")
		for !stop.Load() {
			if unix.Renameat2(unix.AT_FDCWD, d, unix.AT_FDCWD, s, unix.RENAME_EXCHANGE) == nil {
				swaps.Add(1)
			}
		}
	}()
	st := raceVictim(t, victim, 100_000, 500, 1_000_000)
	stop.Store(true)
	wg.Wait()
	t.Logf("walk=%v: %d operations, %d decoy reads, %d swaps", walk, st.ops, st.decoyReads, swaps.Load())
	require.Zero(t, st.escapes, "reads of a canary outside the mount")
	require.GreaterOrEqual(t, st.decoyReads, 500, "the decoy inside the mount was read")
	require.GreaterOrEqual(t, st.ops, 100_000)
	require.NotZero(t, swaps.Load())
	rt.checkOutside(t)
}

func TestHostMountSwapRace(t *testing.T) { testHostMountSwapRace(t, false) }

// TestHostMountSwapRaceWalk runs the race over the fallback for kernels
// without openat2 (a walk of O_NOFOLLOW opens).
func TestHostMountSwapRaceWalk(t *testing.T) { testHostMountSwapRace(t, true) }
