// hello prints a greeting, its arguments and the runtime's view of the machine.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Printf("hello from Go %s/%s, %d CPU, args %q\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), os.Args[1:])
}
