package kernel

import (
	"fmt"
	"time"

	"github.com/sis-kernel/sissim/pkg/sched"
)

// Which CBS server serves which work. Every thread starts with a server
// of its own (sched.DefaultProcessWCET per sched.DefaultProcessPeriod,
// best effort). A layer may put a process's threads under one server of
// its own (ServeProcess: det's reservation), and may add servers whose
// work is not a guest's but its own Go code (AddEntity: the LLM service),
// which then competes with the guests for machine time.

// EntityFunc does up to slice of an entity's work and returns the
// machine time that work took and whether work is left. In deterministic
// mode the machine clock moves on by used (the work's own count of what
// it did, never host time); in realtime mode the host time it took is
// what counts, and used is ignored.
type EntityFunc func(slice time.Duration) (used time.Duration, more bool)

// serving is the machine's map of servers to what they serve.
type serving struct {
	tasks    map[int][]*Task       // server id -> its threads, in turn order
	entities map[int]EntityFunc    // server id -> the layer's work
	served   map[int]*sched.Server // pid -> the server ServeProcess gave it
	own      map[int]bool          // ids of the servers the kernel made for a thread
	release  *timer                // the wake-up timer of a hard reservation
	wakeAt   uint64                // when that timer fires
}

// newServing returns an empty map.
func newServing() serving {
	return serving{tasks: map[int][]*Task{}, entities: map[int]EntityFunc{}, served: map[int]*sched.Server{}, own: map[int]bool{}}
}

// serveTask puts t under the server of its process (ServeProcess), or a
// new server of its own, and makes it runnable.
func (m *Machine) serveTask(t *Task) {
	now := m.clock.Now()
	srv := m.serving.served[t.PID]
	if srv == nil {
		var err error
		srv, err = m.sched.Add(sched.Process, sched.DefaultProcessWCET, sched.DefaultProcessPeriod, 0, now)
		if err != nil { // constant, valid parameters
			panic(err)
		}
		m.serving.own[srv.ID] = true
	}
	t.srv = srv
	m.mu.Lock()
	m.serving.tasks[srv.ID] = append(m.serving.tasks[srv.ID], t)
	m.tasks[t.TID] = t
	m.mu.Unlock()
	m.srvRunnable(srv)
}

// unserveTask takes t off its server; a server of its own goes.
func (m *Machine) unserveTask(t *Task) {
	srv := t.srv
	m.mu.Lock()
	ts := m.serving.tasks[srv.ID]
	for i, x := range ts {
		if x == t {
			ts = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(m.serving.tasks, srv.ID)
	} else {
		m.serving.tasks[srv.ID] = ts
	}
	m.mu.Unlock()
	if m.serving.own[srv.ID] {
		delete(m.serving.own, srv.ID)
		m.sched.Remove(srv)
		return
	}
	m.srvRunnable(srv)
}

// srvRunnable tells the scheduler whether any thread of srv can run.
func (m *Machine) srvRunnable(srv *sched.Server) {
	on := false
	for _, t := range m.serving.tasks[srv.ID] {
		if t.state == taskRunnable {
			on = true
			break
		}
	}
	m.sched.SetRunnable(srv, on, m.clock.Now())
}

// taskOf returns the thread of srv to run next: the first runnable one,
// which then goes to the back of the turn order.
func (m *Machine) taskOf(srv *sched.Server) *Task {
	ts := m.serving.tasks[srv.ID]
	for i, t := range ts {
		if t.state == taskRunnable {
			if len(ts) > 1 {
				copy(ts[i:], ts[i+1:])
				ts[len(ts)-1] = t
			}
			return t
		}
	}
	return nil
}

// ServeProcess puts every thread of process pid, and the threads it
// creates later, under srv (a server of the caller's, which it keeps in
// the scheduler and removes itself); srv nil gives each thread a server
// of its own again. Forked children get servers of their own. Call it
// while no guest runs.
func (m *Machine) ServeProcess(pid int, srv *sched.Server) error {
	p := m.Process(pid)
	if p == nil || p.zombie || p.exiting {
		return fmt.Errorf("kernel: no live process %d", pid)
	}
	if srv == nil {
		delete(m.serving.served, pid)
	} else {
		m.serving.served[pid] = srv
	}
	for _, t := range p.tasks {
		if t.state == taskDead || t.srv == srv {
			continue
		}
		m.unserveTask(t)
		m.serveTask(t)
	}
	return nil
}

// AddEntity adds srv (a server of the caller's) with work run: whenever
// srv is runnable (WakeEntity) the scheduler runs run in its turns, as it
// runs guest threads, charging srv what it used. Call it while no guest
// runs.
func (m *Machine) AddEntity(srv *sched.Server, run EntityFunc) {
	m.serving.entities[srv.ID] = run
}

// RemoveEntity forgets the work of srv (the caller removes srv from the
// scheduler).
func (m *Machine) RemoveEntity(srv *sched.Server) {
	delete(m.serving.entities, srv.ID)
	m.sched.SetRunnable(srv, false, m.clock.Now())
}

// WakeEntity marks srv runnable: it has work. Call it while no guest runs.
func (m *Machine) WakeEntity(srv *sched.Server) {
	m.sched.SetRunnable(srv, true, m.clock.Now())
}

// runEntity runs a slice of the entity of srv; it reports false when srv
// is no entity.
func (m *Machine) runEntity(srv *sched.Server, now uint64) bool {
	run := m.serving.entities[srv.ID]
	if run == nil {
		return false
	}
	slice := m.sched.Slice(srv, now)
	if next := m.timers.next(); next > now && next-now < slice {
		slice = next - now
	}
	budget := srv.RemainingNs
	used, more := run(time.Duration(slice))
	if !m.clock.Realtime() && used > 0 {
		m.clock.Skip(uint64(used))
	}
	end := m.clock.Now()
	m.busy.Add(end - now)
	m.sched.Charge(srv, end-now, end)
	m.sched.SetRunnable(srv, more, end)
	m.lastTask, m.lastStop = nil, end
	if tr := m.introspect.trace; tr != nil {
		tr.entity(srv, now, end, budget)
	}
	return true
}

// wakeForRelease arms a timer for the next budget of a hard reservation
// that waits for one, so that an idle machine wakes for it.
func (m *Machine) wakeForRelease(now uint64) {
	at := m.sched.NextRelease()
	if at <= now || at == m.serving.wakeAt {
		return
	}
	m.cancelTimer(m.serving.release)
	m.serving.wakeAt = at
	m.serving.release = m.setTimer(at, &m.serving)
}

// fire is the wake-up timer of a hard reservation.
func (s *serving) fire() { s.wakeAt, s.release = 0, nil }
