#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/binfmt-misc-handler, the command-line tool for 'B' handlers, against the
# loaded module: register a selftest's bpf object (bpf/gen/bound.bpf.o, handler
# bmt_bound, map "ops": the pin is named after the handler), list it, run a file
# through a 'B' entry naming it, unregister it; a plain SEC(".struct_ops") map
# (fixed_nolink.bpf.o, bmt_fixed) found by name; a handler registered into
# another user namespace (--userns); usage errors and the manual.
# Only this module has 'B' entries (6.12's C module does not): on `c` every test
# is skipped. Runs as root in the test guest; pins under /sys/fs/bpf (mounted
# here if it is not). Prints TAP; the plan line comes last.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tool=$here/../tools/binfmt-misc-handler
gen=$here/bpf/gen
procdir=/proc/sys/fs/binfmt_misc
exec_direct=$here/progs/exec_direct
show_args=$here/progs/show_args
bpffs=/sys/fs/bpf
pins=$bpffs/bmtest-tool/pins

# shellcheck source=tap.sh
. "$here/tap.sh"

tests=("register of a bpf object: exit 0, one line per handler"
	"list shows the handler, its ids and its pin"
	"a 'B' entry naming it registers and runs a file through it"
	"unregister: exit 0, pin removed"
	"unregister: list is empty"
	"unregister: the entry keeps the handler it holds, as the module documents"
	"unregister: a new 'B' entry cannot name it (ENOENT)"
	"unregister: with the entry removed, the file does not run (ENOEXEC)"
	"a plain .struct_ops map: registered, listed without a link"
	"a plain map stays registered without its pin; unregister finds it by name"
	"register --userns PID: the handler is that namespace's, not the caller's"
	"unregister nosuch: exit 1 and a message"
	"register with the pin dir off bpffs: exit 1, says to mount bpffs"
	"bad usage: exit 2"
	"--help and help: exit 0, the manual")

if [ "${BMTEST_IMPL:-}" != rust ]; then
	for t in "${tests[@]}"; do skip "$t" "6.12's C binfmt_misc has no 'B' (bpf) entries"; done
	finish
fi

# tool ARGS...: runs the tool; sets out (stdout), errout (stderr), rc.
tool() {
	local e
	e=$(mktemp)
	out=$("$tool" "$@" 2>"$e")
	rc=$?
	errout=$(<"$e")
	rm -f "$e"
}
run() { timeout 30 "$exec_direct" "$@" 2>&1; }
enoexec='execve: Exec format error'

tmp=$(mktemp -d /tmp/bmtool.XXXXXX)
chmod 755 "$tmp"
mounted_here= bpffs_here=
# shellcheck disable=SC2329 # run by the trap
cleanup() {
	[ -e "$procdir/bmtest_tool" ] && echo -1 >"$procdir/bmtest_tool"
	"$tool" unregister --pin-dir "$pins" bmt_bound >/dev/null 2>&1
	"$tool" unregister --pin-dir "$pins" bmt_fixed >/dev/null 2>&1
	rm -rf "$bpffs/bmtest-tool"
	if [ -n "$mounted_here" ]; then umount "$procdir"; fi
	if [ -n "$bpffs_here" ]; then umount "$bpffs"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

for f in "$tool" "$gen/bound.bpf.o" "$gen/fixed_nolink.bpf.o"; do
	if [ ! -e "$f" ]; then
		fail "$f is built" "make -C selftests (it builds the tool too)"
		finish
	fi
done
if ! mountpoint -q "$procdir"; then
	mount -t binfmt_misc binfmt_misc "$procdir" && mounted_here=1 || { fail "mount binfmt_misc"; finish; }
fi
if ! mountpoint -q "$bpffs"; then
	mount -t bpf bpf "$bpffs" && bpffs_here=1 || { fail "mount bpffs"; finish; }
fi
tool list -q
if [ -n "$out" ] || [ "$rc" != 0 ]; then
	fail "no binfmt_misc_ops handler registered to begin with" "rc $rc: $out $errout"
	finish
fi

# --- a .struct_ops.link handler, through a 'B' entry ------------------------
tool register "$gen/bound.bpf.o" --pin-dir "$pins"
expect_match "${tests[0]}" "^0 registered bmt_bound map [0-9]+ link [0-9]+ pin $pins/bmt_bound\$" "$rc $out"
read -r _ _ _ map_id _ link_id _ <<<"$out"
tool list --pin-dir "$pins"
expect "${tests[1]}" "$(printf '0\nNAME MAP_ID LINK_ID PIN\nbmt_bound %s %s %s' "$map_id" "$link_id" "$pins/bmt_bound")" \
	"$(printf '%s\n%s' "$rc" "$out")"

printf '#BMTSEL:show\n' >"$tmp/file"
# A copy: a bound interpreter is write-denied while its entry lives.
cp "$show_args" "$tmp/interp"
chmod 755 "$tmp/file" "$tmp/interp"
# The entry is staged (D) until the interpreter "show" is bound to it.
ran_ok="$(printf 'argv[0]=%s\nargv[1]=%s\nargv[2]=x\nexecfd: no' "$tmp/interp" "$tmp/file")"
{
	echo ":bmtest_tool:B::::bmt_bound:D" >"$procdir/register" &&
		echo "+show $tmp/interp" >"$procdir/bmtest_tool" &&
		echo 1 >"$procdir/bmtest_tool"
} 2>"$tmp/err"
expect "${tests[2]}" "$ran_ok" "$(cat "$tmp/err"; run "$tmp/file" file x)"

tool unregister bmt_bound --pin-dir "$pins"
expect "${tests[3]}" "0 unregistered bmt_bound (removed $pins/bmt_bound) absent" \
	"$rc $out $([ -e "$pins/bmt_bound" ] && echo present || echo absent)"
tool list --pin-dir "$pins"
expect "${tests[4]}" "0 " "$rc $out$errout"
expect "${tests[5]}" "$ran_ok" "$(run "$tmp/file" file x)"
expect "${tests[6]}" "No such file or directory" \
	"$( (echo ":bmtest_tool2:B::::bmt_bound:" >"$procdir/register") 2>&1 | sed 's/.*: //')"
echo -1 >"$procdir/bmtest_tool"
expect "${tests[7]}" "$enoexec" "$(run "$tmp/file" file x)"

# --- a plain .struct_ops map --------------------------------------------------
tool register "$gen/fixed_nolink.bpf.o" --pin-dir "$pins"
reg="$rc $out"
tool list -q --pin-dir "$pins"
expect_match "${tests[8]}" \
	"^0 registered bmt_fixed map ([0-9]+) link - pin $pins/bmt_fixed 0 bmt_fixed ([0-9]+) - $pins/bmt_fixed\$" \
	"$reg $rc $out"
rm "$pins/bmt_fixed"
tool list -q --pin-dir "$pins"
listed="$rc $out"
tool unregister bmt_fixed --pin-dir "$pins"
unreg="$rc $out"
tool list -q --pin-dir "$pins"
expect_match "${tests[9]}" "^0 bmt_fixed [0-9]+ - - / 0 unregistered bmt_fixed / 0 \$" \
	"$listed / $unreg / $rc $out"

# --- --userns: how a sandbox without privileges gets a handler ---------------
# A process in a user namespace of its own (and a mount namespace it owns); the
# handler registered into it must be nameable by an entry of that namespace's
# instance (mounted there) and not by the initial namespace's.
mkdir -m 755 "$tmp/nsmnt"
unshare --user --map-root-user --mount sleep 60 &
ns_pid=$!
for _ in $(seq 50); do
	[ "$(readlink "/proc/$ns_pid/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
	sleep 0.1
done
tool register "$gen/bound.bpf.o" --pin-dir "$pins" --userns "$ns_pid"
reg="$rc $out $errout"
# shellcheck disable=SC2016 # expanded by the inner shell
in_ns=$(nsenter --user --mount --target "$ns_pid" sh -c '
	mount -t binfmt_misc binfmt_misc "$1" &&
		echo ":bmtest_ns:B::::bmt_bound:D" >"$1/register" && echo registered' sh "$tmp/nsmnt" 2>&1)
in_init=$( (echo ":bmtest_tool3:B::::bmt_bound:" >"$procdir/register") 2>&1 | sed 's/.*: //')
[ -e "$procdir/bmtest_tool3" ] && echo -1 >"$procdir/bmtest_tool3"
kill "$ns_pid" 2>/dev/null
wait "$ns_pid" 2>/dev/null
tool unregister bmt_bound --pin-dir "$pins"
expect_match "${tests[10]}" \
	"^0 registered bmt_bound map [0-9]+ link [0-9]+ pin $pins/bmt_bound +/ registered / No such file or directory / 0\$" \
	"$reg / $in_ns / $in_init / $rc"

# --- errors and usage ---------------------------------------------------------
tool unregister nosuch --pin-dir "$pins"
expect_match "${tests[11]}" "^1 nosuch: no such handler registered" "$rc ${errout#*: }"
tool register "$gen/bound.bpf.o" --pin-dir "$tmp/pins"
expect_match "${tests[12]}" "^1 .* is not on bpffs \(mount it first: mount -t bpf bpf /sys/fs/bpf\) (absent)\$" \
	"$rc $errout $(tool list -q; [ -z "$out" ] && echo absent)"
usage=
for args in "" "frobnicate" "register" "register a b" "list extra" "unregister" \
	"unregister a/b" "--no-such-option list" "list --pin-dir"; do
	# shellcheck disable=SC2086 # word splitting wanted
	tool $args
	[ "$rc" = 2 ] && [[ $errout == *usage:* ]] || usage+="'$args': rc $rc, stderr: $errout"$'\n'
done
expect "${tests[13]}" "" "$usage"
help=
for args in --help help -h; do
	tool $args
	[ "$rc" = 0 ] && [[ $out == *SYNOPSIS* ]] && [[ $out == *"EXIT STATUS"* ]] && [ -z "$errout" ] ||
		help+="'$args': rc $rc"$'\n'
done
expect "${tests[14]}" "" "$help"
finish
