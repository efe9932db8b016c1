package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Limits of the host side, so that a busy host cannot grow the process
// without bound.
const (
	hostDialTimeout = 10 * time.Second
	udpFlowIdle     = 60 * time.Second
	maxUDPFlows     = 256
	maxForwardSYNs  = 256
	maxHostOps      = 1024 // open relays and dials, all kinds together
	maxDatagram     = 65535
)

// Port is a published port: connections (or datagrams) to HostIP:HostPort
// on the host go to GuestPort on the guest's eth0 address, as docker -p and
// qemu's hostfwd forward them. The guest sees them come from the gateway
// (10.0.2.2).
type Port struct {
	HostIP    netip.Addr // default 127.0.0.1
	HostPort  uint16     // 0 picks a free port (see Publish's result)
	GuestPort uint16
	UDP       bool
}

// ParsePort parses the --publish syntax [HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp].
func ParsePort(s string) (Port, error) {
	var p Port
	spec, proto, ok := strings.Cut(s, "/")
	if ok {
		switch proto {
		case "tcp":
		case "udp":
			p.UDP = true
		default:
			return p, fmt.Errorf("publish %q: protocol %q is not tcp or udp", s, proto)
		}
	}
	i := strings.LastIndex(spec, ":")
	if i < 0 {
		return p, fmt.Errorf("publish %q: want HOSTPORT:GUESTPORT", s)
	}
	host, guest := spec[:i], spec[i+1:]
	if j := strings.LastIndex(host, ":"); j >= 0 {
		ip, err := netip.ParseAddr(strings.Trim(host[:j], "[]"))
		if err != nil {
			return p, fmt.Errorf("publish %q: host address: %w", s, err)
		}
		p.HostIP, host = ip, host[j+1:]
	}
	hp, err := strconv.ParseUint(host, 10, 16)
	if err != nil {
		return p, fmt.Errorf("publish %q: host port: %w", s, err)
	}
	gp, err := strconv.ParseUint(guest, 10, 16)
	if err != nil || gp == 0 {
		return p, fmt.Errorf("publish %q: guest port must be 1-65535", s)
	}
	p.HostPort, p.GuestPort = uint16(hp), uint16(gp)
	return p, nil
}

// String returns p in the --publish syntax.
func (p Port) String() string {
	proto := "tcp"
	if p.UDP {
		proto = "udp"
	}
	s := fmt.Sprintf("%d:%d/%s", p.HostPort, p.GuestPort, proto)
	if p.HostIP.IsValid() {
		s = netip.AddrPortFrom(p.HostIP, p.HostPort).String() + s[strings.Index(s, ":"):]
	}
	return s
}

// hostSide runs the goroutines that connect the gateway stack to host
// sockets: published-port listeners, NAT forwarders and byte relays. Their
// traffic is timed by the host, so it is not deterministic.
type hostSide struct {
	n      *Network
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	closers  map[io.Closer]struct{} // listeners and connections to close
	open     int                    // open relays and dials in progress
	syns     map[stack.TransportEndpointID]time.Time
	udpFlows int
	firstErr error
}

func newHostSide(n *Network) *hostSide {
	ctx, cancel := context.WithCancel(context.Background())
	h := &hostSide{n: n, ctx: ctx, cancel: cancel,
		closers: make(map[io.Closer]struct{}),
		syns:    make(map[stack.TransportEndpointID]time.Time)}
	if n.cfg.NAT != NATOff {
		h.startNAT()
	}
	return h
}

// track registers c to be closed with the network, or reports false (and
// closes c) if the network is closing.
func (h *hostSide) track(c io.Closer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.Close()
		return false
	}
	h.closers[c] = struct{}{}
	return true
}

// serve registers listener c like track and runs f on its own goroutine,
// which Close waits for.
func (h *hostSide) serve(c io.Closer, f func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.Close()
		return false
	}
	h.closers[c] = struct{}{}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
	return true
}

func (h *hostSide) untrack(c io.Closer) {
	h.mu.Lock()
	delete(h.closers, c)
	h.mu.Unlock()
	c.Close()
}

// begin counts a host operation in and reports false if the network is
// closing or maxHostOps are open; end counts it out.
func (h *hostSide) begin() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.open >= maxHostOps {
		return false
	}
	h.open++
	h.wg.Add(1)
	return true
}

func (h *hostSide) end() {
	h.mu.Lock()
	h.open--
	h.mu.Unlock()
	h.wg.Done()
}

// active reports open relays, dials in progress and SYNs handed to the NAT
// forwarder whose handler has not started yet.
func (h *hostSide) active() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	for id, t := range h.syns {
		if now.Sub(t) > hostDialTimeout {
			delete(h.syns, id)
		}
	}
	return h.open > 0 || len(h.syns) > 0
}

func (h *hostSide) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	cs := make([]io.Closer, 0, len(h.closers))
	for c := range h.closers {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	h.cancel()
	past := time.Unix(1, 0)
	for _, c := range cs {
		if d, ok := c.(interface{ SetDeadline(time.Time) error }); ok {
			d.SetDeadline(past)
		}
		c.Close()
	}
}

func (h *hostSide) wait() error {
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.firstErr
}

// Publish forwards a host port into the guest. It returns the host address
// it listens on (useful with HostPort 0). Connections are accepted while
// the network lives; each becomes a connection from the gateway to the
// guest's eth0 address, refused (closed at once) if no guest socket
// listens there. The kernel must settle the network when Wake fires for
// the forwarded traffic to move.
func (n *Network) Publish(p Port) (net.Addr, error) {
	h := n.host
	ip := p.HostIP
	if !ip.IsValid() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if p.GuestPort == 0 {
		return nil, fmt.Errorf("netstack: publish %s: guest port 0", p)
	}
	hostAddr := netip.AddrPortFrom(ip, p.HostPort)
	if p.UDP {
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(hostAddr))
		if err != nil {
			return nil, fmt.Errorf("netstack: publish %s: %w", p, err)
		}
		if !h.serve(pc, func() { h.serveUDP(pc, p.GuestPort) }) {
			return nil, errClosed
		}
		return pc.LocalAddr(), nil
	}
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(hostAddr))
	if err != nil {
		return nil, fmt.Errorf("netstack: publish %s: %w", p, err)
	}
	if !h.serve(ln, func() { h.serveTCP(ln, p.GuestPort) }) {
		return nil, errClosed
	}
	return ln.Addr(), nil
}

func (h *hostSide) serveTCP(ln *net.TCPListener, guestPort uint16) {
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				h.fail(fmt.Errorf("netstack: published port %s: %w", ln.Addr(), err))
			}
			return
		}
		if !h.begin() {
			c.Close() // closing, or too many host connections
			continue
		}
		go func() {
			defer h.end()
			h.forwardIn(c, guestPort)
		}()
	}
}

// forwardIn connects the gateway to the guest port and relays c to it.
func (h *hostSide) forwardIn(c *net.TCPConn, guestPort uint16) {
	if !h.track(c) {
		return
	}
	defer h.untrack(c)
	ctx, cancel := context.WithTimeout(h.ctx, hostDialTimeout)
	gc, err := gonet.DialContextTCP(ctx, h.n.gw, tcpip.FullAddress{NIC: gatewayNIC, Addr: addrOf(guestIPv4), Port: guestPort}, ipv4.ProtocolNumber)
	cancel()
	if err != nil {
		return // refused or timed out: the host client sees the connection close
	}
	if !h.track(gc) {
		return
	}
	defer h.untrack(gc)
	relay(c, gc)
}

// serveUDP forwards datagrams from host clients to the guest port, one
// gateway socket per client (at most maxUDPFlows, each closed after
// udpFlowIdle without replies), and the guest's replies back.
func (h *hostSide) serveUDP(pc *net.UDPConn, guestPort uint16) {
	var mu sync.Mutex
	flows := make(map[netip.AddrPort]*gonet.UDPConn)
	buf := make([]byte, maxDatagram)
	for {
		nr, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				h.fail(fmt.Errorf("netstack: published port %s: %w", pc.LocalAddr(), err))
			}
			return
		}
		mu.Lock()
		gc := flows[from]
		if gc == nil && len(flows) < maxUDPFlows {
			gc = h.openInFlow(pc, from, guestPort, func() {
				mu.Lock()
				delete(flows, from)
				mu.Unlock()
			})
			if gc != nil {
				flows[from] = gc
			}
		}
		mu.Unlock()
		if gc != nil {
			gc.Write(buf[:nr])
		}
	}
}

// openInFlow opens the gateway socket of a published UDP flow and starts
// the goroutine that returns the guest's replies to the host client.
func (h *hostSide) openInFlow(pc *net.UDPConn, from netip.AddrPort, guestPort uint16, done func()) *gonet.UDPConn {
	raddr := tcpip.FullAddress{NIC: gatewayNIC, Addr: addrOf(guestIPv4), Port: guestPort}
	gc, err := gonet.DialUDP(h.n.gw, nil, &raddr, ipv4.ProtocolNumber)
	if err != nil {
		return nil
	}
	if !h.begin() {
		gc.Close()
		return nil
	}
	if !h.track(gc) {
		h.end()
		return nil
	}
	go func() {
		defer h.end()
		defer h.untrack(gc)
		defer done()
		reply := make([]byte, maxDatagram)
		for {
			gc.SetReadDeadline(time.Now().Add(udpFlowIdle))
			n, err := gc.Read(reply)
			if err != nil {
				return
			}
			if _, err := pc.WriteToUDPAddrPort(reply[:n], from); err != nil {
				return
			}
		}
	}()
	return gc
}

// startNAT installs the gateway's forwarders: guest TCP connections and UDP
// flows to addresses off the machine go out through host sockets.
func (h *hostSide) startNAT() {
	gw := h.n.gw
	if h.n.cfg.NAT == NATFull {
		// Accept packets for any address and answer from it.
		gw.SetPromiscuousMode(gatewayNIC, true)
		gw.SetSpoofing(gatewayNIC, true)
	}
	tf := tcp.NewForwarder(gw, 0, maxForwardSYNs, h.forwardTCP)
	gw.SetTransportProtocolHandler(tcp.ProtocolNumber, func(id stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
		if t := header.TCP(pkt.TransportHeader().Slice()); len(t) >= header.TCPMinimumSize &&
			t.Flags().Contains(header.TCPFlagSyn) && !t.Flags().Contains(header.TCPFlagAck) {
			h.mu.Lock()
			if len(h.syns) < maxForwardSYNs {
				h.syns[id] = time.Now()
			}
			h.mu.Unlock()
		}
		return tf.HandlePacket(id, pkt)
	})
	uf := udp.NewForwarder(gw, h.forwardUDP)
	gw.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
}

// natTarget maps the address a guest connected to onto a host address.
func (h *hostSide) natTarget(a tcpip.Address, port uint16) (netip.AddrPort, bool) {
	ip, ok := netip.AddrFromSlice(a.AsSlice())
	if !ok {
		return netip.AddrPort{}, false
	}
	switch {
	case ip == gatewayIPv4:
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case ip == gatewayIPv6:
		ip = netip.IPv6Loopback()
	case h.n.cfg.NAT != NATFull:
		return netip.AddrPort{}, false
	case ip == guestIPv4 || ip == guestIPv6 || ip.IsLoopback() || ip.IsUnspecified() || ip.IsMulticast():
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, port), true
}

// forwardTCP handles one guest SYN the forwarder passed on (on its own
// goroutine): it dials the host, and answers the guest with a SYN-ACK on
// success or a RST on failure (the guest sees ECONNREFUSED).
func (h *hostSide) forwardTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	started := h.begin()
	h.mu.Lock()
	delete(h.syns, id)
	h.mu.Unlock()
	if !started {
		r.Complete(true)
		return
	}
	defer h.end()
	target, ok := h.natTarget(id.LocalAddress, id.LocalPort)
	if !ok {
		r.Complete(true)
		return
	}
	d := net.Dialer{Timeout: hostDialTimeout}
	hc, err := d.DialContext(h.ctx, "tcp", target.String())
	if err != nil {
		r.Complete(true)
		return
	}
	if !h.track(hc) {
		r.Complete(true)
		return
	}
	defer h.untrack(hc)
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		r.Complete(true)
		return
	}
	r.Complete(false)
	gc := gonet.NewTCPConn(&wq, ep)
	if !h.track(gc) {
		return
	}
	defer h.untrack(gc)
	relay(hc.(*net.TCPConn), gc)
}

// forwardUDP handles the first datagram of a guest UDP flow. It runs
// inside Settle, so it only creates the gateway endpoint and leaves the
// host socket to a goroutine.
func (h *hostSide) forwardUDP(r *udp.ForwarderRequest) {
	id := r.ID()
	target, ok := h.natTarget(id.LocalAddress, id.LocalPort)
	if !ok {
		return
	}
	h.mu.Lock()
	full := h.udpFlows >= maxUDPFlows
	if !full {
		h.udpFlows++
	}
	h.mu.Unlock()
	if full {
		return
	}
	release := func() {
		h.mu.Lock()
		h.udpFlows--
		h.mu.Unlock()
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		release()
		return
	}
	gc := gonet.NewUDPConn(&wq, ep)
	if !h.begin() {
		gc.Close()
		release()
		return
	}
	go func() {
		defer h.end()
		defer release()
		if !h.track(gc) {
			return
		}
		defer h.untrack(gc)
		hc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
		if err != nil {
			return
		}
		if !h.track(hc) {
			return
		}
		defer h.untrack(hc)
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, maxDatagram)
			for {
				hc.SetReadDeadline(time.Now().Add(udpFlowIdle))
				n, err := hc.Read(buf)
				if err != nil {
					gc.SetDeadline(time.Unix(1, 0))
					return
				}
				if _, err := gc.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, maxDatagram)
		for {
			gc.SetReadDeadline(time.Now().Add(udpFlowIdle))
			n, err := gc.Read(buf)
			if err != nil {
				break
			}
			if _, err := hc.Write(buf[:n]); err != nil {
				break
			}
		}
		hc.SetDeadline(time.Unix(1, 0))
		<-done
	}()
}

// halfCloser is a stream whose write side can close alone.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// relay copies both ways until both directions end, passing each end of
// stream on as a half-close.
func relay(a, b halfCloser) {
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src halfCloser) {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil {
			// A reset or a closed network: stop both ways.
			a.SetDeadline(time.Unix(1, 0))
			b.SetDeadline(time.Unix(1, 0))
			return
		}
		dst.CloseWrite()
	}
	go pipe(a, b)
	go pipe(b, a)
	wg.Wait()
}

func (h *hostSide) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.firstErr == nil && !h.closed {
		h.firstErr = err
	}
}
