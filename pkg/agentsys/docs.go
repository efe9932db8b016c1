package agentsys

import (
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// Document limits. Documents stay open for the service's life, so the
// total bounds the host memory guests can fill with them.
const (
	maxDocs     = 1024     // open documents
	maxDocSize  = 1 << 20  // bytes of one document
	maxDocTotal = 64 << 20 // bytes of all open documents
)

// document is an open document: its file and its unsaved contents.
type document struct {
	ref   uint32
	path  string
	buf   []byte
	edits uint64 // edit lines appended so far
}

type docStore struct {
	m     map[uint32]*document
	next  uint32
	bytes int // of all documents' contents
}

func (d *docStore) init() { d.m, d.next = map[uint32]*document{}, 1 }

func (d *docStore) get(ref uint32) *document { return d.m[ref] }

// checkDocName validates a DOC_NEW name: one path component.
func checkDocName(n string) string {
	switch {
	case n == "":
		return "empty document name"
	case !utf8.ValidString(n):
		return "document name is not valid UTF-8"
	case strings.ContainsAny(n, "/\x00"):
		return "document name contains '/' or NUL"
	case n == "." || n == "..":
		return "document name is . or .."
	case len(n) > 255:
		return "document name longer than 255 bytes"
	}
	return ""
}

// docsFull prints the error for a store at its limits.
func docsFull(q *request, e linux.Errno) outcome {
	q.printf("[Doc] Error: %s", e.Error())
	return outcome{err: ResourceLimit, detail: "documents: " + e.Error()}
}

// docNew creates /tmp/docs/<name> holding the title line "# <name>" and
// opens it as a new document.
func (s *Service) docNew(q *request, name, target string) outcome {
	body := []byte("# " + name + "\n")
	if len(s.docs.m) >= maxDocs {
		return docsFull(q, linux.EMFILE)
	}
	if s.docs.bytes+len(body) > maxDocTotal {
		return docsFull(q, linux.ENOSPC)
	}
	if err := s.env.FS.MkdirAll(DocsDir, 0o755); err != nil {
		return mediaErr(q, "Doc", err)
	}
	f, err := s.env.FS.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return mediaErr(q, "Doc", err)
	}
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return mediaErr(q, "Doc", err)
	}
	d := &document{ref: s.docs.next, path: DocsDir + "/" + name, buf: body}
	s.docs.m[d.ref] = d
	s.docs.next++
	s.docs.bytes += len(body)
	q.printf("[Doc] Created: %s (ref=%d)", d.path, d.ref)
	return outcome{}
}

// docEdit applies ops_count edits to the document: each appends one line
// "edit <k>: agent <id> at <ms> ms" (k counting the document's edits
// from 1). The file changes on DOC_SAVE.
func (s *Service) docEdit(q *request, ref uint32, ops uint16) outcome {
	d := s.docs.get(ref)
	var add []byte
	for i := range uint64(ops) {
		add = fmt.Appendf(add, "edit %d: agent %d at %d ms\n", d.edits+i+1, q.agentID, q.now.Milliseconds())
		if len(d.buf)+len(add) > maxDocSize {
			return mediaErr(q, "Doc", linux.EFBIG)
		}
	}
	if s.docs.bytes+len(add) > maxDocTotal {
		return docsFull(q, linux.ENOSPC)
	}
	d.buf = append(d.buf, add...)
	d.edits += uint64(ops)
	s.docs.bytes += len(add)
	q.printf("[Doc] Edited: ref=%d (%d ops, %d bytes unsaved)", ref, ops, len(d.buf))
	return outcome{}
}

// docSave writes the document's contents to its file.
func (s *Service) docSave(q *request, ref uint32, target string) outcome {
	d := s.docs.get(ref)
	if err := s.writeFile(target, d.buf); err != nil {
		return mediaErr(q, "Doc", err)
	}
	q.printf("[Doc] Saved: %s (%d bytes)", d.path, len(d.buf))
	return outcome{}
}
