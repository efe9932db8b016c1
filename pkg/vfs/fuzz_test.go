package vfs

import (
	"strings"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// FuzzResolve walks arbitrary paths over a tree with symlinks and a host
// mount: no panic, and every result stays a canonical guest path.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"/", "a/../b", "/host/../../x", "l1/l2/./..", "/host/out/x", strings.Repeat("../", 100), "a\x00b", "//a//b//", ".", ""} {
		f.Add(s, true)
	}
	v, err := NewDefaultRoot("sis")
	if err != nil {
		f.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	must(v.MkdirAll("/a/b", 0o755))
	must(v.Symlink("/a/b", "/l1"))
	must(v.Symlink("..", "/a/b/l2"))
	must(v.Symlink("l3", "/l3"))
	must(v.MountHost(f.TempDir(), "/host", true))
	must(v.Symlink("../../../etc", "/tmp/out"))
	f.Fuzz(func(t *testing.T, p string, follow bool) {
		r, err := v.resolve(nil, "/a", p, follow)
		if err != nil {
			if _, ok := err.(linux.Errno); !ok {
				t.Fatalf("%q: non-errno error %v", p, err)
			}
			return
		}
		if !strings.HasPrefix(r.path, "/") || strings.Contains(r.path, "//") || strings.Contains(r.path+"/", "/../") {
			t.Fatalf("%q resolved to non-canonical %q", p, r.path)
		}
		if r.mount.Type == "hostfs" && !strings.HasPrefix(r.path, "/host") {
			t.Fatalf("%q: %q on the host mount", p, r.path)
		}
	})
}
