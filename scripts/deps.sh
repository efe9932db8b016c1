#!/usr/bin/env bash
# Installs what sissim needs, only what is missing. Debian packages (apt):
#   gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu, libc6-dev-arm64-cross
#                           the guest toolchain and the static glibc the C
#                           guests link (make guests, make guests-check)
#   qemu-user-static        the baseline for differential tests and benchmarks
#   tmux                    the terminal for the interactive smoke test
#   gdb-multiarch, lldb     the debuggers the gdb-stub tests drive
#   debian-archive-keyring  verifies the private apt downloads below
# Into .cache/ (git-ignored), without changing the system:
#   libunicorn 2.1.x        Debian trixie's libunicorn-dev (scripts/fetch-unicorn.sh)
# Uses sudo only when not root. Set SISSIM_DEPS=skip to do nothing.
set -euo pipefail
[ "${SISSIM_DEPS:-}" = skip ] && exit 0
root=$(cd "$(dirname "$0")/.." && pwd)

want=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-user-static tmux gdb-multiarch lldb debian-archive-keyring)
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -ne 0 ] && sudo=(sudo)
	echo "deps: installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
"$root/scripts/fetch-unicorn.sh"
