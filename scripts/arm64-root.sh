#!/usr/bin/env bash
# arm64-root.sh: builds an arm64 Debian root tree, as `dpkg -x` leaves it,
# from Debian's packages and everything they depend on, for running
# dynamically linked programs under sissim (`--root DIR`) and qemu-user
# (`-L DIR`):
#
#   scripts/arm64-root.sh [-o DIR] PKG...
#
# DIR (default .cache/arm64-root, relative to the repository root) receives
# the contents of every PKG and of its Depends and Pre-Depends, recursively
# (no Recommends), resolved by apt for arm64 against the system's Debian
# release. Nothing is installed or configured on the system: apt runs with a
# private configuration and lists (scripts/debian-apt.sh), downloads with
# `apt-get install --download-only` into .cache, and each package is
# unpacked with `dpkg-deb -x`. No maintainer script runs; the steps this
# script does in their place are base-passwd's (etc/passwd and etc/group
# from its master files, so that user names resolve inside the tree) and
# libc-bin's: etc/nsswitch.conf from its default and, when
# qemu-aarch64-static is installed, the trigger: the tree's own ldconfig,
# run under qemu-user, writes etc/ld.so.cache. (qemu-user's -L falls back to the host's file when the
# tree lacks one: without a cache of its own, a program under qemu would
# read the host's.)
#
# Each package set leaves a stamp (DIR/.stamps/<hash>, listing the package
# versions), so a second call with the same set returns at once; a new set
# adds its packages to the same tree. DIR/.packages lists what the tree
# holds. Remove DIR to start again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=debian-apt.sh
. "$root/scripts/debian-apt.sh"

out=$root/.cache/arm64-root
if [ "${1:-}" = -o ]; then
	[ $# -ge 2 ] || die "-o needs a directory"
	out=$2
	shift 2
fi
[ $# -gt 0 ] || die "usage: ${0##*/} [-o DIR] PKG..."
for p in "$@"; do
	case $p in
	*[!a-z0-9.+-]* | [!a-z0-9]*) die "not a Debian package name: '$p'" ;;
	esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=$(dirname "$out")

# The steps below that change the tree; a new recipe makes new stamps.
recipe=2
set_key=$(printf '%s\n' "$@" | LC_ALL=C sort -u)
stamp=$out/.stamps/$(printf 'recipe %s\n%s\n' "$recipe" "$set_key" | sha256sum | cut -c1-16)
[ -f "$stamp" ] && exit 0

# One build at a time per cache (make -j, several test runs).
exec 9>"$cache/.arm64-root.lock"
command -v flock >/dev/null && flock 9
[ -f "$stamp" ] && exit 0

command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
private_apt "$cache/apt-arm64-root" arm64
echo "arm64-root: resolving $(echo "$set_key" | tr '\n' ' ')for arm64" >&2
papt_update
debs=$(mktemp -d "$cache/arm64-root.debs.XXXXXX")
trap 'rm -rf "$debs"' EXIT
# An empty dpkg status: apt resolves the whole dependency closure. Downloads
# only, so no lock on the system's dpkg database is needed.
(papt install --download-only -y --no-install-recommends \
	-o Debug::NoLocking=1 -o Dir::Cache::archives="$debs" "$@") >>"$APT_LOG" 2>&1 ||
	die "apt-get install --download-only $* (arm64) failed; see $APT_LOG:
$(tail -n 5 "$APT_LOG")"

touch "$out/.packages"
n=0
for deb in "$debs"/*.deb; do
	[ -f "$deb" ] || die "apt-get left no .deb in $debs; see $APT_LOG"
	pkg=$(dpkg-deb -f "$deb" Package)
	ver=$(dpkg-deb -f "$deb" Version)
	arch=$(dpkg-deb -f "$deb" Architecture)
	case $arch in arm64 | all) ;; *) die "$(basename "$deb") is for $arch, not arm64" ;; esac
	grep -qxF "$pkg $ver" "$out/.packages" && continue
	dpkg-deb -x "$deb" "$out" || die "dpkg-deb -x $deb failed"
	# A newer version replaces the line of an older one.
	{ grep -v "^$pkg " "$out/.packages" || true; echo "$pkg $ver"; } | LC_ALL=C sort >"$out/.packages.new"
	mv "$out/.packages.new" "$out/.packages"
	n=$((n + 1))
done

# base-passwd's preinst: the initial passwd and group from its masters.
for f in passwd group; do
	master=$out/usr/share/base-passwd/$f.master
	if [ -f "$master" ] && [ ! -e "$out/etc/$f" ]; then
		mkdir -p "$out/etc"
		cp "$master" "$out/etc/$f"
	fi
done
# libc-bin's postinst: the default etc/nsswitch.conf.
if [ -f "$out/usr/share/libc-bin/nsswitch.conf" ] && [ ! -e "$out/etc/nsswitch.conf" ]; then
	cp "$out/usr/share/libc-bin/nsswitch.conf" "$out/etc/nsswitch.conf"
fi
# libc-bin's trigger. ldconfig reads etc/ld.so.conf by its guest path, which
# qemu's -L maps into the tree; it writes the cache at its host path.
if [ -x "$out/sbin/ldconfig" ] && command -v qemu-aarch64-static >/dev/null; then
	mkdir -p "$out/usr/local/lib" # named by etc/ld.so.conf.d/libc.conf
	qemu-aarch64-static -L "$out" "$out/sbin/ldconfig" -X -f /etc/ld.so.conf -C "$out/etc/ld.so.cache" ||
		die "ldconfig (under qemu-aarch64-static) failed"
fi
[ -e "$out/lib/ld-linux-aarch64.so.1" ] || [ -e "$out/usr/lib/ld-linux-aarch64.so.1" ] ||
	echo "arm64-root: note: no ld-linux-aarch64.so.1 in $out (no package depends on libc6)" >&2

mkdir -p "$out/.stamps"
for p in $set_key; do grep "^$p " "$out/.packages" || echo "$p"; done >"$stamp.tmp"
mv "$stamp.tmp" "$stamp"
echo "arm64-root: $n packages unpacked into $out ($(wc -l <"$out/.packages") in the tree)" >&2
