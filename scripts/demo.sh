#!/usr/bin/env bash
# The demo, from a fresh machine: installs what is missing, builds the test kernel
# (cached) and the module, boots the kernel in QEMU and, inside, as an unprivileged
# user in its own user namespace, mounts binfmt_misc, registers qemu's handlers
# with qemu's own register strings and runs a fake aarch64 binary through a
# stand-in for qemu-aarch64; then, as root, bpf-backed handlers ('B' entries)
# route foreign ELF binaries and compute an $ORIGIN-relative interpreter.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

scripts/setup.sh
. scripts/lib.sh
kdir=$(scripts/build-kernel.sh)
make KDIR="$kdir"
scripts/build-bpf-tools.sh >/dev/null
make -C selftests KSRC="$kdir/source" demo
log "booting the test kernel (software emulation, about half a minute)"
vng_boot 900 "$kdir" --disable-kvm \
	--exec "$REPO/scripts/guest-demo.sh $REPO/binfmt_misc_rs.ko $(qemu_binfmt_dir) $REPO/selftests/bpf/gen"
