#!/usr/bin/env bash
# Build the test kernel (bzImage plus the in-tree C binfmt_misc.ko) into a cache
# directory keyed by the source version and the config fragments. A second run with
# nothing changed does not rebuild.
#   scripts/build-kernel.sh            build if needed, print the build directory
#   scripts/build-kernel.sh --print-dir  only print where it is (or would be)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

out=$(kernel_dir)
if [ "${1:-}" = --print-dir ]; then
	echo "$out"
	exit 0
fi

if [ -f "$out/.binfmt_misc_rs-built" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

src=$(ksrc_extract)

mk() { make -C "$src" O="$out" "${KERNEL_MAKE_FLAGS[@]}" "$@"; }

mkdir -p "$out"
log "configuring $out"
mk -s tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${KERNEL_FRAGMENTS[@]}" >/dev/null
mk -s olddefconfig

# merge_config only warns when Kconfig drops a request; a silently missing option
# (RUST without a usable toolchain, say) would make every later result meaningless.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) want=$line; name=${line%%=*} ;;
	"# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}; want="# $name is not set" ;;
	*) continue ;;
	esac
	have=$(grep -E "^($name=|# $name is not set)" "$out/.config" || true)
	if [ "$want" != "$have" ] && ! { [ -z "$have" ] && [ "$want" = "# $name is not set" ]; }; then
		log "config: asked for '$want', got '${have:-nothing}'"
		bad=1
	fi
done < <(cat "${KERNEL_FRAGMENTS[@]}")
[ "$bad" = 0 ] || die "the kernel config lost options (see above); is the Rust toolchain usable? try: make -C $src O=$out ${KERNEL_MAKE_FLAGS[*]} rustavailable"

jobs=$(($(nproc) + 1))
log "building bzImage and modules with -j$jobs (this is the slow part)"
# Its output to stderr: stdout is the build directory, which callers capture.
mk -j"$jobs" bzImage modules >&2
touch "$out/.binfmt_misc_rs-built"
echo "$out"
