#!/usr/bin/env bash
# Install everything the build, the demo and the tests need. Idempotent: every step
# checks first, so a second run on a set-up machine does no work. Runs as root.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BINDGEN_VERSION=0.73.2
VIRTME_NG_VERSION=1.42
CARGO_FUZZ_VERSION=0.13.2

# What the kernel build, bindgen, the selftests and the guest need. clang/lld/llvm:
# the debug kernel is built with LLVM=1 (KASAN together with Rust needs clang).
# udev: without it virtme-ng-init loses the guest command's exit status.
# binfmt-support: its update-binfmts is one of the tools selftests/tools_test.sh
# drives in the guest (see below for how it is kept off this machine's kernel).
# dwarves: pahole, which turns the kernel's and the module's DWARF into BTF (the
# bpf struct_ops and kfuncs of 'B' handlers need module BTF).
# linux-headers-$DEBIAN_KERNEL_RELEASE: Debian's stock kernel the selftests also
# run on (lib.sh); it brings linux-kbuild, the headers' common part and, as a
# dependency, the kernel image the guest boots (the running kernel is untouched).
# dkms: the install test builds the module with it, as README's user does, in
# private trees (only its signing key, made once, lands in /var/lib/dkms).
APT_PACKAGES=(
	linux-source-6.12 "linux-headers-$DEBIAN_KERNEL_RELEASE"
	build-essential bc bison flex cpio kmod xz-utils zstd
	libelf-dev libssl-dev libcap-dev
	clang lld llvm libclang-dev dwarves zlib1g-dev
	qemu-system-x86 busybox-static udev
	python3-pip binfmt-support dkms
)

log() { printf 'setup: %s\n' "$*" >&2; }

# binfmt-support's postinst runs "update-binfmts --import", which registers every
# format in /usr/share/binfmts (python3.11, jar, ... on these machines) with THIS
# machine's kernel, mounting binfmt_misc to do so. While it installs, update-binfmts
# is diverted away: the postinst finds no command and does nothing (it ignores the
# failure, and so does its init script, which needs the command too).
ub=/usr/sbin/update-binfmts
ub_held=/usr/sbin/update-binfmts.setup-held
release_update_binfmts() {
	if dpkg-divert --list "$ub" | grep -qF "$ub_held"; then
		dpkg-divert --quiet --local --rename --divert "$ub_held" --remove "$ub"
	fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	if [[ " ${missing[*]} " == *" binfmt-support "* ]]; then
		trap release_update_binfmts EXIT
		dpkg-divert --quiet --local --rename --divert "$ub_held" --add "$ub"
	fi
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	release_update_binfmts
	trap - EXIT
fi

# qemu's register strings, from Debian's package of them: downloaded and unpacked,
# never installed (its postinst would register them with this machine's kernel).
qdir=$(qemu_binfmt_dir)
if [ ! -f "$qdir/usr/lib/binfmt.d/qemu-aarch64.conf" ]; then
	log "apt-get download qemu-user-binfmt (unpacked into $qdir)"
	dl=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-setup.XXXXXX")
	(cd "$dl" && { apt-get download -q qemu-user-binfmt 2>/dev/null ||
		{ apt-get update -q && apt-get download -q qemu-user-binfmt; }; })
	rm -rf "$qdir.new"
	mkdir -p "$qdir.new"
	dpkg-deb -x "$dl"/qemu-user-binfmt_*.deb "$qdir.new"
	rm -rf "$qdir" "$dl"
	mv "$qdir.new" "$qdir"
fi

# The demo's foreign program and its emulator, unpacked into foreign_dir (never
# installed): qemu-user-static from this machine's suite, and busybox-static for
# arm64 through a private apt state that knows only arm64, so that neither dpkg's
# architectures nor apt's lists of this machine change.
fdir=$(foreign_dir)
if [ ! -x "$fdir/qemu-user-static/usr/bin/qemu-aarch64-static" ] || [ ! -x "$fdir/busybox-arm64/bin/busybox" ]; then
	log "apt-get download qemu-user-static and busybox-static:arm64 (unpacked into $fdir)"
	dl=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-setup.XXXXXX")
	mkdir -p "$dl/lists/partial" "$dl/cache/archives/partial"
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	echo "deb [arch=arm64] http://deb.debian.org/debian $suite main" >"$dl/sources.list"
	arm64_apt=(-q -o Dir::Etc::sourcelist="$dl/sources.list" -o Dir::Etc::sourceparts=-
		-o Dir::State::Lists="$dl/lists" -o Dir::Cache="$dl/cache"
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Acquire::Languages=none)
	(cd "$dl" && apt-get "${arm64_apt[@]}" update >/dev/null &&
		apt-get "${arm64_apt[@]}" download busybox-static:arm64 &&
		{ apt-get download -q qemu-user-static 2>/dev/null ||
			{ apt-get update -q && apt-get download -q qemu-user-static; }; })
	rm -rf "$fdir.new"
	mkdir -p "$fdir.new"
	dpkg-deb -x "$dl"/qemu-user-static_*.deb "$fdir.new/qemu-user-static"
	dpkg-deb -x "$dl"/busybox-static_*_arm64.deb "$fdir.new/busybox-arm64"
	rm -rf "$fdir" "$dl"
	mv "$fdir.new" "$fdir"
fi

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	log "rustup component add rust-src"
	rustup component add rust-src
fi

if ! bindgen --version 2>/dev/null | grep -qF "$BINDGEN_VERSION"; then
	log "cargo install bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --version "=$BINDGEN_VERSION" bindgen-cli
fi

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
	log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install --locked --version "=$CARGO_FUZZ_VERSION" cargo-fuzz
fi

if ! python3 -m pip show virtme-ng 2>/dev/null | grep -qx "Version: $VIRTME_NG_VERSION"; then
	log "pip install virtme-ng $VIRTME_NG_VERSION"
	python3 -m pip install -q "virtme-ng==$VIRTME_NG_VERSION"
	command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

log "toolchain ready"
