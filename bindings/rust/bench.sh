#!/usr/bin/env bash
# bench.sh MODEL [TEXTS] [PAIRS]: the Rust binding's async throughput against the C++ engine's on
# the same model and texts, measured alternately in one run (the issue's bar: Rust >= 80 % of
# bench/engine_bench's saturation).
#   C++   engine_bench MODEL --texts TEXTS --seconds 3: 2 submitter threads keep 256 requests
#         each in flight (each waits until half its window is answered), "saturation" line
#   Rust  classify_many MODEL TEXTS --rounds 3: #[tokio::main] (current-thread runtime), 64
#         tasks each awaiting bursts of 64 engine.predict futures (4,096 in flight), 100,000
#         requests per round, median of 3 rounds after a warm-up
#   Rust, one await per task: the same with --burst 1 (4,096 tasks each awaiting one request at
#         a time): for information, each answer then wakes its task
# Both use the engine's defaults (2 workers, max_batch 64). PAIRS (default 5) rounds of the three
# run back to back, so load from elsewhere on the machine hits them alike; the table gives each
# round's rates and its Rust/C++ ratio, then the medians. Builds classify_many (release) first;
# needs build/release's engine_bench and libfastintent (cmake --build --preset release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
model=${1:?usage: bench.sh MODEL [TEXTS] [PAIRS]}
texts=${2:-$repo/../shared/data/clinc150/test.jsonl}
pairs=${3:-5}
build=${FASTINTENT_BUILD_DIR:-$repo/build/release}
export FASTINTENT_LIB_DIR=$build/src/capi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$build/bindings/rust/target}
(cd "$here" && cargo build --quiet --locked --release --example classify_many)
rust=$CARGO_TARGET_DIR/release/examples/classify_many
cxx=$build/bench/engine_bench
rate_of() { sed -n "s/.*$1: \([0-9]*\) c.*/\1/p"; }
echo "| round | engine_bench saturation /s | classify_many /s | ratio | classify_many --burst 1 /s | ratio |"
echo "|---|---:|---:|---:|---:|---:|"
rows=()
for ((i = 1; i <= pairs; i++)); do
  c=$("$cxx" "$model" --texts "$texts" --seconds 3 | rate_of saturation)
  r=$("$rust" "$model" "$texts" --rounds 3 | rate_of median)
  r1=$("$rust" "$model" "$texts" --rounds 3 --burst 1 | rate_of median)
  rows+=("$c $r $r1")
  awk -v i="$i" -v c="$c" -v r="$r" -v r1="$r1" 'BEGIN {
    printf "| %d | %d | %d | %.1f %% | %d | %.1f %% |\n", i, c, r, 100 * r / c, r1, 100 * r1 / c }'
done
printf '%s\n' "${rows[@]}" | awk '
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { n++; c[n] = $1; r[n] = $2; r1[n] = $3; q[n] = $2 / $1; q1[n] = $3 / $1 }
  END {
    printf "| median | %d | %d | %.1f %% | %d | %.1f %% |\n",
      median(c, n), median(r, n), 100 * median(q, n), median(r1, n), 100 * median(q1, n)
  }'
