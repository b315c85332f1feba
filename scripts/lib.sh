# Shared paths and helpers for the scripts; source it, don't run it.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${BINFMT_MISC_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/binfmt_misc_rs}
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz

# Bump when the way the kernel is built changes in a way the fragments don't show.
KERNEL_RECIPE=1
# Every test run uses the debug flavour, SMP with two guest CPUs (qemu/smp.config);
# see README.md for the measured cost. BMRS_UP=1: a uniprocessor kernel and guest
# instead (Tiny RCU, no preemption), as an option only: it proves nothing about races.
# BMRS_KERNEL=gcc selects the other kernel the project builds: GCC-built with
# CONFIG_RUST, SMP and no debug options (qemu/gcc.config), as distributions build
# their Rust-enabled kernels; the module must build against it and load there
# (scripts/test.sh). smp.config is not for it: its RCU checks need lockdep.
KERNEL_FRAGMENTS=("$REPO/qemu/base.config" "$REPO/qemu/debug.config" "$REPO/qemu/btf.config")
KERNEL_MAKE_FLAGS=(LLVM=1)
GUEST_CPUS=(--cpus 2)
if [ "${BMRS_KERNEL:-test}" = gcc ]; then
	KERNEL_FRAGMENTS=("$REPO/qemu/base.config" "$REPO/qemu/gcc.config" "$REPO/qemu/btf.config")
	KERNEL_MAKE_FLAGS=()
elif [ -n "${BMRS_UP:-}" ]; then
	GUEST_CPUS=()
else
	KERNEL_FRAGMENTS+=("$REPO/qemu/smp.config")
fi

# Cargo, bindgen and vng live outside Debian's default PATH.
export PATH="$HOME/.cargo/bin:$PATH"
if [ -d "$HOME/.pyenv/shims" ]; then PATH="$HOME/.pyenv/shims:$PATH"; fi

# What in a guest's kernel log means a run failed, whatever its tests printed:
# the fixed strings of selftests/report-patterns, newline-separated, for
# `grep -F -e "$BAD_KERNEL_LOG"` (binfmt_misc_stress_test checks its own part
# of the log for the same ones).
BAD_KERNEL_LOG=$(grep -v -e '^#' -e '^$' "$REPO/selftests/report-patterns")

die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

ksrc_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null ||
		die "linux-source-6.12 is not installed: run scripts/setup.sh"
}

# The kernel source, extracted once per Debian package version.
ksrc_dir() { echo "$CACHE_ROOT/src-$(ksrc_version)"; }
# Extracts it there unless done already; prints the directory.
ksrc_extract() {
	local src
	src=$(ksrc_dir)
	if [ ! -f "$src/.extracted" ]; then
		log "extracting $KSRC_TARBALL into $src"
		rm -rf "$src"
		mkdir -p "$src"
		tar -xf "$KSRC_TARBALL" -C "$src" --strip-components=1
		touch "$src/.extracted"
	fi
	echo "$src"
}

# bpftool and a static libbpf built from that source (scripts/build-bpf-tools.sh),
# for the 'B' handler selftests: the kernel's own tools, so libbpf knows 6.12's
# struct_ops and module BTF as well as the kernel does.
bpf_tools_dir() { echo "$CACHE_ROOT/bpf-tools-$(ksrc_version)"; }

# The build directory: keyed by source version and everything that shapes the config.
# BMRS_KERNEL_DIR overrides it, to test against another build.
kernel_dir() {
	if [ -n "${BMRS_KERNEL_DIR:-}" ]; then
		echo "$BMRS_KERNEL_DIR"
		return
	fi
	local key
	key=$( {
		echo "recipe $KERNEL_RECIPE"
		echo "make ${KERNEL_MAKE_FLAGS[*]}"
		cat "${KERNEL_FRAGMENTS[@]}"
	} | sha256sum | cut -c1-16)
	echo "$CACHE_ROOT/kernel-$(ksrc_version)-$key"
}

# Debian's stock kernel, which the selftests also run on (BMRS_KERNEL=debian): a
# GCC-built 6.12 without CONFIG_RUST, as users run it. Its release is pinned here
# and nowhere else; scripts/setup.sh installs its headers package, which brings
# linux-kbuild, the headers' common part and the kernel image (a dependency: the
# image is what the guest boots; installing it does not change the running kernel).
DEBIAN_KERNEL_RELEASE=6.12.117+deb12-amd64
debian_kdir() { echo "/usr/src/linux-headers-$DEBIAN_KERNEL_RELEASE"; }
debian_vmlinuz() { echo "/boot/vmlinuz-$DEBIAN_KERNEL_RELEASE"; }
debian_modules() { echo "/lib/modules/$DEBIAN_KERNEL_RELEASE"; }
# Where scripts/build-debian.sh builds the module and the selftests for it: a copy
# of the sources, as DKMS builds from one, so that the repository's own build
# (for the test kernel) is left alone. BMRS_DEBIAN_BUILD_DIR puts it elsewhere, for
# a second work tree building at the same time.
debian_build_dir() { echo "${BMRS_DEBIAN_BUILD_DIR:-$CACHE_ROOT/debian-$DEBIAN_KERNEL_RELEASE}"; }

# Debian's qemu-user-binfmt package, downloaded and unpacked (never installed) by
# scripts/setup.sh: its usr/lib/binfmt.d/qemu-*.conf hold the register strings
# qemu's scripts/qemu-binfmt-conf.sh generates, which the selftests and the demo
# register unchanged but for the interpreter.
qemu_binfmt_dir() { echo "$CACHE_ROOT/qemu-user-binfmt"; }
# The demo's real foreign program: Debian's qemu-user-static (amd64) and an arm64
# busybox-static, both unpacked here by scripts/setup.sh, never installed.
foreign_dir() { echo "$CACHE_ROOT/foreign"; }

# Boots a kernel with virtme-ng, the host's root shared over 9p, and ends it
# after SECONDS whatever it is doing:
#   vng_boot SECONDS KERNEL [VNG_ARGS...]   (e.g. --disable-kvm --exec CMD)
# KERNEL is the test kernel's build directory or a distribution kernel's image
# (vng finds its modules under /lib/modules/<release>). The test kernel has no
# block layer (tinyconfig), so the kernel itself must be told the 9p tag of the
# root: without root=/dev/root it mounts an empty tag and panics.
#
# no5lvl: QEMU's TCG "max" CPU offers LA57, so the kernel would run with 5-level
# paging, and then inline KASAN reports a false "wild-memory-access" when an
# interrupt lands while identify_cpu() has cleared boot_cpu_data's capabilities
# (pgtable_l5_enabled() is cpu_feature_enabled(X86_FEATURE_LA57), so for that
# moment KASAN_SHADOW_START is computed for 4-level paging and direct-map
# addresses look unshadowed): seen in about one SMP boot in five, in
# handle_edge_irq() during identify_cpu(), before any module loads; reported
# upstream in June 2026 ("kasan: Fix false-positive wild-memory-access on x86
# under 5-level paging"). 4-level paging is what nearly every x86 machine runs.
vng_boot() {
	local seconds=$1 kernel=$2 appends=()
	shift 2
	if [ -d "$kernel" ]; then appends=(--append root=/dev/root); fi
	timeout "$seconds" vng --run "$kernel" --force-9p "${GUEST_CPUS[@]}" \
		"${appends[@]}" --append no5lvl "$@"
}

# Builds the module and the selftests in a copy of the tracked sources under OUT/src,
# as a user or DKMS builds them: `make KDIR=<kernel>` and nothing else, so that the
# repository's own build (for the test kernel) is left alone. Then checks the .ko.
#   build_copy KDIR OUT
build_copy() {
	local kdir=$1 src=$2/src
	mkdir -p "$src"
	# The tracked files only, mtimes kept, so that a second build is incremental.
	log "copying the sources into $src"
	(cd "$REPO" && git ls-files -z | tar --null -T - -cf -) | tar -C "$src" -xf -
	log "building the module against $kdir"
	nice -n 10 make -C "$src" KDIR="$kdir" >&2
	"$REPO/scripts/check-module.sh" "$src/binfmt_misc_rs.ko" "$kdir" >&2
	log "building the selftests against $kdir"
	nice -n 10 make -C "$src/selftests" KSRC="$(ksrc_dir)" KDIR="$kdir" MODULE_KO="$src/binfmt_misc_rs.ko" >&2
}

# Where scripts/build-gcc.sh builds for the GCC-built kernel (BMRS_KERNEL=gcc).
gcc_build_dir() { echo "$(kernel_dir)-module"; }
