package kernel

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParseELF feeds arbitrary bytes to the ELF validator: it must return
// segments or an error, never panic or accept segments outside user space.
func FuzzParseELF(f *testing.F) {
	for _, name := range []string{"hello", "spin"} {
		if data, err := os.ReadFile(guestPath(name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseELF(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, s := range info.segs {
			if s.filesz > s.memsz || s.vaddr+s.memsz < s.vaddr || s.off+s.filesz > uint64(len(data)) {
				t.Fatalf("accepted a bad segment %+v", s)
			}
		}
	})
}
