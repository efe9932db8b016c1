package sis

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/sched"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// det is the `det` command's reservation: one admitted, hard CBS server
// (sched.Graph) that serves the processes started after `det on` (or the
// one `det on ... --pid N` names, with its later threads). Its work gets
// at most wcet of machine time per period, even on an idle machine, and a
// period whose work is not done by its deadline is a miss.
type det struct {
	s   *System
	srv *sched.Server
	// all: every process started from now on joins srv.
	all bool
	// pids are the processes srv serves.
	pids map[int]bool
	// misses of earlier servers since the last reset.
	misses uint64
	// hooked: the process hooks are installed (at the first det on, so
	// that a machine that never used det has no callbacks of it, and a
	// debugging session can take checkpoints of it).
	hooked bool
}

func newDet(s *System) *det {
	return &det{s: s, pids: map[int]bool{}}
}

// hook installs the process hooks.
func (d *det) hook() {
	if d.hooked {
		return
	}
	d.hooked = true
	d.s.OnProcessStart(func(pid int) {
		if d.srv != nil && d.all {
			d.serve(pid)
		}
	})
	d.s.OnProcessExit(func(pid int, _ kernel.ExitStatus) { delete(d.pids, pid) })
}

// serve puts process pid under the server.
func (d *det) serve(pid int) error {
	if err := d.s.ServeProcess(pid, d.srv); err != nil {
		return err
	}
	d.pids[pid] = true
	return nil
}

// on admits a server with these parameters in place of the current one.
// pid 0 serves the processes started from now on. When admission control
// refuses it, det is off.
func (d *det) on(wcet, period, deadline uint64, pid int) error {
	if pid != 0 && d.s.Process(pid) == nil {
		return fmt.Errorf("det on: no process %d", pid)
	}
	d.off()
	d.hook()
	srv, err := d.s.Scheduler().Admit(sched.Graph, wcet, period, deadline, uint64(d.s.Now()))
	if err != nil {
		return err
	}
	srv.Hard = true
	d.srv, d.all = srv, pid == 0
	if pid != 0 {
		if err := d.serve(pid); err != nil {
			d.off()
			return err
		}
	}
	return nil
}

// off gives the served processes servers of their own again and removes
// the server.
func (d *det) off() {
	if d.srv == nil {
		return
	}
	for pid := range d.pids {
		_ = d.s.ServeProcess(pid, nil) // exited meanwhile: nothing to undo
	}
	d.pids = map[int]bool{}
	d.misses += d.srv.Misses
	d.s.Scheduler().Remove(d.srv)
	d.srv = nil
}

// detSubs are the subcommands of det.
func (d *det) subs() []Subcommand {
	locked := func(f func(w io.Writer) error) CommandFunc {
		return noArgs(func(w io.Writer) error {
			var err error
			d.s.Exclusive(func() { err = f(w) })
			return err
		})
	}
	return []Subcommand{
		{Name: "on", Usage: "on <wcet_ns> <period_ns> <deadline_ns> [--pid <pid>]  serve the processes started from now on (or process pid) by a hard CBS reservation of wcet_ns per period_ns, due deadline_ns into each period", Run: d.cmdOn},
		{Name: "off", Usage: "off  remove the reservation; its processes get servers of their own again", Run: locked(func(w io.Writer) error {
			d.off()
			_, err := fmt.Fprintln(w, "[DET] disabled")
			return err
		})},
		{Name: "status", Usage: "status  the reservation's budget, deadline misses and processes", Run: locked(func(w io.Writer) error {
			enabled, wcet, misses := 0, uint64(0), d.misses
			if d.srv != nil {
				enabled, wcet = 1, d.srv.BudgetNs
				misses += d.srv.Misses
			}
			_, err := fmt.Fprintf(w, "[DET] enabled=%d wcet_ns=%d misses=%d\n", enabled, wcet, misses)
			return err
		})},
		{Name: "reset", Usage: "reset  set the miss counters to zero", Run: locked(func(w io.Writer) error {
			d.misses = 0
			if d.srv != nil {
				d.srv.Misses = 0
			}
			_, err := fmt.Fprintln(w, "[DET] counters reset")
			return err
		})},
	}
}

// cmdOn implements `det on <wcet_ns> <period_ns> <deadline_ns> [--pid N]`:
// bad numbers are usage errors; a server that admission control refuses
// prints SIS's "[DET] rejected" and fails.
func (d *det) cmdOn(w io.Writer, args []string) error {
	pid := 0
	if len(args) == 5 && args[3] == "--pid" {
		n, err := strconv.Atoi(args[4])
		if err != nil || n < 1 {
			return shellcmd.BadArgs("det on: --pid %q is not a pid", args[4])
		}
		pid, args = n, args[:3]
	}
	if len(args) != 3 {
		return shellcmd.BadArgs("det on: want 3 numbers and an optional --pid N, got %d argument(s)", len(args))
	}
	var v [3]uint64
	for i, name := range []string{"wcet_ns", "period_ns", "deadline_ns"} {
		n, err := strconv.ParseUint(args[i], 10, 64)
		if err != nil || n == 0 {
			return shellcmd.BadArgs("det on: %s %q is not a positive number of nanoseconds", name, args[i])
		}
		v[i] = n
	}
	if v[0] > v[1] || v[2] > v[1] {
		return shellcmd.BadArgs("det on: need wcet_ns <= period_ns and deadline_ns <= period_ns")
	}
	var err error
	d.s.Exclusive(func() { err = d.on(v[0], v[1], v[2], pid) })
	var rej *sched.ErrRejected
	if errors.As(err, &rej) {
		fmt.Fprintln(w, "[DET] rejected")
		return fmt.Errorf("det on: rejected by admission control: a utilization of %d ppm would take the admitted servers over %d ppm",
			rej.UtilPPM, sched.MaxUtilPPM)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "[DET] admitted")
	return nil
}
