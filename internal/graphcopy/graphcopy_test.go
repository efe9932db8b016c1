package graphcopy

import (
	"errors"
	"io"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

type node struct {
	name  string
	next  *node
	inner struct{ n int }
	in    *int // points into another node's inner.n
	kids  []*node
	buf   []byte
	sub   []byte // a slice of buf
	byKey map[string]*node
	iface any
	err   error
	mu    sync.Mutex
	p     *sync.Mutex
}

func TestCopyKeepsSharing(t *testing.T) {
	a := &node{name: "a", buf: make([]byte, 8, 16)}
	b := &node{name: "b", next: a}
	a.next = b // a cycle
	a.in = &b.inner.n
	a.kids = []*node{b, a}
	a.sub = a.buf[2:4]
	a.byKey = map[string]*node{"b": b}
	b.byKey = a.byKey
	a.iface = b
	b.iface = struct{ P *node }{a}
	a.err = io.EOF
	a.p = &b.mu
	copy(a.buf, "abcdefgh")
	a.mu.Lock() // Zero: the copy's mutex is unlocked

	c, cp, err := Copy(a, Options{Zero: []reflect.Type{reflect.TypeFor[sync.Mutex]()}})
	require.NoError(t, err)
	require.NotSame(t, a, c)
	require.Equal(t, "a", c.name)
	cb := c.next
	require.NotSame(t, b, cb)
	require.Same(t, c, cb.next)
	require.Same(t, &cb.inner.n, c.in, "an interior pointer points into the copy")
	require.Same(t, cb, c.kids[0])
	require.Same(t, c, c.kids[1])
	require.Equal(t, "abcdefgh", string(c.buf))
	require.Equal(t, 16, cap(c.buf))
	c.buf[2] = 'X'
	require.Equal(t, "Xd", string(c.sub), "two slices of one array share the copy's array")
	require.Equal(t, "abcdefgh", string(a.buf), "the original is untouched")
	require.Same(t, cb, c.byKey["b"])
	c.byKey["new"] = c
	require.Len(t, cb.byKey, 2, "a map shared by two objects is one map in the copy")
	require.Len(t, a.byKey, 1)
	require.Same(t, cb, c.iface)
	require.Same(t, c, cb.iface.(struct{ P *node }).P)
	require.True(t, errors.Is(c.err, io.EOF), "errors are shared")
	require.Same(t, &cb.mu, c.p)
	require.True(t, c.mu.TryLock(), "a Zero type is zero in the copy")
	require.Same(t, cb, Map(cp, b))
}

type withFunc struct {
	f func() int
	g func(string) int
}

func (w *withFunc) method() int { return 1 }

func TestCopyRefusesClosures(t *testing.T) {
	w := &withFunc{g: func(string) int { return 0 }}
	w.f = w.method
	_, _, err := Copy(w, Options{})
	require.ErrorContains(t, err, "withFunc.f")
	require.ErrorContains(t, err, "method-fm")

	w2 := &withFunc{}
	w2.f = w2.method
	c, _, err := Copy(w2, Options{Other: func(c *Copier, v reflect.Value) (reflect.Value, error) {
		nw := Map(c, w2)
		return reflect.ValueOf(nw.method), nil
	}})
	require.NoError(t, err)
	require.Equal(t, 1, c.f())
}

func TestCopyAllowsTopLevelFuncs(t *testing.T) {
	w := &withFunc{g: topLevelForTest}
	c, _, err := Copy(w, Options{})
	require.NoError(t, err)
	require.Equal(t, 3, c.g("abc"))
}

func topLevelForTest(s string) int { return len(s) }

type withChan struct{ c chan int }

func TestCopyRefusesChannels(t *testing.T) {
	_, _, err := Copy(&withChan{c: make(chan int)}, Options{})
	require.ErrorContains(t, err, "chan")
}

type custom struct{ fd int }

type holder struct {
	a, b *custom
}

func TestCopyCustom(t *testing.T) {
	x := &custom{fd: 3}
	h := &holder{a: x, b: x}
	calls := 0
	c, _, err := Copy(h, Options{Custom: map[reflect.Type]func(*Copier, reflect.Value) (reflect.Value, error){
		reflect.TypeFor[*custom](): func(_ *Copier, p reflect.Value) (reflect.Value, error) {
			calls++
			return reflect.ValueOf(&custom{fd: p.Interface().(*custom).fd + 1}), nil
		},
	}})
	require.NoError(t, err)
	require.Equal(t, 1, calls)
	require.Same(t, c.a, c.b)
	require.Equal(t, 4, c.a.fd)
}

type big struct {
	arr  [4]int
	p    *int
	tail []*int
}

func TestCopySliceCapacityAndArrayPointers(t *testing.T) {
	b := &big{arr: [4]int{1, 2, 3, 4}}
	b.p = &b.arr[2]
	x := 5
	b.tail = make([]*int, 1, 4)
	b.tail[0] = &x
	full := b.tail[:3]
	full[2] = &x // beyond len(b.tail): not reached from b
	c, _, err := Copy(b, Options{})
	require.NoError(t, err)
	require.Same(t, &c.arr[2], c.p)
	require.Equal(t, 5, *c.tail[0])
	require.NotSame(t, &x, c.tail[0])
	require.Nil(t, c.tail[:3][2], "elements past the length are not copied")
}

type stack struct {
	items []*int
	top   **int // points past the slice's length (a popped element)
	arr   *[2]*int
}

// An element past a slice's length that a pointer reaches is copied, and
// so is an array reached by a pointer.
func TestCopyPointerPastSliceLength(t *testing.T) {
	x, y := 1, 2
	s := &stack{items: []*int{&x, &y}}
	s.top = &s.items[1]
	s.items = s.items[:1]
	s.arr = &[2]*int{&x, &y}
	c, _, err := Copy(s, Options{})
	require.NoError(t, err)
	require.Same(t, &c.items[:2][1], c.top)
	require.Equal(t, 2, **c.top)
	require.Equal(t, 2, *c.arr[1])
	require.Same(t, c.items[0], c.arr[0], "x is copied once")
}
