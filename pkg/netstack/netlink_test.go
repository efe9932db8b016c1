package netstack

import (
	"encoding/binary"
	"testing"
)

// FuzzRouteNetlink feeds arbitrary bytes to the NETLINK_ROUTE parser:
// it never panics, and every reply it queues is a whole netlink message
// of at most one datagram's size.
func FuzzRouteNetlink(f *testing.F) {
	req := func(typ, flags uint16, payload []byte) []byte {
		b := make([]byte, 16, 16+len(payload))
		binary.LittleEndian.PutUint32(b, uint32(16+len(payload)))
		binary.LittleEndian.PutUint16(b[4:], typ)
		binary.LittleEndian.PutUint16(b[6:], flags)
		return append(b, payload...)
	}
	ifi := make([]byte, 16)
	f.Add(req(rtmGetLink, nlmFRequest|nlmFDump, []byte{0}))
	f.Add(req(rtmGetAddr, nlmFRequest|nlmFDump, []byte{2}))
	f.Add(req(rtmGetRoute, nlmFRequest|nlmFDump, []byte{10}))
	f.Add(req(rtmGetLink, nlmFRequest|nlmFAck, append(ifi, 8, 0, 3, 0, 'l', 'o', 0, 0)))
	f.Add(req(rtmSetLink, nlmFRequest, append(ifi, 5, 0, 4, 0, 1)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 18, 0, 1, 3})
	n := newNet(f, Config{Seed: 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range n.RouteNetlink(b, 42) {
			if len(d) > nlmsgGoodSize+nlmsgHdrLen+len(b) {
				t.Fatalf("a datagram of %d bytes", len(d))
			}
			for len(d) > 0 {
				if len(d) < nlmsgHdrLen {
					t.Fatalf("a partial header: %x", d)
				}
				size := int(binary.LittleEndian.Uint32(d))
				if size < nlmsgHdrLen || size > len(d) {
					t.Fatalf("a message of %d bytes in %d", size, len(d))
				}
				d = d[nlmsgAlign(size):]
			}
		}
	})
}
