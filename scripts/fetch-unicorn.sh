#!/usr/bin/env bash
# Fetches libunicorn 2.1.x (the CPU emulator) into .cache/unicorn/ without
# changing the system:
#
#   .cache/unicorn/include/unicorn/*.h   the headers
#   .cache/unicorn/lib/libunicorn.a      the static library sissim links
#   .cache/unicorn/VERSION               the Debian package version
#
# Debian 12 ships libunicorn 2.0.1, whose guest stores are ~40x slower and
# which lacks the virtual-TLB API sissim's memory manager is built on.
# Debian 13 (trixie) ships 2.1.x with the static archive, which links and
# runs on Debian 12. Debian keeps only the newest build of a package in a
# suite, so no file name or hash is pinned: whatever trixie serves is
# accepted when its unicorn.h says 2.1 or later (UC_API_MAJOR/UC_API_MINOR).
#
# SISSIM_UNICORN_SUITE picks another suite (default trixie). Quick when
# already present.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=debian-apt.sh
. "$root/scripts/debian-apt.sh"
cache=$root/.cache
out=$cache/unicorn
suite=${SISSIM_UNICORN_SUITE:-trixie}
pkg=libunicorn-dev

# api_version HEADER: "MAJOR.MINOR" from unicorn.h.
api_version() {
	awk '/#define UC_API_MAJOR/ { ma = $3 } /#define UC_API_MINOR/ { mi = $3 } END { print ma "." mi }' "$1"
}

# usable DIR: DIR holds a libunicorn >= 2.1.
usable() {
	[ -f "$1/lib/libunicorn.a" ] && [ -f "$1/include/unicorn/unicorn.h" ] || return 1
	local v
	v=$(api_version "$1/include/unicorn/unicorn.h")
	[ "${v%%.*}" -gt 2 ] || { [ "${v%%.*}" -eq 2 ] && [ "${v#*.}" -ge 1 ]; }
}

usable "$out" && exit 0
mkdir -p "$cache"
exec 9>"$cache/.fetch-unicorn.lock"
command -v flock >/dev/null && flock 9
usable "$out" && exit 0

arch=$(dpkg --print-architecture)
private_apt "$cache/apt-$suite-$arch" "$arch" "$suite"
echo "fetch-unicorn: downloading $pkg from Debian $suite ($arch) into $out" >&2
papt_update
tmp=$(mktemp -d "$cache/unicorn.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
papt_download "$tmp" "$pkg"
deb=$(ls "$tmp"/${pkg}_*_"$arch".deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "apt-get download left no ${pkg}_*_$arch.deb in $tmp"
dpkg-deb -x "$deb" "$tmp/x" || die "dpkg-deb -x $deb failed"

mkdir -p "$tmp/out/lib"
cp -r "$tmp/x/usr/include" "$tmp/out/include"
lib=$(find "$tmp/x/usr/lib" -name libunicorn.a | head -n 1)
[ -n "$lib" ] || die "$(basename "$deb") holds no libunicorn.a"
cp "$lib" "$tmp/out/lib/libunicorn.a"
dpkg-deb -f "$deb" Version >"$tmp/out/VERSION"
usable "$tmp/out" ||
	die "$(basename "$deb") is libunicorn $(api_version "$tmp/out/include/unicorn/unicorn.h"); sissim needs 2.1 or later"

rm -rf "$out"
mv "$tmp/out" "$out"
echo "fetch-unicorn: libunicorn $(cat "$out/VERSION") (API $(api_version "$out/include/unicorn/unicorn.h")) -> $out" >&2
