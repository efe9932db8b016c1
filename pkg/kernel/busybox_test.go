package kernel_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// busyboxData is the file the file-reading applets read, installed as
// data.txt in the working directory of both runs.
const busyboxData = "banana\napple\ncherry\napple\n\tindented line\nlast line without newline"

// TestBusyboxApplets runs single-process applets of Debian's arm64
// busybox-static under sissim and qemu-aarch64-static and requires the same
// stdout, stderr and exit status.
func TestBusyboxApplets(t *testing.T) {
	bb := difftest.Busybox(t)
	files := map[string][]byte{
		"data.txt":  []byte(busyboxData),
		"empty":     {},
		"bytes.bin": binaryBytes(),
	}
	cases := []struct {
		name  string
		args  []string
		stdin string
	}{
		{name: "echo", args: []string{"echo", "hello", "world"}},
		{name: "echo -n", args: []string{"echo", "-n", "no newline"}},
		{name: "echo -e", args: []string{"echo", "-e", `tab\there\nnew line\\`}},
		{name: "printf", args: []string{"printf", `%s=%d hex=%x oct=%o %5.2f|%-6s|%c\n`, "name", "42", "255", "8", "3.14159", "ab", "xyz"}},
		{name: "printf reuses format", args: []string{"printf", `[%s:%03d]\n`, "a", "1", "b", "22"}},
		{name: "printf bad number", args: []string{"printf", `%d\n`, "12x"}},
		{name: "true", args: []string{"true"}},
		{name: "false", args: []string{"false"}},
		{name: "uname -m", args: []string{"uname", "-m"}},
		{name: "uname -s", args: []string{"uname", "-s"}},
		{name: "basename", args: []string{"basename", "/usr/lib/libfoo.so.txt", ".txt"}},
		{name: "dirname", args: []string{"dirname", "/usr/lib/libfoo.so"}},
		{name: "seq", args: []string{"seq", "5"}},
		{name: "seq step", args: []string{"seq", "-s,", "2", "3", "20"}},
		{name: "seq down", args: []string{"seq", "3", "-1", "-2"}},
		{name: "expr add", args: []string{"expr", "3", "+", "4"}},
		{name: "expr mul", args: []string{"expr", "6", "*", "7"}},
		{name: "expr length", args: []string{"expr", "length", "sissim"}},
		{name: "expr false", args: []string{"expr", "1", "=", "2"}},
		{name: "expr error", args: []string{"expr", "1", "+"}},
		{name: "factor", args: []string{"factor", "1234567", "600851475143"}},
		{name: "sha256sum file", args: []string{"sha256sum", "data.txt", "empty", "bytes.bin"}},
		{name: "sha256sum stdin", args: []string{"sha256sum"}, stdin: busyboxData},
		{name: "sha512sum file", args: []string{"sha512sum", "bytes.bin"}},
		{name: "md5sum stdin", args: []string{"md5sum"}, stdin: busyboxData},
		{name: "cksum", args: []string{"cksum", "data.txt"}},
		{name: "sha256sum missing", args: []string{"sha256sum", "missing.txt"}},
		{name: "wc stdin", args: []string{"wc"}, stdin: busyboxData},
		{name: "wc -l stdin", args: []string{"wc", "-l"}, stdin: busyboxData},
		{name: "wc -c empty stdin", args: []string{"wc", "-c"}},
		{name: "wc file", args: []string{"wc", "data.txt"}},
		{name: "cat file", args: []string{"cat", "data.txt"}},
		{name: "cat stdin", args: []string{"cat"}, stdin: busyboxData},
		{name: "cat missing", args: []string{"cat", "missing.txt"}},
		{name: "tac", args: []string{"tac", "data.txt"}},
		{name: "head", args: []string{"head", "-n", "2", "data.txt"}},
		{name: "head -c", args: []string{"head", "-c", "5", "data.txt"}},
		{name: "tail", args: []string{"tail", "-n", "2", "data.txt"}},
		{name: "tail -c", args: []string{"tail", "-c", "7", "data.txt"}},
		{name: "dd", args: []string{"dd", "if=bytes.bin", "bs=16", "skip=2", "count=3", "status=none"}},
		{name: "sort", args: []string{"sort"}, stdin: busyboxData},
		{name: "sort -u -r", args: []string{"sort", "-u", "-r", "data.txt"}},
		{name: "sort -n", args: []string{"sort", "-n"}, stdin: "10\n9\n-3\n100\n"},
		{name: "uniq -c", args: []string{"uniq", "-c"}, stdin: "a\na\nb\na\n"},
		{name: "tr", args: []string{"tr", "a-z", "A-Z"}, stdin: busyboxData},
		{name: "cut", args: []string{"cut", "-c", "1-3"}, stdin: busyboxData},
		{name: "grep", args: []string{"grep", "-n", "apple", "data.txt"}},
		{name: "grep no match", args: []string{"grep", "durian"}, stdin: busyboxData},
		{name: "sed", args: []string{"sed", "-e", "s/an/AN/g", "-e", "2d"}, stdin: busyboxData},
		{name: "awk", args: []string{"awk", `{ n += length($0) } END { printf "%d lines, %d chars, %.3f\n", NR, n, n / NR }`, "data.txt"}},
		{name: "od", args: []string{"od", "-A", "x", "-t", "x1", "bytes.bin"}},
		{name: "hexdump -C", args: []string{"hexdump", "-C", "data.txt"}},
		{name: "base64", args: []string{"base64", "bytes.bin"}},
		{name: "stat", args: []string{"stat", "-c", "%n %s %F %a", "data.txt", "empty"}},
		{name: "test -f", args: []string{"test", "-f", "data.txt"}},
		{name: "test -d", args: []string{"test", "-d", "data.txt"}},
		{name: "realpath", args: []string{"realpath", "data.txt"}},
		{name: "pwd", args: []string{"pwd"}},
		{name: "env", args: []string{"env"}},
		{name: "printenv", args: []string{"printenv", "LC_ALL"}},
		{name: "sleep", args: []string{"sleep", "0.01"}},
		{name: "cp -v", args: []string{"cp", "-v", "data.txt", "copy.txt"}},
		{name: "mv", args: []string{"mv", "data.txt", "moved.txt"}},
		{name: "ln -sv", args: []string{"ln", "-sv", "data.txt", "link"}},
		{name: "touch", args: []string{"touch", "new.txt"}},
		{name: "truncate", args: []string{"truncate", "-s", "4096", "data.txt"}},
		{name: "rmdir missing", args: []string{"rmdir", "missing"}},
		{name: "mkdir existing file", args: []string{"mkdir", "data.txt"}},
		{name: "head /dev/zero", args: []string{"od", "-N", "8", "-t", "x1", "/dev/zero"}},
		{name: "cat /dev/null", args: []string{"cat", "/dev/null"}},
		{name: "stat /dev/null", args: []string{"stat", "-c", "%F %t,%T", "/dev/null"}},
		{name: "sh builtins", args: []string{"sh", "-c", `x=$((6*7)); for i in 1 2 3; do printf '%s:%d ' "$i" "$x"; done; echo; echo err >&2; exit 3`}},
		{name: "sh read", args: []string{"sh", "-c", `while read a b; do echo "$b $a"; done`}, stdin: "one two\nthree four\n"},
		{name: "sh syntax error", args: []string{"sh", "-c", "if then"}},
		{name: "unknown applet", args: []string{"no-such-applet"}},
		{name: "ls", args: []string{"ls", "-a"}},
		{name: "find", args: []string{"find", "."}},
		{name: "mkdir", args: []string{"mkdir", "-v", "-p", "new/sub"}},
		{name: "rm", args: []string{"rm", "-v", "data.txt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, ref := difftest.Run(t, bb, c.args, difftest.Options{
				Env:   []string{"LC_ALL=C", "HOME=/", "A=1"},
				Stdin: []byte(c.stdin),
				Files: files,
			})
			difftest.Equal(t, sim, ref)
		})
	}
}

// binaryBytes returns every byte value twice, for the checksum and od cases.
func binaryBytes() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestBusyboxDeterministic runs applets that read the clock and the random
// generator twice under sissim: same seed and inputs, byte-identical output
// and system-call trace (qemu, on the host clock, is no reference here).
func TestBusyboxDeterministic(t *testing.T) {
	bb := difftest.Busybox(t)
	for _, args := range [][]string{
		{"mktemp", "-u", "/tmp/x.XXXXXXXX"},
		{"date", "+%s %N"},
		{"sha256sum", "data.txt"},
	} {
		t.Run(args[0], func(t *testing.T) {
			dir := t.TempDir()
			opt := difftest.Options{Dir: dir, Files: map[string][]byte{"data.txt": []byte(busyboxData)}}
			a := difftest.RunSim(t, bb, args, opt)
			b := difftest.RunSim(t, bb, args, opt)
			require.Equal(t, 0, a.Exit, "stderr: %s", a.Stderr)
			require.NotEmpty(t, a.Stdout)
			require.Equal(t, string(a.Stdout), string(b.Stdout))
			require.Equal(t, a.Strace, b.Strace)
		})
	}
}

// TestBusyboxDfHostMount compares df on a host directory: sissim passes the
// host's statfs through its host mount, so the header and the size of the
// file system agree with qemu's. The device and mount-point columns differ
// by design (sissim names the mounted directory), and used and available
// space may move between the two runs, so they are compared loosely.
func TestBusyboxDfHostMount(t *testing.T) {
	bb := difftest.Busybox(t)
	dir := t.TempDir()
	opt := difftest.Options{Dir: dir, Setup: func(m *kernel.Machine) error { return m.FS().MountHost(dir, dir, false) }}
	sim, ref := difftest.Run(t, bb, []string{"df", "-k", "-P", dir}, opt)
	require.Equal(t, 0, sim.Exit, "stderr: %s", sim.Stderr)
	require.Equal(t, ref.Exit, sim.Exit)
	simLines := strings.Split(strings.TrimSpace(string(sim.Stdout)), "\n")
	refLines := strings.Split(strings.TrimSpace(string(ref.Stdout)), "\n")
	require.Len(t, simLines, 2, "%s", sim.Stdout)
	require.Len(t, refLines, 2, "%s", ref.Stdout)
	require.Equal(t, refLines[0], simLines[0])
	simF, refF := strings.Fields(simLines[1]), strings.Fields(refLines[1])
	require.Len(t, simF, 6)
	require.Len(t, refF, 6)
	require.Equal(t, refF[1], simF[1], "1024-blocks")
	require.Equal(t, dir, simF[5], "mounted on")
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err, s)
		return v
	}
	total := num(refF[1])
	for _, col := range []int{2, 3} { // used, available: within 1% of the size
		require.InDelta(t, num(refF[col]), num(simF[col]), total/100+1, "column %d", col)
	}
}
