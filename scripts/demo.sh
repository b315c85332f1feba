#!/usr/bin/env bash
# The demo, from a fresh machine: installs what is missing, builds the test kernel
# (cached) and the module, boots the kernel in QEMU and, inside, as an unprivileged
# user in its own user namespace, mounts binfmt_misc, registers Debian's
# qemu-user-static with the package's own binfmt line and runs Debian's arm64
# busybox through it; then, as root, bpf-backed handlers ('B' entries) route
# foreign ELF binaries and compute an $ORIGIN-relative interpreter.
#   scripts/demo.sh                     on the project's test kernel
#   BMRS_KERNEL=debian scripts/demo.sh  on Debian's stock 6.12 kernel
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

scripts/setup.sh
. scripts/lib.sh
case ${BMRS_KERNEL:-test} in
test)
	kdir=$(scripts/build-kernel.sh)
	make KDIR="$kdir"
	scripts/build-bpf-tools.sh >/dev/null
	make -C selftests KSRC="$kdir/source" demo
	boot=$kdir src=$REPO
	;;
debian)
	# Built from a copy of the sources against the installed headers, as DKMS does.
	scripts/build-bpf-tools.sh >/dev/null
	src=$(scripts/build-debian.sh)
	boot=$(debian_vmlinuz)
	;;
*) die "BMRS_KERNEL='$BMRS_KERNEL': test or debian" ;;
esac
log "booting $boot (software emulation, about a minute)"
vng_boot 900 "$boot" --disable-kvm \
	--exec "$REPO/scripts/guest-demo.sh $src/binfmt_misc_rs.ko $(foreign_dir) $src/selftests/bpf/gen"
