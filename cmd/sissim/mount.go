package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/sis-kernel/sissim/pkg/vfs"
)

// hostMount is one --mount HOST:GUEST[:ro] flag.
type hostMount struct {
	host, guest string
	readOnly    bool
}

// mountFlag collects repeated --mount flags.
type mountFlag []hostMount

func (f *mountFlag) String() string {
	var parts []string
	for _, m := range *f {
		s := m.host + ":" + m.guest
		if m.readOnly {
			s += ":ro"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// Set parses HOST:GUEST[:ro|:rw].
func (f *mountFlag) Set(v string) error {
	parts := strings.Split(v, ":")
	m := hostMount{}
	switch {
	case len(parts) == 3 && (parts[2] == "ro" || parts[2] == "rw"):
		m.readOnly = parts[2] == "ro"
	case len(parts) != 2:
		return fmt.Errorf("want HOST:GUEST[:ro], got %q", v)
	}
	m.host, m.guest = parts[0], parts[1]
	if m.host == "" || !path.IsAbs(m.guest) {
		return fmt.Errorf("want HOST:GUEST[:ro] with an absolute GUEST path, got %q", v)
	}
	*f = append(*f, m)
	return nil
}

// apply mounts every host directory into v.
func (f mountFlag) apply(v *vfs.FS) error {
	for _, m := range f {
		if err := v.MountHost(m.host, m.guest, m.readOnly); err != nil {
			return fmt.Errorf("--mount %s:%s: %w", m.host, m.guest, err)
		}
	}
	return nil
}

// writable reports whether a mount lets guests write host files (their
// writes, and what they read back, are not recorded for going back).
func (f mountFlag) writable() bool {
	for _, m := range f {
		if !m.readOnly {
			return true
		}
	}
	return false
}
