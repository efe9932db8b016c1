package otel

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Usage is the otelctl usage line.
const Usage = "otelctl  OpenTelemetry span export"

// ShellCommand returns the otelctl shell command over the tracer.
func (t *Tracer) ShellCommand() shellcmd.Command {
	return shellcmd.Command{Name: "otelctl", Usage: Usage, Subs: t.subs(), Run: t.Command}
}

// Command runs `otelctl args...`, writing its output to w.
func (t *Tracer) Command(w io.Writer, args []string) error {
	return shellcmd.Dispatch("otelctl", t.subs(), w, args)
}

// noArgs is a subcommand without arguments.
func noArgs(f func(w io.Writer) error) shellcmd.Func {
	return func(w io.Writer, args []string) error {
		if len(args) != 0 {
			return shellcmd.BadArgs("unexpected argument %q", args[0])
		}
		return f(w)
	}
}

func (t *Tracer) subs() []shellcmd.Sub {
	return []shellcmd.Sub{
		{Name: "init", Usage: "init [--endpoint URL]  start the span log, and OTLP/HTTP export to URL", Run: t.cmdInit},
		{Name: "enable-tracing", Usage: "enable-tracing  record spans", Run: noArgs(func(w io.Writer) error {
			if err := t.Enable(); err != nil {
				return err
			}
			fmt.Fprintln(w, "[OTEL] Tracing enabled")
			return nil
		})},
		{Name: "disable-tracing", Usage: "disable-tracing  stop recording spans", Run: noArgs(func(w io.Writer) error {
			t.Disable()
			fmt.Fprintln(w, "[OTEL] Tracing disabled")
			return nil
		})},
		{Name: "export-traces", Usage: "export-traces [--output <file>]  flush the spans, and copy the span files to a file", Run: t.cmdExport},
		{Name: "status", Usage: "status  span counters and the exporter's state", Run: noArgs(func(w io.Writer) error {
			t.WriteStatus(w)
			return nil
		})},
	}
}

// flagValue parses `--name VALUE` or `--name=VALUE` as the only argument.
func flagValue(args []string, name string) (string, bool, error) {
	switch {
	case len(args) == 0:
		return "", false, nil
	case len(args) == 1 && strings.HasPrefix(args[0], "--"+name+"="):
		return strings.TrimPrefix(args[0], "--"+name+"="), true, nil
	case len(args) == 2 && args[0] == "--"+name:
		return args[1], true, nil
	}
	return "", false, shellcmd.BadArgs("want only --%s VALUE", name)
}

func (t *Tracer) cmdInit(w io.Writer, args []string) error {
	endpoint, set, err := flagValue(args, "endpoint")
	if err != nil {
		return err
	}
	if set {
		// Validate before changing anything.
		if _, err := ParseEndpoint(endpoint); err != nil {
			return fmt.Errorf("otelctl: %w", err)
		}
	}
	if err := t.Init(); err != nil {
		return err
	}
	fmt.Fprintf(w, "[OTEL] Initialized: spans to %s (batches of %d, rotation at %d KiB)\n", SpansFile, BatchSize, RotateBytes>>10)
	if !set {
		return nil
	}
	cfg := t.cfg.HTTP
	cfg.Endpoint = endpoint
	e, err := NewHTTPExporter(cfg)
	if err != nil {
		return fmt.Errorf("otelctl: %w", err)
	}
	if old := t.SetExporter(e); old != nil {
		old.Close()
	}
	fmt.Fprintf(w, "[OTEL] OTLP/HTTP exporter: %s\n", e.URL())
	return nil
}

func (t *Tracer) cmdExport(w io.Writer, args []string) error {
	out, set, err := flagValue(args, "output")
	if err != nil {
		return err
	}
	if set && out == "" {
		return shellcmd.BadArgs("--output needs a file name")
	}
	if p := path.Clean("/" + out); set && (p == SpansFile || p == OldSpansFile) {
		// The copy would put the old file's spans in the current one twice.
		return shellcmd.BadArgs("otelctl: export-traces: --output %s is one of the exported files", out)
	}
	n, ferr := t.Flush()
	if ferr != nil {
		fmt.Fprintf(w, "[OTEL] Export failed: %v (%d span(s) dropped, counted)\n", ferr, n)
	} else {
		fmt.Fprintf(w, "[OTEL] Exported %d span(s) to %s\n", n, SpansFile)
	}
	if set {
		size, err := t.copyFiles(out)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "[OTEL] Traces written to %s (%d bytes)\n", out, size)
	}
	return ferr
}

// copyFiles writes OldSpansFile then SpansFile (every exported span still
// kept, oldest first) to name.
func (t *Tracer) copyFiles(name string) (int, error) {
	var data []byte
	for _, p := range []string{OldSpansFile, SpansFile} {
		b, err := afero.ReadFile(t.cfg.FS, p)
		if err != nil && !errors.Is(err, afero.ErrFileNotFound) && !isNotExist(err) {
			return 0, fmt.Errorf("otelctl: read %s: %w", p, err)
		}
		data = append(data, b...)
	}
	if err := afero.WriteFile(t.cfg.FS, name, data, 0o644); err != nil {
		return 0, fmt.Errorf("otelctl: write %s: %w", name, err)
	}
	return len(data), nil
}

// WriteStatus writes the `otelctl status` report.
func (t *Tracer) WriteStatus(w io.Writer) {
	st := t.Stats()
	on := "disabled"
	if t.Enabled() {
		on = "enabled"
	}
	fmt.Fprintln(w, "OTel Status:")
	fmt.Fprintf(w, "  Tracing: %s\n", on)
	fmt.Fprintf(w, "  Spans: recorded=%d pending=%d exported=%d batches=%d\n", st.Recorded, t.Pending(), st.Exported, st.Batches)
	fmt.Fprintf(w, "  File: %s rotations=%d rotated_out=%d errors=%d dropped=%d\n", SpansFile, st.Rotations, st.RotatedOut, st.FileErrors, st.FileDropped)
	fmt.Fprintf(w, "  Decisions: logged=%d errors=%d (%s)\n", st.Decisions, st.DecisionErrors, DecisionsFile)
	if st.LastError != "" {
		fmt.Fprintf(w, "  Last file error: %s\n", st.LastError)
	}
	e := t.Exporter()
	if e == nil {
		fmt.Fprintln(w, "  OTLP/HTTP: off")
		return
	}
	hs := e.Stats()
	fmt.Fprintf(w, "  OTLP/HTTP: %s sent=%d batches=%d retried=%d dropped=%d queued=%d\n",
		hs.Endpoint, hs.Sent, hs.SentBatches, hs.Retried, hs.Dropped, hs.Queued)
	if hs.LastError != "" {
		fmt.Fprintf(w, "  Last HTTP error: %s\n", hs.LastError)
	}
}
