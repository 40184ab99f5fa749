#!/usr/bin/env bash
# test_pip_install.sh WORK_DIR: `pip install ./bindings/python` as a user does it, into a fresh
# venv, with no C library built beforehand: setup.py runs CMake for libfastintent.so and
# libfastintent_train.so itself (into WORK_DIR/cmake, not the source tree). Then, from a folder
# outside the source tree, the installed package trains a tiny model, saves, loads and predicts.
# Slow (it compiles the C++ core), so opt-in: it runs only with FASTINTENT_SLOW_TESTS=1
# (`FASTINTENT_SLOW_TESTS=1 ctest --preset release -L slow`) and is skipped otherwise.
# Exits 77 (CTest: skipped) then, or when python3 or its venv module is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$1
if [ "${FASTINTENT_SLOW_TESTS:-0}" != 1 ]; then
  echo "slow test: set FASTINTENT_SLOW_TESTS=1 to run it"
  exit 77
fi
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "python3 with venv/ensurepip not found: skipping"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work/run"
work=$(realpath "$work")
python3 -m venv "$work/venv"
# The pinned build requirements (pyproject.toml's build-system) and runtime packages.
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
# Installed from the tree (setup.py finds the repository from its own location), the CMake
# build redirected into WORK_DIR.
FASTINTENT_CMAKE_BUILD_DIR=$work/cmake \
  "$work/venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
  "$here"
cd "$work/run"
"$work/venv/bin/python" - <<'PY'
import pathlib
import fastintent
here = pathlib.Path(fastintent.__file__).resolve().parent
assert "site-packages" in here.parts, here
texts = ["will it rain", "sunny forecast", "rain today", "play a song", "next song", "play music"]
labels = ["weather"] * 3 + ["music"] * 3
model = fastintent.train(texts * 10, labels * 10, hidden=(16,), max_epochs=10, learning_rate=0.02,
                         threads=1, valid_fraction=0.25)
model.save("m.fim")
top = fastintent.Model.load("m.fim").predict("will it rain", threshold=0)[0]
assert top.label == "weather", top
print("pip install ./bindings/python: built the C++ core, installed to", here, "->", top)
PY
