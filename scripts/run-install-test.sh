#!/usr/bin/env bash
# Installs and uninstalls the module in a guest of Debian's stock kernel, the ways
# README.md gives (make install / make uninstall, DKMS), and checks that
# binfmt_misc, the fs-binfmt_misc alias and `modprobe binfmt_misc` mean this
# module exactly while it is installed (scripts/guest-install.sh).
#   scripts/run-install-test.sh
# The module comes from scripts/build-debian.sh's copy of the sources; DKMS builds
# it on the host from the copy DKMS is given, in a private tree (the guest, which
# runs under emulation, only installs and removes it). The guest's /etc,
# /lib/modules, /usr/local, /usr/libexec and /usr/bin are overlays: nothing is
# installed on the host. Prints one
# "ok"/"FAIL" line per check, then "N passed, N failed". Boots one guest: wrap it
# in `flock /tmp/vm.lock` where other guests may run.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

build=$(debian_build_dir)/src
[ -f "$build/binfmt_misc_rs.ko" ] || die "no module for $DEBIAN_KERNEL_RELEASE: run scripts/build-debian.sh"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$build/dkms.conf")
dkms_dir=$(debian_build_dir)/dkms
dkms_flags=(--dkmstree "$dkms_dir/tree" --sourcetree "$dkms_dir/source")

# What `make dkms-install` does before `dkms install`, into private trees.
rm -rf "$dkms_dir"
mkdir -p "$dkms_dir/tree" "$dkms_dir/source/binfmt_misc_rs-$version"
(cd "$REPO" && git ls-files -z | tar --null -T - -cf -) | tar -C "$dkms_dir/source/binfmt_misc_rs-$version" -xf -
log "dkms add and build for $DEBIAN_KERNEL_RELEASE (about a minute)"
dkms add "${dkms_flags[@]}" -m binfmt_misc_rs -v "$version" >&2 &&
	nice -n 10 dkms build "${dkms_flags[@]}" -m binfmt_misc_rs -v "$version" -k "$DEBIAN_KERNEL_RELEASE" >&2 ||
	die "dkms build failed (its make.log is under $dkms_dir/tree)"

# What README's `make tools` builds, built here so that the guest's finds it done.
nice -n 10 make -C "$build" KDIR="$(debian_kdir)" tools >&2 || die "make tools failed"

out=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-install.XXXXXX")
chmod 777 "$out"
log "booting $(debian_vmlinuz) (TCG takes a while)"
vng_boot 1800 "$(debian_vmlinuz)" --disable-kvm --overlay-rwdir /etc --overlay-rwdir /lib/modules \
	--overlay-rwdir /usr/local --overlay-rwdir /usr/libexec --overlay-rwdir /usr/bin --rwdir "$out" --rwdir "$dkms_dir" --rwdir "$build" -v \
	--exec "$REPO/scripts/guest-install.sh $build $dkms_dir $out $(foreign_dir) ${CARGO_HOME:-$HOME/.cargo}" >"$out/console.log" 2>&1 </dev/null
rc=$?

passed=0 failed=0
[ -f "$out/done" ] || { echo "FAIL  guest finished (vng exit $rc)"; tail -n 30 "$out/console.log" | sed 's/^/    | /'; failed=1; }
while read -r verdict name; do
	if [ "$verdict" = ok ]; then
		printf 'ok    [install] %s\n' "$name"; passed=$((passed + 1))
	else
		printf 'FAIL  [install] %s\n' "$name"; failed=$((failed + 1))
	fi
done <"$out/results"
reports=$(grep -F -e "$BAD_KERNEL_LOG" "$out/dmesg.txt" "$out/console.log" 2>/dev/null | sort -u)
if [ -z "$reports" ] && [ -f "$out/dmesg.txt" ]; then
	printf 'ok    [install] kernel log clean\n'; passed=$((passed + 1))
else
	printf 'FAIL  [install] kernel log clean\n'; failed=$((failed + 1))
	printf '%s\n' "$reports" | head -n 20 | sed 's/^/    | /'
fi
[ "$failed" = 0 ] || sed 's/^/    | /' "$out/log" | tail -n 60
log "guest files kept in $out"
echo "install: $passed passed, $failed failed"
[ "$failed" = 0 ]
