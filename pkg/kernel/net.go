package kernel

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/metrics"
	"github.com/sis-kernel/sissim/pkg/netstack"
)

// The machine's network. AF_INET and AF_INET6 sockets live in a
// pkg/netstack Network, which never runs on its own: the kernel drives it.
//
//   - Time: in deterministic mode the network's clock is machine time. A
//     socket call first advances it to now (Advance), and the earliest
//     network timer (retransmission, delayed ACK, TIME_WAIT, ...) is a
//     machine timer (atTime), so the idle skip and the time slices stop
//     there and the timer fires at its own machine time.
//   - Readiness: a socket's Watch callback may run on a stack goroutine.
//     It only queues the socket (under machineNet.mu); flush, on the
//     machine's goroutine, wakes the queued sockets' wait queues, in inode
//     order, after every network call.
//   - Host traffic (published ports, NAT) and, in realtime mode, the
//     stacks' own timers arrive outside any call: Wake fires, and the
//     scheduler settles the network (netPoll) between time slices. An idle
//     machine with a thread waiting on a socket waits for Wake (netIdle):
//     in deterministic mode with ports published or NAT on, it takes its
//     time jumps in real time while host connections are open or a thread
//     waits on a socket, so that the host can connect or answer (a server
//     waiting for the host neither spins nor races its clock ahead).
//     Without host connectivity nothing changes: jumps are immediate.
//
// Traffic between sockets of the machine is deterministic; host traffic is
// not.

// machineNet is the machine's network state.
type machineNet struct {
	m *Machine
	n *netstack.Network
	// hostLinks: ports are published or NAT is on, so traffic can arrive
	// from the host at any time.
	hostLinks bool
	published []net.Addr // the host addresses of the published ports

	mu    sync.Mutex    // guards dirty and inetSocket.dirty (Watch callbacks)
	dirty []*inetSocket // sockets whose state changed, to wake

	deadline       uint64 // machine time of the armed network timer (0: none)
	cancelDeadline func()

	sendBuf []byte // scratch buffers of the socket calls (sys_socket.go)
	recvBuf []byte

	inet    map[*inetSocket]struct{} // open AF_INET/AF_INET6 sockets
	nextIno uint64                   // socket inode numbers
	unix    unixNamespace            // AF_UNIX names and sockets (socket_unix.go)
}

// sockfsDev is the device number of socket inodes (fstat's st_dev).
const sockfsDev = 8

// firstSocketIno is the inode number of a machine's first socket.
const firstSocketIno = 10000

// startNetwork creates the machine's network and publishes the configured
// ports.
func (m *Machine) startNetwork() error {
	n, err := netstack.New(netstack.Config{
		Seed:     m.cfg.Seed,
		Realtime: m.clock.Realtime(),
		Epoch:    m.epoch,
		NAT:      m.cfg.NAT,
	})
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	mn := &machineNet{m: m, n: n, inet: map[*inetSocket]struct{}{}, nextIno: firstSocketIno,
		hostLinks: len(m.cfg.Publish) > 0 || m.cfg.NAT != netstack.NATOff}
	mn.unix.init()
	for _, p := range m.cfg.Publish {
		addr, err := n.Publish(p)
		if err != nil {
			n.Close()
			return fmt.Errorf("network: publish %s: %w", p, err)
		}
		mn.published = append(mn.published, addr)
	}
	m.net = mn
	return nil
}

// PublishedAddrs returns the host addresses the machine's published ports
// listen on, in Config.Publish order (useful with a host port of 0).
func (m *Machine) PublishedAddrs() []net.Addr { return slices.Clone(m.net.published) }

// closeNetwork shuts the network down (Close).
func (m *Machine) closeNetwork() error {
	if m.net == nil {
		return nil
	}
	if m.net.cancelDeadline != nil {
		m.net.cancelDeadline()
	}
	return m.net.n.Close()
}

// newIno returns a fresh socket inode number.
func (mn *machineNet) newIno() uint64 {
	mn.nextIno++
	return mn.nextIno
}

// notify is an inet socket's Watch callback: it may run on any goroutine
// and only queues the socket for flush.
func (mn *machineNet) notify(s *inetSocket) {
	mn.mu.Lock()
	if !s.dirty {
		s.dirty = true
		mn.dirty = append(mn.dirty, s)
	}
	mn.mu.Unlock()
}

// flush wakes the waiters of the sockets whose state changed, in inode
// order, and re-arms the network timer. It runs on the machine's
// goroutine after every network call.
func (mn *machineNet) flush() {
	mn.mu.Lock()
	d := mn.dirty
	mn.dirty = nil
	for _, s := range d {
		s.dirty = false
	}
	mn.mu.Unlock()
	slices.SortFunc(d, func(a, b *inetSocket) int { return cmp.Compare(a.ino, b.ino) })
	for _, s := range d {
		s.wq.wakeAll()
	}
	mn.armDeadline()
}

// advance brings the network's clock to machine time (deterministic mode;
// in realtime mode the stacks follow the host clock by themselves).
func (mn *machineNet) advance() {
	if !mn.m.clock.Realtime() {
		mn.n.Advance(time.Duration(mn.m.clock.Now()))
	}
}

// armDeadline makes the earliest network timer a machine timer.
func (mn *machineNet) armDeadline() {
	var at uint64
	if d, ok := mn.n.NextDeadline(); ok {
		at = max(uint64(d), 1)
	}
	if at == mn.deadline {
		return
	}
	if mn.cancelDeadline != nil {
		mn.cancelDeadline()
		mn.cancelDeadline = nil
	}
	mn.deadline = at
	if at != 0 {
		mn.cancelDeadline = mn.m.atTime(at, mn.onDeadline)
	}
}

// onDeadline fires the network timers due at machine time now.
func (mn *machineNet) onDeadline() {
	mn.deadline, mn.cancelDeadline = 0, nil
	mn.advance()
	mn.flush()
}

// netPoll settles the network when traffic arrived from outside a call
// (the host, or realtime timers). The scheduler calls it between slices.
func (m *Machine) netPoll() {
	mn := m.net
	if mn == nil || !mn.hostLinks && !m.clock.Realtime() {
		return
	}
	select {
	case <-mn.n.Wake():
		mn.n.Settle()
		mn.flush()
	default:
	}
}

// netIdle is the idle machine's wait for the network, when every thread
// sleeps: now is machine time and next the next machine timer (0: none).
// It reports true when it waited (packets arrived, or in realtime mode
// time passed): the scheduler then looks again instead of jumping to next
// or reporting a deadlock.
func (m *Machine) netIdle(now, next uint64) bool {
	mn := m.net
	if mn == nil {
		return false
	}
	realtime := m.clock.Realtime()
	if !mn.hostLinks && !realtime {
		return false // nothing arrives from outside
	}
	waiting := mn.socketWaiters()
	var d time.Duration // how long to wait for Wake (0: until it fires)
	switch {
	case next == 0 && !waiting:
		return false // a deadlock: no socket can end it
	case next == 0:
		d = 0
	case realtime:
		if !waiting && !mn.hostLinks {
			return false // the scheduler sleeps until next
		}
		d = time.Duration(next - now)
	case mn.n.HostActive() || waiting:
		// The jump, taken in real time: a host connection is open, or a
		// thread waits on a socket that the host may reach meanwhile.
		d = time.Duration(next - now)
	default:
		return false // deterministic: jump at once
	}
	woke := mn.waitWake(d)
	if woke {
		mn.n.Settle()
		mn.flush()
		return true
	}
	if m.isClosed() {
		return false // let the scheduler give up
	}
	return realtime || m.interrupts.Load() != 0
}

// waitWake waits up to d (0: without limit) for host traffic; it also
// returns, false, when the machine is closed or interrupted.
func (mn *machineNet) waitWake(d time.Duration) bool {
	const tick = 50 * time.Millisecond
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-mn.n.Wake():
			return true
		case <-deadline:
			return false
		case <-tk.C:
			if mn.m.closedOrInterrupted() {
				return false
			}
		}
	}
}

// closedOrInterrupted reports whether the machine was closed or
// interrupted (Ctrl-C) meanwhile.
func (m *Machine) closedOrInterrupted() bool {
	return m.interrupts.Load() != 0 || m.isClosed()
}

func (m *Machine) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// socketWaiters reports whether a thread waits on an inet socket.
func (mn *machineNet) socketWaiters() bool {
	for s := range mn.inet {
		if !s.wq.empty() {
			return true
		}
	}
	return false
}

// netStats returns the network counters for the metrics registry.
func (m *Machine) netStats() []metrics.Interface {
	if m.net == nil {
		return nil
	}
	var out []metrics.Interface
	for _, s := range m.net.n.Stats() {
		out = append(out, metrics.Interface{Name: s.Name,
			RxPackets: s.RxPackets, RxBytes: s.RxBytes, RxDropped: s.RxDropped, RxErrors: s.RxErrors,
			TxPackets: s.TxPackets, TxBytes: s.TxBytes, TxDropped: s.TxDropped, TxErrors: s.TxErrors})
	}
	return out
}

// NetStats returns the machine's per-interface network counters (lo,
// eth0), as /proc/net/dev shows them.
func (m *Machine) NetStats() []netstack.InterfaceStats { return m.net.n.Stats() }

// ProcNet implements vfs.ProcNetSource: /proc/net/<name>.
func (s procSource) ProcNet(name string) []byte {
	mn := s.m.net
	switch name {
	case "dev":
		return mn.n.ProcNetDev()
	case "route":
		return mn.n.ProcNetRoute()
	case "tcp":
		return mn.n.ProcNetTCP(netstack.AF_INET)
	case "tcp6":
		return mn.n.ProcNetTCP(netstack.AF_INET6)
	case "udp":
		return mn.n.ProcNetUDP(netstack.AF_INET)
	case "udp6":
		return mn.n.ProcNetUDP(netstack.AF_INET6)
	case "unix":
		return mn.unix.procNet()
	}
	return nil
}
