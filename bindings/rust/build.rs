//! Finds and links the fastintent C library (libfastintent.so.1, or libfastintent.a).
//!
//! Where it looks, first match wins:
//!   1. `FASTINTENT_LIB_DIR`: a folder holding libfastintent.so (or .a), e.g. the CMake build's
//!      `build/release/src/capi` or an install's `lib` folder.
//!   2. pkg-config: the `fastintent.pc` that `cmake --install` writes (set `PKG_CONFIG_PATH` to
//!      `PREFIX/lib/pkgconfig` for a prefix pkg-config does not search by default).
//!   3. `../../build/release/src/capi` beside this crate: the repository's Release build.
//!
//! The shared library is linked by default, with an rpath to its folder so that tests, examples
//! and programs built here run without LD_LIBRARY_PATH. `FASTINTENT_STATIC=1` links
//! libfastintent.a instead, plus the libraries it needs (Highway, utf8proc, libstdc++, libm).
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What libfastintent.a needs besides itself (fastintent_static's INTERFACE_LINK_LIBRARIES).
const STATIC_DEPS: &[&str] = &["hwy", "utf8proc", "stdc++", "m", "pthread"];

fn main() {
    for var in ["FASTINTENT_LIB_DIR", "FASTINTENT_STATIC", "PKG_CONFIG_PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let static_link = env::var("FASTINTENT_STATIC").is_ok_and(|v| !v.is_empty() && v != "0");
    let file = if static_link { "libfastintent.a" } else { "libfastintent.so" };

    if let Ok(dir) = env::var("FASTINTENT_LIB_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.join(file).exists() {
            panic!(
                "FASTINTENT_LIB_DIR={} holds no {file}: build it first \
                 (cmake --build --preset release --target fastintent_shared fastintent_static)",
                dir.display()
            );
        }
        link_dir(&dir, static_link);
        return;
    }
    if pkg_config(static_link) {
        return;
    }
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../../build/release/src/capi");
    if dir.join(file).exists() {
        link_dir(&dir.canonicalize().unwrap_or(dir), static_link);
        return;
    }
    panic!(
        "fastintent's C library ({file}) was not found: set FASTINTENT_LIB_DIR to the folder \
         holding it (e.g. build/release/src/capi after `cmake --build --preset release`), or \
         install it (`cmake --install build/release --prefix P`) where pkg-config finds \
         fastintent.pc (PKG_CONFIG_PATH=P/lib/pkgconfig)"
    );
}

/// Links the library in `dir` (and, for the shared one, sets an rpath to `dir`).
fn link_dir(dir: &Path, static_link: bool) {
    // A rebuilt archive must be linked again (a rebuilt shared library is simply loaded).
    let file = if static_link { "libfastintent.a" } else { "libfastintent.so" };
    println!("cargo:rerun-if-changed={}", dir.join(file).display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    if static_link {
        println!("cargo:rustc-link-lib=static=fastintent");
        for lib in STATIC_DEPS {
            println!("cargo:rustc-link-lib=dylib={lib}");
        }
    } else {
        println!("cargo:rustc-link-lib=dylib=fastintent");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:lib_dir={}", dir.display());
}

/// Links as `pkg-config [--static] --libs fastintent` says; false when pkg-config or the package
/// is missing. The pkg-config program is run directly, so the crate has no build dependency.
fn pkg_config(static_link: bool) -> bool {
    let mut cmd = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()));
    if static_link {
        cmd.arg("--static");
    }
    let out = match cmd.args(["--libs", "fastintent"]).output() {
        Ok(out) if out.status.success() => out,
        _ => return false,
    };
    let flags = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut dirs = Vec::new();
    for flag in flags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            dirs.push(dir.to_string());
        } else if let Some(lib) = flag.strip_prefix("-l") {
            let kind = if static_link && lib == "fastintent" { "static" } else { "dylib" };
            println!("cargo:rustc-link-lib={kind}={lib}");
        } else if flag == "-pthread" {
            println!("cargo:rustc-link-lib=dylib=pthread");
        }
    }
    if !static_link {
        // The library may be installed outside the loader's default path (any --prefix).
        for dir in &dirs {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
    if let Some(dir) = dirs.first() {
        println!("cargo:lib_dir={dir}");
    }
    true
}
