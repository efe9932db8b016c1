package sis

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// The file and process commands: ls, cat, ps. They read the machine's
// file system as a guest would (ps reads /proc).

// maxCat is how much of a file cat prints (SIS: up to 4 KiB).
const maxCat = 4096

// typeLetter is the letter of a file type in ls: SIS's d and f, and
// ls(1)'s l, c, b, p and s.
func typeLetter(mode uint32) byte {
	switch mode & vfs.ModeType {
	case vfs.ModeDir:
		return 'd'
	case vfs.ModeSymlink:
		return 'l'
	case vfs.ModeChar:
		return 'c'
	case vfs.ModeBlock:
		return 'b'
	case vfs.ModeFIFO:
		return 'p'
	case vfs.ModeSocket:
		return 's'
	}
	return 'f'
}

// modeString is st_mode as ls -l shows it: "drwxr-xr-x".
func modeString(mode uint32) string {
	b := []byte("-rwxrwxrwx")
	if t := typeLetter(mode); t != 'f' {
		b[0] = t
	}
	for i := 0; i < 9; i++ {
		if mode&(1<<(8-i)) == 0 {
			b[1+i] = '-'
		}
	}
	special := func(bit uint32, at int, set, noExec byte) {
		if mode&bit == 0 {
			return
		}
		if b[at] == '-' {
			b[at] = noExec
		} else {
			b[at] = set
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}

// lsEntry is one line of ls.
type lsEntry struct {
	name   string
	attr   vfs.Attr
	target string // symlink target
}

func (s *Shell) cmdLs(w io.Writer, args []string) error {
	flags, args, err := shortFlags("ls", args, "l")
	if err != nil {
		return err
	}
	long := flags['l']
	p := "/"
	switch len(args) {
	case 0:
	case 1:
		p = pathArg(args[0])
	default:
		return shellcmd.BadArgs("ls: more than one path")
	}
	top, err := s.lsStat(p, "")
	if err != nil {
		return fileError("ls", err)
	}
	if top.attr.IsSymlink() && !long {
		// ls follows a symlink it is given, unless asked about the link.
		if fi, err := s.m.FS().Stat(p); err == nil && fi.IsDir() {
			top.attr = *fi.Sys().(*vfs.Attr)
		}
	}
	var ents []lsEntry
	if top.attr.IsDir() {
		dir, err := s.m.FS().ReadDir(p)
		if err != nil {
			return fileError("ls", err)
		}
		sort.Slice(dir, func(i, j int) bool { return dir[i].Name < dir[j].Name })
		for _, d := range dir {
			if d.Name == "." || d.Name == ".." {
				continue
			}
			e, err := s.lsStat(strings.TrimSuffix(p, "/")+"/"+d.Name, d.Name)
			if err != nil {
				// Gone meanwhile, or unreadable: show what the directory says.
				e = lsEntry{name: d.Name, attr: vfs.Attr{Mode: dtMode(d.Type)}}
			}
			ents = append(ents, e)
		}
	} else {
		top.name = p[strings.LastIndexByte(p, '/')+1:]
		ents = append(ents, top)
	}
	fmt.Fprintf(w, "Listing %s:\n", p)
	if !long {
		for _, e := range ents {
			fmt.Fprintf(w, "%c %s\n", typeLetter(e.attr.Mode), e.name)
		}
		return nil
	}
	sizes := make([]string, len(ents))
	linkW, sizeW := 1, 1
	for i, e := range ents {
		sizes[i] = strconv.FormatInt(e.attr.Size, 10)
		if t := e.attr.Mode & vfs.ModeType; t == vfs.ModeChar || t == vfs.ModeBlock {
			sizes[i] = fmt.Sprintf("%d, %d", e.attr.Rdev>>8&0xfff, e.attr.Rdev&0xff|e.attr.Rdev>>12&0xfff00)
		}
		linkW = max(linkW, len(strconv.Itoa(int(e.attr.Nlink))))
		sizeW = max(sizeW, len(sizes[i]))
	}
	for i, e := range ents {
		fmt.Fprintf(w, "%s %*d %*s %s", modeString(e.attr.Mode), linkW, e.attr.Nlink, sizeW, sizes[i], e.name)
		if e.attr.IsSymlink() {
			fmt.Fprintf(w, " -> %s", e.target)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// lsStat describes the file at p without following a final symlink.
func (s *Shell) lsStat(p, name string) (lsEntry, error) {
	fi, err := s.m.FS().Lstat(p)
	if err != nil {
		return lsEntry{}, err
	}
	e := lsEntry{name: name, attr: *fi.Sys().(*vfs.Attr)}
	if e.attr.IsSymlink() {
		if e.target, err = s.m.FS().Readlink(p); err != nil {
			e.target = "?"
		}
	}
	return e, nil
}

// dtModes are the st_mode file types of directory entries' d_type.
var dtModes = map[uint8]uint32{vfs.DTDir: vfs.ModeDir, vfs.DTLink: vfs.ModeSymlink, vfs.DTChar: vfs.ModeChar,
	vfs.DTBlock: vfs.ModeBlock, vfs.DTFIFO: vfs.ModeFIFO, vfs.DTSocket: vfs.ModeSocket}

// dtMode is the st_mode file type of a directory entry's d_type.
func dtMode(t uint8) uint32 {
	if m, ok := dtModes[t]; ok {
		return m
	}
	return vfs.ModeRegular
}

// readHead reads up to n bytes of the file at p (a VFS read returns 0 at
// the end of a file, as read(2) does).
func (s *Shell) readHead(p string, n int) ([]byte, error) {
	f, err := s.m.FS().Open(p, linux.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	got := 0
	for got < len(buf) {
		k, err := f.Read(buf[got:])
		got += k
		if errors.Is(err, io.EOF) || (err == nil && k == 0) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf[:got], nil
}

// isBinary reports whether b is not text: it has a NUL byte, or is not
// UTF-8 (a character cut at the end of b is allowed).
func isBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return !utf8.Valid(b)
}

func (s *Shell) cmdCat(w io.Writer, args []string) error {
	flags, args, err := shortFlags("cat", args, "x")
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return shellcmd.ErrUsage
	}
	p := pathArg(args[0])
	fi, err := s.m.FS().Stat(p)
	if err != nil {
		return fileError("cat", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("cat: %s: Is a directory", p)
	}
	data, err := s.readHead(p, maxCat+1)
	if err != nil {
		return fileError("cat", err)
	}
	truncated := len(data) > maxCat
	if truncated {
		data = data[:maxCat]
	}
	switch {
	case flags['x']:
		io.WriteString(w, hex.Dump(data))
	case isBinary(data) && s.terminal():
		return fmt.Errorf("cat: %s is a binary file; not printing it to a terminal ('cat -x %s' shows a hex dump)", p, args[0])
	default:
		w.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
	if truncated {
		size := "more"
		if fi.Size() > maxCat {
			size = strconv.FormatInt(fi.Size(), 10)
		}
		fmt.Fprintf(s.errStream(), "cat: %s: printed the first %d of %s bytes\n", p, maxCat, size)
	}
	return nil
}

// psInfo is what ps shows of a process, from /proc/<pid>/stat and
// /proc/<pid>/cmdline.
type psInfo struct {
	pid, ppid int
	state     string
	ticks     uint64 // utime+stime, in USER_HZ (100 Hz) ticks
	threads   int
	rssPages  uint64
	command   string
}

// readPS reads the /proc files of pid.
func (s *Shell) readPS(pid int) (psInfo, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := s.readHead(dir+"/stat", 4096)
	if err != nil {
		return psInfo{}, err
	}
	// pid (comm) state ppid ...: the comm may hold spaces and parentheses.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return psInfo{}, fmt.Errorf("ps: %s/stat is malformed", dir)
	}
	comm := string(stat[open+1 : end])
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 22 {
		return psInfo{}, fmt.Errorf("ps: %s/stat has %d fields", dir, len(f)+2)
	}
	num := func(i int) uint64 { n, _ := strconv.ParseUint(f[i], 10, 64); return n }
	info := psInfo{pid: pid, state: f[0], ppid: int(num(1)), ticks: num(11) + num(12), threads: int(num(17)), rssPages: num(21)}
	cmdline, err := s.readHead(dir+"/cmdline", MaxShellLine)
	if err == nil && len(cmdline) > 0 {
		info.command = strings.TrimRight(strings.ReplaceAll(string(cmdline), "\x00", " "), " ")
	} else {
		info.command = "[" + comm + "]"
	}
	return info, nil
}

// cpuTime formats ticks of 10 ms as ps's TIME: minutes:seconds.hundredths.
func cpuTime(ticks uint64) string {
	return fmt.Sprintf("%d:%02d.%02d", ticks/6000, ticks/100%60, ticks%100)
}

// psStates names the states of /proc/<pid>/stat.
var psStates = map[string]string{"R": "run", "S": "sleep", "D": "disk", "T": "stop", "t": "trace", "Z": "zombie", "X": "dead"}

func (s *Shell) cmdPs(w io.Writer, args []string) error {
	if len(args) != 0 {
		return shellcmd.ErrUsage
	}
	dir, err := s.m.FS().ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("ps: %w", err)
	}
	var pids []int
	for _, d := range dir {
		if pid, err := strconv.Atoi(d.Name); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	fmt.Fprintf(w, "%5s %5s %-6s %9s %3s %8s  %s\n", "PID", "PPID", "STATE", "TIME", "THR", "RSS(KiB)", "COMMAND")
	for _, pid := range pids {
		p, err := s.readPS(pid)
		if err != nil {
			continue // exited meanwhile
		}
		state := psStates[p.state]
		if state == "" {
			state = p.state
		}
		fmt.Fprintf(w, "%5d %5d %-6s %9s %3d %8d  %s\n", p.pid, p.ppid, state, cpuTime(p.ticks), p.threads, p.rssPages*4, p.command)
	}
	return nil
}
