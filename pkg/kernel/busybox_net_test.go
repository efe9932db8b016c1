package kernel_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// busyboxNet runs a busybox sh script on a fresh machine with busybox and
// the udpcat guest in /bin, and returns what it printed.
func busyboxNet(t *testing.T, script string) (stdout, stderr string, m *kernel.Machine) {
	t.Helper()
	bb, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	udpcat, err := os.ReadFile(difftest.Guest(t, "udpcat"))
	require.NoError(t, err)
	var out, errb bytes.Buffer
	m, err = kernel.New(kernel.Config{Stdout: &out, Stderr: &errb, MaxInsns: difftest.DefaultMaxInsns})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.FS().WriteFile("/bin/busybox", bb, 0o755))
	require.NoError(t, m.FS().WriteFile("/bin/udpcat", udpcat, 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", script}, Env: []string{"PATH=/bin"}})
	require.NoError(t, err)
	require.Equal(t, 0, st.ShellCode(), "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	return out.String(), errb.String(), m
}

// retry runs a command until it succeeds (the server may not listen yet).
const retry = `retry() { i=0; until "$@"; do i=$((i+1)); [ $i -lt 50 ] || return 1; busybox sleep 0.1; done; }
`

// TestBusyboxHTTPD serves a file with busybox httpd to busybox wget inside
// one machine, and lists the listener with busybox netstat (/proc/net/tcp).
func TestBusyboxHTTPD(t *testing.T) {
	script := retry + `
busybox mkdir -p /www
echo "served by busybox httpd" > /www/index.html
busybox httpd -f -p 127.0.0.1:8080 -h /www &
pid=$!
retry busybox wget -q -O /tmp/got http://127.0.0.1:8080/index.html
busybox cat /tmp/got
busybox netstat -tln | busybox grep ':8080'
busybox wget -q -O - http://127.0.0.1:8080/missing.html 2>&1 || echo "missing: status $?"
kill $pid
wait $pid
busybox netstat -tan
`
	out, _, m := busyboxNet(t, script)
	head, states, ok := strings.Cut(out, "Active Internet connections (servers and established)\n")
	require.True(t, ok, out)
	require.Equal(t, "served by busybox httpd\n"+
		"tcp        0      0 127.0.0.1:8080          0.0.0.0:*               LISTEN      \n"+
		"wget: server returned error: HTTP/1.1 404 Not Found\nmissing: status 1\n", head)
	// httpd closed both connections first: they wait in TIME_WAIT.
	require.Equal(t, 2, strings.Count(states, "tcp        0      0 127.0.0.1:8080          127.0.0.1:"), states)
	require.Equal(t, 2, strings.Count(states, " TIME_WAIT "), states)
	require.NotZero(t, m.NetStats()[0].RxPackets)
	out2, _, _ := busyboxNet(t, script)
	require.Equal(t, out, out2, "deterministic")
}

// TestBusyboxNC sends a line over TCP with busybox nc on both sides, and
// datagrams over UDP with udpcat (Debian's busybox nc has no -u).
func TestBusyboxNC(t *testing.T) {
	script := retry + `
busybox nc -l -p 9000 > /tmp/nc.out &
pid=$!
retry sh -c 'echo "hello over tcp" | busybox nc 127.0.0.1 9000'
wait $pid
busybox cat /tmp/nc.out
udpcat listen 9001 2 &
pid=$!
busybox sleep 0.1
udpcat send 127.0.0.1 9001 one two
wait $pid
`
	out, _, _ := busyboxNet(t, script)
	require.Equal(t, "hello over tcp\n"+
		"from an ephemeral port: one\nack one\nfrom an ephemeral port: two\nack two\n", out)
	out2, _, _ := busyboxNet(t, script)
	require.Equal(t, out, out2, "deterministic")
}

// TestBusyboxIfconfigRoute shows the machine's interfaces and routes as
// busybox ifconfig (SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFHWADDR, ...,
// /proc/net/dev) and route (/proc/net/route) print them.
func TestBusyboxIfconfigRoute(t *testing.T) {
	out, _, _ := busyboxNet(t, "busybox ifconfig eth0; busybox route -n")
	require.Equal(t, `eth0      Link encap:Ethernet  HWaddr 52:54:00:12:34:56  
          inet addr:10.0.2.15  Bcast:10.0.2.255  Mask:255.255.255.0
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
          RX packets:0 errors:0 dropped:0 overruns:0 frame:0
          TX packets:0 errors:0 dropped:0 overruns:0 carrier:0
          collisions:0 txqueuelen:1000 
          RX bytes:0 (0.0 B)  TX bytes:0 (0.0 B)

Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
10.0.2.0        0.0.0.0         255.255.255.0   U     0      0        0 eth0
0.0.0.0         10.0.2.2        0.0.0.0         UG    0      0        0 eth0
`, out)
}

// TestNetlinkRoute asks NETLINK_ROUTE for the machine's interfaces,
// addresses and routes: through glibc (getifaddrs, if_nameindex), raw
// requests (dumps, single answers, errors, acknowledgements, a short
// buffer), and busybox ip and ifconfig, which may set what is already
// set and nothing else.
func TestNetlinkRoute(t *testing.T) {
	out, st := runGuest(t, "netlink")
	require.Equal(t, 0, st.ShellCode(), out)
	require.Equal(t, `ifaddr lo packet flags 0x10049
ifaddr eth0 packet flags 0x11043
ifaddr lo 127.0.0.1/255.0.0.0 flags 0x10049
ifaddr eth0 10.0.2.15/255.255.255.0 flags 0x11043
ifaddr lo ::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff flags 0x10049
ifaddr eth0 fec0::15/ffff:ffff:ffff:ffff:: flags 0x11043
index 1 lo
index 2 eth0
if_nametoindex eth0 2
if_indextoname 1 lo
bind: 0
port is pid: 1
bind taken port: Address already in use
other protocol: Protocol not supported
route default via 10.0.2.2 dev 2 table 254 scope 0
route 10.0.2.0/24 via - dev 2 table 254 scope 253
route 127.0.0.0/8 via - dev 1 table 255 scope 254
route 127.0.0.1/32 via - dev 1 table 255 scope 254
route 127.255.255.255/32 via - dev 1 table 255 scope 253
route 10.0.2.15/32 via - dev 2 table 255 scope 254
route 10.0.2.255/32 via - dev 2 table 255 scope 253
done seq 42
link 2 eth0 type 1 flags 0x11043 multi 0
error No such device for type 18
error none for type 16
link 1 lo type 772 flags 0x10049 multi 0
error none for type 18
short recv: 96 > 16
queue empty: Resource temporarily unavailable
`, out)

	out, errOut, _ := busyboxNet(t, `busybox ip addr show eth0; busybox ip route; busybox ip -6 route
busybox ip link set lo up && busybox ifconfig eth0 up && echo no-op changes ok
busybox ip link set eth0 down || busybox ip addr add 10.0.0.1/8 dev eth0 || busybox ifconfig lo mtu 1000 || echo refused`)
	require.Equal(t, `2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet6 fec0::15/64 scope global 
       valid_lft forever preferred_lft forever
default via 10.0.2.2 dev eth0 
10.0.2.0/24 dev eth0 scope link  src 10.0.2.15 
::1 dev lo  metric 256 
fec0::/64 dev eth0  metric 256 
default via fec0::2 dev eth0  metric 1024 
no-op changes ok
refused
`, out)
	require.Equal(t, "ip: SIOCSIFFLAGS: Operation not permitted\nip: RTNETLINK answers: Operation not permitted\nifconfig: SIOCSIFMTU: Operation not permitted\n", errOut)
}
