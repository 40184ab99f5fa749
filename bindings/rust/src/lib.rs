//! fastintent: intent classification and assistant-component routing in microseconds, from
//! Rust. A safe binding of fastintent's C API (`include/fastintent/fastintent.h`).
//!
//! * [`Model`]: load a model file (or bytes), classify texts on the calling thread
//!   ([`Model::predict`], [`Model::predict_batch`]), route commands to components
//!   ([`Model::route`]), featurise. `Send + Sync`: one model serves every thread.
//! * [`Engine`]: worker threads computing micro-batches; `engine.predict(text).await` completes
//!   from the engine's callback through a Tokio oneshot channel, so no Tokio worker ever waits
//!   on a computation, and dropping the future cancels the request.
//! * [`Error`]: every failure, with the C API's [`Code`] and a message naming the input at fault.
//! * [`sys`]: the raw `extern "C"` declarations, for what the safe API does not wrap.
//!
//! ```no_run
//! use fastintent::Model;
//!
//! let model = Model::load("assistant.fim")?;
//! for label in model.predict_with("play some jazz and dim the lights", 3, None)? {
//!     println!("{} {:.3}", label.name, label.prob);
//! }
//! let route = model.route("can you see my screen", None)?;
//! println!("{} MB", route.total_memory_mb);
//! # Ok::<(), fastintent::Error>(())
//! ```
//!
//! Linking: build.rs finds `libfastintent` through `FASTINTENT_LIB_DIR`, then pkg-config, then
//! the repository's `build/release/src/capi` (see the crate's README).
#![warn(missing_docs)]

mod engine;
mod error;
mod model;
pub mod sys;

pub use engine::{Engine, EngineOptions, Pending, Prediction, RequestOptions, ShutdownMode, Stats};
pub use error::{Code, Error, Result};
pub use model::{
    Component, Features, Kind, Label, Model, Precision, Priority, Route, MAX_TEXT_BYTES,
};

/// The loaded C library's API version as (major, minor).
pub fn api_version() -> (u32, u32) {
    // SAFETY: pure.
    let v = unsafe { sys::fi_api_version() };
    (v >> 16, v & 0xFFFF)
}

/// The loaded C library's version for humans, e.g. "fastintent 0.1.0 (C API 1.0)".
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(sys::fi_version_string()) }.to_str().unwrap_or("fastintent")
}

#[cfg(test)]
mod tests {
    fn send_sync<T: Send + Sync>() {}
    fn send_static<T: Send + 'static>() {}

    #[test]
    fn handles_are_thread_safe() {
        send_sync::<super::Model>();
        send_sync::<super::Engine>();
        send_sync::<super::Prediction>();
        send_sync::<super::Error>();
        send_static::<super::Pending>();
    }

    #[test]
    fn version_is_the_librarys() {
        let (major, minor) = super::api_version();
        assert_eq!(major, super::sys::FI_API_VERSION_MAJOR);
        assert!(super::sys::api_version_compatible((major << 16) | minor));
        assert!(
            super::version().contains(&format!("C API {major}.{minor}")),
            "{}",
            super::version()
        );
    }
}
