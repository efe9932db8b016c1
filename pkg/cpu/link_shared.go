//go:build unicorn_shared

package cpu

// With -tags unicorn_shared, libunicorn.so is linked (see link_static.go).

/*
#cgo LDFLAGS: -lunicorn
*/
import "C"
