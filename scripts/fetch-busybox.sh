#!/usr/bin/env bash
# Fetches Debian's arm64 busybox-static, a real third-party guest for the
# differential tests, into .cache/busybox/ (git-ignored):
#
#   .cache/busybox/bin/busybox   the static AArch64 busybox binary
#   .cache/busybox/VERSION       the Debian package version
#
# The system's apt configuration is never touched (scripts/debian-apt.sh).
# Quick when already present.
#
# Usage: scripts/fetch-busybox.sh [cache-dir]   (default: .cache, relative to
# the repository root)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=debian-apt.sh
. "$root/scripts/debian-apt.sh"
cache=${1:-$root/.cache}
out=$cache/busybox
bin=$out/bin/busybox
pkg=busybox-static

is_elf_for "$bin" 183 && exit 0
mkdir -p "$cache"
# One fetch at a time (make -j, several test runs).
exec 9>"$cache/.fetch-busybox.lock"
command -v flock >/dev/null && flock 9
is_elf_for "$bin" 183 && exit 0

private_apt "$cache/apt-arm64" arm64
echo "fetch-busybox: downloading Debian's arm64 $pkg into $out" >&2
papt_update
tmp=$(mktemp -d "$cache/busybox.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
papt_download "$tmp" "$pkg"
deb=$(ls "$tmp"/"${pkg}"_*_arm64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "apt-get download left no ${pkg}_*_arm64.deb in $tmp"

dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"
# bookworm ships /bin/busybox; later releases /usr/bin/busybox.
found=
for p in bin/busybox usr/bin/busybox; do
	if is_elf_for "$tmp/root/$p" 183; then found=$p; break; fi
done
[ -n "$found" ] || die "$(basename "$deb") holds no AArch64 bin/busybox or usr/bin/busybox"
if [ "$found" != bin/busybox ]; then
	mkdir -p "$tmp/root/bin"
	ln -sf "../$found" "$tmp/root/bin/busybox"
fi
dpkg-deb -f "$deb" Version >"$tmp/root/VERSION"

rm -rf "$out"
mv "$tmp/root" "$out"
echo "fetch-busybox: $pkg $(cat "$out/VERSION") -> $bin" >&2
