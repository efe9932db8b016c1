#!/usr/bin/env bash
# debian-apt.sh: a private apt for downloading Debian packages into the
# project's .cache without touching the system. Sourced by the fetch scripts
# (fetch-unicorn.sh, fetch-busybox.sh, arm64-root.sh); not run directly.
#
#   source scripts/debian-apt.sh
#   private_apt DIR ARCH [SUITE]    # set up DIR as apt's whole world
#   papt update                     # apt-get with that configuration
#   papt download PKG:ARCH
#
# The private configuration is read instead of /etc/apt/apt.conf and
# apt.conf.d (so no system hook runs) and points every directory apt writes
# to into DIR. Its sources are the system's Debian sources restricted to
# ARCH; with SUITE, the Debian archive's SUITE main instead (for example
# trixie, for a newer library than the system's release has). Release files
# are still signature-checked with the system's Debian keyring; dates are
# not checked, as on a machine whose sources point at a snapshot. No root is
# needed.

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# is_elf_for FILE MACHINE: FILE starts with an ELF header for e_machine
# MACHINE (183 AArch64, 62 x86-64).
is_elf_for() {
	[ -f "$1" ] && [ "$(od -An -tx1 -j0 -N4 "$1" | tr -d ' ')" = 7f454c46 ] &&
		[ "$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" = "$2" ]
}

# system_sources DST ARCH: copy the system's Debian "deb" sources into the
# directory DST, restricted to ARCH. deb822 .sources stanzas get an
# "Architectures:" field; one-line entries get an [arch=] option.
system_sources() {
	local dst_dir=$1 arch=$2 n=0 f dst
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		dst=$dst_dir/$(basename "$f")
		case $f in
		*.sources)
			awk -v arch="$arch" '
				function flush() {
					if (stanza != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && uris ~ /debian/ && enabled != "no")
						printf "%sArchitectures: %s\n\n", stanza, arch
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
			awk -v arch="$arch" '
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
					printf "deb [arch=%s %s] %s\n", arch, opts, line
				}
			' "$f" >"$dst"
			;;
		esac
		if [ -s "$dst" ]; then n=$((n + 1)); else rm -f "$dst"; fi
	done
	[ "$n" -gt 0 ] || die "no Debian 'deb' source found in /etc/apt/sources.list or /etc/apt/sources.list.d/"
}

# private_apt DIR ARCH [SUITE]
private_apt() {
	APT_DIR=$1
	APT_ARCH=$2
	local suite=${3:-}
	for tool in apt-get dpkg-deb; do
		command -v "$tool" >/dev/null || die "$tool not found: this script needs Debian's apt and dpkg"
	done
	mkdir -p "$APT_DIR"/{etc/sources.list.d,etc/apt.conf.d,etc/preferences.d,lists/partial,cache/archives/partial,state}
	: >"$APT_DIR/state/status"
	rm -f "$APT_DIR"/etc/sources.list.d/*
	if [ -n "$suite" ]; then
		local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
		[ -f "$keyring" ] || die "$keyring not found (package debian-archive-keyring)"
		printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: %s\nArchitectures: %s\n' \
			"$suite" "$keyring" "$APT_ARCH" >"$APT_DIR/etc/sources.list.d/$suite.sources"
	else
		system_sources "$APT_DIR/etc/sources.list.d" "$APT_ARCH"
	fi
	cat >"$APT_DIR/apt.conf" <<EOF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$APT_DIR/etc/apt.conf.d";
Dir::Etc::sourcelist "$APT_DIR/etc/sources.list";
Dir::Etc::sourceparts "$APT_DIR/etc/sources.list.d";
Dir::Etc::preferences "$APT_DIR/etc/preferences";
Dir::Etc::preferencesparts "$APT_DIR/etc/preferences.d";
Dir::State "$APT_DIR/state";
Dir::State::lists "$APT_DIR/lists";
Dir::State::status "$APT_DIR/state/status";
Dir::Cache "$APT_DIR/cache";
APT::Architecture "$APT_ARCH";
APT::Architectures { "$APT_ARCH"; };
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
EOF
	APT_LOG=$APT_DIR/apt.log
	: >"$APT_LOG"
}

# papt ARGS...: apt-get with the private configuration. As root, apt
# downloads as the unprivileged _apt user, which may not be able to write
# into this work tree: root does it itself.
papt() {
	local sandbox=()
	[ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
	APT_CONFIG=$APT_DIR/apt.conf apt-get -q "${sandbox[@]}" \
		-oAPT::Architecture="$APT_ARCH" -oAPT::Architectures::="$APT_ARCH" "$@"
}

# papt_update: refresh the private lists, failing with apt's last lines.
papt_update() {
	papt update >>"$APT_LOG" 2>&1 ||
		die "apt-get update (private lists in $APT_DIR) failed; see $APT_LOG:
$(tail -n 5 "$APT_LOG")"
}

# papt_download DIR PKG...: download the newest PKG:ARCH into DIR.
papt_download() {
	local dir=$1
	shift
	local pkgs=()
	for p in "$@"; do pkgs+=("$p:$APT_ARCH"); done
	(cd "$dir" && papt download "${pkgs[@]}") >>"$APT_LOG" 2>&1 ||
		die "apt-get download $* ($APT_ARCH) failed; see $APT_LOG:
$(tail -n 5 "$APT_LOG")"
}
