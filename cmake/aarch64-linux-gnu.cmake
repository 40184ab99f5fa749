# Toolchain file: cross-compile for 64-bit Arm Linux with Debian's cross compiler and arm64
# multiarch libraries, and run tests under qemu-user. Setup on a Debian 12 amd64 host:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install g++-aarch64-linux-gnu qemu-user libhwy-dev:arm64 libgtest-dev:arm64
#   (plus the arm64 -dev packages of any other dependency the configured targets need)
# Use: cmake -B build/aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# ctest then runs each test as `qemu-aarch64 ...`; qemu's default CPU has SVE/SVE2 (Highway
# dispatches to SVE2), QEMU_CPU=cortex-a72 gives a NEON-only CPU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Headers and packages come from the host's multiarch tree (/usr/include,
# /usr/lib/aarch64-linux-gnu); programs (qemu, pkg-config) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)

# The loader and libc come from the cross sysroot; arm64 multiarch shared libraries (libhwy)
# from /usr/lib/aarch64-linux-gnu, which the arm64 loader does not search by default here.
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64;-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu)
