#!/bin/bash
# Runs inside the test guest (virtme-ng, the host's root over 9p): loads one
# implementation, runs the selftests, unloads it, asks kmemleak, and leaves
# everything the host judges in OUT (a host directory shared read-write).
#   guest-selftests.sh MODULE_KO MODULE_NAME IMPL SELFTESTS_DIR OUT [NAMES]
# Every SELFTESTS_DIR/*_test program and *_test.sh script prints TAP into
# OUT/tap-<name>.txt; they learn the implementation from BMTEST_IMPL (rust|c) and
# the module from BMTEST_MODULE and BMTEST_MODULE_KO. NAMES (comma-separated
# program names) runs only those, for working on one test.
set -u
module_ko=$1 module_name=$2 impl=$3 tests_dir=$4 out=$5 only=${6:-}
export BMTEST_IMPL=$impl BMTEST_MODULE=$module_name BMTEST_MODULE_KO=$module_ko

echo booted >"$out/booted"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
leaks=/sys/kernel/debug/kmemleak
# Whatever boot itself left behind is not ours to report: scan, then forget it.
if [ -w "$leaks" ]; then
	echo scan >"$leaks"
	echo clear >"$leaks"
fi

if insmod "$module_ko" 2>"$out/insmod.err"; then
	echo 0 >"$out/insmod.rc"
	cd /tmp || exit 1
	for test in "$tests_dir"/*_test "$tests_dir"/*_test.sh; do
		[ -x "$test" ] || continue
		name=$(basename "$test" .sh)
		[ -z "$only" ] || [[ ",$only," == *",$name,"* ]] || continue
		timeout 600 "$test" >"$out/tap-$name.txt" 2>&1
		echo $? >"$out/$name.rc"
	done
	# The selftests unmount what they mount; anything left would pin the module.
	grep -q ' binfmt_misc ' /proc/mounts && awk '$3 == "binfmt_misc" { print $2 }' /proc/mounts >"$out/left-mounted"
	# The host fails the run for them; unmount them so that rmmod and kmemleak
	# still say what they would have said.
	if [ -s "$out/left-mounted" ]; then
		while read -r mnt; do umount -l "$mnt"; done <"$out/left-mounted"
		sleep 2
	fi
	rmmod "$module_name" 2>"$out/rmmod.err"
	echo $? >"$out/rmmod.rc"
else
	echo $? >"$out/insmod.rc"
fi

if [ -w "$leaks" ]; then
	# kmemleak wants two scans to report an object: the first marks it suspect.
	echo scan >"$leaks"
	sleep 2
	echo scan >"$leaks"
	cat "$leaks" >"$out/kmemleak.txt"
fi
dmesg >"$out/dmesg.txt"
echo done >"$out/done"
