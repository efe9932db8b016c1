package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// hostFuzzTree makes a host directory for FuzzHostfs: mnt (mounted) has
// directories, a file and symlinks that lead out of it (absolute to the
// outside directory, relative through "..", to ".."), and outside holds a
// canary.
func hostFuzzTree(t *testing.T) (mnt, outside string) {
	root := t.TempDir()
	mnt, outside = filepath.Join(root, "mnt"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(mnt, "a", "b"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{filepath.Join(mnt, "file"): "inside", filepath.Join(mnt, "a", "f"): "inside-a", filepath.Join(outside, "canary"): "canary"}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"out": outside, "rel": "../outside", "up": "..", "a/b/upup": "../../..", "loop": "loop", "a/in": "../file"} {
		if err := os.Symlink(target, filepath.Join(mnt, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	return mnt, outside
}

// inodesUnder returns the inode numbers of every file under dir (not
// following symlinks).
func inodesUnder(t *testing.T, dir string) map[uint64]bool {
	out := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		out[fi.Sys().(*syscall.Stat_t).Ino] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCanary fails unless outside holds exactly the unchanged canary.
func checkCanary(t *testing.T, outside string) {
	ents, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "canary" {
		t.Fatalf("outside the mount: %v", ents)
	}
	b, err := os.ReadFile(filepath.Join(outside, "canary"))
	if err != nil || string(b) != "canary" {
		t.Fatalf("canary: %q, %v", b, err)
	}
	fi, err := os.Lstat(filepath.Join(outside, "canary"))
	if err != nil || fi.Sys().(*syscall.Stat_t).Nlink != 1 || fi.Mode().Perm() != 0o644 {
		t.Fatalf("canary changed: %v %v", fi, err)
	}
}

// FuzzHostfs runs one operation (op >= 128: with the walk that replaces
// openat2 on older kernels) with arbitrary names (relative and
// absolute, "..", symlinks anywhere, long names) on a host mount, both on
// the backend directly (which gets names the VFS would never give it)
// and through the VFS: nothing outside the mount is ever opened or
// changed, every error is an errno, and nothing panics.
func FuzzHostfs(f *testing.F) {
	for _, s := range [][2]string{
		{"/file", "/a/f"}, {"/out/canary", "/x"}, {"/rel/canary", "/rel/new"}, {"/up/outside/canary", "/a/b/upup/outside/canary"},
		{"/a/../../outside/canary", "/a/b/../../.."}, {"/loop/x", "/loop"}, {"/a/in", "/out"}, {"../outside/canary", "out/"},
	} {
		for op := range byte(fuzzOps) {
			f.Add(op, s[0], s[1])
			f.Add(op|128, s[0], s[1])
		}
	}
	f.Fuzz(func(t *testing.T, op byte, p1, p2 string) {
		mnt, outside := hostFuzzTree(t)
		h, err := NewHostfs(mnt, false)
		if err != nil {
			t.Fatal(err)
		}
		v := New(nil)
		if err := v.MountHost(mnt, "/m", false); err != nil {
			t.Fatal(err)
		}
		// op >= 128 takes the walk kernels without openat2 take.
		h.noOpenat2.Store(op >= 128)
		for _, m := range v.Mounts() {
			if hb, ok := m.Backend.(*Hostfs); ok {
				hb.noOpenat2.Store(op >= 128)
			}
		}
		opened := func(a Attr) {
			if !inodesUnder(t, mnt)[a.Ino] {
				t.Fatalf("op %d %q %q opened inode %d outside the mount", op, p1, p2, a.Ino)
			}
		}
		checkErr := func(err error) {
			var e linux.Errno
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("op %d %q %q: non-errno error %v", op, p1, p2, err)
			}
		}
		// The backend directly.
		checkErr(hostFuzzOp(h, op, p1, p2, opened))
		checkCanary(t, outside)
		// The VFS, from the mount and from the guest's root.
		for _, start := range []string{"/m", "/"} {
			checkErr(vfsFuzzOp(v, start, op, p1, p2, opened))
			checkCanary(t, outside)
		}
	})
}

// fuzzOps is the number of operations hostFuzzOp knows.
const fuzzOps = 12

func hostFuzzOp(h *Hostfs, op byte, p1, p2 string, opened func(Attr)) error {
	switch op % fuzzOps {
	case 0:
		_, err := h.Lstat(p1)
		return err
	case 1, 2, 3:
		flags := []int{linux.O_RDONLY, linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, linux.O_RDWR | linux.O_CREAT | linux.O_EXCL}[op%fuzzOps-1]
		fh, err := h.Open(p1, flags, 0o644)
		if err != nil {
			return err
		}
		defer fh.Close()
		a, err := fh.Stat()
		if err != nil {
			return err
		}
		opened(a)
		if flags != linux.O_RDONLY {
			_, err = fh.WriteAt([]byte("fuzz"), 0)
		} else {
			_, err = fh.ReadAt(make([]byte, 16), 0)
		}
		return err
	case 4:
		return h.Mkdir(p1, 0o755)
	case 5:
		return h.Symlink(p2, p1)
	case 6:
		return h.Link(p1, p2)
	case 7:
		return h.Unlink(p1)
	case 8:
		return h.Rmdir(p1)
	case 9:
		return h.Rename(p1, p2, len(p2)%2 == 1)
	case 10:
		mode, size := uint32(0o600), int64(1)
		return h.SetAttr(p1, SetAttr{Mode: &mode, Size: &size})
	default:
		_, err := h.Readlink(p1)
		return err
	}
}

func vfsFuzzOp(v *FS, start string, op byte, p1, p2 string, opened func(Attr)) error {
	switch op % fuzzOps {
	case 0:
		_, err := v.StatAt(nil, start, p1, len(p2)%2 == 0)
		return err
	case 1, 2, 3:
		flags := []int{linux.O_RDONLY, linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, linux.O_RDWR | linux.O_CREAT | linux.O_EXCL}[op%fuzzOps-1]
		f, err := v.OpenAt(nil, start, p1, flags, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		a, err := f.Stat()
		if err != nil {
			return err
		}
		if f.Mount().Type == "hostfs" {
			opened(a)
		}
		if flags != linux.O_RDONLY {
			_, err = f.Write([]byte("fuzz"))
		} else {
			_, err = f.Read(make([]byte, 16))
		}
		return err
	case 4:
		return v.MkdirAt(nil, start, p1, 0o755)
	case 5:
		return v.SymlinkAt(nil, p2, start, p1)
	case 6:
		return v.LinkAt(nil, start, p1, start, p2, len(p2)%2 == 0)
	case 7:
		return v.UnlinkAt(nil, start, p1, false)
	case 8:
		return v.UnlinkAt(nil, start, p1, true)
	case 9:
		var flags uint
		if len(p2)%2 == 1 {
			flags = RenameExchange
		}
		return v.RenameAt(nil, start, p1, start, p2, flags)
	case 10:
		mode, size := uint32(0o600), int64(1)
		return v.SetAttrAt(nil, start, p1, true, SetAttr{Mode: &mode, Size: &size})
	default:
		_, err := v.ReadlinkAt(nil, start, p1)
		return err
	}
}
