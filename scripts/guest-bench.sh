#!/bin/bash
# Runs inside the guest for scripts/bench.sh: every measurement for `none` (no
# binfmt_misc loaded), `c` and `rust`, rounds interleaved (none, c, rust, none,
# ...) so that a drift of the machine spreads over all three alike. Writes
# OUT/bench.txt, one line per round and figure:
#   ROUND IMPL FIGURE ENTRIES WORKERS VALUE
# and progress lines starting "bench:" on standard output.
#   guest-bench.sh RUST_KO C_KO PROGS_DIR BPF_DIR OUT
# BENCH_ROUNDS (5), BENCH_SECONDS (seconds per exec figure), BENCH_QUICK=1
# (only 0 and 1000 entries and 1 worker: for working on the scripts).
set -u
rust_ko=$1 c_ko=$2 progs=$3 bpf=$4 out=$5
rounds=${BENCH_ROUNDS:-5}
# The handler tool of the same build as the selftests programs.
handler_tool=$bpf/../../../tools/binfmt-misc-handler
seconds=${BENCH_SECONDS:-3}
work=/tmp/bench
mnt=$work/mnt
mkdir -p "$mnt" "$work/inst"
# Every exec'd plain binary has an extension no entry has, so that extension
# entries are compared, not skipped for a name without one. $work/plain is the
# interpreter of the handled binaries (bench_bpf.bpf.c names it).
cp "$progs/bench_true" "$work/bench.plain"
cp "$progs/bench_true" "$work/plain"
cp "$progs/bench_true" "$work/handled.bmbench"
printf 'BMBENCH\n' >"$work/magic"
printf 'BMBPF\n' >"$work/bpf"
# A file no format accepts (miss-cost), its name with the same extension.
printf 'BMUNKNOWN\n' >"$work/unknown.plain"
chmod 755 "$work/bench.plain" "$work/plain" "$work/handled.bmbench" "$work/magic" "$work/bpf" "$work/unknown.plain"
results=$out/bench.txt
: >"$results"
# The mounts figure makes thousands of short-lived namespaces; their count is
# released asynchronously.
echo 100000 >/proc/sys/user/max_user_namespaces

if [ -n "${BENCH_QUICK:-}" ]; then
	plain_entries=(0 1000) workers_all=(1) workers_some=(1)
else
	plain_entries=(0 1 10 100 1000) workers_all=(1 2 4) workers_some=(1 4)
fi

progress() { echo "bench: $*"; }
record() { echo "$round $impl $*" >>"$results"; }
register() { printf '%s' "$1" >"$mnt/register"; }
# Decoy entries, numbered FROM to TO-1, that match nothing here (bash builtins
# only: no fork per entry, so the loop's own cost is small next to the kernel's).
magic_decoys() {
	local i hex
	for ((i = $1; i < $2; i++)); do
		printf -v hex '%02x' $((i % 256))
		register ":decoy$i:M:$((i % 64)):\\xde\\xad\\xbe\\xef\\x$hex::/nonexistent:"
	done
}
ext_decoys() {
	local i
	for ((i = $1; i < $2; i++)); do register ":decoy$i:E::ext$i::/nonexistent:"; done
}
remove_decoys() {
	local i
	for ((i = $1; i < $2; i++)); do echo -1 >"$mnt/decoy$i"; done
}
# Waits (at most 10 s) until the guest's CPUs were idle for half a second: the
# work an earlier step left behind (namespaces freed by a workqueue after the
# mounts figure, lists and files freed after an RCU grace period, a module's
# load) must not run during the next figure and count against whichever
# implementation comes next. Bash builtins only, so that the check does not
# load the CPUs it reads: /proc/stat's first line before and after a read that
# times out on a FIFO nobody writes.
mkfifo "$work/tick"
settle() {
	local i f a b total busy
	for ((i = 0; i < 20; i++)); do
		read -r -a a </proc/stat
		read -r -t 0.5 _ <>"$work/tick"
		read -r -a b </proc/stat
		total=0
		for ((f = 1; f < ${#b[@]}; f++)); do total=$((total + b[f] - a[f])); done
		busy=$((total - (b[4] + b[5] - a[4] - a[5])))
		[ $((100 * busy)) -le $((3 * total)) ] && return
	done
	progress "still $((100 * busy / (total > 0 ? total : 1)))% busy after 10 s"
}
exec_rate() { # PATH WORKERS
	settle
	"$progs/bench_exec" "$seconds" "$2" "$1" || echo failed
}
# Microseconds binfmt_misc's load_binary takes for an exec no entry matches,
# timed in the kernel, so that the rest of execve() (some 300 us here, and
# noisy) stays out of it: two kprobes, at bprm_execve()'s indirect call of a
# binary format's load_binary (the event keeps the callee, %ax) and at the
# instruction after it, the same two for both modules, timestamped with the TSC.
# bench_miss execve()s a file no format accepts (ENOEXEC: no process starts)
# for a second; the figure is the median over those calls to this module's
# callback. It includes the probes' own cost, which the same figure with the
# instance disabled (the callback returns at once) shows.
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs tracefs $T
echo x86-tsc >$T/trace_clock
# Breakpoint kprobes only: an optimized (jump) kprobe costs less, and the
# optimizer converts a new probe at a moment of its own, which would split a
# figure's calls between the two costs.
echo 0 >/proc/sys/debug/kprobes-optimization
echo 4096 >$T/buffer_size_kb
tsc_mhz=$(dmesg | sed -n 's/.*Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
[ -n "$tsc_mhz" ] || tsc_mhz=$(dmesg | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
call_site='' back_site='' armed=''
# Where bprm_execve() calls load_binary: the return address a kretprobe on the C
# module's callback reports, less the 5 bytes of the call to the retpoline
# thunk; a wrong guess is refused by the kprobe (not an instruction) or calls
# nothing, and the figures fail.
find_call_site() {
	echo "r:bmrs_back load_misc_binary" >$T/kprobe_events || return 1
	echo >$T/trace
	echo 1 >$T/events/kprobes/enable
	"$progs/bench_miss" 0.1 "$work/unknown.plain" >/dev/null
	echo 0 >$T/events/kprobes/enable
	back_site=$(grep -o -m 1 'bprm_execve+0x[0-9a-f]*' $T/trace)
	echo >$T/kprobe_events
	[ -n "$back_site" ] || return 1
	printf -v call_site 'bprm_execve+0x%x' $((0x${back_site#bprm_execve+0x} - 5))
}
# The probes are armed once, for the whole run, before the first round: arming
# and disarming them around each figure (kernel text patched each time) made
# the guest stop without a word on its console twice in about ten runs here,
# cause unknown. So every exec of every figure pays them, about 3 us per
# binary format the exec asks (half of miss-cost-disabled), none, c and rust
# alike but for the one format fewer that none asks: 0.1% of an exec here.
# Their events are kept only while tracing_on is set.
arm_probes() {
	load c || return 1
	find_call_site
	unload c
	[ -n "$call_site" ] || return 1
	echo 0 >$T/tracing_on
	echo "p:bmrs_call $call_site fn=%ax:x64" >$T/kprobe_events &&
		echo "p:bmrs_back $back_site ret=%ax:s32" >>$T/kprobe_events &&
		echo 1 >$T/events/kprobes/enable &&
		armed=1
}
load_binary_address() { # IMPL
	local pattern=' load_misc_binary\s*\[binfmt_misc\]'
	[ "$1" = rust ] && pattern='load_binary.*Registry.*\[binfmt_misc_rs\]'
	grep -m 1 "$pattern" /proc/kallsyms | cut -d ' ' -f 1
}
# callback_cost RESULT COMMAND...: the same median over the calls COMMAND
# makes that return RESULT (0, or -8 for ENOEXEC): an exec an entry matches
# calls the callback twice, for the binary and then for its interpreter, which
# binfmt_misc, asked first, declines.
miss_cost() { callback_cost -8 "$progs/bench_miss" "$miss_seconds" "$work/unknown.plain"; }
callback_cost() {
	local fn result=$1
	shift
	fn=$(load_binary_address "$impl")
	if [ -z "$armed" ] || [ -z "$fn" ] || [ -z "$tsc_mhz" ]; then
		echo failed
		return
	fi
	settle
	echo >$T/trace
	echo 1 >$T/tracing_on
	"$@" >/dev/null
	echo 0 >$T/tracing_on
	# Pairs a call of this module's callback with the next return, per CPU.
	awk -v fn="0x$fn" -v result="$result" '{
		for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+:$/) break
		if (i == NF) next
		ts = substr($i, 1, length($i) - 1); cpu = $(i - 2)
		if ($(i + 1) == "bmrs_call:") { start[cpu] = ($NF == "fn=" fn) ? ts : "" }
		else if ($(i + 1) == "bmrs_back:" && start[cpu] != "") {
			if ($NF == "ret=" result) print ts - start[cpu]
			start[cpu] = ""
		}
	}' $T/trace | sort -n | awk -v mhz="$tsc_mhz" '{ d[NR] = $1 }
		END { if (NR < 10) print "failed"; else printf "%.2f\n", (NR % 2 ? d[(NR + 1) / 2] : (d[NR / 2] + d[NR / 2 + 1]) / 2) / mhz }'
}
miss_seconds=1
# BENCH_INSNS=1 (scripts/bench.sh --insns): the guest runs under QEMU's icount,
# one instruction per nanosecond of its clock, TSC included, so the same
# probes count the instructions of the callback (and of the probes), the same
# in every run: 0.2 s of calls is plenty for a median.
if [ -n "${BENCH_INSNS:-}" ]; then
	miss_seconds=0.2
	tsc_mhz=1
fi
# The instruction counts, for c and rust: the miss figures, NAME suffixes as
# miss-cost's, in the same order of lists; then the calls that match, by a
# magic and by an extension entry, first alone and then registered before
# 1000 magic entries, as for exec-magic and exec-ext.
insns_figures() {
	local entries had=0
	for entries in 0 1 10 100 1000; do
		magic_decoys "$had" "$entries"
		had=$entries
		record miss-insns "$entries" 1 "$(miss_cost)"
	done
	echo -1 >"$mnt/status"
	ext_decoys 0 1000
	record miss-insns-ext 1000 1 "$(miss_cost)"
	echo -1 >"$mnt/status"
	echo 0 >"$mnt/status"
	record miss-insns-disabled - 1 "$(miss_cost)"
	echo 1 >"$mnt/status"
	register ":bench-ext:E::bmbench::$work/plain:"
	register ":bench-magic:M::BMBENCH::$work/plain:"
	for entries in 0 1000; do
		magic_decoys 0 "$entries"
		record match-insns "$entries" 1 "$(callback_cost 0 "$progs/bench_exec" "$miss_seconds" 1 "$work/magic")"
		record match-insns-ext "$entries" 1 "$(callback_cost 0 "$progs/bench_exec" "$miss_seconds" 1 "$work/handled.bmbench")"
	done
	echo -1 >"$mnt/status"
}
seconds_since() { awk -v ns=$(($(date +%s%N) - $1)) 'BEGIN { printf "%.3f", ns / 1e9 }'; }
# Kernel memory in slab objects once deferred frees are done (RCU callbacks,
# freed objects still in per-CPU caches, dentries of removed files): drop the
# caches, then read until two readings a second apart agree within 16 kB (at
# most 11 s). Counted are the objects in use, each at its cache's object size
# (/proc/slabinfo), plus kmalloc's allocations too large for a cache (the Slab
# of /proc/meminfo less the pages of every cache): not the pages the caches
# hold, which depend on how full their slabs happened to be before, by a
# hundred bytes per entry and more from one reading to the next. Shrinking
# every cache flushes the per-CPU slabs, whose free objects slabinfo counts as
# in use, for all alike. Bash builtins only from the shrink to the reading, and
# no fork at all: a new process's own objects (a task, its mappings, the
# dentries of what it opens) would land in the count.
shrink_slabs() {
	local f
	echo 2 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f" 2>/dev/null; done
}
slab_now() { # sets $slab_total
	local name active objsize pages_per slabs objects=0 pages=0 slab=0
	shrink_slabs
	while read -r name active _ objsize _ pages_per _ _ _ _ _ _ _ _ slabs _; do
		[[ $active =~ ^[0-9]+$ ]] || continue
		objects=$((objects + active * objsize))
		pages=$((pages + slabs * pages_per))
	done </proc/slabinfo
	while read -r name slab _; do [ "$name" = Slab: ] && break; done </proc/meminfo
	slab_total=$((objects + slab * 1024 - pages * page_size))
}
page_size=$(getconf PAGESIZE)
slab_bytes() { # sets $slab_total
	local prev i
	shrink_slabs
	read -r -t 1 _ <>"$work/tick"
	slab_now
	prev=$slab_total
	for ((i = 0; i < 10; i++)); do
		read -r -t 1 _ <>"$work/tick"
		slab_now
		[ $((slab_total - prev)) -le 16384 ] && [ $((prev - slab_total)) -le 16384 ] && break
		prev=$slab_total
	done
}
# Slab of COUNT held namespaces, with (1) or without (0) an instance each:
# sets $slab_total.
held_slab() { # COUNT MOUNT
	local line fd
	coproc HOLD { "$progs/bench_userns" hold "$1" "$work/inst" "$2"; }
	read -r line <&"${HOLD[0]}"
	[ "$line" = ready ] || echo "bench_userns hold: $line" >&2
	slab_bytes
	fd=${HOLD[1]}
	exec {fd}>&-
	wait "$HOLD_PID"
}

exec_figures() {
	local entries workers had=0
	if [ "$impl" = none ]; then
		for workers in "${workers_all[@]}"; do
			record exec-plain - "$workers" "$(exec_rate "$work/bench.plain" "$workers")"
		done
		return
	fi
	# Plain binary behind N magic decoys, the list grown in place.
	for entries in "${plain_entries[@]}"; do
		magic_decoys "$had" "$entries"
		had=$entries
		for workers in "${workers_all[@]}"; do
			record exec-plain "$entries" "$workers" "$(exec_rate "$work/bench.plain" "$workers")"
		done
		record miss-cost "$entries" 1 "$(miss_cost)"
	done
	# One by one, as an administrator would, then 1000 again behind the two
	# handlers: entries are looked up newest first, so they are found last.
	local start
	start=$(date +%s%N)
	remove_decoys 0 "$had"
	record remove "$had" - "$(seconds_since "$start")"
	# Kernel memory per entry too: the slab growth over those 1000, read once
	# deferred frees settled.
	register ":bench-ext:E::bmbench::$work/plain:"
	register ":bench-magic:M::BMBENCH::$work/plain:"
	local before after
	slab_bytes
	before=$slab_total
	start=$(date +%s%N)
	magic_decoys 0 1000
	record register 1000 - "$(seconds_since "$start")"
	slab_bytes
	after=$slab_total
	record slab-per-entry 1000 - $(((after - before) / 1000))
	for workers in "${workers_some[@]}"; do
		record exec-magic 1000 "$workers" "$(exec_rate "$work/magic" "$workers")"
		record exec-ext 1000 "$workers" "$(exec_rate "$work/handled.bmbench" "$workers")"
	done
	echo -1 >"$mnt/status"
	ext_decoys 0 1000
	for workers in "${workers_all[@]}"; do
		record exec-plain-ext 1000 "$workers" "$(exec_rate "$work/bench.plain" "$workers")"
	done
	record miss-cost-ext 1000 1 "$(miss_cost)"
	echo -1 >"$mnt/status"
	# The callback's least work (an instance that is disabled) and the probes'
	# cost; measured late in the round, not first after the module's load.
	echo 0 >"$mnt/status"
	record miss-cost-disabled - 1 "$(miss_cost)"
	echo 1 >"$mnt/status"
	# A 'B' entry whose match declines the plain binary, alone in the list.
	if [ "$impl" = rust ]; then
		mount -t bpf bpf /sys/fs/bpf
		if "$handler_tool" register "$bpf/bench_bpf.bpf.o" >/dev/null &&
			register ":bench-bpf:B::::bench_bpf:"; then
			for workers in "${workers_all[@]}"; do
				record exec-plain-bpf - "$workers" "$(exec_rate "$work/bench.plain" "$workers")"
			done
		else
			echo "bench: the 'B' entry could not be registered" >&2
		fi
		echo -1 >"$mnt/status"
		"$handler_tool" unregister bench_bpf >/dev/null
		rmdir /sys/fs/bpf/binfmt_misc
		umount /sys/fs/bpf
	fi
}

memory_figures() {
	local base mounted count=100
	# COUNT namespaces holding an instance each, less COUNT holding none.
	held_slab "$count" 0
	base=$slab_total
	held_slab "$count" 1
	mounted=$slab_total
	record slab-per-instance "$count" - $(((mounted - base) / count))
}

load() { # IMPL
	case $1 in
	c) insmod "$c_ko" ;;
	rust) insmod "$rust_ko" ;;
	*) return 0 ;;
	esac || return 1
	mount -t binfmt_misc binfmt_misc "$mnt"
}
unload() { # IMPL
	[ "$1" = none ] && return 0
	umount "$mnt"
	local name=binfmt_misc i
	[ "$1" = rust ] && name=binfmt_misc_rs
	# A struct_ops map or a namespace may hold the module a little longer.
	for ((i = 0; i < 100; i++)); do
		rmmod "$name" 2>/dev/null && return 0
		sleep 0.2
	done
	rmmod "$name"
}

grep -q '^binfmt_misc' /proc/modules && { umount /proc/sys/fs/binfmt_misc 2>/dev/null; rmmod binfmt_misc; }
arm_probes || progress "no call of load_binary found in bprm_execve: miss-cost figures fail"
progress "kernel $(uname -r), $(nproc) CPUs, $rounds rounds, $seconds s per exec figure"
for ((round = 1; round <= rounds; round++)); do
	if [ -n "${BENCH_INSNS:-}" ]; then
		for impl in c rust; do
			progress "round $round/$rounds: $impl ($(date +%T))"
			load "$impl" || { echo "bench: insmod for $impl failed" >&2; continue; }
			insns_figures
			unload "$impl" || echo "bench: rmmod for $impl failed" >&2
		done
		continue
	fi
	for impl in none c rust; do
		progress "round $round/$rounds: $impl ($(date +%T))"
		load "$impl" || { echo "bench: insmod for $impl failed" >&2; continue; }
		exec_figures
		if [ "$impl" = none ]; then
			record mounts - - "$("$progs/bench_userns" mounts "$seconds" "$work/inst" 0)"
		else
			memory_figures
			record mounts - - "$("$progs/bench_userns" mounts "$seconds" "$work/inst" 1)"
		fi
		unload "$impl" || echo "bench: rmmod for $impl failed" >&2
	done
done
dmesg >"$out/dmesg.txt"
echo "done" >"$out/done"
