#!/bin/sh
# tmux-smoke.sh: drive sissim's kernel shell as a person would, in a real
# terminal. Starts `make run` (or $SISSIM_RUN) in a detached tmux session on
# a private server, waits for the boot markers and the sis> prompt, types
# commands with send-keys and checks the screen with capture-pane.
#
#   scripts/tmux-smoke.sh                       # make run
#   SISSIM_RUN=bin/sissim scripts/tmux-smoke.sh # an already built binary
#
# Exits 0 when every check passes; otherwise prints the screen and exits 1.
set -eu
cd "$(dirname "$0")/.."

RUN=${SISSIM_RUN:-make run}
TIMEOUT=${SISSIM_SMOKE_TIMEOUT:-180} # seconds for the boot (make run may build)
SOCK=sissim-smoke-$$
CONF=$(mktemp)
STATUS=$(mktemp)
trap 'tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -f "$CONF" "$STATUS"' EXIT
printf 'set -g history-limit 20000\nset -g remain-on-exit on\n' >"$CONF"

tmux -L "$SOCK" -f "$CONF" new-session -d -s smoke -x 160 -y 50 "$RUN; echo \$? >'$STATUS'"

screen() { tmux -L "$SOCK" capture-pane -p -J -S -20000 -t smoke; }
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
# prompts: how many lines start with the prompt.
prompts() { screen | grep -c '^sis> ' || true; }
# type_line TEXT: type a line and wait for the next prompt.
type_line() {
	before=$(prompts)
	tmux -L "$SOCK" send-keys -t smoke -l -- "$1"
	tmux -L "$SOCK" send-keys -t smoke Enter
	n=100
	while [ "$(prompts)" -le "$before" ]; do
		sleep 0.1
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "no prompt after '$1'"
	done
}

wait_for 'LAUNCHING SHELL' "$TIMEOUT"
wait_for 'sis> '
for m in 'KERNEL(U)' 'STACK OK' 'VECTORS OK' 'MMU ON' 'UART: READY' 'METRIC cntfrq_hz=62500000' \
	'HEAP: READY' 'VFS: MOUNT TMPFS AT /' 'VFS: READY' 'GIC: INIT' '[AgentSys] Initialized (sync mode)' '=== SIS Kernel Shell ==='; do
	screen | grep -qxF -- "$m" || screen | grep -qF -- "$m" || fail "boot marker '$m' missing"
done

type_line 'help'
wait_for 'Available commands:'
wait_for '  run <path> [args...]'

type_line 'run /bin/hello'
wait_for 'Hello, world!'
wait_for '] exit status 0'

type_line 'ps'
wait_for '  PID  PPID'

type_line 'metrics'
wait_for '# TYPE syscalls_total counter'
wait_for 'syscalls_total{name="exit_group"} 1'

# Line editing: backspace, Ctrl-C, unknown command.
tmux -L "$SOCK" send-keys -t smoke -l 'echo abx'
tmux -L "$SOCK" send-keys -t smoke BSpace
tmux -L "$SOCK" send-keys -t smoke -l 'c'
tmux -L "$SOCK" send-keys -t smoke Enter
wait_for 'abc'
tmux -L "$SOCK" send-keys -t smoke -l 'echo dropped'
tmux -L "$SOCK" send-keys -t smoke C-c
wait_for 'echo dropped^C'
type_line 'bogus'
wait_for 'Unknown command: bogus'
wait_for "Type 'help' for available commands"

# History: up arrow recalls the last command.
tmux -L "$SOCK" send-keys -t smoke Up Enter
wait_for 'Unknown command: bogus' # shown again by the recalled line
[ "$(screen | grep -c 'Unknown command: bogus')" -ge 2 ] || fail "history did not recall 'bogus'"

# Ctrl-C interrupts a running guest, not the shell.
tmux -L "$SOCK" send-keys -t smoke -l 'run /bin/getpid_loop 4000000000'
tmux -L "$SOCK" send-keys -t smoke Enter
sleep 1
tmux -L "$SOCK" send-keys -t smoke C-c
wait_for 'killed by SIGINT'
type_line 'echo alive'
wait_for 'alive'

tmux -L "$SOCK" send-keys -t smoke -l 'exit'
tmux -L "$SOCK" send-keys -t smoke Enter
wait_for 'Goodbye!'
# The shell in the pane writes sissim's exit status to $STATUS (tmux's
# own #{pane_dead_status} is unreliable: its server sometimes leaves the
# exited child unreaped).
n=100
while [ ! -s "$STATUS" ]; do
	sleep 0.1
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "sissim did not exit after 'exit'"
done
status=$(cat "$STATUS")
[ "$status" = 0 ] || fail "exit status $status"
echo "tmux-smoke: ok"
