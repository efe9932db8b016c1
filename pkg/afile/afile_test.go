package afile

import (
	"errors"
	"os"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

func TestAppendAndWriteAtomic(t *testing.T) {
	fs := afero.NewMemMapFs()
	require.NoError(t, Append(fs, "/log", []byte("a\n")))
	require.NoError(t, Append(fs, "/log", []byte("b\n")))
	b, err := afero.ReadFile(fs, "/log")
	require.NoError(t, err)
	require.Equal(t, "a\nb\n", string(b))

	require.NoError(t, WriteAtomic(fs, "/f", []byte("one")))
	require.NoError(t, WriteAtomic(fs, "/f", []byte("two")))
	b, err = afero.ReadFile(fs, "/f")
	require.NoError(t, err)
	require.Equal(t, "two", string(b))
	for _, tmp := range []string{"/.f.tmp"} {
		_, err := fs.Stat(tmp)
		require.True(t, os.IsNotExist(err), tmp)
	}
	require.Error(t, Append(afero.NewReadOnlyFs(fs), "/log", []byte("x")))
	require.Error(t, WriteAtomic(afero.NewReadOnlyFs(fs), "/f", []byte("three")))
	b, _ = afero.ReadFile(fs, "/f")
	require.Equal(t, "two", string(b))
}

// shortFs makes every write stop half way.
type shortFs struct{ afero.Fs }

func (s shortFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := s.Fs.OpenFile(name, flag, perm)
	return shortFile{f}, err
}

type shortFile struct{ afero.File }

func (f shortFile) Write(p []byte) (int, error) {
	n, _ := f.File.Write(p[:len(p)/2])
	return n, errors.New("disk full")
}

func TestAppendCutsBackAPartialWrite(t *testing.T) {
	fs := afero.NewMemMapFs()
	require.NoError(t, Append(fs, "/log", []byte("whole\n")))
	require.ErrorContains(t, Append(shortFs{fs}, "/log", []byte("partial\n")), "disk full")
	b, err := afero.ReadFile(fs, "/log")
	require.NoError(t, err)
	require.Equal(t, "whole\n", string(b))
}
