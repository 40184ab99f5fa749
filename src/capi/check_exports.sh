#!/bin/sh
# check_exports.sh LIB EXPECTED [--allow-openmp]: the ABI check of libfastintent.so (and, with
# --allow-openmp, of libfastintent_train.so, which links the trainer and so OpenMP).
#  1. Its defined dynamic symbols (nm -D --defined-only, version suffixes dropped) must equal the
#     sorted list in EXPECTED: adding or removing a C API function is then always a deliberate
#     change of that file (and, for a removal, of the API major version).
#  2. It must not need an OpenMP runtime (libgomp/libomp): only the trainer uses OpenMP, and the
#     C API links the inference layers alone.
set -eu
lib=$1
expected=$2
allow_openmp=${3:-}
actual=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^FASTINTENT_' | sort -u)
if ! diff_out=$(printf '%s\n' "$actual" | diff -u "$expected" -); then
  echo "exported symbols of $lib differ from $expected (- expected, + actual):"
  printf '%s\n' "$diff_out"
  exit 1
fi
needed=$(readelf -d "$lib" | awk '/NEEDED/ {print $NF}')
case "$allow_openmp$needed" in
  --allow-openmp*) ;;
  *omp*) echo "$lib needs an OpenMP runtime:"; echo "$needed"; exit 1 ;;
esac
# Not even indirectly, through a library it needs (ldd resolves the whole closure).
if [ -z "$allow_openmp" ] && ldd "$lib" | grep -q 'omp'; then
  echo "$lib loads an OpenMP runtime through its dependencies:"; ldd "$lib"; exit 1
fi
echo "$lib: $(printf '%s\n' "$actual" | wc -l) symbols as listed; needs: $(echo $needed | tr -d '[]')"
