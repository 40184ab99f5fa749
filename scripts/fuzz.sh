#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang, ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 60) from seed corpora written here:
#   model_load_fuzz  tiny float32 and int8 model files, trained with FI_BIN (default: the
#                    Release CLI, build/release/tools/fastintent) on 200 assistant commands;
#   featurize_fuzz   a few commands, including invalid UTF-8 and symbols;
#   dataset_fuzz     small JSON Lines, CSV and fastText files (first byte: which format);
#   server_request_fuzz  requests to the HTTP API (first byte: method; then target, newline, body).
# Corpora stay in build/fuzz/corpus/ between runs. Exit status non-zero on any crash, leak,
# sanitizer report or failed check (the fuzzer leaves the input as build/fuzz/crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
# libomp-14-dev: clang's OpenMP runtime, which the trainer (linked by dataset_fuzz and by the
# server fuzzer's tiny model) needs; gcc's libgomp does not serve clang builds.
scripts/setup.sh clang-14 libclang-rt-14-dev libomp-14-dev
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FI_BIN=${FI_BIN:-build/release/tools/fastintent}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
corpus=build/fuzz/corpus
mkdir -p "$corpus/model_load_fuzz" "$corpus/featurize_fuzz" "$corpus/dataset_fuzz" "$corpus/server_request_fuzz"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -200 data/assistant/train.jsonl >"$tmp/small.jsonl"
"$FI_BIN" train "$tmp/small.jsonl" -o "$corpus/model_load_fuzz/seed-float.fim" \
  --hidden 4 --buckets 1024 --epochs 1 --threads 1 -q
"$FI_BIN" quantize "$corpus/model_load_fuzz/seed-float.fim" -o "$corpus/model_load_fuzz/seed-int8.fim" 2>/dev/null
"$FI_BIN" train "$tmp/small.jsonl" -o "$corpus/model_load_fuzz/seed-linear.fim" \
  --arch linear --buckets 1024 --epochs 1 --threads 1 -q
printf 'play some jazz' >"$corpus/featurize_fuzz/seed-1"
printf 'Can you see my screen?' >"$corpus/featurize_fuzz/seed-2"
printf 'caf\xc3\xa9 \xff\xfe na\xc3\xafve \xe4\xbd\xa0\xe5\xa5\xbd $5 #1' >"$corpus/featurize_fuzz/seed-3"
{ printf '\x00'; head -5 data/assistant/train.jsonl; } >"$corpus/dataset_fuzz/seed-jsonl"
printf '\x01text,label\r\n"is it cold, or ""warm""?",weather\nplay jazz,music\n' >"$corpus/dataset_fuzz/seed-csv"
printf '\x02__label__a __label__b hello there\n__label__c bye\n' >"$corpus/dataset_fuzz/seed-fasttext"
printf '\x00/v2/health/ready\n' >"$corpus/server_request_fuzz/seed-ready"
printf '\x01/v1/classify\n{"texts": ["rain", "song", ""], "k": 2}' >"$corpus/server_request_fuzz/seed-classify"
printf '\x01/v1/route\n{"text": "rain forecast", "threshold": 0.5}' >"$corpus/server_request_fuzz/seed-route"
printf '\x01/v2/models/m/infer\n{"id": "1", "inputs": [{"name": "text", "shape": [2, 1], "datatype": "BYTES", "data": [["rain"], ["song"]]}], "outputs": [{"name": "probabilities"}]}' \
  >"$corpus/server_request_fuzz/seed-infer"

status=0
for name in model_load_fuzz featurize_fuzz dataset_fuzz server_request_fuzz; do
  echo "fuzz: $name for ${FUZZ_SECONDS}s"
  if ! (cd build/fuzz && "./fuzz/$name" -seed=1 -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=30 \
        -rss_limit_mb=2048 -print_final_stats=1 "corpus/$name" 2>"$name.log"); then
    status=1
    tail -40 "build/fuzz/$name.log"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build/fuzz/$name.log" | tr '\n' ' '
  echo
done
exit $status
