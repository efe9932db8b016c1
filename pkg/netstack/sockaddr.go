package netstack

import (
	"encoding/binary"
	"net/netip"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Sizes of struct sockaddr_in and struct sockaddr_in6.
const (
	SockaddrInLen  = 16
	SockaddrIn6Len = 28
	// sockaddrIn6MinLen is SIN6_LEN_RFC2133: a sockaddr_in6 without
	// sin6_scope_id, which Linux still accepts.
	sockaddrIn6MinLen = 24
)

// ParseSockaddr decodes a struct sockaddr from guest memory, with Linux's
// checks: a buffer shorter than the family's structure is EINVAL, a family
// other than AF_INET, AF_INET6 or AF_UNSPEC is EAFNOSUPPORT. An AF_INET
// address comes back as an IPv4 address (Is4), an AF_INET6 one as an IPv6
// address (Is6, v4-mapped ones included), which is how the Socket methods
// tell the two sockaddr kinds apart. AF_UNSPEC (connect's "dissolve the
// association") returns family AF_UNSPEC and, if the buffer is long enough,
// the sockaddr_in fields (bind treats AF_UNSPEC with INADDR_ANY as AF_INET).
// IPv6 flow labels and scope IDs are ignored.
func ParseSockaddr(b []byte) (family int, addr netip.AddrPort, err linux.Errno) {
	if len(b) < 2 {
		return 0, netip.AddrPort{}, linux.EINVAL
	}
	family = int(binary.LittleEndian.Uint16(b))
	switch family {
	case AF_INET, AF_UNSPEC:
		if len(b) < SockaddrInLen {
			if family == AF_UNSPEC {
				return AF_UNSPEC, netip.AddrPort{}, 0
			}
			return 0, netip.AddrPort{}, linux.EINVAL
		}
		port := binary.BigEndian.Uint16(b[2:])
		return family, netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), 0
	case AF_INET6:
		if len(b) < sockaddrIn6MinLen {
			return 0, netip.AddrPort{}, linux.EINVAL
		}
		port := binary.BigEndian.Uint16(b[2:])
		return family, netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port), 0
	}
	return family, netip.AddrPort{}, linux.EAFNOSUPPORT
}

// MarshalSockaddr encodes addr as the sockaddr a socket of the given family
// reports (getsockname, getpeername, accept, recvfrom): a 16-byte
// sockaddr_in for AF_INET, a 28-byte sockaddr_in6 for AF_INET6, where an
// IPv4 address appears v4-mapped. The kernel copies at most the guest's
// addrlen bytes and reports the full length, as Linux does.
func MarshalSockaddr(family int, addr netip.AddrPort) []byte {
	a := addr.Addr()
	if family == AF_INET {
		b := make([]byte, SockaddrInLen)
		binary.LittleEndian.PutUint16(b, AF_INET)
		binary.BigEndian.PutUint16(b[2:], addr.Port())
		if a.Is4() || a.Is4In6() {
			v := a.Unmap().As4()
			copy(b[4:8], v[:])
		}
		return b
	}
	b := make([]byte, SockaddrIn6Len)
	binary.LittleEndian.PutUint16(b, AF_INET6)
	binary.BigEndian.PutUint16(b[2:], addr.Port())
	if a.IsValid() {
		v := a.As16()
		copy(b[8:24], v[:])
	}
	return b
}
