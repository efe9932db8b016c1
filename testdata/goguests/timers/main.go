// timers exercises time.Sleep, tickers, timers, time.After and context
// deadlines; it prints only what the clock guarantees.
package main

import (
	"context"
	"fmt"
	"time"
)

func main() {
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("slept at least 20ms:", time.Since(start) >= 20*time.Millisecond)

	tk := time.NewTicker(5 * time.Millisecond)
	n := 0
	for range tk.C {
		n++
		if n == 10 {
			break
		}
	}
	tk.Stop()
	fmt.Println("ticks", n, "took at least 50ms:", time.Since(start) >= 70*time.Millisecond)

	tm := time.NewTimer(time.Hour)
	stopped := tm.Stop()
	fmt.Println("timer stopped before firing:", stopped)
	select {
	case <-time.After(10 * time.Millisecond):
		fmt.Println("after fired")
	case <-time.After(time.Hour):
		fmt.Println("wrong timer")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	select {
	case <-ctx.Done():
		fmt.Println("context:", ctx.Err())
	case <-time.After(time.Minute):
		fmt.Println("context never expired")
	}
	fired := make(chan bool)
	time.AfterFunc(time.Millisecond, func() { fired <- true })
	fmt.Println("AfterFunc:", <-fired)
}
