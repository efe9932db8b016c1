package netstack

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

// TestDeterminism runs a client/server workload (TCP over IPv4 and IPv6,
// through lo and eth0's own address, a UDP echo, a refused connection,
// timers) several times and compares an exact log: every call's result,
// every readiness notification in the order it fired, the machine time of
// every timer jump, the counters, the /proc/net tables and a hash of every
// packet delivered. Runs with the same seed must match byte for byte, also
// when they run concurrently or with another GOMAXPROCS; another seed must
// change the packets.
func TestDeterminism(t *testing.T) {
	var logs [3]string
	var hashes [3]string
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logs[i], hashes[i] = runWorkload(t, 42)
		}()
	}
	wg.Wait()
	// The host's parallelism must not matter either.
	procs := runtime.GOMAXPROCS(1)
	logs[2], hashes[2] = runWorkload(t, 42)
	runtime.GOMAXPROCS(procs)
	require.Greater(t, strings.Count(logs[0], "\n"), 500, "the workload did something")
	require.Equal(t, logs[0], logs[1], "concurrent runs with the same seed")
	require.Equal(t, logs[0], logs[2], "sequential run with the same seed and GOMAXPROCS 1")
	require.Equal(t, hashes[0], hashes[2])

	other, otherHash := runWorkload(t, 43)
	require.NotEqual(t, hashes[0], otherHash, "the seed changes initial sequence numbers and ports")
	require.NotEqual(t, logs[0], other)
}

type workload struct {
	t      *testing.T
	n      *Network
	log    strings.Builder
	mu     sync.Mutex // notifications arrive on stack goroutines
	frames int
}

func (w *workload) logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(&w.log, "%12d ", w.n.Elapsed())
	fmt.Fprintf(&w.log, format, args...)
	w.log.WriteByte('\n')
}

func (w *workload) watch(s *Socket, id string) {
	s.Watch(AllEvents, func(e Events) { w.logf("notify %s %#x", id, e) })
}

// echoConn is one accepted connection of the echo server.
type echoConn struct {
	id      string
	s       *Socket
	pending []byte
	closed  bool
}

// client sends msgs one at a time and waits for each echo.
type client struct {
	id        string
	s         *Socket
	dst       netip.AddrPort
	msgs      [][]byte
	sent, got int // bytes of the current message
	state     int // 0 connecting, 1 exchanging, 2 draining, 3 done
	next      int // index of the current message
}

func runWorkload(t *testing.T, seed uint64) (log, frameHash string) {
	n, err := New(Config{Seed: seed, Epoch: time.Unix(1700000000, 0)})
	require.NoError(t, err)
	defer n.Close()
	w := &workload{t: t, n: n}
	h := sha256.New()
	n.w.tap = func(f frame) {
		w.frames++
		h.Write([]byte(f.to.name))
		h.Write(f.data.Flatten())
	}
	rng := rand.New(rand.NewPCG(7, 7)) // the workload's own choices, fixed

	mustSock := func(family, typ int, id string) *Socket {
		s, e := n.Socket(family, typ, 0)
		require.Zero(t, e)
		w.watch(s, id)
		return s
	}
	var listeners []*Socket
	for i, addr := range []string{"0.0.0.0:9000", "[::]:9001"} {
		ap := netip.MustParseAddrPort(addr)
		fam := AF_INET
		if ap.Addr().Is6() {
			fam = AF_INET6
		}
		l := mustSock(fam, SOCK_STREAM, fmt.Sprintf("L%d", i))
		require.Zero(t, l.Bind(ap))
		require.Zero(t, l.Listen(8))
		listeners = append(listeners, l)
	}
	dsts := []string{"127.0.0.1:9000", "10.0.2.15:9000", "[::1]:9001", "127.0.0.1:9001", "[fec0::15]:9001", "10.0.2.15:9001"}
	var clients []*client
	for i := range 8 {
		dst := netip.MustParseAddrPort(dsts[i%len(dsts)])
		fam := AF_INET
		if dst.Addr().Is6() {
			fam = AF_INET6
		}
		c := &client{id: fmt.Sprintf("C%d", i), dst: dst}
		c.s = mustSock(fam, SOCK_STREAM, c.id)
		if i%3 == 0 {
			require.Zero(t, c.s.SetSockOptInt(IPPROTO_TCP, TCP_NODELAY, 1))
		}
		for m := range 4 {
			c.msgs = append(c.msgs, pattern(1+rng.IntN(150000), byte(i*16+m)))
		}
		clients = append(clients, c)
	}

	// UDP echo on eth0's address, two clients.
	us := mustSock(AF_INET, SOCK_DGRAM, "U")
	require.Zero(t, us.Bind(netip.MustParseAddrPort("10.0.2.15:5353")))
	var uc []*Socket
	for i := range 2 {
		uc = append(uc, mustSock(AF_INET, SOCK_DGRAM, fmt.Sprintf("u%d", i)))
	}
	// A refused connection.
	r := mustSock(AF_INET, SOCK_STREAM, "R")
	w.logf("refused connect %s", r.Connect(netip.MustParseAddrPort("127.0.0.1:1")).Name())
	w.logf("refused again %s", r.Connect(netip.MustParseAddrPort("127.0.0.1:1")).Name())

	var conns []*echoConn
	buf := make([]byte, 32<<10)
	done := func() bool {
		for _, c := range clients {
			if c.state != 3 {
				return false
			}
		}
		return true
	}
	for round := 0; !done(); round++ {
		require.Less(t, round, 20000, "the workload finishes")
		// Clients.
		for _, c := range clients {
			switch c.state {
			case 0:
				e := c.s.Connect(c.dst)
				w.logf("%s connect %s", c.id, e.Name())
				if e == 0 {
					local, _ := c.s.LocalAddr()
					w.logf("%s local %s", c.id, local)
					c.state = 1
				}
			case 1:
				msg := c.msgs[c.next]
				if c.sent < len(msg) {
					k, e := c.s.Send(msg[c.sent:], netip.AddrPort{}, 0)
					w.logf("%s send %d %s", c.id, k, e.Name())
					c.sent += k
				}
				for c.got < len(msg) {
					rr, e := c.s.Recv(buf, 0)
					if e == linux.EAGAIN {
						break
					}
					require.Zero(t, e, "%s recv", c.id)
					require.Equal(t, msg[c.got:c.got+rr.N], buf[:rr.N], "%s echo", c.id)
					c.got += rr.N
					w.logf("%s recv %d", c.id, rr.N)
				}
				if c.got == len(msg) {
					c.next, c.sent, c.got = c.next+1, 0, 0
					if c.next == len(c.msgs) {
						w.logf("%s shutdown %s", c.id, c.s.Shutdown(SHUT_WR).Name())
						c.state = 2
					}
				}
			case 2:
				rr, e := c.s.Recv(buf, 0)
				if e == 0 && rr.N == 0 {
					w.logf("%s eof", c.id)
					c.s.Close()
					c.state = 3
				}
			}
		}
		// Server: accept and echo.
		for i, l := range listeners {
			for {
				s, peer, e := l.Accept()
				if e != 0 {
					break
				}
				id := fmt.Sprintf("S%d", len(conns))
				w.watch(s, id)
				w.logf("L%d accept %s from %s", i, id, peer)
				conns = append(conns, &echoConn{id: id, s: s})
			}
		}
		for _, c := range conns {
			if c.closed {
				continue
			}
			if len(c.pending) > 0 {
				k, e := c.s.Send(c.pending, netip.AddrPort{}, 0)
				w.logf("%s send %d %s", c.id, k, e.Name())
				c.pending = c.pending[k:]
			}
			if len(c.pending) > 0 {
				continue
			}
			rr, e := c.s.Recv(buf, 0)
			switch {
			case e == linux.EAGAIN:
			case e == 0 && rr.N == 0:
				w.logf("%s eof, close", c.id)
				c.s.Close()
				c.closed = true
			default:
				require.Zero(t, e)
				w.logf("%s recv %d", c.id, rr.N)
				c.pending = append([]byte(nil), buf[:rr.N]...)
			}
		}
		// UDP now and then.
		if round%7 == 0 {
			cl := uc[round/7%2]
			k, e := cl.Send(pattern(100+round%900, byte(round)), netip.MustParseAddrPort("10.0.2.15:5353"), 0)
			w.logf("udp send %d %s", k, e.Name())
			for {
				rr, e := us.Recv(buf, 0)
				if e != 0 {
					break
				}
				w.logf("udp echo %d to %s", rr.N, rr.From)
				us.Send(buf[:rr.N], rr.From, 0)
			}
			for _, c := range uc {
				rr, e := c.Recv(buf, MSG_PEEK)
				w.logf("udp peek %d %s", rr.N, e.Name())
				c.Recv(buf, 0)
			}
		}
		// Machine time passes; now and then the machine idles until the
		// next network timer.
		n.Advance(n.Elapsed() + 50*time.Microsecond)
		if round%25 == 24 {
			if d, ok := n.NextDeadline(); ok {
				w.logf("jump to %d", d)
				n.Advance(d)
			}
		}
	}
	// Let every timer run out (TIME_WAIT and the rest).
	for i := 0; ; i++ {
		require.Less(t, i, 1000)
		d, ok := n.NextDeadline()
		if !ok {
			break
		}
		n.Advance(d)
		w.logf("timer %d", d)
	}
	for _, s := range n.Stats() {
		w.logf("stats %+v", s)
	}
	w.logf("tcp\n%s", n.ProcNetTCP(AF_INET))
	w.logf("tcp6\n%s", n.ProcNetTCP(AF_INET6))
	w.logf("udp\n%s", n.ProcNetUDP(AF_INET))
	w.logf("frames %d", w.frames)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String(), fmt.Sprintf("%x", h.Sum(nil))
}
