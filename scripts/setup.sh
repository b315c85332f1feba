#!/usr/bin/env bash
# Install everything the build, the demo and the tests need. Idempotent: every step
# checks first, so a second run on a set-up machine does no work. Runs as root.
set -euo pipefail

BINDGEN_VERSION=0.73.2
VIRTME_NG_VERSION=1.42
CARGO_FUZZ_VERSION=0.13.2

# What the kernel build, bindgen, the selftests and the guest need. clang/lld/llvm:
# the debug kernel is built with LLVM=1 (KASAN together with Rust needs clang).
# udev: without it virtme-ng-init loses the guest command's exit status.
APT_PACKAGES=(
	linux-source-6.12
	build-essential bc bison flex cpio kmod xz-utils zstd
	libelf-dev libssl-dev libcap-dev
	clang lld llvm libclang-dev
	qemu-system-x86 busybox-static udev
	python3-pip
)

log() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	log "rustup component add rust-src"
	rustup component add rust-src
fi

if ! bindgen --version 2>/dev/null | grep -qF "$BINDGEN_VERSION"; then
	log "cargo install bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --version "=$BINDGEN_VERSION" bindgen-cli
fi

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
	log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install --locked --version "=$CARGO_FUZZ_VERSION" cargo-fuzz
fi

if ! python3 -m pip show virtme-ng 2>/dev/null | grep -qx "Version: $VIRTME_NG_VERSION"; then
	log "pip install virtme-ng $VIRTME_NG_VERSION"
	python3 -m pip install -q "virtme-ng==$VIRTME_NG_VERSION"
	command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

log "toolchain ready"
