#!/usr/bin/env bash
# Build bpftool and a static libbpf from the kernel source package (extracted
# once, lib.sh's ksrc_extract) into a cache
# directory keyed by the source version (bpf_tools_dir in lib.sh); the selftests of
# 'B' (bpf) handlers compile their BPF programs and link their loader with them.
# A second run with the stamp file present does nothing.
#   scripts/build-bpf-tools.sh             build if needed, print the directory
#   scripts/build-bpf-tools.sh --print-dir  only print where it is (or would be)
# Gives DIR/bpftool/bpftool, DIR/libbpf/root/usr/lib64/libbpf.a and the headers
# in DIR/libbpf/root/usr/include. Needs libelf-dev and zlib1g-dev (scripts/setup.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

out=$(bpf_tools_dir)
if [ "${1:-}" = --print-dir ]; then
	echo "$out"
	exit 0
fi
stamp=$out/.binfmt_misc_rs-built
if [ -f "$stamp" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

src=$(ksrc_extract)

rm -rf "$out"
mkdir -p "$out/bpftool" "$out/libbpf"
jobs=$(($(nproc) + 1))
log "building bpftool into $out/bpftool"
make -s -C "$src/tools/bpf/bpftool" OUTPUT="$out/bpftool/" -j"$jobs"
log "building libbpf (static) into $out/libbpf"
make -s -C "$src/tools/lib/bpf" OUTPUT="$out/libbpf/" BUILD_STATIC_ONLY=1 \
	DESTDIR="$out/libbpf/root" prefix=/usr -j"$jobs" install
[ -x "$out/bpftool/bpftool" ] || die "no $out/bpftool/bpftool after the build"
lib=$(find "$out/libbpf/root" -name libbpf.a | head -n 1)
[ -n "$lib" ] || die "no libbpf.a under $out/libbpf/root after the build"
# The selftests' Makefile looks in lib64 (x86-64's libdir); make it hold there.
if [ "$lib" != "$out/libbpf/root/usr/lib64/libbpf.a" ]; then
	mkdir -p "$out/libbpf/root/usr/lib64"
	ln -sf "$lib" "$out/libbpf/root/usr/lib64/libbpf.a"
fi
"$out/bpftool/bpftool" version >&2
touch "$stamp"
echo "$out"
