package thirdparty

// sh is a shell case: PROG -c SCRIPT in a directory holding data.txt.
func sh(suite, name, prog, script string) Case {
	return Case{Suite: suite, Name: name, Prog: prog, Args: []string{"-c", script}, Fixtures: []string{"data.txt"}}
}

// shellCases are scripts for bash-static and zsh-static (process
// substitution, jobs, traps, read -t, coprocesses), dash, mksh and sash.
// Commands they run come from the guest root through PATH.
func shellCases() []Case {
	bash := func(name, script string) Case { return sh("bash", name, "bash-static", script) }
	zsh := func(name, script string) Case {
		c := sh("zsh", name, "zsh-static", script)
		c.NoPrefix = "zsh finds its working directory by walking up to the inode of \"/\", which -L maps into the guest root"
		return c
	}
	dash := func(name, script string) Case { return sh("dash", name, "dash", script) }
	return []Case{
		// bash-static
		bash("procsub-read", `while read -r l; do echo "[$l]"; done < <(printf 'x\ny\n'); read -r a < <(echo val); echo "a=$a"`),
		bash("procsub-cat", `cat <(echo one) <(echo two) - <<< three`),
		bash("procsub-paste", `paste -d, <(seq 3) <(seq 4 6)`),
		bash("procsub-write", `echo hello > >(tr a-z A-Z > up.txt); wait $!; cat up.txt`),
		bash("procsub-fd", `echo <(true); [ -p <(true) ] && echo is a pipe; exec 3< <(echo via fd 3); read -r x <&3; echo "$x"`),
		bash("devfd", `exec 4<data.txt; head -n 1 /dev/fd/4; head -n 1 /proc/self/fd/0 < data.txt`),
		bash("jobs", `sleep 10 & jobs; kill %1; wait %1; echo "status=$?"; jobs`),
		bash("jobs-wait", `f() { return $1; }; f 3 & p1=$!; f 5 & p2=$!; wait $p2; echo "second=$?"; wait $p1; echo "first=$?"`),
		bash("jobs-pipeline", `{ echo a; echo b; } | tr a-z A-Z & wait; echo "done $?"`),
		bash("traps", `trap 'echo usr1' USR1; trap 'echo "err at line $LINENO"' ERR; trap 'echo exit trap' EXIT; kill -USR1 $$; false; trap -p USR1; exit 2`),
		bash("trap-term", `trap 'echo got TERM; exit 9' TERM; kill -TERM $$; echo not reached`),
		bash("signal-exit", `(kill -TERM $BASHPID); echo "termed=$?"; (kill -INT $BASHPID); echo "int=$?"`),
		bash("read-t", `coproc SLEEPER { read -r; }; read -t 0.1 -u ${SLEEPER[0]} x; echo "status=$?"; echo bye >&${SLEEPER[1]}; wait $SLEEPER_PID; echo "coproc=$?"`),
		bash("read-t0", `read -t 0 x <<< "data"; echo "ready=$?"; read -t 0 x < /dev/null; echo "null=$?"`),
		bash("coproc", `coproc MUL { while read -r a b; do echo $((a*b)); done; }; echo "6 7" >&${MUL[1]}; read -r r <&${MUL[0]}; echo "r=$r"; exec {MUL[1]}>&-; wait $MUL_PID; echo "exit=$?"`),
		bash("pipestatus", `false | true | (exit 3); echo "${PIPESTATUS[@]}"; set -o pipefail; false | true; echo "pipefail=$?"`),
		bash("redirections", `exec 3>out.txt; echo to3 >&3; exec 3>&-; cat out.txt; echo err >&2; { echo both; echo bad >&2; } 2>&1 | wc -l`),
		bash("mapfile", `mapfile -t arr < data.txt; echo ${#arr[@]} "${arr[2]}"; printf -v s '%s,' "${arr[@]:0:3}"; echo "${s%,}"`),
		bash("expansions", `v=sissimulator; echo ${v//s/S} ${v:2:4} ${#v} ${v^^} $'tab\tend'; declare -A m=([k]=v); echo ${m[k]}; echo $((2**62)) $((-7/2))`),
		bash("globs", "shopt -s nullglob extglob\necho *.txt; echo !(*.txt); echo no*match; echo **").file("sub/x.c", "").file("y.c", ""),
		bash("printf-time", `printf '%(%Y-%m-%d %H:%M:%S)T\n' 86400`),
		bash("random", `RANDOM=42; echo $RANDOM $RANDOM $RANDOM`),
		bash("not-found", `nosuchcommand; echo "status=$?"`),
		bash("set-e", `set -e; f() { echo in f; false; echo never; }; f; echo never either`),
		bash("subshells", `x=1; (x=2; echo $x; (echo $BASH_SUBSHELL)); echo $x $BASH_SUBSHELL; echo $(echo $(echo nested))`),
		Case{Suite: "bash", Name: "script-file", Prog: "bash-static", Args: []string{"t.sh", "x", "y"}}.file("t.sh", "#!/bin/bash\nfib() { if (( $1 < 2 )); then echo $1; else echo $(( $(fib $(($1-1))) + $(fib $(($1-2))) )); fi; }\nfib 6\necho \"$0 $# $*\"\nbadsyntax (\n"),
		// zsh-static
		zsh("procsub", `cat <(print one) =(print two)`),
		zsh("procsub-read", `while read -r l; do print "[$l]"; done < <(print -l a b c)`),
		zsh("jobs", `sleep 10 & jobs; kill %1; wait; print "done"`),
		zsh("traps", `TRAPUSR1() { print caught USR1 }; kill -USR1 $$; trap 'print exit trap' EXIT; false; print "status $?"`),
		zsh("read-t", `coproc { read -r x; print got $x }; read -t 0.1 -p y; print "timeout=$?"; print -p hi; read -p y; print "$y"; wait`),
		zsh("coproc", `coproc { read -r a; print $(( a * 2 )) }; print -p 21; read -p r; print "r=$r"; wait`),
		zsh("math", `print $(( 10.0 / 4 )) $(( 2**40 )) $(( 7 % 3 )) $(( 1e3 + 0.5 )); float f=3.25; integer i=f; print $f $i`),
		zsh("expansions", `s=a,b,c; print -l ${(s:,:)s}; a=(z y x); print ${(o)a} ${#a} $a[1]; print ${(U)s}`),
		zsh("globs", `print -l *(.) ; print -l *(/N) none`).file("d/", ""),
		zsh("datetime", `zmodload zsh/datetime; strftime '%Y-%m-%d %H:%M' 0; TZ=UTC0 strftime -r '%Y-%m-%d' 2024-02-29`),
		zsh("stat", `zmodload zsh/stat; zstat +size data.txt; zstat +mode -o data.txt`),
		zsh("prompt", `print -P '%n %# %1~' ; repeat 2 print hi`),
		zsh("not-found", `nosuchcommand; print "status=$?"`),
		zsh("subshell-exit", `(exit 7); print $?; ( kill -TERM $$ ) ; print after; exit 3`),
		// dash
		dash("basics", `f() { echo "f: $# $*"; return 3; }; f a "b c"; echo $?; case foo.txt in *.txt) echo text;; esac; echo $((7 * 6)) ${HOME+set}`),
		dash("pipes", `printf 'b\na\nc\n' | sort | head -n 2; echo done | (read x; echo "got $x")`),
		dash("heredoc", "x=4\ncat <<EOF\nx=$x $(echo sub)\nEOF"),
		dash("getopts", `set -- -a -b val rest; while getopts ab: o; do echo "opt $o ${OPTARG:-}"; done; shift $((OPTIND-1)); echo "rest $*"`),
		dash("traps", `trap 'echo caught' USR1; kill -USR1 $$; trap 'echo bye' EXIT; (exit 4); echo "sub=$?"`),
		dash("background", `(echo bg > bg.txt) & wait $!; echo "status=$?"; cat bg.txt; false & wait $!; echo "false=$?"`),
		dash("orphan", `(sleep 0.2; echo late) & echo early`),
		dash("redirect-error", `cat < missing; echo "status=$?"; command -v cat; type cd`),
		dash("umask", `umask 027; : > f; stat -c %a f; umask`),
		dash("set-e", `set -e; false || echo handled; false; echo never`),
		dash("exec", `exec printenv TZ`),
		// A process's comm is the base name execve was given (the link's,
		// the script's), its /proc/<pid>/exe the file itself.
		dash("exe-and-comm", `ln -s /bin/dash mysh; ./mysh -c 'cat /proc/$$/comm; readlink /proc/$$/exe'; ./s.sh`).
			file("s.sh", "#!/bin/dash\ncat /proc/$$/comm; readlink /proc/$$/exe\n").
			qemuWrong("under qemu-user the comm is qemu's and /proc/<pid>/exe a host path", Want{Stdout: "mysh\n/bin/dash\ns.sh\n/bin/dash\n"}),
		// mksh and sash
		sh("mksh", "basics", "mksh", `typeset -i n=5; print $((n*n)) ${#KSH_VERSION}; a=(x y z); print ${a[1]} ${#a[*]}; print -r -- "$(print nested)"`),
		sh("mksh", "static", "mksh-static", `print static $((1<<20)); for i in 1 2; do print $i; done`),
		sh("mksh", "coprocess", "mksh", "print hi |&\nread -p line\nprint \"got $line\""),
		sh("sash", "builtins", "sash", `-echo sash builtin; -pwd`),
	}
}
