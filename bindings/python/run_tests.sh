#!/usr/bin/env bash
# run_tests.sh LIB_DIR MODELS_DIR WORK_DIR: the Python binding's test suite, as CTest runs it.
# Creates a venv in WORK_DIR (python3 -m venv) with the pinned packages of requirements.txt,
# installs the binding from a copy of this folder (so builds never write into the source tree)
# linked against LIB_DIR/libfastintent.so, and runs pytest from an empty folder, so the tests
# import the installed package, not the sources. MODELS_DIR holds capi_test_models' models.
# Exits 77 (CTest: skipped) when python3 or its venv module is missing, or PyPI is unreachable.
set -euo pipefail
lib_dir=$(realpath "$1")
models_dir=$(realpath "$2")
work=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "python3 with venv/ensurepip not found: skipping the Python binding's tests"
  exit 77
fi
mkdir -p "$work"
work=$(realpath "$work")
venv=$work/venv
stamp=$venv/.requirements
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  # The pinned packages come from PyPI: a machine that cannot reach it skips (loudly), as the
  # export check does; a reachable PyPI and a failing test is a failure.
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"; then
    echo "SKIP: cannot install the pinned packages of requirements.txt from PyPI"
    rm -rf "$venv"
    exit 77
  fi
  cp "$here/requirements.txt" "$stamp"
fi
src=$work/src
rm -rf "$src"
mkdir -p "$src"
cp -r "$here/setup.py" "$here/pyproject.toml" "$here/fastintent_build.py" "$here/README.md" "$here/src" "$src/"
rm -rf "$src/src/fastintent/"_native* "$src/src/fastintent/"libfastintent.so*
FASTINTENT_LIB_DIR=$lib_dir FASTINTENT_INCLUDE_DIR=$repo/include \
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
  --force-reinstall "$src"
run=$work/run
rm -rf "$run"
mkdir -p "$run"
cd "$run"
FASTINTENT_TEST_MODELS=$models_dir FASTINTENT_SOURCE_DIR=$here/src \
  exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests" "${@:4}"
