#!/usr/bin/env bash
# Fetches Debian's arm64 busybox-static, a real third-party guest for the
# differential tests, into .cache/busybox/ (git-ignored):
#
#   .cache/busybox/bin/busybox   the static AArch64 busybox binary
#   .cache/busybox/VERSION       the Debian package version
#
# The system's apt configuration is never touched: apt runs with a private
# configuration, sources list, lists, cache and state directory under
# .cache/apt-arm64/, built from the system's Debian sources with the
# architecture set to arm64. No root is needed. Quick when already present.
#
# Usage: scripts/fetch-busybox.sh [cache-dir]   (default: .cache, relative to
# the repository root)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$root/.cache}
out=$cache/busybox
bin=$out/bin/busybox
pkg=busybox-static

die() {
	echo "fetch-busybox: $*" >&2
	exit 1
}

# is_arm64_elf FILE: FILE starts with an ELF header for EM_AARCH64 (183).
is_arm64_elf() {
	[ -f "$1" ] && [ "$(od -An -tx1 -j0 -N4 "$1" | tr -d ' ')" = 7f454c46 ] &&
		[ "$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" = 183 ]
}

is_arm64_elf "$bin" && exit 0

for tool in apt-get dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool not found: this script needs Debian's apt and dpkg"
done
mkdir -p "$cache"
# One fetch at a time (make -j, several test runs).
exec 9>"$cache/.fetch-busybox.lock"
command -v flock >/dev/null && flock 9
is_arm64_elf "$bin" && exit 0

apt_dir=$cache/apt-arm64
mkdir -p "$apt_dir"/{etc/sources.list.d,etc/apt.conf.d,etc/preferences.d,lists/partial,cache/archives/partial,state}
: >"$apt_dir/state/status"
rm -f "$apt_dir"/etc/sources.list.d/*

# arm64_sources: copy the system's Debian sources into the private sources
# directory, restricted to arm64. deb822 .sources stanzas get an
# "Architectures: arm64" field; one-line entries get an [arch=arm64] option.
# Only "deb" entries whose URI names a Debian archive are kept.
n=0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	dst=$apt_dir/etc/sources.list.d/$(basename "$f")
	case $f in
	*.sources)
		awk '
			function flush() {
				if (stanza != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && uris ~ /debian/ && enabled != "no")
					printf "%sArchitectures: arm64\n\n", stanza
				stanza = ""; types = ""; uris = ""; enabled = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{
				key = tolower($1)
				if (key == "architectures:") next
				if (key == "types:") { types = $0; sub(/^[^:]*:/, "", types); $0 = "Types: deb" }
				if (key == "uris:") uris = $0
				if (key == "enabled:") enabled = tolower($2)
				stanza = stanza $0 "\n"
			}
			END { flush() }
		' "$f" >"$dst"
		;;
	*)
		awk '
			$1 != "deb" || $0 !~ /debian/ { next }
			{
				line = $0
				sub(/^[ \t]*deb[ \t]+/, "", line)
				opts = ""
				if (line ~ /^\[/) {
					opts = substr(line, 2, index(line, "]") - 2)
					line = substr(line, index(line, "]") + 1)
					sub(/^[ \t]+/, "", line)
					gsub(/(^|[ \t])arch(-add|-remove)?=[^ \t]*/, "", opts)
				}
				printf "deb [arch=arm64 %s] %s\n", opts, line
			}
		' "$f" >"$dst"
		;;
	esac
	if [ -s "$dst" ]; then n=$((n + 1)); else rm -f "$dst"; fi
done
[ "$n" -gt 0 ] || die "no Debian 'deb' source found in /etc/apt/sources.list or /etc/apt/sources.list.d/"

# The private configuration. It is read instead of /etc/apt/apt.conf and
# apt.conf.d (so no system hook runs), and points every directory apt writes
# to into $apt_dir. Release files are still signature-checked with the
# keyrings the system sources name; dates are not checked, as on a machine
# whose sources point at a snapshot of the archive.
cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$apt_dir/etc/apt.conf.d";
Dir::Etc::sourcelist "$apt_dir/etc/sources.list";
Dir::Etc::sourceparts "$apt_dir/etc/sources.list.d";
Dir::Etc::preferences "$apt_dir/etc/preferences";
Dir::Etc::preferencesparts "$apt_dir/etc/preferences.d";
Dir::State "$apt_dir/state";
Dir::State::lists "$apt_dir/lists";
Dir::State::status "$apt_dir/state/status";
Dir::Cache "$apt_dir/cache";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
EOF
# As root, apt downloads as the unprivileged _apt user, which may not be
# able to write into this work tree: let root do it without the warning.
sandbox=()
[ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)

apt() {
	APT_CONFIG=$apt_dir/apt.conf apt-get -q "${sandbox[@]}" \
		-oAPT::Architecture=arm64 -oAPT::Architectures::=arm64 "$@"
}

log=$apt_dir/apt.log
echo "fetch-busybox: downloading Debian's arm64 $pkg into $out" >&2
apt update >"$log" 2>&1 ||
	die "apt-get update (private lists in $apt_dir) failed; see $log:
$(tail -n 5 "$log")"

tmp=$(mktemp -d "$cache/busybox.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt download "$pkg:arm64") >>"$log" 2>&1 ||
	die "apt-get download $pkg:arm64 failed; see $log:
$(tail -n 5 "$log")"
deb=$(ls "$tmp"/"${pkg}"_*_arm64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "apt-get download left no ${pkg}_*_arm64.deb in $tmp"

dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"
# bookworm ships /bin/busybox; later releases /usr/bin/busybox.
found=
for p in bin/busybox usr/bin/busybox; do
	if is_arm64_elf "$tmp/root/$p"; then found=$p; break; fi
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
