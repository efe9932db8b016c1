package vfs

import (
	"github.com/sis-kernel/sissim/pkg/linux"
)

// ProcNetSource is a ProcSource whose machine has a network: /proc/net
// shows its tables.
type ProcNetSource interface {
	// ProcNet returns the content of /proc/net/<name>: dev, route, tcp,
	// tcp6, udp, udp6 or unix.
	ProcNet(name string) []byte
}

// procNetFiles are the files of /proc/net, in listing order.
var procNetFiles = []string{"dev", "route", "tcp", "tcp6", "udp", "udp6", "unix", "igmp", "igmp6"}

// procNetIno numbers /proc/net (idx -1) and its files.
func procNetIno(idx int) uint64 { return uint64(64 + 1 + idx) }

// lookupNet resolves /proc/net and the files below it.
func (p *Procfs) lookupNet(parts []string) (*procNode, error) {
	src, ok := p.src.(ProcNetSource)
	if !ok {
		return nil, linux.ENOENT
	}
	if len(parts) == 0 {
		return &procNode{mode: ModeDir | 0o555, ino: procNetIno(-1), list: func() []Dirent {
			out := make([]Dirent, len(procNetFiles))
			for i, name := range procNetFiles {
				out[i] = Dirent{Name: name, Ino: procNetIno(i), Type: DTReg}
			}
			return out
		}}, nil
	}
	if len(parts) > 1 {
		if index(procNetFiles, parts[0]) >= 0 {
			return nil, linux.ENOTDIR
		}
		return nil, linux.ENOENT
	}
	i := index(procNetFiles, parts[0])
	if i < 0 {
		return nil, linux.ENOENT
	}
	name := parts[0]
	return &procNode{mode: ModeRegular | 0o444, ino: procNetIno(i), kind: name,
		data: func() []byte { return src.ProcNet(name) }}, nil
}

// hasNet reports whether /proc/net exists.
func (p *Procfs) hasNet() bool {
	_, ok := p.src.(ProcNetSource)
	return ok
}
