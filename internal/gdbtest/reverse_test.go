package gdbtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sis-kernel/sissim/internal/syncbuf"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// reverseSession is a gdb session against a kernel.Session.
type reverseSession struct {
	name  string
	prog  string
	stdin string
	pre   []string // before target remote
	cmds  []string
	want  []string
	// same: the transcript's parts between "==1==" and "==2==" and
	// between "==3==" and "==4==" (gdb's echo) must be equal.
	same bool
}

// TestReverse runs gdb's reverse commands against sessions that go back
// by re-execution: each session twice (the same transcript), and the
// guest's output must be what a run without a debugger writes, byte for
// byte, however often the session went back and forth.
func TestReverse(t *testing.T) {
	sessions := []reverseSession{{
		name: "reverse-stepi after a store",
		prog: "dbg",
		cmds: []string{"break dbg.c:15", "continue", "print counter", "reverse-stepi", "print counter", "x/i $pc",
			"reverse-stepi", "print counter", "stepi", "stepi", "print counter", "delete", "continue"},
		want: []string{
			"Breakpoint 1, bump (by=1) at ./dbg.c:15", "$1 = 6",
			"14\t\tcounter = before + by;", "$2 = 5", "=> 0x", "str\tx1, [x0]",
			"$3 = 5",
			"$4 = 6",
			"[Inferior 1 (process 2) exited with code 013]",
		},
	}, {
		name:  "reverse-continue to a watchpoint",
		prog:  "dbgrev",
		stdin: "abc\n",
		cmds: []string{"break dbgrev.c:20", "continue", "print acc", "watch acc", "reverse-continue", "print v", "bt 1",
			"reverse-continue", "print v", "continue", "print acc", "delete", "continue"},
		want: []string{
			"Breakpoint 1, main () at ./dbgrev.c:20", "$1 = 304891",
			"Hardware watchpoint 2: acc", "Old value = 304891", "New value = 9832", "fold (v=99) at ./dbgrev.c:9",
			"$2 = 99", "#0  0x", " in fold (v=99) at ./dbgrev.c:9",
			"Hardware watchpoint 2: acc", "Old value = 9832", "New value = 314", "fold (v=98) at ./dbgrev.c:9",
			"$3 = 98",
			"Hardware watchpoint 2: acc", "Old value = 314", "New value = 9832", "fold (v=98) at ./dbgrev.c:10",
			"$4 = 9832",
			"[Inferior 1 (process 2) exited normally]",
		},
	}, {
		name:  "reverse-continue to a breakpoint, reverse-next, reverse-step",
		prog:  "dbgrev",
		stdin: "xyz\n",
		cmds: []string{"break dbgrev.c:20", "break fold", "continue", "continue", "continue", "continue", "print v",
			"reverse-continue", "print v", "reverse-continue", "print v", "reverse-next", "reverse-step", "print i",
			"reverse-continue", "reverse-continue", "print line", "delete", "continue"},
		want: []string{
			"Breakpoint 2, fold (v=120)", "Breakpoint 2, fold (v=121)", "Breakpoint 2, fold (v=122)",
			"Breakpoint 1, main () at ./dbgrev.c:20", `No symbol "v" in current context.`,
			"Breakpoint 2, fold (v=122)", "$1 = 122",
			"Breakpoint 2, fold (v=121)", "$2 = 121",
			"main () at ./dbgrev.c:19", "19\t\t\tfold(line[i]);",
			"18\t\tfor (int i = 0; line[i] && line[i] != '\\n'; i++)", "$3 = 0",
			"Breakpoint 2, fold (v=120)",
			"No more reverse-execution history.",
			"$4 = '\\000' <repeats 63 times>",
			"[Inferior 1 (process 2) exited normally]",
		},
	}, {
		name:  "reverse-finish",
		prog:  "dbgrev",
		stdin: "xyz\n",
		cmds:  []string{"break fold", "continue", "continue", "reverse-finish", "print i", "print acc", "next", "print acc", "delete", "continue"},
		want: []string{
			"Breakpoint 1, fold (v=121)", "0x000000000040074c in main () at ./dbgrev.c:19",
			"$1 = 1", "$2 = 337", // 7*31 + 'x'
			"Breakpoint 1, fold (v=121)", "$3 = 337",
			"[Inferior 1 (process 2) exited normally]",
		},
	}, {
		name:  "registers and memory after reverse-continue equal the first pass",
		prog:  "dbgrev",
		stdin: "xyz\n",
		same:  true,
		cmds: []string{"break fold", "continue", "continue", `echo ==1==\n`, "info registers", "x/16gx $sp", "x/8gx &line", "output acc",
			`echo ==2==\n`, "continue", "watch acc", "continue", "reverse-continue", "delete 2", "reverse-continue", "reverse-continue",
			`echo ==3==\n`, "info registers", "x/16gx $sp", "x/8gx &line", "output acc", `echo ==4==\n`, "delete", "continue"},
		want: []string{"Breakpoint 1, fold (v=121)", "==1==", "==2==", "Breakpoint 1, fold (v=122)", "Hardware watchpoint 2: acc",
			"Old value = 10568", "New value = 327730", "Old value = 327730", "New value = 10568",
			"Breakpoint 1, fold (v=122)", "Breakpoint 1, fold (v=121)", "==3==", "==4==", "[Inferior 1 (process 2) exited normally]"},
	}, {
		name: "threads",
		prog: "dbgthreads",
		cmds: []string{"break worker", "continue", "continue", "reverse-continue", "print id", "info threads",
			"reverse-stepi", "next", "next", "print results", "delete", "continue"},
		want: []string{
			"Thread 2 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x0) at ./dbgthreads.c:9",
			"Thread 3 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x1) at ./dbgthreads.c:9",
			// Thread 2.3 had exited; back at its breakpoint it lives again.
			"[New Thread 2.3]", "Thread 4 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x0) at ./dbgthreads.c:9", "$1 = 0",
			"* 4    Thread 2.3 \"dbgthreads\" worker (arg=0x0) at ./dbgthreads.c:9",
			"8\t{", "Thread 4 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x0) at ./dbgthreads.c:9",
			"10\t\tresults[id] = (id + 1) * 10;", "$2 = {0, 0}",
			"[Inferior 1 (process 2) exited normally]",
		},
	}, {
		// Going back to the system calls caught: a return, then an
		// entry (before the svc); forward again, the entry stops after
		// it.
		name: "catch syscall",
		prog: "dbg",
		cmds: []string{"break exit", "continue", "catch syscall write", "reverse-continue", "print $x0", "reverse-continue",
			"print $x8", "print $x2", "reverse-continue", "continue", "print $x2", "continue", "print $x0", "delete", "continue"},
		want: []string{
			"Breakpoint 1, 0x", " in exit ()", "Catchpoint 2 (syscall 'write' [64])",
			"Catchpoint 2 (returned from syscall write), 0x", " in write ()", "$1 = 30",
			"Catchpoint 2 (call to syscall write), 0x", " in write ()", "$2 = 64", "$3 = 30",
			"No more reverse-execution history.",
			"Catchpoint 2 (call to syscall write), 0x", "$4 = 30",
			"Catchpoint 2 (returned from syscall write), 0x", "$5 = 30",
			"[Inferior 1 (process 2) exited with code 013]",
		},
	}, {
		// Threads kept stopped by the debugger: the recorded resumes.
		name: "scheduler-locking",
		prog: "dbgthreads",
		cmds: []string{"break worker", "continue", "set scheduler-locking on", "next", "next", "next", "reverse-next",
			"reverse-stepi", "set scheduler-locking off", "continue", "reverse-continue", "print id", "delete", "continue"},
		want: []string{
			"Thread 2 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x0) at ./dbgthreads.c:9",
			"10\t\tresults[id] = (id + 1) * 10;", "11\t\treturn NULL;", "12\t}", "11\t\treturn NULL;",
			"10\t\tresults[id] = (id + 1) * 10;",
			"Thread 3 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x1) at ./dbgthreads.c:9",
			"Thread 4 \"dbgthreads\" hit Breakpoint 1, worker (arg=0x0) at ./dbgthreads.c:9", "$1 = 0",
			"[Inferior 1 (process 2) exited normally]",
		},
	}, {
		// A fork child held stopped while its parent runs.
		name: "detach-on-fork off",
		prog: "dbgfork",
		pre:  []string{"set detach-on-fork off", "set schedule-multiple on"},
		cmds: []string{"break child_work", "continue", "next", "reverse-next", "reverse-stepi", "delete", "continue",
			"inferior 1", "continue"},
		want: []string{
			"[New inferior 2 (process 3)]",
			"Thread 2.1 \"dbgfork\" hit Breakpoint 1.2, child_work (x=1) at ./dbgfork.c:8", "9\t\treturn y;",
			"Thread 2.1 \"dbgfork\" hit Breakpoint 1.2, child_work (x=1) at ./dbgfork.c:8", "7\t{",
			"[Inferior 2 (process 3) exited with code 03]", "[Switching to inferior 1",
			"[Inferior 1 (process 2) exited normally]",
		},
	}, {
		name: "follow-fork",
		prog: "dbgfork",
		pre:  []string{"set follow-fork-mode child"},
		cmds: []string{"break child_work", "continue", "next", "print y", "reverse-next", "print y", "reverse-stepi", "delete",
			"reverse-continue", "info registers pc", "reverse-stepi", "break child_work", "continue", "next", "print y", "continue"},
		want: []string{
			"[Attaching after Thread 2.2 fork to child Thread 3.3]",
			"Thread 2.1 \"dbgfork\" hit Breakpoint 1, child_work (x=1) at ./dbgfork.c:8", "$1 = 3",
			"Thread 2.1 \"dbgfork\" hit Breakpoint 1, child_work (x=1) at ./dbgfork.c:8", "0x0000000000400698\t7\t{",
			// The child's history starts where fork returned in it.
			"No more reverse-execution history.", "in _Fork ()", "pc             0x",
			"No more reverse-execution history.", "in _Fork ()",
			"Thread 2.1 \"dbgfork\" hit Breakpoint 2.1, child_work (x=1) at ./dbgfork.c:8", "$3 = 3",
			"[Inferior 2 (process 3) exited with code 03]",
		},
	}, {
		name: "signals",
		prog: "dbgsig",
		cmds: []string{"break on_usr1", "continue", "continue", "continue", "continue", "print hits", "reverse-continue", "print hits",
			"reverse-continue", "print hits", "continue", "continue", "print hits", "delete", "handle SIGUSR1 nostop noprint",
			"reverse-continue", "print hits", "continue"},
		want: []string{
			"Program received signal SIGUSR1", "Breakpoint 1, on_usr1 (sig=10) at ./dbgsig.c:9",
			"Program received signal SIGUSR1", "Breakpoint 1, on_usr1 (sig=10) at ./dbgsig.c:9", "$1 = 10",
			"Breakpoint 1, on_usr1 (sig=10) at ./dbgsig.c:9", "$2 = 0",
			"No more reverse-execution history.", "$3 = 0",
			"Program received signal SIGUSR1", "Breakpoint 1, on_usr1 (sig=10) at ./dbgsig.c:9", "$4 = 0",
			"No more reverse-execution history.", "$5 = 0",
			"[Inferior 1 (process 2) exited normally]",
		},
	}}
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			prog := guest(t, s.prog)
			want := plainRun(t, prog, "/bin/"+s.prog, s.stdin)
			first := runReverse(t, s, prog, 0)
			t.Logf("transcript:\n%s", first.out)
			requireInOrder(t, first.out, s.want...)
			if s.same {
				between := func(a, b string) string {
					_, rest, _ := strings.Cut(first.out, a)
					part, _, _ := strings.Cut(rest, b)
					return part
				}
				forward := between("==1==", "==2==")
				require.Contains(t, forward, "x0 ")
				require.Equal(t, forward, between("==3==", "==4=="))
			}
			require.Equal(t, want.guest, first.guest, "the guest's output differs from a run without a debugger")
			require.Equal(t, want.status, first.status)
			second := runReverse(t, s, prog, 0)
			require.Equal(t, first.out, second.out, "the transcript differs from run to run")
			require.Equal(t, first.guest, second.guest)
			// Going back from checkpoints (every few hundred
			// instructions, so that nearly every step back restores one)
			// gives the same session as going back from the start.
			cps := runReverse(t, s, prog, 500)
			require.Equal(t, first.out, cps.out, "going back from checkpoints differs from going back from the start")
			require.Equal(t, first.guest, cps.guest)
			require.Equal(t, first.status, cps.status)
		})
	}
}

// runReverse runs session s against a kernel.Session taking a checkpoint
// every checkpointEvery instructions (0: none); cmds, when given, replace
// s.cmds.
func runReverse(t *testing.T, s reverseSession, prog string, checkpointEvery uint64, cmds ...string) gdbRun {
	if cmds == nil {
		cmds = s.cmds
	}
	mc := startSession(t, prog, "/bin/"+s.prog, s.stdin, checkpointEvery)
	r := runGDB(t, mc, prog, s.pre, cmds, "")
	if checkpointEvery > 0 && s.cmds != nil {
		st := mc.cps()
		t.Logf("checkpoints: %+v", st)
		require.Positive(t, st.Restored, "no step back started from a checkpoint")
		require.Positive(t, st.Forward, "the run forward took no checkpoint")
		require.Zero(t, st.Refused, st.Reason)
	}
	return r
}

// plainRun runs the program without a debugger.
func plainRun(t *testing.T, host, guestPath, stdin string) gdbRun {
	t.Helper()
	data, err := os.ReadFile(host)
	require.NoError(t, err)
	out := &syncbuf.Buffer{}
	m, err := kernel.New(kernel.Config{Stdin: strings.NewReader(stdin), Stdout: out, Stderr: out})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().MkdirAll("/bin", 0o755))
	require.NoError(t, m.FS().WriteFile(guestPath, data, 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: guestPath, Argv: []string{guestPath}})
	require.NoError(t, err)
	return gdbRun{guest: out.String(), status: st}
}

// A machine served without a session cannot go back: gdb is told so.
func TestReverseNeedsASession(t *testing.T) {
	prog := guest(t, "dbg")
	mc := startMachine(t, "", prog, "/bin/dbg")
	r := runGDB(t, mc, prog, nil, []string{"break bump", "continue", "reverse-stepi", "delete", "continue"}, "")
	requireInOrder(t, r.out, "Breakpoint 1, bump (by=1)", "Target remote does not support this command.",
		"[Inferior 1 (process 2) exited with code 013]")
}

// gdb's monitor commands show the position of the run and the session's
// checkpoints; a machine that cannot go back says so.
func TestMonitor(t *testing.T) {
	prog := guest(t, "dbg")
	mc := startSession(t, prog, "/bin/dbg", "", 500)
	r := runGDB(t, mc, prog, nil, []string{"monitor help", "break bump", "continue", "monitor when", "stepi",
		"monitor when", "reverse-stepi", "monitor when", "monitor checkpoints", "monitor nonsense", "delete", "continue"}, "")
	requireInOrder(t, r.out, "monitor when", "monitor checkpoints", "Breakpoint 1, bump (by=1)", "instruction ",
		"instruction ", "instruction ", "a checkpoint every 500 instructions at least", "while running forward",
		"  instruction ", "unknown monitor command \"nonsense\"", "[Inferior 1 (process 2) exited with code 013]")
	var when []string
	for _, l := range strings.Split(r.out, "\n") {
		if n, ok := strings.CutPrefix(l, "instruction "); ok {
			when = append(when, n)
		}
	}
	require.Len(t, when, 3)
	require.Equal(t, when[0], when[2], "reverse-stepi went back to where stepi started")
	require.NotEqual(t, when[0], when[1])

	plain := startMachine(t, "", prog, "/bin/dbg")
	r = runGDB(t, plain, prog, nil, []string{"monitor checkpoints", "continue"}, "")
	requireInOrder(t, r.out, "no checkpoints: this machine cannot go back", "exited with code 013")
}

// A change made at a system call's entry stop cannot be replayed (the
// call had not run there): reverse execution is turned off, and says why.
func TestReverseOffAfterChangeAtSyscallEntry(t *testing.T) {
	prog := guest(t, "dbg")
	mc := startSession(t, prog, "/bin/dbg", "", 0)
	r := runGDB(t, mc, prog, nil, []string{"catch syscall write", "continue", "set var counter = 3", "continue",
		"reverse-stepi", "delete", "continue"}, "")
	requireInOrder(t, r.out, "Catchpoint 1 (call to syscall write)", "Catchpoint 1 (returned from syscall write)",
		"reverse execution is off: the debugger changed the run while a thread was stopped at a system call's entry",
		"[Inferior 1 (process 2) exited with code 03]")
}

// What the debugger does to the PC (return, jump, an inferior call) is
// part of the run going back and forth replays: stepping back and forward
// again over it gives the run a forward-only session gives.
func TestReverseReplaysPCChanges(t *testing.T) {
	prog := guest(t, "dbg")
	forward := runReverse(t, reverseSession{prog: "dbg"}, prog, 0, "break bump", "continue", "delete", "return 99", "next",
		"print total", "print bump(100)", "print counter", "next", "next", "print total", "tbreak 44", "jump 40", "continue")
	for _, every := range []uint64{0, 500} {
		back := runReverse(t, reverseSession{prog: "dbg"}, prog, every, "break bump", "continue", "delete", "return 99", "next",
			"print total", "reverse-next", "next", "print total", "print bump(100)", "print counter", "reverse-stepi",
			"stepi", "print counter", "next", "next", "print total", "tbreak 44", "jump 40", "reverse-stepi", "stepi",
			"continue")
		requireInOrder(t, back.out, "$1 = 99", "$2 = 99", "$3 = 105", "$4 = 105", "$5 = 105", "$6 = 206",
			"Temporary breakpoint 2, main (argc=1, argv=", "[Inferior 1 (process 2) exited with code 0153]")
		require.Equal(t, forward.guest, back.guest)
		require.Equal(t, forward.status, back.status)
	}
	require.Equal(t, "total 206 counter 107 square 49\n", forward.guest, "jump 40 left the loop early")
}

// A caught call that stops the CPU (raise: tgkill to self) ends its run at
// a kernel stop point as it does when not caught, so what the debugger
// records after it (here, the signal it suppressed) replays at the same
// point: going back, hits stays what it was.
func TestReverseAfterCaughtCallThatStops(t *testing.T) {
	prog := guest(t, "dbgsig")
	for _, every := range []uint64{0, 500} {
		r := runReverse(t, reverseSession{prog: "dbgsig"}, prog, every, "catch syscall tgkill", "continue", "continue",
			"delete", "break printf", "continue", "signal 0", "print hits", "continue", "print hits", "reverse-stepi",
			"print hits", "reverse-continue", "print hits", "delete", "continue")
		requireInOrder(t, r.out, "Catchpoint 1 (call to syscall tgkill)", "Catchpoint 1 (returned from syscall tgkill)",
			"Program received signal SIGUSR1", "Breakpoint 2, ", "$1 = 0", "Program received signal SIGUSR1", "$2 = 0",
			"$3 = 0", "Breakpoint 2, ", "$4 = 0")
	}
}

// A reverse continue finds a caught call several checkpoints back (the
// first pass searches window by window, each a new machine) as it does
// without checkpoints.
func TestReverseCatchSyscallFarBack(t *testing.T) {
	prog := guest(t, "dbgwork")
	cmds := []string{"break exit", "continue", "catch syscall write", "reverse-continue", "print $x0", "reverse-continue",
		"print $x8", "delete", "continue"}
	want := runReverse(t, reverseSession{prog: "dbgwork"}, prog, 0, cmds...)
	requireInOrder(t, want.out, "Catchpoint 2 (returned from syscall write)", "$1 = 6", "Catchpoint 2 (call to syscall write)",
		"$2 = 64", "[Inferior 1 (process 2) exited normally]")
	got := runReverse(t, reverseSession{prog: "dbgwork"}, prog, 1_000_000, cmds...)
	require.Equal(t, want.out, got.out)
}

// gdb reads guest files (remote get) from the machine of the moment, also
// after going back, when that machine is a new one.
func TestRemoteGetAcrossGenerations(t *testing.T) {
	prog := guest(t, "dbg")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	r := runReverse(t, reverseSession{prog: "dbg"}, prog, 0, "break bump", "continue", "remote get /bin/dbg "+a,
		"reverse-stepi", "remote get /bin/dbg "+b, "delete", "continue")
	requireInOrder(t, r.out, "Breakpoint 1, bump (by=1)", "[Inferior 1 (process 2) exited with code 013]")
	want, err := os.ReadFile(prog)
	require.NoError(t, err)
	for _, p := range []string{a, b} {
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}
