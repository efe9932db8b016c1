#!/bin/sh
# tmux-smoke.sh: drive sissim's kernel shell as a person would, in a real
# terminal. Starts `make run` (or $SISSIM_RUN) in a detached tmux session on
# a private server with a private $HOME (for the history file), waits for
# the boot markers and the sis> prompt, types with send-keys and checks the
# screen with capture-pane. A second session with the same $HOME checks
# that the history persists.
#
#   scripts/tmux-smoke.sh                       # make run
#   SISSIM_RUN=bin/sissim scripts/tmux-smoke.sh # an already built binary
#
# Exits 0 when every check passes; otherwise prints the screen and exits 1.
set -eu
cd "$(dirname "$0")/.."

RUN=${SISSIM_RUN:-make run}
TIMEOUT=${SISSIM_SMOKE_TIMEOUT:-180} # seconds for the boot (make run may build)
# The binary make run builds, for a session with flags.
BIN=${SISSIM_RUN:-bin/sissim}
SOCK1=sissim-smoke-$$
SOCK=$SOCK1
CONF=$(mktemp)
STATUS=$(mktemp)
HOMEDIR=$(mktemp -d)
trap 'for s in "$SOCK1" "$SOCK1-2" "$SOCK1-3" "$SOCK1-4"; do tmux -L "$s" kill-server 2>/dev/null || true; done; rm -rf "$CONF" "$STATUS" "$HOMEDIR"' EXIT
printf 'set -g history-limit 20000\nset -g remain-on-exit on\n' >"$CONF"
# The private HOME must not cost make run its Go caches.
GOENV=""
if command -v go >/dev/null 2>&1; then
	GOENV="GOCACHE='$(go env GOCACHE)' GOMODCACHE='$(go env GOMODCACHE)' GOPATH='$(go env GOPATH)'"
fi

# start [CMD]: a session running sissim ($RUN) in a UTF-8 terminal;
# "[host]" marks the line after sissim exits, and its status goes to
# $STATUS.
start() {
	: >"$STATUS"
	tmux -u -L "$SOCK" -f "$CONF" new-session -d -s smoke -x 160 -y 50 \
		"env LC_ALL=C.UTF-8 HOME='$HOMEDIR' $GOENV ${1:-$RUN}; echo \$? >'$STATUS'; echo '[host]'"
}
keys() { tmux -u -L "$SOCK" send-keys -t smoke "$@"; }
text() { tmux -u -L "$SOCK" send-keys -t smoke -l -- "$1"; }
screen() { tmux -u -L "$SOCK" capture-pane -p -J -S -20000 -t smoke; }
visible() { tmux -u -L "$SOCK" capture-pane -p -J -t smoke; }
fail() {
	echo "tmux-smoke: FAIL: $*" >&2
	echo "----- screen -----" >&2
	screen >&2
	exit 1
}
# wait_for TEXT [SECONDS]: wait until the screen contains TEXT.
wait_for() {
	n=$((${2:-10} * 10))
	while [ "$n" -gt 0 ]; do
		if screen | grep -qF -- "$1"; then return 0; fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "no '$1' on the screen"
}
# wait_line LINE: wait until a whole line of the screen is LINE.
wait_line() {
	n=100
	while [ "$n" -gt 0 ]; do
		if screen | grep -qxF -- "$1"; then return 0; fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "no line '$1' on the screen"
}
# count LINE: how many whole lines of the screen are LINE.
count() { screen | grep -cxF -- "$1" || true; }
# prompts: how many lines start with the prompt.
prompts() { screen | grep -c '^sis> ' || true; }
# enter: press Enter and wait for the next prompt.
enter() {
	before=$(prompts)
	keys Enter
	n=100
	while [ "$(prompts)" -le "$before" ]; do
		sleep 0.1
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "no prompt after Enter"
	done
}
# type_line TEXT: type a line and wait for the next prompt.
type_line() {
	text "$1"
	enter
}
# wait_exit STATUS: wait for sissim to end with STATUS.
wait_exit() {
	n=100
	while [ ! -s "$STATUS" ]; do
		sleep 0.1
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "sissim did not exit"
	done
	status=$(cat "$STATUS")
	[ "$status" = "$1" ] || fail "exit status $status, want $1"
}

start
wait_for 'LAUNCHING SHELL' "$TIMEOUT"
wait_for 'sis> '
for m in 'KERNEL(U)' 'STACK OK' 'VECTORS OK' 'MMU ON' 'UART: READY' 'METRIC cntfrq_hz=62500000' \
	'VFS: MOUNT TMPFS AT /' 'VFS: READY' 'GIC: INIT' '[AgentSys] Initialized (sync mode)' '=== SIS Kernel Shell ==='; do
	screen | grep -qxF -- "$m" || fail "boot marker '$m' missing"
done

type_line 'help'
wait_for 'Available commands:'
wait_for '  run [--gdb <port>] <prog> [<arg>...]'

type_line 'run /bin/hello'
wait_for 'Hello, world!'
wait_for '] exit status 0'

type_line 'ps'
wait_for '  PID  PPID STATE'

type_line 'metrics'
wait_for '# TYPE syscalls_total counter'
wait_for 'syscalls_total{name="exit_group"} 1'

# Backspace, Ctrl-C at the prompt (^C, then a new prompt), unknown command.
text 'echo abx'
keys BSpace
text 'c'
enter
wait_line 'abc'
text 'echo dropped'
keys C-c
wait_line 'sis> echo dropped^C'
[ "$(count dropped)" = 0 ] || fail "the dropped line ran"
type_line 'bogus'
wait_for 'error: Unknown command: bogus'
wait_for "Type 'help' for available commands"

# History: Up recalls the last command.
keys Up
enter
[ "$(screen | grep -c 'Unknown command: bogus')" -ge 2 ] || fail "Up did not recall 'bogus'"

# Cursor editing: Left Left and X in the middle of the line.
text 'echo abcd'
keys Left Left
text 'X'
enter
wait_line 'abXcd'
# Home, End, Delete.
text 'cho home'
keys Home
text 'e'
keys End
text '-end'
enter
wait_line 'home-end'
text 'echo 12345'
keys Left Left Left DC
enter
wait_line '1245'
# Ctrl-A and Ctrl-E; Ctrl-U cuts the line; Ctrl-W the last word; Ctrl-K to the end.
text 'cho a-e'
keys C-a
text 'e'
keys C-e
text 'nd'
enter
wait_line 'a-end'
text 'garbage'
keys C-u
type_line 'echo after-u'
wait_line 'after-u'
text 'echo one two'
keys C-w
type_line 'three'
wait_line 'one three'
text 'echo kept cut'
keys Left Left Left Left C-k
enter
wait_line 'kept'

# Tab completion: a command, a subcommand, a guest path.
text 'mode'
keys Tab
text 'sta'
keys Tab
wait_for 'sis> modelctl status'
enter
wait_for 'Model Status:'
text 'ls /bi'
keys Tab
text 'hel'
keys Tab
wait_for 'sis> ls /bin/hello'
enter
wait_line 'f hello'

# Ctrl-R: search the history for an earlier line and run it again.
type_line 'echo searchable-xyz'
type_line 'echo other'
keys C-r
text 'searchable'
wait_for 'searchable'
enter
[ "$(count searchable-xyz)" = 2 ] || fail "Ctrl-R did not run 'echo searchable-xyz' again"

# UTF-8: input echoes as typed; a backspace removes a whole character.
type_line 'echo héllo wörld ✓'
wait_line 'héllo wörld ✓'
text 'echo é'
keys BSpace
text 'e!'
enter
wait_line 'e!'

# Ctrl-L clears the screen: the prompt is on the top row.
keys C-l
n=50
until visible | head -n 1 | grep -q '^sis> '; do
	sleep 0.1
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "Ctrl-L did not clear the screen"
done

# Ctrl-C interrupts a running guest, not the shell.
text 'run /bin/getpid_loop 4000000000'
keys Enter
sleep 1
keys C-c
wait_for 'killed by SIGINT'
# Ctrl-Z stops the guest and returns to the prompt; jobs lists it; fg
# continues it in the foreground, where Ctrl-C ends it.
text 'run /bin/getpid_loop 4000000000'
keys Enter
sleep 1
keys C-z
wait_for 'stopped (SIGTSTP); fg continues it'
type_line 'jobs'
wait_for 'stopped (SIGTSTP) /bin/getpid_loop 4000000000'
text 'fg'
keys Enter
wait_line '/bin/getpid_loop 4000000000'
sleep 0.5
keys C-c
n=50
until [ "$(screen | grep -c 'killed by SIGINT')" -ge 2 ]; do
	sleep 0.1
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "Ctrl-C after fg did not end the guest"
done
type_line 'echo from-session-one'
wait_line 'from-session-one'


text 'exit'
keys Enter
wait_for 'Goodbye!'
wait_exit 0
[ -s "$HOMEDIR/.sissim_history" ] || fail "no history in \$HOME/.sissim_history"

# A second session with the same HOME: Up recalls the first session's
# lines; Ctrl-D leaves with a newline (the host's next line starts clean).
# It runs on a server of its own: a new session on the first one's socket
# could meet that server while it exits.
SOCK=$SOCK1-2
start
wait_for 'LAUNCHING SHELL' "$TIMEOUT"
wait_for 'sis> '
keys Up Up
wait_for 'sis> echo from-session-one'
enter
wait_line 'from-session-one'
keys C-d
wait_exit 0
wait_line '[host]'

# --clock deterministic: machine time moves only while guests run, so the
# output does not depend on how fast a person types.
SOCK=$SOCK1-3
start "$BIN --clock deterministic"
wait_for 'sis> ' "$TIMEOUT"
type_line 'run /bin/spin'
type_line 'uptime'
sleep 1 # a person pausing
type_line 'uptime'
up=$(screen | grep '^up ' | sort -u)
[ "$(echo "$up" | wc -l)" = 1 ] || fail "uptime moved at the prompt: $up"
type_line 'version'
wait_for 'deterministic clock'

# sissim run under a job-control shell: the terminal's keys act on the
# guest as they would on a native program.
BB=.cache/busybox/bin/busybox
if [ -x "$BB" ]; then
	SOCK=$SOCK1-4
	start "sh -i"
	sleep 0.5
	# Ctrl-\ sends SIGQUIT to the guest (no Go stack dump from sissim).
	text "$BIN run testdata/guests/getpid_loop 4000000000; echo status=\$?"
	keys Enter
	sleep 1
	keys 'C-\'
	wait_for 'status=131'
	screen | grep -q 'goroutine ' && fail "Ctrl-\\ dumped sissim's goroutines"
	# A third Ctrl-C within two seconds kills a guest that ignores SIGINT.
	text "$BIN run $BB sh -c 'trap \"\" INT; echo rea\"\"dy2; while :; do :; done'; echo status=\$?"
	keys Enter
	wait_for 'ready2'
	# A pause between the presses keeps them separate signals (Go merges
	# the same signal arriving twice before its handler goroutine runs);
	# three stay well inside two seconds even on a busy host.
	keys C-c
	sleep 0.25
	keys C-c
	sleep 0.25
	keys C-c
	wait_for 'third Ctrl-C within two seconds'
	wait_for 'status=137'
	# Ctrl-Z stops the guest and sissim with it; fg continues both.
	text "$BIN run $BB sh -c 'echo rea\"\"dy3; read x; echo got-\$x'"
	keys Enter
	wait_for 'ready3'
	keys C-z
	wait_for 'stopped by SIGTSTP'
	wait_for 'Stopped'
	text 'fg'
	keys Enter
	sleep 0.5
	text 'typed'
	keys Enter
	wait_for 'got-typed'
	# A guest waiting for the terminal does not hold up the others.
	text "$BIN run $BB sh -c '(for i in 1 2 3; do sleep 0.01; echo bg-\$i; done) & read x; echo read-\$x; wait'"
	keys Enter
	wait_for 'bg-3'
	text 'line'
	keys Enter
	wait_for 'read-line'
	text 'exit'
	keys Enter
	wait_exit 0
else
	echo "tmux-smoke: $BB missing (make busybox): sissim run's terminal keys not checked"
fi
echo "tmux-smoke: ok"
