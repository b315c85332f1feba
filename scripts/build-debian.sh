#!/usr/bin/env bash
# Builds the module and the selftests for Debian's stock kernel (lib.sh's
# DEBIAN_KERNEL_RELEASE) from its installed headers, in a copy of the sources
# (debian_build_dir), as a user or DKMS builds it: `make KDIR=<headers>` and
# nothing else. Then checks the .ko (scripts/check-module.sh).
#   scripts/build-debian.sh      prints the build directory
# Needs scripts/setup.sh (headers, linux-source, toolchain) and, for the bpf
# selftests, scripts/build-bpf-tools.sh.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

kdir=$(debian_kdir)
[ -f "$kdir/include/config/auto.conf" ] ||
	die "no headers for $DEBIAN_KERNEL_RELEASE in $kdir: run scripts/setup.sh (apt-get install linux-headers-$DEBIAN_KERNEL_RELEASE)"
out=$(debian_build_dir)
build_copy "$kdir" "$out"
echo "$out/src"
