#!/usr/bin/env bash
# Installs the Debian packages sissim needs, only those that are missing:
#   libunicorn-dev          the CPU emulator (cgo)
#   gcc-aarch64-linux-gnu   the guest toolchain (make guests)
#   qemu-user-static        the baseline for differential tests and benchmarks
#   tmux                    the terminal for the interactive smoke test
# Uses sudo only when not root. Set SISSIM_DEPS=skip to do nothing.
set -euo pipefail
[ "${SISSIM_DEPS:-}" = skip ] && exit 0

want=(libunicorn-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static tmux)
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
