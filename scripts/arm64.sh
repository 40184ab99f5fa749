#!/usr/bin/env bash
# ARM64 for real, on an x86-64 Debian 12 host: cross-compiles the kernel tests and the CLI for
# aarch64 (cmake/aarch64-linux-gnu.cmake), runs them under qemu-user on a NEON-only CPU
# (cortex-a72) and on qemu's default CPU (SVE/SVE2), printing which Highway target each run
# dispatched to, and checks end to end that the ARM builds predict what the x86 build predicts:
# same labels, probabilities within 1e-5, for the same model file; plus a model trained under
# qemu, which must be readable and predict identically on x86.
#
# Usage: scripts/arm64.sh [X86_FASTINTENT]   (default: build/release/tools/fastintent, built if
# missing). Installs what it needs with apt (as root, or with sudo). Environment:
#   ARM64_BUILD_DIR   cross build tree (default build/aarch64)
#   ARM64_SKIP_SETUP  1 = do not touch apt (the packages are already there)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
X86=${1:-$ROOT/build/release/tools/fastintent}
BUILD=${ARM64_BUILD_DIR:-$ROOT/build/aarch64}
start=$SECONDS
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# --- packages --------------------------------------------------------------------------------
if [ "${ARM64_SKIP_SETUP:-0}" != 1 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
  # Header-only dependencies (nlohmann-json, CLI11, Boost) come from the host's packages.
  "$ROOT/scripts/setup.sh" g++-aarch64-linux-gnu qemu-user libhwy-dev:arm64 libgtest-dev:arm64 \
    libutf8proc-dev:arm64
fi

# --- builds ----------------------------------------------------------------------------------
if [ ! -x "$X86" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target fastintent
fi
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DFASTINTENT_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target kernels_test fastintent
echo "arm64: cross build done after $((SECONDS - start)) s"

# Binaries are run directly, not through ctest: ctest discovers the gtest cases with the default
# CPU whatever QEMU_CPU says. libhwy.so comes from the arm64 multiarch directory.
QEMU=(qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu)
CPUS=(cortex-a72 max)   # NEON only; qemu's default ("max"): SVE, SVE2
ARM_CLI=$BUILD/tools/fastintent

# --- kernel tests on each CPU ----------------------------------------------------------------
for cpu in "${CPUS[@]}"; do
  log=$(mktemp)
  if ! "${QEMU[@]}" -cpu "$cpu" "$BUILD/src/kernels/kernels_test" >"$log" 2>&1; then
    cat "$log"
    echo "arm64: kernels_test FAILED on qemu -cpu $cpu"
    exit 1
  fi
  target=$(sed -n 's/.*dispatched target on this CPU: //p' "$log")
  summary=$(grep -E '^\[  PASSED  \]' "$log" || true)
  rm -f "$log"
  echo "arm64: kernels_test on qemu -cpu $cpu: Highway target $target; $summary"
  case "$cpu:$target" in
    cortex-a72:NEON) ;;
    max:SVE*) ;;
    *) echo "arm64: unexpected target $target on $cpu"; exit 1 ;;
  esac
done

# --- end to end: train, predict, compare with x86 --------------------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TRAIN=data/assistant/train.jsonl
VALID=data/assistant/valid.jsonl
# The texts to classify: the validation texts (JSON string escapes left as they are: any line
# is a valid input).
sed -E 's/.*"text": *"(([^"\\]|\\.)*)".*/\1/' "$VALID" >"$work/texts.txt"
# One training thread: deterministic for a seed and thread count, and OpenMP barriers spin
# pathologically slowly under qemu-user with more than one.
OPTS=(--hidden 64 --buckets 262144 --epochs 3 --patience 10 --threads 1 -q)
"$X86" train "$TRAIN" --valid "$VALID" -o "$work/x86.fim" "${OPTS[@]}"
"${QEMU[@]}" "$ARM_CLI" train "$TRAIN" --valid "$VALID" -o "$work/arm.fim" "${OPTS[@]}"
echo "arm64: trained on x86 and under qemu (default CPU) after $((SECONDS - start)) s"
# The reduced-precision path too: the x86 model exported with int8 weights.
"$X86" quantize "$work/x86.fim" -o "$work/x86-int8.fim" 2>/dev/null

# predict --json: one {"text", "labels": [{"label", "prob"}...]} per line. Compared with awk
# (no python on a bare CI image): same labels in the same order, |p_x86 - p_arm| <= 1e-5.
compare() {  # compare A B NAME
  awk -v name="$3" '
    function pairs(line, out,   n, s) {
      n = 0; s = line
      while (match(s, /"label":"([^"\\]|\\.)*","prob":[-0-9.eE+]+/)) {
        m = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        lab = m; sub(/","prob":.*/, "", lab); sub(/^"label":"/, "", lab)
        p = m; sub(/.*"prob":/, "", p)
        out[++n, "l"] = lab; out[n, "p"] = p + 0
      }
      return n
    }
    NR == FNR { a[FNR] = $0; next }
    {
      na = pairs(a[FNR], A); nb = pairs($0, B); lines++
      if (na != nb) { bad++; if (bad <= 3) print name ": line " FNR ": " na " vs " nb " labels"; next }
      for (i = 1; i <= na; i++) {
        d = A[i, "p"] - B[i, "p"]; if (d < 0) d = -d; if (d > maxd) maxd = d
        if (A[i, "l"] != B[i, "l"] || d > 1e-5) {
          bad++; if (bad <= 3) print name ": line " FNR ": " A[i, "l"] " " A[i, "p"] " vs " B[i, "l"] " " B[i, "p"]
        }
      }
    }
    END {
      printf "arm64: %s: %d predictions (top 3), max |dp| = %.3g, %d mismatches\n", name, lines, maxd, bad
      exit bad > 0 || lines == 0
    }' "$1" "$2"
}

# The end-to-end runs dispatch like kernels_test's dispatched-target check above (NEON on
# cortex-a72, SVE2 on the default CPU): same binary code, same CPU.
status=0
for model in x86 arm x86-int8; do
  "$X86" predict -m "$work/$model.fim" --json --k 3 --threshold 0 <"$work/texts.txt" >"$work/$model.on-x86.jsonl"
  for cpu in "${CPUS[@]}"; do
    "${QEMU[@]}" -cpu "$cpu" "$ARM_CLI" predict -m "$work/$model.fim" --json --k 3 --threshold 0 \
      <"$work/texts.txt" >"$work/$model.on-$cpu.jsonl"
    compare "$work/$model.on-x86.jsonl" "$work/$model.on-$cpu.jsonl" \
      "model trained on $model, predicted on x86 vs aarch64 $cpu" || status=1
  done
done
# Informational: the models trained on the two architectures (different float rounding in
# training) agree on most top labels; not required to be identical.
awk 'NR == FNR { a[FNR] = $0; next }
     { split(a[FNR], x, /"label":"/); split($0, y, /"label":"/); sub(/".*/, "", x[2]); sub(/".*/, "", y[2]);
       n++; same += x[2] == y[2] }
     END { printf "arm64: models trained on x86 and under qemu agree on the top label of %d of %d texts\n", same, n }' \
  "$work/x86.on-x86.jsonl" "$work/arm.on-x86.jsonl"
echo "arm64: done in $((SECONDS - start)) s"
exit $status
