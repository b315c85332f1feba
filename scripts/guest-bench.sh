#!/bin/bash
# Runs inside the test guest: the same exec and memory measurements with each
# implementation loaded in turn, in one boot, written to OUT/bench.txt as lines
#   IMPL MEASURE ENTRIES WORKERS VALUE
#   guest-bench.sh RUST_KO C_KO PROGS_DIR OUT
set -u
rust_ko=$1 c_ko=$2 progs=$3 out=$4
seconds=${BENCH_SECONDS:-3}
work=/tmp/bench
mnt=$work/mnt
mkdir -p "$mnt"
cp "$progs/bench_true" "$work/plain"
cp "$progs/bench_true" "$work/handled.bmbench"
printf 'BMBENCH\n' >"$work/magic"
chmod 755 "$work/plain" "$work/handled.bmbench" "$work/magic"
results=$out/bench.txt
: >"$results"

register() { printf '%s' "$1" >"$mnt/register"; }
decoys() { # N decoy magic entries that match nothing here
	local i
	for ((i = 0; i < $1; i++)); do
		register ":decoy$i:M:$((i % 64)):\\xde\\xad\\xbe\\xef\\x$(printf %02x $((i % 256)))::/nonexistent:"
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

	umount "$mnt"
	rmmod "$(basename "$ko" .ko)"
done
dmesg >"$out/dmesg.txt"
echo done >"$out/done"
