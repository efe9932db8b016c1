// preempt needs asynchronous preemption: goroutines spin in tight loops
// with no function calls while another goroutine must still run, and a
// Gosched storm between many goroutines.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

//go:noinline
func spin(stop *atomic.Bool) int {
	n := 0
	for !stop.Load() {
		n++
	}
	return n
}

func main() {
	runtime.GOMAXPROCS(2)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ { // more spinners than Ps
		wg.Add(1)
		go func() { defer wg.Done(); spin(&stop) }()
	}
	time.Sleep(20 * time.Millisecond) // needs the spinners preempted
	stop.Store(true)
	wg.Wait()
	fmt.Println("spinners preempted and stopped")

	var count atomic.Int64
	var wg2 sync.WaitGroup
	for g := 0; g < 50; g++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 0; i < 200; i++ {
				count.Add(1)
				runtime.Gosched()
			}
		}()
	}
	wg2.Wait()
	fmt.Println("gosched storm", count.Load())
	// A GC while a goroutine loops without calls: the collector needs to
	// preempt it to stop the world.
	stop.Store(false)
	go spin(&stop)
	runtime.GC()
	stop.Store(true)
	fmt.Println("gc during a tight loop")
}
