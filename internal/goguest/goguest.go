// Package goguest builds the Go guests of guest/ (static linux/arm64
// programs) with the host's Go toolchain, caching each build under
// .cache/goguest-build by the hash of its sources and the toolchain's
// version, so that tests and benchmarks build a guest once.
package goguest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Build returns the path of guest/<name> built for linux/arm64, building
// it when the cache has no build of its current sources. root is the
// repository's root directory.
func Build(root, name string) (string, error) {
	src := filepath.Join(root, "guest", name)
	key, err := sourceKey(src)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".cache", "goguest-build", name+"-"+key)
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(goTool(), "build", "-trimpath", "-buildvcs=false", "-o", tmp.Name(), "./guest/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("goguest: building %s: %v\n%s", name, err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	return out, nil
}

// goTool returns the go command: the one on PATH, else the one in
// $GOROOT/bin (go test sets GOROOT for the tests it runs).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// sourceKey hashes the guest's Go files, go.mod and go.sum, and the
// toolchain's version.
func sourceKey(src string) (string, error) {
	h := sha256.New()
	var files []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	root := filepath.Dir(filepath.Dir(src))
	files = append(files, filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	v, err := exec.Command(goTool(), "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("goguest: go env GOVERSION: %w", err)
	}
	h.Write(v)
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}
