// Command gohttp is a Go guest for sissim's network tests: a net/http
// server and client, UDP and AF_UNIX traffic and an OTLP/JSON exporter, in
// one static linux/arm64 program (GOOS=linux GOARCH=arm64 CGO_ENABLED=0).
//
//	gohttp selftest        a server and clients in one process; prints what
//	                       every exchange gave (no ports, times or addresses)
//	gohttp serve ADDR N    serve GET /hello and POST /echo on ADDR; exit
//	                       after N requests
//	gohttp get URL         GET URL, print the status and the body
//	gohttp otlp URL N      POST N OTLP/JSON spans to URL (a collector's
//	                       /v1/traces), print the status
//	gohttp bench N         N requests, each on a new connection, to an
//	                       in-process server (connections per second)
//
// Exit status 0 on success, 1 on a failure (described on stderr).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: gohttp selftest|serve ADDR N|get URL|otlp URL N|bench N"))
	}
	var err error
	switch a := os.Args[2:]; os.Args[1] {
	case "selftest":
		err = selftest()
	case "serve":
		err = need(a, 2, func() error { return serve(a[0], atoi(a[1])) })
	case "get":
		err = need(a, 1, func() error { return get(a[0]) })
	case "otlp":
		err = need(a, 2, func() error { return otlp(a[0], atoi(a[1])) })
	case "bench":
		err = need(a, 1, func() error { return bench(atoi(a[0])) })
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func need(args []string, n int, f func() error) error {
	if len(args) != n {
		return fmt.Errorf("%s: want %d arguments", os.Args[1], n)
	}
	return f()
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err)
	}
	return n
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gohttp:", err)
	os.Exit(1)
}

// handler serves GET /hello (a greeting naming the query) and POST /echo
// (the body back), counting requests.
func handler(count func()) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s\n", r.URL.Query().Get("i"))
		count()
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body) // HTTP/1 is not full duplex: read all first
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(body)
		count()
	})
	return mux
}

func fetch(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body))), err
}

func selftest() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(func() {})}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	c := &http.Client{Timeout: 30 * time.Second}
	for i := range 5 {
		s, err := fetch(c, fmt.Sprintf("%s/hello?i=%d", base, i))
		if err != nil {
			return err
		}
		fmt.Printf("GET /hello?i=%d: %s\n", i, s)
	}
	// Concurrent clients, each on its own connections.
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := &http.Client{Transport: &http.Transport{DisableKeepAlives: g%2 == 0}}
			for j := range 4 {
				s, err := fetch(cc, fmt.Sprintf("%s/hello?i=%d-%d", base, g, j))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got = append(got, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	sort.Strings(got)
	sum := sha256.Sum256([]byte(strings.Join(got, "\n")))
	fmt.Printf("concurrent: %d responses, sha256 %s\n", len(got), hex.EncodeToString(sum[:8]))
	// A large POST, echoed.
	body := make([]byte, 256<<10)
	for i := range body {
		body[i] = byte(i * 7)
	}
	resp, err := c.Post(base+"/echo", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return err
	}
	back, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Printf("POST /echo %d bytes: %d, echoed equal %v\n", len(body), resp.StatusCode, bytes.Equal(back, body))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := unixHTTP(); err != nil {
		return err
	}
	if err := udpEcho(); err != nil {
		return err
	}
	fmt.Println("selftest ok")
	return nil
}

// unixHTTP serves HTTP on an AF_UNIX socket and fetches through it.
func unixHTTP() error {
	path := "/tmp/gohttp.sock"
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer ln.Close()
	srv := &http.Server{Handler: handler(func() {})}
	go srv.Serve(ln)
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	s, err := fetch(c, "http://unix/hello?i=unix")
	if err != nil {
		return err
	}
	fmt.Printf("GET over AF_UNIX: %s\n", s)
	return srv.Close()
}

// udpEcho bounces datagrams off a UDP echo server.
func udpEcho() error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(bytes.ToUpper(buf[:n]), from)
		}
	}()
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		return err
	}
	defer conn.Close()
	var replies []string
	buf := make([]byte, 2048)
	for i := range 5 {
		if _, err := fmt.Fprintf(conn, "datagram %d", i); err != nil {
			return err
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		replies = append(replies, string(buf[:n]))
	}
	fmt.Printf("UDP echo: %s\n", strings.Join(replies, ", "))
	return nil
}

// serve serves until n requests were answered.
func serve(addr string, n int) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	var mu sync.Mutex
	left := n
	done := make(chan struct{})
	srv := &http.Server{Handler: handler(func() {
		mu.Lock()
		defer mu.Unlock()
		if left--; left == 0 {
			close(done)
		}
	})}
	go srv.Serve(ln)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(ctx)
	fmt.Printf("served %d requests\n", n)
	return err
}

func get(url string) error {
	s, err := fetch(&http.Client{Timeout: 30 * time.Second}, url)
	if err != nil {
		return err
	}
	fmt.Println(s)
	return nil
}

// otlp posts one OTLP/JSON ExportTraceServiceRequest with n spans.
func otlp(url string, n int) error {
	type kv struct {
		Key   string         `json:"key"`
		Value map[string]any `json:"value"`
	}
	type span struct {
		TraceID    string `json:"traceId"`
		SpanID     string `json:"spanId"`
		Name       string `json:"name"`
		Kind       int    `json:"kind"`
		Start      string `json:"startTimeUnixNano"`
		End        string `json:"endTimeUnixNano"`
		Attributes []kv   `json:"attributes"`
	}
	var spans []span
	start := time.Unix(1767225600, 0)
	for i := range n {
		spans = append(spans, span{
			TraceID: fmt.Sprintf("%032x", 0x5151000+i/10), SpanID: fmt.Sprintf("%016x", 0xabc000+i),
			Name: fmt.Sprintf("guest-span-%d", i), Kind: 1,
			Start:      strconv.FormatInt(start.Add(time.Duration(i)*time.Millisecond).UnixNano(), 10),
			End:        strconv.FormatInt(start.Add(time.Duration(i+1)*time.Millisecond).UnixNano(), 10),
			Attributes: []kv{{Key: "guest.index", Value: map[string]any{"intValue": strconv.Itoa(i)}}},
		})
	}
	req := map[string]any{"resourceSpans": []any{map[string]any{
		"resource":   map[string]any{"attributes": []kv{{Key: "service.name", Value: map[string]any{"stringValue": "sissim-guest"}}}},
		"scopeSpans": []any{map[string]any{"scope": map[string]any{"name": "gohttp"}, "spans": spans}},
	}}}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	fmt.Printf("posted %d spans: %s\n", n, resp.Status)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("collector answered %s", resp.Status)
	}
	return nil
}

// bench makes n requests to an in-process server, each on a new
// connection.
func bench(n int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(func() {})}
	go srv.Serve(ln)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range n {
		if _, err := fetch(c, fmt.Sprintf("http://%s/hello?i=%d", ln.Addr(), i)); err != nil {
			return err
		}
	}
	fmt.Printf("%d requests\n", n)
	return srv.Close()
}
