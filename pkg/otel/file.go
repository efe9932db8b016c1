package otel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/afero"
)

// fileExporter appends batches to SpansFile and rotates it.
type fileExporter struct {
	fs afero.Fs
	// cur and old count the spans this exporter wrote to SpansFile and
	// OldSpansFile.
	cur, old int
}

// append writes one batch line of n spans. When the line would make
// SpansFile pass RotateBytes, the file first moves to OldSpansFile
// (replacing it: out is the number of spans that left with it). A failed
// rotation is reported in rotErr and the line is still appended, so that
// no span is lost for it. The size comes from the open file, so a file
// changed or removed behind the exporter's back is measured as it is.
func (f *fileExporter) append(line []byte, n int) (rotated bool, out int, rotErr, err error) {
	file, size, err := openAppend(f.fs, SpansFile)
	if err != nil {
		return false, 0, nil, err
	}
	if size > 0 && size+int64(len(line)) > RotateBytes {
		_ = file.Close()
		if rotErr = rotate(f.fs); rotErr == nil {
			rotated, out = true, f.old
			f.old, f.cur = f.cur, 0
		}
		if file, size, err = openAppend(f.fs, SpansFile); err != nil {
			return rotated, out, rotErr, err
		}
	}
	if err := writeAll(file, SpansFile, size, line); err != nil {
		return rotated, out, rotErr, err
	}
	f.cur += n
	return rotated, out, rotErr, nil
}

// rotate moves SpansFile to OldSpansFile, replacing it.
func rotate(fsys afero.Fs) error {
	err := fsys.Rename(SpansFile, OldSpansFile)
	if err != nil {
		// Some file systems refuse to rename over an existing file.
		if rmErr := fsys.Remove(OldSpansFile); rmErr == nil {
			err = fsys.Rename(SpansFile, OldSpansFile)
		}
	}
	if err != nil {
		return fmt.Errorf("otel: rotate %s: %w", SpansFile, err)
	}
	return nil
}

// appendAtomic appends data to the file at path with one write. When the
// write fails part way, the file is cut back to its old size so that it
// never holds a partial line.
func appendAtomic(fsys afero.Fs, path string, data []byte) error {
	f, size, err := openAppend(fsys, path)
	if err != nil {
		return err
	}
	return writeAll(f, path, size, data)
}

// openAppend opens path (in Dir, created when missing) for appending and
// returns its size (-1 when unknown).
func openAppend(fsys afero.Fs, path string) (afero.File, int64, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	f, err := fsys.OpenFile(path, flags, 0o644)
	if err != nil && isNotExist(err) {
		if err := fsys.MkdirAll(Dir, 0o755); err != nil {
			return nil, 0, fmt.Errorf("otel: create %s: %w", Dir, err)
		}
		f, err = fsys.OpenFile(path, flags, 0o644)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("otel: open %s: %w", path, err)
	}
	var size int64 = -1
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return f, size, nil
}

// writeAll writes data to f, opened by openAppend with the given size,
// and closes it. A write that fails part way is cut back to size.
func writeAll(f afero.File, path string, size int64, data []byte) error {
	n, werr := f.Write(data)
	if werr == nil && n < len(data) {
		werr = errors.New("short write")
	}
	if werr != nil && n > 0 && size >= 0 {
		_ = f.Truncate(size)
	}
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("otel: write %s: %w", path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("otel: close %s: %w", path, cerr)
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) || os.IsNotExist(err) }
