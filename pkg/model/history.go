package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Event is one line of the history log (history.jsonl): every change of
// the registry.
type Event struct {
	Seq     uint64 `json:"seq"`
	TimeNS  int64  `json:"time_ns"` // machine time since boot
	Event   string `json:"event"`   // load, swap, rollback, promote, shadow, clear-shadow, remove, health-failed, reload-failed, llm-register
	Version string `json:"version,omitempty"`
	Hash    string `json:"hash,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// maxHistoryRead is the most of the history log History reads (its tail).
const maxHistoryRead = 4 << 20

// history appends ev to the history log. Called with r.mu held.
func (r *Registry) history(ev Event) error {
	ev.Seq = r.seq + 1
	ev.TimeNS = int64(r.cfg.Now())
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := writeFile(r.cfg.FS, r.file(HistoryFile), os.O_APPEND, append(b, '\n')); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	r.seq = ev.Seq
	return nil
}

// readHistory returns the events of the log's last maxHistoryRead bytes;
// lines that do not parse (a torn write) are skipped.
func (r *Registry) readHistory() ([]Event, error) {
	f, err := r.cfg.FS.Open(r.file(HistoryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-maxHistoryRead, 0)
	buf := make([]byte, fi.Size()-off)
	n, err := f.ReadAt(buf, off)
	if err != nil && n != len(buf) {
		return nil, err
	}
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var evs []Event
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 0, 4096), maxHistoryRead)
	for sc.Scan() {
		var ev Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event != "" {
			evs = append(evs, ev)
		}
	}
	return evs, nil
}

// lastSeq returns the sequence number of the log's last event.
func (r *Registry) lastSeq() uint64 {
	evs, _ := r.readHistory()
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// History returns the last n events of the history log (all when n <= 0),
// oldest first.
func (r *Registry) History(n int) ([]Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs, err := r.readHistory()
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if n > 0 && len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	return evs, nil
}
