package gdbtest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sis-kernel/sissim/internal/syncbuf"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// The guests of these tests are built at test time, unstripped with debug
// information (-g -O0), by the AArch64 cross compiler.

var (
	buildMu  sync.Mutex
	built    = map[string]string{}
	buildDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needTools skips the test when gdb-multiarch or the cross compiler is
// missing (scripts/deps.sh installs both).
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"gdb-multiarch", "aarch64-linux-gnu-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it)", tool)
		}
	}
}

// guest builds testdata/NAME.c (static unless -static-pie, -g -O0, extra
// flags) once and
// returns the ELF's path.
func guest(t *testing.T, name string, flags ...string) string {
	t.Helper()
	needTools(t)
	buildMu.Lock()
	defer buildMu.Unlock()
	key := name + strings.Join(flags, " ")
	if p, ok := built[key]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "gdbtest")
		require.NoError(t, err)
		buildDir = d
	}
	out := filepath.Join(buildDir, fmt.Sprintf("%s%d", name, len(built)))
	src, err := filepath.Abs(filepath.Join("testdata", name+".c"))
	require.NoError(t, err)
	link := "-static"
	for _, f := range flags {
		if f == "-static-pie" {
			link = f
		}
	}
	args := append([]string{"-g", "-O0", link, "-fno-omit-frame-pointer", "-Wl,--build-id=none",
		"-ffile-prefix-map=" + filepath.Dir(src) + "=.", "-o", out, src}, flags...)
	cmd := exec.Command("aarch64-linux-gnu-gcc", args...)
	cmd.Dir = filepath.Dir(src)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	built[key] = out
	return out
}

// machine is a deterministic machine running one program under a
// debugger.
type machine struct {
	m      *kernel.Machine
	srv    *kernel.GDBServer
	addr   string
	out    *syncbuf.Buffer
	log    *syncbuf.Buffer
	status chan result
	// cps returns a session's checkpoint counts once its run is over.
	cps func() kernel.CheckpointStats
}

type result struct {
	status kernel.ExitStatus
	err    error
}

// startMachine boots a machine with the program at guestPath (host file
// host) and runs it under a debugger served on a local port.
// With root, the machine boots from that guest root tree, which holds
// the program.
func startMachine(t *testing.T, root, host, guestPath string, args ...string) *machine {
	t.Helper()
	out := &syncbuf.Buffer{}
	m, err := kernel.New(kernel.Config{Stdout: out, Stderr: out, Root: root})
	require.NoError(t, err)
	if root == "" {
		data, err := os.ReadFile(host)
		require.NoError(t, err)
		require.NoError(t, m.FS().MkdirAll(filepath.Dir(guestPath), 0o755))
		require.NoError(t, m.FS().WriteFile(guestPath, data, 0o755))
	}
	p, err := m.Spawn(kernel.ProcessSpec{Path: guestPath, Argv: append([]string{guestPath}, args...)})
	require.NoError(t, err)
	m.WaitForDebugger()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mc := &machine{m: m, out: out, log: &syncbuf.Buffer{}, addr: ln.Addr().String(), status: make(chan result, 1)}
	mc.srv = m.ServeGDB(ln, kernel.GDBOptions{Log: mc.log})
	go func() {
		st, err := p.Wait()
		if err == nil {
			err = m.Drain()
		}
		mc.status <- result{st, err}
	}()
	t.Cleanup(func() {
		mc.srv.Kick()
		m.Close()
	})
	return mc
}

// gdbRun is one gdb session's transcript.
type gdbRun struct {
	out    string // gdb's stdout and stderr, the address replaced
	status kernel.ExitStatus
	guest  string // what the guest wrote
}

// runGDB runs gdb-multiarch in batch mode on file against mc: the
// commands in pre, "target remote", then cmds. With interrupt, gdb gets a
// SIGINT (Ctrl-C) once the guest printed interruptAfter.
func runGDB(t *testing.T, mc *machine, file string, pre, cmds []string, interruptAfter string) gdbRun {
	t.Helper()
	args := []string{"-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off", "-ex", "set width 0",
		"-ex", "set style enabled off", "-ex", "file " + file}
	for _, c := range pre {
		args = append(args, "-ex", c)
	}
	args = append(args, "-ex", "target remote "+mc.addr)
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	cmd := exec.Command("gdb-multiarch", args...)
	cmd.Dir = "testdata" // where the guests' sources are
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "TERM=dumb", "HOME="+t.TempDir())
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if interruptAfter != "" {
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if strings.Contains(mc.out.String(), interruptAfter) {
					cmd.Process.Signal(syscall.SIGINT)
					return
				}
			}
		}()
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(gdbTimeout):
		cmd.Process.Kill()
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("gdb hangs:\n%s\n--- packets:\n%s\n--- goroutines:\n%s", out.String(), tail(mc.log.String(), 30000), buf)
	}
	require.NoError(t, err, "%s\n--- packets:\n%s", out.String(), tail(mc.log.String(), 30000))
	require.NoError(t, mc.srv.Close())
	var res result
	select {
	case res = <-mc.status:
	case <-time.After(time.Minute):
		t.Fatalf("the machine does not end after gdb:\n%s\n--- packets:\n%s", out.String(), tail(mc.log.String(), 30000))
	}
	require.NoError(t, res.err)
	if os.Getenv("GDBTEST_PACKETS") != "" {
		t.Logf("packets:\n%s", mc.log.String())
	}
	return gdbRun{out: clean(out.String(), mc.addr, file), status: res.status, guest: mc.out.String()}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

var hostPath = regexp.MustCompile(`/tmp/gdbtest[0-9]+/`)

// clean replaces what changes from run to run in a transcript.
func clean(s, addr, file string) string {
	s = strings.ReplaceAll(s, addr, "ADDR")
	s = strings.ReplaceAll(s, file, "PROG")
	return hostPath.ReplaceAllString(s, "BUILD/")
}

// requireInOrder checks that the lines appear in out in this order.
func requireInOrder(t *testing.T, out string, lines ...string) {
	t.Helper()
	rest := out
	for _, l := range lines {
		i := strings.Index(rest, l)
		require.True(t, i >= 0, "missing (in order) %q in:\n%s", l, out)
		rest = rest[i+len(l):]
	}
}

// gdbTimeout bounds a gdb session (a hang is a failure, with its log).
var gdbTimeout = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("GDBTEST_TIMEOUT")); err == nil {
		return d
	}
	return 5 * time.Minute
}()

// startSession runs the program at host under a debugging session that
// can go back (kernel.Session), on a local port; args are its arguments.
// startSession serves a kernel.Session of the program; it takes a
// checkpoint every checkpointEvery instructions of a run back (0: none).
func startSession(t *testing.T, host, guestPath string, stdin string, checkpointEvery uint64, args ...string) *machine {
	t.Helper()
	data, err := os.ReadFile(host)
	require.NoError(t, err)
	out := &syncbuf.Buffer{}
	build := func(sio kernel.SessionIO, gen int) (*kernel.Machine, io.Closer, error) {
		m, err := kernel.New(kernel.Config{Stdin: sio.Stdin, Stdout: sio.Stdout, Stderr: sio.Stderr})
		if err != nil {
			return nil, nil, err
		}
		err = m.FS().MkdirAll(filepath.Dir(guestPath), 0o755)
		if err == nil {
			err = m.FS().WriteFile(guestPath, data, 0o755)
		}
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		return m, m, nil
	}
	s, err := kernel.NewSession(build, kernel.ProcessSpec{Path: guestPath, Argv: append([]string{guestPath}, args...)},
		strings.NewReader(stdin), out, out)
	require.NoError(t, err)
	s.SetCheckpoints(kernel.CheckpointPolicy{Every: checkpointEvery, Keep: 16, MaxBytes: 1 << 30})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mc := &machine{out: out, log: &syncbuf.Buffer{}, addr: ln.Addr().String(), status: make(chan result, 1)}
	mc.srv = s.ServeGDB(ln, kernel.GDBOptions{Log: mc.log})
	done := make(chan struct{})
	mc.cps = func() kernel.CheckpointStats {
		<-done
		return s.CheckpointStats()
	}
	go func() {
		st, err := s.Run()
		close(done)
		mc.status <- result{st, err}
	}()
	t.Cleanup(func() {
		mc.srv.Kick()
		s.Close()
	})
	return mc
}
