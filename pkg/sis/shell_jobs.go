package sis

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/kernel"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Background jobs: `run prog &` starts a guest and returns to the prompt.
// The machine runs its processes while a command drives it (a foreground
// run, wait, kill), so a job makes progress then; when one has exited, the
// shell prints its status after the command that saw it end and reaps it.

// startJob starts proc as a background job.
func (s *Shell) startJob(w io.Writer, proc *kernel.Process) {
	s.addJob(proc)
	fmt.Fprintf(w, "[pid %d] running in background\n", proc.PID)
}

// addJob makes p a background job.
func (s *Shell) addJob(p *kernel.Process) {
	p.SetBackground(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs == nil {
		s.jobs = map[int]*kernel.Process{}
	}
	s.jobs[p.PID] = p
}

// jobPIDs returns the pids of the background jobs, in order.
func (s *Shell) jobPIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.jobs))
}

// job returns the background job with the given pid.
func (s *Shell) job(pid int) *kernel.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[pid]
}

// reportJobs prints the status of the jobs that have exited and reaps them.
func (s *Shell) reportJobs(w, errOut io.Writer) {
	for _, pid := range s.jobPIDs() {
		p := s.job(pid)
		if !p.Exited() {
			continue
		}
		s.mu.Lock()
		delete(s.jobs, pid)
		s.mu.Unlock()
		status, err := p.Wait()
		if status.Report != "" {
			fmt.Fprintf(w, "[pid %d] %s\n", pid, status.Report)
			io.WriteString(w, status.Detail)
		}
		fmt.Fprintf(w, "[pid %d] done: %s\n", pid, status)
		if err != nil {
			fmt.Fprintf(errOut, "error: pid %d: kernel error: %s\n", pid, err)
		}
	}
}

// cmdWait runs the machine until the given jobs (every job by default)
// have exited.
func (s *Shell) cmdWait(w io.Writer, args []string) error {
	var procs []*kernel.Process
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			return shellcmd.BadArgs("wait: %q is not a pid", a)
		}
		p := s.job(pid)
		if p == nil {
			return fmt.Errorf("wait: pid %d is not a background job of this shell", pid)
		}
		procs = append(procs, p)
	}
	if len(args) == 0 {
		s.mu.Lock()
		for _, p := range s.jobs {
			procs = append(procs, p)
		}
		s.mu.Unlock()
	}
	if len(procs) == 0 {
		return nil
	}
	// Ctrl-C ends the wait (the jobs run on, in the background).
	intr := s.m.Interrupts()
	err := s.m.RunUntil(func() bool {
		if s.m.Interrupts() != intr {
			return true
		}
		for _, p := range procs {
			if stopped, _ := p.Stopped(); !p.Zombie() && !stopped {
				return false
			}
		}
		return true
	})
	if err == nil && s.m.Interrupts() != intr {
		fmt.Fprintln(w)
		return errors.New("wait: interrupted")
	}
	return s.jobErr(err)
}

// jobErr turns a stopped job into a note: it is not a failure of the
// shell command that saw it.
func (s *Shell) jobErr(err error) error {
	var se *kernel.StoppedError
	if errors.As(err, &se) {
		return nil
	}
	return err
}

// cmdJobs lists the background jobs.
func (s *Shell) cmdJobs(w io.Writer, args []string) error {
	if len(args) > 0 {
		return shellcmd.ErrUsage
	}
	for _, pid := range s.jobPIDs() {
		p := s.job(pid)
		state := "running"
		switch {
		case p.Exited():
			state = "done"
		default:
			var stopped bool
			var sig linux.Signal
			s.m.Exclusive(func() { stopped, sig = p.Stopped() })
			if stopped {
				state = "stopped (" + sig.String() + ")"
			}
		}
		fmt.Fprintf(w, "[pid %d] %-10s %s\n", pid, state, strings.Join(p.Argv(), " "))
	}
	return nil
}

// jobArg returns the job named by args (the newest one by default).
func (s *Shell) jobArg(cmd string, args []string) (*kernel.Process, error) {
	switch len(args) {
	case 0:
		s.mu.Lock()
		defer s.mu.Unlock()
		var newest *kernel.Process
		for _, p := range s.jobs {
			if newest == nil || p.PID > newest.PID {
				newest = p
			}
		}
		if newest == nil {
			return nil, fmt.Errorf("%s: no background job", cmd)
		}
		return newest, nil
	case 1:
		pid, err := strconv.Atoi(args[0])
		if err != nil {
			return nil, shellcmd.BadArgs("%s: %q is not a pid", cmd, args[0])
		}
		p := s.job(pid)
		if p == nil {
			return nil, fmt.Errorf("%s: pid %d is not a background job of this shell", cmd, pid)
		}
		return p, nil
	}
	return nil, shellcmd.ErrUsage
}

// cmdFg continues a job (SIGCONT) in the foreground and waits for it.
func (s *Shell) cmdFg(w io.Writer, args []string) error {
	p, err := s.jobArg("fg", args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.jobs, p.PID)
	s.mu.Unlock()
	p.SetBackground(false)
	if err := p.Signal(linux.SIGCONT); err != nil && !p.Exited() {
		return fmt.Errorf("fg: %v", err)
	}
	fmt.Fprintln(w, strings.Join(p.Argv(), " "))
	return s.waitForeground(w, p, "fg")
}

// cmdBg continues a stopped job (SIGCONT) in the background.
func (s *Shell) cmdBg(w io.Writer, args []string) error {
	p, err := s.jobArg("bg", args)
	if err != nil {
		return err
	}
	if err := p.Signal(linux.SIGCONT); err != nil && !p.Exited() {
		return fmt.Errorf("bg: %v", err)
	}
	fmt.Fprintf(w, "[pid %d] running in background\n", p.PID)
	return nil
}

// cmdKill sends a signal (SIGTERM by default) to processes and runs the
// machine until each has acted on it.
func (s *Shell) cmdKill(w io.Writer, args []string) error {
	sig := linux.SIGTERM
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name := args[0][1:]
		args = args[1:]
		if name == "s" {
			if len(args) == 0 {
				return shellcmd.BadArgs("kill: -s needs a signal")
			}
			name, args = args[0], args[1:]
		}
		var err error
		if sig, err = linux.ParseSignal(name); err != nil {
			return shellcmd.BadArgs("kill: %v", err)
		}
	}
	if len(args) == 0 {
		return shellcmd.BadArgs("kill: no pid")
	}
	var sent []*kernel.Process
	var errs []error
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil || pid < 1 {
			errs = append(errs, fmt.Errorf("kill: %q is not a pid", a))
			continue
		}
		p := s.m.Process(pid)
		if p == nil {
			errs = append(errs, fmt.Errorf("kill: (%d) - No such process", pid))
			continue
		}
		if err := p.Signal(sig); err != nil {
			errs = append(errs, fmt.Errorf("kill: (%d) - %v", pid, err))
			continue
		}
		sent = append(sent, p)
	}
	err := s.m.RunUntil(func() bool {
		for _, p := range sent {
			if !p.Zombie() && p.SignalPending(sig) {
				return false
			}
		}
		return true
	})
	return errors.Join(append(errs, err)...)
}
