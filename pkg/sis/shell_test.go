package sis_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
	"github.com/sis-kernel/sissim/pkg/sis"
)

// guestsDir is testdata/guests at the module root.
var guestsDir = filepath.Join("..", "..", "testdata", "guests")

// boot boots a deterministic machine with the test guests in /bin.
func boot(t testing.TB, console io.Writer) *sis.System {
	t.Helper()
	m, err := sis.Boot(sis.BootConfig{
		Image:   map[string]fs.FS{"/bin": os.DirFS(guestsDir)},
		Console: console,
	})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestBootMarkers(t *testing.T) {
	var con bytes.Buffer
	m := boot(t, &con)
	want := "KERNEL(U)\nSTACK OK\nVECTORS OK\nMMU ON\nUART: READY\nMETRIC cntfrq_hz=62500000\n"
	for _, mt := range m.FS().Mounts() {
		if strings.HasPrefix(mt.Path, "/dev/") {
			continue // /dev/shm: devfs's marker covers it
		}
		want += "VFS: MOUNT " + map[string]string{"tmpfs": "TMPFS", "devtmpfs": "DEVFS", "devfs": "DEVFS", "proc": "PROCFS"}[mt.Type] + " AT " + mt.Path + "\n"
	}
	want += "VFS: READY\nGIC: INIT\nLAUNCHING SHELL\n"
	require.Equal(t, want, con.String())
	// Every line is one of SIS's markers, in SIS's order.
	lines := strings.Split(strings.TrimSuffix(con.String(), "\n"), "\n")
	i := 0
	for _, l := range lines {
		for i < len(sis.BootMarkers) && sis.BootMarkers[i] != l {
			i++
		}
		require.Less(t, i, len(sis.BootMarkers), "marker %q out of order or unknown", l)
	}
	require.Equal(t, "VFS: MOUNT TMPFS AT /", lines[6])
}

// serve runs the shell with a prompt on input and returns its output and
// errors (in one stream, as a terminal shows them).
func serve(t *testing.T, m *sis.System, input string) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	failures, err := m.Shell().Serve(strings.NewReader(input), &out, sis.ReplOptions{Prompt: true})
	return out.String(), failures, err
}

func TestShellBannerPrompt(t *testing.T) {
	m := boot(t, nil)
	out, failures, err := serve(t, m, "echo hi\rbogus\r\nexit\r")
	require.ErrorIs(t, err, sis.ErrExit)
	require.Equal(t, 1, failures)
	require.Equal(t, "\n=== SIS Kernel Shell ===\nType 'help' for available commands\n\nsis> hi\n"+
		"sis> error: Unknown command: bogus\nType 'help' for available commands\nsis> Goodbye!\n", out)
}

// lines is a LineReader over a list of lines, as a line editor returns them.
type lines []string

func (l *lines) ReadLine() (string, error) {
	if len(*l) == 0 {
		return "", io.EOF
	}
	s := (*l)[0]
	*l = (*l)[1:]
	if s == "^C" {
		return "", sis.ErrInterrupted
	}
	return s, nil
}

// An editor's lines: no prompt from the shell, Ctrl-C drops a line, the end
// of input ends the shell, exit N gives its status.
func TestShellServeEditor(t *testing.T) {
	m := boot(t, nil)
	var out, errOut bytes.Buffer
	ed := &lines{"echo a", "^C", "cat", "echo b"}
	failures, err := m.Shell().Serve(nil, &out, sis.ReplOptions{Prompt: true, Lines: ed, Stderr: &errOut})
	require.NoError(t, err)
	require.Equal(t, 1, failures)
	require.Equal(t, sis.ShellBanner+"a\nb\n", out.String())
	require.Equal(t, "error: cat: missing arguments\nusage: cat [-x] <file>\n", errOut.String())

	ed = &lines{"exit 3", "echo never"}
	_, err = m.Shell().Serve(nil, &out, sis.ReplOptions{Lines: ed})
	var ee *sis.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.Code)
	require.Len(t, *ed, 1, "nothing is read after exit")
}

func TestShellUnknownCommand(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("frobnicate now")
	require.Error(t, err)
	require.Equal(t, "error: Unknown command: frobnicate\nType 'help' for available commands\n", out)
}

func TestShellBadInputGoesOn(t *testing.T) {
	m := boot(t, nil)
	long := strings.Repeat("x", sis.MaxShellLine+1)
	input := strings.Join([]string{
		long,                     // too long
		"\x00\x01\xff\xfe\x80zz", // binary garbage
		"cat",                    // missing argument
		"run",                    // missing argument
		"ls /nonexistent",        // missing file
		"echo 'unterminated",     // bad quoting
		"run /bin/nothere",       // missing program
		"echo still here",
	}, "\n") + "\n"
	var out, errOut bytes.Buffer
	failures, err := m.Shell().Serve(strings.NewReader(input), &out, sis.ReplOptions{Stderr: &errOut})
	require.NoError(t, err)
	require.Equal(t, 7, failures)
	require.Equal(t, "still here\n", out.String(), "errors go to the error stream")
	require.Equal(t, "error: line too long (more than 256 bytes)\n"+
		"error: line contains a control character (0x00)\n"+
		"error: cat: missing arguments\nusage: cat [-x] <file>\n"+
		"error: run: missing arguments\nusage: run [--gdb <port>] <prog> [<arg>...] [&]\n"+
		"error: ls: /nonexistent: No such file or directory\n"+
		"error: unterminated ' quote\n"+
		"error: run /bin/nothere: No such file or directory\n", errOut.String())

	// Exactly 256 bytes is accepted.
	ok := "echo " + strings.Repeat("y", sis.MaxShellLine-5)
	got, err := m.Shell().Exec(ok)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("y", sis.MaxShellLine-5)+"\n", got)
}

func TestShellHelpListsEveryCommand(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("help")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "Available commands"))
	for _, c := range m.Shell().Commands() {
		require.True(t, strings.HasPrefix(c.Usage, c.Name), c.Usage)
		if len(c.Subs) == 0 {
			require.Contains(t, out, "  "+c.Usage+"\n")
			continue
		}
		subs := make([]string, len(c.Subs))
		for i, s := range c.Subs {
			subs[i] = s.Name
		}
		require.Contains(t, out, "  "+c.Name+" "+strings.Join(subs, "|")+"  ")
	}
	for _, name := range []string{"help", "version", "echo", "uptime", "ls", "cat", "ps", "run", "memstats", "metrics", "metricsctl", "det", "exit"} {
		require.Contains(t, out, "  "+name)
	}
}

func TestShellFilesAndVersion(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("version; ls /; ls /bin; cat /etc/hostname")
	require.NoError(t, err)
	require.Contains(t, out, "SIS Kernel")
	require.Contains(t, out, "Listing /:\n")
	require.Contains(t, out, "d bin\n")
	require.Contains(t, out, "Listing /bin:\n")
	require.Contains(t, out, "f hello\n")
	require.True(t, strings.HasSuffix(out, "sis\n"), out)

	out, err = m.Shell().Exec("cat /bin")
	require.Error(t, err)
	require.Equal(t, 1, strings.Count(out, "\n"), out)
}

func TestShellRunGuest(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("run /bin/hello a b")
	require.NoError(t, err)
	require.Equal(t, "Hello, world!\nargv[0]=/bin/hello\nargv[1]=a\nargv[2]=b\n[pid 2] exit status 0\n", out)

	out, err = m.Shell().Exec("run hello 3")
	require.Error(t, err)
	require.Contains(t, out, "[pid 3] exit status 3\n")

	out, err = m.Shell().Exec("run /bin/segv null")
	require.Error(t, err)
	require.Contains(t, out, "killed by SIGSEGV")

	out, err = m.Shell().Exec("ps")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(out, "\n"), "no process is left: %q", out)
}

func TestShellDet(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("det on 10000000 100000000 100000000; det status; det off")
	require.NoError(t, err)
	require.Equal(t, "[DET] admitted\n[DET] enabled=1 wcet_ns=10000000 misses=0\n[DET] disabled\n", out)
	out, err = m.Shell().Exec("det on 90000000 100000000 100000000")
	require.Error(t, err)
	require.Equal(t, "[DET] rejected\nerror: det on: rejected by admission control: a utilization of 900000 ppm would take the admitted servers over 850000 ppm\n", out)
	out, err = m.Shell().Exec("det bogus")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
	require.Equal(t, "error: det: unknown subcommand \"bogus\"\nusage: det on|off|status|reset\n", out)
	// Malformed numbers are usage errors, not rejections.
	on := "\nusage: det on <wcet_ns> <period_ns> <deadline_ns> [--pid <pid>]\n"
	for line, want := range map[string]string{
		"det on a b c":    `error: det on: wcet_ns "a" is not a positive number of nanoseconds` + on,
		"det on 1 2":      "error: det on: want 3 numbers and an optional --pid N, got 2 argument(s)" + on,
		"det on 5 2 2":    "error: det on: need wcet_ns <= period_ns and deadline_ns <= period_ns" + on,
		"det on 1 100 -5": `error: det on: deadline_ns "-5" is not a positive number of nanoseconds` + on,
		"det status now":  "error: det status: unexpected argument \"now\"\nusage: det status\n",
	} {
		out, err = m.Shell().Exec(line)
		require.ErrorIs(t, err, shellcmd.ErrUsage, line)
		require.Equal(t, want, out, line)
	}
}

// parseMetrics parses Prometheus text with the official parser.
func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err, text)
	return fams
}

// value returns the sample of fam whose labels match.
func value(t *testing.T, fams map[string]*dto.MetricFamily, fam string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[fam]
	if !ok {
		return 0 // a family without samples (no syscalls yet) is left out
	}
next:
	for _, mt := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range mt.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case mt.Counter != nil:
			return mt.GetCounter().GetValue()
		case mt.Gauge != nil:
			return mt.GetGauge().GetValue()
		case mt.Summary != nil:
			return float64(mt.GetSummary().GetSampleCount())
		}
	}
	return 0
}

func TestShellMetricsMove(t *testing.T) {
	m := boot(t, nil)
	before, err := m.Shell().Exec("metrics")
	require.NoError(t, err)
	require.Contains(t, before, "# HELP heap_bytes ")
	b := parseMetrics(t, before)
	for _, fam := range []string{"heap_bytes", "heap_operations_total", "panic_count_total", "uptime_ms", "sched_switch_gap_ns",
		"network_packets_total", "disk_operations_total", "sched_deadline_misses_total"} {
		require.Contains(t, b, fam)
	}
	require.Zero(t, value(t, b, "syscalls_total", "name", "write"))

	_, err = m.Shell().Exec("run /bin/hello")
	require.NoError(t, err)
	after, err := m.Shell().Exec("metrics prometheus")
	require.NoError(t, err)
	require.Contains(t, after, "# TYPE syscalls_total counter")
	a := parseMetrics(t, after)
	require.GreaterOrEqual(t, value(t, a, "syscalls_total", "name", "write"), 1.0)
	require.Equal(t, 1.0, value(t, a, "syscalls_total", "name", "exit_group"))
	require.Greater(t, value(t, a, "heap_operations_total", "operation", "alloc"), value(t, b, "heap_operations_total", "operation", "alloc"))
	require.Greater(t, value(t, a, "heap_bytes", "state", "peak"), 0.0)
	require.Equal(t, value(t, b, "heap_bytes", "state", "current"), value(t, a, "heap_bytes", "state", "current"),
		"the guest has exited: RAM in use is back where it was")
	require.Greater(t, value(t, a, "disk_operations_total", "operation", "read"), value(t, b, "disk_operations_total", "operation", "read"))
	require.Greater(t, value(t, a, "uptime_ms"), -1.0)

	// JSON carries the same families.
	js, err := m.Shell().Exec("metrics json")
	require.NoError(t, err)
	var raw []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(js), &raw))
	require.Len(t, raw, len(a))
	for _, r := range raw {
		var f dto.MetricFamily
		require.NoError(t, protojson.Unmarshal(r, &f))
		if f.GetName() == "syscalls_total" {
			for _, s := range f.GetMetric() {
				require.Equal(t, value(t, a, "syscalls_total", "name", s.GetLabel()[0].GetValue()), s.GetCounter().GetValue())
			}
		}
	}
	// OpenMetrics, by client_golang's encoder, ends with # EOF.
	om, err := m.Shell().Exec("metrics openmetrics")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(om, "# EOF\n"), om)

	// METRIC lines match the SIS console parsers.
	lines, err := m.Shell().Exec("metrics lines")
	require.NoError(t, err)
	re := regexp.MustCompile(`^METRIC\s+([A-Za-z0-9_:\-\.]+)=(-?[0-9]+)\s*$`)
	ls := strings.Split(strings.TrimSuffix(lines, "\n"), "\n")
	require.Equal(t, "CMD_DONE", ls[len(ls)-1])
	for _, l := range ls[:len(ls)-1] {
		require.Regexp(t, re, l)
	}
	require.Contains(t, lines, "METRIC syscalls_total.exit_group=1\n")
}

func TestShellMetricsctl(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("metricsctl status")
	require.NoError(t, err)
	require.Equal(t, "metrics streaming: off\n", out)
	out, err = m.Shell().Exec("metricsctl on")
	require.NoError(t, err)
	require.Contains(t, out, "METRIC heap_bytes.peak=")
	out, err = m.Shell().Exec("echo x")
	require.NoError(t, err)
	require.Equal(t, "x\n", out, "nothing changed")
	out, err = m.Shell().Exec("run /bin/hello")
	require.NoError(t, err)
	require.Contains(t, out, "METRIC syscalls_total.exit_group=1\n")
	out, err = m.Shell().Exec("metricsctl off; metricsctl bogus")
	require.Error(t, err)
	require.Equal(t, "metrics streaming: off\nerror: metricsctl: unknown subcommand \"bogus\"\nusage: metricsctl on|off|status\n", out)
}

func TestMetricsHTTP(t *testing.T) {
	m := boot(t, nil)
	_, err := m.Shell().Exec("run /bin/hello")
	require.NoError(t, err)
	srv := httptest.NewServer(m.Shell().MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	fams := parseMetrics(t, string(body))
	require.Equal(t, 1.0, value(t, fams, "syscalls_total", "name", "exit_group"))
}

func TestMachinesHaveSeparateRegistries(t *testing.T) {
	m1, m2 := boot(t, nil), boot(t, nil)
	_, err := m1.Shell().Exec("run /bin/hello")
	require.NoError(t, err)
	out, err := m2.Shell().Exec("metrics")
	require.NoError(t, err)
	require.Zero(t, value(t, parseMetrics(t, out), "syscalls_total", "name", "write"))
}

func BenchmarkBootToPrompt(b *testing.B) {
	for b.Loop() {
		var out bytes.Buffer
		m, err := sis.Boot(sis.BootConfig{Image: map[string]fs.FS{"/bin": os.DirFS(guestsDir)}, Console: &out})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Shell().Serve(strings.NewReader(""), &out, sis.ReplOptions{Prompt: true}); err != nil {
			b.Fatal(err)
		}
		if !strings.HasSuffix(out.String(), sis.ShellPrompt) {
			b.Fatalf("no prompt: %q", out.String())
		}
		m.Close()
	}
}

func TestFeatures(t *testing.T) {
	f, err := sis.ParseFeatures("agentsys, ai-ops")
	require.NoError(t, err)
	require.Equal(t, "agentsys,decision-traces,model-lifecycle,otel,shadow-mode", f.String())
	require.False(t, f.Enabled(sis.FeatureLLM))
	_, err = sis.ParseFeatures("agentsys,warp-drive")
	require.ErrorContains(t, err, `unknown feature "warp-drive"`)
	none, err := sis.ParseFeatures("none")
	require.NoError(t, err)
	require.Equal(t, "", none.String())
	require.True(t, sis.Features(nil).Enabled(sis.FeatureLLM))

	// A command of a disabled feature is left out of help and says which
	// feature enables it; the core commands work with every feature off.
	m, err := sis.Boot(sis.BootConfig{Options: sis.Options{Features: none}, Image: map[string]fs.FS{"/bin": os.DirFS(guestsDir)}})
	require.NoError(t, err)
	defer m.Close()
	sh := m.Shell()
	require.NoError(t, sh.Register(sis.Command{Name: "llmctl", Usage: "llmctl status  LLM service", Feature: sis.FeatureLLM,
		Run: func(w io.Writer, args []string) error { _, err := io.WriteString(w, "[LLM] ok\n"); return err }}))
	out, err := sh.Exec("help")
	require.NoError(t, err)
	require.NotContains(t, out, "llmctl")
	out, err = sh.Exec("llmctl status")
	require.Error(t, err)
	require.Equal(t, "error: llmctl: disabled; the llm feature enables it (--features llm)\n", out)
	out, err = sh.Exec("run /bin/hello; version")
	require.NoError(t, err)
	require.Contains(t, out, "features: \n")

	m2 := boot(t, nil)
	require.NoError(t, m2.Shell().Register(sis.Command{Name: "llmctl", Usage: "llmctl status  LLM service", Feature: sis.FeatureLLM,
		Run: func(w io.Writer, args []string) error { _, err := io.WriteString(w, "[LLM] ok\n"); return err }}))
	out, err = m2.Shell().Exec("llmctl status; help")
	require.NoError(t, err)
	require.Contains(t, out, "[LLM] ok\n")
	require.Contains(t, out, "  llmctl status")
	require.Error(t, m2.Shell().Register(sis.Command{Name: "llmctl", Usage: "x", Run: func(io.Writer, []string) error { return nil }}))
}

func TestBootServices(t *testing.T) {
	var con bytes.Buffer
	started := []string{}
	svc := func(name, feature, marker string) sis.Service {
		return sis.Service{Name: name, Feature: feature, Commands: []string{name + "ctl"}, Start: func(m *sis.System) (string, error) {
			started = append(started, name)
			return marker, m.Shell().Register(sis.Command{Name: name + "ctl", Usage: name + "ctl  " + name,
				Run: func(w io.Writer, _ []string) error { _, err := io.WriteString(w, name+" up\n"); return err }})
		}}
	}
	features, err := sis.ParseFeatures("agentsys")
	require.NoError(t, err)
	m, err := sis.Boot(sis.BootConfig{
		Console: &con,
		Options: sis.Options{Features: features},
		Services: []sis.Service{
			svc("agent", sis.FeatureAgentSys, "[AgentSys] Initialized (sync mode)"),
			svc("llm", sis.FeatureLLM, "LLM: READY"),
		},
	})
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, []string{"agent"}, started)
	want := strings.Join(sis.BootMarkers, "\n") + "\n"
	require.Equal(t, want, con.String(), "every SIS marker, in order")
	out, err := m.Shell().Exec("agentctl")
	require.NoError(t, err)
	require.Equal(t, "agent up\n", out)
	// The command of a service whose feature is off names the feature.
	_, err = m.Shell().Exec("llmctl")
	require.EqualError(t, err, "llmctl: disabled; the llm feature enables it (--features llm)")
	_, err = m.Shell().Exec("nosuchctl")
	require.ErrorContains(t, err, "Unknown command: nosuchctl")
}

// The commands and subcommands of services whose feature is off say which
// feature enables them.
func TestDisabledServiceCommands(t *testing.T) {
	features, err := sis.ParseFeatures("model-lifecycle")
	require.NoError(t, err)
	m, err := sis.Boot(sis.BootConfig{Console: io.Discard, Options: sis.Options{Features: features}, Services: sis.DefaultServices()})
	require.NoError(t, err)
	defer m.Close()
	for _, tc := range []struct{ line, name, feature string }{
		{"agentsys status", "agentsys", "agentsys"},
		{"otelctl status", "otelctl", "otel"},
		{"llminfer hi", "llminfer", "llm"},
		// No llmctl subcommand is enabled: llmctl names the first
		// feature of its subcommands.
		{"llmctl status", "llmctl", "llm"},
		{"shadowctl status", "shadowctl", "shadow-mode"},
		{"llmctl shadow-status", "llmctl", "llm"},
		{"tracectl list", "tracectl", "decision-traces"},
	} {
		_, err := m.Shell().Exec(tc.line)
		require.EqualError(t, err, tc.name+": disabled; the "+tc.feature+" feature enables it (--features "+tc.feature+")", tc.line)
	}
	out, err := m.Shell().Exec("modelctl list")
	require.NoError(t, err, "the model registry's commands run")
	require.Contains(t, out, "Model Registry:")
}

func TestRegisterSub(t *testing.T) {
	m := boot(t, io.Discard)
	sh := m.Shell()
	echo := func(name string) sis.CommandFunc {
		return func(w io.Writer, args []string) error {
			_, err := fmt.Fprintln(w, name, strings.Join(args, ","))
			return err
		}
	}
	require.NoError(t, sh.RegisterSub("svcctl", sis.Subcommand{Name: "load", Usage: "load <x>  load x", Run: echo("load")}))
	require.NoError(t, sh.RegisterSub("svcctl", sis.Subcommand{Name: "status", Usage: "status  show", Run: echo("status")}))
	require.Error(t, sh.RegisterSub("svcctl", sis.Subcommand{Name: "load", Run: echo("again")}))
	require.Error(t, sh.RegisterSub("svcctl", sis.Subcommand{Name: "help", Run: echo("help")}))

	out, err := sh.Exec("svcctl load a b")
	require.NoError(t, err)
	require.Equal(t, "load a,b\n", out)
	out, err = sh.Exec("svcctl help")
	require.NoError(t, err)
	require.Equal(t, "usage: svcctl <subcommand> [args...]\n  subcommands of the SIS services\nsubcommands:\n"+
		"  svcctl load <x>  load x\n  svcctl status    show\n", out)
	for _, line := range []string{"help svcctl load", "svcctl help load", "svcctl load help", "svcctl load --help"} {
		out, err = sh.Exec(line)
		require.NoError(t, err, line)
		require.Equal(t, "usage: svcctl load <x>\n  load x\n", out, line)
	}
	out, err = sh.Exec("svcctl nope")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
	require.Equal(t, "error: svcctl: unknown subcommand \"nope\"\nusage: svcctl load|status\n", out)
	out, err = sh.Exec("svcctl")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
	require.Equal(t, "error: svcctl: missing subcommand\nusage: svcctl load|status\n", out)
	var usage string
	for _, c := range sh.Commands() {
		if c.Name == "svcctl" {
			usage = c.Usage
		}
	}
	require.Equal(t, "svcctl  subcommands of the SIS services", usage)
}

func TestShellBackgroundJobs(t *testing.T) {
	m := boot(t, io.Discard)
	sh := m.Shell()

	out, err := sh.Exec("run /bin/spin &")
	require.NoError(t, err)
	require.Equal(t, "[pid 2] running in background\n", out)
	out, err = sh.Exec("ps")
	require.NoError(t, err)
	require.Contains(t, out, "/bin/spin")

	// kill delivers the signal: the job dies before it spun its 10 ms.
	out, err = sh.Exec("kill 2")
	require.NoError(t, err)
	require.Equal(t, "[pid 2] done: killed by SIGTERM\n", out)
	out, err = sh.Exec("ps")
	require.NoError(t, err)
	require.NotContains(t, out, "/bin/spin")

	// Jobs run while a command drives the machine; wait reports them.
	out, err = sh.Exec("run hello &; run spin &; wait")
	require.NoError(t, err)
	require.Equal(t, "[pid 3] running in background\n[pid 4] running in background\n"+
		"Hello, world!\nargv[0]=hello\nspun 10ms\n[pid 3] done: exit status 0\n[pid 4] done: exit status 0\n", out)

	for cmd, want := range map[string]string{
		"kill 99":      "error: kill: (99) - No such process\n",
		"kill -NOPE 1": "error: kill: unknown signal \"NOPE\"\nusage: kill [-SIGNAL] <pid>...\n",
		"kill x":       "error: kill: \"x\" is not a pid\n",
		"wait 7":       "error: wait: pid 7 is not a background job of this shell\n",
		"run &":        "error: run: no program before &\nusage: run [--gdb <port>] <prog> [<arg>...] [&]\n",
		"kill -s KILL": "error: kill: no pid\nusage: kill [-SIGNAL] <pid>...\n",
	} {
		out, err := sh.Exec(cmd)
		require.Error(t, err, cmd)
		require.Equal(t, want, out, cmd)
	}
	require.Equal(t, m.MemStats().Allocs, m.MemStats().Frees)
}

// The network metrics are the kernel's interface counters.
func TestNetworkMetrics(t *testing.T) {
	m := boot(t, nil)
	out := sh(t, m, "run /bin/echosrv epoll tcp 3; metrics lines")
	lo := m.NetStats()[0]
	require.Equal(t, "lo", lo.Name)
	require.Positive(t, lo.RxPackets)
	require.Contains(t, out, fmt.Sprintf("METRIC network_packets_total.rx.lo=%d\n", lo.RxPackets))
	require.Contains(t, out, fmt.Sprintf("METRIC network_bytes_total.tx.lo=%d\n", lo.TxBytes))
	require.Contains(t, out, "METRIC network_packets_total.tx.eth0=0\n")
	require.Contains(t, out, "METRIC network_dropped_total.rx.lo=0\n")
}
