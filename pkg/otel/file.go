package otel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sis-kernel/sissim/pkg/afile"
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
	if fi, serr := f.fs.Stat(SpansFile); serr == nil && fi.Size() > 0 && fi.Size()+int64(len(line)) > RotateBytes {
		if rotErr = rotate(f.fs); rotErr == nil {
			rotated, out = true, f.old
			f.old, f.cur = f.cur, 0
		}
	}
	if err := afile.Append(f.fs, SpansFile, line); err != nil {
		return rotated, out, rotErr, fmt.Errorf("otel: write %s: %w", SpansFile, err)
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

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) || os.IsNotExist(err) }
