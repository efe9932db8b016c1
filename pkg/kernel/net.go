package kernel

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

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
//     machine with a thread waiting on a socket waits for Wake (Machine.idle, netHost):
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
	n *netstack.Network // use stack()
	// used: the stacks were used (checkpoint.go): a fresh stack is no
	// longer the same.
	used bool
	// hostLinks: ports are published or NAT is on, so traffic can arrive
	// from the host at any time.
	hostLinks bool
	published []net.Addr // the host addresses of the published ports

	mu    sync.Mutex    // guards dirty and inetSocket.dirty (Watch callbacks)
	dirty []*inetSocket // sockets whose state changed, to wake

	deadline      uint64 // machine time of the armed network timer (0: none)
	deadlineTimer *timer

	sendBuf []byte // scratch buffers of the socket calls (sys_socket.go)
	recvBuf []byte

	inet    map[*inetSocket]struct{} // open AF_INET/AF_INET6 sockets
	nextIno uint64                   // socket inode numbers
	unix    unixNamespace            // AF_UNIX names and sockets (socket_unix.go)

	netlinkPorts map[uint32]*netlinkSocket // bound netlink sockets by port id
	netlinkAuto  uint32                    // port ids given out below firstAutoPort
}

// sockfsDev is the device number of socket inodes (fstat's st_dev).
const sockfsDev = 8

// firstSocketIno is the inode number of a machine's first socket.
const firstSocketIno = 10000

// startNetwork creates the machine's network and publishes the configured
// ports.
func (m *Machine) startNetwork() error {
	n, err := newNetwork(m)
	if err != nil {
		return err
	}
	mn := &machineNet{m: m, n: n, inet: map[*inetSocket]struct{}{}, netlinkPorts: map[uint32]*netlinkSocket{}, nextIno: firstSocketIno,
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
	m.cancelTimer(m.net.deadlineTimer)
	return m.net.n.Close()
}

// newNetwork creates the network stacks of m's configuration.
func newNetwork(m *Machine) (*netstack.Network, error) {
	n, err := netstack.New(netstack.Config{
		Seed:     m.cfg.Seed,
		Realtime: m.clock.Realtime(),
		Epoch:    m.epoch,
		NAT:      m.cfg.NAT,
	})
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return n, nil
}

// stack returns the network stacks, noting that the network was used
// (a checkpoint cannot copy them then).
func (mn *machineNet) stack() *netstack.Network {
	mn.used = true
	return mn.n
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
		mn.stack().Advance(time.Duration(mn.m.clock.Now()))
	}
}

// armDeadline makes the earliest network timer a machine timer.
func (mn *machineNet) armDeadline() {
	var at uint64
	if d, ok := mn.stack().NextDeadline(); ok {
		at = max(uint64(d), 1)
	}
	if at == mn.deadline {
		return
	}
	mn.m.cancelTimer(mn.deadlineTimer)
	mn.deadlineTimer = nil
	mn.deadline = at
	if at != 0 {
		mn.deadlineTimer = mn.m.setTimer(at, mn)
	}
}

// fire is the network timer: it fires the network timers due at machine
// time now.
func (mn *machineNet) fire() {
	mn.deadline, mn.deadlineTimer = 0, nil
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
		mn.stack().Settle()
		mn.flush()
	default:
	}
}

// netHost returns the channel host traffic wakes an idle machine on (nil:
// none arrives from outside), and whether a thread waits on a socket it
// may reach, so that the idle machine waits for it in host time instead
// of jumping to its next timer at once or reporting a deadlock.
func (m *Machine) netHost() (wake <-chan struct{}, pending bool) {
	mn := m.net
	if mn == nil || !mn.hostLinks && !m.clock.Realtime() {
		return nil, false
	}
	return mn.n.Wake(), mn.socketWaiters() || mn.hostLinks && mn.n.HostActive()
}

// netSettle takes the traffic that woke the idle machine.
func (m *Machine) netSettle() {
	m.net.stack().Settle()
	m.net.flush()
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

// NetStats returns the machine's per-interface network counters (lo,
// eth0), as /proc/net/dev shows them.
func (m *Machine) NetStats() []netstack.InterfaceStats { return m.net.stack().Stats() }

// ProcNet implements vfs.ProcNetSource: /proc/net/<name>.
func (s procSource) ProcNet(name string) []byte {
	mn := s.m.net
	switch name {
	case "dev":
		return mn.stack().ProcNetDev()
	case "route":
		return mn.stack().ProcNetRoute()
	case "igmp":
		return mn.stack().ProcNetIGMP()
	case "igmp6":
		return mn.stack().ProcNetIGMP6()
	case "tcp":
		return mn.stack().ProcNetTCP(netstack.AF_INET)
	case "tcp6":
		return mn.stack().ProcNetTCP(netstack.AF_INET6)
	case "udp":
		return mn.stack().ProcNetUDP(netstack.AF_INET)
	case "udp6":
		return mn.stack().ProcNetUDP(netstack.AF_INET6)
	case "unix":
		return mn.unix.procNet()
	}
	return nil
}
