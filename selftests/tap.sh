# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# TAP output for the selftests written in bash (*_test.sh); source it. The plan
# line comes last, then the kselftest-style totals that the runner checks for.
n=0 npass=0 nfail=0 nskip=0
diag() {
	local line
	while IFS= read -r line; do echo "# $line"; done <<<"$1"
}
pass() {
	n=$((n + 1)) npass=$((npass + 1))
	echo "ok $n $1"
}
fail() {
	n=$((n + 1)) nfail=$((nfail + 1))
	echo "not ok $n $1"
	if [ $# -gt 1 ]; then diag "$2"; fi
}
skip() {
	n=$((n + 1)) nskip=$((nskip + 1))
	echo "ok $n $1 # SKIP $2"
}
# expect NAME WANT GOT: one result, with both texts on a mismatch.
expect() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "$(printf 'expected:\n%s\ngot:\n%s' "$2" "$3")"
	fi
}
# expect_match NAME REGEX TEXT
expect_match() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1" "$(printf 'expected a match of:\n%s\ngot:\n%s' "$2" "$3")"
	fi
}
finish() {
	echo "1..$n"
	echo "# Totals: pass:$npass fail:$nfail xfail:0 xpass:0 skip:$nskip error:0"
	exit $((nfail > 0))
}
