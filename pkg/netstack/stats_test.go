package netstack

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountersMoveWithTraffic(t *testing.T) {
	n := newNet(t, Config{Seed: 20})
	st := n.Stats()
	require.Equal(t, []string{"lo", "eth0"}, []string{st[0].Name, st[1].Name})
	for _, s := range st {
		require.Zero(t, s.RxPackets+s.TxPackets+s.RxBytes+s.TxBytes, "%s: nothing sent yet", s.Name)
	}

	// Loopback TCP: every packet lo sends, it receives.
	l := listenTCP(t, n, "127.0.0.1:80")
	c := connectTCP(t, n, "127.0.0.1:80")
	s, _ := accept(t, l)
	sendAll(t, c, pattern(100000, 5))
	d, _ := readAvailable(t, s)
	require.Len(t, d, 100000)
	lo := n.Stats()[0]
	require.Equal(t, lo.TxPackets, lo.RxPackets)
	require.Equal(t, lo.TxBytes, lo.RxBytes)
	require.GreaterOrEqual(t, lo.TxPackets, uint64(5), "handshake, data and acks")
	require.Greater(t, lo.TxBytes, uint64(100000), "payload plus headers")
	require.Zero(t, n.Stats()[1].TxPackets, "loopback traffic stays off eth0")

	// UDP through eth0 to the gateway: one datagram out, and the gateway's
	// ICMP port-unreachable back.
	u := newSocket(t, n, AF_INET, SOCK_DGRAM)
	_, e := u.Send(make([]byte, 100), netip.MustParseAddrPort("10.0.2.2:9"), 0)
	requireOK(t, e)
	eth := n.Stats()[1]
	require.Equal(t, uint64(1), eth.TxPackets)
	require.Equal(t, uint64(20+8+100), eth.TxBytes, "IPv4 + UDP headers + payload")
	require.Equal(t, uint64(1), eth.RxPackets, "ICMP port unreachable")
	require.Zero(t, eth.RxDropped+eth.RxErrors+eth.TxDropped+eth.TxErrors)

	dev := string(n.ProcNetDev())
	lines := strings.Split(strings.TrimSuffix(dev, "\n"), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "Inter-|   Receive                                                |  Transmit", lines[0])
	want := fmt.Sprintf("%6s:%8d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d",
		"eth0", eth.RxBytes, eth.RxPackets, 0, 0, 0, 0, 0, 0, eth.TxBytes, eth.TxPackets, 0, 0, 0, 0, 0, 0)
	require.Equal(t, want, lines[3])
	require.True(t, strings.HasPrefix(lines[2], "    lo:"))
}

func TestProcNetTables(t *testing.T) {
	n := newNet(t, Config{Seed: 21})
	l := listenTCP(t, n, "127.0.0.1:8080")
	l.SetOwner(1000, 4242)
	c := connectTCP(t, n, "127.0.0.1:8080")
	c.SetOwner(1000, 4243)
	s, _ := accept(t, l)
	sendAll(t, c, []byte("12345"))
	cl, e := c.LocalAddr()
	requireOK(t, e)

	tcp := strings.Split(string(n.ProcNetTCP(AF_INET)), "\n")
	require.Len(t, tcp[0], 149, "header padded as Linux pads it")
	var rows [][]string
	for _, line := range tcp[1:] {
		if line != "" {
			require.Len(t, line, 149)
			rows = append(rows, strings.Fields(line))
		}
	}
	require.Len(t, rows, 3, "listener, client and accepted socket:\n%s", strings.Join(tcp, "\n"))
	byLocal := map[string][]string{}
	for _, r := range rows {
		byLocal[r[1]+" "+r[2]] = r
	}
	cport := fmt.Sprintf("%04X", cl.Port())
	listener := byLocal["0100007F:1F90 00000000:0000"]
	require.NotNil(t, listener)
	require.Equal(t, "0A", listener[3], "LISTEN")
	require.Equal(t, "1000", listener[7])
	require.Equal(t, "4242", listener[9])
	client := byLocal["0100007F:"+cport+" 0100007F:1F90"]
	require.NotNil(t, client)
	require.Equal(t, "01", client[3], "ESTABLISHED")
	require.Equal(t, "4243", client[9])
	server := byLocal["0100007F:1F90 0100007F:"+cport]
	require.NotNil(t, server)
	require.Equal(t, "00000000:00000005", server[4], "five bytes wait in the server's receive queue")
	_ = s

	u := newSocket(t, n, AF_INET6, SOCK_DGRAM)
	requireOK(t, u.Bind(netip.MustParseAddrPort("[::1]:53")))
	udp6 := strings.Split(strings.TrimSpace(string(n.ProcNetUDP(AF_INET6))), "\n")
	require.Len(t, udp6, 2)
	require.Equal(t, []string{"0:", "00000000000000000000000001000000:0035", "00000000000000000000000000000000:0000", "07"}, strings.Fields(udp6[1])[:4])
	require.Len(t, strings.Split(strings.TrimSpace(string(n.ProcNetUDP(AF_INET))), "\n"), 1, "header only")

	route := strings.Split(string(n.ProcNetRoute()), "\n")
	require.Len(t, route, 4) // header, default route, subnet, trailing ""
	require.Equal(t, []string{"eth0", "0002000A", "00000000", "0001", "0", "0", "0", "00FFFFFF", "0", "0", "0"}, strings.Fields(route[1]))
	require.Equal(t, []string{"eth0", "00000000", "0202000A", "0003", "0", "0", "0", "00000000", "0", "0", "0"}, strings.Fields(route[2]))

	ifs := n.Interfaces()
	require.Equal(t, "lo", ifs[0].Name)
	require.Equal(t, uint32(IFF_UP|IFF_LOOPBACK|IFF_RUNNING), ifs[0].Flags)
	require.Equal(t, "10.0.2.15/24", ifs[1].Addrs[0].String())
	require.Equal(t, "52:54:00:12:34:56", ifs[1].HWAddr.String())
}

// TestOneSegmentProcessorPerStack checks the property determinism rests
// on: each stack processes TCP segments on exactly one goroutine, whatever
// GOMAXPROCS is, and GOMAXPROCS is left as it was.
func TestOneSegmentProcessorPerStack(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	before := countProcessors()
	n, err := New(Config{Seed: 22})
	require.NoError(t, err)
	require.Equal(t, procs, runtime.GOMAXPROCS(0))
	require.Equal(t, before+2, countProcessors(), "guest and gateway: one processor each")
	require.NoError(t, n.Close())
	require.Equal(t, before, countProcessors(), "Close ends them")
}

func countProcessors() int {
	buf := make([]byte, 1<<20)
	for {
		k := runtime.Stack(buf, true)
		if k < len(buf) {
			return strings.Count(string(buf[:k]), "tcp.(*processor).start(")
		}
		buf = make([]byte, 2*len(buf))
	}
}
