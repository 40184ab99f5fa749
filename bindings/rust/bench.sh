#!/usr/bin/env bash
# bench.sh MODEL [TEXTS] [ROUNDS]: the Rust binding's async throughput against the C++ engine's,
# on the same model and texts, measured alternately in one run (the issue's bar: Rust >= 80 % of
# bench/engine_bench's saturation).
#   engine_bench MODEL --texts TEXTS --seconds 3   (C++: 2 workers, 2 submitter threads keeping
#                                                    256 requests each in flight)
#   classify_many MODEL TEXTS --rounds 3           (Rust: #[tokio::main], 4096 tasks awaiting
#                                                    engine.predict, 100,000 requests per round)
# Both use the engine's defaults (2 workers, max_batch 64). ROUNDS (default 3) pairs are run,
# alternating, so that load from elsewhere on the machine hits both alike; the medians are
# compared. Builds classify_many (release) first. Needs build/release (engine_bench and
# libfastintent): cmake --build --preset release --target engine_bench fastintent_shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
model=${1:?usage: bench.sh MODEL [TEXTS] [ROUNDS]}
texts=${2:-$repo/../shared/data/clinc150/test.jsonl}
rounds=${3:-3}
build=${FASTINTENT_BUILD_DIR:-$repo/build/release}
export FASTINTENT_LIB_DIR=$build/src/capi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$build/bindings/rust/target}
(cd "$here" && cargo build --quiet --locked --release --example classify_many)
rust=$CARGO_TARGET_DIR/release/examples/classify_many
cxx=$build/bench/engine_bench
cxx_rates=()
rust_rates=()
for ((i = 1; i <= rounds; i++)); do
  c=$("$cxx" "$model" --texts "$texts" --seconds 3 | sed -n 's/.*saturation: \([0-9]*\) classifications.*/\1/p')
  r=$("$rust" "$model" "$texts" --rounds 3 | sed -n 's/.*median: \([0-9]*\) completions.*/\1/p')
  echo "pair $i: engine_bench saturation $c/s, classify_many $r/s"
  cxx_rates+=("$c")
  rust_rates+=("$r")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
c=$(median "${cxx_rates[@]}")
r=$(median "${rust_rates[@]}")
awk -v c="$c" -v r="$r" 'BEGIN {
  printf "median: engine_bench %d/s, classify_many %d/s: Rust = %.1f %% of engine_bench (bar: 80 %%)\n", c, r, 100 * r / c }'
