package netstack_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/sis-kernel/sissim/pkg/netstack"
)

// A server and a client inside one machine, driven as the kernel drives
// them: non-blocking calls, readiness, and machine time.
func Example() {
	n, err := netstack.New(netstack.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	defer n.Close()

	l, _ := n.Socket(netstack.AF_INET, netstack.SOCK_STREAM, 0)
	l.Bind(netip.MustParseAddrPort("0.0.0.0:8080"))
	l.Listen(128)

	c, _ := n.Socket(netstack.AF_INET, netstack.SOCK_STREAM, 0)
	dst := netip.MustParseAddrPort("10.0.2.15:8080")
	fmt.Println("connect:", c.Connect(dst).Name())
	// A blocking connect waits for EventOut, then asks again.
	fmt.Println("writable:", c.Readiness(netstack.EventOut) != 0)
	fmt.Println("connect again:", c.Connect(dst))

	s, peer, _ := l.Accept()
	fmt.Println("peer:", peer.Addr())
	c.Send([]byte("hello"), netip.AddrPort{}, 0)
	buf := make([]byte, 16)
	r, _ := s.Recv(buf, 0)
	fmt.Printf("server got %q\n", buf[:r.N])

	c.Close()
	s.Close()
	// The client's side waits in TIME_WAIT for 60 s of machine time; an
	// idle kernel jumps there.
	for {
		d, ok := n.NextDeadline()
		if !ok {
			break
		}
		n.Advance(d)
	}
	fmt.Println("machine time:", n.Elapsed().Round(time.Second))
	// Output:
	// connect: EINPROGRESS
	// writable: true
	// connect again: Success
	// peer: 10.0.2.15
	// server got "hello"
	// machine time: 1m0s
}
