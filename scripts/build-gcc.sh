#!/usr/bin/env bash
# Builds the GCC-built kernel with CONFIG_RUST (qemu/gcc.config; cached like the
# test kernel), then the module and the selftests against it in a copy of the
# sources (lib.sh's build_copy), the way a user of such a kernel builds them.
#   scripts/build-gcc.sh      prints the module's build directory
# The module uses that kernel's own Rust crates, and bindgen sees its GCC C flags
# filtered as its rust/Makefile filters them.
set -euo pipefail
export BMRS_KERNEL=gcc
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

kdir=$("$REPO/scripts/build-kernel.sh" | tail -n 1)
grep -q '^CONFIG_CC_IS_GCC=y' "$kdir/include/config/auto.conf" &&
	grep -q '^CONFIG_RUST=y' "$kdir/include/config/auto.conf" ||
	die "$kdir is not a GCC-built kernel with CONFIG_RUST"
out=$(gcc_build_dir)
build_copy "$kdir" "$out"
echo "$out/src"
