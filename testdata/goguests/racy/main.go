// racy has a data race on purpose: goroutines increment a counter without
// synchronisation and the program prints the (interleaving-dependent)
// result. Two runs with the same seed must print the same; different
// schedule seeds give different interleavings.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

var counter int

func main() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200000; i++ {
				v := counter
				if i%97 == 0 {
					runtime.Gosched()
				}
				counter = v + 1
			}
		}()
	}
	wg.Wait()
	fmt.Println("counter", counter)
}
