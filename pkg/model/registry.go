package model

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"
	"go.uber.org/zap"

	"github.com/sis-kernel/sissim/pkg/afile"
	"github.com/sis-kernel/sissim/pkg/linux"
)

// Registry file names under Config.Dir.
const (
	RegistryFile = "registry.json"
	HistoryFile  = "history.jsonl"
	ActiveLink   = "active"
	ShadowLink   = "shadow"
)

// Status is a registered model's status.
type Status string

// Statuses. A registered model that is in no slot and passed (or has not
// run) its health checks is Loaded.
const (
	StatusActive   Status = "Active"
	StatusShadow   Status = "Shadow"
	StatusRollback Status = "Rollback"
	StatusFailed   Status = "Failed"
	StatusLoaded   Status = "Loaded"
)

// Config configures a Registry.
type Config struct {
	// FS holds the registry directory and the packages.
	FS afero.Fs
	// Dir is the registry directory ("/models"): registry.json, the
	// active and shadow symlinks, history.jsonl and one package directory
	// per version.
	Dir string
	// TrustedKeys are the keys whose signatures Load accepts.
	TrustedKeys []ed25519.PublicKey
	// Now is the machine clock (time since boot).
	Now func() time.Duration
	// Epoch is the wall time of boot: registry.json records when a model
	// was loaded as Epoch+Now (the Unix epoch when zero).
	Epoch time.Time
	// Realtime says Now follows the host clock: health checks time each
	// inference on it as it runs.
	Realtime bool
	// Advance moves the deterministic machine clock forward. Health
	// checks charge each inference its machine-time cost (Model.Cost)
	// with it and read the latency on Now, so a check takes virtual time
	// as it would on the simulated core. When nil (and not Realtime),
	// checks run on a private virtual clock and the machine's time does
	// not move.
	Advance func(time.Duration)
	// Limits are the health-check thresholds (DefaultLimits when zero).
	Limits Limits
	// Log receives warnings (zap.NewNop when nil).
	Log *zap.Logger
	// Kind, when set, is what the packages hold instead of decision
	// models (kind.go).
	Kind Kind
}

// Loaded is a verified model in memory. It is immutable: a swap publishes
// another *Loaded, so a reader keeps the one it got.
type Loaded struct {
	Version  string
	Hash     string        // hex SHA-256 of model.bin
	LoadedAt time.Duration // machine time of the load
	Model    *Model
	Manifest Manifest
	Health   HealthSet // the package's test set
	// Payload is what a package of a Config.Kind holds (Model is nil).
	Payload any
}

// Entry is a registered model, as registry.json records it.
type Entry struct {
	Version   string  `json:"version"`
	Hash      string  `json:"hash"`
	Signature string  `json:"signature"`
	Status    Status  `json:"status"`
	LoadedAt  string  `json:"loaded_at"` // wall time of the load (Config.Epoch + machine time), RFC 3339
	Health    *Health `json:"health,omitempty"`
	Reason    string  `json:"reason,omitempty"` // why it Failed
	LLM       *LLM    `json:"llm,omitempty"`
}

// LLM is what `llmctl register` records for a model.
type LLM struct {
	SizeKB int `json:"size_kb"`
	Ctx    int `json:"ctx"`
}

// State is the content of registry.json.
type State struct {
	Models   []Entry `json:"models"`
	Active   string  `json:"active"`
	Shadow   string  `json:"shadow"`
	Rollback string  `json:"rollback"`
}

// Registry is the model registry. It is safe for concurrent use: changes
// are serialized, and Active and Shadow are lock-free reads of atomically
// published pointers (RCU: an inference in progress keeps its model).
type Registry struct {
	cfg   Config
	clock Clock // what health checks time inferences with

	checkMu sync.Mutex // one health check at a time (innermost lock)

	mu     sync.Mutex
	state  State              // as persisted
	loaded map[string]*Loaded // verified models by version
	seq    uint64             // last history sequence number

	active, shadow atomic.Pointer[Loaded]
}

// ErrCommitted wraps failures that happen after a change was committed
// to registry.json (updating a symlink, appending to the history): the
// change took effect, and Open repairs the symlinks.
var ErrCommitted = errors.New("change committed")

// Open opens the registry in cfg.Dir, creating the directory. It reads
// registry.json (an error if it is malformed: the file is left alone),
// loads and verifies the models in the active, shadow and rollback slots
// (one that fails verification is marked Failed and its slot cleared) and
// makes the symlinks match the registry.
func Open(cfg Config) (*Registry, error) { return open(cfg, false) }

// stateError is a registry.json that cannot be read or is malformed.
type stateError struct{ error }

func (e stateError) Unwrap() error { return e.error }

// badNames is how many names OpenOrReset tries for a bad registry.json.
const badNames = 10

// OpenOrReset opens the registry as Open does. When registry.json cannot
// be read or is malformed, it keeps the file for inspection under the
// first free name of registry.json.bad, registry.json.bad.1, ...,
// registry.json.bad.9 and opens an empty registry; when it cannot move
// the file, the empty registry replaces it at its first change. The
// warning says what happened ("" when all was well).
func OpenOrReset(cfg Config) (r *Registry, warning string, err error) {
	r, err = Open(cfg)
	var bad stateError
	if err == nil || !errors.As(err, &bad) {
		return r, "", err
	}
	src := r0file(cfg, RegistryFile)
	moveErr := errors.New("every name is taken")
	for i := range badNames {
		name := src + ".bad"
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		if exists(cfg.FS, name) {
			continue
		}
		if moveErr = cfg.FS.Rename(src, name); moveErr == nil {
			r, err := Open(cfg)
			return r, fmt.Sprintf("%v; moved to %s, starting with an empty registry", bad, name), err
		}
		break
	}
	r, err = open(cfg, true)
	return r, fmt.Sprintf("%v; it could not be moved aside (%v): starting with an empty registry, which replaces it at the first change", bad, moveErr), err
}

// r0file is Registry.file before there is a registry.
func r0file(cfg Config, name string) string {
	dir := cfg.Dir
	if dir == "" {
		dir = "/models"
	}
	return path.Join(dir, name)
}

// open is Open; ignoreState starts with an empty registry whatever
// registry.json holds.
func open(cfg Config, ignoreState bool) (*Registry, error) {
	if cfg.FS == nil {
		return nil, errors.New("model registry: no file system")
	}
	if cfg.Dir == "" {
		cfg.Dir = "/models"
	}
	if cfg.Now == nil {
		return nil, errors.New("model registry: no clock")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	r := &Registry{cfg: cfg, loaded: map[string]*Loaded{}}
	switch {
	case cfg.Realtime:
		r.clock = Clock{Now: cfg.Now}
	case cfg.Advance != nil:
		r.clock = Clock{Now: cfg.Now, Advance: cfg.Advance}
	default:
		r.clock = VirtualClock()
	}
	if err := cfg.FS.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("model registry: %w", err)
	}
	b, err := readLimited(cfg.FS, r.file(RegistryFile), 16<<20)
	switch {
	case ignoreState, errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, stateError{fmt.Errorf("model registry: %w", err)}
	default:
		if err := json.Unmarshal(b, &r.state); err != nil {
			return nil, stateError{fmt.Errorf("model registry: %s is malformed: %v", r.file(RegistryFile), err)}
		}
		if err := r.state.check(); err != nil {
			return nil, stateError{fmt.Errorf("model registry: %s: %w", r.file(RegistryFile), err)}
		}
	}
	r.seq = r.lastSeq()
	next := r.state.clone()
	changed := false
	for _, v := range []string{next.Active, next.Shadow, next.Rollback} {
		if v == "" {
			continue
		}
		l, err := r.verify(v)
		if err == nil && l.Hash != next.entry(v).Hash {
			err = fmt.Errorf("package hash %s differs from the registered %s", l.Hash, next.entry(v).Hash)
		}
		if err != nil {
			cfg.Log.Warn("model not reloaded", zap.String("version", v), zap.Error(err))
			next.fail(v, "reload: "+err.Error())
			changed = true
			continue
		}
		r.loaded[v] = l
		next.entry(v).LoadedAt = r.wall(l.LoadedAt)
	}
	if changed {
		if err := r.writeState(next); err != nil {
			return nil, fmt.Errorf("model registry: %w", err)
		}
		if err := r.history(Event{Event: "reload-failed", Detail: "models failing verification were deactivated"}); err != nil {
			cfg.Log.Warn("model registry", zap.Error(err))
		}
	}
	r.state = next
	r.publish()
	if err := r.syncLinks(); err != nil {
		cfg.Log.Warn("model symlinks not repaired", zap.Error(err))
	}
	return r, nil
}

// wall returns the wall time of machine time d, as registry.json records it.
func (r *Registry) wall(d time.Duration) string {
	epoch := r.cfg.Epoch
	if epoch.IsZero() {
		epoch = time.Unix(0, 0)
	}
	return epoch.Add(d).UTC().Format(time.RFC3339Nano)
}

func (r *Registry) file(name string) string { return path.Join(r.cfg.Dir, name) }

// check validates a State read from disk.
func (s *State) check() error {
	seen := map[string]bool{}
	for _, e := range s.Models {
		if err := ValidVersion(e.Version); err != nil {
			return err
		}
		if seen[e.Version] {
			return fmt.Errorf("model %q registered twice", e.Version)
		}
		seen[e.Version] = true
		switch e.Status {
		case StatusActive, StatusShadow, StatusRollback, StatusFailed, StatusLoaded:
		default:
			return fmt.Errorf("model %q has unknown status %q", e.Version, e.Status)
		}
		if _, err := hex.DecodeString(e.Hash); err != nil || len(e.Hash) != 64 {
			return fmt.Errorf("model %q has a malformed hash %q", e.Version, e.Hash)
		}
	}
	for _, slot := range []struct{ name, v string }{{"active", s.Active}, {"shadow", s.Shadow}, {"rollback", s.Rollback}} {
		if slot.v != "" && !seen[slot.v] {
			return fmt.Errorf("%s model %q is not registered", slot.name, slot.v)
		}
	}
	if s.Active != "" && (s.Active == s.Shadow || s.Active == s.Rollback) {
		return fmt.Errorf("model %q is in two slots", s.Active)
	}
	for _, v := range []string{s.Active, s.Shadow, s.Rollback} {
		if e := s.entry(v); e != nil && e.Status == StatusFailed {
			return fmt.Errorf("failed model %q is in a slot", v)
		}
	}
	return nil
}

func (s State) clone() State {
	s.Models = append([]Entry(nil), s.Models...)
	for i := range s.Models {
		if h := s.Models[i].Health; h != nil {
			c := *h
			s.Models[i].Health = &c
		}
		if l := s.Models[i].LLM; l != nil {
			c := *l
			s.Models[i].LLM = &c
		}
	}
	return s
}

// entry returns the entry of version v (nil when not registered).
func (s *State) entry(v string) *Entry {
	if v == "" {
		return nil
	}
	for i := range s.Models {
		if s.Models[i].Version == v {
			return &s.Models[i]
		}
	}
	return nil
}

// fail marks v Failed and clears its slots.
func (s *State) fail(v, reason string) {
	if e := s.entry(v); e != nil {
		e.Status = StatusFailed
		e.Reason = reason
	}
	for _, slot := range []*string{&s.Active, &s.Shadow, &s.Rollback} {
		if *slot == v {
			*slot = ""
		}
	}
}

// setStatuses derives each entry's status from the slots.
func (s *State) setStatuses() {
	for i := range s.Models {
		e := &s.Models[i]
		switch e.Version {
		case s.Active:
			e.Status = StatusActive
		case s.Shadow:
			e.Status = StatusShadow
		case s.Rollback:
			e.Status = StatusRollback
		default:
			if e.Status != StatusFailed {
				e.Status = StatusLoaded
			}
		}
		if e.Status != StatusFailed {
			e.Reason = ""
		}
	}
	sort.Slice(s.Models, func(i, j int) bool { return s.Models[i].Version < s.Models[j].Version })
}

// publish makes the loaded active and shadow models visible to readers.
func (r *Registry) publish() {
	r.active.Store(r.loaded[r.state.Active])
	r.shadow.Store(r.loaded[r.state.Shadow])
}

// writeState writes next to registry.json atomically: a temporary file
// renamed over it. On error the file keeps its old content.
func (r *Registry) writeState(next State) error {
	next.setStatuses()
	if next.Models == nil {
		next.Models = []Entry{}
	}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	if err := afile.WriteAtomic(r.cfg.FS, r.file(RegistryFile), append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", RegistryFile, err)
	}
	return nil
}

// commit persists next and makes it current: after registry.json is
// renamed the change has happened; the symlinks follow (a failure there
// is reported wrapped in ErrCommitted and repaired by Open).
func (r *Registry) commit(next State, ev Event) error {
	if err := r.writeState(next); err != nil {
		return err
	}
	next.setStatuses()
	r.state = next
	r.publish()
	var errs []error
	if err := r.syncLinks(); err != nil {
		errs = append(errs, err)
	}
	if err := r.history(ev); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		r.cfg.Log.Warn("model registry", zap.Error(err))
		return fmt.Errorf("%w, but: %w", ErrCommitted, err)
	}
	return nil
}

// syncLinks makes the active and shadow symlinks point at the slots'
// package directories ("v1.0.0/"), or removes them for empty slots. A
// link is replaced atomically: a new symlink under a temporary name,
// renamed over the old one.
func (r *Registry) syncLinks() error {
	sl, ok := r.cfg.FS.(afero.Symlinker)
	if !ok {
		return errors.New("the file system has no symlinks")
	}
	var errs []error
	for _, l := range []struct{ name, v string }{{ActiveLink, r.state.Active}, {ShadowLink, r.state.Shadow}} {
		name, v := l.name, l.v
		link := r.file(name)
		cur, curErr := sl.ReadlinkIfPossible(link)
		if v == "" {
			if curErr == nil || exists(r.cfg.FS, link) {
				if err := r.cfg.FS.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
			}
			continue
		}
		want := v + "/"
		if curErr == nil && cur == want {
			continue
		}
		tmp := r.file("." + name + ".tmp")
		r.cfg.FS.Remove(tmp)
		if err := sl.SymlinkIfPossible(want, tmp); err != nil {
			errs = append(errs, fmt.Errorf("symlink %s: %w", link, err))
			continue
		}
		if err := r.cfg.FS.Rename(tmp, link); err != nil {
			r.cfg.FS.Remove(tmp)
			errs = append(errs, fmt.Errorf("symlink %s: %w", link, err))
		}
	}
	return errors.Join(errs...)
}

func exists(fsys afero.Fs, name string) bool {
	if l, ok := fsys.(afero.Lstater); ok {
		_, _, err := l.LstatIfPossible(name)
		return err == nil
	}
	_, err := fsys.Stat(name)
	return err == nil
}

// verify reads and verifies the package of version v (not registering it).
func (r *Registry) verify(v string) (*Loaded, error) {
	if err := ValidVersion(v); err != nil {
		return nil, err
	}
	dir := r.file(v)
	if fi, err := r.cfg.FS.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("model %s: no package at %s", v, dir)
	}
	if r.cfg.Kind != nil {
		return r.verifyKind(v, dir)
	}
	p, err := ReadPackage(r.cfg.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", v, err)
	}
	m, err := p.Verify(v, r.cfg.TrustedKeys)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", v, err)
	}
	return &Loaded{Version: v, Hash: p.Hash(), LoadedAt: r.cfg.Now(), Model: m, Manifest: p.Manifest, Health: p.Health}, nil
}

// sigHex returns the hex signature of v's package (for registry.json).
func (r *Registry) sigHex(v string) string {
	b, err := readLimited(r.cfg.FS, path.Join(r.file(v), SigFile), MaxSigFile)
	if err != nil {
		return ""
	}
	s, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return ""
	}
	return hex.EncodeToString(s)
}

// load returns the verified model v, loading it (and registering it as
// Loaded in next) if needed. Called with r.mu held.
func (r *Registry) load(next *State, v string) (*Loaded, error) {
	if l := r.loaded[v]; l != nil {
		return l, nil
	}
	l, err := r.verify(v)
	if err != nil {
		return nil, err
	}
	if e := next.entry(v); e != nil {
		if e.Hash != l.Hash {
			// The package was replaced: the registered entry describes
			// another model.
			e.Hash = l.Hash
			e.Health = nil
		}
		e.Status = StatusLoaded
		e.Reason = ""
		e.Signature = r.sigHex(v)
		e.LoadedAt = r.wall(l.LoadedAt)
	} else {
		next.Models = append(next.Models, Entry{Version: v, Hash: l.Hash, Signature: r.sigHex(v), Status: StatusLoaded, LoadedAt: r.wall(l.LoadedAt)})
	}
	return l, nil
}

// Load loads, verifies and registers model v without activating it. A
// failure after the registration was committed is returned, wrapping
// ErrCommitted, with the model.
func (r *Registry) Load(v string) (*Loaded, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.loaded[v]; l != nil {
		return l, nil
	}
	next := r.state.clone()
	l, err := r.load(&next, v)
	if err != nil {
		return nil, err
	}
	err = r.commit(next, Event{Event: "load", Version: v, Hash: l.Hash})
	if err != nil && !errors.Is(err, ErrCommitted) {
		return nil, err
	}
	r.loaded[v] = l
	return l, err
}

// Get returns model v, loading and registering it if needed (a failure
// after the registration was committed is only logged).
func (r *Registry) Get(v string) (*Loaded, error) {
	l, err := r.Load(v)
	if errors.Is(err, ErrCommitted) {
		err = nil
	}
	return l, err
}

// Active returns the active model (nil when none).
func (r *Registry) Active() *Loaded { return r.active.Load() }

// Shadow returns the shadow model (nil when none).
func (r *Registry) Shadow() *Loaded { return r.shadow.Load() }

// Status returns the registry's slots.
func (r *Registry) Status() (active, shadow, rollback string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.Active, r.state.Shadow, r.state.Rollback
}

// List returns the registered models, sorted by version.
func (r *Registry) List() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.clone().Models
}

// Entry returns the registry entry of v.
func (r *Registry) Entry(v string) (Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state.clone()
	if e := s.entry(v); e != nil {
		return *e, true
	}
	return Entry{}, false
}

// Packages returns the versions that have a package directory in Dir.
func (r *Registry) Packages() ([]string, error) {
	infos, err := afero.ReadDir(r.cfg.FS, r.cfg.Dir)
	if err != nil {
		return nil, err
	}
	var vs []string
	for _, fi := range infos {
		if fi.IsDir() && ValidVersion(fi.Name()) == nil {
			vs = append(vs, fi.Name())
		}
	}
	return vs, nil
}

// Health loads and verifies model v (registered or not) and runs its
// health checks, changing nothing.
func (r *Registry) Health(v string) (*HealthReport, error) {
	r.mu.Lock()
	l := r.loaded[v]
	r.mu.Unlock()
	if l == nil {
		var err error
		if l, err = r.verify(v); err != nil {
			return nil, err
		}
	}
	return r.health(l), nil
}

// DrySwap checks that a swap to v would succeed (verification and health
// checks) without changing anything.
func (r *Registry) DrySwap(v string) (*HealthReport, error) {
	r.mu.Lock()
	active := r.state.Active
	r.mu.Unlock()
	if v == active {
		return nil, fmt.Errorf("model %s is already active", v)
	}
	rep, err := r.Health(v)
	if err != nil {
		return nil, err
	}
	if !rep.Passed() {
		return rep, &HealthError{Report: rep}
	}
	return rep, nil
}

// Swap makes v the active model: load and verify it, run its health
// checks (a failure marks it Failed and leaves the active model), then
// atomically replace the active model, keeping the old one as rollback,
// persist the registry and update the symlink.
func (r *Registry) Swap(v string) (*HealthReport, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.activate(v, "swap")
}

// healthGate runs the health checks of l, recording the result in next.
// A failure marks the model Failed (clearing its slots), commits that and
// returns a *HealthError with the report. Called with r.mu held.
func (r *Registry) healthGate(next *State, l *Loaded) (*HealthReport, error) {
	rep := r.health(l)
	h := rep.Health
	next.entry(l.Version).Health = &h
	if rep.Passed() {
		return rep, nil
	}
	delete(r.loaded, l.Version)
	next.fail(l.Version, "health: "+rep.Failure())
	herr := &HealthError{Report: rep}
	if err := r.commit(*next, Event{Event: "health-failed", Version: l.Version, Hash: l.Hash, Detail: rep.Failure()}); err != nil && !errors.Is(err, ErrCommitted) {
		return rep, errors.Join(herr, err)
	}
	return rep, herr
}

// activate is Swap with r.mu held.
func (r *Registry) activate(v, event string) (*HealthReport, error) {
	if v == r.state.Active && v != "" {
		return nil, fmt.Errorf("model %s is already active", v)
	}
	next := r.state.clone()
	l, err := r.load(&next, v)
	if err != nil {
		return nil, err
	}
	rep, err := r.healthGate(&next, l)
	if err != nil {
		return rep, err
	}
	from := next.Active
	if from != "" {
		next.Rollback = from
	}
	next.Active = v
	if next.Shadow == v {
		next.Shadow = ""
	}
	if next.Rollback == v {
		next.Rollback = ""
	}
	wasLoaded := r.loaded[v] != nil
	r.loaded[v] = l
	err = r.commit(next, Event{Event: event, Version: v, Hash: l.Hash, From: from, To: v})
	if err != nil && !errors.Is(err, ErrCommitted) && !wasLoaded {
		delete(r.loaded, v)
	}
	return rep, err
}

// Rollback makes the rollback model active again (the last known good
// model) and clears the rollback slot.
func (r *Registry) Rollback() (from, to string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rollback("")
}

// RollbackTo is Rollback that checks the rollback model is want.
func (r *Registry) RollbackTo(want string) (from, to string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rollback(want)
}

func (r *Registry) rollback(want string) (from, to string, err error) {
	next := r.state.clone()
	from, to = next.Active, next.Rollback
	if to == "" {
		return "", "", errors.New("no rollback model")
	}
	if want != "" && want != to {
		return "", "", fmt.Errorf("the rollback model is %s, not %s", to, want)
	}
	if r.loaded[to] == nil {
		l, err := r.verify(to)
		if err != nil {
			return "", "", err
		}
		r.loaded[to] = l
	}
	next.Active, next.Rollback = to, ""
	if next.Shadow == to {
		next.Shadow = ""
	}
	err = r.commit(next, Event{Event: "rollback", Version: to, From: from, To: to})
	if err != nil && !errors.Is(err, ErrCommitted) {
		return "", "", err
	}
	return from, to, err
}

// SetShadow makes v the shadow model, after verification and health
// checks.
func (r *Registry) SetShadow(v string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v == r.state.Active {
		return fmt.Errorf("model %s is the active model", v)
	}
	next := r.state.clone()
	l, err := r.load(&next, v)
	if err != nil {
		return err
	}
	if _, err := r.healthGate(&next, l); err != nil {
		return err
	}
	if next.Rollback == v {
		next.Rollback = ""
	}
	next.Shadow = v
	r.loaded[v] = l
	return r.commit(next, Event{Event: "shadow", Version: v, Hash: l.Hash})
}

// ClearShadow empties the shadow slot. A failure to persist is logged;
// the shadow model is no longer published either way.
func (r *Registry) ClearShadow() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state.Shadow == "" {
		return
	}
	next := r.state.clone()
	v := next.Shadow
	next.Shadow = ""
	if err := r.commit(next, Event{Event: "clear-shadow", Version: v}); err != nil && !errors.Is(err, ErrCommitted) {
		r.cfg.Log.Warn("model registry: clear shadow not persisted", zap.Error(err))
		r.shadow.Store(nil)
	}
}

// Promote makes the shadow model active (after its health checks); the
// old active model becomes the rollback model.
func (r *Registry) Promote() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state.Shadow == "" {
		return errors.New("no shadow model")
	}
	_, err := r.activate(r.state.Shadow, "promote")
	return err
}

// Remove unregisters model v and deletes its package directory. The
// active model cannot be removed (EBUSY), nor the shadow model.
func (r *Registry) Remove(v string) error {
	if err := ValidVersion(v); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch v {
	case r.state.Active:
		return fmt.Errorf("model %s is active (EBUSY): %w", v, linux.EBUSY)
	case r.state.Shadow:
		return fmt.Errorf("model %s is the shadow model (EBUSY): %w", v, linux.EBUSY)
	}
	registered := r.state.entry(v) != nil
	if _, err := r.cfg.FS.Stat(r.file(v)); err != nil && !registered {
		return fmt.Errorf("model %s: not registered and no package", v)
	}
	next := r.state.clone()
	if registered {
		kept := next.Models[:0]
		for _, e := range next.Models {
			if e.Version != v {
				kept = append(kept, e)
			}
		}
		next.Models = kept
		if next.Rollback == v {
			next.Rollback = ""
		}
	}
	err := r.commit(next, Event{Event: "remove", Version: v})
	if err != nil && !errors.Is(err, ErrCommitted) {
		return err
	}
	delete(r.loaded, v)
	if rerr := r.cfg.FS.RemoveAll(r.file(v)); rerr != nil {
		return errors.Join(err, fmt.Errorf("%w, but deleting %s: %w", ErrCommitted, r.file(v), rerr))
	}
	return err
}

// SetLLM records llmctl metadata for registered model v.
func (r *Registry) SetLLM(v string, info LLM) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.state.clone()
	e := next.entry(v)
	if e == nil {
		return fmt.Errorf("model %s is not registered", v)
	}
	e.LLM = &info
	return r.commit(next, Event{Event: "llm-register", Version: v, Detail: fmt.Sprintf("size_kb=%d ctx=%d", info.SizeKB, info.Ctx)})
}
