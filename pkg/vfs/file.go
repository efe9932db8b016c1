package vfs

import (
	"io"
	"io/fs"
	"sync"

	"github.com/spf13/afero"
)

// File is an open file description: shared by every descriptor that dup
// produced, with one offset and one set of status flags.
type File struct {
	Path  string
	Flags int // os.O_* flags given at open

	mu    sync.Mutex
	f     afero.File
	mount *Mount
}

// Read reads at the current offset.
func (f *File) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Read(p)
}

// Write writes at the current offset.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Write(p)
}

// ReadAt reads at off without moving the offset.
func (f *File) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }

// WriteAt writes at off without moving the offset.
func (f *File) WriteAt(p []byte, off int64) (int, error) { return f.f.WriteAt(p, off) }

// Seek moves the offset.
func (f *File) Seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Seek(off, whence)
}

// Stat describes the open file.
func (f *File) Stat() (fs.FileInfo, error) { return f.f.Stat() }

// ReadDir returns up to n directory entries after the ones already returned.
func (f *File) ReadDir(n int) ([]fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Readdir(n)
}

// Truncate changes the file size.
func (f *File) Truncate(size int64) error { return f.f.Truncate(size) }

// Sync flushes the file to its backing store.
func (f *File) Sync() error { return f.f.Sync() }

// Close closes the description.
func (f *File) Close() error { return f.f.Close() }

var _ io.ReadWriteSeeker = (*File)(nil)
