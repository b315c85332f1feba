#!/bin/bash
# Runs inside the test guest: the same exec and memory measurements with each
# implementation loaded in turn, in one boot, written to OUT/bench.txt as lines
#   IMPL MEASURE ENTRIES WORKERS VALUE
# A 'B' entry (BPF_DIR's bench_bpf handler) is measured on this module only: the
# C module has none; its magic row is the one to compare with.
#   guest-bench.sh RUST_KO C_KO PROGS_DIR OUT BPF_DIR
set -u
rust_ko=$1 c_ko=$2 progs=$3 out=$4 bpf=$5
handler_tool=$(cd "$(dirname "$0")/.." && pwd)/tools/binfmt-misc-handler
seconds=${BENCH_SECONDS:-3}
work=/tmp/bench
mnt=$work/mnt
mkdir -p "$mnt"
cp "$progs/bench_true" "$work/plain"
cp "$progs/bench_true" "$work/handled.bmbench"
printf 'BMBENCH\n' >"$work/magic"
printf 'BMBPF\n' >"$work/bpf"
chmod 755 "$work/plain" "$work/handled.bmbench" "$work/magic" "$work/bpf"
results=$out/bench.txt
: >"$results"

register() { printf '%s' "$1" >"$mnt/register"; }
decoys() { # N decoy magic entries that match nothing here; no fork per entry
	local i hex
	for ((i = 0; i < $1; i++)); do
		printf -v hex '%02x' $((i % 256))
		register ":decoy$i:M:$((i % 64)):\\xde\\xad\\xbe\\xef\\x$hex::/nonexistent:"
	done
}
bench() { "$progs/bench_exec" "$seconds" "$2" "$1"; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
settle() {
	sync
	echo 2 >/proc/sys/vm/drop_caches
	sleep 3
}

for impl in rust c; do
	ko=$rust_ko
	[ "$impl" = c ] && ko=$c_ko
	insmod "$ko" || { echo "$impl insmod failed" >>"$results"; continue; }
	mount -t binfmt_misc binfmt_misc "$mnt"

	# Kernel memory for 1000 entries, first, on a quiet system: slab growth per
	# entry, read once the caches settled (freeing is deferred: RCU, KASAN's
	# quarantine), the median of three rounds.
	rounds=()
	for _ in 1 2 3; do
		settle
		before=$(slab_kb)
		decoys 1000
		settle
		after=$(slab_kb)
		rounds+=($(((after - before) * 1024 / 1000)))
		echo -1 >"$mnt/status"
	done
	median=$(printf '%s\n' "${rounds[@]}" | sort -n | sed -n 2p)
	echo "$impl slab-bytes-per-entry 1000 - $median" >>"$results"
	# Wall time of a shell loop registering 1000 entries, then of one removing
	# them one by one: what a list change costs (a grace period, if waited for).
	start=$(date +%s%N)
	decoys 1000
	mid=$(date +%s%N)
	for ((i = 0; i < 1000; i++)); do echo -1 >"$mnt/decoy$i"; done
	end=$(date +%s%N)
	echo "$impl register-seconds 1000 - $(awk -v ns=$((mid - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')" >>"$results"
	echo "$impl remove-seconds 1000 - $(awk -v ns=$((end - mid)) 'BEGIN { printf "%.2f", ns / 1e9 }')" >>"$results"
	# Newest first: the two handlers are found after every decoy.
	register ":bench-ext:E::bmbench::$work/plain:"
	register ":bench-magic:M::BMBENCH::$work/plain:"
	for entries in 0 100; do
		decoys "$entries"
		for workers in 1 2; do
			for measure in plain handled.bmbench magic; do
				echo "$impl exec-$measure $entries $workers $(bench "$work/$measure" "$workers")" >>"$results"
			done
		done
		for ((i = 0; i < entries; i++)); do echo -1 >"$mnt/decoy$i"; done
	done
	echo -1 >"$mnt/status"
	# The 'B' entry alone, so that its match program does not run in the rows above.
	if [ "$impl" = rust ]; then
		mount -t bpf bpf /sys/fs/bpf
		"$handler_tool" register "$bpf/bench_bpf.bpf.o" >/dev/null
		register ":bench-bpf:B::::bench_bpf:"
		for entries in 0 100; do
			decoys "$entries"
			for workers in 1 2; do
				echo "$impl exec-bpf $entries $workers $(bench "$work/bpf" "$workers")" >>"$results"
			done
			for ((i = 0; i < entries; i++)); do echo -1 >"$mnt/decoy$i"; done
		done
		echo -1 >"$mnt/status"
		"$handler_tool" unregister bench_bpf >/dev/null
		rmdir /sys/fs/bpf/binfmt_misc
		umount /sys/fs/bpf
	fi

	umount "$mnt"
	rmmod "$(basename "$ko" .ko)"
done
dmesg >"$out/dmesg.txt"
echo done >"$out/done"
