#!/bin/bash
# Runs inside the test guest (virtme-ng, the host's root over 9p): loads one
# implementation, runs the selftests, unloads it, asks kmemleak, and leaves
# everything the host judges in OUT (a host directory shared read-write).
#   guest-selftests.sh MODULE_KO MODULE_NAME TEST_BINARY OUT
set -u
module_ko=$1 module_name=$2 tests=$3 out=$4

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
	timeout 600 "$tests" >"$out/tap.txt" 2>&1
	echo $? >"$out/tests.rc"
	# The selftests unmount what they mount; anything left would pin the module.
	grep -q ' binfmt_misc ' /proc/mounts && awk '$3 == "binfmt_misc" { print $2 }' /proc/mounts >"$out/left-mounted"
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
