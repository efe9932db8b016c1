// Package gdbtest drives Debian's gdb-multiarch in batch mode against
// guests running on a sissim machine under its debugger (Machine.ServeGDB,
// sissim run --gdb).
package gdbtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/goguest"
)

// session is one gdb session: the program, its arguments, gdb's commands
// and what the transcript must show, in order.
type session struct {
	name      string
	prog      func(t *testing.T) (host, guest string)
	args      []string
	pre, cmds []string
	interrupt string // Ctrl-C once the guest printed this
	want      []string
	guestOut  string // the guest's output
	exit      int    // the program's exit status (ShellCode)
	root      string // the machine's guest root tree (Config.Root)
}

func cProg(name string) func(t *testing.T) (string, string) {
	return func(t *testing.T) (string, string) { return guest(t, name), "/bin/" + name }
}

// TestGDBSessions runs each session twice on fresh machines: both
// transcripts (and the guests' output) must be the same.
func TestGDBSessions(t *testing.T) {
	sessions := []session{{
		name: "basics",
		prog: cProg("dbg"),
		cmds: []string{
			"break bump", "continue", "bt", "print counter", "print by", "next", "next", "print before",
			"info registers x0 x1 sp pc cpsr", "x/8gx &counter", "finish", "step", "step", "bt 1",
			"step", "info frame", "print $v0", "delete", "continue",
		},
		want: []string{
			"Breakpoint 1 at ", ": file ./dbg.c, line 13.",
			"Breakpoint 1, bump (by=1) at ./dbg.c:13", "13\t\tlong before = counter;",
			"#0  bump (by=1) at ./dbg.c:13", "#1  0x", " in main (argc=1, argv=0x", ") at ./dbg.c:39",
			"$1 = 5", "$2 = 1",
			"14\t\tcounter = before + by;", "15\t\treturn counter;", "$3 = 5",
			"x0             0x490050", "x1             0x6 ", "sp             0x7ffffffe", "pc             0x", "<bump+", "cpsr           0x80000000",
			"<counter>:\t0x0000000000000006\t0x64202c6f6c6c6568",
			"<message+8>:\t0x0072656767756265\t0x0000000000000000",
			"<message+24>:\t0x0000000000000000", "<__exit_funcs>:",
			"0x0000000000400770 in main (argc=1, argv=", "Value returned is $4 = 6",
			"38\t\tfor (int i = 1; i <= 3; i++)",
			"39\t\t\ttotal += bump(i);",
			"#0  main (argc=1",
			"bump (by=2) at ./dbg.c:13",
			"Stack level 0, frame at 0x7ffffffe", " pc = 0x", " in bump (./dbg.c:13); saved pc = 0x",
			"$5 = {d = {",
			"[Inferior 1 (process 2) exited with code 013]",
		},
		guestOut: "total 25 counter 11 square 49\n",
		exit:     11,
	}, {
		name: "watchpoint",
		prog: cProg("dbg"),
		cmds: []string{"break main", "continue", "watch counter", "continue", "bt 1", "continue", "delete 2", "rwatch counter", "continue", "delete", "continue"},
		want: []string{
			"Breakpoint 1, main (argc=1, argv=",
			"Hardware watchpoint 2: counter",
			"Hardware watchpoint 2: counter", "Old value = 5", "New value = 6", "bump (by=1) at ./dbg.c:15",
			"#0  bump (by=1) at ./dbg.c:15",
			"Hardware watchpoint 2: counter", "Old value = 6", "New value = 8", "bump (by=2) at ./dbg.c:15",
			"Hardware read watchpoint 3: counter",
			"Hardware read watchpoint 3: counter", "Value = 8", "bump (by=2) at ./dbg.c:16",
			"[Inferior 1 (process 2) exited with code 013]",
		},
		guestOut: "total 25 counter 11 square 49\n",
		exit:     11,
	}, {
		name:      "interrupt",
		prog:      cProg("dbg"),
		args:      []string{"spin"},
		cmds:      []string{"continue", "bt", "set var stop_spinning = 1", "print stop_spinning", "continue"},
		interrupt: "total 25",
		want: []string{
			"Program received signal SIGINT, Interrupt.",
			" in spin () at ./dbg.c:31", "31\t\twhile (!stop_spinning)",
			"#0  0x", " in spin () at ./dbg.c:31", "#1  0x", " in main (argc=2, argv=", ") at ./dbg.c:43",
			"$1 = 1",
			"[Inferior 1 (process 2) exited with code 013]",
		},
		guestOut: "total 25 counter 11 square 49\n",
		exit:     11,
	}, {
		// $_siginfo: a breakpoint's SIGTRAP, a step's, then a fault's.
		name: "siginfo",
		prog: cProg("dbg"),
		args: []string{"crash"},
		cmds: []string{"break square", "continue", "print $_siginfo.si_signo", "print $_siginfo.si_code",
			"print $_siginfo._sifields._sigfault.si_addr == $pc", "stepi", "print $_siginfo.si_code", "delete",
			"continue", "print $_siginfo.si_signo", "print $_siginfo.si_code", "print $_siginfo._sifields._sigfault.si_addr",
			"info proc", "continue"},
		want: []string{
			"Breakpoint 1, square (x=7) at ./dbg.c:20", "$1 = 5", "$2 = 1", "$3 = 1", "$4 = 2",
			"Program received signal SIGSEGV, Segmentation fault.", " in crash (p=0x0) at ./dbg.c:26",
			"$5 = 11", "$6 = 1", "$7 = (void *) 0x0",
			"process 2", "cmdline = '/bin/dbg crash'", "cwd = '/'", "exe = '/bin/dbg'",
			"Program terminated with signal SIGSEGV, Segmentation fault.",
		},
		guestOut: "total 25 counter 11 square 49\n",
		exit:     139,
	}, {
		// catch syscall: the entry stop has the arguments, the return
		// stop the result; exit_group has no return.
		name: "catch syscall",
		prog: cProg("dbg"),
		cmds: []string{"catch syscall write", "continue", "print $x8", "print $x2", "print (char *)$x1",
			"print $_siginfo.si_code", "continue", "print $x0", "delete", "catch syscall exit_group", "continue", "print $x0",
			"continue"},
		want: []string{
			"Catchpoint 1 (syscall 'write' [64])",
			"Catchpoint 1 (call to syscall write), 0x", " in write ()", "$1 = 64", "$2 = 30",
			`$3 = 0x`, `"total 25 counter 11 square 49\n"`, "$4 = 133", // SIGTRAP|0x80, as ptrace's
			"Catchpoint 1 (returned from syscall write), 0x", " in write ()", "$5 = 30",
			"Catchpoint 2 (syscall 'exit_group' [94])", "Catchpoint 2 (call to syscall exit_group), 0x", "$6 = 11",
			"[Inferior 1 (process 2) exited with code 013]",
		},
		guestOut: "total 25 counter 11 square 49\n",
		exit:     11,
	}, {
		name: "threads",
		prog: cProg("dbgthreads"),
		cmds: []string{"break worker", "continue", "info threads", "print id", "next", "next", "print id", "continue", "info threads", "delete", "continue"},
		want: []string{
			"Breakpoint 1 at ", ": file ./dbgthreads.c, line 9.",
			"[New Thread 2.3]", "[Switching to Thread 2.3]",
			"Thread 2 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x0) at ./dbgthreads.c:9",
			"  Id   Target Id", "  1    Thread 2.2 \"dbgthreads\" ",
			"* 2    Thread 2.3 \"dbgthreads\" worker (arg=0x0) at ./dbgthreads.c:9",
			"$1 = 0", "10\t\tresults[id] = (id + 1) * 10;", "11\t\treturn NULL;", "$2 = 0",
			"[Switching to Thread 2.4]",
			"Thread 3 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x1) at ./dbgthreads.c:9",
			"* 3    Thread 2.4 \"dbgthreads\" worker (arg=0x1) at ./dbgthreads.c:9",
			"[Inferior 1 (process 2) exited normally]",
		},
		guestOut: "results 10 20\n",
	}, {
		name: "follow-fork",
		prog: cProg("dbgfork"),
		pre:  []string{"set follow-fork-mode child"},
		cmds: []string{"break child_work", "continue", "bt", "print x", "finish", "continue"},
		want: []string{
			"[Attaching after Thread 2.2 fork to child Thread 3.3]",
			"[New inferior 2 (process 3)]",
			"[Detaching after fork from parent process 2]",
			"[Inferior 1 (process 2) detached]",
			"Thread 2.1 \"dbgfork\" hit Breakpoint 1, child_work (x=1) at ./dbgfork.c:8",
			"#0  child_work (x=1) at ./dbgfork.c:8", "#1  0x", "in main () at ./dbgfork.c:16",
			"$1 = 1", "Value returned is $2 = 3",
			"[Inferior 2 (process 3) exited with code 03]",
		},
		guestOut: "child exit 3\n",
	}, {
		name: "go",
		prog: func(t *testing.T) (string, string) { return goguest.Program(t, "conc"), "/bin/conc" },
		cmds: []string{"break main.main", "continue", "info threads", "delete", "continue"},
		want: []string{
			"Breakpoint 1 at ", "file sissim.test/goguests/conc/main.go, line 13.",
			"Thread 1 \"conc\" hit Breakpoint 1, main.main () at sissim.test/goguests/conc/main.go:13",
			"  Id   Target Id", "* 1    Thread 2.2 \"conc\" main.main ()", "  2    Thread 2.3 \"conc\" ",
			"[Inferior 1 (process 2) exited normally]",
		},
		guestOut: "pipeline sum 333833500\n",
	}}
	root := armRoot(t)
	if root != "" {
		sessions = append(sessions, session{
			name: "dynamic",
			root: root,
			prog: func(t *testing.T) (string, string) {
				return filepath.Join(root, "usr/bin/basename"), "/usr/bin/basename"
			},
			args: []string{"/a/b/c"},
			pre:  []string{"set sysroot " + root, "set breakpoint pending on"},
			cmds: []string{"break write", "continue", "info sharedlibrary", "bt 1", "delete", "continue"},
			want: []string{
				"Function \"write\" not defined.", "Breakpoint 1 (write) pending.",
				"Breakpoint 1, ", "write ()", "from ROOT/lib/aarch64-linux-gnu/libc.so.6",
				"ROOT/lib/ld-linux-aarch64.so.1", "ROOT/lib/aarch64-linux-gnu/libc.so.6",
				"#0  ", "write ()",
				"[Inferior 1 (process 2) exited normally]",
			},
			guestOut: "c\n",
		})
	}
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			first := runSession(t, s)
			t.Logf("transcript:\n%s", first.out)
			requireInOrder(t, first.out, s.want...)
			require.Contains(t, first.guest, s.guestOut)
			require.Equal(t, s.exit, first.status.ShellCode())
			second := runSession(t, s)
			require.Equal(t, first.out, second.out, "the transcript differs from run to run")
			require.Equal(t, first.guest, second.guest)
		})
	}
}

// runSession runs s on a fresh machine.
func runSession(t *testing.T, s session) gdbRun {
	t.Helper()
	host, guestPath := s.prog(t)
	mc := startMachine(t, s.root, host, guestPath, s.args...)
	r := runGDB(t, mc, host, s.pre, s.cmds, s.interrupt)
	if s.root != "" {
		r.out = strings.ReplaceAll(r.out, s.root, "ROOT")
	}
	return r
}

// armRoot returns the Debian arm64 tree `make arm64-root` unpacks into
// .cache/arm64-root, or "" (the dynamic-program session is left out).
func armRoot(t *testing.T) string {
	root := filepath.Join(goguest.Root(t), ".cache", "arm64-root")
	if _, err := os.Stat(filepath.Join(root, "lib", "ld-linux-aarch64.so.1")); err != nil {
		t.Logf("no %s (make arm64-root): the dynamic-program session is left out", root)
		return ""
	}
	return root
}

// Stopping at the entry and return of every system call (catch syscall)
// leaves the run as it is: the guest writes what it writes without a
// debugger and exits the same, threads, fork, signals and a Go program's
// runtime included.
func TestCatchEverySyscallLeavesTheRun(t *testing.T) {
	script := filepath.Join(t.TempDir(), "catch.gdb")
	require.NoError(t, os.WriteFile(script, []byte("catch syscall\nset $i = 0\nwhile $_isvoid($_exitcode) && $_isvoid($_exitsignal) && $i < 5000\n  continue\n  set $i = $i + 1\nend\n"), 0o644))
	for _, name := range []string{"dbgthreads", "dbgfork", "dbgsig", "dbg", "go hello"} {
		t.Run(name, func(t *testing.T) {
			var prog string
			if goName, ok := strings.CutPrefix(name, "go "); ok {
				prog, name = goguest.Program(t, goName), goName
			} else {
				prog = guest(t, name)
			}
			want := plainRun(t, prog, "/bin/"+name, "")
			mc := startMachine(t, "", prog, "/bin/"+name)
			r := runGDB(t, mc, prog, []string{"handle SIGUSR1 nostop noprint"}, []string{"source " + script}, "")
			require.Contains(t, r.out, "Catchpoint 1 (call to syscall ")
			require.Contains(t, r.out, "Catchpoint 1 (returned from syscall ")
			require.Equal(t, want.guest, r.guest)
			require.Equal(t, want.status, r.status)
		})
	}
}
