package netstack

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// maxWireBytes bounds the bytes waiting on the wire; frames beyond it are
// dropped (and counted), as a full device queue drops them.
const maxWireBytes = 64 << 20

// frame is one IP packet in flight towards a link.
type frame struct {
	to    *link
	rx    *counters // the receive counters to charge
	proto tcpip.NetworkProtocolNumber
	data  buffer.Buffer
}

// wire is the machine's single packet FIFO. Every link transmits into it and
// Network.Settle delivers its frames one at a time, in transmission order, so
// the order in which the stacks see packets depends only on what was sent.
type wire struct {
	mu       sync.Mutex
	q        []frame
	head     int
	bytes    int64
	closed   bool
	settling bool // a call holds the network and will settle new frames
	wake     chan struct{}
	tap      func(f frame) // tests: sees every frame as it is delivered
}

func newWire() *wire {
	return &wire{wake: make(chan struct{}, 1)}
}

// push queues f, or reports false if the wire is closed or full.
func (w *wire) push(f frame) bool {
	size := f.data.Size()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.bytes+size > maxWireBytes {
		return false
	}
	w.q = append(w.q, f)
	w.bytes += size
	if !w.settling {
		w.signalLocked()
	}
	return true
}

// pop removes the oldest frame.
func (w *wire) pop() (frame, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.head == len(w.q) {
		return frame{}, false
	}
	f := w.q[w.head]
	w.q[w.head] = frame{}
	w.head++
	if w.head == len(w.q) {
		w.q, w.head = w.q[:0], 0
	} else if w.head > 1024 && w.head*2 > len(w.q) {
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:])
		w.q, w.head = w.q[:n], 0
	}
	w.bytes -= f.data.Size()
	return f, true
}

// setSettling marks the start or end of a call that settles the network.
// At the end, frames that arrived too late for it raise the wake signal.
func (w *wire) setSettling(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.settling = on
	if !on && w.head < len(w.q) {
		w.signalLocked()
	}
}

func (w *wire) signalLocked() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close drops every queued frame and refuses new ones.
func (w *wire) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for i := w.head; i < len(w.q); i++ {
		w.q[i].data.Release()
	}
	w.q, w.head, w.bytes = nil, 0, 0
}

// counters are one interface's packet counters, updated where packets move.
type counters struct {
	rxPackets, rxBytes, rxDropped, rxErrors atomic.Uint64
	txPackets, txBytes, txDropped, txErrors atomic.Uint64
}

// link is a point-to-point IP link endpoint (no link-layer header and no
// address resolution) that transmits into the machine's wire. A loopback
// link is its own peer.
type link struct {
	w        *wire
	name     string
	mtu      uint32
	loopback bool
	hwaddr   tcpip.LinkAddress
	peer     *link
	owner    *stack.Stack // the stack the link is attached to
	nic      tcpip.NICID
	count    counters

	// Packets to one of own go straight back up this link, charged to
	// hairpin's counters: the guest's traffic to its own eth0 address,
	// which Linux routes through lo (and counts there).
	own     []tcpip.Address
	hairpin *counters

	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher
}

var _ stack.LinkEndpoint = (*link)(nil)

// WritePackets implements stack.LinkWriter: each packet is counted and
// queued on the wire towards the peer.
func (l *link) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	for _, pkt := range pkts.AsSlice() {
		size := pkt.Size()
		f := frame{to: l.peer, rx: &l.peer.count, proto: pkt.NetworkProtocolNumber}
		tx := &l.count
		if l.isOwn(pkt) {
			f.to, f.rx, tx = l, l.hairpin, l.hairpin
		}
		if uint32(size) > l.mtu {
			tx.txErrors.Add(1)
			continue
		}
		f.data = pkt.ToBuffer()
		if !l.w.push(f) {
			f.data.Release()
			tx.txDropped.Add(1)
			continue
		}
		tx.txPackets.Add(1)
		tx.txBytes.Add(uint64(size))
		n++
	}
	return n, nil
}

// isOwn reports whether pkt is addressed to one of the link's own
// addresses.
func (l *link) isOwn(pkt *stack.PacketBuffer) bool {
	if len(l.own) == 0 {
		return false
	}
	if len(pkt.NetworkHeader().Slice()) == 0 {
		return false // no network header to read an address from
	}
	dst := pkt.Network().DestinationAddress()
	for _, a := range l.own {
		if a == dst {
			return true
		}
	}
	return false
}

// deliver hands a frame from the wire to the stack above l.
func (l *link) deliver(f frame) {
	if l.w.tap != nil {
		l.w.tap(f)
	}
	size := f.data.Size()
	l.mu.RLock()
	d := l.dispatcher
	l.mu.RUnlock()
	if d == nil {
		f.data.Release()
		f.rx.rxDropped.Add(1)
		return
	}
	f.rx.rxPackets.Add(1)
	f.rx.rxBytes.Add(uint64(size))
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: f.data})
	d.DeliverNetworkPacket(f.proto, pkt)
	pkt.DecRef()
}

// Attach implements stack.NetworkLinkEndpoint.
func (l *link) Attach(d stack.NetworkDispatcher) {
	l.mu.Lock()
	l.dispatcher = d
	l.mu.Unlock()
}

// IsAttached implements stack.NetworkLinkEndpoint.
func (l *link) IsAttached() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.dispatcher != nil
}

// MTU implements stack.NetworkLinkEndpoint.
func (l *link) MTU() uint32 { return l.mtu }

// SetMTU implements stack.NetworkLinkEndpoint; the MTU is fixed.
func (l *link) SetMTU(uint32) {}

// MaxHeaderLength implements stack.NetworkLinkEndpoint: no link header.
func (l *link) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.NetworkLinkEndpoint.
func (l *link) LinkAddress() tcpip.LinkAddress { return l.hwaddr }

// SetLinkAddress implements stack.NetworkLinkEndpoint; the address is fixed.
func (l *link) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.NetworkLinkEndpoint. Checksums are skipped
// on this virtual wire, which never corrupts a frame.
func (l *link) Capabilities() stack.LinkEndpointCapabilities {
	c := stack.CapabilityRXChecksumOffload | stack.CapabilityTXChecksumOffload
	if l.loopback {
		c |= stack.CapabilityLoopback
	}
	return c
}

// Wait implements stack.NetworkLinkEndpoint: the link has no goroutines.
func (l *link) Wait() {}

// ARPHardwareType implements stack.NetworkLinkEndpoint.
func (l *link) ARPHardwareType() header.ARPHardwareType {
	if l.loopback {
		return header.ARPHardwareLoopback
	}
	return header.ARPHardwareEther
}

// AddHeader implements stack.NetworkLinkEndpoint: no link header.
func (l *link) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.NetworkLinkEndpoint: no link header.
func (l *link) ParseHeader(*stack.PacketBuffer) bool { return true }

// Close implements stack.NetworkLinkEndpoint.
func (l *link) Close() {}

// SetOnCloseAction implements stack.NetworkLinkEndpoint.
func (l *link) SetOnCloseAction(func()) {}
