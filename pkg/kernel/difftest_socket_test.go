package kernel_test

import (
	"bytes"
	osexec "os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
)

// Differential tests of the socket calls: the guests' socket calls under
// qemu-aarch64-static are the host kernel's, on loopback.

// TestDiffSockerr compares bad and edge-case socket calls with Linux.
func TestDiffSockerr(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "sockerr"), nil, difftest.Options{})
	difftest.Equal(t, sim, ref)
	require.Contains(t, string(sim.Stdout), "connect pipe: ENOTSOCK\n")
}

// TestNativeSockerr compares the cases where qemu-user is not Linux (it
// rewrites socket types, option lengths and control messages itself) with
// the same source built for the host and run on the host kernel.
func TestNativeSockerr(t *testing.T) {
	cc, err := osexec.LookPath("cc")
	if err != nil {
		t.Skip("no host C compiler")
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "guest", "sockerr.c"))
	require.NoError(t, err)
	dir := t.TempDir()
	bin := filepath.Join(dir, "sockerr")
	if out, err := osexec.Command(cc, "-O1", "-w", "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("host build of sockerr.c: %v\n%s", err, out)
	}
	cmd := osexec.Command(bin, "strict")
	cmd.Dir = dir
	want, err := cmd.Output()
	require.NoError(t, err)
	sim := difftest.RunSim(t, difftest.Guest(t, "sockerr"), []string{"strict"}, difftest.Options{Dir: dir})
	require.Equal(t, string(want), string(sim.Stdout))
	require.Contains(t, string(sim.Stdout), "sendmsg short cmsg_len: EINVAL\n")
}

func TestDiffUnixsock(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "unixsock"), nil, difftest.Options{})
	difftest.Equal(t, sim, ref)
	require.Contains(t, string(sim.Stdout), " passed, 0 failed\n")
}

func TestDiffEchoServer(t *testing.T) {
	for _, args := range [][]string{{"poll", "tcp", "20"}, {"epoll", "unix", "20"}} {
		sim, ref := difftest.Run(t, difftest.Guest(t, "echosrv"), args, difftest.Options{})
		difftest.Equal(t, sim, ref)
	}
}

// TestNativeRawSocket: an ICMP echo through a raw socket on loopback, and
// CAP_NET_RAW, against the same source run on the host kernel when the
// tests may open raw sockets there (qemu-user's would be the host's too).
func TestNativeRawSocket(t *testing.T) {
	sim := difftest.RunSim(t, difftest.Guest(t, "sockerr"), []string{"raw"}, difftest.Options{})
	require.Equal(t, "raw ICMP socket: ok\nsendto: 8\n"+
		"28 bytes from 127.0.0.1: IPv4 protocol 1, ICMP type 8 id 7 seq 1\n"+
		"28 bytes from 127.0.0.1: IPv4 protocol 1, ICMP type 0 id 7 seq 1\n"+
		"protocol 0: Protocol not supported\nas uid 1000: Operation not permitted\n", string(sim.Stdout))
	cc, err := osexec.LookPath("cc")
	if err != nil {
		t.Skip("no host C compiler")
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "guest", "sockerr.c"))
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "sockerr")
	if out, err := osexec.Command(cc, "-O1", "-w", "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("host build of sockerr.c: %v\n%s", err, out)
	}
	want, err := osexec.Command(bin, "raw").Output()
	require.NoError(t, err)
	if !bytes.HasPrefix(want, []byte("raw ICMP socket: ok\n")) {
		t.Skipf("no raw sockets on this host: %s", want)
	}
	require.Equal(t, string(want), string(sim.Stdout))
}
