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
          collisions:0 
          RX bytes:0 (0.0 B)  TX bytes:0 (0.0 B)

Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
10.0.2.0        0.0.0.0         255.255.255.0   U     0      0        0 eth0
0.0.0.0         10.0.2.2        0.0.0.0         UG    0      0        0 eth0
`, out)
}
