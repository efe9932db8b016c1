package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// NETLINK_ROUTE: the requests programs make to learn the machine's
// interfaces, addresses and routes (glibc's getifaddrs and if_nameindex,
// Go's net.Interfaces, iproute2's `ip link/addr/route`), answered from
// Interfaces and the guest's routes as rtnetlink(7) lays them out. The
// configuration is fixed: requests that would change it get EPERM, other
// message types EOPNOTSUPP.

// Netlink message types and flags (netlink(7), rtnetlink(7)).
const (
	nlmsgError = 0x2
	nlmsgDone  = 0x3
	nlmsgMin   = 0x10 // NLMSG_MIN_TYPE

	rtmNewLink  = 16
	rtmGetLink  = 18
	rtmSetLink  = 19
	rtmNewAddr  = 20
	rtmGetAddr  = 22
	rtmNewRoute = 24
	rtmGetRoute = 26

	nlmFRequest = 0x1
	nlmFMulti   = 0x2
	nlmFAck     = 0x4
	nlmFDump    = 0x300 // NLM_F_ROOT | NLM_F_MATCH

	nlmsgHdrLen = 16
	// nlmsgGoodSize is NLMSG_GOODSIZE on 4 KiB pages: the most a dump puts
	// in one datagram (Go's net package reads them into a page).
	nlmsgGoodSize = 3776
)

// TxQueueLen is every interface's transmit queue length (txqueuelen).
const TxQueueLen = 1000

// Attribute types and values.
const (
	iflaAddress   = 1
	iflaBroadcast = 2
	iflaIfname    = 3
	iflaMTU       = 4
	iflaTxqlen    = 13
	iflaOperstate = 16
	iflaLinkmode  = 17

	ifaAddress   = 1
	ifaLocal     = 2
	ifaLabel     = 3
	ifaBroadcast = 4
	ifaCacheinfo = 6
	ifaFlags     = 8

	rtaDst      = 1
	rtaOIF      = 4
	rtaGateway  = 5
	rtaPriority = 6
	rtaPrefsrc  = 7
	rtaTable    = 15

	arphrdEther    = 1
	arphrdLoopback = 772
	iffLowerUp     = 0x10000
	iffNoarp       = 0x80
	iffPromisc     = 0x100
	iffAllmulti    = 0x200
	operUnknown    = 0
	operUp         = 6
	ifaFPermanent  = 0x80

	rtScopeUniverse = 0
	rtScopeLink     = 253
	rtScopeHost     = 254
	rtTableMain     = 254
	rtTableLocal    = 255
	rtprotKernel    = 2
	rtprotBoot      = 3
	rtnUnicast      = 1
	rtnLocal        = 2
	rtnBroadcast    = 3
)

// RouteNetlink answers the NETLINK_ROUTE messages in req, sent from port
// id port, with the datagrams the kernel would queue in reply.
func (n *Network) RouteNetlink(req []byte, port uint32) [][]byte {
	var out [][]byte
	for len(req) >= nlmsgHdrLen {
		size := int(binary.LittleEndian.Uint32(req))
		if size < nlmsgHdrLen || size > len(req) {
			break
		}
		msg := req[:size]
		if a := nlmsgAlign(size); a < len(req) {
			req = req[a:]
		} else {
			req = nil
		}
		typ := binary.LittleEndian.Uint16(msg[4:])
		flags := binary.LittleEndian.Uint16(msg[6:])
		h := nlHeader{seq: binary.LittleEndian.Uint32(msg[8:]), port: port}
		var err linux.Errno
		if flags&nlmFRequest != 0 && typ >= nlmsgMin {
			var replies [][]byte
			replies, err = n.rtnetlink(typ, flags, msg[nlmsgHdrLen:], h)
			out = append(out, replies...)
		}
		if err != 0 || flags&nlmFAck != 0 {
			out = append(out, h.ack(msg, err))
		}
	}
	return out
}

// rtnetlink answers one request of type typ with payload p.
func (n *Network) rtnetlink(typ, flags uint16, p []byte, h nlHeader) ([][]byte, linux.Errno) {
	family := uint8(0)
	if len(p) > 0 {
		family = p[0]
	}
	var msgs [][]byte
	switch typ {
	case rtmGetLink:
		for _, it := range n.Interfaces() {
			msgs = append(msgs, h.link(it))
		}
		if flags&nlmFDump == 0 {
			return n.getLink(msgs, p)
		}
	case rtmGetAddr:
		if flags&nlmFDump == 0 {
			return nil, linux.EOPNOTSUPP
		}
		for _, v4 := range []bool{true, false} {
			if family == linux.AF_INET && !v4 || family == linux.AF_INET6 && v4 {
				continue
			}
			for _, it := range n.Interfaces() {
				for _, a := range it.Addrs {
					if a.Addr().Is4() == v4 {
						msgs = append(msgs, h.addr(it, a))
					}
				}
			}
		}
	case rtmGetRoute:
		if flags&nlmFDump == 0 {
			return nil, linux.EOPNOTSUPP
		}
		for _, r := range guestRoutes() {
			if family == 0 || r.dst.Addr().Is4() == (family == linux.AF_INET) {
				msgs = append(msgs, h.route(r))
			}
		}
	case rtmNewLink, rtmSetLink:
		return nil, n.setLink(p)
	default:
		if typ < 100 && typ&3 != 2 { // RTM_NEW*, RTM_DEL*, RTM_SET*
			return nil, linux.EPERM
		}
		return nil, linux.EOPNOTSUPP
	}
	return h.dump(msgs), 0
}

// getLink answers RTM_GETLINK for one interface, named by ifi_index or
// IFLA_IFNAME.
func (n *Network) getLink(msgs [][]byte, p []byte) ([][]byte, linux.Errno) {
	i, err := n.findLink(p)
	if err != 0 {
		return nil, err
	}
	m := msgs[i]
	binary.LittleEndian.PutUint16(m[6:], 0) // a single answer, not NLM_F_MULTI
	return [][]byte{m}, 0
}

// setLink answers RTM_NEWLINK and RTM_SETLINK on an existing interface:
// a request that changes nothing succeeds (`ip link set lo up`), any
// change is refused.
func (n *Network) setLink(p []byte) linux.Errno {
	i, err := n.findLink(p)
	if err != 0 {
		return err
	}
	flags := binary.LittleEndian.Uint32(p[8:])
	change := binary.LittleEndian.Uint32(p[12:])
	if change == 0 && flags != 0 {
		change = ^uint32(0)
	}
	if err := n.SetFlags(n.Interfaces()[i].Index, flags, change); err != 0 {
		return err
	}
	for _, a := range attrs(p[16:]) {
		if a.typ != iflaIfname {
			return linux.EPERM
		}
	}
	return 0
}

// SetFlags sets the IFF_* flags of interface index that change masks
// (SIOCSIFFLAGS, RTM_SETLINK): setting them to what they are succeeds,
// any change is refused (EPERM), as the configuration is fixed.
func (n *Network) SetFlags(index int, flags, change uint32) linux.Errno {
	const settable = IFF_UP | IFF_BROADCAST | IFF_MULTICAST | iffNoarp | iffPromisc | iffAllmulti
	for _, it := range n.Interfaces() {
		if it.Index == index {
			if change &= settable; flags&change != it.Flags&change {
				return linux.EPERM
			}
			return 0
		}
	}
	return linux.ENODEV
}

// findLink returns the index in Interfaces of the interface an
// ifinfomsg names, by ifi_index or else by IFLA_IFNAME.
func (n *Network) findLink(p []byte) (int, linux.Errno) {
	if len(p) < 16 {
		return 0, linux.EINVAL
	}
	index := int32(binary.LittleEndian.Uint32(p[4:]))
	name := ""
	for _, a := range attrs(p[16:]) {
		if a.typ == iflaIfname {
			name = cstring(a.val)
		}
	}
	for i, it := range n.Interfaces() {
		if index > 0 && int(index) == it.Index || index <= 0 && name != "" && name == it.Name {
			return i, 0
		}
	}
	return 0, linux.ENODEV
}

// rtattr is one attribute of a request.
type rtattr struct {
	typ uint16
	val []byte
}

// attrs splits a request's attributes (up to the first malformed one).
func attrs(b []byte) []rtattr {
	var out []rtattr
	for len(b) >= 4 {
		l := int(binary.LittleEndian.Uint16(b))
		if l < 4 || l > len(b) {
			break
		}
		out = append(out, rtattr{binary.LittleEndian.Uint16(b[2:]) &^ 0xc000, b[4:l]})
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return out
}

// nlHeader is what every reply to one request shares.
type nlHeader struct{ seq, port uint32 }

// msg returns a message of type typ with the fixed header hdr and room
// for attributes.
func (h nlHeader) msg(typ, flags uint16, hdr []byte) []byte {
	b := make([]byte, nlmsgHdrLen, 128)
	binary.LittleEndian.PutUint16(b[4:], typ)
	binary.LittleEndian.PutUint16(b[6:], flags)
	binary.LittleEndian.PutUint32(b[8:], h.seq)
	binary.LittleEndian.PutUint32(b[12:], h.port)
	b = append(b, hdr...)
	return pad(b)
}

// done sets the message's length and pads it to a 4-byte boundary (the
// next message of a datagram starts there).
func done(b []byte) []byte {
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return pad(b)
}

// attr appends an attribute.
func attr(b []byte, typ uint16, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.LittleEndian.AppendUint16(b, typ)
	return pad(append(b, v...))
}

func attr32(b []byte, typ uint16, v uint32) []byte {
	return attr(b, typ, binary.LittleEndian.AppendUint32(nil, v))
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// ack is NLMSG_ERROR for request req: the header alone for an
// acknowledgement, the whole request with an error.
func (h nlHeader) ack(req []byte, err linux.Errno) []byte {
	echo := req
	if err == 0 {
		echo = req[:nlmsgHdrLen]
	}
	b := h.msg(nlmsgError, 0, binary.LittleEndian.AppendUint32(nil, uint32(-int32(err))))
	return done(append(b, echo...))
}

// dump packs a dump's messages and its NLMSG_DONE into datagrams of at
// most nlmsgGoodSize bytes.
func (h nlHeader) dump(msgs [][]byte) [][]byte {
	msgs = append(msgs, done(h.msg(nlmsgDone, nlmFMulti, make([]byte, 4))))
	var out [][]byte
	var cur []byte
	for _, m := range msgs {
		if len(cur) > 0 && len(cur)+len(m) > nlmsgGoodSize {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, m...)
	}
	return append(out, cur)
}

// link is RTM_NEWLINK for interface it.
func (h nlHeader) link(it Interface) []byte {
	typ, oper := uint16(arphrdEther), byte(operUp)
	hw, bcast := []byte(it.HWAddr), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if it.Flags&IFF_LOOPBACK != 0 {
		typ, oper = arphrdLoopback, operUnknown
		hw, bcast = make([]byte, 6), make([]byte, 6)
	}
	var ifi [16]byte
	binary.LittleEndian.PutUint16(ifi[2:], typ)
	binary.LittleEndian.PutUint32(ifi[4:], uint32(it.Index))
	binary.LittleEndian.PutUint32(ifi[8:], it.Flags|iffLowerUp)
	b := h.msg(rtmNewLink, nlmFMulti, ifi[:])
	b = attr(b, iflaIfname, append([]byte(it.Name), 0))
	b = attr32(b, iflaTxqlen, TxQueueLen)
	b = attr(b, iflaOperstate, []byte{oper})
	b = attr(b, iflaLinkmode, []byte{0})
	b = attr32(b, iflaMTU, it.MTU)
	b = attr(b, iflaAddress, hw)
	b = attr(b, iflaBroadcast, bcast)
	return done(b)
}

// addr is RTM_NEWADDR for address a of interface it.
func (h nlHeader) addr(it Interface, a netip.Prefix) []byte {
	family, scope := byte(linux.AF_INET), byte(rtScopeUniverse)
	if a.Addr().Is6() {
		family = linux.AF_INET6
	}
	if it.Flags&IFF_LOOPBACK != 0 {
		scope = rtScopeHost
	}
	ifa := []byte{family, byte(a.Bits()), ifaFPermanent, scope, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(ifa[4:], uint32(it.Index))
	b := h.msg(rtmNewAddr, nlmFMulti, ifa)
	ip := a.Addr().AsSlice()
	b = attr(b, ifaAddress, ip)
	if a.Addr().Is4() {
		b = attr(b, ifaLocal, ip)
		if it.Flags&IFF_BROADCAST != 0 {
			b = attr(b, ifaBroadcast, Broadcast(a).AsSlice())
		}
		b = attr(b, ifaLabel, append([]byte(it.Name), 0))
	}
	b = attr32(b, ifaFlags, ifaFPermanent)
	forever := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, ^uint32(0)), ^uint32(0))
	b = attr(b, ifaCacheinfo, append(forever, make([]byte, 8)...))
	return done(b)
}

// route is one route of the guest's routing tables.
type route struct {
	dst      netip.Prefix
	gw, src  netip.Addr
	oif      int
	table    byte
	typ      byte
	proto    byte
	scope    byte
	priority uint32
}

// guestRoutes is the guest's routing tables, main then local, as a Linux
// guest configured by DHCP (IPv4) and router advertisements (IPv6) has
// them.
func guestRoutes() []route {
	lo4 := netip.MustParseAddr("127.0.0.1")
	main := func(r route) route {
		r.table, r.typ = rtTableMain, rtnUnicast
		return r
	}
	local := func(typ byte, dst netip.Prefix, src netip.Addr, oif int) route {
		scope := byte(rtScopeHost)
		if typ == rtnBroadcast {
			scope = rtScopeLink
		}
		return route{dst: dst, src: src, oif: oif, table: rtTableLocal, typ: typ, proto: rtprotKernel, scope: scope}
	}
	return []route{
		main(route{dst: netip.MustParsePrefix("0.0.0.0/0"), gw: gatewayIPv4, oif: EthernetIndex, proto: rtprotBoot}),
		main(route{dst: subnetIPv4, src: guestIPv4, oif: EthernetIndex, proto: rtprotKernel, scope: rtScopeLink}),
		local(rtnLocal, netip.MustParsePrefix("127.0.0.0/8"), lo4, LoopbackIndex),
		local(rtnLocal, netip.PrefixFrom(lo4, 32), lo4, LoopbackIndex),
		local(rtnBroadcast, netip.PrefixFrom(Broadcast(netip.PrefixFrom(lo4, 8)), 32), lo4, LoopbackIndex),
		local(rtnLocal, netip.PrefixFrom(guestIPv4, 32), guestIPv4, EthernetIndex),
		local(rtnBroadcast, netip.PrefixFrom(Broadcast(subnetIPv4), 32), guestIPv4, EthernetIndex),
		main(route{dst: netip.MustParsePrefix("::1/128"), oif: LoopbackIndex, proto: rtprotKernel, priority: 256}),
		main(route{dst: subnetIPv6, oif: EthernetIndex, proto: rtprotKernel, priority: 256}),
		main(route{dst: netip.MustParsePrefix("::/0"), gw: gatewayIPv6, oif: EthernetIndex, proto: rtprotBoot, priority: 1024}),
	}
}

// route is RTM_NEWROUTE for r.
func (h nlHeader) route(r route) []byte {
	family := byte(linux.AF_INET)
	if r.dst.Addr().Is6() {
		family = linux.AF_INET6
	}
	rtm := []byte{family, byte(r.dst.Bits()), 0, 0, r.table, r.proto, r.scope, r.typ, 0, 0, 0, 0}
	b := h.msg(rtmNewRoute, nlmFMulti, rtm)
	b = attr32(b, rtaTable, uint32(r.table))
	if r.dst.Bits() > 0 {
		b = attr(b, rtaDst, r.dst.Addr().AsSlice())
	}
	if r.priority != 0 {
		b = attr32(b, rtaPriority, r.priority)
	}
	if r.src.IsValid() {
		b = attr(b, rtaPrefsrc, r.src.AsSlice())
	}
	if r.gw.IsValid() {
		b = attr(b, rtaGateway, r.gw.AsSlice())
	}
	b = attr32(b, rtaOIF, uint32(r.oif))
	return done(b)
}

// Broadcast is the broadcast address of an IPv4 prefix.
func Broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}
