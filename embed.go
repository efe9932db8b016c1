// Package sissim holds the files built into the sissim binary: the guest
// programs of testdata/guests, which the default root image installs under
// /bin.
package sissim

import (
	"embed"
	"io/fs"
)

//go:embed testdata/guests
var guests embed.FS

// Guests returns the built-in guest programs, by name ("hello", ...).
func Guests() fs.FS {
	sub, err := fs.Sub(guests, "testdata/guests")
	if err != nil {
		panic(err) // the embedded tree always has this directory
	}
	return sub
}

// RootImage returns the default root image of a booted machine: the guest
// directories to fill, with their contents.
func RootImage() map[string]fs.FS {
	return map[string]fs.FS{"/bin": Guests()}
}
