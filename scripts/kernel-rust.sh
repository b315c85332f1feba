#!/usr/bin/env bash
# Prepares the Rust support a kernel without CONFIG_RUST lacks (Debian's stock
# kernels), so that kernel-rust.mk can build it into the module: unpacks the
# kernel's own Rust crates and build scripts from the kernel source package into
# OUT (a partial kernel tree: OUT/rust, OUT/scripts), checks the Rust toolchain
# with the kernel's own rust_is_available.sh, and writes OUT/make-vars, the
# make variables the module build adds to the kernel's (its rustc version, which
# the kernel's Makefiles gate Rust flags on and which such a kernel records as 0).
#   scripts/kernel-rust.sh KDIR OUT
# The source: $KSRC if set (an unpacked kernel tree), else Debian's
# /usr/src/linux-source-X.Y (unpacked) or /usr/src/linux-source-X.Y.tar.xz
# (package linux-source-X.Y), X.Y being the installed kernel's version. Nothing
# of the kernel is kept in this repository; OUT is build output.
# Called by the Makefile; runs as whoever builds (root under DKMS).
set -euo pipefail

die() { printf 'binfmt_misc_rs: %s\n' "$*" >&2; exit 1; }
note() { printf 'binfmt_misc_rs: %s\n' "$*" >&2; }

[ $# = 2 ] || die "usage: $0 KDIR OUT"
kdir=$1 out=$2
RUSTC=${RUSTC:-rustc}
BINDGEN=${BINDGEN:-bindgen}

release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) ||
	die "$kdir is not a configured kernel build or headers directory (no include/config/kernel.release)"
series=$(echo "$release" | sed -nE 's/^([0-9]+\.[0-9]+).*/\1/p')
[ -n "$series" ] || die "cannot read a kernel version from '$release'"

# What the module needs from the kernel source: the crates, the target-spec
# generator, and the scripts that check and version the toolchain.
# (Patterns: the checker's test headers vary between releases.)
members=(Makefile rust scripts/generate_rust_target.rs 'scripts/rustc-*version.sh'
	'scripts/rust_is_available*' scripts/min-tool-version.sh scripts/cc-version.sh)

tarball=/usr/src/linux-source-$series.tar.xz
if [ -n "${KSRC:-}" ]; then
	src=$KSRC
	[ -f "$src/rust/Makefile" ] || die "KSRC=$src has no rust/Makefile: not a Linux $series source tree with Rust"
	identity="dir $(cd "$src" && pwd)"
elif [ -f "/usr/src/linux-source-$series/rust/Makefile" ]; then
	src=/usr/src/linux-source-$series
	identity="dir $src"
elif [ -f "$tarball" ]; then
	src=
	identity="tarball $tarball $(stat -c '%s %Y' "$tarball")"
else
	die "kernel $release has no Rust support (no CONFIG_RUST), so this module builds the kernel's Rust crates itself, from the kernel source, which is missing: install it (Debian: apt-get install linux-source-$series, which gives $tarball) or set KSRC to an unpacked Linux $series tree"
fi

if [ "$(cat "$out/.source" 2>/dev/null)" != "$identity" ]; then
	note "unpacking the kernel's Rust crates from ${src:-$tarball} into $out"
	rm -rf "$out"
	mkdir -p "$out"
	if [ -n "$src" ]; then
		# shellcheck disable=SC2068 # the patterns are meant to expand here
		(cd "$src" && cp -a --parents ${members[@]} "$out/") ||
			die "$src lacks some of: ${members[*]}"
	else
		# Debian's tarball holds one top directory, linux-source-X.Y/.
		top=linux-source-$series
		tar -xJf "$tarball" -C "$out" --strip-components=1 --wildcards "${members[@]/#/$top/}" ||
			die "$tarball lacks some of: ${members[*]}"
	fi
	echo "$identity" >"$out/.source"
fi

# The crates must be those of the kernel's series; within a series the stable
# releases keep the Rust API, so the packaged source may be a release ahead or
# behind the installed kernel (Debian keeps only the newest linux-source).
mkvar() { sed -nE "s/^$1 = ([0-9]+)$/\1/p" "$out/Makefile"; }
src_version="$(mkvar VERSION).$(mkvar PATCHLEVEL).$(mkvar SUBLEVEL)"
[ "${src_version%.*}" = "$series" ] ||
	die "the kernel source in ${src:-$tarball} is Linux $src_version, the kernel in $kdir is $release: they must be the same series ($series)"
case $release in
"$src_version"|"$src_version"[+-]*) ;;
*) note "building the Rust crates of Linux $src_version for kernel $release (same series)" ;;
esac

# The kernel's own check of the toolchain (rustc, bindgen, libclang, rust-src),
# with its messages; CC only selects its libclang/clang comparison.
RUSTC=$RUSTC BINDGEN=$BINDGEN CC=${CC:-gcc} "$out/scripts/rust_is_available.sh" ||
	die "the Rust toolchain above is not usable for Linux $series (rustup: rustup component add rust-src; bindgen: cargo install bindgen-cli)"

# Besides the versions, the one Rust option the kernel's Makefiles read that
# has a default other than off: RUST_OVERFLOW_CHECKS (lib/Kconfig.debug, default
# y), so that arithmetic overflow panics as in a Rust-enabled kernel.
rustc_version=$("$out/scripts/rustc-version.sh" "$RUSTC")
rustc_llvm_version=$("$out/scripts/rustc-llvm-version.sh" "$RUSTC")
cat >"$out/make-vars.new" <<EOF
CONFIG_RUSTC_VERSION=$rustc_version
CONFIG_RUSTC_LLVM_VERSION=$rustc_llvm_version
CONFIG_RUST_OVERFLOW_CHECKS=y
EOF
mv "$out/make-vars.new" "$out/make-vars"
