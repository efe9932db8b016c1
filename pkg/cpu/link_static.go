//go:build !unicorn_shared

package cpu

// By default sissim links libunicorn 2.1.x statically from .cache/unicorn,
// where scripts/fetch-unicorn.sh (run by `make deps`) puts Debian trixie's
// libunicorn-dev; the system is not changed. A static link also saves the
// ~4 ms per start that the dynamic loader spent resolving the shared
// library's ~29,000 symbol relocations. Build with -tags unicorn_shared to
// link a system libunicorn >= 2.1 instead (see link_shared.go).

/*
#cgo CFLAGS: -I${SRCDIR}/../../.cache/unicorn/include
#cgo LDFLAGS: ${SRCDIR}/../../.cache/unicorn/lib/libunicorn.a -lm -lpthread
*/
import "C"
