package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sis-kernel/sissim/pkg/kernel"
	"github.com/sis-kernel/sissim/pkg/strace"
)

// straceFlags are the --strace flags of run, boot and shell.
type straceFlags struct {
	on      *bool
	file    *string
	filters *filterFlag
	strsize *int
}

// filterFlag is the repeatable --strace-filter.
type filterFlag []string

func (f *filterFlag) String() string     { return fmt.Sprint(*f) }
func (f *filterFlag) Set(v string) error { *f = append(*f, v); return nil }

func addStraceFlags(f *flag.FlagSet) straceFlags {
	s := straceFlags{filters: &filterFlag{}}
	s.on = f.Bool("strace", false, "print the system calls, signals and exits of every guest process to stderr, as strace -f")
	s.file = f.String("strace-file", "", "write the --strace output to `FILE` instead, every line starting with the pid (strace -f -o FILE)")
	f.Var(s.filters, "strace-filter", "show only what `EXPR` selects, as strace -e: trace=open,read, trace=%file, trace=!write,\nsignal=!SIGCHLD (repeatable)")
	s.strsize = f.Int("strace-strsize", 32, "show at most `N` bytes of each string, as strace -s")
	return s
}

// apply sets cfg.Strace and cfg.StraceOptions. Any of the flags turns
// tracing on. The returned function flushes and closes the output file.
func (s straceFlags) apply(cfg *kernel.Config, stderr io.Writer) (func() error, error) {
	none := func() error { return nil }
	if *s.strsize < 1 {
		return none, fmt.Errorf("--strace-strsize: want N >= 1, got %d", *s.strsize)
	}
	if !*s.on && *s.file == "" && len(*s.filters) == 0 {
		return none, nil
	}
	opt := strace.Options{StringLimit: *s.strsize}
	if len(*s.filters) > 0 {
		f, err := strace.ParseFilter(*s.filters...)
		if err != nil {
			return none, fmt.Errorf("--strace-filter: %w", err)
		}
		opt.Filter = f
	}
	cfg.StraceOptions = opt
	if *s.file == "" {
		cfg.Strace = stderr
		return none, nil
	}
	f, err := os.Create(*s.file)
	if err != nil {
		return none, fmt.Errorf("--strace-file: %w", err)
	}
	w := bufio.NewWriter(f)
	cfg.Strace = w
	cfg.StraceOptions.PIDColumn = true
	return func() error { return errors.Join(w.Flush(), f.Close()) }, nil
}
