package sis

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// UART: READY needs /dev/console to be the console device: a root whose
// /dev/console is a plain file, or missing, fails the check.
func TestCheckConsole(t *testing.T) {
	m := bootServices(t, kernel.Config{})
	require.NoError(t, checkConsole(m.FS()))

	bare := vfs.New(nil)
	require.ErrorIs(t, checkConsole(bare), fs.ErrNotExist)
	require.NoError(t, bare.MkdirAll("/dev", 0o755))
	require.NoError(t, bare.WriteFile("/dev/console", []byte("not a device"), 0o644))
	require.ErrorContains(t, checkConsole(bare), "/dev/console is not the console device (char 5:1)")
}
