//go:build unicorn_shared

package cpu

// With -tags unicorn_shared, the system's libunicorn.so and headers are
// used (pkg-config unicorn). They must be 2.1 or later: shim.h refuses
// older headers at compile time.

/*
#cgo pkg-config: unicorn
*/
import "C"
