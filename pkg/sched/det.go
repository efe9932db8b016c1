package sched

import (
	"fmt"
	"strconv"
)

// Det is the `det` command's state: one deterministic (admitted) server
// that the shell switches on and off.
type Det struct {
	s   *Scheduler
	srv *Server
	// misses of earlier det servers since the last reset
	misses uint64
}

// NewDet returns the det controller of s.
func NewDet(s *Scheduler) *Det { return &Det{s: s} }

// Server returns the current det server, or nil when det is off.
func (d *Det) Server() *Server { return d.srv }

// On implements `det on <wcet_ns> <period_ns> <deadline_ns>`: it admits a
// Graph server with these parameters (replacing a previous one) and
// returns "[DET] admitted" or "[DET] rejected". Malformed parameters are
// rejected too.
func (d *Det) On(wcetNs, periodNs, deadlineNs, now uint64) string {
	if d.srv != nil {
		d.misses += d.srv.Misses
		d.s.Remove(d.srv)
		d.srv = nil
	}
	srv, err := d.s.Admit(Graph, wcetNs, periodNs, deadlineNs, now)
	if err != nil {
		return "[DET] rejected"
	}
	srv.runnable = true
	d.srv = srv
	return "[DET] admitted"
}

// Off implements `det off`.
func (d *Det) Off() string {
	if d.srv != nil {
		d.misses += d.srv.Misses
		d.s.Remove(d.srv)
		d.srv = nil
	}
	return "[DET] disabled"
}

// Status implements `det status`: "[DET] enabled=0|1 wcet_ns=N misses=N".
func (d *Det) Status() string {
	enabled, wcet, misses := 0, uint64(0), d.misses
	if d.srv != nil {
		enabled, wcet = 1, d.srv.BudgetNs
		misses += d.srv.Misses
	}
	return fmt.Sprintf("[DET] enabled=%d wcet_ns=%d misses=%d", enabled, wcet, misses)
}

// Reset implements `det reset`: the miss counters go back to zero.
func (d *Det) Reset() string {
	d.misses = 0
	if d.srv != nil {
		d.srv.Misses = 0
	}
	return "[DET] counters reset"
}

// Command runs a det command line (the words after "det") and returns its
// output line.
func (d *Det) Command(argv []string, now uint64) string {
	if len(argv) == 0 {
		return "Usage: det on <wcet_ns> <period_ns> <deadline_ns>|off|status|reset"
	}
	switch argv[0] {
	case "on":
		if len(argv) != 4 {
			return "Usage: det on <wcet_ns> <period_ns> <deadline_ns>"
		}
		var v [3]uint64
		for i := range v {
			n, err := strconv.ParseUint(argv[i+1], 10, 64)
			if err != nil {
				return "[DET] rejected"
			}
			v[i] = n
		}
		return d.On(v[0], v[1], v[2], now)
	case "off":
		return d.Off()
	case "status":
		return d.Status()
	case "reset":
		return d.Reset()
	}
	return "Usage: det on <wcet_ns> <period_ns> <deadline_ns>|off|status|reset"
}
