package sis_test

import (
	"io"
	"testing"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// FuzzShellCommands runs arbitrary arguments through every registered
// command of a machine with all the SIS services: a command may fail, but
// never panic or stop the shell. Commands that run guests or end the
// session are left out (their arguments are paths and signals).
func FuzzShellCommands(f *testing.F) {
	m, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Console: io.Discard, Services: sis.DefaultServices()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	var cmds []string
	for _, c := range m.Shell().Commands() {
		switch c.Name {
		case "run", "exit", "wait", "kill":
		default:
			cmds = append(cmds, c.Name)
		}
	}
	for _, seed := range []string{
		"", "help", "status", "list", "load v1.0.0", "swap v1.0.0", "health", "audit last 3", "audit stats",
		"export --all", "show 1", "demo 2", "threshold 0", "threshold 999999999999", "mode canary10",
		"query --id", "register --id v1.0.0 --size -1 --ctx 99999999999", "budget --wcet-cycles 0",
		"init --endpoint http://[::1", "export-traces --output /proc/x", "test-fs-read", "on 1 2 3",
		"history -5", "shadow-deploy --id v1.1.0 --traffic 101", "'unterminated", "a\"b\"c",
	} {
		f.Add(0, seed)
	}
	f.Fuzz(func(t *testing.T, which int, args string) {
		if which < 0 {
			which = -which
		}
		name := cmds[which%len(cmds)]
		_, _ = m.Shell().Exec(name + " " + args) // a panic fails the fuzz target
		if out, err := m.Shell().Exec("echo alive"); err != nil || out != "alive\n" {
			t.Fatalf("the shell stopped after %s %s: %q %v", name, args, out, err)
		}
	})
}
