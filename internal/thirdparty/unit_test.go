package thirdparty

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCasesAreWellFormed(t *testing.T) {
	cases := AllCases()
	require.NoError(t, CheckCases(cases))
	require.Greater(t, len(cases), 400)
	for _, c := range cases {
		if c.QemuWrong != "" {
			require.NotNil(t, c.Want, c.ID())
		}
	}
	dup := []Case{{Suite: "s", Name: "a", Prog: "x"}, {Suite: "s", Name: "a", Prog: "y"}}
	require.ErrorContains(t, CheckCases(dup), "defined twice")
	for _, bad := range []Case{
		{Suite: "s", Name: "with space", Prog: "x"},
		{Suite: "s", Name: "a/b", Prog: "x"},
		{Suite: "s", Name: "a", Prog: "rel/path"},
		{Suite: "s", Name: "a", Prog: "x", QemuWrong: "reason"},
		{Suite: "s", Name: "a", Prog: "x", Files: map[string]string{"../up": ""}},
		{Suite: "s", Name: "a", Prog: "x", Files: map[string]string{"/abs": ""}},
	} {
		require.Error(t, bad.Validate(), "%+v", bad)
	}
	require.NoError(t, Case{Suite: "s", Name: "a", Prog: "x", Files: map[string]string{"dir/": "", "d/f": "x"}}.Validate())
}

func TestExpectationsRoundTrip(t *testing.T) {
	in := "# comment\n\nbusybox/id\tENOSYS getgroups\ncoreutils/ls\texec refused: dynamically linked\n"
	exp, err := ParseExpectations(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, Expectations{"busybox/id": "ENOSYS getgroups", "coreutils/ls": "exec refused: dynamically linked"}, exp)
	var b bytes.Buffer
	require.NoError(t, exp.Format(&b))
	require.True(t, strings.HasPrefix(b.String(), "# Known mismatches"))
	again, err := ParseExpectations(&b)
	require.NoError(t, err)
	require.Equal(t, exp, again)

	for _, bad := range []string{
		"busybox/id\n",                   // no cause
		"busybox id\tcause\n",            // no suite
		"busybox/id\tx\nbusybox/id\ty\n", // twice
	} {
		_, err := ParseExpectations(strings.NewReader(bad))
		require.Error(t, err, bad)
	}
}

func TestFailedCalls(t *testing.T) {
	sim := "[pid 1] openat(AT_FDCWD, \"/w/work/x\", O_RDONLY) = -1 ENOENT (No such file or directory)\n" +
		"[pid 1] fcntl(3, 6, 0x7ff) = -1 EINVAL (Invalid argument)\n" +
		"[pid 2] read(0, \"\", 10) = 0\n" +
		"ioctl(1, TCGETS, 0x1) = -1 ENOTTY (Inappropriate ioctl for device)\n"
	got := failedCalls([]byte(sim), simLine, "/w/work")
	require.Equal(t, []failedCall{
		{name: "openat", path: "$WORK/x", errno: "ENOENT"},
		{name: "fcntl(F_SETLK)", errno: "EINVAL"},
		{name: "ioctl(TCGETS)", errno: "ENOTTY"},
	}, got)

	qemu := "12 fcntl(4,F_SETLK,0x55) = -1 errno=11 (Resource temporarily unavailable)\n" +
		"12 Unknown syscall 293\n" +
		"12 openat(AT_FDCWD,\"/etc/x\",O_RDONLY) = 3\n"
	got = failedCalls([]byte(qemu), qemuLine, "/w/work")
	require.Equal(t, []failedCall{
		{name: "fcntl(F_SETLK)", errno: "EAGAIN"},
		{name: "rseq", errno: "ENOSYS"},
	}, got)
}

func TestClassify(t *testing.T) {
	base := Outcome{Work: "/w/work", Sim: Side{Stdout: []byte("a")}, Ref: Side{Stdout: []byte("b")}}
	with := func(f func(o *Outcome)) Outcome { o := base; f(&o); return o }

	require.Equal(t, "exec refused: dynamically linked", Classify(with(func(o *Outcome) {
		o.SimResult.ExecError = "dynamically linked"
	}), nil, CopedENOSYS))
	require.Equal(t, "sissim hangs (killed by the harness)", Classify(with(func(o *Outcome) {
		o.Sim.Err = "sissim did not finish within 3m0s (killed)"
	}), nil, CopedENOSYS))
	require.Equal(t, "never finishes (instruction budget exhausted)", Classify(with(func(o *Outcome) {
		o.SimResult.Report = "instruction budget of 5 exhausted"
	}), nil, CopedENOSYS))

	// The program says ENOSYS: the unimplemented calls, less the coped ones.
	said := with(func(o *Outcome) {
		o.Sim.Stderr = []byte("mkfifo: f: Function not implemented\n")
		o.SimResult.Unimplemented = map[string]uint64{"mknodat": 1, "fadvise64": 2}
	})
	require.Equal(t, "ENOSYS mknodat", Classify(said, nil, CopedENOSYS))

	d := &Diagnosis{
		Traced: true,
		SimFailed: []failedCall{
			{name: "openat", path: "/usr/share/locale/locale.alias", errno: "ENOENT"}, // host only
			{name: "openat", path: "$WORK/.bashrc", errno: "ENOENT"},                  // a consequence
			{name: "ioctl(TCGETS)", errno: "ENOTTY"},                                  // console probe
			{name: "openat", path: "/etc/passwd", errno: "ENOENT"},                    // shared
			{name: "fcntl(F_SETLK)", errno: "EINVAL"},
		},
		QemuFailed: []failedCall{{name: "openat", path: "/etc/passwd", errno: "ENOENT"}},
		inRoot:     func(p string) bool { return p != "/usr/share/locale/locale.alias" },
	}
	silent := with(func(o *Outcome) { o.SimResult.Unimplemented = map[string]uint64{"getgroups": 1} })
	require.Equal(t, "fcntl(F_SETLK) -> EINVAL (qemu-user: no such failure)", Classify(silent, d, CopedENOSYS))
	// Without a trace difference, the silent ENOSYS call is the cause.
	require.Equal(t, "ENOSYS getgroups", Classify(silent, &Diagnosis{Traced: true}, CopedENOSYS))

	nested := &Diagnosis{SimFailed: []failedCall{{name: "execve", path: "/x/dash", errno: "ENOEXEC"}}}
	require.Equal(t, "nested execve fails with ENOEXEC", Classify(base, nested, CopedENOSYS))
	require.Equal(t, "output differs: stdout", Classify(base, nil, CopedENOSYS))
}

func TestResolveInRoot(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/lib/klibc/bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr/lib/klibc/bin/mksh"), nil, 0o755))
	require.NoError(t, os.Symlink("/usr/lib/klibc/bin/mksh", filepath.Join(root, "bin/abs")))
	require.NoError(t, os.Symlink("../usr/lib/klibc/bin/mksh", filepath.Join(root, "bin/rel")))
	require.NoError(t, os.Symlink("/usr/lib", filepath.Join(root, "lib")))
	require.NoError(t, os.Symlink("loop", filepath.Join(root, "bin/loop")))
	want := filepath.Join(root, "usr/lib/klibc/bin/mksh")
	for _, p := range []string{"/bin/abs", "/bin/rel", "/lib/klibc/bin/mksh", "/usr/lib/klibc/bin/mksh"} {
		got, err := resolveInRoot(root, p)
		require.NoError(t, err, p)
		require.Equal(t, want, got, p)
	}
	_, err := resolveInRoot(root, "/bin/loop")
	require.ErrorContains(t, err, "too many levels")
	_, err = resolveInRoot(root, "/bin/missing")
	require.Error(t, err)
}

func TestMergeEnv(t *testing.T) {
	require.Equal(t, []string{"A=1", "B=3", "C=4"}, mergeEnv([]string{"A=1", "B=2"}, []string{"B=3", "C=4"}))
}

func TestSummarizeAndRank(t *testing.T) {
	out := []Outcome{
		{Case: Case{Suite: "a", Name: "1"}, Match: true},
		{Case: Case{Suite: "a", Name: "2", QemuWrong: "x"}, Match: true},
		{Case: Case{Suite: "a", Name: "3"}},
		{Case: Case{Suite: "b", Name: "1"}},
	}
	require.Equal(t, []Summary{{Suite: "a", Cases: 3, Match: 1, Exceptions: 1, Failed: 1}, {Suite: "b", Cases: 1, Failed: 1}}, Summarize(out))
	ranked := RankClasses(map[string]string{"a/3": "x", "b/1": "x", "c/1": "y"})
	require.Equal(t, []ClassCount{{Class: "x", Cases: []string{"a/3", "b/1"}}, {Class: "y", Cases: []string{"c/1"}}}, ranked)
}

// TestRunSpecFile runs the child side in process on a static guest: the
// root's top-level directories appear read-only, the working directory is
// copied into the machine, and the result file reports the run.
func TestRunSpecFile(t *testing.T) {
	hello, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "guests", "hello"))
	require.NoError(t, err)
	root, work, out := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "hello"), hello, 0o755))
	require.NoError(t, os.Symlink("/bin/hello", filepath.Join(root, "hello-link")))
	require.NoError(t, os.WriteFile(filepath.Join(work, "in.txt"), []byte("x"), 0o644))
	stdin := filepath.Join(out, "stdin")
	require.NoError(t, os.WriteFile(stdin, nil, 0o644))
	spec := SimSpec{
		Root: root, WorkDir: work, Prog: "/bin/hello", Argv: []string{"hi", "3"},
		Env: []string{"SISSIM_GREETING=g"}, Stdin: stdin, MaxInsns: 1e9, Out: out, Strace: true,
		Links: map[string]string{"/x/bin/hello": "/bin/hello"},
	}
	data, err := json.Marshal(spec)
	require.NoError(t, err)
	specFile := filepath.Join(out, "spec.json")
	require.NoError(t, os.WriteFile(specFile, data, 0o644))
	require.NoError(t, RunSpecFile(specFile))

	var res SimResult
	b, err := os.ReadFile(filepath.Join(out, simResult))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res))
	require.Equal(t, 3, res.Exit)
	require.Empty(t, res.ExecError)
	stdout, err := os.ReadFile(filepath.Join(out, simStdout))
	require.NoError(t, err)
	require.Equal(t, "Hello, world!\nargv[0]=hi\nargv[1]=3\nSISSIM_GREETING=g\n", string(stdout))
	trace, err := os.ReadFile(filepath.Join(out, simStrace))
	require.NoError(t, err)
	require.Contains(t, string(trace), "exit_group(3)")

	fsys, err := guestFS(spec)
	require.NoError(t, err)
	got, err := fsys.ReadFile(filepath.ToSlash(filepath.Join(work, "in.txt")))
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
	target, err := fsys.Readlink("/x/bin/hello")
	require.NoError(t, err)
	require.Equal(t, "/bin/hello", target)
	require.Error(t, fsys.WriteFile("/bin/new", nil, 0o644), "the root is read-only")
}
