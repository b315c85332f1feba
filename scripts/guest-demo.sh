#!/bin/bash
# Runs inside the demo guest: loads binfmt_misc_rs, then, as an unprivileged user
# in a user namespace of its own, mounts binfmt_misc, registers qemu's handlers
# with the very strings qemu-binfmt-conf.sh writes (taken from Debian's
# qemu-user-binfmt files, unpacked in QEMU_BINFMT_DIR by scripts/setup.sh), and
# runs a fake aarch64 ELF through a stand-in for qemu-aarch64. Then, as root, it
# registers two bpf-backed handlers ('B' entries; the BPF objects are in BPF_DIR,
# registered with tools/binfmt-misc-handler): one routes foreign ELF binaries to interpreters bound
# to the entry by name, one runs relocatable binaries under an interpreter found
# relative to the binary's own directory ($ORIGIN).
#   guest-demo.sh MODULE_KO QEMU_BINFMT_DIR BPF_DIR
set -eu
module_ko=$1 qconf=$2/usr/lib/binfmt.d bpf_dir=$3
handler_tool=$(cd "$(dirname "$0")/.." && pwd)/tools/binfmt-misc-handler

insmod "$module_ko"
echo "== loaded: $(grep binfmt_misc /proc/filesystems | tr '\t' ' ')"

dir=$(mktemp -d /tmp/bmrs-demo.XXXXXX)
chmod 755 "$dir"
mkdir -m 777 "$dir/mnt" "$dir/host"
cpus="aarch64 arm riscv64"
for cpu in $cpus; do
	# The stand-in for qemu-$cpu says what it was asked to run. With qemu's P
	# flag the kernel passes it the binary's path, its argv[0], then its args.
	cat >"$dir/qemu-$cpu" <<-'EOF'
		#!/bin/sh
		prog=$1 argv0=$2
		shift 2
		echo "  [stand-in ${0##*/}] asked to run $prog as: $argv0 $*"
	EOF
	# A fake foreign binary: qemu's magic for the CPU, the first 20 bytes of an
	# ELF header of that machine, and nothing else.
	IFS=: read -r _ _ _ _ magic mask _ <"$qconf/qemu-$cpu.conf"
	printf '%b' "$magic" >"$dir/hello-$cpu"
	chmod 755 "$dir/qemu-$cpu" "$dir/hello-$cpu"
	# What qemu-binfmt-conf.sh --persistent yes --preserve-argv0 yes writes.
	echo ":qemu-$cpu:M::$magic:$mask:$dir/qemu-$cpu:FP" >>"$dir/register-strings"
done
# Shells and execvp() run a file that exec refused through /bin/sh themselves:
# the demo calls execve() directly, through Python's os.execv(): PATH ARGV0 ARG...
exec_direct='import os, sys; os.execv(sys.argv[1], sys.argv[2:])'

echo "== as uid 65534 in a new user namespace: mount binfmt_misc, register qemu's handlers"
# shellcheck disable=SC2016 # the script expands its own arguments
setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare --user --map-root-user --mount sh -eu -c '
	dir=$1 exec_direct=$2
	mount -t binfmt_misc binfmt_misc "$dir/mnt"
	while IFS= read -r reg; do
		case $reg in :qemu-aarch64:*) echo "register: $reg" ;; esac
		printf "%s\n" "$reg" >"$dir/mnt/register"
	done <"$dir/register-strings"
	echo "entries: $(ls "$dir/mnt" | tr "\n" " ")"
	echo "--- $dir/mnt/qemu-aarch64:"
	cat "$dir/mnt/qemu-aarch64"
	echo "---"
	for cpu in aarch64 riscv64; do
		echo "\$ execve $dir/hello-$cpu [argv: hello-$cpu one two]"
		/usr/bin/python3 -c "$exec_direct" "$dir/hello-$cpu" "hello-$cpu" one two
	done
	echo -1 >"$dir/mnt/status"
	umount "$dir/mnt"
' sh "$dir" "$exec_direct"

echo "== back in the initial namespace (uid 0), the host's instance is unchanged:"
mount -t binfmt_misc binfmt_misc "$dir/host"
entries=("$dir/host"/*)
echo "entries: ${entries[*]##*/}"
echo "\$ execve $dir/hello-aarch64 [argv: hello-aarch64]"
/usr/bin/python3 -c "$exec_direct" "$dir/hello-aarch64" hello-aarch64 2>&1 | tail -n 1 || true

echo
echo "== bpf handlers ('B' entries), as root in the initial namespace"
mount -t bpf bpf /sys/fs/bpf
echo "\$ binfmt-misc-handler register demo_foreign.bpf.o; ... register demo_origin.bpf.o"
"$handler_tool" register "$bpf_dir/demo_foreign.bpf.o"
"$handler_tool" register "$bpf_dir/demo_origin.bpf.o"
echo "\$ binfmt-misc-handler list"
"$handler_tool" list
# Fake binaries, ELF64 headers whose program headers lie past the first 256
# bytes: an aarch64 and a riscv64 one, and an x86-64 one whose PT_INTERP is
# "$ORIGIN/../lib/ld-demo.so", in app/bin/, with a stand-in ld-demo.so in app/lib/.
/usr/bin/python3 "$bpf_dir/../make_demo_binaries.py" "$dir"
reg=$dir/host/register
echo "register: :foreign:B::::demo_foreign:D   (D: bind interpreters first, then enable)"
echo ":foreign:B::::demo_foreign:D" >"$reg"
for cpu in aarch64 riscv64; do
	echo "+$cpu $dir/qemu-$cpu" >"$dir/host/foreign"
done
echo 1 >"$dir/host/foreign"
echo "--- $dir/host/foreign:"
cat "$dir/host/foreign"
echo "---"
for cpu in aarch64 riscv64; do
	echo "\$ execve $dir/elf-$cpu [argv: elf-$cpu a b]"
	/usr/bin/python3 -c "$exec_direct" "$dir/elf-$cpu" "elf-$cpu" a b
done
echo "register: :origin:B::::demo_origin:"
echo ":origin:B::::demo_origin:" >"$reg"
cp -a "$dir/app" "$dir/app-copy"
for app in app app-copy; do
	echo "\$ execve $dir/$app/bin/tool [argv: tool x]"
	/usr/bin/python3 -c "$exec_direct" "$dir/$app/bin/tool" tool x
done
echo -1 >"$dir/host/status"
echo "\$ binfmt-misc-handler unregister demo_foreign; ... unregister demo_origin"
"$handler_tool" unregister demo_foreign
"$handler_tool" unregister demo_origin
rmdir /sys/fs/bpf/binfmt_misc
umount /sys/fs/bpf
umount "$dir/host"
rmmod binfmt_misc_rs
echo "== unloaded"
