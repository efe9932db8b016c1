package sis

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// maxCompletions bounds the candidates of one completion.
const maxCompletions = 1000

// Complete returns the completions of the word at the end of line (the
// text before the cursor): command names, subcommands, flags, and the
// values of the placeholders of the command's synopsis (guest paths,
// programs in /bin, process ids, model versions). Each candidate is the
// whole word; a directory ends in '/'. The result is sorted.
func (s *Shell) Complete(line string) []string {
	s.execMu.Lock() // no command runs meanwhile
	defer s.execMu.Unlock()
	if i := strings.LastIndexAny(line, ";\n"); i >= 0 {
		line = line[i+1:]
	}
	typed := strings.Fields(line)
	cur := ""
	if len(typed) > 0 && !strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\t") {
		cur, typed = typed[len(typed)-1], typed[:len(typed)-1]
	}
	var cands []string
	add := func(vs ...string) {
		for _, v := range vs {
			if strings.HasPrefix(v, cur) && len(cands) < maxCompletions {
				cands = append(cands, v)
			}
		}
	}
	if len(typed) == 0 {
		add(s.commandNames()...)
		return finish(cands)
	}
	c, err := s.command(typed[0])
	if err != nil || c.Text {
		return nil
	}
	args := typed[1:]
	syntax := strings.TrimPrefix(shellcmd.Syntax(c.Usage), c.Name)
	subs := s.enabledSubs(c)
	if len(subs) > 0 {
		switch {
		case len(args) == 0:
			add("help")
			for _, sub := range subs {
				add(sub.Name)
			}
			return finish(cands)
		case shellcmd.IsHelp(args[0]):
			if len(args) == 1 {
				for _, sub := range subs {
					add(sub.Name)
				}
			}
			return finish(cands)
		}
		sub, ok := shellcmd.Find(subs, args[0])
		if !ok {
			return nil
		}
		syntax = strings.TrimPrefix(shellcmd.Syntax(sub.Usage), sub.Name)
		args = args[1:]
	}
	words := shellcmd.Words(syntax)
	next := shellcmd.Expect(words, args)
	if strings.HasPrefix(cur, "-") {
		add(shellcmd.Flags(words)...)
	}
	for _, w := range next {
		add(w.Literals...)
		for _, k := range w.Kinds {
			add(s.kindValues(k, cur, args)...)
		}
	}
	return finish(cands)
}

// finish sorts and dedups candidates.
func finish(c []string) []string {
	sort.Strings(c)
	out := c[:0]
	for i, v := range c {
		if i == 0 || v != c[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// commandNames returns the enabled commands' names.
func (s *Shell) commandNames() []string {
	var out []string
	for _, c := range s.Commands() {
		out = append(out, c.Name)
	}
	return out
}

// kindValues returns the values of placeholder kind for the word cur;
// args are the arguments typed before it (help's subcommand needs its
// command).
func (s *Shell) kindValues(kind, cur string, args []string) []string {
	switch kind {
	case "path", "file", "dir", "input", "output":
		return s.completePath(cur, kind == "dir")
	case "prog":
		if strings.Contains(cur, "/") {
			return s.completePath(cur, false)
		}
		var out []string
		ents, _ := s.m.FS().ReadDir("/bin")
		for _, e := range ents {
			if e.Name != "." && e.Name != ".." {
				out = append(out, e.Name)
			}
		}
		return out
	case "pid":
		var out []string
		for _, p := range s.m.Processes() {
			out = append(out, strconv.Itoa(p.PID))
		}
		return out
	case "command":
		return s.commandNames()
	case "subcommand":
		if len(args) == 0 {
			return nil
		}
		c, err := s.command(args[0])
		if err != nil {
			return nil
		}
		var out []string
		for _, sub := range s.enabledSubs(c) {
			out = append(out, sub.Name)
		}
		return out
	}
	var out []string
	for _, c := range s.Commands() {
		if c.Values != nil {
			out = append(out, c.Values(kind)...)
		}
	}
	return out
}

// completePath returns the guest paths that start with cur (relative to
// /), directories with a trailing '/'.
func (s *Shell) completePath(cur string, dirsOnly bool) []string {
	dir, base := "", cur
	if i := strings.LastIndexByte(cur, '/'); i >= 0 {
		dir, base = cur[:i+1], cur[i+1:]
	}
	ents, err := s.m.FS().ReadDir(pathArg(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Name == "." || e.Name == ".." || !strings.HasPrefix(e.Name, base) {
			continue
		}
		full := dir + e.Name
		if fi, err := s.m.FS().Stat(pathArg(full)); err == nil && fi.IsDir() {
			full += "/"
		} else if dirsOnly {
			continue
		}
		out = append(out, full)
		if len(out) >= maxCompletions {
			break
		}
	}
	return out
}
