package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sis-kernel/sissim/pkg/sis"
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
