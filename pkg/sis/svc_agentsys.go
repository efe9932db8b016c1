package sis

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sis-kernel/sissim/pkg/agentsys"
	"github.com/sis-kernel/sissim/pkg/fb"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// AgentSys wiring: the service over the machine's VFS, clock and display;
// the devices /dev/fb0 (the display) and /dev/agentsys (the control
// plane for guests); the `agentsys` shell command; and the machine timer
// that captures recording frames as machine time passes.

// Device numbers of /dev/agentsys: a misc device (major 10) with a minor
// from the range Linux leaves for local use.
const (
	agentsysMajor = 10
	agentsysMinor = 240
)

// Bounds of one open /dev/agentsys's reply queue: a write that finds it
// full fails with EAGAIN before its frame is handled (nothing is lost).
const (
	agentsysMaxReplies     = 64
	agentsysMaxQueuedBytes = 4 << 20
)

// agentsysMarker is SIS's boot marker of the service.
const agentsysMarker = "[AgentSys] Initialized (sync mode)"

// maxIdleTicks bounds the recording ticks one idle wait runs (a recording
// needs about 100: the service captures at most 100 frames of one, and
// runs at most 4 at once).
const maxIdleTicks = 1 << 20

// agentsysWiring is the kernel side of a started AgentSys service.
type agentsysWiring struct {
	m   *System
	svc *agentsys.Service

	mu      sync.Mutex
	armedAt time.Duration // when the armed timer fires
	cancel  func()        // cancels the armed timer; nil when none
}

// startAgentSys starts the service (DefaultServices).
func startAgentSys(m *System) (string, error) {
	var devfs *vfs.Devfs
	for _, mt := range m.FS().Mounts() {
		if d, ok := mt.Backend.(*vfs.Devfs); ok && mt.Path == "/dev" {
			devfs = d
		}
	}
	if devfs == nil {
		return "", fmt.Errorf("agentsys: no devfs mounted at /dev")
	}
	if err := m.appendOnlyLog(agentsys.DefaultAuditLog); err != nil {
		return "", fmt.Errorf("agentsys: %w", err)
	}
	display := fb.New()
	svc, err := agentsys.New(agentsys.Config{}, agentsys.Env{
		FS:     m.FS().Afero(),
		Now:    m.Now,
		Epoch:  m.Epoch(),
		Screen: display.Image,
	})
	if err != nil {
		return "", err
	}
	w := &agentsysWiring{m: m, svc: svc}
	if err := devfs.AddDevice(display.Device()); err != nil {
		return "", err
	}
	if err := devfs.AddDevice(vfs.Device{Name: "agentsys", Major: agentsysMajor, Minor: agentsysMinor, Perm: 0o666, Open: w.open}); err != nil {
		return "", err
	}
	cmd := svc.ShellCommand()
	cmd.Feature, cmd.Run = FeatureAgentSys, w.command
	if err := m.Shell().Register(cmd); err != nil {
		return "", err
	}
	m.svc.agentsys = svc
	return agentsysMarker, nil
}

// AgentSys returns the machine's AgentSys service; nil when the feature
// is off.
func (m *System) AgentSys() *agentsys.Service { return m.svc.agentsys }

// command runs the `agentsys` shell command. A recording that
// `agentsys test-record` starts is completed before the command returns:
// no guest runs while the shell waits, so the idle machine's clock moves
// on to each capture as a sleeping machine's would.
func (w *agentsysWiring) command(out io.Writer, args []string) error {
	before := map[string]bool{}
	for _, r := range w.svc.Recordings() {
		before[r.Path] = true
	}
	err := w.svc.Command(out, args)
	w.arm()
	var end time.Duration
	for _, r := range w.svc.Recordings() {
		if !before[r.Path] {
			end = max(end, r.End)
		}
	}
	if end > 0 {
		if ierr := w.idleUntil(end); ierr != nil && err == nil {
			err = ierr
		}
	}
	return err
}

// arm sets a machine timer for the service's next recording tick, if one
// is needed and no earlier timer is set.
func (w *agentsysWiring) arm() {
	next, ok := w.svc.NextTick()
	if !ok {
		return
	}
	// A tick at or before now runs at the next slice boundary; never
	// arm at a time that is already past, which would fire forever.
	if now := w.m.Now(); next <= now {
		next = now + 1
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		if w.armedAt <= next {
			return
		}
		w.cancel()
	}
	w.armedAt = next
	w.cancel = w.m.AtTime(next, w.fire)
}

// fire is the timer: capture what is due and arm the next tick.
func (w *agentsysWiring) fire() {
	w.mu.Lock()
	w.cancel = nil
	w.mu.Unlock()
	w.svc.Tick(w.m.Now())
	w.arm()
}

// idleUntil lets the idle machine's time pass until the service needs no
// recording tick before end: the recordings ending by then are written
// (the armed timer captures each frame as it falls due).
func (w *agentsysWiring) idleUntil(end time.Duration) error {
	for i := 0; ; i++ {
		next, ok := w.svc.NextTick()
		if !ok || next > end {
			return nil
		}
		if i == maxIdleTicks {
			return fmt.Errorf("agentsys: recording still running after %d ticks", maxIdleTicks)
		}
		w.m.IdleUntil(max(next, w.m.Now()))
		w.svc.Tick(w.m.Now())
		w.arm()
	}
}

// open opens /dev/agentsys: each open file has its own reply queue.
func (w *agentsysWiring) open(flags int, stat func() (vfs.Attr, error)) (vfs.Handle, error) {
	return &agentsysFile{w: w, stat: stat}, nil
}

// agentsysFile is an open /dev/agentsys. Each write(2) is one request
// frame, handled before write returns; its encoded reply is queued on the
// file. read(2) returns queued reply bytes, never more than the rest of
// the oldest reply (a big enough buffer gets exactly one reply), and
// fails with EAGAIN when nothing is queued. It is a stream: lseek, pread
// and pwrite fail with ESPIPE.
type agentsysFile struct {
	w    *agentsysWiring
	stat func() (vfs.Attr, error)

	mu      sync.Mutex
	replies [][]byte // oldest first; replies[0] may be partly read
	queued  int      // bytes in replies
}

// Write holds the file's lock while the frame is handled, so writers
// sharing the file cannot overfill its queue between check and append.
func (f *agentsysFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replies) >= agentsysMaxReplies || f.queued >= agentsysMaxQueuedBytes {
		return 0, linux.EAGAIN
	}
	rep := f.w.svc.Handle(p).Encode()
	f.w.arm()
	f.replies = append(f.replies, rep)
	f.queued += len(rep)
	return len(p), nil
}

func (f *agentsysFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replies) == 0 {
		return 0, linux.EAGAIN
	}
	n := copy(p, f.replies[0])
	f.replies[0] = f.replies[0][n:]
	f.queued -= n
	if len(f.replies[0]) == 0 {
		f.replies[0] = nil
		f.replies = f.replies[1:]
	}
	return n, nil
}

func (f *agentsysFile) ReadAt([]byte, int64) (int, error)  { return 0, linux.ESPIPE }
func (f *agentsysFile) WriteAt([]byte, int64) (int, error) { return 0, linux.ESPIPE }
func (f *agentsysFile) Stat() (vfs.Attr, error)            { return f.stat() }
func (f *agentsysFile) Truncate(int64) error               { return linux.EINVAL }
func (f *agentsysFile) Sync() error                        { return linux.EINVAL }
func (f *agentsysFile) Close() error                       { return nil }
func (f *agentsysFile) ReadDir() ([]vfs.Dirent, error)     { return nil, linux.ENOTDIR }
func (f *agentsysFile) NoMmap()                            {}
