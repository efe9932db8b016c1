package sis

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/model"
)

// Model health checks on the machine: in deterministic mode a health
// check's latencies are the machine time of real inferences, run by the
// guest program modelbench (guest/modelbench.c, built into the binary),
// which reads CNTVCT_EL0 around each inference of the model on each test
// input and writes "<ticks> <action>" lines.

// benchProgram is the built-in guest that runs the inferences.
const benchProgram = "modelbench"

// benchState is the state of the health checks' runs.
type benchState struct {
	running bool
	seq     int      // runs so far (names their directories)
	after   []func() // to run when the current run ends
}

// afterBench runs f now, or after the health check running on the
// machine when one runs (f must not use the model registry meanwhile).
func (s *System) afterBench(f func()) {
	if s.bench.running {
		s.bench.after = append(s.bench.after, f)
		return
	}
	f()
}

// ModelBench returns the machine's model.Bench: it runs a model's test
// inferences on the machine (deterministic mode). Call it while no guest
// runs; what runs meanwhile must not use the registry being checked.
func (s *System) ModelBench() model.Bench { return s.benchModel }

// benchModel runs l's test inputs through modelbench on the machine, in
// a directory of /tmp it removes afterwards. It runs the machine (other
// processes and timers run meanwhile, as they would): call it while no
// guest runs, never from a machine callback.
func (s *System) benchModel(l *model.Loaded) ([]model.Measured, error) {
	if s.bench.running {
		return nil, errors.New("a health check is already running on the machine")
	}
	s.bench.running = true
	defer s.endBench()
	prog, err := fs.ReadFile(sissim.Guests(), benchProgram)
	if err != nil {
		return nil, fmt.Errorf("built-in %s: %w", benchProgram, err)
	}
	bin, err := l.Model.MarshalBinary()
	if err != nil {
		return nil, err
	}
	nin := l.Model.Inputs()
	in := make([]byte, 0, 4*nin*len(l.Health.Inputs))
	for _, x := range l.Health.Inputs {
		for i := range nin {
			var v float32
			if i < len(x) {
				v = x[i]
			}
			in = binary.LittleEndian.AppendUint32(in, math.Float32bits(v))
		}
	}
	s.bench.seq++
	v := s.FS()
	dir := fmt.Sprintf("/tmp/.modelbench.%d", s.bench.seq)
	if err := v.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range []string{benchProgram, "model.bin", "inputs", "out", ""} {
			_ = v.Remove(path.Join(dir, f))
		}
	}()
	for _, f := range []struct {
		name string
		b    []byte
		perm uint32
	}{{benchProgram, prog, 0o700}, {"model.bin", bin, 0o600}, {"inputs", in, 0o600}} {
		if err := v.WriteFile(path.Join(dir, f.name), f.b, f.perm); err != nil {
			return nil, err
		}
	}
	p, err := s.Spawn(kernel.ProcessSpec{Path: path.Join(dir, benchProgram),
		Argv: []string{benchProgram, path.Join(dir, "model.bin"), path.Join(dir, "inputs"), path.Join(dir, "out")}})
	if err != nil {
		return nil, err
	}
	st, err := p.Wait()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", benchProgram, err)
	}
	if st.ShellCode() != 0 {
		return nil, fmt.Errorf("%s: %s", benchProgram, st)
	}
	out, err := v.ReadFile(path.Join(dir, "out"))
	if err != nil {
		return nil, err
	}
	return parseBench(out, len(l.Health.Inputs), l.Model.Outputs())
}

// parseBench parses modelbench's output: n lines "<ticks> <action>".
func parseBench(out []byte, n, actions int) ([]model.Measured, error) {
	res := make([]model.Measured, 0, n)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || len(res) == n {
			return nil, fmt.Errorf("%s: line %d: %q is not \"<ticks> <action>\" (or one too many)", benchProgram, len(res)+1, sc.Text())
		}
		ticks, err1 := strconv.ParseUint(f[0], 10, 32)
		a, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || a < 0 || a >= actions {
			return nil, fmt.Errorf("%s: line %d: bad figures %q", benchProgram, len(res)+1, sc.Text())
		}
		res = append(res, model.Measured{Latency: time.Duration(ticks) * time.Second / cpu.CounterHz, Action: a})
	}
	if len(res) != n {
		return nil, fmt.Errorf("%s: %d results for %d inputs", benchProgram, len(res), n)
	}
	return res, nil
}

// endBench ends a benchModel run and runs what waited for it.
func (s *System) endBench() {
	s.bench.running = false
	after := s.bench.after
	s.bench.after = nil
	for _, f := range after {
		f()
	}
}
