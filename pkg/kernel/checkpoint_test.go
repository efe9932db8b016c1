package kernel

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/stretchr/testify/require"
)

// runToCheckpoints runs a guest and takes a checkpoint at the first stop
// point past each of at (instruction counts); it returns the run's
// output and the checkpoints with the PID to wait for.
type cpRun struct {
	out, strace string
	status      ExitStatus
}

func runWithCheckpoints(t *testing.T, name string, args []string, at []uint64) (cpRun, []*checkpoint) {
	t.Helper()
	var out, st bytes.Buffer
	m, err := New(Config{Stdout: &out, Stderr: &out, Strace: &st})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	path := "/bin/" + name
	require.NoError(t, m.FS().WriteFile(path, readGuest(t, name), 0o755))
	p, err := m.Spawn(ProcessSpec{Path: path, Argv: append([]string{path}, args...)})
	require.NoError(t, err)
	var cps []*checkpoint
	var base *checkpoint // each checkpoint shares the unchanged pages of the one before
	err = m.runUntil(func() bool {
		if len(at) > 0 && m.clock.Insns() >= at[0] {
			at = at[1:]
			cp, err := m.copyRun(&checkpointState{m: m}, base)
			require.NoError(t, err)
			t.Cleanup(cp.close)
			base = cp
			cps = append(cps, cp)
		}
		return p.zombie
	})
	require.NoError(t, err)
	return cpRun{out: out.String(), strace: st.String(), status: p.status}, cps
}

// finish runs a restored machine to the end of its first program.
func finish(t *testing.T, cp *checkpoint) cpRun {
	t.Helper()
	st, err := cp.restore()
	require.NoError(t, err)
	m := st.m
	defer m.Close()
	p := m.procs[2]
	require.NotNil(t, p)
	require.NoError(t, m.runUntil(func() bool { return p.zombie }))
	out := m.introspect.stdout.w.(*bytes.Buffer).String()
	return cpRun{out: out, strace: m.cfg.Strace.(*bytes.Buffer).String(), status: p.status}
}

// A machine restored from a checkpoint runs on exactly as the machine it
// was copied from: the same output, system calls and exit status.
func TestCheckpointRestoreRunsTheSame(t *testing.T) {
	for _, g := range []struct {
		name string
		args []string
	}{
		{"threads", nil}, {"procs", nil}, {"fileloop", nil}, {"timers", nil}, {"mm", nil}, {"detprint", nil},
	} {
		t.Run(g.name, func(t *testing.T) {
			at := []uint64{1, 50_000, 300_000, 1_000_000, 3_000_000}
			want, cps := runWithCheckpoints(t, g.name, g.args, at)
			require.NotEmpty(t, cps)
			for i, cp := range cps {
				got := finish(t, cp)
				require.Equal(t, want.out, got.out, "checkpoint %d", i)
				require.Equal(t, want.strace, got.strace, "checkpoint %d", i)
				require.Equal(t, want.status, got.status, "checkpoint %d", i)
				// A checkpoint restores any number of times.
				require.Equal(t, want.out, finish(t, cp).out, fmt.Sprint("again ", i))
			}
		})
	}
}

// Past its bound a session's set of checkpoints drops the one whose
// neighbours are closest; the first and the last stay.
func TestCheckpointBounds(t *testing.T) {
	_, taken := runWithCheckpoints(t, "timers", nil, []uint64{1, 10_000, 20_000, 200_000, 210_000})
	require.Len(t, taken, 5)
	cs := &checkpoints{CheckpointPolicy: CheckpointPolicy{Keep: 3, MaxBytes: 1 << 40}}
	for i, cp := range taken {
		cs.add(&sessionCheckpoint{at: point{pos: cp.st.m.clock.Insns(), seq: 1}, cp: &checkpoint{st: cp.st}})
		require.LessOrEqual(t, len(cs.list), 3, "after %d", i)
	}
	var pos []uint64
	var rams []*mem.RAM
	for _, c := range cs.list {
		pos = append(pos, c.at.pos)
		rams = append(rams, c.cp.ram())
	}
	bytes := mem.HeldBytes(rams...)
	// The pages held: at least those of any one checkpoint (the zero
	// frame is not copied), at most those of all of them.
	var sum uint64
	for _, r := range rams {
		require.GreaterOrEqual(t, bytes, r.InUse()-mem.PageSize)
		sum += r.InUse()
	}
	require.LessOrEqual(t, bytes, sum)
	require.Equal(t, taken[0].st.m.clock.Insns(), pos[0])
	require.Equal(t, taken[4].st.m.clock.Insns(), pos[2])
	require.Less(t, uint64(100_000), pos[1], "the crowded early ones went first")
	require.Equal(t, bytes, cs.bytes)
	require.Positive(t, bytes)
	cs.list = nil // runWithCheckpoints closes them
}

// BenchmarkCheckpoint measures copying a machine (a small guest, and one
// with 64 MiB of memory in use) and restoring it.
func BenchmarkCheckpoint(b *testing.B) {
	for _, g := range []struct {
		name string
		args []string
		at   func(*Machine) bool
	}{
		{"alu_loop", []string{"1000000000"}, func(m *Machine) bool { return m.clock.Insns() > 100_000_000 }},
		{"memhog", []string{"33", "2", "1000"}, func(m *Machine) bool { return m.ram.InUse() > 64<<20 }},
	} {
		m, err := New(Config{})
		require.NoError(b, err)
		path := "/bin/" + g.name
		require.NoError(b, m.FS().WriteFile(path, readGuest(b, g.name), 0o755))
		_, err = m.Spawn(ProcessSpec{Path: path, Argv: append([]string{path}, g.args...)})
		require.NoError(b, err)
		require.NoError(b, m.runUntil(func() bool { return g.at(m) }))
		b.Run(g.name+"/copy", func(b *testing.B) {
			for b.Loop() {
				cp, err := m.copyRun(&checkpointState{m: m}, nil)
				require.NoError(b, err)
				cp.close()
			}
			b.ReportMetric(float64(m.ram.InUse()), "bytes")
		})
		cp, err := m.copyRun(&checkpointState{m: m}, nil)
		require.NoError(b, err)
		// Another copy of the same machine shares every page with cp.
		b.Run(g.name+"/copy-unchanged", func(b *testing.B) {
			for b.Loop() {
				c, err := m.copyRun(&checkpointState{m: m}, cp)
				require.NoError(b, err)
				if c.ram().Added() != 0 {
					b.Fatalf("an unchanged machine's copy added %d bytes", c.ram().Added())
				}
				c.close()
			}
		})
		require.NoError(b, err)
		b.Run(g.name+"/restore", func(b *testing.B) {
			for b.Loop() {
				st, err := cp.restore()
				require.NoError(b, err)
				st.m.Close()
			}
		})
		cp.close()
		m.Close()
	}
}
