#!/bin/bash
# Runs inside the demo guest: loads binfmt_misc_rs, then, as an unprivileged user
# in a user namespace of its own, mounts binfmt_misc, registers Debian's
# qemu-user-static with the package's own binfmt line and runs Debian's arm64
# busybox-static through it (both unpacked by scripts/setup.sh into FOREIGN_DIR).
# Then, as root, it registers two bpf-backed handlers ('B' entries; the BPF
# objects and their loader are in BPF_DIR): one routes foreign ELF binaries to
# interpreters bound to the entry by name, one runs relocatable binaries under an
# interpreter found relative to the binary's own directory ($ORIGIN).
#   guest-demo.sh MODULE_KO FOREIGN_DIR BPF_DIR
set -eu
module_ko=$1 foreign=$2 bpf_dir=$3
handler_tool=$bpf_dir/../../../tools/binfmt-misc-handler

insmod "$module_ko"
echo "== loaded: $(grep binfmt_misc /proc/filesystems | tr '\t' ' ')"

dir=$(mktemp -d /tmp/bmrs-demo.XXXXXX)
chmod 755 "$dir"
mkdir -m 777 "$dir/mnt" "$dir/host"
# What the unprivileged user may read: the emulator, the package's binfmt line
# and the symlink it names, in the package's own layout; and the arm64 program.
q=$foreign/qemu-user-static
(cd "$q" && cp -a --parents usr/bin/qemu-aarch64-static usr/libexec/qemu-binfmt/aarch64-binfmt-P \
	usr/lib/binfmt.d/qemu-aarch64.conf "$dir/")
mv "$dir/usr" "$dir/qemu-usr"
cp "$foreign/busybox-arm64/bin/busybox" "$dir/busybox"
# Shells and execvp() run a file that exec refused through /bin/sh themselves:
# the demo calls execve() directly, through Python's os.execv(): PATH ARGV0 ARG...
exec_direct='import os, sys; os.execv(sys.argv[1], sys.argv[2:])'
echo "\$ od -An -tx1 -N20 $dir/busybox   (ELF64, e_machine 0xb7: aarch64)"
od -An -tx1 -N20 "$dir/busybox"

echo "== as uid 65534 in a new user namespace: mount binfmt_misc, register qemu-user-static"
# In its own mount namespace the user overlays the unpacked package's bin and
# libexec on /usr's, so that the package's line, interpreter path included, works
# as if installed. Not the whole of /usr: a mount below it (for the test kernel,
# virtme-ng's tmpfs on /lib/modules, which is /usr/lib/modules here) is locked in
# the user's mount namespace, and overlayfs refuses a lower layer with a locked
# mount inside ("failed to clone lowerpath").
# shellcheck disable=SC2016 # the script expands its own arguments
setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare --user --map-root-user --mount sh -eu -c '
	dir=$1 exec_direct=$2
	for d in bin libexec; do
		mount -t overlay overlay -o "lowerdir=$dir/qemu-usr/$d:/usr/$d" "/usr/$d"
	done
	mount -t binfmt_misc binfmt_misc "$dir/mnt"
	reg=$(cat "$dir/qemu-usr/lib/binfmt.d/qemu-aarch64.conf")
	echo "register (usr/lib/binfmt.d/qemu-aarch64.conf of the package): $reg"
	printf "%s\n" "$reg" >"$dir/mnt/register"
	# F: the kernel opened the interpreter at registration, so the package
	# may go (lazily: this shell runs from /usr/bin).
	umount -l /usr/libexec /usr/bin
	echo "(/usr/libexec/qemu-binfmt/aarch64-binfmt-P is gone again: $(ls /usr/libexec/qemu-binfmt 2>&1 | head -n 1))"
	echo "--- $dir/mnt/qemu-aarch64:"
	cat "$dir/mnt/qemu-aarch64"
	echo "---"
	run() {
		echo "\$ execve $dir/busybox [argv: busybox $*]"
		/usr/bin/python3 -c "$exec_direct" "$dir/busybox" busybox "$@"
	}
	run uname -m
	run echo hello from an arm64 busybox
	run sh -c "echo six times seven is \$((6 * 7))"
	echo -1 >"$dir/mnt/status"
	umount "$dir/mnt"
' sh "$dir" "$exec_direct"

echo "== back in the initial namespace (uid 0), the host's instance is unchanged:"
mount -t binfmt_misc binfmt_misc "$dir/host"
entries=("$dir/host"/*)
echo "entries: ${entries[*]##*/}"
echo "\$ execve $dir/busybox [argv: busybox uname -m]"
/usr/bin/python3 -c "$exec_direct" "$dir/busybox" busybox uname -m 2>&1 | tail -n 1 || true

# A stand-in for qemu-riscv64 in the 'B' part below, which says what it was
# asked to run. With qemu's P flag the kernel passes the binary's path, its
# argv[0], then its args.
cat >"$dir/qemu-riscv64" <<-'EOF'
	#!/bin/sh
	prog=$1 argv0=$2
	shift 2
	echo "  [stand-in ${0##*/}] asked to run $prog as: $argv0 $*"
EOF
chmod 755 "$dir/qemu-riscv64"

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
# aarch64: the real qemu-user-static, through the package's -binfmt-P name;
# riscv64: the stand-in.
echo "+aarch64 $dir/qemu-usr/libexec/qemu-binfmt/aarch64-binfmt-P" >"$dir/host/foreign"
echo "+riscv64 $dir/qemu-riscv64" >"$dir/host/foreign"
echo 1 >"$dir/host/foreign"
echo "--- $dir/host/foreign:"
cat "$dir/host/foreign"
echo "---"
echo "\$ execve $dir/busybox [argv: busybox echo routed by a bpf handler]"
/usr/bin/python3 -c "$exec_direct" "$dir/busybox" busybox echo routed by a bpf handler
echo "\$ execve $dir/elf-riscv64 [argv: elf-riscv64 a b]"
/usr/bin/python3 -c "$exec_direct" "$dir/elf-riscv64" elf-riscv64 a b
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
