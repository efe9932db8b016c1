#!/bin/sh
# gen-models.sh regenerates testdata/models: the trusted test public key and
# the signed model packages the machine installs under /models. Everything is
# deterministic (seeded training, Ed25519 keys derived from seed phrases,
# deterministic Ed25519 signatures), so running it again gives identical
# bytes; `scripts/gen-models.sh check` verifies that.
#
# The signing key is a TEST key derived from a public phrase: anyone can sign
# packages the default machine trusts. Use `sissim model keygen` without
# -seed for real keys.
set -eu
cd "$(dirname "$0")/.."
out=testdata/models
mode=${1:-write}
if [ "$mode" = check ]; then
	out=$(mktemp -d)/models
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/sissim" ./cmd/sissim
sis() { "$tmp/sissim" model "$@" >/dev/null; }

rm -rf "$out"
mkdir -p "$out/packages"
sis keygen -seed "sissim test model signing key (public; tests only)" -out "$tmp/trusted"
sis keygen -seed "sissim untrusted key" -out "$tmp/untrusted"
cp "$tmp/trusted.pub" "$out/trusted.pub"

# pkg VERSION DESCRIPTION KEY TRAIN-FLAGS...: train, pack and sign a package.
pkg() {
	v=$1 desc=$2 key=$3
	shift 3
	sis train -out "$tmp/$v.bin" -info "$tmp/$v.json" "$@"
	sis pack -model "$tmp/$v.bin" -info "$tmp/$v.json" -version "$v" -desc "$desc" -out "$out/packages/$v"
	sis sign -key "$tmp/$key.key" "$out/packages/$v"
}

pkg v1.0.0 "reference policy, 6-16-16-4 relu" trusted -seed 1
pkg v1.1.0 "reference policy, 6-24-16-4 relu, retrained" trusted -seed 2 -hidden 24,16
pkg v1.2.0-undertrained "undertrained 6-8-4: fails the accuracy check" trusted -seed 3 -hidden 8 -samples 2000 -epochs 2
pkg v1.3.0-slow "v1.0.0 widened to 640 neurons per hidden layer: fails the latency check" trusted -seed 1 -widen 640
pkg v1.4.0-badsig "signed with an untrusted key" untrusted -seed 4
pkg v1.5.0-tampered "model.bin changed after signing" trusted -seed 5
# Tamper: overwrite one byte of the first weight layer after signing.
printf '\177' | dd of="$out/packages/v1.5.0-tampered/model.bin" bs=1 seek=100 conv=notrunc 2>/dev/null

if [ "$mode" = check ]; then
	if diff -r "$out" testdata/models; then
		echo "testdata/models is up to date"
	else
		echo "testdata/models differs from a fresh generation: run scripts/gen-models.sh" >&2
		exit 1
	fi
	rm -rf "$(dirname "$out")"
fi
