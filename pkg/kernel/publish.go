package kernel

import "time"

// Publication: a layer that serves the machine's numbers to other
// goroutines (a metrics endpoint) must not read machine state from them,
// nor make them wait for the machine. OnPublish has the machine's own
// goroutine hand the layer a moment to copy what it serves, at a pace
// set in machine time: the copies are current while guests run, and
// publishing never changes what the machine does (no timer is set, no
// slice is shortened).

// publisher calls the layer's publication functions.
type publisher struct {
	every uint64 // ns of machine time between two calls
	last  uint64 // machine time of the last call
	fs    []func()
}

// OnPublish calls f on the machine's goroutine, with no guest running,
// while the machine runs: between two slices once machine time has moved
// on by every since the last call, when a run ends, and while the machine
// idles in realtime mode, at least every `every` of host time. f must not
// block; it may read what a machine timer may (Processes, MemStats,
// Scheduler, ...). Several functions share the shortest period. Register
// it while no guest runs.
func (m *Machine) OnPublish(every time.Duration, f func()) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if every <= 0 {
		every = time.Millisecond
	}
	p := m.introspect.pub
	if p == nil {
		p = &publisher{every: uint64(every)}
		m.introspect.pub = p
	}
	p.every = min(p.every, uint64(every))
	p.fs = append(p.fs, f)
}

// publishDue calls the publication functions when their period has passed
// at machine time now.
func (m *Machine) publishDue(now uint64) {
	if p := m.introspect.pub; p != nil && now-p.last >= p.every {
		m.publish(now)
	}
}

// publish calls the publication functions.
func (m *Machine) publish(now uint64) {
	p := m.introspect.pub
	if p == nil {
		return
	}
	p.last = now
	for _, f := range p.fs {
		f()
	}
}

// publishWait bounds an idle wait in realtime mode so that publication
// goes on while machine time passes with nothing to run: d is the wait
// wanted (0: none), the result the wait to make (0: none).
func (m *Machine) publishWait(d time.Duration) time.Duration {
	p := m.introspect.pub
	if p == nil || !m.clock.Realtime() {
		return d
	}
	if every := time.Duration(p.every); d == 0 || d > every {
		return every
	}
	return d
}
