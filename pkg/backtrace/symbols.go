package backtrace

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Symbols names code addresses with the symbol tables of the ELF images
// of one process (the program, its interpreter, its libraries).
type Symbols struct {
	images []*image
}

// image is one loaded ELF file.
type image struct {
	name       string
	bias       uint64 // load address minus link address
	start, end uint64 // mapped range, load addresses
	syms       []symbol
}

// symbol is a code symbol at its link address.
type symbol struct {
	name       string
	addr, size uint64
}

// Location names an address: the function containing it and the offset
// into it, and the image.
type Location struct {
	Func   string // empty when no symbol covers the address
	Offset uint64
	Image  string // base name of the image; empty when no image maps it
	// ImageOffset is the address's offset from the image's load bias
	// (its link-time address), for looking it up with addr2line.
	ImageOffset uint64
}

// String formats the location as "func+0xoff (image)", "?? (image+0xoff)"
// or "??".
func (l Location) String() string {
	switch {
	case l.Func != "" && l.Offset == 0:
		return fmt.Sprintf("%s (%s)", l.Func, l.Image)
	case l.Func != "":
		return fmt.Sprintf("%s+%#x (%s)", l.Func, l.Offset, l.Image)
	case l.Image != "":
		return fmt.Sprintf("?? (%s+%#x)", l.Image, l.ImageOffset)
	}
	return "??"
}

// sameFunc reports whether two locations are in the same function.
func (l Location) sameFunc(o Location) bool {
	return l.Func != "" && l.Func == o.Func && l.Image == o.Image
}

// maxSymbols bounds the symbols kept from one image.
const maxSymbols = 1 << 20

// Add reads the symbol table of the ELF file r (.symtab, else .dynsym)
// loaded at bias (0 for a program linked at its address; the load base
// for a PIE or shared object). A file without symbols is still added: its
// addresses are named by image and offset. name is shown as its base name.
func (s *Symbols) Add(name string, r io.ReaderAt, bias uint64) (err error) {
	defer func() {
		// debug/elf reads files from the guest, which may be hostile.
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: malformed ELF file: %v", name, p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	im := &image{name: path.Base(name), bias: bias}
	first := true
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		lo, hi := p.Vaddr+bias, p.Vaddr+p.Memsz+bias
		if hi < lo {
			return fmt.Errorf("%s: segment at %#x wraps around", name, p.Vaddr)
		}
		if first || lo < im.start {
			im.start = lo
		}
		if first || hi > im.end {
			im.end = hi
		}
		first = false
	}
	if first {
		return fmt.Errorf("%s: no loadable segment", name)
	}
	syms, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		syms, err = f.DynamicSymbols()
	}
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("%s: symbols: %w", name, err)
	}
	for _, sym := range syms {
		if len(im.syms) == maxSymbols {
			break
		}
		if !isCode(f, sym) {
			continue
		}
		im.syms = append(im.syms, symbol{name: sym.Name, addr: sym.Value, size: sym.Size})
	}
	// By address; at one address, sized symbols (functions) first, then
	// by name, so lookups are deterministic.
	sort.Slice(im.syms, func(i, j int) bool {
		a, b := im.syms[i], im.syms[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		if (a.size > 0) != (b.size > 0) {
			return a.size > 0
		}
		return a.name < b.name
	})
	s.images = append(s.images, im)
	return nil
}

// isCode reports whether sym names code: a function, or an untyped label
// in an executable section (assembly); not AArch64 mapping symbols ($x).
func isCode(f *elf.File, sym elf.Symbol) bool {
	if sym.Name == "" || strings.HasPrefix(sym.Name, "$") {
		return false
	}
	switch elf.ST_TYPE(sym.Info) {
	case elf.STT_FUNC:
		return true
	case elf.STT_NOTYPE:
		i := int(sym.Section)
		return sym.Section < elf.SHN_LORESERVE && i < len(f.Sections) &&
			f.Sections[i].Flags&elf.SHF_EXECINSTR != 0
	}
	return false
}

// Lookup names the address pc. A nil Symbols names nothing.
func (s *Symbols) Lookup(pc uint64) Location {
	if s == nil {
		return Location{}
	}
	for _, im := range s.images {
		if pc < im.start || pc >= im.end {
			continue
		}
		v := pc - im.bias
		loc := Location{Image: im.name, ImageOffset: v}
		i := sort.Search(len(im.syms), func(i int) bool { return im.syms[i].addr > v }) - 1
		// Among symbols at the same address the first sorts best.
		for i > 0 && im.syms[i-1].addr == im.syms[i].addr {
			i--
		}
		if i >= 0 {
			sym := im.syms[i]
			// A sized symbol must cover v; an unsized label (assembly)
			// runs to the next symbol.
			if sym.size == 0 || v < sym.addr+sym.size {
				loc.Func, loc.Offset = sym.name, v-sym.addr
			}
		}
		return loc
	}
	return Location{}
}

// lookupReturn names a return address: the function is the one containing
// the call (ret-4), as a call can be a function's last instruction, and
// the offset is the return address's.
func (s *Symbols) lookupReturn(ret uint64) Location {
	loc := s.Lookup(ret - 4)
	if loc.Func != "" {
		loc.Offset += 4
	}
	if loc.Image != "" {
		loc.ImageOffset += 4
	}
	return loc
}
