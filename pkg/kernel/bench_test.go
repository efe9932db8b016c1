package kernel_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// benchGuest reads a committed test guest.
func benchGuest(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "guests", name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// benchRun boots a machine, runs the guest with argv[1] = arg and checks
// that it exits with status 0. It returns the guest's stdout.
func benchRun(b *testing.B, mode kernel.ClockMode, name string, data []byte, arg string) []byte {
	b.Helper()
	var out bytes.Buffer
	m, err := kernel.New(kernel.Config{Clock: mode, Stdout: &out})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	p := "/bin/" + name
	if err := m.FS().WriteFile(p, data, 0o755); err != nil {
		b.Fatal(err)
	}
	argv := []string{p}
	if arg != "" {
		argv = append(argv, arg)
	}
	st, err := m.Run(kernel.ProcessSpec{Path: p, Argv: argv})
	if err != nil {
		b.Fatal(err)
	}
	if st.ShellCode() != 0 {
		b.Fatalf("%s %s: %v %s", name, arg, st, st.Report)
	}
	return out.Bytes()
}

var clockModes = []kernel.ClockMode{kernel.Realtime, kernel.Deterministic}

// BenchmarkGetpid measures the system call round trip through the real
// syscall table: guest svc -> Go dispatch -> getpid -> back (ns/op = ns per
// system call; one machine start-up is spread over the b.N calls).
func BenchmarkGetpid(b *testing.B) {
	data := benchGuest(b, "getpid_loop")
	for _, mode := range clockModes {
		b.Run(mode.String(), func(b *testing.B) {
			benchRun(b, mode, "getpid_loop", data, strconv.Itoa(b.N))
		})
	}
}

// BenchmarkALULoop measures guest compute (ns/op = one iteration of the
// 12-instruction alu_loop body) in both clock modes.
func BenchmarkALULoop(b *testing.B) {
	data := benchGuest(b, "alu_loop")
	for _, mode := range clockModes {
		b.Run(mode.String(), func(b *testing.B) {
			out := benchRun(b, mode, "alu_loop", data, strconv.Itoa(b.N))
			if len(out) != 17 {
				b.Fatalf("alu_loop printed %q", out)
			}
			b.ReportMetric(float64(b.N)*12/b.Elapsed().Seconds()/1e6, "Minsn/s")
		})
	}
}

// BenchmarkHello measures a glibc hello world end to end: kernel.New, load,
// run to exit, Close (ns/op = one whole run).
func BenchmarkHello(b *testing.B) {
	data := benchGuest(b, "hello")
	for _, mode := range clockModes {
		b.Run(mode.String(), func(b *testing.B) {
			for b.Loop() {
				if out := benchRun(b, mode, "hello", data, ""); len(out) == 0 {
					b.Fatal("hello printed nothing")
				}
			}
		})
	}
}

// BenchmarkForkExitWait measures fork+exit+wait under busybox sh (ns/op =
// one subshell); the machine start-up is spread over the b.N forks.
func BenchmarkForkExitWait(b *testing.B) {
	bb, err := os.ReadFile(filepath.Join("..", "..", ".cache", "busybox", "bin", "busybox"))
	if err != nil {
		b.Skip("busybox not fetched (make busybox)")
	}
	script := "i=0; while [ $i -lt " + strconv.Itoa(b.N) + " ]; do ( exit 0 ); i=$((i+1)); done"
	m, err := kernel.New(kernel.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.FS().WriteFile("/bin/busybox", bb, 0o755); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", script}})
	if err != nil || st.ShellCode() != 0 {
		b.Fatalf("%v %v", st, err)
	}
}

// BenchmarkPipe measures dd | dd under busybox sh, 64 KiB per write
// (ns/op = one 64 KiB block through the pipe).
func BenchmarkPipe(b *testing.B) {
	bb, err := os.ReadFile(filepath.Join("..", "..", ".cache", "busybox", "bin", "busybox"))
	if err != nil {
		b.Skip("busybox not fetched (make busybox)")
	}
	script := "dd if=/dev/zero bs=65536 count=" + strconv.Itoa(b.N) + " 2>/dev/null | dd of=/dev/null bs=65536 2>/dev/null"
	m, err := kernel.New(kernel.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.FS().WriteFile("/bin/busybox", bb, 0o755); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(65536)
	b.ResetTimer()
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c", script}})
	if err != nil || st.ShellCode() != 0 {
		b.Fatalf("%v %v", st, err)
	}
}

// BenchmarkThreads measures benchops' thread create+join and futex
// ping-pong (ns/op = one create+join or one round trip).
func BenchmarkThreads(b *testing.B) {
	data := benchGuest(b, "benchops")
	for _, op := range []string{"thread", "futex"} {
		b.Run(op, func(b *testing.B) {
			var out bytes.Buffer
			m, err := kernel.New(kernel.Config{Stdout: &out})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if err := m.FS().WriteFile("/bin/benchops", data, 0o755); err != nil {
				b.Fatal(err)
			}
			st, err := m.Run(kernel.ProcessSpec{Path: "/bin/benchops", Argv: []string{"benchops", op, strconv.Itoa(b.N)}})
			if err != nil || st.ShellCode() != 0 {
				b.Fatalf("%v %v %s", st, err, out.Bytes())
			}
		})
	}
}
