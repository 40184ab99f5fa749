#!/usr/bin/env bash
# The README's first command: install packages, build (Release), train the built-in assistant
# router if it is not there yet, and route a few example commands (or stdin lines, with -).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
BIN=build/release/tools/fastintent
if [ ! -f models/assistant.fim ]; then
  mkdir -p models
  "$BIN" train data/assistant/train.jsonl --valid data/assistant/valid.jsonl \
    --components data/assistant/components.json -o models/assistant.fim
fi
if [ "${1:-}" = "-" ]; then
  exec "$BIN" route
fi
"$BIN" route "Can you see my screen?" \
  "look at this error on my screen and read the fix out loud" \
  "my mac is really slow, what's eating all the RAM" \
  "mirror my display to the living room TV" \
  "never mind"
