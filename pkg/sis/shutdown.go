package sis

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// The end of a session: the services hand over what they still hold (the
// last decisions to their log, the last spans to the collector), and the
// user hears what would otherwise vanish without a word: spans that never
// reached the collector, and the files written to the in-memory file
// system, which is gone when the process exits.

// onShutdown registers f to run at Shutdown (last added first); f gets
// the host time it may wait and returns notices for the user.
func (s *System) onShutdown(f func(wait time.Duration) []string) {
	s.shutdowns = append(s.shutdowns, f)
}

// Shutdown ends the session before Close: each service flushes what it
// holds, an OTLP/HTTP exporter gets up to wait of host time to deliver its
// spans, and Shutdown returns what the user should be told, one line each
// (warnings start with "warning: "): the spans lost, and the files written
// to the in-memory file systems since MarkFiles. Call it once, while no
// guest runs.
func (s *System) Shutdown(wait time.Duration) []string {
	var notes []string
	for i := len(s.shutdowns) - 1; i >= 0; i-- {
		notes = append(notes, s.shutdowns[i](wait)...)
	}
	s.shutdowns = nil
	return append(notes, s.writtenNotice()...)
}

// fileStamp is what tells a file's contents changed.
type fileStamp struct {
	size int64
	mod  time.Time
}

// MarkFiles records the files of the in-memory file systems as they are
// now: Shutdown reports the files written after it. Boot calls it once the
// services have started; a caller of New calls it when its setup is done.
func (s *System) MarkFiles() { s.filesAtMark = s.memFiles() }

// WrittenFile is a file of an in-memory file system written since
// MarkFiles.
type WrittenFile struct {
	Path string
	Size int64
}

// WrittenFiles returns the regular files of the in-memory (tmpfs) file
// systems created or changed since MarkFiles, by path.
func (s *System) WrittenFiles() []WrittenFile {
	var out []WrittenFile
	for p, st := range s.memFiles() {
		if old, ok := s.filesAtMark[p]; !ok || old != st {
			out = append(out, WrittenFile{Path: p, Size: st.size})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// maxWrittenListed bounds the files Shutdown names.
const maxWrittenListed = 20

// writtenNotice tells which files the in-memory file systems lose at exit.
func (s *System) writtenNotice() []string {
	files := s.WrittenFiles()
	if len(files) == 0 {
		return nil
	}
	notes := []string{fmt.Sprintf("%d file(s) written to the in-memory file system are lost at exit (write to a --mount HOST:GUEST directory to keep them):", len(files))}
	for i, f := range files {
		if i == maxWrittenListed {
			notes = append(notes, fmt.Sprintf("  ... and %d more", len(files)-i))
			break
		}
		notes = append(notes, fmt.Sprintf("  %s (%d bytes)", f.Path, f.Size))
	}
	return notes
}

// memFiles returns the regular files of the machine's tmpfs mounts.
func (s *System) memFiles() map[string]fileStamp {
	v := s.FS()
	mounts := v.Mounts()
	// typeOf returns the type of the mount p is on (the longest prefix).
	typeOf := func(p string) string {
		best, typ := -1, ""
		for _, mt := range mounts {
			if (p == mt.Path || mt.Path == "/" || strings.HasPrefix(p, mt.Path+"/")) && len(mt.Path) > best {
				best, typ = len(mt.Path), mt.Type
			}
		}
		return typ
	}
	out := map[string]fileStamp{}
	_ = afero.Walk(v.Afero(), "/", func(p string, fi fs.FileInfo, err error) error {
		p = path.Clean("/" + p)
		if err != nil {
			return nil // unreadable: skipped
		}
		if typeOf(p) != "tmpfs" {
			if fi.IsDir() && p != "/" {
				return fs.SkipDir
			}
			return nil
		}
		if fi.Mode().IsRegular() {
			out[p] = fileStamp{size: fi.Size(), mod: fi.ModTime()}
		}
		return nil
	})
	return out
}
