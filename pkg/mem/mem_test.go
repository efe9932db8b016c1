package mem

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A clone holds the frames in use with their contents and accounting; it
// changes independently of the original.
func TestCloneCopiesFramesInUse(t *testing.T) {
	r, err := New(1 << 20)
	require.NoError(t, err)
	defer r.Close()
	a, err := r.Alloc(Anon)
	require.NoError(t, err)
	b, err := r.Alloc(Shmem)
	require.NoError(t, err)
	copy(r.Page(a), "frame a")
	copy(r.Page(b), "frame b")
	r.Ref(b)
	c, err := r.Clone()
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "frame a", string(c.Page(a)[:7]))
	require.Equal(t, "frame b", string(c.Page(b)[:7]))
	require.Equal(t, 2, c.Refs(b))
	require.Equal(t, Shmem, c.Kind(b))
	require.Equal(t, r.Stats(), c.Stats())
	copy(c.Page(a), "changed")
	require.Equal(t, "frame a", string(r.Page(a)[:7]))
	// Both allocate the same frame next.
	r.Unref(a)
	c.Unref(a)
	fa, err := r.Alloc(Anon)
	require.NoError(t, err)
	fc, err := c.Alloc(Anon)
	require.NoError(t, err)
	require.Equal(t, fa, fc)
	require.True(t, c.IsZero(fc))
}
