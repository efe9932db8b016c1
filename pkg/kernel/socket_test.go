package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/internal/syncbuf"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/goguest"
	"github.com/sis-kernel/sissim/pkg/netstack"
	"github.com/sis-kernel/sissim/pkg/otel"
)

// goHTTP returns the gohttp guest (testdata/goguests/gohttp), built for
// linux/arm64 with the host's Go toolchain and cached under .cache.
func goHTTP(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(goguest.Program(t, "gohttp"))
	require.NoError(t, err)
	return data
}

func TestUnixSockets(t *testing.T) {
	r := runGuest(t, "unixsock", Config{}, nil)
	require.Equal(t, 0, r.status.Code, r.stdout)
	require.Contains(t, r.stdout, "37 passed, 0 failed\n")
	require.NotContains(t, r.stdout, "not ok")
}

// TestEchoServer serves 100 concurrent clients from one poll or epoll loop,
// over TCP and AF_UNIX.
func TestEchoServer(t *testing.T) {
	for _, mode := range []string{"poll", "epoll"} {
		for _, tr := range []string{"tcp", "unix"} {
			t.Run(mode+" "+tr, func(t *testing.T) {
				r := runGuest(t, "echosrv", Config{}, []string{mode, tr, "100"})
				require.Equal(t, fmt.Sprintf("echo %s %s: 100 clients, 100 ok, 2000000 bytes echoed\n", mode, tr), r.stdout, r.stderr)
				require.Equal(t, 0, r.status.Code)
			})
		}
	}
}

func TestGoHTTPSelftest(t *testing.T) {
	r := runProgram(t, goHTTP(t), "/bin/gohttp", Config{}, []string{"selftest"})
	require.Equal(t, 0, r.status.Code, r.stderr)
	require.Equal(t, `GET /hello?i=0: 200 hello 0
GET /hello?i=1: 200 hello 1
GET /hello?i=2: 200 hello 2
GET /hello?i=3: 200 hello 3
GET /hello?i=4: 200 hello 4
concurrent: 64 responses, sha256 1b547062c61e7d70
POST /echo 262144 bytes: 200, echoed equal true
GET over AF_UNIX: 200 hello unix
UDP echo: DATAGRAM 0, DATAGRAM 1, DATAGRAM 2, DATAGRAM 3, DATAGRAM 4
selftest ok
`, r.stdout)
}

// TestSocketsDeterministic runs the socket guests twice: output and system
// call traces are byte-identical.
func TestSocketsDeterministic(t *testing.T) {
	gohttp := goHTTP(t)
	for _, c := range []struct {
		name string
		prog []byte
		args []string
	}{
		{"echosrv", readGuest(t, "echosrv"), []string{"epoll", "tcp", "100"}},
		{"echosrv", readGuest(t, "echosrv"), []string{"poll", "unix", "100"}},
		{"unixsock", readGuest(t, "unixsock"), nil},
		{"gohttp", gohttp, []string{"selftest"}},
	} {
		t.Run(c.name+" "+strings.Join(c.args, " "), func(t *testing.T) {
			a := runProgram(t, c.prog, "/bin/"+c.name, Config{Seed: 7}, c.args)
			b := runProgram(t, c.prog, "/bin/"+c.name, Config{Seed: 7}, c.args)
			require.Equal(t, 0, a.status.Code, a.stderr)
			require.Equal(t, a.stdout, b.stdout)
			require.Equal(t, a.stderr, b.stderr)
			require.True(t, a.strace == b.strace, "the two system call traces differ")
			require.Equal(t, a.m.NetStats(), b.m.NetStats())
		})
	}
}

// devLine returns the counters of an interface's line of /proc/net/dev:
// rx bytes, packets, errs, drop, ..., tx bytes, packets, ...
func devLine(t *testing.T, dev []byte, name string) []uint64 {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(dev))
	for sc.Scan() {
		iface, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(iface) != name {
			continue
		}
		var out []uint64
		for _, f := range strings.Fields(rest) {
			v, err := strconv.ParseUint(f, 10, 64)
			require.NoError(t, err)
			out = append(out, v)
		}
		return out
	}
	t.Fatalf("no %s in /proc/net/dev:\n%s", name, dev)
	return nil
}

// TestNetworkCounters checks that the counters move with traffic, and
// that /proc/net/dev and the metrics registry show the same numbers.
func TestNetworkCounters(t *testing.T) {
	m, err := New(Config{})
	require.NoError(t, err)
	defer m.Close()
	before := m.NetStats()
	require.Equal(t, "lo", before[0].Name)
	require.Equal(t, "eth0", before[1].Name)
	require.Zero(t, before[0].RxPackets)
	require.NoError(t, m.FS().WriteFile("/bin/echosrv", readGuest(t, "echosrv"), 0o755))
	st, err := m.Run(ProcessSpec{Path: "/bin/echosrv", Argv: []string{"echosrv", "epoll", "tcp", "10"}})
	require.NoError(t, err)
	require.Equal(t, 0, st.Code)
	lo := m.NetStats()[0]
	// 10 clients, 20000 bytes each way, plus the TCP/IP headers.
	require.Greater(t, lo.RxBytes, uint64(2*10*20000))
	require.Equal(t, lo.RxPackets, lo.TxPackets, "loopback: every packet sent is received")
	require.Equal(t, lo.RxBytes, lo.TxBytes)
	require.Zero(t, lo.RxErrors+lo.TxErrors+lo.RxDropped+lo.TxDropped)
	require.Zero(t, m.NetStats()[1].TxPackets, "nothing left through eth0")

	dev, err := m.FS().ReadFile("/proc/net/dev")
	require.NoError(t, err)
	f := devLine(t, dev, "lo")
	require.Equal(t, []uint64{lo.RxBytes, lo.RxPackets}, f[0:2])
	require.Equal(t, []uint64{lo.TxBytes, lo.TxPackets}, f[8:10])
}

// startGuest runs a program on m in the background; the result arrives on
// the returned channel.
func startGuest(m *Machine, path string, argv ...string) <-chan error {
	done := make(chan error, 1)
	go func() {
		st, err := m.Run(ProcessSpec{Path: path, Argv: argv})
		if err == nil && st.ShellCode() != 0 {
			err = fmt.Errorf("%s: %s", path, st)
		}
		done <- err
	}()
	return done
}

// TestPublishHost reaches a guest's net/http server from the host through
// a published port.
func TestPublishHost(t *testing.T) {
	var out syncbuf.Buffer
	m, err := New(Config{Stdout: &out, Stderr: &out, Publish: []netstack.Port{{GuestPort: 8080}}})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().WriteFile("/bin/gohttp", goHTTP(t), 0o755))
	addr := m.PublishedAddrs()[0].String()
	done := startGuest(m, "/bin/gohttp", "gohttp", "serve", ":8080", "3")
	c := &http.Client{Timeout: 30 * time.Second}
	// The guest may not listen yet (the connection is then closed at once):
	// ask again until it answers. The limit is a safety net, not a timing
	// requirement.
	var got []string
	for tries := 0; len(got) < 3; tries++ {
		require.Less(t, tries, 3000, "the guest never answered: %s", out.String())
		resp, err := c.Get(fmt.Sprintf("http://%s/hello?i=host%d", addr, len(got)))
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, body))
	}
	require.NoError(t, <-done)
	require.Equal(t, []string{"200 hello host0\n", "200 hello host1\n", "200 hello host2\n"}, got)
	require.Equal(t, "listening\nserved 3 requests\n", out.String())
	eth0 := m.NetStats()[1]
	require.NotZero(t, eth0.RxPackets, "published traffic goes through eth0")
	require.NotZero(t, eth0.TxPackets)
}

// otlpReceiver is an in-test OTLP/HTTP collector: it decodes each request
// as a collector does (otel.DecodeRequest) and keeps the span names.
type otlpReceiver struct {
	mu    sync.Mutex
	names []string
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != otel.TracesPath || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "not an OTLP/JSON export", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	msg, err := otel.DecodeRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range msg.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.names = append(r.names, s.Name)
			}
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

// TestNATToHost lets a guest connect out through the gateway to listeners
// on the host's loopback: a plain HTTP server and an OTLP collector.
func TestNATToHost(t *testing.T) {
	rc := &otlpReceiver{}
	mux := http.NewServeMux()
	mux.Handle(otel.TracesPath, rc)
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello from the host") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	var out syncbuf.Buffer
	m, err := New(Config{Stdout: &out, Stderr: &out, NAT: netstack.NATGateway})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().WriteFile("/bin/gohttp", goHTTP(t), 0o755))
	gw := fmt.Sprintf("http://%s:%d", netstack.GatewayIPv4, port)
	require.NoError(t, <-startGuest(m, "/bin/gohttp", "gohttp", "get", gw+"/hello"))
	require.NoError(t, <-startGuest(m, "/bin/gohttp", "gohttp", "otlp", gw+otel.TracesPath, "5"))
	require.Equal(t, "200 hello from the host\nposted 5 spans: 200 OK\n", out.String())
	require.Equal(t, []string{"guest-span-0", "guest-span-1", "guest-span-2", "guest-span-3", "guest-span-4"}, rc.names)

	// Without NAT the gateway refuses.
	var out2 syncbuf.Buffer
	m2, err := New(Config{Stdout: &out2, Stderr: &out2})
	require.NoError(t, err)
	defer m2.Close()
	require.NoError(t, m2.FS().WriteFile("/bin/gohttp", goHTTP(t), 0o755))
	err = <-startGuest(m2, "/bin/gohttp", "gohttp", "get", gw+"/hello")
	require.Error(t, err)
	require.Contains(t, out2.String(), "connection refused")
}

// TestUnixGarbageCollection frees sockets that only their own queues
// reach (sent through themselves, then closed), as Linux's unix_gc.
func TestUnixGarbageCollection(t *testing.T) {
	r := runGuest(t, "unixsock", Config{}, []string{"cycles", "1000"})
	require.Equal(t, "made 1000 cycles\n", r.stdout)
	ns := &r.m.net.unix
	require.Empty(t, ns.all, "sockets left open")
	require.Empty(t, ns.inflight, "descriptors left in flight")
}

// TestSocketFuzz makes random socket calls with random arguments: every
// call is answered without a kernel error, and once the guest is gone no
// socket, in-flight descriptor or network endpoint is left.
func TestSocketFuzz(t *testing.T) {
	prog := readGuest(t, "sockfuzz")
	for seed := 1; seed <= 16; seed++ {
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			var out bytes.Buffer
			m, err := New(Config{Stdout: &out, MaxInsns: 4_000_000_000})
			require.NoError(t, err)
			defer m.Close()
			require.NoError(t, m.FS().WriteFile("/bin/sockfuzz", prog, 0o755))
			st, err := m.Run(ProcessSpec{Path: "/bin/sockfuzz", Argv: []string{"sockfuzz", strconv.Itoa(seed), "10000"}})
			require.NoError(t, err)
			require.Equal(t, ExitStatus{}, st)
			require.Equal(t, "done 10000\n", out.String())
			require.Zero(t, m.KernelErrors())
			require.Empty(t, m.net.unix.all, "AF_UNIX sockets left")
			require.Empty(t, m.net.unix.inflight, "descriptors left in flight")
			require.Empty(t, m.net.inet, "inet sockets left")
		})
	}
}
