package mem

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A thawed copy of a frozen RAM holds the frames in use with their
// contents and accounting; it changes independently of the original.
func TestThawCopiesFramesInUse(t *testing.T) {
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
	fz, err := r.Freeze(nil)
	require.NoError(t, err)
	defer fz.Close()
	_, err = r.Thaw()
	require.Error(t, err, "a live RAM does not thaw")
	c, err := fz.Thaw()
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

// A frozen RAM shares with its base the pages that did not change and
// copies the others; a Thaw of it has every frame's contents and
// accounting back; slabs go back to the host with the last frozen RAM
// that refers to them.
func TestFreezeSharesUnchangedPages(t *testing.T) {
	r, err := New(1 << 20)
	require.NoError(t, err)
	defer r.Close()
	var fs []Frame
	for i := range 4 {
		f, err := r.Alloc(Anon)
		require.NoError(t, err)
		copy(r.Page(f), fmt.Sprintf("frame %d", i))
		fs = append(fs, f)
	}
	a, err := r.Freeze(nil)
	require.NoError(t, err)
	require.Equal(t, uint64(4*PageSize), a.Added())
	require.Equal(t, uint64(4*PageSize), HeldBytes(a))

	copy(r.Page(fs[1]), "changed")
	r.Unref(fs[3])
	g, err := r.Alloc(Shmem)
	require.NoError(t, err)
	copy(r.Page(g), "new frame")
	b, err := r.Freeze(a)
	require.NoError(t, err)
	// fs[1] changed, g is new (it may reuse fs[3]'s frame, whose page in
	// a differs); fs[0] and fs[2] are shared.
	require.Equal(t, uint64(2*PageSize), b.Added())
	require.Equal(t, uint64(6*PageSize), HeldBytes(a, b))
	require.Equal(t, r.InUse(), b.InUse())

	// a's pages that b shares stay; the others go back to the host.
	require.NoError(t, a.Close())
	require.Equal(t, uint64(4*PageSize), HeldBytes(b))
	c, err := b.Thaw()
	require.NoError(t, err)
	defer c.Close()
	for _, f := range []Frame{fs[0], fs[1], fs[2], g} {
		require.Equal(t, r.Page(f), c.Page(f), "frame %d", f)
		require.Equal(t, r.Refs(f), c.Refs(f))
		require.Equal(t, r.Kind(f), c.Kind(f))
	}
	require.Equal(t, r.Stats(), c.Stats())
	// A frame allocated in the clone comes from the same place as in r.
	f1, err := r.Alloc(Anon)
	require.NoError(t, err)
	f2, err := c.Alloc(Anon)
	require.NoError(t, err)
	require.Equal(t, f1, f2)
	require.NoError(t, b.Close())
	require.Zero(t, HeldBytes(b))
}

// Freezing a RAM that rewrites a few pages between freezes, keeping only
// the latest frozen copy, holds as much host memory as the RAM has in use,
// however many freezes there were.
func TestFreezeReleasesDeadPages(t *testing.T) {
	r, err := New(8 << 20)
	require.NoError(t, err)
	defer r.Close()
	var fs []Frame
	for range 256 {
		f, err := r.Alloc(Anon)
		require.NoError(t, err)
		fs = append(fs, f)
	}
	var last *RAM
	for round := range 100 {
		for i := range 8 { // the hot pages
			copy(r.Page(fs[i]), fmt.Sprint("round ", round))
		}
		next, err := r.Freeze(last)
		require.NoError(t, err)
		if last != nil {
			require.Equal(t, uint64(8*PageSize), next.Added())
			require.NoError(t, last.Close())
		}
		last = next
		require.Equal(t, uint64(256*PageSize), HeldBytes(last), "round %d", round)
	}
	c, err := last.Thaw()
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "round 99", string(c.Page(fs[3])[:8]))
	require.NoError(t, last.Close())
}
