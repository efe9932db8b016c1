package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
)

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
