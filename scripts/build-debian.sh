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
src=$out/src
mkdir -p "$src"

# The tracked files only, mtimes kept, so that a second build is incremental and
# nothing of the repository's own build (for the test kernel) comes along.
log "copying the sources into $src"
(cd "$REPO" && git ls-files -z | tar --null -T - -cf -) | tar -C "$src" -xf -

log "building the module against $kdir"
nice -n 10 make -C "$src" KDIR="$kdir" >&2
"$REPO/scripts/check-module.sh" "$src/binfmt_misc_rs.ko" "$kdir" >&2

log "building the selftests (and tools/binfmt-misc-handler, which they test) against $kdir"
nice -n 10 make -C "$src/selftests" KSRC="$(ksrc_dir)" KDIR="$kdir" MODULE_KO="$src/binfmt_misc_rs.ko" >&2
echo "$src"
