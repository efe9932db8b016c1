package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// historyName is the shell's history file in $HOME.
const historyName = ".sissim_history"

// maxHistory is how many lines the history keeps.
const maxHistory = 1000

// historyFile is the interactive shell's history: a text file with one
// command line per line, oldest first, holding the last maxHistory
// lines. It implements readline.History.
type historyFile struct {
	path  string
	lines []string
	// onDisk counts the lines in the file: past 2*maxHistory the file is
	// rewritten with the last maxHistory.
	onDisk int
}

// openHistory reads the history file at path; a missing file is an empty
// history.
func openHistory(path string) (*historyFile, error) {
	h := &historyFile{path: path}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		h.onDisk++
		if l := sc.Text(); strings.TrimSpace(l) != "" {
			h.lines = append(h.lines, l)
		}
	}
	h.lines = h.lines[max(0, len(h.lines)-maxHistory):]
	return h, sc.Err()
}

// Write adds a line (not an empty one, nor a repeat of the last) to the
// history and appends it to the file.
func (h *historyFile) Write(line string) (int, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.ContainsAny(line, "\r\n") || (len(h.lines) > 0 && h.lines[len(h.lines)-1] == line) {
		return len(h.lines), nil
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > maxHistory {
		h.lines = append(h.lines[:0], h.lines[len(h.lines)-maxHistory:]...)
	}
	if h.onDisk+1 > 2*maxHistory {
		return len(h.lines), h.rewrite()
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return len(h.lines), err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	h.onDisk++
	return len(h.lines), err
}

// rewrite replaces the file with the lines kept, atomically.
func (h *historyFile) rewrite() error {
	tmp, err := os.CreateTemp(filepath.Dir(h.path), historyName+".*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(strings.Join(h.lines, "\n") + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), h.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	h.onDisk = len(h.lines)
	return nil
}

// GetLine returns line i, oldest first.
func (h *historyFile) GetLine(i int) (string, error) {
	if i < 0 || i >= len(h.lines) {
		return "", fmt.Errorf("history: no line %d", i)
	}
	return h.lines[i], nil
}

// Len returns the number of lines.
func (h *historyFile) Len() int { return len(h.lines) }

// Dump returns the lines.
func (h *historyFile) Dump() any { return append([]string(nil), h.lines...) }
