#!/usr/bin/env bash
# The demo, from a fresh machine: installs what is missing, builds the test kernel
# (cached) and the module, boots the kernel in QEMU and, inside, mounts binfmt_misc
# as an unprivileged user in its own user namespace, registers a handler and runs a
# file through it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

scripts/setup.sh
. scripts/lib.sh
kdir=$(scripts/build-kernel.sh)
make KDIR="$kdir"
log "booting the test kernel (software emulation, about half a minute)"
vng_boot 900 "$kdir" --disable-kvm \
	--exec "$REPO/scripts/guest-demo.sh $REPO/binfmt_misc_rs.ko"
