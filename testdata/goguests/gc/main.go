// gc builds a heap of a few hundred MiB with GOMAXPROCS=4 (the collector
// runs on several threads meanwhile), drops it, and checks its contents.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

type node struct {
	next *node
	data [1000]byte
	id   int
}

func main() {
	runtime.GOMAXPROCS(4)
	mib := 300
	if len(os.Args) > 1 {
		mib, _ = strconv.Atoi(os.Args[1])
	}
	var keep []*node
	for round := 0; round < 3; round++ {
		var head *node
		n := mib << 10 // ~1 KiB nodes
		for i := 0; i < n; i++ {
			head = &node{next: head, id: i}
			head.data[i%1000] = byte(i)
		}
		cnt, sum := 0, 0
		for p := head; p != nil; p = p.next {
			cnt++
			sum += int(p.data[p.id%1000])
		}
		fmt.Println("round", round, "nodes", cnt, "checksum", sum)
		keep = append(keep, head)
		if round > 0 {
			keep[round-1] = nil
		}
		runtime.GC()
	}
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	fmt.Println("gc cycles at least 3:", st.NumGC >= 3)
	debug.FreeOSMemory()
	fmt.Println("done")
}
