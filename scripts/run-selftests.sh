#!/usr/bin/env bash
# Boots a kernel under QEMU with virtme-ng once per implementation, runs the
# selftests in the guest and judges the results on the host: TAP, clean unload,
# and a kernel log free of oops, WARN, BUG, lockdep, KASAN and kmemleak reports.
#   scripts/run-selftests.sh [rust|c ...]   (default: rust c)
#   BMRS_KERNEL=debian scripts/run-selftests.sh ...   Debian's stock kernel
#   BMRS_KERNEL=gcc scripts/run-selftests.sh ...      the GCC-built kernel with Rust
# The kernel: the project's test kernel (default), or with BMRS_KERNEL=debian
# Debian's stock kernel (lib.sh's DEBIAN_KERNEL_RELEASE, its own binfmt_misc.ko as
# the C implementation, the module and selftests from scripts/build-debian.sh).
# Prints one "ok"/"FAIL" line per test and check, then "N passed, N failed".
# Expects the kernel, the module and the selftests built (scripts/test.sh does it).
# BMRS_SELFTESTS=name[,name...] runs only those programs (e.g.
# binfmt_misc_stress_test), for working on one of them.
# Boots one guest at a time for as long as it runs: wrap it in
# `flock /tmp/vm.lock` where other guests may run.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

case ${BMRS_KERNEL:-test} in
test)
	kdir=$(kernel_dir)
	[ -f "$kdir/.binfmt_misc_rs-built" ] || die "no test kernel: run scripts/build-kernel.sh"
	boot=$kdir
	rust_ko=$REPO/binfmt_misc_rs.ko
	c_ko=$kdir/fs/binfmt_misc.ko
	tests_dir=$REPO/selftests
	;;
gcc)
	# lib.sh, read with BMRS_KERNEL=gcc, names the GCC-built kernel's directory.
	kdir=$(kernel_dir)
	[ -f "$kdir/.binfmt_misc_rs-built" ] || die "no GCC-built kernel: run scripts/build-gcc.sh"
	boot=$kdir
	build=$(gcc_build_dir)/src
	[ -f "$build/binfmt_misc_rs.ko" ] || die "no module for the GCC-built kernel: run scripts/build-gcc.sh"
	rust_ko=$build/binfmt_misc_rs.ko
	c_ko=$kdir/fs/binfmt_misc.ko
	tests_dir=$build/selftests
	;;
debian)
	boot=$(debian_vmlinuz)
	[ -f "$boot" ] && [ -d "$(debian_modules)/kernel" ] ||
		die "no $boot or $(debian_modules): run scripts/setup.sh"
	build=$(debian_build_dir)/src
	[ -f "$build/binfmt_misc_rs.ko" ] || die "no module for $DEBIAN_KERNEL_RELEASE: run scripts/build-debian.sh"
	rust_ko=$build/binfmt_misc_rs.ko
	c_ko=$(find "$(debian_modules)/kernel/fs" -maxdepth 1 -name 'binfmt_misc.ko*' | head -n 1)
	tests_dir=$build/selftests
	;;
*) die "BMRS_KERNEL='$BMRS_KERNEL': test, gcc or debian" ;;
esac
impls=("$@")
[ ${#impls[@]} -gt 0 ] || impls=(rust c)

passed=0 failed=0 skipped=0
pass() { printf 'ok    %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s\n' "$1"; failed=$((failed + 1)); }

# Software emulation (TCG) always works. KVM is tried only when asked for
# (BMRS_TRY_KVM=1) and kept only if the guest demonstrably boots with it: nested
# KVM fails on the CI machines although /dev/kvm exists.
accels=(tcg)
if [ -n "${BMRS_TRY_KVM:-}" ] && [ -w /dev/kvm ]; then accels=(kvm tcg); fi


run_impl() {
	local impl=$1 ko name out console rc tag
	# Results on Debian's kernel say so: [debian/rust], [debian/c].
	tag=$impl
	[ "${BMRS_KERNEL:-test}" = test ] || tag=$BMRS_KERNEL/$impl
	case $impl in
	rust) ko=$rust_ko name=binfmt_misc_rs ;;
	c) ko=$c_ko name=binfmt_misc ;;
	*) die "unknown implementation '$impl' (rust or c)" ;;
	esac
	[ -f "$ko" ] || { fail "[$tag] module $ko exists"; return; }
	out=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-selftests-$impl.XXXXXX")
	chmod 777 "$out"
	# A distribution's modules are compressed; the selftests reload the module
	# with a plain finit_module(), which wants an uncompressed one.
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$out/$name.ko" && ko=$out/$name.ko ;;
	*.ko.zst) zstd -qdc "$ko" >"$out/$name.ko" && ko=$out/$name.ko ;;
	*.ko.gz) gzip -dc "$ko" >"$out/$name.ko" && ko=$out/$name.ko ;;
	esac
	console=$out/console.log
	local accel
	for accel in "${accels[@]}"; do
		log "booting $boot for '$impl' with $accel (TCG takes a while)"
		# One implementation's suite takes about 10 minutes under TCG (the
		# stress test alone about 3), after a boot of 1 to 11 minutes: the
		# debug kernel's udev coldplug alone was seen to take from 2 to 10
		# (virtme-ng-init waits for it, and has no switch to skip it). The
		# limit leaves room for both on a loaded machine; it is there to end
		# a hung guest. A working KVM guest is done in well under it.
		vng_boot "$([ "$accel" = tcg ] && echo 2100 || echo 300)" "$boot" \
			$([ "$accel" = tcg ] && echo --disable-kvm) --rwdir "$out" -v \
			--exec "$REPO/scripts/guest-selftests.sh $ko $name $impl $tests_dir $out ${BMRS_SELFTESTS:-}" \
			>"$console" 2>&1 </dev/null
		rc=$?
		[ -f "$out/booted" ] && break
		log "the guest did not boot with $accel (vng exit $rc)"
	done

	if [ ! -f "$out/booted" ]; then
		fail "[$tag] guest reached the tests (vng exit $rc)"
		tail -n 40 "$console" | sed 's/^/    | /'
		return
	fi
	if [ ! -f "$out/done" ]; then
		fail "[$tag] guest finished (vng exit $rc: hung or crashed)"
		tail -n 40 "$console" | sed 's/^/    | /'
	fi
	if [ "$(cat "$out/insmod.rc" 2>/dev/null)" != 0 ]; then
		fail "[$tag] insmod $ko"
		sed 's/^/    | /' "$out/insmod.err" 2>/dev/null
	else
		pass "[$tag] insmod"
	fi

	# Each program's TAP: one result per test.
	local tap prog
	for tap in "$out"/tap-*.txt; do
		[ -f "$tap" ] || { fail "[$tag] selftest programs ran"; break; }
		prog=$(basename "$tap" .txt)
		prog=${prog#tap-}
		while IFS= read -r line; do
			case $line in
			"ok "*"# SKIP"*) printf 'skip  [%s] %s: %s\n' "$tag" "$prog" "${line#ok }"; skipped=$((skipped + 1)) ;;
			"ok "*) pass "[$tag] $prog: ${line#ok }" ;;
			"not ok "*) fail "[$tag] $prog: ${line#not ok }" ;;
			esac
		done <"$tap"
		grep -q '^# Totals' "$tap" ||
			fail "[$tag] $prog ran to completion (exit $(cat "$out/$prog.rc" 2>/dev/null))"
		if grep -q '^not ok' "$tap"; then
			grep -E '^#' "$tap" | grep -vE '^# (Totals|PASSED|OK|RUN|  *OK)' | head -n 60 | sed 's/^/    | /'
		fi
	done
	if [ -f "$out/rmmod.rc" ]; then
		if [ "$(cat "$out/rmmod.rc")" = 0 ] && [ ! -s "$out/left-mounted" ]; then
			pass "[$tag] clean unload"
		else
			fail "[$tag] clean unload"
			cat "$out/rmmod.err" "$out/left-mounted" 2>/dev/null | sed 's/^/    | /'
		fi
	fi

	# The guest's kernel log, and the console for what dmesg could not catch.
	local reports
	reports=$(cat "$out/dmesg.txt" "$out/kmemleak.txt" "$console" 2>/dev/null | grep -F -e "$BAD_KERNEL_LOG" | sort -u)
	if [ -z "$reports" ] && [ -f "$out/dmesg.txt" ]; then
		pass "[$tag] kernel log clean (no oops, WARN, BUG, lockdep, KASAN or kmemleak report)"
	else
		fail "[$tag] kernel log clean"
		printf '%s\n' "$reports" | head -n 20 | sed 's/^/    | /'
		grep -F -A 25 -e "$BAD_KERNEL_LOG" "$out/dmesg.txt" "$out/kmemleak.txt" 2>/dev/null | head -n 80 | sed 's/^/    | /'
	fi
	log "guest files for '$impl' kept in $out"
}

for impl in "${impls[@]}"; do
	run_impl "$impl"
done
echo "selftests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
