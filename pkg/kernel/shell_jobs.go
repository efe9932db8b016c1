package kernel

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Background jobs: `run prog &` starts a guest and returns to the prompt.
// The machine runs its processes while a command drives it (a foreground
// run, wait, kill), so a job makes progress then; when one has exited, the
// shell prints its status after the command that saw it end and reaps it.

// startJob starts proc as a background job.
func (s *Shell) startJob(w io.Writer, proc *Process) {
	proc.background = true
	s.mu.Lock()
	if s.jobs == nil {
		s.jobs = map[int]*Process{}
	}
	s.jobs[proc.PID] = proc
	s.mu.Unlock()
	fmt.Fprintf(w, "[pid %d] running in background\n", proc.PID)
}

// job returns the background job with the given pid.
func (s *Shell) job(pid int) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[pid]
}

// reportJobs prints the status of the jobs that have exited and reaps them.
func (s *Shell) reportJobs(w, errOut io.Writer) {
	s.mu.Lock()
	pids := make([]int, 0, len(s.jobs))
	for pid := range s.jobs {
		pids = append(pids, pid)
	}
	s.mu.Unlock()
	sort.Ints(pids)
	for _, pid := range pids {
		p := s.job(pid)
		if !p.Exited() {
			continue
		}
		s.mu.Lock()
		delete(s.jobs, pid)
		s.mu.Unlock()
		status, err := p.Wait()
		s.m.accountExit(p)
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
	var procs []*Process
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
	return s.m.runUntil(func() bool {
		for _, p := range procs {
			if !p.zombie {
				return false
			}
		}
		return true
	})
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
	var sent []*Process
	var errs []error
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil || pid < 1 {
			errs = append(errs, fmt.Errorf("kill: %q is not a pid", a))
			continue
		}
		p := s.m.lookup(pid)
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
	bit := sigBit(sig)
	err := s.m.runUntil(func() bool {
		for _, p := range sent {
			if !p.zombie && p.signalPending(bit) {
				return false
			}
		}
		return true
	})
	return errors.Join(append(errs, err)...)
}
