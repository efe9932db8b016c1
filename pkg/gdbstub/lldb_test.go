package gdbstub

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLLDB runs an lldb session against the fake target, twice, for the
// same transcript. (Not the same packet log: lldb's own threads race to
// list threads once more now and then.) lldb is optional: Debian's lldb
// package provides it.
//
// lldb plants its own breakpoint at the entry point when it connects and
// takes the initial stop there for a hit of it, then continues: so the
// breakpoints are set before gdb-remote, as with qemu-user's stub.
func TestLLDB(t *testing.T) {
	path := buildProg(t)
	if _, err := exec.LookPath("lldb"); err != nil {
		t.Skip("lldb is not installed")
	}
	sym := progSymbols(t, path)
	at := func(format, name string, off uint64) string { return fmt.Sprintf(format, sym[name]+off) }
	cmds := []string{
		"breakpoint set --name bump", "gdb-remote ADDR",
		"register read x19 pc cpsr fpsr", "register read v0",
		"memory read --format x --size 8 --count 2 &counter", "bt", "thread list",
		"watchpoint set expression -w write -s 8 -- &counter", "continue", "si",
		"memory read --format x --size 8 --count 1 &counter", "process kill",
	}
	args := []string{"--no-lldbinit", "--batch", path}
	for _, c := range cmds {
		args = append(args, "-o", c)
	}
	var runs []debugRun
	for i := 0; i < 2; i++ {
		runs = append(runs, runDebugger(t, progMachine(t, path), "lldb", append([]string(nil), args...), false))
	}
	requireInOrder(t, runs[0].out,
		"* thread #1, stop reason = breakpoint 1.1",
		at("frame #0: 0x%016x prog`bump", "bump", 0),
		at("x19 = 0x%016x  counter", "counter", 0),
		at("pc = 0x%016x  prog`bump", "bump", 0),
		"cpsr = 0x00000000",
		"fpsr = 0x00000000",
		"v0 = {0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00}",
		at("0x%08x: 0x0000000000000000 0x0000000000000000", "counter", 0),
		at("frame #1: 0x%016x prog`_start + 16", "_start", 16),
		"tid = 100",
		"Watchpoint 1 hit:",
		"old value: 0x0000000000000000",
		"new value: 0x0000000000000001",
		"stop reason = watchpoint 1",
		at("frame #0: 0x%016x prog`after_store", "after_store", 0),
		"stop reason = instruction step into",
		at("0x%08x: 0x0000000000000001", "counter", 0),
		"Process 100 exited with status = 9 (0x00000009)",
	)
	require.Equal(t, runs[0].out, runs[1].out, "the lldb transcript differs between runs")
}
