package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sis-kernel/sissim/pkg/sis"
	"github.com/sis-kernel/sissim/pkg/timeline"
)

// shutdownWait bounds the host time an OTLP/HTTP exporter may take to
// deliver its last spans at exit.
const shutdownWait = 5 * time.Second

// finish ends the session of sys and tells the user, on stderr, what did
// not survive it: spans lost, files written to the in-memory file system.
func finish(sys *sis.System, stderr io.Writer) {
	for _, l := range sys.Shutdown(shutdownWait) {
		fmt.Fprintln(stderr, "sissim: "+l)
	}
}

// serveMetrics serves h at http://addr/metrics until the returned stop is
// called, and tells the user where on stderr.
func serveMetrics(addr string, h http.Handler, stderr io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	fmt.Fprintf(stderr, "sissim: metrics at http://%s/metrics\n", ln.Addr())
	return func() { srv.Close() }, nil
}

// startTimeline writes the scheduler timeline of sys to the host file
// name (--timeline); stop completes the file and reports a failure or
// dropped events on stderr. Call both while no guest runs.
func startTimeline(sys *sis.System, name string, stderr io.Writer) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("--timeline: %w", err)
	}
	tl := sys.StartTimeline(f, timeline.DefaultLimit)
	return func() {
		err := tl.Stop()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "sissim: error: --timeline %s: %v\n", name, err)
		case tl.Dropped() > 0:
			fmt.Fprintf(stderr, "sissim: warning: --timeline %s: %d event(s) left out at the size limit of %d MiB\n", name, tl.Dropped(), timeline.DefaultLimit>>20)
		}
	}, nil
}

// cmdTimeline draws a timeline file as a PNG picture.
func cmdTimeline(argv []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("timeline", flag.ContinueOnError)
	out := flags.String("o", "", "write the picture to `FILE.png` (required)")
	width := flags.Int("width", timeline.DefaultWidth, "the picture's width in `pixels`")
	// The file may come before the flags: sissim timeline t.json -o t.png.
	var args []string
	for len(argv) > 0 {
		if ok, code := parseFlags(flags, argv, "sissim timeline FILE.json -o FILE.png [--width N]", stdout, stderr); !ok {
			return code
		}
		if flags.NArg() == 0 {
			break
		}
		args = append(args, flags.Arg(0))
		argv = flags.Args()[1:]
	}
	if len(args) != 1 || *out == "" {
		fmt.Fprintln(stderr, "sissim timeline: want one timeline file and -o FILE.png (see 'sissim timeline -h')")
		return 2
	}
	in, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "sissim timeline:", err)
		return 2
	}
	defer in.Close()
	var png bytes.Buffer
	if err := timeline.Render(in, &png, *width); err != nil {
		fmt.Fprintf(stderr, "sissim timeline: %s: %v\n", args[0], err)
		return 1
	}
	if err := os.WriteFile(*out, png.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "sissim timeline:", err)
		return 1
	}
	return 0
}
