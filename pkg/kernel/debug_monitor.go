package kernel

import (
	"fmt"
	"strings"
)

// monitorHelp lists the debugger's monitor commands.
const monitorHelp = `sissim monitor commands:
  monitor when          the position of the run: instructions executed so far
  monitor checkpoints   the checkpoints of a reverse-debugging session
  monitor help          this list
`

// Monitor runs gdb's "monitor" commands (gdbstub.Monitor) on the stopped
// machine.
func (d *debugger) Monitor(cmd string) (string, error) {
	var out string
	var err error
	cerr := d.call(func() {
		switch strings.Join(strings.Fields(cmd), " ") {
		case "", "help":
			out = monitorHelp
		case "when":
			out = fmt.Sprintf("instruction %d\n", d.m.clock.Insns())
		case "checkpoints":
			out = d.describeCheckpoints()
		default:
			err = fmt.Errorf("unknown monitor command %q (monitor help lists them)", cmd)
		}
	})
	if cerr != nil {
		return "", cerr
	}
	return out, err
}

// describeCheckpoints says what the session's checkpoints are.
func (d *debugger) describeCheckpoints() string {
	r := d.rec
	if r == nil {
		return "no checkpoints: this machine cannot go back (sissim run --gdb with the deterministic clock can)\n"
	}
	cs := &r.cps
	var b strings.Builder
	if cs.Every == 0 {
		b.WriteString("checkpoints are off\n")
	} else {
		fmt.Fprintf(&b, "a checkpoint every %d instructions at least (%d per byte of RAM in use), at most %d holding %d MiB of pages\n",
			cs.Every, cs.PerByte, cs.Keep, cs.MaxBytes>>20)
	}
	st := cs.stats
	fmt.Fprintf(&b, "taken %d (%d while running forward), restored %d, refused %d\n", st.Taken, st.Forward, st.Restored, st.Refused)
	if st.Reason != "" {
		fmt.Fprintf(&b, "last refused because: %s\n", st.Reason)
	}
	if r.broken != nil {
		fmt.Fprintf(&b, "reverse execution is off: %v\n", r.broken)
	}
	fmt.Fprintf(&b, "held %d, their pages %d KiB:\n", len(cs.list), cs.bytes>>10)
	for _, c := range cs.list {
		fmt.Fprintf(&b, "  instruction %d (%d KiB in use, %d KiB of pages added)\n", c.at.pos,
			c.cp.ram().InUse()>>10, c.cp.ram().Added()>>10)
	}
	return b.String()
}
