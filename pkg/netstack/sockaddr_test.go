package netstack

import (
	"net/netip"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

func TestSockaddr(t *testing.T) {
	in := []byte{2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	fam, ap, e := ParseSockaddr(in)
	requireOK(t, e)
	require.Equal(t, AF_INET, fam)
	require.Equal(t, "127.0.0.1:8080", ap.String())
	require.True(t, ap.Addr().Is4())
	require.Equal(t, in, MarshalSockaddr(AF_INET, ap))

	in6 := make([]byte, SockaddrIn6Len)
	in6[0], in6[2], in6[3], in6[23] = AF_INET6, 0, 80, 1
	fam, ap, e = ParseSockaddr(in6)
	requireOK(t, e)
	require.Equal(t, AF_INET6, fam)
	require.Equal(t, "[::1]:80", ap.String())
	require.Equal(t, in6, MarshalSockaddr(AF_INET6, ap))
	_, ap, e = ParseSockaddr(in6[:24])
	requireOK(t, e, "sockaddr_in6 without sin6_scope_id")
	require.Equal(t, "[::1]:80", ap.String())

	// An AF_INET6 socket reports IPv4 peers v4-mapped.
	mapped := MarshalSockaddr(AF_INET6, netip.MustParseAddrPort("10.0.2.2:53"))
	_, ap, e = ParseSockaddr(mapped)
	requireOK(t, e)
	require.Equal(t, "[::ffff:10.0.2.2]:53", ap.String())
	require.Equal(t, in[:8], MarshalSockaddr(AF_INET, netip.MustParseAddrPort("[::ffff:127.0.0.1]:8080"))[:8])

	fam, _, e = ParseSockaddr([]byte{0, 0})
	requireOK(t, e)
	require.Equal(t, AF_UNSPEC, fam)

	for _, bad := range []struct {
		b    []byte
		want linux.Errno
	}{
		{nil, linux.EINVAL},
		{[]byte{2}, linux.EINVAL},
		{in[:15], linux.EINVAL},
		{in6[:23], linux.EINVAL},
		{[]byte{1, 0, '/', 't', 'm', 'p'}, linux.EAFNOSUPPORT},
		{[]byte{17, 0, 0, 0}, linux.EAFNOSUPPORT},
	} {
		_, _, e := ParseSockaddr(bad.b)
		requireErrno(t, bad.want, e, "%v", bad.b)
	}
}

// FuzzParseSockaddr feeds arbitrary guest bytes to the sockaddr decoder and
// the socket calls that take its result.
func FuzzParseSockaddr(f *testing.F) {
	f.Add([]byte{2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(0))
	f.Add(make([]byte, 28), uint8(3))
	n, err := New(Config{Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	f.Fuzz(func(t *testing.T, b []byte, op uint8) {
		fam, ap, e := ParseSockaddr(b)
		if e != 0 {
			return
		}
		if fam == AF_UNSPEC {
			return
		}
		out := MarshalSockaddr(fam, ap)
		_, back, e := ParseSockaddr(out)
		if e != 0 || back != ap {
			t.Fatalf("round trip %v -> %v (%v)", ap, back, e)
		}
		family := []int{AF_INET, AF_INET6}[op&1]
		typ := []int{SOCK_STREAM, SOCK_DGRAM}[op>>1&1]
		s, e := n.Socket(family, typ, 0)
		if e != 0 {
			t.Fatal(e)
		}
		defer s.Close()
		switch op >> 2 & 3 {
		case 0:
			s.Bind(ap)
		case 1:
			s.Connect(ap)
		case 2:
			s.Send(b, ap, 0)
		case 3:
			s.SetSockOpt(int(op), int(len(b)), b)
			s.GetSockOpt(int(op), int(len(b)), len(b))
		}
	})
}
