package thirdparty

import (
	"fmt"
	"strings"
)

// cu is a GNU coreutils case (dynamically linked programs) in a directory
// holding data.txt.
func cu(name, prog string, args ...string) Case {
	return Case{Suite: "coreutils", Name: name, Prog: prog, Args: args, Fixtures: []string{"data.txt"}}
}

// sortInput is enough lines that sort with a small buffer spills to
// temporary files and merges them with threads.
func sortInput() string {
	var b strings.Builder
	for i := 0; i < 6000; i++ {
		fmt.Fprintf(&b, "%08x line %d\n", uint32(i)*2654435761, i)
	}
	return b.String()
}

// coreutilsCases run each program of Debian's coreutils once, except the
// ones that only report the host (df, hostid, nproc, pinky, users, who,
// logname) or are random (mktemp).
func coreutilsCases() []Case {
	return []Case{
		cu("test-bracket", "[", "data.txt", "-ef", "./data.txt", "]"),
		cu("arch", "arch"),
		cu("b2sum", "b2sum", "-l", "128", "data.txt"),
		cu("base32", "base32", "data.txt"),
		cu("base64", "base64", "-d").in("c2lzc2ltIHJ1bnMgY29yZXV0aWxzCg==\n"),
		cu("basename", "basename", "-a", "-s", ".c", "/src/a.c", "b.c"),
		cu("basenc", "basenc", "--base16", "data.txt"),
		cu("cat", "cat", "-A", "bin").file("bin", binaryStrings),
		cu("chcon", "chcon", "-t", "etc_t", "data.txt"),
		cu("chgrp", "chgrp", "-v", "100", "data.txt"),
		cu("chmod", "chmod", "-v", "a-r,u+rwx", "data.txt"),
		cu("chown", "chown", "-v", "5:6", "data.txt"),
		cu("chroot", "chroot", "/", "printenv", "TZ"),
		cu("cksum", "cksum", "-a", "sha256", "data.txt"),
		cu("comm", "comm", "-12", "a.txt", "b.txt").file("a.txt", "apple\nbanana\ncherry\n").file("b.txt", "banana\ncherry\ndate\n"),
		cu("cp", "cp", "-v", "--preserve=mode,timestamps", "data.txt", "copy.txt"),
		cu("cp-r", "cp", "-rv", "src", "dst").file("src/a/one.txt", "1\n"),
		cu("csplit", "csplit", "data.txt", "/cherry/", "{*}"),
		cu("cut", "cut", "-d", "a", "-f", "2", "--output-delimiter=|", "data.txt"),
		cu("date", "date", "-u", "-d", "2024-02-29 13:14:15", "+%s %A %B %j %V %:z"),
		cu("dd", "dd", "if=data.txt", "of=out.bin", "bs=5", "skip=1", "count=3", "conv=swab", "status=none"),
		cu("dir", "dir", "-l", "--time-style=+%F", "data.txt"),
		cu("dircolors", "dircolors", "-b").env("TERM=xterm"),
		cu("dirname", "dirname", "/a/b/c", "d/e", "f"),
		cu("du", "du", "-b", "data.txt"),
		cu("echo", "echo", "-e", `one\ttwo\nthree\x21\c never`),
		cu("env", "env", "-i", "ONE=1", "printenv").qemuWrong(qemuHostExec, Want{Stdout: "ONE=1\n"}),
		cu("expand", "expand", "-t", "2,6").in("\ta\tb\tc\n"),
		cu("expr", "expr", "index", "sissim", "m", "+", "length", "abc"),
		cu("factor", "factor", "4294967297", "1099511627791"),
		cu("false", "false"),
		cu("fmt", "fmt", "-w", "30").in("The SIS kernel runs real AArch64 programs, one system call at a time, under a deterministic clock.\n"),
		cu("fold", "fold", "-s", "-w", "10", "data.txt"),
		cu("groups", "groups"),
		cu("head", "head", "-n", "-2", "data.txt"),
		cu("id", "id"),
		cu("id-un", "id", "-un"),
		cu("install", "install", "-v", "-m", "0600", "-D", "data.txt", "inst/sub/data.txt"),
		cu("join", "join", "-t", ",", "a.csv", "b.csv").file("a.csv", "1,one\n2,two\n3,three\n").file("b.csv", "1,eins\n3,drei\n"),
		cu("link", "link", "data.txt", "hard"),
		cu("ln", "ln", "-sv", "data.txt", "soft"),
		cu("ls", "ls", "-l", "--time-style=+%F %T", "data.txt", "missing"),
		cu("ls-color", "ls", "--color=always", "-F", "-1", "dir").file("dir/a.sh", "").file("dir/b.txt", ""),
		cu("md5sum", "md5sum", "data.txt"),
		cu("md5sum-check", "md5sum", "-c", "sums").file("sums", "2a37907f67fd58f77ccb15a510b28ccf  data.txt\n"),
		cu("mkdir", "mkdir", "-pv", "-m", "710", "a/b/c"),
		cu("mkfifo", "mkfifo", "-m", "640", "fifo"),
		cu("mknod", "mknod", "pipe", "p"),
		cu("mv", "mv", "-v", "data.txt", "moved.txt"),
		cu("nice", "nice"),
		cu("nice-n", "nice", "-n", "5", "nice"),
		cu("nl", "nl", "-n", "rz", "-s", ": ", "data.txt"),
		cu("nohup", "nohup", "printenv", "TZ"),
		cu("numfmt", "numfmt", "--to=iec-i", "--suffix=B", "1023", "1048576", "5000000000"),
		cu("od", "od", "-An", "-tx1z", "-w8", "data.txt"),
		cu("paste", "paste", "-d", "|,", "data.txt", "data.txt"),
		cu("pathchk", "pathchk", "-p", "ok/name", "bad\x01name"),
		cu("pr", "pr", "-2", "-t", "-w", "40", "data.txt"),
		cu("printenv", "printenv", "TZ", "LC_ALL"),
		cu("printf", "printf", `%q %s %'d %08.3f %#o\n`, "a b", "plain", "1234567", "3.14159", "8"),
		cu("ptx", "ptx", "-A", "data.txt"),
		cu("pwd", "pwd", "-P"),
		cu("readlink", "readlink", "-e", "data.txt"),
		cu("realpath", "realpath", "--relative-to=/usr/bin", "/usr/lib", "."),
		cu("rm", "rm", "-v", "data.txt"),
		cu("rm-r", "rm", "-rv", "tree").file("tree/a/b", ""),
		cu("rmdir", "rmdir", "-v", "-p", "x/y").file("x/y/", ""),
		cu("runcon", "runcon", "-t", "unconfined_t", "true"),
		cu("seq", "seq", "-f", "%.2e", "1", "2.5", "10"),
		cu("sha1sum", "sha1sum", "data.txt"),
		cu("sha224sum", "sha224sum", "data.txt"),
		cu("sha256sum", "sha256sum", "--tag", "data.txt"),
		cu("sha384sum", "sha384sum", "data.txt"),
		cu("sha512sum", "sha512sum", "data.txt"),
		cu("shred", "shred", "-n", "0", "-z", "-v", "data.txt"),
		cu("shuf", "shuf", "--random-source=data.txt", "-i", "1-12"),
		cu("sleep", "sleep", "0.05"),
		cu("sort", "sort", "-t", ",", "-k2,2n", "-k1,1r").in("b,2\na,10\nc,2\nd,1\n"),
		cu("sort-big", "sort", "--parallel=2", "-S", "64K", "-T", ".", "-k", "1,1", "input").file("input", sortInput()),
		cu("split", "split", "-n", "3", "--verbose", "data.txt", "piece."),
		cu("stat", "stat", "-c", "%n %s %a %A %F %h %U %G %Y", "data.txt"),
		cu("stdbuf", "stdbuf", "-oL", "printenv", "TZ"),
		cu("stty", "stty", "-g"),
		cu("sum", "sum", "-r", "data.txt"),
		cu("sync", "sync", "data.txt"),
		cu("tac", "tac", "-s", "a", "data.txt"),
		cu("tail", "tail", "-c", "+40", "data.txt"),
		cu("tee", "tee", "-a", "data.txt", "copy.txt").in("appended\n"),
		cu("test", "test", "-s", "data.txt", "-a", "-w", "data.txt"),
		cu("timeout", "timeout", "5", "printenv", "TZ"),
		cu("timeout-expires", "timeout", "0.3", "sleep", "20"),
		cu("touch", "touch", "-m", "-d", "2001-02-03 04:05:06", "data.txt"),
		cu("tr", "tr", "-cs", "[:alpha:]", "\n").in(dataText),
		cu("true", "true"),
		cu("truncate", "truncate", "-s", "%7", "data.txt"),
		cu("tsort", "tsort").in("a b\nb c\na c\nd c\n"),
		cu("tty", "tty"),
		cu("uname", "uname", "-s", "-m", "-o"),
		cu("unexpand", "unexpand", "--first-only").in("        eight\n    four\n"),
		cu("uniq", "uniq", "-c", "-i").in("a\nA\nb\nB\nb\n"),
		cu("unlink", "unlink", "data.txt"),
		cu("vdir", "vdir", "--time-style=+%F", "data.txt"),
		cu("wc", "wc", "-lwmcL", "data.txt"),
		cu("whoami", "whoami"),
		cu("yes", "bash-static", "-c", "yes sis | head -n 3"),
		cu("version", "ls", "--version"),
	}
}
