// Package graphcopy copies a graph of Go values: every object reachable
// from a root is copied once, and the pointers, slices, maps and
// interfaces of the copy point into the copy, interior pointers included,
// so the copy has the original's sharing (two pointers to one object, a
// pointer into a struct's field, two slices of one array).
//
// It is conservative: a value it cannot copy exactly (a channel, a closure,
// an unsafe.Pointer) fails the copy with an error naming where it was
// found, unless the Options say what to do with it. Mutexes must be
// unlocked, or listed in Options.Zero; nothing may change the graph during
// a copy.
package graphcopy

import (
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"unsafe"
)

// Options says how to copy what cannot be copied by value.
type Options struct {
	// Share lists pointer types whose targets are not copied: the copy
	// points to the original object (immutable or external objects).
	// Pointers to error values are always shared.
	Share []reflect.Type
	// Zero lists types the copy holds as zero values (sync.Mutex).
	Zero []reflect.Type
	// Custom copies the objects behind pointers of a type: f is called
	// once per object and returns the copy's pointer (or a nil pointer).
	Custom map[reflect.Type]func(c *Copier, p reflect.Value) (reflect.Value, error)
	// Other copies a closure, a method value or a channel (a top-level
	// function is shared). It returns the copy's value, which may be
	// made from Copier.Map of objects the closure is known to hold.
	Other func(c *Copier, v reflect.Value) (reflect.Value, error)
}

// Copier is one copy in progress.
type Copier struct {
	opt    Options
	share  map[reflect.Type]bool
	zero   map[reflect.Type]bool
	objs   []*object // outermost objects, by address
	byKey  map[objKey]*object
	maps   map[uintptr]reflect.Value // copies of maps, by the original's pointer
	seen   map[uintptr]bool          // maps discovered
	plain  map[reflect.Type]bool
	custom map[objKey]reflect.Value
	where  []step // the path being copied, for errors
}

// object is a memory range of the original that the copy allocates as one.
type object struct {
	addr, size uintptr
	ptr        unsafe.Pointer // addr
	typ        reflect.Type
	walked     int // arrays: the elements walked (and copied); the rest stay zero
	copy       unsafe.Pointer
	keep       reflect.Value // the copy, kept alive
}

type objKey struct {
	addr uintptr
	typ  reflect.Type
}

var errorType = reflect.TypeFor[error]()

// Copy copies the graph reachable from root (a pointer) and returns the
// copy of root and the Copier, whose Map finds the copy of any object of
// the graph.
func Copy[T any](root *T, opt Options) (*T, *Copier, error) {
	c := &Copier{opt: opt, share: map[reflect.Type]bool{}, zero: map[reflect.Type]bool{}, byKey: map[objKey]*object{},
		maps: map[uintptr]reflect.Value{}, seen: map[uintptr]bool{}, plain: map[reflect.Type]bool{}, custom: map[objKey]reflect.Value{}}
	for _, t := range opt.Share {
		c.share[t] = true
	}
	for _, t := range opt.Zero {
		c.zero[t] = true
	}
	rv := reflect.ValueOf(root)
	if err := c.discover(rv); err != nil {
		return nil, nil, err
	}
	if err := c.layout(); err != nil {
		return nil, nil, err
	}
	out, err := c.ptr(rv)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range c.objs {
		if err := c.fill(o); err != nil {
			return nil, nil, err
		}
	}
	return out.Interface().(*T), c, nil
}

// Map returns the copy of p, a pointer into the graph (p itself when it is
// shared; a zero pointer for one the copy does not have).
func Map[T any](c *Copier, p *T) *T {
	v, err := c.ptr(reflect.ValueOf(p))
	if err != nil || v.IsNil() {
		return nil
	}
	return v.Interface().(*T)
}

// Value maps a pointer value of the original to the copy's (see Map).
func (c *Copier) Value(p reflect.Value) (reflect.Value, error) { return c.ptr(p) }

func (c *Copier) fail(format string, a ...any) error {
	var path strings.Builder
	for _, s := range c.where {
		path.WriteString(s.String())
	}
	return fmt.Errorf("graphcopy: %s: %s", path.String(), fmt.Sprintf(format, a...))
}

// step is one step of a path: into field of a struct type t (field >= 0),
// else into a value of type t shown after prefix. Strings are made only
// for an error.
type step struct {
	t      reflect.Type
	field  int
	prefix string
}

func (s step) String() string {
	if s.t == nil {
		return s.prefix
	}
	if s.field >= 0 {
		return "." + s.t.Field(s.field).Name
	}
	return s.prefix + s.t.String()
}

func (c *Copier) push(s step) { c.where = append(c.where, s) }
func (c *Copier) pop()        { c.where = c.where[:len(c.where)-1] }

// at returns a settable view of the value at addr.
func at(t reflect.Type, addr unsafe.Pointer) reflect.Value { return reflect.NewAt(t, addr).Elem() }

// view returns a settable view of an addressable value (read-only ones
// included: unexported fields).
func view(v reflect.Value) reflect.Value { return at(v.Type(), unsafe.Pointer(v.UnsafeAddr())) }

// plain reports whether values of t hold no pointers, so they are copied
// as bytes.
func plain(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return false
	case reflect.String:
		return true
	case reflect.Array:
		return t.Len() == 0 || plain(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false
		}
		seen[t] = true
		for i := range t.NumField() {
			if !plain(t.Field(i).Type, seen) {
				return false
			}
		}
	}
	return true
}

// isPlain is plain, cached; a type listed in Zero is not plain.
func (c *Copier) isPlain(t reflect.Type) bool {
	p, ok := c.plain[t]
	if !ok {
		p = !c.zero[t] && plain(t, map[reflect.Type]bool{})
		c.plain[t] = p
	}
	return p
}

// atomicPointer reports whether t is a sync/atomic.Pointer[T], which
// holds a *T as an unsafe.Pointer.
func atomicPointer(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct || t.PkgPath() != "sync/atomic" || !strings.HasPrefix(t.Name(), "Pointer[") {
		return nil, false
	}
	return t.Field(0).Type.Elem(), true // _ [0]*T
}

// sharedPtr reports whether the target of a pointer of type t is shared.
// The answer is cached in share.
func (c *Copier) sharedPtr(t reflect.Type) bool {
	s, ok := c.share[t]
	if !ok {
		s = t.Implements(errorType) || t.Elem().Size() == 0
		c.share[t] = s
	}
	return s
}

// discover walks the graph from v, noting every object pointers and
// slices reach.
func (c *Copier) discover(v reflect.Value) error {
	t := v.Type()
	if c.zero[t] {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() || c.sharedPtr(t) {
			return nil
		}
		if _, ok := c.opt.Custom[t]; ok {
			return nil
		}
		k := objKey{v.Pointer(), t.Elem()}
		if c.byKey[k] != nil {
			return nil
		}
		o := &object{addr: k.addr, ptr: v.UnsafePointer(), size: t.Elem().Size(), typ: t.Elem()}
		if t.Elem().Kind() == reflect.Array {
			o.walked = t.Elem().Len() // a pointer reaches the whole array
		}
		c.byKey[k] = o
		c.push(step{t: t.Elem(), field: -1, prefix: "->"})
		defer c.pop()
		return c.discover(at(t.Elem(), v.UnsafePointer()))
	case reflect.Slice:
		if v.Cap() == 0 || t.Elem().Size() == 0 {
			return nil
		}
		at := reflect.ArrayOf(v.Cap(), t.Elem())
		k := objKey{v.Pointer(), at}
		o := c.byKey[k]
		if o == nil {
			o = &object{addr: k.addr, ptr: v.UnsafePointer(), size: at.Size(), typ: at}
			c.byKey[k] = o
		}
		if o.walked >= v.Len() {
			return nil
		}
		from := o.walked
		o.walked = v.Len()
		if c.isPlain(t.Elem()) {
			return nil
		}
		c.push(step{prefix: "[]"})
		defer c.pop()
		for i := from; i < v.Len(); i++ {
			if err := c.discover(view(v.Index(i))); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.IsNil() || c.seen[v.Pointer()] {
			return nil
		}
		c.seen[v.Pointer()] = true
		c.push(step{prefix: "{}"})
		defer c.pop()
		it := v.MapRange()
		for it.Next() {
			if err := c.discoverDetached(it.Key()); err != nil {
				return err
			}
			if err := c.discoverDetached(it.Value()); err != nil {
				return err
			}
		}
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return c.discoverDetached(v.Elem())
	case reflect.Struct:
		if et, ok := atomicPointer(t); ok {
			p := view(v.FieldByName("v")).Interface().(unsafe.Pointer)
			return c.discover(reflect.NewAt(et, p))
		}
		if c.isPlain(t) {
			return nil
		}
		for i := range t.NumField() {
			c.push(step{t: t, field: i})
			err := c.discover(view(v.Field(i)))
			c.pop()
			if err != nil {
				return err
			}
		}
	case reflect.Array:
		if c.isPlain(t) {
			return nil
		}
		for i := range v.Len() {
			if err := c.discover(view(v.Index(i))); err != nil {
				return err
			}
		}
	case reflect.UnsafePointer:
		if !v.IsNil() {
			return c.fail("an unsafe.Pointer")
		}
	}
	return nil
}

// discoverDetached walks a value that is not in memory the graph owns (a
// map's key or value, an interface's dynamic value).
func (c *Copier) discoverDetached(v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		return c.discover(v)
	}
	tmp := reflect.New(v.Type()).Elem()
	tmp.Set(v)
	return c.discover(tmp)
}

// layout finds the outermost objects (the others lie inside them) and
// allocates their copies.
func (c *Copier) layout() error {
	all := make([]*object, 0, len(c.byKey))
	for _, o := range c.byKey {
		all = append(all, o)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		if a.size != b.size {
			return a.size > b.size
		}
		return a.typ.Kind() == reflect.Struct && b.typ.Kind() != reflect.Struct
	})
	var cur *object
	for _, o := range all {
		if cur != nil && o.addr < cur.addr+cur.size {
			sameElem := cur.typ.Kind() == reflect.Array && o.typ.Kind() == reflect.Array && cur.typ.Elem() == o.typ.Elem()
			if o.addr+o.size > cur.addr+cur.size {
				// Two slices of one array with different capacities.
				if !sameElem {
					return fmt.Errorf("graphcopy: objects overlap: %s at %#x and %s at %#x", cur.typ, cur.addr, o.typ, o.addr)
				}
				cur.size = o.addr + o.size - cur.addr
				cur.typ = reflect.ArrayOf(int(cur.size/cur.typ.Elem().Size()), cur.typ.Elem())
			}
			if cur.typ.Kind() == reflect.Array {
				// The elements o reaches are copied too (a pointer or a
				// slice into an array past another slice's length).
				es := cur.typ.Elem().Size()
				end := int((o.addr - cur.addr + o.size + es - 1) / es)
				if sameElem {
					end = int((o.addr-cur.addr)/es) + o.walked
				}
				cur.walked = max(cur.walked, end)
			}
			continue
		}
		cur = o
		c.objs = append(c.objs, o)
	}
	for _, o := range c.objs {
		o.keep = reflect.New(o.typ)
		o.copy = o.keep.UnsafePointer()
	}
	return nil
}

// find returns the outermost object holding addr.
func (c *Copier) find(addr uintptr) *object {
	i := sort.Search(len(c.objs), func(i int) bool { return c.objs[i].addr > addr }) - 1
	if i < 0 {
		return nil
	}
	o := c.objs[i]
	if addr >= o.addr+o.size && !(o.size == 0 && addr == o.addr) {
		return nil
	}
	return o
}

// ptr returns the copy's value of pointer p.
func (c *Copier) ptr(p reflect.Value) (reflect.Value, error) {
	t := p.Type()
	if p.IsNil() || c.sharedPtr(t) {
		return p, nil
	}
	if f, ok := c.opt.Custom[t]; ok {
		k := objKey{p.Pointer(), t}
		if v, ok := c.custom[k]; ok {
			return v, nil
		}
		c.push(step{t: t.Elem(), field: -1, prefix: "->"})
		v, err := f(c, p)
		c.pop()
		if err != nil {
			return reflect.Value{}, err
		}
		c.custom[k] = v
		return v, nil
	}
	o := c.find(p.Pointer())
	if o == nil {
		return reflect.Value{}, c.fail("a pointer to %s outside the graph", t.Elem())
	}
	return reflect.NewAt(t.Elem(), unsafe.Add(o.copy, p.Pointer()-o.addr)), nil
}

// fill copies an outermost object's contents.
func (c *Copier) fill(o *object) error {
	src := at(o.typ, o.ptr)
	dst := at(o.typ, o.copy)
	c.where = append(c.where[:0], step{t: o.typ, field: -1})
	if o.typ.Kind() == reflect.Array && o.walked < o.typ.Len() && !c.isPlain(o.typ.Elem()) {
		// A slice's array: the elements past every slice's length are
		// left zero (they may hold stale pointers).
		for i := range o.walked {
			if err := c.copy(view(dst.Index(i)), view(src.Index(i))); err != nil {
				return err
			}
		}
		return nil
	}
	return c.copy(dst, src)
}

// copy copies src to dst, both settable views of memory.
func (c *Copier) copy(dst, src reflect.Value) error {
	t := src.Type()
	if c.zero[t] {
		return nil
	}
	if c.isPlain(t) {
		dst.Set(src)
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		v, err := c.ptr(src)
		if err != nil {
			return err
		}
		dst.Set(v)
	case reflect.Slice:
		if src.IsNil() {
			return nil
		}
		if src.Cap() == 0 || t.Elem().Size() == 0 {
			dst.Set(src)
			return nil
		}
		o := c.find(src.Pointer())
		if o == nil {
			return c.fail("a slice outside the graph")
		}
		arr := reflect.ArrayOf(src.Cap(), t.Elem())
		a := at(arr, unsafe.Add(o.copy, src.Pointer()-o.addr))
		dst.Set(a.Slice3(0, src.Len(), src.Cap()))
	case reflect.Map:
		if src.IsNil() {
			return nil
		}
		m, err := c.copyMap(src)
		if err != nil {
			return err
		}
		dst.Set(m)
	case reflect.Interface:
		if src.IsNil() {
			return nil
		}
		v, err := c.detached(src.Elem())
		if err != nil {
			return err
		}
		dst.Set(v)
	case reflect.Struct:
		if et, ok := atomicPointer(t); ok {
			p := view(src.FieldByName("v")).Interface().(unsafe.Pointer)
			v, err := c.ptr(reflect.NewAt(et, p))
			if err != nil {
				return err
			}
			view(dst.FieldByName("v")).Set(reflect.ValueOf(v.UnsafePointer()))
			return nil
		}
		for i := range t.NumField() {
			c.push(step{t: t, field: i})
			err := c.copy(view(dst.Field(i)), view(src.Field(i)))
			c.pop()
			if err != nil {
				return err
			}
		}
	case reflect.Array:
		for i := range src.Len() {
			if err := c.copy(view(dst.Index(i)), view(src.Index(i))); err != nil {
				return err
			}
		}
	case reflect.Func:
		if src.IsNil() {
			return nil
		}
		if topLevel(src) {
			dst.Set(src)
			return nil
		}
		return c.other(dst, src)
	case reflect.Chan:
		if src.IsNil() {
			return nil
		}
		return c.other(dst, src)
	case reflect.UnsafePointer:
		if !src.IsNil() {
			return c.fail("an unsafe.Pointer")
		}
	default:
		dst.Set(src)
	}
	return nil
}

func (c *Copier) other(dst, src reflect.Value) error {
	if c.opt.Other == nil {
		return c.fail("a %s (%s)", src.Kind(), funcName(src))
	}
	v, err := c.opt.Other(c, src)
	if err != nil {
		return c.fail("%v", err)
	}
	dst.Set(v)
	return nil
}

// detached copies a value that is not in the graph's memory (a map's key
// or value, an interface's dynamic value).
func (c *Copier) detached(v reflect.Value) (reflect.Value, error) {
	if v.Kind() == reflect.Pointer {
		return c.ptr(v)
	}
	src := reflect.New(v.Type()).Elem()
	src.Set(v)
	dst := reflect.New(v.Type()).Elem()
	if err := c.copy(dst, src); err != nil {
		return reflect.Value{}, err
	}
	return dst, nil
}

func (c *Copier) copyMap(src reflect.Value) (reflect.Value, error) {
	if m, ok := c.maps[src.Pointer()]; ok {
		return m, nil
	}
	m := reflect.MakeMapWithSize(src.Type(), src.Len())
	c.maps[src.Pointer()] = m
	it := src.MapRange()
	for it.Next() {
		k, err := c.detached(it.Key())
		if err != nil {
			return reflect.Value{}, err
		}
		v, err := c.detached(it.Value())
		if err != nil {
			return reflect.Value{}, err
		}
		m.SetMapIndex(k, v)
	}
	return m, nil
}

// FuncName returns the name of a func value's code ("pkg.(*T).m-fm" for a
// method value, "pkg.f.func1" for a closure).
func FuncName(v reflect.Value) string { return funcName(v) }

func funcName(v reflect.Value) string {
	if v.Kind() != reflect.Func || v.IsNil() {
		return v.Type().String()
	}
	if f := runtime.FuncForPC(v.Pointer()); f != nil {
		return f.Name()
	}
	return "?"
}

// topLevel reports whether f is a top-level function or method
// expression, which holds no state and can be shared.
func topLevel(f reflect.Value) bool {
	n := funcName(f)
	return !strings.HasSuffix(n, "-fm") && !strings.Contains(n[strings.LastIndexByte(n, '/')+1:], ".func") && n != "?"
}
