// pipeline is make bench's goroutine benchmark: N values pass through a
// chain of 8 goroutines connected by unbuffered channels, fanned out to 4
// workers in the middle. It prints the sum, the same under every engine.
//
// Usage: pipeline N
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

func stage(in <-chan int, f func(int) int) <-chan int {
	out := make(chan int)
	go func() {
		for v := range in {
			out <- f(v)
		}
		close(out)
	}()
	return out
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		var err error
		if n, err = strconv.Atoi(os.Args[1]); err != nil {
			fmt.Fprintln(os.Stderr, "usage: pipeline N")
			os.Exit(2)
		}
	}
	src := make(chan int)
	go func() {
		for i := range n {
			src <- i
		}
		close(src)
	}()
	c := stage(stage(stage(src, func(v int) int { return v + 1 }), func(v int) int { return v * 3 }), func(v int) int { return v % 1000 })
	fan := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range c {
				fan <- v + 1
			}
		}()
	}
	go func() { wg.Wait(); close(fan) }()
	out := stage(stage(fan, func(v int) int { return v * 2 }), func(v int) int { return v - 1 })
	sum := 0
	for v := range out {
		sum += v
	}
	fmt.Println("pipeline", n, sum)
}
