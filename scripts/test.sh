#!/usr/bin/env bash
# Every test of the project, from a fresh machine: installs what is missing, builds
# the test kernel (cached), the module and the selftests, then runs the host tests,
# the static checks, and the selftests in QEMU against both implementations.
# Ends with the line "N passed, N failed".
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

passed=0 failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-test.XXXXXX")
pass() { printf 'ok    %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s\n' "$1"; failed=$((failed + 1)); }
# check NAME CMD...: one pass or fail, with the command's output tail on failure.
check() {
	local name=$1 out
	shift
	out=$work/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_').log
	if "$@" >"$out" 2>&1; then
		pass "$name"
	else
		fail "$name"
		tail -n 40 "$out" | sed 's/^/    | /'
	fi
}
finish() {
	echo "$passed passed, $failed failed"
	exit $((failed > 0))
}

check "set-up (scripts/setup.sh)" scripts/setup.sh
# Refresh PATH for what set-up just installed.
. scripts/lib.sh
kdir=$(kernel_dir)
check "test kernel build (scripts/build-kernel.sh)" scripts/build-kernel.sh
[ -f "$kdir/.binfmt_misc_rs-built" ] || finish

check "module build" make KDIR="$kdir"
# bpftool and libbpf for the 'B' handler selftests, from the same kernel source.
check "bpf tools build (scripts/build-bpf-tools.sh)" scripts/build-bpf-tools.sh
check "selftests build" make -C selftests KSRC="$kdir/source" KDIR="$kdir"
check "rustfmt" make KDIR="$kdir" rustfmtcheck
check "clippy" make KDIR="$kdir" clippy

# Host tests of the pure logic: count cargo's own results.
cargo_log=$work/cargo-test.log
cargo test --manifest-path rust/Cargo.toml >"$cargo_log" 2>&1
cargo_rc=$?
grep -E '^test .* \.\.\. (ok|FAILED)$' "$cargo_log" | sed -E 's/^test (.*) \.\.\. ok$/ok    host: \1/; s/^test (.*) \.\.\. FAILED$/FAIL  host: \1/'
host_passed=$(grep -cE '^test .* \.\.\. ok$' "$cargo_log")
host_failed=$(grep -cE '^test .* \.\.\. FAILED$' "$cargo_log")
passed=$((passed + host_passed)) failed=$((failed + host_failed))
if [ "$cargo_rc" != 0 ] && [ "$host_failed" = 0 ]; then
	fail "host tests (cargo test exit $cargo_rc)"
	tail -n 40 "$cargo_log" | sed 's/^/    | /'
fi

# libFuzzer over the register grammar: no panic, no hang, round trips hold.
check "fuzz: register grammar, 120 s (scripts/fuzz.sh)" scripts/fuzz.sh 120
# And over the entry index: exec must find what upstream's walk finds.
check "fuzz: entry index against the walk, 60 s (scripts/fuzz.sh)" scripts/fuzz.sh 60 lookup

# The selftests on a kernel (BMRS_KERNEL: test or debian), both implementations,
# their counts added to ours.
selftests_on() {
	local kernel=$1 log=$work/selftests-$1.log summary st_passed st_failed
	shift
	BMRS_KERNEL=$kernel BMRS_SELFTESTS=${selftests_only:-} scripts/run-selftests.sh "$@" 2>&1 | tee "$log"
	summary=$(grep -E 'selftests: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r st_passed st_failed < <(echo "$summary" | sed -E 's/.*selftests: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
		passed=$((passed + st_passed)) failed=$((failed + st_failed))
	else
		fail "[$kernel] selftest runner produced a summary"
	fi
}
selftests_on test rust c

# Debian's stock kernel (GCC, no CONFIG_RUST): the module and the selftests built
# against its installed headers, then the same selftests in its own image.
check "Debian kernel: module and selftests build (scripts/build-debian.sh)" scripts/build-debian.sh
if [ -f "$(debian_build_dir)/src/binfmt_misc_rs.ko" ]; then
	selftests_on debian rust c
	# make install/uninstall and DKMS in that kernel's guest: which module
	# binfmt_misc means before, while and after it is installed.
	check "Debian kernel: install, DKMS, modprobe.d redirection (scripts/run-install-test.sh)" \
		scripts/run-install-test.sh
fi

# A GCC-built kernel with CONFIG_RUST, as distributions build them: the module
# builds against it with that kernel's own Rust crates and passes the selftests
# there (this module only: the C module is the same code as on the test kernel;
# the stress test left out: it ran on two kernels above, and CI's time is short).
check "GCC-built kernel with CONFIG_RUST: kernel, module and selftests build (scripts/build-gcc.sh)" \
	scripts/build-gcc.sh
if [ -f "$(BMRS_KERNEL=gcc && . scripts/lib.sh && gcc_build_dir)/src/binfmt_misc_rs.ko" ]; then
	selftests_only=binfmt_misc_test,binfmt_misc_exec_test,binfmt_misc_userns_test,binfmt_misc_bpf_test,tools_test,handler_tool_test \
		selftests_on gcc rust
fi
finish
