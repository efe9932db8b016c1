package sis

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/metrics"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// BootConfig configures Boot.
type BootConfig struct {
	// Config is the machine's configuration. When Config.FS is nil, Boot
	// builds the default root: a tmpfs with the SIS layout and Image.
	kernel.Config
	// Options configures the SIS layer (features, trusted model keys).
	Options
	// Image maps directories of the default root to trees copied into
	// them ({"/bin": guests} installs /bin/hello, ...); files under /bin
	// are executable.
	Image map[string]fs.FS
	// Setup runs after the image is installed and before the mount table
	// is printed: host mounts go here (only with the default root).
	Setup func(*vfs.FS) error
	// Console receives the boot markers (Config.Stdout when nil).
	Console io.Writer
	// Services start after GIC: INIT, in order; those whose Feature is
	// disabled are skipped.
	Services []Service
}

// Service is a SIS service started at boot (AgentSys, the model
// registry, ...). Start wires it into the machine, typically registering
// its shell commands, and returns its boot marker line ("" for none).
type Service struct {
	Name    string
	Feature string // the feature that enables it ("" for always)
	Start   func(s *System) (marker string, err error)
	// Commands are the shell commands Start registers; while the feature
	// is off the shell answers them with the feature that enables them.
	Commands []string
}

// BootMarkers are the boot markers in order, as Boot prints them with its
// default mounts and AgentSys enabled: SIS's, each after the real step it
// names (docs/boot.md), less SIS's "HEAP: READY", which has no step of its
// own here (the RAM that serves as the heap is reserved before STACK OK).
// Boot prints the VFS mount lines from the real mount table and the
// AgentSys line when the AgentSys service (BootConfig.Services) starts.
var BootMarkers = []string{
	"KERNEL(U)", "STACK OK", "VECTORS OK", "MMU ON", "UART: READY",
	fmt.Sprintf("METRIC cntfrq_hz=%d", cpu.CounterHz),
	"VFS: MOUNT TMPFS AT /", "VFS: MOUNT DEVFS AT /dev", "VFS: MOUNT PROCFS AT /proc",
	"VFS: READY", "GIC: INIT", "[AgentSys] Initialized (sync mode)", "LAUNCHING SHELL",
}

// hostname is the node name of every SIS machine.
const hostname = "sis"

// Boot creates a machine the way SIS boots: each step does its part of the
// set-up and prints its marker when done; the last marker is LAUNCHING
// SHELL, after which the caller starts Shell().Serve.
func Boot(bc BootConfig) (*System, error) {
	con := bc.Console
	if con == nil {
		con = bc.Stdout
	}
	if con == nil {
		con = io.Discard
	}
	mark := func(s string) { fmt.Fprintln(con, s) }
	mark("KERNEL(U)")

	cfg := bc.Config
	disk := &metrics.Counters{}
	var ram *mem.RAM
	if cfg.FS == nil {
		if cfg.Mem == 0 {
			cfg.Mem = kernel.DefaultMem
		}
		var err error
		if ram, err = mem.New(cfg.Mem); err != nil {
			return nil, fmt.Errorf("boot: %w", err)
		}
		root, err := vfs.NewDefaultRoot(hostname, vfs.WithRAM(ram))
		if err == nil {
			err = countRootDisk(root, disk)
		}
		if err != nil {
			ram.Close()
			return nil, fmt.Errorf("boot: root: %w", err)
		}
		cfg.FS = root
	}
	// The machine's RAM, where every stack, page table and file lives,
	// is reserved.
	mark("STACK OK")

	m, err := kernel.New(cfg)
	if err != nil {
		if ram != nil {
			ram.Close()
		}
		return nil, fmt.Errorf("boot: %w", err)
	}
	s := newSystem(m, bc.Options, disk)
	s.ram = ram
	fail := func(err error) (*System, error) {
		s.Close()
		return nil, fmt.Errorf("boot: %w", err)
	}
	// The CPU runs with the kernel's system-call and fault handlers
	// installed (kernel.New).
	mark("VECTORS OK")
	if err := m.CheckMMU(); err != nil {
		return fail(fmt.Errorf("mmu: %w", err))
	}
	mark("MMU ON")
	if err := checkConsole(m.FS()); err != nil {
		return fail(fmt.Errorf("console: %w", err))
	}
	mark("UART: READY")
	mark(fmt.Sprintf("METRIC cntfrq_hz=%d", cpu.CounterHz))

	if bc.Config.FS == nil {
		if err := installImage(m.FS(), bc.Image); err != nil {
			return fail(fmt.Errorf("root image: %w", err))
		}
		if bc.Setup != nil {
			if err := bc.Setup(m.FS()); err != nil {
				return fail(err)
			}
		}
	}
	for _, mt := range m.FS().Mounts() {
		if strings.HasPrefix(mt.Path, "/dev/") {
			continue // the kernel's /dev/shm comes with devfs's marker
		}
		mark(fmt.Sprintf("VFS: MOUNT %s AT %s", mountName(mt.Type), mt.Path))
	}
	mark("VFS: READY")
	if err := s.checkTimers(); err != nil {
		return fail(fmt.Errorf("timers: %w", err))
	}
	mark("GIC: INIT")
	lines, err := s.StartServices(bc.Services)
	if err != nil {
		return fail(err)
	}
	for _, line := range lines {
		mark(line)
	}
	s.MarkFiles()
	mark("LAUNCHING SHELL")
	return s, nil
}

// Console device number: Linux's /dev/console, char 5:1.
const consoleMajor, consoleMinor = 5, 1

// checkConsole checks that /dev/console, through which guests and the
// shell reach the kernel's console, is the console character device.
func checkConsole(v *vfs.FS) error {
	a, err := v.StatAt(nil, "/", "/dev/console", true)
	if err != nil {
		return err
	}
	if a.Mode&vfs.ModeType != vfs.ModeChar || a.Rdev != vfs.Makedev(consoleMajor, consoleMinor) {
		return fmt.Errorf("/dev/console is not the console device (char %d:%d)", consoleMajor, consoleMinor)
	}
	return nil
}

// checkTimers checks the machine's timer model, which stands for SIS's
// interrupt controller and timer interrupt: a machine timer set for now
// fires when the idle machine's time reaches it.
func (s *System) checkTimers() error {
	fired := false
	at := s.Now()
	cancel := s.AtTime(at, func() { fired = true })
	defer cancel()
	s.IdleUntil(at)
	if !fired {
		return fmt.Errorf("a machine timer set for %v did not fire", at)
	}
	return nil
}

// StartServices starts, in order, the services of svcs whose feature is
// enabled and returns their boot markers. Boot calls it after GIC: INIT;
// a System made by New may call it once, before its first process, to
// offer the SIS services (/dev/agentsys, /models, ...) to a guest without
// booting.
func (s *System) StartServices(svcs []Service) ([]string, error) {
	var lines []string
	for _, svc := range svcs {
		if svc.Feature != "" && !s.features.Enabled(svc.Feature) {
			s.shell.disable(svc.Commands, svc.Feature)
			continue
		}
		line, err := svc.Start(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", svc.Name, err)
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines, nil
}

// mountName is the SIS name of a file system type.
func mountName(typ string) string {
	switch typ {
	case "devtmpfs", "devfs":
		return "DEVFS"
	case "proc", "procfs":
		return "PROCFS"
	}
	return strings.ToUpper(typ)
}

// copyIn copies file p of tree to dst in v through buf (the image's
// files go straight into the tmpfs, not through a copy of each).
func copyIn(v *vfs.FS, tree fs.FS, p, dst string, perm uint32, buf []byte) error {
	src, err := tree.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := v.Open(dst, linux.O_WRONLY|linux.O_CREAT|linux.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(f, src, buf)
	return errors.Join(err, f.Close())
}

// installImage copies each tree of img into its directory of v: files
// keep their permission bits (files under /bin are executable whatever the
// tree says, as embedded files carry none), symlinks are copied as links
// when the tree can read them (fs.ReadLinkFS, as os.DirFS does).
func installImage(v *vfs.FS, img map[string]fs.FS) error {
	buf := make([]byte, 256<<10)
	dirs := make([]string, 0, len(img))
	for d := range img {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		tree := img[dir]
		dir = path.Clean("/" + dir)
		if err := v.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		err := fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == "." {
				return err
			}
			dst := path.Join(dir, p)
			if d.IsDir() {
				return v.MkdirAll(dst, 0o755)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if target, err := fs.ReadLink(tree, p); err == nil {
					return v.Symlink(target, dst)
				}
			}
			if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
				return nil // devices, fifos and sockets have no place in an image
			}
			perm := uint32(0o644)
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o200 != 0 {
				perm = uint32(info.Mode().Perm()) // a host tree: keep its bits
			}
			if path.Dir(dst) == "/bin" {
				perm |= 0o755
			}
			return copyIn(v, tree, p, dst, perm, buf)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
