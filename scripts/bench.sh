#!/usr/bin/env bash
# Exec speed and entry memory of this module and of the kernel's C binfmt_misc.ko,
# measured in one guest boot, printed side by side:
#   scripts/bench.sh            (BENCH_SECONDS=3 per measurement by default)
# The test kernel is the debug build (KASAN, lockdep): absolute figures are far
# below a production kernel's; the comparison between the two modules is the point.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

scripts/setup.sh >/dev/null
kdir=$(scripts/build-kernel.sh | tail -n 1)
make -s KDIR="$kdir" >/dev/null
scripts/build-bpf-tools.sh >/dev/null
make -s -C selftests KSRC="$kdir/source" >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-bench.XXXXXX")
chmod 777 "$out"
log "booting the test kernel (TCG), $((${BENCH_SECONDS:-3} * 12 * 2)) s of measurements"
vng_boot 900 "$kdir" --disable-kvm --rwdir "$out" \
	--exec "BENCH_SECONDS=${BENCH_SECONDS:-3} $REPO/scripts/guest-bench.sh $REPO/binfmt_misc_rs.ko $kdir/fs/binfmt_misc.ko $REPO/selftests/progs $out $REPO/selftests/bpf/gen" \
	>"$out/console.log" 2>&1 </dev/null || true
[ -f "$out/done" ] || die "the guest did not finish; see $out/console.log"
if grep -qF -e "$BAD_KERNEL_LOG" "$out/dmesg.txt"; then
	die "kernel reports during the benchmark; see $out/dmesg.txt"
fi

guest="SMP, 2 CPUs"
[ -n "${BMRS_UP:-}" ] && guest=uniprocessor
echo "exec/s (higher is better), kernel memory per entry, seconds for 1000 registrations and removals (lower is better); guest: $guest, TCG, debug kernel"
printf '%-26s %8s %8s %10s %10s %7s\n' measure entries workers binfmt_misc_rs binfmt_misc.ko rs/c
awk '
	$1 == "rust" { rs[$2 " " $3 " " $4] = $5; order[++n] = $2 " " $3 " " $4 }
	$1 == "c" { c[$2 " " $3 " " $4] = $5 }
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, f, " ")
			cv = (k in c) ? c[k] : "-"
			ratio = (cv > 0) ? sprintf("%.2f", rs[k] / cv) : "-"
			printf "%-26s %8s %8s %10s %10s %7s\n", f[1], f[2], f[3], rs[k], cv, ratio
		}
	}' "$out/bench.txt"
log "raw figures in $out/bench.txt"
