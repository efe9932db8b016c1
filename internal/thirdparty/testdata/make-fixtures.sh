#!/usr/bin/env bash
# make-fixtures.sh: regenerates the committed input files of the third-party
# suite in testdata/fixtures with the host's real tools (gzip, bzip2, xz,
# lzma, zip, ar, tar, dpkg-deb, gpg, mke2fs, debugfs; busybox's cpio under
# qemu-user for the cpio archive). Their outputs are fixed (fixed times,
# UUIDs and seeds) except gpg's signatures and keys, which differ on every
# run: commit what one run made.
#
# Usage: internal/thirdparty/testdata/make-fixtures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
export TZ=UTC0 LC_ALL=C SOURCE_DATE_EPOCH=1577836800
stamp=202001010000.00

# The text every archive holds.
printf 'banana\napple\ncherry\napple\n\tindented line\nlast line without newline' >"$out/data.txt"
touch -t $stamp "$out/data.txt"
gzip -9nc "$out/data.txt" >"$out/data.txt.gz"
bzip2 -9c "$out/data.txt" >"$out/data.txt.bz2"
xz -6c "$out/data.txt" >"$out/data.txt.xz"
lzma -6c "$out/data.txt" >"$out/data.txt.lzma"
(cd "$out" && rm -f data.zip && zip -X -q data.zip data.txt)

# Archives of a small tree: ar, tar, cpio (newc), and a Debian package.
mkdir -p "$tmp/arc/dir/sub"
cp "$out/data.txt" "$tmp/arc/data.txt"
printf 'nested\n' >"$tmp/arc/dir/sub/nested.txt"
ln -s ../data.txt "$tmp/arc/dir/link"
find "$tmp/arc" -exec touch -h -t $stamp {} +
(cd "$tmp/arc" && rm -f "$out/data.a" && ar rcD "$out/data.a" data.txt dir/sub/nested.txt)
tar -C "$tmp/arc" --sort=name --mtime=@1577836800 --owner=0 --group=0 --numeric-owner \
	--format=ustar -cf "$out/data.tar" data.txt dir
root=$(cd "$here/../../.." && pwd)
(cd "$tmp/arc" && find data.txt dir | LC_ALL=C sort |
	qemu-aarch64-static "$root/.cache/busybox/bin/busybox" cpio -o -H newc >"$out/data.cpio" 2>/dev/null)
mkdir -p "$tmp/deb/DEBIAN" "$tmp/deb/usr/share/sis"
printf 'hello from a package\n' >"$tmp/deb/usr/share/sis/hello.txt"
cat >"$tmp/deb/DEBIAN/control" <<CTL
Package: sis-hello
Version: 1.0-1
Architecture: all
Maintainer: SIS Test <test@sis.invalid>
Description: a tiny package for the third-party suite
 It holds one text file.
CTL
find "$tmp/deb" -exec touch -h -t $stamp {} +
dpkg-deb --root-owner-group -Zgzip --build "$tmp/deb" "$out/sis-hello.deb" >/dev/null

# ext2 images for e2fsck: one clean, one with wrong counts and a bad link
# count. Stored gzipped (the test unpacks them).
mkdir -p "$tmp/tree/dir/sub"
printf 'hello ext2\n' >"$tmp/tree/hello.txt"
seq 1 2000 >"$tmp/tree/dir/numbers.txt"
ln -s ../hello.txt "$tmp/tree/dir/link"
find "$tmp/tree" -exec touch -h -t $stamp {} +
export E2FSPROGS_FAKE_TIME=1577836800
uuid=6f1a9c3e-2b7d-4e55-9a0c-5e2d8b7f1a01
mke2fs -q -F -t ext2 -b 1024 -N 64 -U $uuid -E hash_seed=$uuid,root_owner=0:0 -L sistest \
	-d "$tmp/tree" "$tmp/clean.img" 1024 >/dev/null
cp "$tmp/clean.img" "$tmp/broken.img"
debugfs -w -R 'sif /hello.txt links_count 3' "$tmp/broken.img" >/dev/null 2>&1
debugfs -w -R 'ssv free_blocks_count 7' "$tmp/broken.img" >/dev/null 2>&1
debugfs -w -R 'ssv free_inodes_count 3' "$tmp/broken.img" >/dev/null 2>&1
gzip -9nc "$tmp/clean.img" >"$out/ext2-clean.img.gz"
gzip -9nc "$tmp/broken.img" >"$out/ext2-broken.img.gz"

# gpg: a signing key whose public half is in key.gpg, a message signed
# detached, clear-signed, and signed by a second key that key.gpg lacks.
export GNUPGHOME=$tmp/gnupg
mkdir -m 700 "$GNUPGHOME"
g() { gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' --faked-system-time 20200101T000000! "$@"; }
g --quick-gen-key 'SIS Test Signer <signer@sis.invalid>' ed25519 sign never
g --quick-gen-key 'SIS Other Signer <other@sis.invalid>' ed25519 sign never
rm -f "$out"/key.gpg "$out"/msg.txt*
printf 'The SIS kernel runs real programs.\n' >"$out/msg.txt"
g --export signer@sis.invalid >"$out/key.gpg"
g -u signer@sis.invalid --detach-sign -o "$out/msg.txt.sig" "$out/msg.txt"
g -u signer@sis.invalid --clearsign -o "$out/msg.txt.asc" "$out/msg.txt"
g -u other@sis.invalid --detach-sign -o "$out/msg.txt.other.sig" "$out/msg.txt"
ls -l "$out"
