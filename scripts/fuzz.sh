#!/usr/bin/env bash
# Fuzzes the register grammar with libFuzzer (cargo fuzz) for a bounded time:
#   scripts/fuzz.sh [SECONDS]   (default 120)
# The corpus persists in the cache directory, seeded from rust/fuzz/seeds. A crash,
# a panic, a timeout (10 s for one input: a loop) or a leak fails the run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

seconds=${1:-120}
corpus=$CACHE_ROOT/fuzz-corpus/register
mkdir -p "$corpus"
cd "$REPO/rust"
# cargo fuzz passes nightly-only flags (-Z sanitizer); the stable toolchain, the
# only one this project's machines can fetch, accepts them with RUSTC_BOOTSTRAP.
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz register "$corpus" fuzz/seeds -- \
	-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
