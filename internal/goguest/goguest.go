// Package goguest builds Go programs for linux/arm64 (CGO off) to run as
// guests: the programs of testdata/goguests and test binaries of Go's
// standard library (go test -c). Builds are cached under .cache/goguest,
// keyed by the Go version and what is built, so a test run pays for a
// build once.
package goguest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var mu sync.Mutex // one go build at a time: they share the caches anyway

// Root returns the repository root (the directory holding go.mod of the
// sissim module).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/sis-kernel/sissim\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("goguest: repository root not found")
		}
		dir = parent
	}
}

// goTool returns the go command: the one on PATH, else $GOROOT/bin/go
// (go test sets GOROOT for the tests it runs).
func goTool(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	t.Skip("goguest: no go command to build Go guests")
	return ""
}

// GOROOT returns the root of the go command's toolchain (go env GOROOT).
func GOROOT(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(goTool(t), "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("goguest: go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// build runs `go args...` in dir for linux/arm64 into out unless out
// exists already.
func build(t testing.TB, dir, out string, args ...string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := out + ".tmp"
	cmd := exec.Command(goTool(t), append([]string{args[0], "-o", tmp}, args[1:]...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-trimpath")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goguest: go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// key is a cache key: the Go version and the given parts.
func key(parts ...string) string {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, p := range parts {
		fmt.Fprintln(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Program builds testdata/goguests/<name> and returns the binary's path.
func Program(t testing.TB, name string) string {
	t.Helper()
	root := Root(t)
	src := filepath.Join(root, "testdata", "goguests")
	var parts []string
	for _, f := range []string{"go.mod", filepath.Join(name, "main.go")} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatalf("goguest: %v", err)
		}
		parts = append(parts, string(b))
	}
	out := filepath.Join(root, ".cache", "goguest", name+"-"+key(parts...))
	return build(t, src, out, "build", "./"+name)
}

// StdTest builds the test binary of standard-library package pkg (go
// test -c) and returns its path.
func StdTest(t testing.TB, pkg string) string {
	t.Helper()
	root := Root(t)
	out := filepath.Join(root, ".cache", "goguest", "std", strings.ReplaceAll(pkg, "/", "_")+"-"+key(pkg)+".test")
	return build(t, root, out, "test", "-c", pkg)
}

// PackageDir returns the source directory of standard-library package
// pkg, where its tests run (they read testdata/ relative to it).
func PackageDir(t testing.TB, pkg string) string {
	return filepath.Join(GOROOT(t), "src", filepath.FromSlash(pkg))
}
