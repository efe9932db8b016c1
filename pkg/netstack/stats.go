package netstack

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// Interface describes one of the guest's network interfaces, for
// SIOCGIFCONF, SIOCGIFADDR, SIOCGIFFLAGS, SIOCGIFINDEX and friends.
type Interface struct {
	Index  int
	Name   string
	Flags  uint32 // IFF_* bits
	MTU    uint32
	HWAddr net.HardwareAddr // empty for lo
	Addrs  []netip.Prefix   // IPv4 first
}

// Interfaces returns lo and eth0, in index order.
func (n *Network) Interfaces() []Interface {
	return []Interface{
		{
			Index: LoopbackIndex, Name: "lo", Flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING, MTU: loopbackMTU,
			Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
		},
		{
			Index: EthernetIndex, Name: "eth0", Flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST, MTU: ethernetMTU,
			HWAddr: mustMAC(GuestMAC),
			Addrs:  []netip.Prefix{netip.PrefixFrom(guestIPv4, 24), netip.PrefixFrom(guestIPv6, 64)},
		},
	}
}

// InterfaceStats are one interface's counters. Packets and bytes are
// counted where the link hands packets to the wire (TX) and from the wire
// to the stack (RX); bytes are IP packet bytes (there is no link header).
// TxDropped counts packets the wire refused (full, or the network closed),
// TxErrors packets larger than the MTU, RxDropped packets that reached a
// detached interface, RxErrors packets the IP or transport layer rejected
// as malformed.
type InterfaceStats struct {
	Name                                    string
	RxPackets, RxBytes, RxDropped, RxErrors uint64
	TxPackets, TxBytes, TxDropped, TxErrors uint64
}

// Stats returns the counters of lo and eth0, in index order.
func (n *Network) Stats() []InterfaceStats {
	info := n.guest.NICInfo()
	out := make([]InterfaceStats, 0, 2)
	for _, l := range []*link{n.lo, n.eth0} {
		st := InterfaceStats{
			Name:      l.name,
			RxPackets: l.count.rxPackets.Load(), RxBytes: l.count.rxBytes.Load(),
			RxDropped: l.count.rxDropped.Load(), RxErrors: l.count.rxErrors.Load(),
			TxPackets: l.count.txPackets.Load(), TxBytes: l.count.txBytes.Load(),
			TxDropped: l.count.txDropped.Load(), TxErrors: l.count.txErrors.Load(),
		}
		if ni, ok := info[l.nic]; ok {
			st.RxErrors += ni.Stats.MalformedL4RcvdPackets.Value()
			if s, ok := ni.NetworkStats[ipv4.ProtocolNumber].(*ipv4.Stats); ok {
				st.RxErrors += s.IP.MalformedPacketsReceived.Value()
			}
			if s, ok := ni.NetworkStats[ipv6.ProtocolNumber].(*ipv6.Stats); ok {
				st.RxErrors += s.IP.MalformedPacketsReceived.Value()
			}
		}
		out = append(out, st)
	}
	return out
}

// ProcNetDev returns the content of /proc/net/dev.
func (n *Network) ProcNetDev() []byte {
	var b bytes.Buffer
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for _, s := range n.Stats() {
		fmt.Fprintf(&b, "%6s:%8d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			s.Name, s.RxBytes, s.RxPackets, s.RxErrors, s.RxDropped, 0, 0, 0, 0,
			s.TxBytes, s.TxPackets, s.TxErrors, s.TxDropped, 0, 0, 0, 0)
	}
	return b.Bytes()
}

// ProcNetRoute returns the content of /proc/net/route: the IPv4 main
// table (routes through lo live in Linux's local table, which this file
// does not show).
func (n *Network) ProcNetRoute() []byte {
	var b bytes.Buffer
	padLine(&b, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 127)
	const rtfUp, rtfGateway = 0x1, 0x2
	for _, r := range n.guest.GetRouteTable() {
		if r.NIC != EthernetIndex || r.Destination.ID().BitLen() != 32 {
			continue
		}
		flags := rtfUp
		gw := uint32(0)
		if r.Gateway.BitLen() == 32 {
			flags |= rtfGateway
			gw = le32(r.Gateway)
		}
		mask := net.CIDRMask(r.Destination.Prefix(), 32)
		padLine(&b, fmt.Sprintf("eth0\t%08X\t%08X\t%04X\t%d\t%d\t%d\t%08X\t%d\t%d\t%d",
			le32(r.Destination.ID()), gw, flags, 0, 0, 0, le32(tcpip.AddrFromSlice(mask)), 0, 0, 0), 127)
	}
	return b.Bytes()
}

// le32 prints an IPv4 address as Linux's /proc files do: the network-order
// bytes read as a little-endian word.
func le32(a tcpip.Address) uint32 {
	s := a.AsSlice()
	if len(s) != 4 {
		return 0
	}
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// padLine writes s padded with spaces to width columns and a newline, as
// Linux's seq_setwidth and seq_pad lay out these tables.
func padLine(b *bytes.Buffer, s string, width int) {
	b.WriteString(s)
	for i := len(s); i < width; i++ {
		b.WriteByte(' ')
	}
	b.WriteByte('\n')
}

// multicastGroups returns the groups interface it belongs to among those
// Linux joins on its own: all-systems (224.0.0.1) for IPv4; all-nodes
// (ff02::1, ff01::1) and each address's solicited-node group for IPv6.
func (n *Network) multicastGroups(it Interface, v6 bool) []netip.Addr {
	var cand []netip.Addr
	if !v6 {
		cand = []netip.Addr{netip.AddrFrom4([4]byte{224, 0, 0, 1})}
	} else {
		for _, p := range it.Addrs {
			if a := p.Addr(); a.Is6() {
				b := a.As16()
				cand = append(cand, netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]}))
			}
		}
		cand = append(cand, netip.MustParseAddr("ff02::1"), netip.MustParseAddr("ff01::1"))
	}
	var out []netip.Addr
	for _, a := range cand {
		if in, err := n.guest.IsInGroup(tcpip.NICID(it.Index), addrOf(a)); err == nil && in {
			out = append(out, a)
		}
	}
	return out
}

// ProcNetIGMP returns /proc/net/igmp: each interface's IPv4 multicast
// groups (the address as the kernel's network-order word prints in hex).
func (n *Network) ProcNetIGMP() []byte {
	var b bytes.Buffer
	b.WriteString("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n")
	for _, it := range n.Interfaces() {
		gs := n.multicastGroups(it, false)
		fmt.Fprintf(&b, "%d\t%-10s: %5d %7s\n", it.Index, it.Name, len(gs), "V3")
		for _, g := range gs {
			fmt.Fprintf(&b, "\t\t\t\t%08X %5d %d:%08X\t\t%d\n", le32(addrOf(g)), 1, 0, 0, 0)
		}
	}
	return b.Bytes()
}

// ProcNetIGMP6 returns /proc/net/igmp6: each interface's IPv6 multicast
// groups.
func (n *Network) ProcNetIGMP6() []byte {
	var b bytes.Buffer
	for _, it := range n.Interfaces() {
		for _, g := range n.multicastGroups(it, true) {
			a := g.As16()
			fmt.Fprintf(&b, "%-4d %-15s %x %5d %08X %d\n", it.Index, it.Name, a[:], 1, 4, 0)
		}
	}
	return b.Bytes()
}
