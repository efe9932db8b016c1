package gdbstub

import (
	"bytes"
	"debug/elf"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests drive Debian's gdb-multiarch in batch mode against the fake
// target served by the stub. The guest is testdata/prog.S, assembled at
// test time with the AArch64 cross compiler.

var (
	progOnce sync.Once
	progDir  string
	progPath string
	progErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if progDir != "" {
		os.RemoveAll(progDir)
	}
	os.Exit(code)
}

// buildProg assembles testdata/prog.S once per test binary.
func buildProg(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"gdb-multiarch", "aarch64-linux-gnu-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it)", tool)
		}
	}
	progOnce.Do(func() {
		progDir, progErr = os.MkdirTemp("", "gdbstub-prog")
		if progErr != nil {
			return
		}
		progPath = filepath.Join(progDir, "prog")
		out, err := exec.Command("aarch64-linux-gnu-gcc", "-nostdlib", "-static", "-Wl,--build-id=none",
			"-o", progPath, "testdata/prog.S").CombinedOutput()
		if err != nil {
			progErr = err
			progPath = string(out)
		}
	})
	require.NoError(t, progErr, progPath)
	return progPath
}

// progMachine returns a fake machine running prog, whose file the target
// also serves through vFile.
func progMachine(t *testing.T, path string) *fakeMachine {
	t.Helper()
	image, err := os.ReadFile(path)
	require.NoError(t, err)
	m := newFakeMachine()
	p := m.addProcess("prog", path, 0)
	require.NoError(t, p.loadELF(image))
	m.files[path] = image
	m.spinAt = progSymbols(t, path)["spin"]
	return m
}

// debugRun is one debugger session against a fake machine.
type debugRun struct {
	out string // the debugger's stdout and stderr, the address replaced
	log string // the stub's packet log
}

// runGDB runs gdb-multiarch in batch mode: the commands in pre, "target
// remote", then cmds.
func runGDB(t *testing.T, m *fakeMachine, pre, cmds []string, interrupt bool) debugRun {
	t.Helper()
	args := []string{"-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off", "-ex", "set width 0"}
	for _, c := range pre {
		args = append(args, "-ex", c)
	}
	args = append(args, "-ex", "target remote ADDR")
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	return runDebugger(t, m, "gdb-multiarch", args, interrupt)
}

// runDebugger serves m on a local port and runs tool with args, in which
// ADDR stands for the stub's address, and returns its transcript. When the
// guest reaches its spin loop, the debugger gets a SIGINT (Ctrl-C) if
// interrupt is set; else it is killed and the test fails, as the guest
// would spin forever.
func runDebugger(t *testing.T, m *fakeMachine, tool string, args []string, interrupt bool) debugRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	spinning := make(chan struct{})
	m.onSpin = func() { close(spinning) }
	var log bytes.Buffer
	srv := &Server{Target: m, Log: &lockedWriter{w: &log}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "ADDR", addr)
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "TERM=dumb")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	require.NoError(t, cmd.Start())
	waited := make(chan struct{})
	unexpected := make(chan bool, 1)
	go func() {
		select {
		case <-spinning:
		case <-waited:
			unexpected <- false
			return
		}
		if interrupt {
			_ = cmd.Process.Signal(syscall.SIGINT) // Ctrl-C
		} else {
			_ = cmd.Process.Kill()
		}
		unexpected <- !interrupt
	}()
	err = cmd.Wait()
	close(waited)
	require.False(t, <-unexpected, "the guest spins forever:\n%s", out.String())
	require.NoError(t, err, out.String())
	require.NoError(t, srv.Close())
	require.NoError(t, <-served)
	require.Empty(t, m.violations, "Target contract violations")
	return debugRun{out: strings.ReplaceAll(out.String(), addr, "127.0.0.1:PORT"), log: log.String()}
}

// progSymbols returns the addresses of prog's symbols.
func progSymbols(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	out := map[string]uint64{}
	for _, s := range syms {
		out[s.Name] = s.Value
	}
	return out
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

// TestGDB runs gdb-multiarch sessions against the fake target: each
// session runs twice, on fresh machines, and must give the same gdb
// transcript and the same packet log both times.
func TestGDB(t *testing.T) {
	path := buildProg(t)
	sym := progSymbols(t, path)
	at := func(format, name string, off uint64) string { return fmt.Sprintf(format, sym[name]+off) }
	sessions := []struct {
		name      string
		withFile  bool
		interrupt bool
		cmds      []string
		want      []string
		output    string // what the guest wrote
	}{{
		name:     "basics",
		withFile: true,
		cmds: []string{
			"info registers", "x/4gx &counter", "break bump", "continue", "bt", "print (long)counter",
			"x/2gx $sp", "nexti", "watch *(long*)&counter", "continue", "delete 2", "stepi",
			"continue", "stepi", "bt", "print (long)counter",
			"delete", "set var *(long*)&skipspin = 1", "continue",
		},
		want: []string{
			at("0x%016x in _start ()", "_start", 0),
			"x0             0x0                 0",
			at("pc             0x%x", "_start", 0),
			"cpsr           0x0                 [ EL=0 BTYPE=0 ]",
			at("0x%x:\t0x0000000000000000\t0x0000000000000000", "counter", 0),
			at("Breakpoint 1 at 0x%x", "bump", 8),
			at("Breakpoint 1, 0x%016x in bump ()", "bump", 8),
			at("#0  0x%016x in bump ()", "bump", 8),
			at("#1  0x%016x in _start ()", "_start", 16),
			"$1 = 0",
			at("0x7fffee70:\t0x0000000000000000\t0x%016x", "_start", 16),
			// nexti steps over the call of load_inc.
			at("0x%016x in bump ()", "bump", 12),
			"Hardware watchpoint 2: *(long*)&counter",
			"Old value = 0", "New value = 1",
			at("0x%016x in after_store ()", "after_store", 0),
			at("0x%016x in after_store ()", "after_store", 4),
			at("Breakpoint 1, 0x%016x in bump ()", "bump", 8),
			// stepi enters load_inc; the backtrace has three frames.
			at("0x%016x in load_inc ()", "load_inc", 0),
			at("#0  0x%016x in load_inc ()", "load_inc", 0),
			at("#1  0x%016x in bump ()", "bump", 12),
			at("#2  0x%016x in _start ()", "_start", 16),
			"$2 = 1",
			"[Detaching after fork from child process 102]",
			"[Inferior 1 (process 100) exited with code 07]",
		},
		output: "parent\nchild\n",
	}, {
		name:      "interrupt",
		withFile:  true,
		interrupt: true,
		cmds: []string{
			"continue", "info threads", "thread 1.2", "bt 1", "thread 1.1",
			"set var $pc = (long)&spin_done", "continue",
		},
		want: []string{
			"[New Thread 100.101]",
			"Thread 1 \"prog\" received signal SIGINT, Interrupt.",
			at("0x%016x in spin ()", "spin", 0),
			at("Thread 100.100 \"prog\" 0x%016x in spin ()", "spin", 0),
			at("Thread 100.101 \"prog\" 0x%016x in worker ()", "worker", 0),
			"[Switching to thread 2 (Thread 100.101)]",
			"[Inferior 1 (process 100) exited with code 07]",
		},
		output: "parent\nchild\n",
	}, {
		name:     "follow-fork",
		withFile: true,
		cmds: []string{
			"set var *(long*)&skipspin = 1", "set follow-fork-mode child", "break child", "continue",
			"info inferiors", "bt", "continue",
		},
		want: []string{
			"[Attaching after Thread 100.100 fork to child Thread 102.102]",
			"[New inferior 2 (process 102)]",
			"[Detaching after fork from parent process 100]",
			"[Inferior 1 (process 100) detached]",
			at("Thread 2.1 \"prog\" hit Breakpoint 1, 0x%016x in child ()", "child", 0),
			"* 2    process 102",
			"[Inferior 2 (process 102) exited normally]",
		},
		output: "parent\nchild\n",
	}, {
		name:     "reverse",
		withFile: true,
		cmds: []string{
			"break *after_store", "continue", "print (long)counter",
			"reverse-stepi", "print (long)counter", "stepi", "print (long)counter",
			"delete", "watch *(long*)&counter", "continue",
			"reverse-continue", "print (long)counter", "info registers pc",
			"reverse-continue", "reverse-continue", "continue", "continue",
			"delete", "set var *(long*)&skipspin = 1", "continue",
		},
		want: []string{
			at("Breakpoint 1, 0x%016x in after_store ()", "after_store", 0),
			"$1 = 1",
			// reverse-stepi over the store restores the old value.
			at("0x%016x in bump ()", "after_store", ^uint64(3)),
			"$2 = 0",
			"$3 = 1",
			"Old value = 1", "New value = 2",
			// reverse-continue to the watchpoint: at the store, before it.
			"Old value = 2", "New value = 1",
			at("0x%016x in bump ()", "after_store", ^uint64(3)),
			"$4 = 1",
			at("pc             0x%x", "after_store", ^uint64(3)),
			"Old value = 1", "New value = 0",
			"No more reverse-execution history.",
			// Forward again: the same values as the first time.
			"Old value = 0", "New value = 1",
			"Old value = 1", "New value = 2",
			"[Inferior 1 (process 100) exited with code 07]",
		},
		output: "parent\nchild\n",
	}, {
		name: "files-from-target",
		cmds: []string{
			"info sharedlibrary", "info mem", "info auxv", "p $v0.d.u", "break bump", "continue", "bt", "kill",
		},
		want: []string{
			"Reading symbols from target:" + path + "...",
			"No shared libraries loaded at this time.",
			"0   y  \t0x0000000000001000 0x0001000000000000 rw nocache",
			at("AT_ENTRY             Entry point of program         0x%x", "_start", 0),
			"$1 = {0, 0}",
			at("Breakpoint 1, 0x%016x in bump ()", "bump", 8),
			"[Inferior 1 (process 100) killed]",
		},
	}}
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			var pre []string
			if s.withFile {
				pre = []string{"file " + path}
			}
			var runs []debugRun
			for i := 0; i < 2; i++ {
				m := progMachine(t, path)
				runs = append(runs, runGDB(t, m, pre, s.cmds, s.interrupt))
				if s.output != "" {
					if m.freeDone != nil {
						<-m.freeDone
					}
					require.Equal(t, s.output, m.output())
				}
			}
			requireInOrder(t, runs[0].out, s.want...)
			require.Equal(t, runs[0].out, runs[1].out, "the gdb transcript differs between runs")
			require.Equal(t, runs[0].log, runs[1].log, "the packet log differs between runs")
		})
	}
}
