package gdbstub

import (
	"errors"
	"fmt"
	"strings"
)

// errNoObject means a qXfer object or annex the stub does not serve.
var errNoObject = errors.New("no such object")

// xferDocument builds the document qXfer reads.
func (ss *session) xferDocument(object, annex string) ([]byte, error) {
	switch object {
	case "features":
		if annex != "target.xml" {
			return nil, errNoObject
		}
		return []byte(targetXML), nil
	case "threads":
		return ss.threadsXML()
	case "exec-file":
		ef, ok := ss.t.(ExecFiler)
		if !ok {
			return nil, errNoObject
		}
		pid, err := ss.xferPid(annex)
		if err != nil {
			return nil, err
		}
		path, err := ef.ExecFile(pid)
		if err != nil {
			return nil, err
		}
		return []byte(path), nil
	case "auxv":
		ar, ok := ss.t.(AuxvReader)
		if !ok {
			return nil, errNoObject
		}
		pid, err := ss.currentPid()
		if err != nil {
			return nil, err
		}
		return ar.Auxv(pid)
	case "libraries-svr4":
		ar, ok := ss.t.(AuxvReader)
		if !ok {
			return nil, errNoObject
		}
		pid, err := ss.currentPid()
		if err != nil {
			return nil, err
		}
		auxv, err := ar.Auxv(pid)
		if err != nil {
			return nil, err
		}
		return librariesSVR4(pid, ss.t, auxv, annex)
	case "siginfo":
		sr, ok := ss.t.(SiginfoReader)
		if !ok {
			return nil, errNoObject
		}
		t, err := ss.resolve(ss.gThread)
		if err != nil {
			return nil, err
		}
		return sr.Siginfo(t)
	case "memory-map":
		mm, ok := ss.t.(MemoryMapper)
		if !ok {
			return nil, errNoObject
		}
		pid, err := ss.currentPid()
		if err != nil {
			return nil, err
		}
		regions, err := mm.MemoryMap(pid)
		if err != nil {
			return nil, err
		}
		return memoryMapXML(regions), nil
	}
	return nil, errNoObject
}

// memoryMapXML formats a memory map.
func memoryMapXML(regions []MemoryRegion) []byte {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n" +
		"<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n" +
		"<memory-map>\n")
	for _, r := range regions {
		kind := "ram"
		if r.ReadOnly {
			kind = "rom"
		}
		fmt.Fprintf(&b, "<memory type=\"%s\" start=\"%#x\" length=\"%#x\"/>\n", kind, r.Start, r.Length)
	}
	b.WriteString("</memory-map>\n")
	return []byte(b.String())
}
