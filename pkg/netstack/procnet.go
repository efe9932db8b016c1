package netstack

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Linux TCP states for /proc/net/tcp (gVisor numbers its protocol states
// the same way; its internal states map to CLOSE or SYN_SENT).
const (
	tcpEstablished = 1
	tcpSynSent     = 2
	tcpClose       = 7
)

// endpointRow is one line of /proc/net/{tcp,udp}{,6}.
type endpointRow struct {
	local, remote netip.AddrPort
	state         int
	rxq           int
	uid           uint32
	inode         uint64
}

// rows lists the guest's registered endpoints of one protocol and family,
// sorted by local then remote address. Endpoints without a Socket
// (connections waiting in an accept queue, TIME_WAIT after close) show
// inode 0, as on Linux.
func (n *Network) rows(proto tcpip.TransportProtocolNumber, family int) []endpointRow {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	seen := make(map[tcpip.Endpoint]bool)
	var out []endpointRow
	for _, te := range n.guest.RegisteredEndpoints() {
		ep, ok := te.(tcpip.Endpoint)
		if !ok || seen[ep] {
			continue
		}
		seen[ep] = true
		info, ok := ep.Info().(*stack.TransportEndpointInfo)
		if !ok || info.TransProto != proto {
			continue
		}
		s := n.sockets[ep]
		fam := AF_INET6
		if info.NetProto == ipv4.ProtocolNumber {
			fam = AF_INET
		}
		if s != nil {
			fam = s.family
		}
		if fam != family {
			continue
		}
		r := endpointRow{
			local:  rowAddr(family, info.ID.LocalAddress, info.ID.LocalPort),
			remote: rowAddr(family, info.ID.RemoteAddress, info.ID.RemotePort),
		}
		if proto == tcp.ProtocolNumber {
			r.state = linuxTCPState(tcp.EndpointState(ep.State()))
		} else if transport.DatagramEndpointState(ep.State()) == transport.DatagramEndpointStateConnected {
			r.state = tcpEstablished
		} else {
			r.state = tcpClose
		}
		if v, err := ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); err == nil {
			r.rxq = v
		}
		if s != nil {
			r.uid, r.inode = s.uid, s.inode
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b endpointRow) int {
		return cmp.Or(a.local.Compare(b.local), a.remote.Compare(b.remote), cmp.Compare(a.inode, b.inode))
	})
	return out
}

func linuxTCPState(s tcp.EndpointState) int {
	switch s {
	case tcp.StateInitial, tcp.StateBound, tcp.StateError:
		return tcpClose
	case tcp.StateConnecting:
		return tcpSynSent
	}
	return int(s)
}

func rowAddr(family int, a tcpip.Address, port uint16) netip.AddrPort {
	ip, ok := netip.AddrFromSlice(a.AsSlice())
	if !ok {
		ip = netip.IPv4Unspecified()
		if family == AF_INET6 {
			ip = netip.IPv6Unspecified()
		}
	}
	if family == AF_INET6 {
		ip = netip.AddrFrom16(ip.As16())
	} else {
		ip = ip.Unmap()
	}
	return netip.AddrPortFrom(ip, port)
}

// procAddr formats an address as /proc/net tables do: each 32-bit word of
// the network-order address printed as a little-endian hex number.
func procAddr(ap netip.AddrPort) string {
	b := ap.Addr().AsSlice()
	s := ""
	for i := 0; i+4 <= len(b); i += 4 {
		s += fmt.Sprintf("%08X", uint32(b[i])|uint32(b[i+1])<<8|uint32(b[i+2])<<16|uint32(b[i+3])<<24)
	}
	return fmt.Sprintf("%s:%04X", s, ap.Port())
}

// ProcNetTCP returns the content of /proc/net/tcp (family AF_INET) or
// /proc/net/tcp6 (AF_INET6). The tx_queue, timer, retransmit and congestion
// columns are zero: gVisor does not expose them per endpoint.
func (n *Network) ProcNetTCP(family int) []byte {
	var b bytes.Buffer
	v6 := family == AF_INET6
	if v6 {
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	} else {
		padLine(&b, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 149)
	}
	for i, r := range n.rows(tcp.ProtocolNumber, family) {
		line := fmt.Sprintf("%4d: %s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d",
			i, procAddr(r.local), procAddr(r.remote), r.state, 0, r.rxq, 0, 0, 0, r.uid, 0, r.inode, 1, 0, 0, 0, 0, 0, -1)
		if v6 {
			b.WriteString(line + "\n")
		} else {
			padLine(&b, line, 149)
		}
	}
	return b.Bytes()
}

// ProcNetUDP returns the content of /proc/net/udp (family AF_INET) or
// /proc/net/udp6 (AF_INET6); tx_queue is zero, as for TCP.
func (n *Network) ProcNetUDP(family int) []byte {
	var b bytes.Buffer
	v6 := family == AF_INET6
	if v6 {
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n")
	} else {
		padLine(&b, "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127)
	}
	for i, r := range n.rows(udp.ProtocolNumber, family) {
		line := fmt.Sprintf("%5d: %s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d",
			i, procAddr(r.local), procAddr(r.remote), r.state, 0, r.rxq, 0, 0, 0, r.uid, 0, r.inode, 2, 0, 0)
		if v6 {
			b.WriteString(line + "\n")
		} else {
			padLine(&b, line, 127)
		}
	}
	return b.Bytes()
}
