package netstack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// The machine's addresses: those of qemu's user network.
const (
	GuestIPv4   = "10.0.2.15"
	GatewayIPv4 = "10.0.2.2"
	GuestIPv6   = "fec0::15"
	GatewayIPv6 = "fec0::2"
	// GuestMAC is eth0's hardware address (qemu's default).
	GuestMAC = "52:54:00:12:34:56"
)

var (
	guestIPv4   = netip.MustParseAddr(GuestIPv4)
	gatewayIPv4 = netip.MustParseAddr(GatewayIPv4)
	guestIPv6   = netip.MustParseAddr(GuestIPv6)
	gatewayIPv6 = netip.MustParseAddr(GatewayIPv6)
	subnetIPv4  = netip.MustParsePrefix("10.0.2.0/24")
	subnetIPv6  = netip.MustParsePrefix("fec0::/64")
)

// Interface indexes, as Linux numbers them.
const (
	LoopbackIndex = 1
	EthernetIndex = 2
)

const (
	loopbackMTU = 65536
	ethernetMTU = 1500
	gatewayNIC  = 1
)

// NATMode says which guest connections leave the machine through host
// sockets.
type NATMode int

const (
	// NATOff keeps the machine a sandbox: the gateway answers pings and
	// refuses connections.
	NATOff NATMode = iota
	// NATGateway lets guests reach the host's loopback through the gateway
	// address (10.0.2.2 and fec0::2 become 127.0.0.1 and ::1), as the
	// host-loopback part of qemu's user network.
	NATGateway
	// NATFull also lets guests reach any other address through host
	// sockets, as qemu's user network does.
	NATFull
)

// Config configures a machine's network.
type Config struct {
	// Seed seeds every random choice of the stacks: TCP initial sequence
	// numbers and timestamp offsets, ephemeral ports, hash seeds.
	Seed uint64
	// Realtime runs the stacks on the host clock; otherwise they run on a
	// ManualClock that only Advance moves.
	Realtime bool
	// Epoch is the wall time at machine time zero (deterministic mode).
	Epoch time.Time
	// NAT lets guest connections out through host sockets (off by default).
	NAT NATMode
}

// Network is one machine's network: a guest stack with lo and eth0, and
// the gateway stack at the other end of eth0.
type Network struct {
	cfg    Config
	clock  *ManualClock // nil in realtime mode
	w      *wire
	guest  *stack.Stack
	gw     *stack.Stack
	lo     *link
	eth0   *link
	gwLink *link
	host   *hostSide

	mu      sync.Mutex // serializes socket operations, Settle and Advance
	closed  bool
	sockets map[tcpip.Endpoint]*Socket
}

// New builds a machine's network.
func New(cfg Config) (*Network, error) {
	n := &Network{cfg: cfg, w: newWire(), sockets: make(map[tcpip.Endpoint]*Socket)}
	var clk tcpip.Clock
	if cfg.Realtime {
		clk = tcpip.NewStdClock()
	} else {
		n.clock = NewManualClock(cfg.Epoch)
		clk = n.clock
	}
	n.guest, n.gw = newStacks(clk, cfg.Seed)

	n.lo = &link{w: n.w, name: "lo", mtu: loopbackMTU, loopback: true, owner: n.guest, nic: LoopbackIndex}
	n.lo.peer = n.lo
	n.eth0 = &link{w: n.w, name: "eth0", mtu: ethernetMTU, hwaddr: tcpip.LinkAddress(mustMAC(GuestMAC)), owner: n.guest, nic: EthernetIndex}
	n.gwLink = &link{w: n.w, name: "gw0", mtu: ethernetMTU, hwaddr: tcpip.LinkAddress([]byte{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}), owner: n.gw, nic: gatewayNIC}
	n.eth0.peer, n.gwLink.peer = n.gwLink, n.eth0
	n.eth0.own = []tcpip.Address{addrOf(guestIPv4), addrOf(guestIPv6)}
	n.eth0.hairpin = &n.lo.count

	if err := n.setupGuest(); err != nil {
		n.destroyStacks()
		return nil, err
	}
	if err := n.setupGateway(); err != nil {
		n.destroyStacks()
		return nil, err
	}
	n.host = newHostSide(n)
	n.hold()
	n.settleLocked()
	n.release()
	return n, nil
}

// procsMu serializes newStacks' change of GOMAXPROCS, which is process-wide
// state.
var procsMu sync.Mutex

// newStacks creates the guest and gateway stacks. gVisor's TCP runs one
// segment processor goroutine per GOMAXPROCS at stack creation; a stack
// created with GOMAXPROCS 1 processes all its segments on one goroutine, in
// queue order, which is what makes a settled network deterministic.
func newStacks(clk tcpip.Clock, seed uint64) (guest, gw *stack.Stack) {
	procsMu.Lock()
	defer procsMu.Unlock()
	prev := runtime.GOMAXPROCS(1)
	guest = stack.New(stackOptions(clk, seed, "guest"))
	gw = stack.New(stackOptions(clk, seed, "gateway"))
	// Restore the value, and the runtime's automatic updates if the value
	// was the default (setting GOMAXPROCS turns them off).
	runtime.SetDefaultGOMAXPROCS()
	if runtime.GOMAXPROCS(0) != prev {
		runtime.GOMAXPROCS(prev)
	}
	return guest, gw
}

func stackOptions(clk tcpip.Clock, seed uint64, label string) stack.Options {
	return stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{
				// No duplicate address detection, router solicitation or
				// multicast listener reports: nothing leaves the stack
				// unless a socket sends it.
				DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: 0},
				NDPConfigs: ipv6.NDPConfigurations{},
				MLD:        ipv6.MLDOptions{Enabled: false},
			}),
		},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		RawFactory:         raw.EndpointFactory{},
		Clock:              clk,
		HandleLocal:        false,
		RandSource:         newLockedSource(int64(seed), label),
		SecureRNG:          newSeededRNG(int64(seed), label),
	}
}

func (n *Network) setupGuest() error {
	s := n.guest
	if err := createNIC(s, n.lo); err != nil {
		return err
	}
	if err := createNIC(s, n.eth0); err != nil {
		return err
	}
	addrs := []struct {
		nic    tcpip.NICID
		prefix netip.Prefix
	}{
		{LoopbackIndex, netip.MustParsePrefix("127.0.0.1/8")},
		{LoopbackIndex, netip.MustParsePrefix("::1/128")},
		{EthernetIndex, netip.PrefixFrom(guestIPv4, 24)},
		{EthernetIndex, netip.PrefixFrom(guestIPv6, 64)},
	}
	for _, a := range addrs {
		if err := addAddress(s, a.nic, a.prefix); err != nil {
			return err
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: subnetOf(netip.MustParsePrefix("127.0.0.0/8")), NIC: LoopbackIndex},
		{Destination: subnetOf(netip.MustParsePrefix("::1/128")), NIC: LoopbackIndex},
		{Destination: subnetOf(subnetIPv4), NIC: EthernetIndex},
		{Destination: subnetOf(subnetIPv6), NIC: EthernetIndex},
		{Destination: subnetOf(netip.MustParsePrefix("0.0.0.0/0")), Gateway: addrOf(gatewayIPv4), NIC: EthernetIndex},
		{Destination: subnetOf(netip.MustParsePrefix("::/0")), Gateway: addrOf(gatewayIPv6), NIC: EthernetIndex},
	})
	return n.tuneTCP(s)
}

func (n *Network) setupGateway() error {
	s := n.gw
	if err := createNIC(s, n.gwLink); err != nil {
		return err
	}
	for _, p := range []netip.Prefix{netip.PrefixFrom(gatewayIPv4, 24), netip.PrefixFrom(gatewayIPv6, 64)} {
		if err := addAddress(s, gatewayNIC, p); err != nil {
			return err
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: subnetOf(netip.MustParsePrefix("0.0.0.0/0")), NIC: gatewayNIC},
		{Destination: subnetOf(netip.MustParsePrefix("::/0")), NIC: gatewayNIC},
	})
	return n.tuneTCP(s)
}

// tuneTCP sets the stacks' TCP options. RACK loss detection is off: it
// declares a segment lost once a later one is acknowledged and an RTT has
// passed, and on this wire, where delivery takes no machine time, an RTT
// has always passed, so every reordering (a receiver dropping a segment it
// has no room for) turns into a storm of retransmissions within one
// instant. Classic duplicate-ACK recovery with SACK does not depend on
// time.
func (n *Network) tuneTCP(s *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		return fmt.Errorf("netstack: enable SACK: %s", err)
	}
	recovery := tcpip.TCPRecovery(0)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &recovery); err != nil {
		return fmt.Errorf("netstack: disable RACK: %s", err)
	}
	return nil
}

func createNIC(s *stack.Stack, l *link) error {
	if err := s.CreateNICWithOptions(l.nic, l, stack.NICOptions{Name: l.name}); err != nil {
		return fmt.Errorf("netstack: create NIC %s: %s", l.name, err)
	}
	return nil
}

func addAddress(s *stack.Stack, nic tcpip.NICID, p netip.Prefix) error {
	proto := ipv4.ProtocolNumber
	if p.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          proto,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrOf(p.Addr()), PrefixLen: p.Bits()},
	}
	if err := s.AddProtocolAddress(nic, pa, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("netstack: add address %s: %s", p, err)
	}
	return nil
}

// addrOf converts a netip address to gVisor's form (4 or 16 bytes).
func addrOf(a netip.Addr) tcpip.Address {
	return tcpip.AddrFromSlice(a.AsSlice())
}

// subnetOf converts a prefix to a gVisor subnet.
func subnetOf(p netip.Prefix) tcpip.Subnet {
	p = p.Masked()
	mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
	s, err := tcpip.NewSubnet(addrOf(p.Addr()), tcpip.MaskFromBytes(mask))
	if err != nil {
		// Only reached with a malformed constant prefix above.
		panic(fmt.Sprintf("netstack: subnet %s: %s", p, err))
	}
	return s
}

// Settle delivers every packet waiting on the wire, one at a time, and after
// each waits until the receiving stack has processed it and queued whatever
// it sends in reply; timers that are due run too. It returns when the wire
// is empty and the stacks are idle. Every socket operation settles before it
// returns; the kernel calls Settle itself when Wake fires.
func (n *Network) Settle() {
	n.hold()
	defer n.release()
	n.settleLocked()
}

// hold takes the network for a call. Frames sent until release are the
// call's to settle, so they do not raise Wake.
func (n *Network) hold() {
	n.mu.Lock()
	n.w.setSettling(true)
}

// release ends a call; frames that arrived too late for its settling raise
// Wake.
func (n *Network) release() {
	n.w.setSettling(false)
	n.mu.Unlock()
}

// maxSettleSteps bounds the packets and timers one Settle handles, so that
// a protocol storm cannot hold the kernel forever; what is left waits for
// the next Settle. The bound is a count, so it cuts at the same place on
// every run.
const maxSettleSteps = 1 << 20

func (n *Network) settleLocked() {
	if n.closed {
		return
	}
	quiesce(n.guest)
	for steps := 0; steps < maxSettleSteps; steps++ {
		if n.clock != nil && n.clock.fireNext(n.clock.Elapsed()) {
			// A timer due now (armed with no delay).
			quiesce(n.guest)
			quiesce(n.gw)
			continue
		}
		f, ok := n.w.pop()
		if !ok {
			return
		}
		f.to.deliver(f)
		quiesce(f.to.owner)
	}
}

// quiesce returns once s's TCP processor has drained its queue and is idle.
// gVisor's Pause parks the processor only when its queue is empty; nothing
// can queue more work while the caller holds the network (packets arrive
// only through deliver).
func quiesce(s *stack.Stack) {
	s.Pause()
	s.Resume()
}

// Advance moves the network's clock to machine time now (deterministic
// mode): timers due by then fire in deadline order, each at its own
// deadline, and the network settles after each. Time never moves backwards.
// In realtime mode Advance only settles.
func (n *Network) Advance(now time.Duration) {
	n.hold()
	defer n.release()
	if n.closed {
		return
	}
	if n.clock != nil {
		for i := 0; i < maxSettleSteps && n.clock.fireNext(now); i++ {
			n.settleLocked()
		}
		n.clock.setNow(now)
	}
	n.settleLocked()
}

// NextDeadline returns the machine time of the earliest network timer
// (retransmission, keep-alive, TIME_WAIT, ...), and false if none is armed or
// the network runs on the host clock. An idle kernel may jump its clock
// there and call Advance.
func (n *Network) NextDeadline() (time.Duration, bool) {
	if n.clock == nil {
		return 0, false
	}
	return n.clock.NextDeadline()
}

// Elapsed returns the network's machine time (deterministic mode) or the
// time since the host clock started (realtime mode).
func (n *Network) Elapsed() time.Duration {
	if n.clock != nil {
		return n.clock.Elapsed()
	}
	return time.Duration(n.guest.Clock().NowMonotonic().Sub(tcpip.MonotonicTime{}))
}

// Wake receives a value when packets arrive from outside a Settle: from
// the host side (published ports, NAT), or from timers in realtime mode.
// The kernel then calls Settle (and wakes the tasks whose sockets became
// ready through their Watch callbacks).
func (n *Network) Wake() <-chan struct{} { return n.w.wake }

// HostActive reports whether host connections (published or NAT) are open
// or being set up. Their traffic arrives on the host's schedule: while it
// is true, an idle kernel in deterministic mode should wait on Wake for the
// real duration of a time jump instead of jumping at once.
func (n *Network) HostActive() bool { return n.host.active() }

// Close shuts the network down: host listeners and relays stop, every
// endpoint is aborted and the stacks' goroutines end. Sockets fail with
// EBADF-free errors afterwards (their endpoints are closed).
func (n *Network) Close() error {
	n.host.close()
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	n.w.close()
	n.destroyStacks()
	return n.host.wait()
}

func (n *Network) destroyStacks() {
	n.guest.Destroy()
	n.gw.Destroy()
}

// errClosed is returned by host operations on a closed network.
var errClosed = errors.New("netstack: network closed")

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(fmt.Sprintf("netstack: MAC %q: %s", s, err))
	}
	return m
}
