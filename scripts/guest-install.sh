#!/bin/bash
# Runs inside a guest of Debian's stock kernel (scripts/run-install-test.sh):
# installs the module the two ways a user does, checks that binfmt_misc then
# means this module, uninstalls, and checks that it means the kernel's again.
# /etc, /lib/modules, /usr/local, /usr/libexec and /usr/bin are overlays (the
# host's stay untouched).
#   guest-install.sh BUILD_DIR DKMS_DIR OUT FOREIGN_DIR CARGO_HOME
# BUILD_DIR: the module built against this kernel's headers; DKMS_DIR: a DKMS
# source and module tree where the host added and built it; FOREIGN_DIR: what
# scripts/setup.sh unpacked of qemu-user-static and arm64 busybox; CARGO_HOME:
# where the host's rustup put the Rust toolchain. Writes one
# "ok NAME" / "FAIL NAME" line per check to OUT/results.
set -u
build=$1 dkms_dir=$2 out=$3 foreign=$4 cargo_home=$5
release=$(uname -r)
kdir=/lib/modules/$release/build
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$build/dkms.conf")
dkms_flags=(--dkmstree "$dkms_dir/tree" --sourcetree "$dkms_dir/source")
mnt=/tmp/bmrs-install-mnt
mkdir -p "$mnt"
echo booted >"$out/booted"

result() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1"; fi >>"$out/results"; }
# run NAME CMD...: one result, the command's output in OUT/log.
run() {
	local name=$1
	shift
	echo "== $(date +%T) $name: $*" >>"$out/log"
	"$@" >>"$out/log" 2>&1
	result "$name" $?
}
loaded() { [ -d "/sys/module/$1" ]; }
# what_loads NAME EXPECTED: with neither module loaded, what mount -t binfmt_misc
# (the kernel's request for fs-binfmt_misc) and modprobe binfmt_misc load.
what_loads() {
	local name=$1 want=$2 other=binfmt_misc
	[ "$want" = binfmt_misc ] && other=binfmt_misc_rs
	! loaded binfmt_misc && ! loaded binfmt_misc_rs
	result "$name: neither module loaded before" $?
	mount -t binfmt_misc none "$mnt" 2>>"$out/log"
	loaded "$want" && ! loaded "$other" && grep -q enabled "$mnt/status"
	result "$name: mount -t binfmt_misc loads $want" $?
	umount "$mnt" 2>/dev/null
	rmmod "$want" 2>>"$out/log"
	modprobe binfmt_misc 2>>"$out/log"
	loaded "$want" && ! loaded "$other"
	result "$name: modprobe binfmt_misc loads $want" $?
	modprobe -r binfmt_misc 2>>"$out/log" || rmmod "$want" 2>>"$out/log"
	! loaded "$want"
	result "$name: modprobe -r binfmt_misc unloads it" $?
}

what_loads "before install" binfmt_misc

tool=/usr/local/sbin/binfmt-misc-handler
run "make install" make -C "$build" KDIR="$kdir" install
"$tool" --help 2>>"$out/log" | grep -q SYNOPSIS
result "make install: $tool runs" $?
what_loads "after make install" binfmt_misc_rs
run "make uninstall" make -C "$build" KDIR="$kdir" uninstall
[ ! -e "$tool" ]
result "make uninstall: $tool removed" $?
what_loads "after make uninstall" binfmt_misc

# The host ran `dkms add` and `dkms build` on these trees (building under
# emulation would take long); here the rest of `make dkms-install`.
run "dkms install" dkms install "${dkms_flags[@]}" -m binfmt_misc_rs -v "$version" -k "$release"
run "modprobe.d file installed" install -D -m 644 "$build/binfmt_misc_rs.modprobe.conf" /etc/modprobe.d/binfmt_misc_rs.conf
what_loads "after dkms install" binfmt_misc_rs
# README's way from nothing to a 'B' handler in an unprivileged user namespace,
# followed from `make tools install-tools` on: its marked blocks run as written.
# Set-up installed what its apt-get line asks for on the host, which the guest
# shares, but for two things that would touch the host's binfmt_misc or apt
# state: qemu-user-static's files are copied into the guest's /usr overlay, and
# the arm64 busybox into the user's arm64/.
readme_block() { awk -v tag="<!-- readme-run: $1" 'index($0, tag) == 1 { p = 1; next }
	p && /^    / { print substr($0, 5); next } p && NF { exit }' "$build/README.md"; }
follow_readme() {
	local work=/tmp/bmrs-readme pidfile fifo user_out
	# A root shell's PATH, where `make install-tools` puts the tool, with the
	# README's `. "$HOME/.cargo/env"`: `make tools` checks the Rust toolchain.
	export PATH=/usr/local/sbin:/usr/local/bin:$PATH
	# shellcheck source=/dev/null
	. "$cargo_home/env" || return 1
	rm -rf "$work" && mkdir -p "$work/arm64/bin" && chmod 755 "$work"
	cp -a "$foreign/qemu-user-static/usr/bin/qemu-aarch64-static" /usr/bin/
	cp -a "$foreign/qemu-user-static/usr/libexec/qemu-binfmt" /usr/libexec/
	cp "$foreign/busybox-arm64/bin/busybox" "$work/arm64/bin/"
	chown -R 65534:65534 "$work"
	pidfile=$work/pid fifo=$work/go user_out=$work/user.out
	mkfifo "$fifo" && chmod 666 "$fifo"
	# (BMRS_TEST_KDIR= : KDIR defaults to the running kernel's headers, as for
	# a user, although this machine has the project's test kernel.)
	make -C "$build" BMRS_TEST_KDIR= tools install-tools || return 1
	bash -ec "$(readme_block root-setup)" || return 1
	# The user's shell in its own namespace: says its pid, waits for root.
	# shellcheck disable=SC2016 # expanded by the user's shell
	(cd "$work" && setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare --user --map-root-user --mount sh -ec 'echo $$ >"$1"; read -r _ <"$2"; eval "$3"' \
		sh "$pidfile" "$fifo" "$(readme_block user)" >"$user_out" 2>&1) &
	local user=$! n=0
	while [ ! -s "$pidfile" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	PID=$(cat "$pidfile") bash -ec "$(readme_block root-register)"
	local rc=$?
	echo go >"$fifo"
	wait "$user" || rc=1
	cat "$user_out"
	binfmt-misc-handler unregister demo_foreign || rc=1
	[ $rc = 0 ] && [ "$(tail -n 1 "$user_out")" = aarch64 ] && grep -q '^enabled' "$user_out"
}
run "README: make tools install-tools, then a 'B' handler in an unprivileged user namespace" follow_readme
# The user's instance is released up to a minute after its namespace ends; the
# module unloads then, and the checks below start from neither module loaded.
unload_rs() {
	local i
	for i in $(seq 90); do
		loaded binfmt_misc_rs || return 0
		rmmod binfmt_misc_rs 2>/dev/null && return 0
		sleep 1
	done
	return 1
}
run "README: the module unloads afterwards" unload_rs

run "make dkms-uninstall" make -C "$build" KDIR="$kdir" DKMS_FLAGS="${dkms_flags[*]}" \
	DKMS_SRC_ROOT="$dkms_dir/source" dkms-uninstall
what_loads "after make dkms-uninstall" binfmt_misc

dmesg >"$out/dmesg.txt"
echo done >"$out/done"
