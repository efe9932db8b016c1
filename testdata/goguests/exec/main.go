// exec runs itself as a child with os/exec (its stdout through a pipe,
// an exit status) and prints what it saw.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println("child says", strings.Join(os.Args[2:], " "), "with", os.Getenv("GREETING"))
		os.Exit(5)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Println("no executable:", err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "child", "hello", "there")
	cmd.Env = append(os.Environ(), "GREETING=hi")
	out, err := cmd.Output()
	var ee *exec.ExitError
	fmt.Printf("output %q\n", out)
	if errors.As(err, &ee) {
		fmt.Println("child exit status", ee.ExitCode())
	} else {
		fmt.Println("unexpected error", err)
	}
	if _, err := exec.LookPath("definitely-not-a-command"); err != nil {
		fmt.Println("lookpath fails as expected")
	}
}
