"""Builds the fastintent Python package: the C libraries (CMake, unless FASTINTENT_LIB_DIR names a
directory that already holds libfastintent.so and libfastintent_train.so), then the cffi
extensions linked against them (_native: inference; _train_native: training), with
libfastintent.so.1 and libfastintent_train.so.1 copied into the package so that the installed
package is self-contained."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
LIBRARIES = ("libfastintent", "libfastintent_train")


def native_lib_dir() -> str:
    """A directory holding libfastintent.so.1 and libfastintent_train.so.1: FASTINTENT_LIB_DIR,
    or a CMake build of the two C API libraries from this source tree."""
    given = os.environ.get("FASTINTENT_LIB_DIR")
    if given:
        for lib in LIBRARIES:
            if not glob.glob(os.path.join(given, lib + ".so.*")):
                raise SystemExit(f"FASTINTENT_LIB_DIR={given} holds no {lib}.so.*")
        return given
    # FASTINTENT_CMAKE_BUILD_DIR lets a caller (test_pip_install.sh) keep the build out of the
    # source tree.
    build = os.environ.get("FASTINTENT_CMAKE_BUILD_DIR") or os.path.join(HERE, "build", "cmake")
    subprocess.check_call([
        "cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
        "-DFASTINTENT_BUILD_TESTS=OFF", "-DFASTINTENT_BUILD_BENCH=OFF",
    ])
    subprocess.check_call(["cmake", "--build", build, "--target", "fastintent_shared",
                           "fastintent_train_shared"])
    return os.path.join(build, "src", "capi")


class BuildExt(build_ext):
    """Links against the C library and puts its shared object beside the extension."""

    def run(self) -> None:
        lib_dir = native_lib_dir()
        link_dir = os.path.join(HERE, "build", "native")
        os.makedirs(link_dir, exist_ok=True)
        sonames = []
        for lib in LIBRARIES:
            found = sorted(glob.glob(os.path.join(lib_dir, lib + ".so.[0-9]")))
            if not found:
                raise SystemExit(f"{lib_dir}: no {lib}.so.<major>")
            sonames.append(found[-1])
            # Link against a private copy (not whatever -L would find), then ship it.
            for name in (lib + ".so", os.path.basename(found[-1])):
                shutil.copyfile(found[-1], os.path.join(link_dir, name))
        for ext in self.extensions:
            ext.library_dirs = [link_dir] + [d for d in ext.library_dirs if d != link_dir]
        super().run()
        package_dir = os.path.join(self.build_lib, "fastintent")
        os.makedirs(package_dir, exist_ok=True)
        for soname in sonames:
            shutil.copyfile(soname, os.path.join(package_dir, os.path.basename(soname)))
            if self.inplace:
                shutil.copyfile(soname,
                                os.path.join(HERE, "src", "fastintent", os.path.basename(soname)))


setup(
    cffi_modules=["fastintent_build.py:ffibuilder", "fastintent_build.py:train_ffibuilder"],
    cmdclass={"build_ext": BuildExt},
)
