// Package ring is a fixed-capacity ring buffer that keeps the most
// recent values added to it: the audit logs, trace buffers and sample
// windows of the SIS services.
package ring

// Ring keeps the last Cap values added. The zero value holds nothing and
// drops every value: make one with New.
type Ring[T any] struct {
	items []T // len == capacity once full
	start int // index of the oldest value
	n     int // values held
	added uint64
}

// New returns an empty ring of capacity n (at least 1).
func New[T any](n int) *Ring[T] {
	return &Ring[T]{items: make([]T, max(n, 1))}
}

// Cap returns the capacity.
func (r *Ring[T]) Cap() int { return len(r.items) }

// Len returns how many values the ring holds.
func (r *Ring[T]) Len() int { return r.n }

// Added returns how many values were ever added (Reset keeps counting).
func (r *Ring[T]) Added() uint64 { return r.added }

// Add appends v, dropping the oldest value when the ring is full; it
// returns the dropped value and whether there was one.
func (r *Ring[T]) Add(v T) (dropped T, ok bool) {
	c := len(r.items)
	if c == 0 {
		return v, true
	}
	r.added++
	if r.n < c {
		r.items[(r.start+r.n)%c] = v
		r.n++
		return dropped, false
	}
	dropped = r.items[r.start]
	r.items[r.start] = v
	r.start = (r.start + 1) % c
	return dropped, true
}

// At returns a pointer to the i-th value held, oldest first (0 <= i <
// Len); it stays valid until the value is dropped.
func (r *Ring[T]) At(i int) *T {
	if i < 0 || i >= r.n {
		panic("ring: index out of range")
	}
	return &r.items[(r.start+i)%len(r.items)]
}

// Newest returns a pointer to the value added last (nil when empty).
func (r *Ring[T]) Newest() *T {
	if r.n == 0 {
		return nil
	}
	return r.At(r.n - 1)
}

// Last returns a copy of the n most recent values (all when n <= 0 or
// n exceeds them), oldest first.
func (r *Ring[T]) Last(n int) []T {
	if n <= 0 || n > r.n {
		n = r.n
	}
	out := make([]T, n)
	for i := range out {
		out[i] = *r.At(r.n - n + i)
	}
	return out
}

// All returns a copy of every value held, oldest first.
func (r *Ring[T]) All() []T { return r.Last(0) }

// Reset empties the ring.
func (r *Ring[T]) Reset() {
	clear(r.items)
	r.start, r.n = 0, 0
}
