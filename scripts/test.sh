#!/usr/bin/env bash
# The README's second command, and what CI runs: build and run the whole test suite in
# Release (accuracy floors included), then the unit suite again under ASan + UBSan, then the
# concurrent code (inference engine, HTTP server) under ThreadSanitizer, then the fuzzers, then
# the ARM64 cross build under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
# Style: clang-format over every C/C++ file, clang-tidy (bugprone-*, performance-*) over the
# release compile database; both must report nothing (about 3 minutes on 2 cores).
scripts/lint.sh
ctest --preset release --output-on-failure -j2
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan --output-on-failure -j2 -LE 'accuracy|python'
cmake --preset tsan >/dev/null
cmake --build --preset tsan --target inference_engine_test server_test
ctest --preset tsan --output-on-failure -j2 -R 'Engine|Server'
# libFuzzer (clang, ASan + UBSan): the model loader and the featuriser, 60 s each from seeds.
FUZZ_SECONDS=${FUZZ_SECONDS:-60} scripts/fuzz.sh
# Last: cross-build for ARM64 and run the kernel tests and an end-to-end train/predict check
# under qemu-user (NEON and SVE), against the Release build's predictions (about 3-4 minutes).
scripts/arm64.sh build/release/tools/fastintent
