package thirdparty

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// SimSpec is one sissim run, carried to the process that runs it (a case
// runs in a child process of the test, so that a kernel that hangs or
// panics fails that case only).
type SimSpec struct {
	// Root is the host root tree; each of its top-level directories is
	// mounted read-only at the same name.
	Root string `json:"root"`
	// Mounts are further read-only host directories, host path -> guest
	// path.
	Mounts map[string]string `json:"mounts,omitempty"`
	// Links are symbolic links to create: guest path -> target.
	Links map[string]string `json:"links,omitempty"`
	// WorkDir is a host directory copied into the machine's tmpfs at the
	// same path; the program starts in it.
	WorkDir string   `json:"work_dir"`
	Prog    string   `json:"prog"`
	Argv    []string `json:"argv"`
	Env     []string `json:"env"`
	// Stdin is a host file that becomes the standard input.
	Stdin    string `json:"stdin"`
	MaxInsns uint64 `json:"max_insns"`
	// Strace writes the system-call trace (at most straceMax bytes).
	Strace bool `json:"strace,omitempty"`
	// Out is the host directory receiving stdout, stderr, strace and
	// result.json.
	Out string `json:"out"`
}

// SimResult is what the child process reports besides the guest's output.
type SimResult struct {
	Exit int `json:"exit"`
	// Report is the kernel's explanation of a kernel-made death.
	Report string `json:"report,omitempty"`
	// ExecError is set when the kernel refused to start the program.
	ExecError string `json:"exec_error,omitempty"`
	// Error is any other failure of Machine.Run.
	Error string `json:"error,omitempty"`
	// Unimplemented counts the calls answered ENOSYS for want of a
	// handler, by name.
	Unimplemented map[string]uint64 `json:"unimplemented,omitempty"`
	// Insns is the number of guest instructions executed.
	Insns uint64 `json:"insns"`
}

// Files of a sissim run's output directory.
const (
	simStdout = "sim.stdout"
	simStderr = "sim.stderr"
	simStrace = "sim.strace"
	simResult = "sim.json"
)

// RunSpecFile runs the SimSpec in the JSON file specFile, writing the
// output files into its Out directory. It returns an error only when the
// run could not be set up or reported.
func RunSpecFile(specFile string) error {
	data, err := os.ReadFile(specFile)
	if err != nil {
		return err
	}
	var spec SimSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", specFile, err)
	}
	res, err := runSpec(spec)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(spec.Out, simResult), out, 0o644)
}

func runSpec(spec SimSpec) (SimResult, error) {
	fsys, err := guestFS(spec)
	if err != nil {
		return SimResult{}, err
	}
	stdin, err := os.Open(spec.Stdin)
	if err != nil {
		return SimResult{}, err
	}
	defer stdin.Close()
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	create := func(name string) (*os.File, error) {
		f, err := os.Create(filepath.Join(spec.Out, name))
		if err == nil {
			files = append(files, f)
		}
		return f, err
	}
	stdout, err := create(simStdout)
	if err != nil {
		return SimResult{}, err
	}
	stderr, err := create(simStderr)
	if err != nil {
		return SimResult{}, err
	}
	cfg := kernel.Config{
		FS:       fsys,
		Stdin:    stdin,
		Stdout:   stdout,
		Stderr:   stderr,
		MaxInsns: spec.MaxInsns,
	}
	if spec.Strace {
		f, err := create(simStrace)
		if err != nil {
			return SimResult{}, err
		}
		cfg.Strace = &capWriter{w: f, left: straceMax}
	}
	m, err := kernel.New(cfg)
	if err != nil {
		return SimResult{}, fmt.Errorf("kernel.New: %w", err)
	}
	defer m.Close()
	status, err := m.Run(kernel.ProcessSpec{Path: spec.Prog, Argv: spec.Argv, Env: spec.Env, Cwd: spec.WorkDir})
	res := SimResult{Exit: status.ShellCode(), Report: status.Report, Insns: m.Insns()}
	var ee *kernel.ExecError
	switch {
	case errors.As(err, &ee):
		res.ExecError = ee.Reason
		res.Exit = 127
	case err != nil:
		res.Error = err.Error()
	}
	for nr, n := range m.UnknownSyscalls() {
		name := linux.SyscallName(nr)
		if name == "" {
			name = fmt.Sprintf("syscall_%d", nr)
		}
		if res.Unimplemented == nil {
			res.Unimplemented = map[string]uint64{}
		}
		res.Unimplemented[name] += n
	}
	return res, nil
}

// guestFS builds the machine's file system: a tmpfs root with /dev, /proc
// and /tmp, the root tree's top-level directories and spec.Mounts as
// read-only host mounts, spec.Links, and a copy of the working directory.
func guestFS(spec SimSpec) (*vfs.FS, error) {
	v := vfs.New(nil)
	for _, d := range []string{"/dev", "/proc", "/tmp"} {
		if err := v.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := v.SetAttr("/tmp", vfs.SetAttr{Mode: ptr(uint32(0o1777))}); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(spec.Root)
	if err != nil {
		return nil, fmt.Errorf("guest root: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == "dev" || name == "proc" || name == "tmp" {
			continue
		}
		host := filepath.Join(spec.Root, name)
		switch {
		case e.IsDir():
			if err := v.MountHost(host, "/"+name, true); err != nil {
				return nil, fmt.Errorf("mounting %s: %w", host, err)
			}
		case e.Type()&fs.ModeSymlink != 0: // a merged-/usr tree's /bin -> usr/bin
			target, err := os.Readlink(host)
			if err != nil {
				return nil, err
			}
			if err := v.Symlink(target, "/"+name); err != nil {
				return nil, err
			}
		}
	}
	for _, host := range sortedKeys(spec.Mounts) {
		if err := v.MountHost(host, spec.Mounts[host], true); err != nil {
			return nil, fmt.Errorf("mounting %s: %w", host, err)
		}
	}
	for _, p := range sortedKeys(spec.Links) {
		if err := v.MkdirAll(path.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := v.Symlink(spec.Links[p], p); err != nil {
			return nil, fmt.Errorf("link %s: %w", p, err)
		}
	}
	if err := copyIn(v, spec.WorkDir); err != nil {
		return nil, fmt.Errorf("copying the working directory: %w", err)
	}
	return v, nil
}

// copyIn copies the host directory dir into v at the same path: regular
// files, directories and symbolic links, with their permissions and times.
func copyIn(v *vfs.FS, dir string) error {
	var dirs []string // set their times last: writing a child changes them
	times := map[string]vfs.SetAttr{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		guest := filepath.ToSlash(p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		mtime := info.ModTime()
		attr := vfs.SetAttr{Mode: ptr(uint32(info.Mode().Perm())), Atime: &mtime, Mtime: &mtime}
		switch {
		case d.IsDir():
			dirs = append(dirs, guest)
			times[guest] = attr
			return v.MkdirAll(guest, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return v.Symlink(target, guest)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := v.WriteFile(guest, data, *attr.Mode); err != nil {
				return err
			}
			return v.SetAttr(guest, attr)
		}
		return fmt.Errorf("%s: unsupported file type %v", p, d.Type())
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := v.SetAttr(dirs[i], times[dirs[i]]); err != nil {
			return err
		}
	}
	return nil
}

// straceMax bounds a trace file: a guest in a loop makes endless traces.
const straceMax = 32 << 20

// capWriter passes on at most left bytes and drops the rest.
type capWriter struct {
	w    io.Writer
	left int
}

func (c *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	if c.left <= 0 {
		return n, nil
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	c.left -= len(p)
	_, err := c.w.Write(p)
	return n, err
}

func ptr[T any](v T) *T { return &v }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
