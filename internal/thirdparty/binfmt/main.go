// Command binfmt runs an AArch64 program under qemu-user, as Linux's
// binfmt_misc does for a registered qemu with the P flag (argv[0] kept).
//
// qemu-user without binfmt_misc hands a guest's execve to the host kernel,
// which cannot run an AArch64 program (or, worse, runs the host's program of
// the same path). The third-party suite therefore puts a directory first on
// the guests' PATH in which every program of the guest root is a hard link to
// this command: a guest under qemu that execs a program by name runs it under
// qemu again, with the same argv and environment. Under sissim the same
// directory holds symbolic links to the programs themselves.
//
// The links' directory holds binfmt.json:
//
//	{"qemu": "/usr/bin/qemu-aarch64-static", "root": "/abs/root",
//	 "programs": {"sqlite3": "/abs/root/usr/bin/sqlite3", ...}}
//
// and the program run is programs[name of the link], with -L root.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Config is binfmt.json.
type Config struct {
	Qemu     string            `json:"qemu"`
	Root     string            `json:"root"`
	Programs map[string]string `json:"programs"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "binfmt: %v\n", err)
		os.Exit(126)
	}
}

func run() error {
	// /proc/self/exe names the hard link the program was started through.
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return err
	}
	dir, name := filepath.Split(self)
	data, err := os.ReadFile(filepath.Join(dir, "binfmt.json"))
	if err != nil {
		return err
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("%sbinfmt.json: %w", dir, err)
	}
	prog, ok := cfg.Programs[name]
	if !ok {
		return fmt.Errorf("%s: no program of that name in %sbinfmt.json", name, dir)
	}
	argv0 := name
	if len(os.Args) > 0 {
		argv0 = os.Args[0]
	}
	argv := []string{cfg.Qemu, "-L", cfg.Root, "-0", argv0, prog}
	argv = append(argv, os.Args[1:]...)
	// qemu-user gives the guest its own environment in reverse order.
	env := os.Environ()
	rev := make([]string, len(env))
	for i, kv := range env {
		rev[len(env)-1-i] = kv
	}
	return syscall.Exec(cfg.Qemu, argv, rev)
}
