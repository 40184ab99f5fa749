"""Builds the fastintent Python package: the C library (CMake, unless FASTINTENT_LIB_DIR names a
directory that already holds libfastintent.so), then the cffi extension linked against it, with
libfastintent.so.1 copied into the package so that the installed package is self-contained."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def native_lib_dir() -> str:
    """A directory holding libfastintent.so and libfastintent.so.1: FASTINTENT_LIB_DIR, or a
    CMake build of the C API from this source tree (the inference layers only)."""
    given = os.environ.get("FASTINTENT_LIB_DIR")
    if given:
        if not glob.glob(os.path.join(given, "libfastintent.so.*")):
            raise SystemExit(f"FASTINTENT_LIB_DIR={given} holds no libfastintent.so.*")
        return given
    build = os.path.join(HERE, "build", "cmake")
    subprocess.check_call([
        "cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
        "-DFASTINTENT_BUILD_TESTS=OFF", "-DFASTINTENT_BUILD_BENCH=OFF",
    ])
    subprocess.check_call(["cmake", "--build", build, "--target", "fastintent_shared"])
    return os.path.join(build, "src", "capi")


class BuildExt(build_ext):
    """Links against the C library and puts its shared object beside the extension."""

    def run(self) -> None:
        lib_dir = native_lib_dir()
        link_dir = os.path.join(HERE, "build", "native")
        os.makedirs(link_dir, exist_ok=True)
        sonames = sorted(glob.glob(os.path.join(lib_dir, "libfastintent.so.[0-9]")))
        if not sonames:
            raise SystemExit(f"{lib_dir}: no libfastintent.so.<major>")
        soname = sonames[-1]
        # Link against a private copy (not whatever -L would find), then ship it in the package.
        for name in ("libfastintent.so", os.path.basename(soname)):
            shutil.copyfile(soname, os.path.join(link_dir, name))
        for ext in self.extensions:
            ext.library_dirs = [link_dir] + [d for d in ext.library_dirs if d != link_dir]
        super().run()
        package_dir = os.path.join(self.build_lib, "fastintent")
        os.makedirs(package_dir, exist_ok=True)
        shutil.copyfile(soname, os.path.join(package_dir, os.path.basename(soname)))
        if self.inplace:
            shutil.copyfile(soname, os.path.join(HERE, "src", "fastintent", os.path.basename(soname)))


setup(
    cffi_modules=["fastintent_build.py:ffibuilder"],
    cmdclass={"build_ext": BuildExt},
)
