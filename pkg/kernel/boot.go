package kernel

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/mem"
	"github.com/sis-kernel/sissim/pkg/metrics"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// BootConfig configures Boot.
type BootConfig struct {
	// Config is the machine's configuration. When Config.FS is nil, Boot
	// builds the default root: a tmpfs with the SIS layout and Image.
	Config
	// Image maps directories of the default root to trees copied into
	// them ({"/bin": guests} installs /bin/hello, ...); files under /bin
	// are executable.
	Image map[string]fs.FS
	// Setup runs after the image is installed and before the mount table
	// is printed: host mounts go here (only with the default root).
	Setup func(*vfs.FS) error
	// Console receives the boot markers (Config.Stdout when nil).
	Console io.Writer
	// Features selects the services the machine starts and the commands
	// the shell offers (nil: every feature).
	Features Features
	// Services start after GIC: INIT, in order; those whose Feature is
	// disabled are skipped.
	Services []Service
}

// Service is a kernel service started at boot (AgentSys, the model
// registry, ...). Start wires it into the machine, typically registering
// its shell commands, and returns its boot marker line ("" for none).
type Service struct {
	Name    string
	Feature string // the feature that enables it ("" for always)
	Start   func(m *Machine) (marker string, err error)
	// Commands are the shell commands Start registers; while the feature
	// is off the shell answers them with the feature that enables them.
	Commands []string
}

// BootMarkers are the SIS boot markers in order, as the original prints them
// with its default mounts and AgentSys enabled. Boot prints the VFS mount
// lines from the real mount table and the AgentSys line when the AgentSys
// service (BootConfig.Services) starts.
var BootMarkers = []string{
	"KERNEL(U)", "STACK OK", "VECTORS OK", "MMU ON", "UART: READY",
	fmt.Sprintf("METRIC cntfrq_hz=%d", cpu.CounterHz), "HEAP: READY",
	"VFS: MOUNT TMPFS AT /", "VFS: MOUNT DEVFS AT /dev", "VFS: MOUNT PROCFS AT /proc",
	"VFS: READY", "GIC: INIT", "[AgentSys] Initialized (sync mode)", "LAUNCHING SHELL",
}

// Boot creates a machine the way SIS boots: each step does its part of the
// set-up for real and prints its marker when done; the last marker is
// LAUNCHING SHELL, after which the caller starts m.Shell().Serve.
func Boot(bc BootConfig) (*Machine, error) {
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
			cfg.Mem = DefaultMem
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
	mark("STACK OK")

	if len(Syscalls()) == 0 {
		return nil, fmt.Errorf("boot: empty syscall table")
	}
	mark("VECTORS OK")

	m, err := New(cfg)
	if err != nil {
		if ram != nil {
			ram.Close()
		}
		return nil, fmt.Errorf("boot: %w", err)
	}
	m.ownRAM = ram != nil
	// A page table the CPU translates through is what a guest needs:
	// check that the machine's MMU maps, faults in and reads back memory
	// before promising it.
	if err := m.probeMMU(); err != nil {
		m.Close()
		return nil, fmt.Errorf("boot: mmu: %w", err)
	}
	mark("MMU ON")
	mark("UART: READY")
	mark(fmt.Sprintf("METRIC cntfrq_hz=%d", cpu.CounterHz))

	// The registry counts the root's disk operations (set before its
	// first use, which creates it).
	m.sisState.counters = disk
	m.sisState.features = bc.Features
	if m.Metrics() == nil {
		m.Close()
		return nil, fmt.Errorf("boot: no metrics registry")
	}
	mark("HEAP: READY")

	if bc.Config.FS == nil {
		if err := installImage(m.fs, bc.Image); err != nil {
			m.Close()
			return nil, fmt.Errorf("boot: root image: %w", err)
		}
		if bc.Setup != nil {
			if err := bc.Setup(m.fs); err != nil {
				m.Close()
				return nil, fmt.Errorf("boot: %w", err)
			}
		}
	}
	for _, mt := range m.fs.Mounts() {
		mark(fmt.Sprintf("VFS: MOUNT %s AT %s", mountName(mt.Type), mt.Path))
	}
	mark("VFS: READY")
	mark("GIC: INIT")
	lines, err := m.StartServices(bc.Features, bc.Services)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("boot: %w", err)
	}
	for _, line := range lines {
		mark(line)
	}
	mark("LAUNCHING SHELL")
	return m, nil
}

// StartServices starts, in order, the services of svcs whose feature is
// in f (nil: all) and returns their boot markers. Boot calls it after
// GIC: INIT; a machine made by New may call it once, before its first
// process, to offer the SIS services (/dev/agentsys, /models, ...) to a
// guest without booting.
func (m *Machine) StartServices(f Features, svcs []Service) ([]string, error) {
	m.sisState.features = f
	var lines []string
	for _, svc := range svcs {
		if svc.Feature != "" && !f.Enabled(svc.Feature) {
			m.Shell().disable(svc.Commands, svc.Feature)
			continue
		}
		line, err := svc.Start(m)
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

// probeMMU builds an address space, maps a page, writes it through the
// page table (a demand fault gives it a frame), checks that the CPU's
// table walk finds that frame, reads the bytes back and frees it all.
func (m *Machine) probeMMU() error {
	as, err := m.newAddressSpace()
	if err != nil {
		return err
	}
	defer as.release()
	const va = 0x10000
	if err := as.mapRange(va, pageSize, cpu.ProtRead|cpu.ProtWrite, cpu.ProtAll, 0, nil, 0, ""); err != nil {
		return err
	}
	if err := as.access(va, []byte("SIS"), cpu.AccessWrite); err != nil {
		return err
	}
	old := m.cpu.PageTableRoot()
	m.cpu.SetPageTable(as.pt.Root())
	pte := m.cpu.Lookup(va)
	m.cpu.SetPageTable(old)
	if pte != as.pt.Lookup(va) || pte&cpu.PTEValid == 0 {
		return fmt.Errorf("the CPU's table walk found %#x for %#x, the kernel mapped %#x", pte, va, as.pt.Lookup(va))
	}
	b := make([]byte, 3)
	if err := as.access(va, b, cpu.AccessRead); err != nil {
		return err
	}
	if string(b) != "SIS" {
		return fmt.Errorf("read back %q", b)
	}
	return nil
}

// installImage copies each tree of img into its directory of v: files
// keep their permission bits (files under /bin are executable whatever the
// tree says, as embedded files carry none), symlinks are copied as links
// when the tree can read them (fs.ReadLinkFS, as os.DirFS does).
func installImage(v *vfs.FS, img map[string]fs.FS) error {
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
			data, err := fs.ReadFile(tree, p)
			if err != nil {
				return err
			}
			perm := uint32(0o644)
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o200 != 0 {
				perm = uint32(info.Mode().Perm()) // a host tree: keep its bits
			}
			if path.Dir(dst) == "/bin" {
				perm |= 0o755
			}
			return v.WriteFile(dst, data, perm)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
