package kernel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/internal/graphcopy"
	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/gdbstub"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/netstack"
	"github.com/sis-kernel/sissim/pkg/strace"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// Checkpoints: a copy of a whole deterministic machine, taken between two
// time slices, from which the machine is built again as it was.
//
// The copy is of the kernel's Go state as a graph (internal/graphcopy:
// processes, threads, files, pipes, the file system, timers, the
// scheduler), the RAM's frames in use (frozen: mem.RAM.Freeze, sharing
// the pages an earlier checkpoint holds unchanged) and the clock. The
// CPU is not copied: a restored machine opens a new one and loads each
// thread's saved registers. A machine cannot be copied while it holds what
// a copy cannot reproduce: the network once used (the stacks run
// goroutines and timers of their own), a goroutine reading the host's
// console, callbacks of the SIS layer or of hooks, host events not yet
// handled. The copy says which and the caller goes on without it.

// checkpoint is a copy of a machine at a point between time slices.
type checkpoint struct {
	st *checkpointState // its machine has no CPU; a frozen RAM, its own clock
}

// ram returns the checkpoint's frozen RAM.
func (cp *checkpoint) ram() *mem.RAM { return cp.st.m.ram }

// errNoCheckpoint wraps the reasons a machine cannot be copied now.
var errNoCheckpoint = errors.New("kernel: no checkpoint")

// copyRun copies st, the state of m's run. It runs on the machine's
// goroutine between time slices (no system call in progress). The copy's
// RAM is frozen with base's (an earlier checkpoint's, or nil) as its base:
// the pages that did not change since are shared.
func (m *Machine) copyRun(st *checkpointState, base *checkpoint) (*checkpoint, error) {
	switch {
	case m.clock.Realtime():
		return nil, fmt.Errorf("%w: the clock is realtime", errNoCheckpoint)
	case m.cur != nil:
		return nil, fmt.Errorf("%w: a system call is in progress", errNoCheckpoint)
	case m.nposted.Load() != 0:
		return nil, fmt.Errorf("%w: host events are pending", errNoCheckpoint)
	case m.net != nil && m.net.used:
		return nil, fmt.Errorf("%w: the network was used", errNoCheckpoint)
	}
	if t := m.cpuTask; t != nil && t.state != taskDead {
		if err := m.cpu.Save(t.ctx); err != nil {
			return nil, err
		}
	}
	ctx := m.runCtx
	m.runCtx = context.Background()
	defer func() { m.runCtx = ctx }()
	var baseRAM *mem.RAM
	if base != nil {
		baseRAM = base.ram()
	}
	c, err := copyState(st, func(r *mem.RAM) (*mem.RAM, error) { return r.Freeze(baseRAM) })
	if err != nil {
		return nil, err
	}
	return &checkpoint{st: c}, nil
}

// close frees the checkpoint's RAM and clock.
func (cp *checkpoint) close() {
	cp.st.m.ram.Close()
	cp.st.m.clock.Close()
}

// restore builds a machine from the checkpoint (which stays as it is) and
// returns it with the copy of the rest of the state.
func (cp *checkpoint) restore() (*checkpointState, error) {
	st, err := copyState(cp.st, (*mem.RAM).Thaw)
	if err != nil {
		return nil, err
	}
	m := st.m
	m.ownRAM = true
	c, err := cpu.New(cpu.Options{Clock: m.clock, CountInsns: true, RAM: m.ram.Arena(),
		Syscall: m.syscall, PageFault: m.pageFault})
	if err != nil {
		m.ram.Close()
		m.clock.Close()
		return nil, err
	}
	m.cpu = c
	m.ram.SetInvalidator(c.Invalidate)
	if m.net != nil {
		if m.net.n, err = newNetwork(m); err != nil {
			m.Close()
			return nil, err
		}
	}
	return st, nil
}

// checkpointState is what a checkpoint copies: a machine and the
// debugger's state of its run (debug_checkpoint.go).
type checkpointState struct {
	m       *Machine
	procs   map[int]*debugProc
	tasks   map[*Task]*debugTask
	resume  gdbstub.Resume
	pending []gdbstub.StopEvent
	opts    gdbstub.Options
}

// copyState copies st. The copy's machine has no CPU, network stack or
// debugger; its RAM is ram's copy of st's, its clock new.
func copyState(st *checkpointState, ram func(*mem.RAM) (*mem.RAM, error)) (*checkpointState, error) {
	m := st.m
	var made []func() // frees what a copy that fails made already
	opt := graphcopy.Options{
		Share: append([]reflect.Type{
			reflect.TypeFor[*zap.Logger](),
			reflect.TypeFor[*syscallTable](),
			reflect.TypeFor[*inputLog](),
			reflect.TypeFor[*vfs.Hostfs](),
			reflect.TypeFor[*os.File](),
		}, strace.StaticTypes()...),
		Zero: []reflect.Type{reflect.TypeFor[sync.Mutex](), reflect.TypeFor[sync.RWMutex]()},
		Custom: map[reflect.Type]func(*graphcopy.Copier, reflect.Value) (reflect.Value, error){
			reflect.TypeFor[*mem.RAM](): func(_ *graphcopy.Copier, p reflect.Value) (reflect.Value, error) {
				r, err := ram(p.Interface().(*mem.RAM))
				if err == nil {
					made = append(made, func() { r.Close() })
				}
				return reflect.ValueOf(r), err
			},
			reflect.TypeFor[*cpu.Clock](): func(_ *graphcopy.Copier, p reflect.Value) (reflect.Value, error) {
				k := p.Interface().(*cpu.Clock).Clone()
				made = append(made, k.Close)
				return reflect.ValueOf(k), nil
			},
			reflect.TypeFor[*cpu.Context](): func(_ *graphcopy.Copier, p reflect.Value) (reflect.Value, error) {
				return reflect.ValueOf(p.Interface().(*cpu.Context).Clone()), nil
			},
			reflect.TypeFor[*cpu.CPU]():          nilOf[*cpu.CPU],
			reflect.TypeFor[*netstack.Network](): nilOf[*netstack.Network],
			reflect.TypeFor[*debugger]():         nilOf[*debugger],
			reflect.TypeFor[*replayWriter](): func(_ *graphcopy.Copier, p reflect.Value) (reflect.Value, error) {
				w := *p.Interface().(*replayWriter)
				return reflect.ValueOf(&w), nil
			},
		},
		Other: func(c *graphcopy.Copier, v reflect.Value) (reflect.Value, error) {
			if v.Kind() == reflect.Chan {
				if v.Pointer() == reflect.ValueOf(m.wake).Pointer() {
					return reflect.ValueOf(make(chan struct{}, 1)), nil
				}
				return reflect.Value{}, errors.New("a channel")
			}
			name := graphcopy.FuncName(v)
			if strings.HasPrefix(name, "github.com/sis-kernel/sissim/pkg/strace.") {
				return v, nil // argument decoders, which hold no state (strace.StaticTypes)
			}
			switch name {
			case "github.com/sis-kernel/sissim/pkg/kernel.(*Machine).wallTime-fm":
				return reflect.ValueOf(graphcopy.Map(c, m).wallTime), nil
			case "github.com/sis-kernel/sissim/pkg/kernel.(*Machine).onRename-fm":
				return reflect.ValueOf(graphcopy.Map(c, m).onRename), nil
			case "github.com/sis-kernel/sissim/pkg/vfs.(*FS).Now-fm":
				return reflect.ValueOf(graphcopy.Map(c, m.fs).Now), nil
			}
			return reflect.Value{}, fmt.Errorf("a callback (%s)", name)
		},
	}
	c, _, err := graphcopy.Copy(st, opt)
	if err != nil {
		for _, free := range made {
			free()
		}
		return nil, fmt.Errorf("%w: %w", errNoCheckpoint, err)
	}
	c.m.cpuTask = nil // a new CPU holds no thread's registers
	return c, nil
}

// nilOf is a graphcopy.Options.Custom that drops the object.
func nilOf[T any](*graphcopy.Copier, reflect.Value) (reflect.Value, error) {
	return reflect.Zero(reflect.TypeFor[T]()), nil
}
