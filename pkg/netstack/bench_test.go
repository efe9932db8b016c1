package netstack

import (
	"net/netip"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// BenchmarkLoopbackTCP measures bulk transfer through lo: each iteration
// writes 256 KiB and reads it back out at the other end.
func BenchmarkLoopbackTCP(b *testing.B) {
	for _, addr := range []string{"127.0.0.1:80", "10.0.2.15:80"} {
		b.Run(addr, func(b *testing.B) {
			n := newNet(b, Config{Seed: 1})
			l := listenTCP(b, n, addr)
			c := connectTCP(b, n, addr)
			s, _ := accept(b, l)
			chunk := pattern(256<<10, 1)
			buf := make([]byte, 256<<10)
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			for range b.N {
				data := chunk
				got := 0
				for got < len(chunk) {
					if len(data) > 0 {
						k, e := c.Send(data, netip.AddrPort{}, 0)
						if e != 0 && e != linux.EAGAIN {
							b.Fatal(e)
						}
						data = data[k:]
					}
					r, e := s.Recv(buf, 0)
					if e != 0 && e != linux.EAGAIN {
						b.Fatal(e)
					}
					got += r.N
				}
			}
		})
	}
}

// BenchmarkLoopbackConnect measures connection set-up and tear-down
// through lo: connect, accept, close both ends.
func BenchmarkLoopbackConnect(b *testing.B) {
	n := newNet(b, Config{Seed: 1})
	l := listenTCP(b, n, "127.0.0.1:80")
	requireOK(b, l.SetSockOptInt(SOL_SOCKET, SO_REUSEADDR, 1))
	dst := netip.MustParseAddrPort("127.0.0.1:80")
	b.ResetTimer()
	for range b.N {
		c, e := n.Socket(AF_INET, SOCK_STREAM, 0)
		if e != 0 {
			b.Fatal(e)
		}
		if e := c.Connect(dst); e != linux.EINPROGRESS {
			b.Fatal(e)
		}
		s, _, e := l.Accept()
		if e != 0 {
			b.Fatal(e)
		}
		c.Close()
		s.Close()
		if i, ok := n.NextDeadline(); ok && n.Elapsed() < i {
			// Let TIME_WAIT run out now and then so ports do not run out.
			n.Advance(i)
		}
	}
}

// BenchmarkUDPRoundTrip measures a datagram and its reply through lo.
func BenchmarkUDPRoundTrip(b *testing.B) {
	n := newNet(b, Config{Seed: 1})
	srv := newSocket(b, n, AF_INET, SOCK_DGRAM)
	requireOK(b, srv.Bind(netip.MustParseAddrPort("127.0.0.1:53")))
	cli := newSocket(b, n, AF_INET, SOCK_DGRAM)
	requireOK(b, cli.Connect(netip.MustParseAddrPort("127.0.0.1:53")))
	msg := pattern(512, 1)
	buf := make([]byte, 1024)
	b.ResetTimer()
	for range b.N {
		if _, e := cli.Send(msg, netip.AddrPort{}, 0); e != 0 {
			b.Fatal(e)
		}
		r, e := srv.Recv(buf, 0)
		if e != 0 {
			b.Fatal(e)
		}
		if _, e := srv.Send(buf[:r.N], r.From, 0); e != 0 {
			b.Fatal(e)
		}
		if _, e := cli.Recv(buf, 0); e != 0 {
			b.Fatal(e)
		}
	}
}
