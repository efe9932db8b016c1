// conc exercises goroutines with channels, sync.WaitGroup, mutexes and
// atomics across GOMAXPROCS threads, and prints results that do not
// depend on the interleaving.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

func main() {
	runtime.GOMAXPROCS(4)
	// A pipeline of stages connected by channels.
	src := make(chan int)
	sq := make(chan int)
	go func() {
		for i := 1; i <= 1000; i++ {
			src <- i
		}
		close(src)
	}()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range src {
				sq <- v * v
			}
		}()
	}
	go func() { wg.Wait(); close(sq) }()
	sum := 0
	for v := range sq {
		sum += v
	}
	fmt.Println("pipeline sum", sum)

	var mu sync.Mutex
	var n int
	var a atomic.Int64
	var wg2 sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 0; i < 5000; i++ {
				mu.Lock()
				n++
				mu.Unlock()
				a.Add(2)
			}
		}()
	}
	wg2.Wait()
	fmt.Println("mutex", n, "atomic", a.Load())

	var once sync.Once
	c := sync.NewCond(&mu)
	ready := 0
	for g := 0; g < 8; g++ {
		go func() {
			once.Do(func() { fmt.Println("once") })
			mu.Lock()
			ready++
			c.Broadcast()
			mu.Unlock()
		}()
	}
	mu.Lock()
	for ready < 8 {
		c.Wait()
	}
	mu.Unlock()
	fmt.Println("cond", ready)
}
