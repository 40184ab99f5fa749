#!/usr/bin/env bash
# Installs the Debian packages fastintent builds with (as root, or with sudo available).
# Safe to run again: apt-get only installs what is missing. Extra package names given as
# arguments are installed too (scripts/arm64.sh passes its cross toolchain this way).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
PKGS=(build-essential cmake ninja-build pkg-config libhwy-dev libutf8proc-dev nlohmann-json3-dev
      libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libboost-dev wrk libfasttext-dev
      python3-dev python3-venv python3-fasttext "$@")  # python3-*: the Python binding (cffi
      # extension, test venv; fastText's own binding for bindings/python/bench_overhead.py)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
