package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/sis-kernel/sissim/pkg/afile"
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

// history appends ev to the history log. Called with r.mu held. A log
// whose last line is torn (no final newline: a write cut short) gets the
// newline first, so the torn line cannot swallow this event.
func (r *Registry) history(ev Event) error {
	ev.Seq = r.seq + 1
	ev.TimeNS = int64(r.cfg.Now())
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	line := append(b, '\n')
	if torn, err := r.tornTail(); err != nil {
		return fmt.Errorf("history: %w", err)
	} else if torn {
		line = append([]byte{'\n'}, line...)
	}
	if err := afile.Append(r.cfg.FS, r.file(HistoryFile), line); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	r.seq = ev.Seq
	return nil
}

// tornTail reports whether the history log is non-empty and does not end
// in a newline.
func (r *Registry) tornTail() (bool, error) {
	f, err := r.cfg.FS.Open(r.file(HistoryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return false, err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return last[0] != '\n', nil
}

// readHistory returns the events of the log's last maxHistoryRead bytes;
// lines that do not parse (a torn write) are skipped.
func (r *Registry) readHistory() ([]Event, error) {
	evs, _, err := r.scanHistory()
	return evs, err
}

// scanHistory returns the events of the log's last maxHistoryRead bytes
// and the last sequence number used there. A line that does not parse (a
// torn event) used the number after the one before it: that number is
// never given again.
func (r *Registry) scanHistory() ([]Event, uint64, error) {
	f, fi, err := openRegular(r.cfg.FS, r.file(HistoryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	off := max(fi.Size()-maxHistoryRead, 0)
	buf := make([]byte, fi.Size()-off)
	n, err := f.ReadAt(buf, off)
	if err != nil && n != len(buf) {
		return nil, 0, err
	}
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var evs []Event
	var last uint64
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 0, 4096), maxHistoryRead)
	for sc.Scan() {
		var ev Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event != "" {
			evs = append(evs, ev)
			last = max(last, ev.Seq)
		} else if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			last++
		}
	}
	return evs, last, nil
}

// lastSeq returns the highest sequence number in the log, a torn last
// event's included.
func (r *Registry) lastSeq() uint64 {
	_, last, _ := r.scanHistory()
	return last
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
