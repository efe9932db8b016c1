package otel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultHTTPPort is the OTLP/HTTP port a collector listens on.
const DefaultHTTPPort = "4318"

// TracesPath is the OTLP/HTTP path for traces.
const TracesPath = "/v1/traces"

// ParseEndpoint checks a collector endpoint and returns the URL to POST to:
// an http or https URL with a host, the port defaulting to 4318 and the
// path to /v1/traces ("http://127.0.0.1:4318" gives
// "http://127.0.0.1:4318/v1/traces").
func ParseEndpoint(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty endpoint (want e.g. http://127.0.0.1:4318)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid endpoint %q: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("invalid endpoint %q: scheme must be http or https", s)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("invalid endpoint %q: no host", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid endpoint %q: user info, query and fragment are not allowed", s)
	}
	if p := u.Port(); p == "" {
		u.Host = net.JoinHostPort(u.Hostname(), DefaultHTTPPort)
	} else if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid endpoint %q: bad port %q", s, p)
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "":
		u.Path = TracesPath
	case TracesPath:
		u.Path = TracesPath
	default:
		return "", fmt.Errorf("invalid endpoint %q: path must be empty or %s", s, TracesPath)
	}
	return u.String(), nil
}

// HTTPConfig configures an HTTPExporter; zero fields take the defaults.
type HTTPConfig struct {
	// Endpoint is the collector's base URL (see ParseEndpoint).
	Endpoint string
	// Timeout bounds one request (default 5 s).
	Timeout time.Duration
	// InitialBackoff is the wait before the first retry (default 100 ms);
	// it doubles per retry up to MaxBackoff (default 5 s).
	InitialBackoff, MaxBackoff time.Duration
	// QueueSize is how many batches wait at most (default 64); a batch
	// that finds the queue full is dropped and counted.
	QueueSize int
	// Client sends the requests (a new client when nil).
	Client *http.Client
}

// HTTPStats are an HTTPExporter's counters (spans, unless named batches).
type HTTPStats struct {
	Endpoint string
	// Sent counts spans the collector accepted, in SentBatches requests.
	Sent, SentBatches uint64
	// Retried counts failed attempts that were retried.
	Retried uint64
	// Dropped counts spans given up: queue full, a response status that is
	// not retried (any but 2xx, 429, 502, 503, 504), or the exporter closed.
	Dropped uint64
	// Queued counts spans waiting or in flight.
	Queued uint64
	// LastError is the last failure ("" for none).
	LastError string
}

type batch struct {
	payload []byte
	spans   int
}

// HTTPExporter POSTs batches (OTLP/JSON ExportTraceServiceRequest bodies)
// to a collector from a background goroutine, retrying with exponential
// backoff. Enqueue never blocks, so an unreachable, failing or hanging
// collector never holds up the machine.
type HTTPExporter struct {
	cfg    HTTPConfig
	url    string
	queue  chan batch
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	stats  HTTPStats
	closed bool
}

// NewHTTPExporter validates the endpoint and starts the sender.
func NewHTTPExporter(cfg HTTPConfig) (*HTTPExporter, error) {
	u, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.InitialBackoff {
		cfg.MaxBackoff = max(5*time.Second, cfg.InitialBackoff)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 64
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &HTTPExporter{
		cfg: cfg, url: u, queue: make(chan batch, cfg.QueueSize),
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	e.stats.Endpoint = u
	go e.run()
	return e, nil
}

// URL returns the URL the exporter posts to.
func (e *HTTPExporter) URL() string { return e.url }

// Enqueue queues one batch of spans without blocking; when the queue is
// full or the exporter closed, the batch is dropped and counted.
func (e *HTTPExporter) Enqueue(payload []byte, spans int) {
	payload = bytes.TrimRight(payload, "\n")
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		e.stats.Dropped += uint64(spans)
		return
	}
	select {
	case e.queue <- batch{payload: payload, spans: spans}:
		e.stats.Queued += uint64(spans)
	default:
		e.stats.Dropped += uint64(spans)
		e.stats.LastError = "queue full"
	}
}

// Stats returns the counters.
func (e *HTTPExporter) Stats() HTTPStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Wait blocks until nothing is queued or in flight, or until timeout
// (host time) passes; it reports whether the queue drained.
func (e *HTTPExporter) Wait(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		e.mu.Lock()
		idle := e.stats.Queued == 0
		e.mu.Unlock()
		if idle {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Close stops the sender: a request in flight is cancelled, and the
// batches still queued are dropped and counted.
func (e *HTTPExporter) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		select {
		case b := <-e.queue:
			e.stats.Dropped += uint64(b.spans)
			e.stats.Queued -= uint64(b.spans)
		default:
			return
		}
	}
}

func (e *HTTPExporter) run() {
	defer close(e.done)
	for {
		select {
		case <-e.ctx.Done():
			return
		case b := <-e.queue:
			e.deliver(b)
		}
	}
}

// deliver sends one batch until it is accepted, refused for good or the
// exporter closes.
func (e *HTTPExporter) deliver(b batch) {
	backoff := e.cfg.InitialBackoff
	for {
		wait, retry, err := e.post(b.payload)
		e.mu.Lock()
		switch {
		case err == nil:
			e.stats.Sent += uint64(b.spans)
			e.stats.SentBatches++
			e.stats.Queued -= uint64(b.spans)
		case !retry || e.ctx.Err() != nil:
			e.stats.Dropped += uint64(b.spans)
			e.stats.Queued -= uint64(b.spans)
			e.stats.LastError = err.Error()
		default:
			e.stats.Retried++
			e.stats.LastError = err.Error()
		}
		e.mu.Unlock()
		if err == nil || !retry || e.ctx.Err() != nil {
			return
		}
		if wait <= 0 { // no usable Retry-After
			wait = backoff
		}
		timer := time.NewTimer(wait)
		select {
		case <-e.ctx.Done():
			timer.Stop()
			e.mu.Lock()
			e.stats.Dropped += uint64(b.spans)
			e.stats.Queued -= uint64(b.spans)
			e.mu.Unlock()
			return
		case <-timer.C:
		}
		backoff = min(backoff*2, e.cfg.MaxBackoff)
	}
}

// post sends one request. It reports whether a failure may be retried
// (network errors, timeouts, 429, 502, 503, 504, as the OTLP/HTTP
// specification lists them) and the server's Retry-After, if any.
func (e *HTTPExporter) post(payload []byte) (wait time.Duration, retry bool, err error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.cfg.Client.Do(req)
	if err != nil {
		return 0, true, fmt.Errorf("post %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, false, nil
	}
	err = fmt.Errorf("post %s: %s: %s", e.url, resp.Status, strings.TrimSpace(string(body)))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		// A Retry-After beyond MaxBackoff (or one that would overflow a
		// Duration) is ignored: deliver waits its own backoff.
		if s, perr := strconv.ParseInt(resp.Header.Get("Retry-After"), 10, 64); perr == nil && s > 0 && s <= int64(e.cfg.MaxBackoff/time.Second) {
			wait = time.Duration(s) * time.Second
		}
		return wait, true, err
	}
	return 0, false, err
}
