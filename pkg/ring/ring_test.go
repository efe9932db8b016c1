package ring

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRing(t *testing.T) {
	r := New[int](3)
	require.Equal(t, 3, r.Cap())
	require.Nil(t, r.Newest())
	require.Empty(t, r.All())
	for i := 1; i <= 2; i++ {
		_, dropped := r.Add(i)
		require.False(t, dropped)
	}
	require.Equal(t, []int{1, 2}, r.All())
	r.Add(3)
	old, dropped := r.Add(4)
	require.True(t, dropped)
	require.Equal(t, 1, old)
	require.Equal(t, []int{2, 3, 4}, r.All())
	require.Equal(t, []int{3, 4}, r.Last(2))
	require.Equal(t, []int{2, 3, 4}, r.Last(10))
	require.Equal(t, 4, *r.Newest())
	require.Equal(t, 2, *r.At(0))
	*r.Newest() = 40
	require.Equal(t, []int{2, 3, 40}, r.All())
	require.Equal(t, uint64(4), r.Added())
	r.Reset()
	require.Zero(t, r.Len())
	require.Equal(t, uint64(4), r.Added())
	r.Add(5)
	require.Equal(t, []int{5}, r.All())
	require.Panics(t, func() { r.At(1) })
	require.Equal(t, 1, New[int](0).Cap())
}
