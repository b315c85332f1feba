#!/usr/bin/env bash
# Fuzzes the module's pure logic with libFuzzer (cargo fuzz) for a bounded time:
#   scripts/fuzz.sh [SECONDS [TARGET]]   (default 120, register)
# Targets (rust/fuzz/fuzz_targets): register, the register grammar, seeded from
# rust/fuzz/seeds; lookup, the entry index against upstream's walk. The corpus
# persists in the cache directory. A crash, a panic, a timeout (10 s for one
# input: a loop) or a leak fails the run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

seconds=${1:-120}
target=${2:-register}
corpus=$CACHE_ROOT/fuzz-corpus/$target
mkdir -p "$corpus"
cd "$REPO/rust"
seeds=()
if [ "$target" = register ]; then
	seeds=(fuzz/seeds)
fi
# cargo fuzz passes nightly-only flags (-Z sanitizer); the stable toolchain, the
# only one this project's machines can fetch, accepts them with RUSTC_BOOTSTRAP.
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz "$target" "$corpus" "${seeds[@]}" -- \
	-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
