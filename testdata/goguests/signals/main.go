// signals uses os/signal: notification of signals sent to itself and to
// a goroutine-heavy process, and signal.Ignore.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP)
	p, _ := os.FindProcess(os.Getpid())
	for _, s := range []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP} {
		p.Signal(s)
		select {
		case got := <-c:
			fmt.Println("got", got)
		case <-time.After(5 * time.Second):
			fmt.Println("timed out waiting for", s)
		}
	}
	signal.Ignore(syscall.SIGTERM)
	p.Signal(syscall.SIGTERM)
	time.Sleep(5 * time.Millisecond)
	fmt.Println("SIGTERM ignored")
	signal.Reset()
}
