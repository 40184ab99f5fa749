#!/bin/sh
# check_install.sh BUILD_DIR WORK_DIR: `cmake --install` of the C API into WORK_DIR/prefix, then a
# C99 program that loads no model (it prints the version and checks an error path) is built
# against the installed files with pkg-config (shared, run through the prefix's lib directory),
# with pkg-config --static (no libfastintent.so needed at run time), and as a CMake project using
# find_package(fastintent CONFIG); then a program using the training library
# (fastintent_train.h) is built with pkg-config and with find_package.
set -eu
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" --component Unspecified >/dev/null
libdir=$(ls -d "$prefix"/lib*)
cat > "$work/main.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "fastintent/fastintent.h"
int main(void) {
  fi_model* m = NULL;
  fi_error* e = fi_model_load("/nonexistent.fim", 16, &m);
  int ok = FI_API_VERSION_COMPATIBLE(fi_api_version()) && fi_error_code(e) == FI_NOT_FOUND && m == NULL;
  printf("%s: %s\n", fi_version_string(), ok ? "ok" : "FAILED");
  fi_error_free(e);
  return ok ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c99 -Wall -Werror "$work/main.c" -o "$work/shared" $(pkg-config --cflags --libs fastintent)
LD_LIBRARY_PATH=$libdir "$work/shared"
cc -std=c99 -Wall -Werror "$work/main.c" -o "$work/static" $(pkg-config --cflags fastintent) \
  "$libdir/libfastintent.a" $(pkg-config --libs-only-l --static fastintent | sed 's/-lfastintent//')
if ldd "$work/static" | grep -q libfastintent; then echo "static program needs libfastintent.so"; exit 1; fi
"$work/static"
mkdir -p "$work/cmake"
cat > "$work/cmake/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(fastintent 1 CONFIG REQUIRED)
add_executable(consumer ../main.c)
target_link_libraries(consumer PRIVATE fastintent::fastintent)
C
cmake -S "$work/cmake" -B "$work/cmake/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake/build" >/dev/null
"$work/cmake/build/consumer"
cat > "$work/train.c" <<'C'
#include <stdio.h>
#include "fastintent/fastintent_train.h"
int main(void) {
  const char texts[] = "rain songsun tune";
  const size_t to[] = {0, 4, 8, 11, 15};
  const char labels[] = "weathermusicweathermusic";
  const size_t lo[] = {0, 7, 12, 19, 24};
  fi_train_params p = fi_train_default_params();
  fi_model* m = NULL;
  fi_error* e = fi_train_arrays(texts, to, 4, labels, lo, 3, &p, &m);
  int ok = fi_error_code(e) == FI_INVALID_ARGUMENT && m == NULL && p.hidden_count == 1;
  printf("training library: %s (%s)\n", ok ? "ok" : "FAILED", fi_error_message(e));
  fi_error_free(e);
  return ok ? 0 : 1;
}
C
cc -std=c99 -Wall -Werror "$work/train.c" -o "$work/train" $(pkg-config --cflags --libs fastintent_train)
LD_LIBRARY_PATH=$libdir "$work/train"
mkdir -p "$work/cmake_train"
cat > "$work/cmake_train/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.20)
project(trainer C)
find_package(fastintent 1 CONFIG REQUIRED)
add_executable(trainer ../train.c)
target_link_libraries(trainer PRIVATE fastintent::fastintent_train)
C
cmake -S "$work/cmake_train" -B "$work/cmake_train/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  >/dev/null
cmake --build "$work/cmake_train/build" >/dev/null
"$work/cmake_train/build/trainer"
echo "install check: pkg-config (shared, static), find_package(fastintent CONFIG) and the" \
  "training library all ok"
