package decision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"runtime/debug"
	"time"

	"github.com/sis-kernel/sissim/pkg/afile"
	"github.com/spf13/afero"
)

// DefaultIncidentDir is where incident bundles go.
const DefaultIncidentDir = "/incidents"

// ModelInfo identifies the model of a bundle.
type ModelInfo struct {
	Version string `json:"version"`
	Hash    string `json:"hash"`
	// LoadedAt is the machine wall time at which the model was loaded
	// (RFC 3339, UTC); empty when no model is loaded.
	LoadedAt string `json:"loaded_at"`
}

// SystemSnapshot is the machine's state at export.
type SystemSnapshot struct {
	UptimeMs uint64 `json:"uptime_ms"`
	// HeapStats are the machine's memory counters by name (JSON sorts the
	// keys, so the output is deterministic).
	HeapStats map[string]uint64 `json:"heap_stats"`
	// Logs are recent kernel log or console lines the caller includes.
	Logs []string `json:"logs"`
}

// BuildConfig describes the build that produced a bundle.
type BuildConfig struct {
	Features       []string `json:"features"`
	GitCommit      string   `json:"git_commit"`
	BuildTimestamp string   `json:"build_timestamp"`
}

// Snapshot is what the caller knows at export time: everything of a
// bundle but the traces. Now is the machine's wall time (epoch + machine
// time), which dates the bundle.
type Snapshot struct {
	Now    time.Time
	Model  ModelInfo
	System SystemSnapshot
	Config BuildConfig
}

// Bundle is an incident bundle, /incidents/INC-<date>-<NNN>.json.
type Bundle struct {
	IncidentID     string          `json:"incident_id"`
	ExportedAt     string          `json:"exported_at"`
	Traces         []DecisionTrace `json:"traces"`
	ModelInfo      ModelInfo       `json:"model_info"`
	SystemSnapshot SystemSnapshot  `json:"system_snapshot"`
	Config         BuildConfig     `json:"config"`
}

// BuildVCS returns the git commit and commit time stamped into the running
// binary by the Go toolchain (debug.ReadBuildInfo, settings vcs.revision
// and vcs.time; "-dirty" is appended to the commit when vcs.modified is
// true). Either is "unknown" when the binary carries none (test binaries
// and builds with -buildvcs=false do not); nothing is invented.
func BuildVCS() (commit, timestamp string) {
	commit, timestamp = "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				commit = s.Value
			}
		case "vcs.time":
			if s.Value != "" {
				timestamp = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && commit != "unknown" {
		commit += "-dirty"
	}
	return
}

// NewBundle builds the bundle with the given id from a snapshot and
// traces. Nil slices and maps are written as empty ones.
func NewBundle(id string, s Snapshot, traces []DecisionTrace) Bundle {
	b := Bundle{
		IncidentID:     id,
		ExportedAt:     s.Now.UTC().Format(time.RFC3339Nano),
		Traces:         traces,
		ModelInfo:      s.Model,
		SystemSnapshot: s.System,
		Config:         s.Config,
	}
	if b.Traces == nil {
		b.Traces = []DecisionTrace{}
	}
	if b.SystemSnapshot.HeapStats == nil {
		b.SystemSnapshot.HeapStats = map[string]uint64{}
	}
	if b.SystemSnapshot.Logs == nil {
		b.SystemSnapshot.Logs = []string{}
	}
	if b.Config.Features == nil {
		b.Config.Features = []string{}
	}
	return b
}

// Marshal returns the bundle as indented JSON with a final newline.
func (b Bundle) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxIncidentsPerDay bounds the NNN of INC-<date>-<NNN>.
const maxIncidentsPerDay = 999

// NextIncidentID returns the first INC-<YYYYMMDD>-<NNN> (NNN from 001) of
// the date of now with no file in dir.
func NextIncidentID(fs afero.Fs, dir string, now time.Time) (string, error) {
	date := now.UTC().Format("20060102")
	for n := 1; n <= maxIncidentsPerDay; n++ {
		id := fmt.Sprintf("INC-%s-%03d", date, n)
		if _, err := fs.Stat(path.Join(dir, id+".json")); errors.Is(err, iofs.ErrNotExist) {
			return id, nil
		} else if err != nil {
			return "", fmt.Errorf("incident bundle: %w", err)
		}
	}
	return "", fmt.Errorf("incident bundle: %d bundles for %s already exist in %s", maxIncidentsPerDay, date, dir)
}

// ExportBundle writes an incident bundle of traces. With out == "" it
// goes to dir (DefaultIncidentDir when empty) as INC-<date>-<NNN>.json
// with the next free number; otherwise to out, whose base name (without
// .json) becomes the incident id. It returns the path written. The file
// is written whole to a temporary name and renamed into place.
func ExportBundle(fs afero.Fs, dir, out string, s Snapshot, traces []DecisionTrace) (string, error) {
	if dir == "" {
		dir = DefaultIncidentDir
	}
	var id string
	if out == "" {
		if err := fs.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("incident bundle: %w", err)
		}
		var err error
		if id, err = NextIncidentID(fs, dir, s.Now); err != nil {
			return "", err
		}
		out = path.Join(dir, id+".json")
	} else {
		base := path.Base(out)
		id = base[:len(base)-len(path.Ext(base))]
		if id == "" {
			id = base
		}
	}
	data, err := NewBundle(id, s, traces).Marshal()
	if err != nil {
		return "", fmt.Errorf("incident bundle: %w", err)
	}
	if err := afile.WriteAtomic(fs, out, data); err != nil {
		return "", fmt.Errorf("incident bundle: %w", err)
	}
	return out, nil
}
