//go:build !unicorn_shared

package cpu

// libunicorn is linked statically by default. The shared library exports
// every symbol of all its targets, and the dynamic loader spent ~4 ms of
// every sissim start resolving its ~29,000 symbol relocations (measured:
// start-up of a trivial guest halves). Build with -tags unicorn_shared to
// link libunicorn.so instead, e.g. for a libunicorn installed without its
// static archive.

/*
#cgo LDFLAGS: -l:libunicorn.a -lm
*/
import "C"
