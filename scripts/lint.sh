#!/usr/bin/env bash
# Style checks, run by scripts/test.sh: clang-format (the root .clang-format) must leave every
# C/C++ file of ours unchanged, and clang-tidy (the root .clang-tidy: bugprone-*, performance-*)
# must report nothing on the project's sources. Needs the release build's compile database
# (build/release/compile_commands.json). `scripts/lint.sh --fix-format` rewrites the files;
# `--format-only` runs the clang-format check alone (no build needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh clang-format-14 clang-tidy-14
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.c' 2>/dev/null || find include src server tools testing tests bench fuzz examples -name '*.cc' -o -name '*.h' -o -name '*.c')
if [ "${1:-}" = "--fix-format" ]; then
  clang-format-14 -i "${files[@]}"
  exit 0
fi
echo "lint: clang-format on ${#files[@]} files"
clang-format-14 --dry-run -Werror "${files[@]}"
if [ "${1:-}" = "--format-only" ]; then exit 0; fi
db=build/release/compile_commands.json
[ -f "$db" ] || { echo "lint: $db missing: build the release preset first" >&2; exit 1; }
# The translation units of the compile database that are ours (not generated, not third party).
mapfile -t units < <(grep -o '"file": "[^"]*"' "$db" | sed 's/"file": "//; s/"$//' | grep -v '/build/' | sort -u)
echo "lint: clang-tidy on ${#units[@]} translation units"
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy-14 -p build/release --quiet 2>/dev/null
