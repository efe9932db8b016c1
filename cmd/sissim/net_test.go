package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/goguest"
)

func goHTTPPath(t *testing.T) string {
	t.Helper()
	return goguest.Program(t, "gohttp")
}

// TestPublishFlag serves HTTP from a guest to the host: --publish 0:8080
// picks a free host port and reports it.
func TestPublishFlag(t *testing.T) {
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runMain([]string{"run", "--publish", "0:8080", goHTTPPath(t), "serve", ":8080", "1"}, strings.NewReader(""), &out, &errb)
	}()
	re := regexp.MustCompile(`sissim: published (127\.0\.0\.1:\d+) to guest port 8080\n`)
	var addr string
	for tries := 0; addr == ""; tries++ {
		require.Less(t, tries, 3000, "no published address: %s", errb.String())
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			addr = m[1]
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	c := &http.Client{Timeout: 30 * time.Second}
	var body []byte
	for tries := 0; body == nil; tries++ {
		require.Less(t, tries, 3000, "the guest never answered")
		resp, err := c.Get("http://" + addr + "/hello?i=cli")
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
	}
	require.Equal(t, "hello cli\n", string(body))
	require.Equal(t, 0, <-done, errb.String())
	require.Equal(t, "listening\nserved 1 requests\n", out.String())
}

// TestNetFlag: with --net gateway the gateway reaches the host's loopback;
// by default it refuses.
func TestNetFlag(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "host says hi") }))
	defer srv.Close()
	url := fmt.Sprintf("http://10.0.2.2:%d/", srv.Listener.Addr().(*net.TCPAddr).Port)
	code, out, errOut := run(t, "run", "--net", "gateway", goHTTPPath(t), "get", url)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "200 host says hi\n", out)
	code, _, errOut = run(t, "run", goHTTPPath(t), "get", url)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "connection refused")
	code, _, errOut = run(t, "run", "--net", "everything", goHTTPPath(t), "get", url)
	require.Equal(t, 2, code)
	require.Equal(t, "sissim run: --net \"everything\": want none, gateway or nat\n", errOut)
	code, _, errOut = run(t, "run", "--publish", "80", goHTTPPath(t))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "publish")
}
