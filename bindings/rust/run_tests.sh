#!/usr/bin/env bash
# run_tests.sh test|clippy LIB_DIR MODELS_DIR TARGET_DIR [CLI]: the Rust binding's checks, as CTest
# runs them (label "rust").
#   test    cargo test: unit, integration and doc tests, against LIB_DIR/libfastintent.so (the
#           CMake build's src/capi), with the models capi_test_models wrote to MODELS_DIR, and
#           the CLI (tools/fastintent) training a small assistant model
#   clippy  cargo clippy on every target, warnings as errors; then cargo fmt --check
# TARGET_DIR (cargo's target folder) lives in the CMake build tree, so the source tree stays
# clean. Crates come from crates.io at the versions of the committed Cargo.lock (--locked; the
# first run downloads them). cargo is looked up on PATH, then in rustup's ~/.cargo/bin; without
# it (or, for clippy, without the clippy component) the check exits 77: skipped.
set -euo pipefail
mode=$1
lib_dir=$(realpath "$2")
models_dir=$(realpath "$3")
target_dir=$4
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$PATH:${CARGO_HOME:-${HOME:-/root}/.cargo}/bin"
if ! command -v cargo >/dev/null; then
  echo "cargo not found (install Rust with rustup): skipping the Rust binding's checks"
  exit 77
fi
export FASTINTENT_LIB_DIR=$lib_dir FASTINTENT_TEST_MODELS=$models_dir CARGO_TARGET_DIR=$target_dir
if [ $# -ge 5 ]; then export FASTINTENT_CLI=$(realpath "$5"); fi
cd "$here"
case $mode in
  test) exec cargo test --locked ;;
  clippy)
    if ! cargo clippy --version >/dev/null 2>&1; then
      echo "cargo clippy not installed (rustup component add clippy): skipping"
      exit 77
    fi
    cargo clippy --locked --all-targets -- -D warnings
    if cargo fmt --version >/dev/null 2>&1; then cargo fmt --check; fi ;;
  *) echo "usage: run_tests.sh test|clippy LIB_DIR MODELS_DIR TARGET_DIR [CLI]" >&2; exit 2 ;;
esac
