// Package afile writes the SIS services' files on an afero.Fs: appends
// to logs that never keep half a record, and whole files replaced
// atomically.
package afile

import (
	"errors"
	"os"
	"path"

	"github.com/spf13/afero"
)

// Append appends data to the file name in one write; a missing file is
// created (mode 0644) with its directory. A write that fails part way is
// cut back, so the file never holds part of data.
func Append(fsys afero.Fs, name string, data []byte) error {
	if err := fsys.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	n, werr := f.Write(data)
	if werr == nil && n < len(data) {
		werr = errors.New("short write")
	}
	if werr != nil && n > 0 && size >= 0 {
		_ = f.Truncate(size)
	}
	return errors.Join(werr, f.Close())
}

// WriteAtomic replaces the file name with data (mode 0644): it writes
// the temporary file .<base>.tmp next to it and renames it over name, so
// readers see the old or the new content, never a mix. On error name
// keeps its old content.
func WriteAtomic(fsys afero.Fs, name string, data []byte) error {
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".tmp")
	if err := afero.WriteFile(fsys, tmp, data, 0o644); err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	if err := fsys.Rename(tmp, name); err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	return nil
}
