#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Existing userspace tools, unchanged, against whichever binfmt_misc is loaded:
#   a. systemd-binfmt, with a config file of ours and with Debian's qemu file;
#   b. Debian's update-binfmts (binfmt-support): --install, --display, --disable,
#      --enable, --remove, --import and --unimport of Debian's qemu format file;
#   c. the register strings qemu's qemu-binfmt-conf.sh writes, with each of its
#      flag options, taken from Debian's qemu-user-binfmt files (unpacked on the
#      host by scripts/setup.sh; $BMTEST_QEMU_BINFMT_DIR overrides where).
# Every handler runs progs/show_args, a stand-in interpreter printing the argv
# it got; files run through progs/exec_direct, a bare execve() (a shell would
# retry a refused file with /bin/sh). Runs as root in the test guest, against
# /proc/sys/fs/binfmt_misc (mounted here if it is not), and leaves no entry
# behind. Prints TAP; the plan line comes last.
set -u

here=$(cd "$(dirname "$0")" && pwd)
procdir=/proc/sys/fs/binfmt_misc
exec_direct=$here/progs/exec_direct
show_args=$here/progs/show_args
# shellcheck source=../scripts/lib.sh
qdir=${BMTEST_QEMU_BINFMT_DIR:-$(. "$here/../scripts/lib.sh" && qemu_binfmt_dir)}
qconf=$qdir/usr/lib/binfmt.d
qformats=$qdir/usr/share/binfmts

# shellcheck source=tap.sh
. "$here/tap.sh"

# The entry file's text, or the error reading it.
entry() { cat "$procdir/$1" 2>&1; }
# What 6.12's entry files say (without the final newline, as $(...) gives it).
ext_entry() { # INTERPRETER FLAGS EXTENSION
	printf 'enabled\ninterpreter %s\nflags: %s\nextension .%s' "$1" "$2" "$3"
}
magic_entry() { # INTERPRETER FLAGS OFFSET MAGIC_HEX [MASK_HEX]
	printf 'enabled\ninterpreter %s\nflags: %s\noffset %s\nmagic %s' "$1" "$2" "$3" "$4"
	if [ -n "${5:-}" ]; then printf '\nmask %s' "$5"; fi
}
# The bytes of a register-string field ("\x7f\x45..." or text) as lowercase hex.
hexof() { printf '%b' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# Runs FILE with argv ARGV0 ARG... by execve() alone; prints what ran or the error.
run() { timeout 30 "$exec_direct" "$@" 2>&1; }
# What show_args prints for EXECFD (yes|no) and argv ARG...
ran() {
	local fd=$1 i=0 a
	shift
	for a; do
		printf 'argv[%d]=%s\n' "$i" "$a"
		i=$((i + 1))
	done
	printf 'execfd: %s' "$fd"
}
enoexec='execve: Exec format error'
enoent='execve: No such file or directory'
# The entries present, but for register and status, one per line.
entries() { find "$procdir" -mindepth 1 -maxdepth 1 ! -name register ! -name status -printf '%f\n' | sort; }

tmp=$(mktemp -d /tmp/bmtools.XXXXXX)
chmod 755 "$tmp"
bin=$tmp/bin
mkdir -m 755 "$bin"
interp=$bin/interp
cp "$show_args" "$interp"
mounted_here=
# shellcheck disable=SC2329 # run by the trap
cleanup() {
	local e
	for e in $(entries); do
		case $e in bmtools-* | qemu-*) echo -1 >"$procdir/$e" ;; esac
	done
	if [ -n "$mounted_here" ]; then umount "$procdir"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

diag "implementation: ${BMTEST_IMPL:-unknown}; qemu files: $qdir"
if ! mountpoint -q "$procdir"; then
	if mount -t binfmt_misc binfmt_misc "$procdir"; then
		mounted_here=1
	else
		fail "mount binfmt_misc on $procdir"
		finish
	fi
fi
expect "binfmt_misc is enabled and has no entries to begin with" \
	"enabled" "$(cat "$procdir/status"; entries)"

# ---------------------------------------------------------------------------
# a. systemd-binfmt
sd=
for p in /lib/systemd/systemd-binfmt /usr/lib/systemd/systemd-binfmt; do
	if [ -x "$p" ]; then sd=$p && break; fi
done
sd_tests=("systemd-binfmt registers a config file's rules"
	"systemd-binfmt: extension entry text" "systemd-binfmt: masked magic entry text"
	"systemd-binfmt: extension handler runs the file" "systemd-binfmt: magic handler runs the file (P)"
	"systemd-binfmt: applying the same file again" "systemd-binfmt --unregister removes every entry"
	"systemd-binfmt --unregister: the file no longer runs"
	"systemd-binfmt applies qemu-user-binfmt's qemu-aarch64.conf unchanged"
	"qemu-aarch64.conf: entry text" "qemu-aarch64.conf: a fake aarch64 ELF goes to its (absent) interpreter")
if [ -z "$sd" ]; then
	for t in "${sd_tests[@]}"; do skip "$t" "no systemd-binfmt"; done
else
	diag "$sd: $("$sd" --version | head -n 1)"
	mkdir "$tmp/binfmt.d"
	conf=$tmp/binfmt.d/bmtools.conf
	cat >"$conf" <<-EOF
		# A comment, an empty line, an extension rule, and a magic rule with a
		# mask that makes its third byte case-insensitive.

		:bmtools-sd-ext:E::bmtsd::$interp:
		:bmtools-sd-magic:M:3:BMTSD:\\xff\\xff\\xdf\\xff\\xff:$interp:P
	EOF
	expect "${sd_tests[0]}" "rc 0" "$("$sd" "$conf" 2>&1; echo "rc $?")"
	expect "${sd_tests[1]}" "$(ext_entry "$interp" "" bmtsd)" "$(entry bmtools-sd-ext)"
	expect "${sd_tests[2]}" "$(magic_entry "$interp" P 3 "$(hexof BMTSD)" ffffdfffff)" \
		"$(entry bmtools-sd-magic)"
	printf 'not a script\n' >"$tmp/hello.bmtsd"
	printf 'xyzBMtSD, matched through the mask\n' >"$tmp/magic-sd"
	chmod 755 "$tmp/hello.bmtsd" "$tmp/magic-sd"
	expect "${sd_tests[3]}" "$(ran no "$interp" "$tmp/hello.bmtsd" a1)" \
		"$(run "$tmp/hello.bmtsd" argv0 a1)"
	expect "${sd_tests[4]}" "$(ran no "$interp" "$tmp/magic-sd" argv0 a1)" \
		"$(run "$tmp/magic-sd" argv0 a1)"
	# It deletes each rule's old entry before registering it anew.
	expect "${sd_tests[5]}" "$(printf 'rc 0\nbmtools-sd-ext\nbmtools-sd-magic')" \
		"$("$sd" "$conf" 2>&1; echo "rc $?"; entries)"
	expect "${sd_tests[6]}" "rc 0" "$("$sd" --unregister 2>&1; echo "rc $?"; entries)"
	expect "${sd_tests[7]}" "$enoexec" "$(run "$tmp/hello.bmtsd" argv0 a1)"

	# Debian's file as shipped: its interpreter is not on this machine, so a
	# match shows as ENOENT (the kernel found the handler, not its interpreter).
	qa=$qconf/qemu-aarch64.conf
	if [ ! -f "$qa" ]; then
		for t in "${sd_tests[@]:8}"; do fail "$t" "$qa is missing: run scripts/setup.sh"; done
	else
		IFS=: read -r _ _ _ _ magic mask dinterp dflags <"$qa"
		printf '%b' "$magic" >"$tmp/aarch64-sd"
		chmod 755 "$tmp/aarch64-sd"
		expect "${sd_tests[8]}" "$(printf 'rc 0\nqemu-aarch64')" "$("$sd" "$qa" 2>&1; echo "rc $?"; entries)"
		# Debian asks for O and P; the kernel lists flags in the order P, O, C, F.
		expect "${sd_tests[9]}" "$(magic_entry "$dinterp" "$([ "$dflags" = OP ] && echo PO || echo "?$dflags")" 0 "$(hexof "$magic")" "$(hexof "$mask")")" \
			"$(entry qemu-aarch64)"
		expect "${sd_tests[10]}" "$enoent" "$(run "$tmp/aarch64-sd" argv0)"
		"$sd" --unregister
	fi
fi

# ---------------------------------------------------------------------------
# b. update-binfmts, with its database and import directory in $tmp: nothing
# of the machine's (the guest's root is the host's) is read or written.
ub=$(command -v update-binfmts || echo /usr/sbin/update-binfmts)
ub_tests=("update-binfmts --install (magic, credentials, preserve, fix-binary)"
	"update-binfmts --install (extension)" "update-binfmts: magic entry text" "update-binfmts: extension entry text"
	"update-binfmts: magic handler runs the file" "update-binfmts: extension handler runs the file"
	"update-binfmts --display" "update-binfmts --disable removes the entry" "update-binfmts --disable: the file no longer runs"
	"update-binfmts --enable registers it again" "update-binfmts --enable: the file runs"
	"update-binfmts --remove" "update-binfmts --import of qemu-user-binfmt's qemu-aarch64 format file"
	"update-binfmts --import: entry text" "update-binfmts --import: a fake aarch64 ELF runs (P)"
	"update-binfmts --unimport")
if [ ! -x "$ub" ]; then
	for t in "${ub_tests[@]}"; do fail "$t" "no update-binfmts: run scripts/setup.sh"; done
else
	mkdir "$tmp/ub-admin" "$tmp/ub-import"
	ubx() { "$ub" --admindir "$tmp/ub-admin" --importdir "$tmp/ub-import" "$@" 2>&1; }
	expect "${ub_tests[0]}" "rc 0" "$(ubx --install bmtools-ub "$interp" --magic 'BM\x55B' --offset 2 \
		--credentials yes --preserve yes --fix-binary yes; echo "rc $?")"
	expect "${ub_tests[1]}" "rc 0" "$(ubx --install bmtools-ub-ext "$interp" --extension bmtub; echo "rc $?")"
	expect "${ub_tests[2]}" "$(magic_entry "$interp" POCF 2 "$(hexof BMUB)")" "$(entry bmtools-ub)"
	expect "${ub_tests[3]}" "$(ext_entry "$interp" "" bmtub)" "$(entry bmtools-ub-ext)"
	printf '..BMUB\n' >"$tmp/magic-ub"
	printf 'not a script\n' >"$tmp/hello.bmtub"
	chmod 755 "$tmp/magic-ub" "$tmp/hello.bmtub"
	expect "${ub_tests[4]}" "$(ran yes "$interp" "$tmp/magic-ub" argv0 a1)" "$(run "$tmp/magic-ub" argv0 a1)"
	expect "${ub_tests[5]}" "$(ran no "$interp" "$tmp/hello.bmtub" a1)" "$(run "$tmp/hello.bmtub" argv0 a1)"
	expect "${ub_tests[6]}" "bmtools-ub (enabled):" "$(ubx --display bmtools-ub | head -n 1)"
	expect "${ub_tests[7]}" "$(printf 'rc 0\nbmtools-ub-ext')" "$(ubx --disable bmtools-ub; echo "rc $?"; entries)"
	expect "${ub_tests[8]}" "$enoexec" "$(run "$tmp/magic-ub" argv0 a1)"
	expect "${ub_tests[9]}" "$(printf 'rc 0\nbmtools-ub\nbmtools-ub-ext')" "$(ubx --enable bmtools-ub; echo "rc $?"; entries)"
	expect "${ub_tests[10]}" "$(ran yes "$interp" "$tmp/magic-ub" argv0 a1)" "$(run "$tmp/magic-ub" argv0 a1)"
	expect "${ub_tests[11]}" "rc 0" "$(ubx --remove bmtools-ub "$interp" && ubx --remove bmtools-ub-ext "$interp"
		echo "rc $?"; entries; ls "$tmp/ub-admin")"

	qf=$qformats/qemu-aarch64
	if [ ! -f "$qf" ]; then
		for t in "${ub_tests[@]:12}"; do fail "$t" "$qf is missing: run scripts/setup.sh"; done
	else
		# Debian's format file with one change: the interpreter.
		sed "s|^interpreter .*|interpreter $bin/qemu-aarch64|" "$qf" >"$tmp/ub-import/qemu-aarch64"
		cp "$show_args" "$bin/qemu-aarch64"
		magic=$(sed -n 's/^magic //p' "$qf")
		mask=$(sed -n 's/^mask //p' "$qf")
		printf '%b' "$magic" >"$tmp/aarch64-ub"
		chmod 755 "$tmp/aarch64-ub"
		expect "${ub_tests[12]}" "$(printf 'rc 0\nqemu-aarch64')" "$(ubx --import qemu-aarch64; echo "rc $?"; entries)"
		expect "${ub_tests[13]}" "$(magic_entry "$bin/qemu-aarch64" P 0 "$(hexof "$magic")" "$(hexof "$mask")")" \
			"$(entry qemu-aarch64)"
		expect "${ub_tests[14]}" "$(ran no "$bin/qemu-aarch64" "$tmp/aarch64-ub" argv0 a1)" \
			"$(run "$tmp/aarch64-ub" argv0 a1)"
		expect "${ub_tests[15]}" "rc 0" "$(ubx --unimport qemu-aarch64; echo "rc $?"; entries; ls "$tmp/ub-admin")"
	fi
fi

# ---------------------------------------------------------------------------
# c. qemu-binfmt-conf.sh's register strings, ":qemu-CPU:M::MAGIC:MASK:PATH:FLAGS",
# written to register as it does (echo), with the flags of its options:
# --credential yes gives OC, --persistent yes F, --preserve-argv0 yes P (Debian's
# own files ask for OP). MAGIC and MASK come from Debian's files.
declare -A qflags=([aarch64]=OP [arm]=F [riscv64]=P [s390x]=OC [ppc64le]=OCFP [mips64el]="")
# What the kernel lists for those flags (order P, O, C, F; C implies O).
declare -A qshown=([aarch64]=PO [arm]=F [riscv64]=P [s390x]=OC [ppc64le]=POCF [mips64el]="")
cpus=(aarch64 arm riscv64 s390x ppc64le mips64el)
# A fake ELF header for a register string's magic/mask: the magic's bytes, with
# bit 0 set wherever the mask clears it (e_type 2 becomes 3, ET_DYN; EI_OSABI
# becomes 1), padded to a 64-byte ELF header. FLIP xors one more byte, to make
# a header that must not match: "INDEX:VALUE".
fake_elf() { # MAGIC MASK OUT [FLIP]
	local -a m k
	local i b out=
	read -ra m <<<"${1//\\x/ }"
	read -ra k <<<"${2//\\x/ }"
	for i in "${!m[@]}"; do
		b=$((0x${m[i]} | (~0x${k[i]} & 1)))
		if [ -n "${4:-}" ] && [ "${4%%:*}" = "$i" ]; then b=$((b ^ ${4#*:})); fi
		out+=$(printf '\\x%02x' "$b")
	done
	for ((i = ${#m[@]}; i < 64; i++)); do out+='\x00'; done
	printf '%b' "$out" >"$3"
	chmod 755 "$3"
}
for cpu in "${cpus[@]}"; do
	f=$qconf/qemu-$cpu.conf
	if [ ! -f "$f" ]; then
		fail "qemu-$cpu: register string" "$f is missing: run scripts/setup.sh"
		continue
	fi
	IFS=: read -r _ _ _ _ magic mask _ _ <"$f"
	flags=${qflags[$cpu]}
	q=$bin/qemu-$cpu
	cp "$show_args" "$q"
	reg=":qemu-$cpu:M::$magic:$mask:$q:$flags"
	fake_elf "$magic" "$mask" "$tmp/$cpu.elf"
	expect "qemu-$cpu: register '$flags'" "" "$({ echo "$reg" >"$procdir/register"; } 2>&1)"
	expect "qemu-$cpu: entry text" "$(magic_entry "$q" "${qshown[$cpu]}" 0 "$(hexof "$magic")" "$(hexof "$mask")")" \
		"$(entry "qemu-$cpu")"
	a0=
	case $flags in *P*) a0=/usr/bin/$cpu-program ;; esac
	fd=no
	case $flags in *O* | *C*) fd=yes ;; esac
	# shellcheck disable=SC2086 # an empty $a0 is no argument
	expect "qemu-$cpu: a fake $cpu ELF runs the interpreter" \
		"$(ran "$fd" "$q" "$tmp/$cpu.elf" $a0 a1 "two words")" \
		"$(run "$tmp/$cpu.elf" "/usr/bin/$cpu-program" a1 "two words")"
done
# F opens the interpreter at registration: moving it away changes nothing for
# arm (F) and makes riscv64 (no F) fail with ENOENT.
mv "$bin/qemu-arm" "$bin/qemu-arm.away"
mv "$bin/qemu-riscv64" "$bin/qemu-riscv64.away"
expect "qemu-arm (F): runs with its interpreter moved away" \
	"$(ran no "$bin/qemu-arm" "$tmp/arm.elf" a1)" "$(run "$tmp/arm.elf" argv0 a1)"
expect "qemu-riscv64 (no F): fails with its interpreter moved away" \
	"$enoent" "$(run "$tmp/riscv64.elf" argv0 a1)"
mv "$bin/qemu-arm.away" "$bin/qemu-arm"
mv "$bin/qemu-riscv64.away" "$bin/qemu-riscv64"
# An aarch64 header with e_machine 0xb7 ^ 0x40 = 0xf7 matches no handler.
IFS=: read -r _ _ _ _ magic mask _ _ <"$qconf/qemu-aarch64.conf"
fake_elf "$magic" "$mask" "$tmp/other.elf" 18:0x40
expect "an ELF header of another machine matches no qemu handler" "$enoexec" "$(run "$tmp/other.elf" argv0)"
got=() want=()
for cpu in "${cpus[@]}"; do
	if [ -e "$procdir/qemu-$cpu" ]; then echo -1 >"$procdir/qemu-$cpu"; fi
	got+=("$(run "$tmp/$cpu.elf" argv0)")
	want+=("$enoexec")
done
expect "qemu: writing -1 removes each entry; its files no longer run" \
	"$(printf '%s\n' "${want[@]}")" "$(printf '%s\n' "${got[@]}"; entries)"

expect "no entries left behind" "" "$(entries)"
finish
