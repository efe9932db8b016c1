package netstack

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

// advanceToNext jumps to the next network deadline, as an idle kernel
// does, and returns it.
func advanceToNext(t *testing.T, n *Network) time.Duration {
	t.Helper()
	d, ok := n.NextDeadline()
	require.True(t, ok, "a timer is armed")
	n.Advance(d)
	require.Equal(t, d, n.Elapsed())
	return d
}

func TestIdleNetworkHasNoTimers(t *testing.T) {
	n := newNet(t, Config{Seed: 9})
	_, ok := n.NextDeadline()
	require.False(t, ok, "a fresh network never wakes the kernel")
	l := listenTCP(t, n, "127.0.0.1:80")
	u := newSocket(t, n, AF_INET, SOCK_DGRAM)
	requireOK(t, u.Bind(netip.MustParseAddrPort("127.0.0.1:53")))
	_, ok = n.NextDeadline()
	require.False(t, ok, "listening and bound sockets arm no timers")
	c := connectTCP(t, n, "127.0.0.1:80")
	s, _ := accept(t, l)
	sendAll(t, c, []byte("x"))
	readAvailable(t, s)
	select {
	case <-n.Wake():
		t.Fatal("traffic inside the machine never raises Wake")
	default:
	}
}

func TestSYNRetransmitsFollowMachineTime(t *testing.T) {
	n := newNet(t, Config{Seed: 10})
	// 10.0.2.99 is on eth0's subnet but nobody answers: the gateway drops
	// packets that are not for it.
	c := newSocket(t, n, AF_INET, SOCK_STREAM)
	dst := netip.MustParseAddrPort("10.0.2.99:80")
	requireErrno(t, linux.EINPROGRESS, c.Connect(dst))
	eth0 := func() uint64 { return n.Stats()[1].TxPackets }
	require.Equal(t, uint64(1), eth0(), "one SYN")

	var deadlines []time.Duration
	var e linux.Errno
	for e = c.Connect(dst); e == linux.EALREADY; e = c.Connect(dst) {
		deadlines = append(deadlines, advanceToNext(t, n))
		require.Less(t, len(deadlines), 20, "the handshake gives up")
	}
	requireErrno(t, linux.ETIMEDOUT, e)
	t.Log("SYN timeouts at", deadlines)
	// SYN retransmissions back off exponentially from a 1 s timeout.
	require.Equal(t, time.Second, deadlines[0])
	for i := 1; i < len(deadlines)-1; i++ {
		require.Equal(t, 2*(deadlines[i-1]-prev(deadlines, i-1)), deadlines[i]-deadlines[i-1], "back-off at step %d: %v", i, deadlines)
	}
	require.Equal(t, uint64(len(deadlines)), eth0(), "one SYN per timeout but the last")
}

func prev(d []time.Duration, i int) time.Duration {
	if i == 0 {
		return 0
	}
	return d[i-1]
}

func TestKeepaliveFollowsMachineTime(t *testing.T) {
	n := newNet(t, Config{Seed: 11})
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	accept(t, l)
	requireOK(t, c.SetSockOptInt(SOL_SOCKET, SO_KEEPALIVE, 1))
	requireOK(t, c.SetSockOptInt(IPPROTO_TCP, TCP_KEEPIDLE, 30))
	start := n.Elapsed()
	lo := func() uint64 { return n.Stats()[0].TxPackets }
	before := lo()
	// Other timers may come first; the probe is due 30 s after the last
	// traffic.
	for {
		d := advanceToNext(t, n)
		if lo() > before {
			require.Equal(t, start+30*time.Second, d, "first probe after TCP_KEEPIDLE")
			break
		}
		require.Less(t, d, start+30*time.Second)
	}
	require.Equal(t, before+2, lo(), "a probe and its acknowledgement")
	st, e := c.GetSockOptInt(SOL_SOCKET, SO_ERROR)
	requireOK(t, e)
	require.Zero(t, st, "the peer answered")
}

func TestTimeWaitEndsOnMachineTime(t *testing.T) {
	n := newNet(t, Config{Seed: 12})
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	s, _ := accept(t, l)
	c.Close() // active close: the client side waits in TIME_WAIT
	s.Close()
	tw := func() bool {
		for _, line := range strings.Split(string(n.ProcNetTCP(AF_INET)), "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[3] == "06" {
				return true
			}
		}
		return false
	}
	require.True(t, tw(), "TIME_WAIT right after close:\n%s", n.ProcNetTCP(AF_INET))
	start := n.Elapsed()
	for tw() {
		d := advanceToNext(t, n)
		require.LessOrEqual(t, d-start, 60*time.Second)
	}
	require.Equal(t, 60*time.Second, n.Elapsed()-start, "TIME_WAIT lasts 60 s of machine time")
}

func TestZeroWindowProbeOnMachineTime(t *testing.T) {
	n := newNet(t, Config{Seed: 13})
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	s, _ := accept(t, l)
	// Fill the receiver until the sender stops.
	big := pattern(16<<20, 4)
	sent := 0
	for {
		k, e := c.Send(big[sent:], netip.AddrPort{}, 0)
		if e == linux.EAGAIN {
			break
		}
		requireOK(t, e)
		sent += k
	}
	// Time passes with nobody reading: the sender keeps probing the closed
	// window on its timer, and nothing is lost.
	before := n.Stats()[0].TxPackets
	for range 3 {
		advanceToNext(t, n)
	}
	require.Greater(t, n.Stats()[0].TxPackets, before, "window probes went out")
	var got []byte
	for len(got) < sent {
		d, eof := readAvailable(t, s)
		require.False(t, eof)
		if len(d) == 0 {
			advanceToNext(t, n)
		}
		got = append(got, d...)
	}
	require.Equal(t, big[:sent], got)
}
