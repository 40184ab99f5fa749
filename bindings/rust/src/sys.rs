//! The raw C API (`include/fastintent/fastintent.h`, API version 1.0), declared by hand.
//!
//! Everything here mirrors the header one to one: the same names, the same `#[repr(C)]` struct
//! layouts (frozen within a major version), the same constants. The header's CONVENTIONS block
//! holds for every function (errors as `*mut fi_error`, NULL on success, owned by the caller;
//! strings in as pointer + length; strings out owned by the handle they come from). Prefer the
//! safe API of this crate ([`crate::Model`], [`crate::Engine`]); this module is public for
//! callers that need a function the safe API does not wrap.
// Each item is documented in the header, by the same name.
#![allow(non_camel_case_types, missing_docs)]

use std::ffi::{c_char, c_void};

/// The header version these declarations were written from: major.
pub const FI_API_VERSION_MAJOR: u32 = 1;
/// The header version these declarations were written from: minor.
pub const FI_API_VERSION_MINOR: u32 = 0;
/// `(major << 16) | minor`, as `fi_api_version()` reports it.
pub const FI_API_VERSION: u32 = (FI_API_VERSION_MAJOR << 16) | FI_API_VERSION_MINOR;

/// Whether a library reporting `fi_api_version() == v` can serve these declarations
/// (`FI_API_VERSION_COMPATIBLE`): the same major, a minor at least ours.
// The minor comparison is vacuous while FI_API_VERSION_MINOR is 0; it is the header's rule.
#[allow(clippy::absurd_extreme_comparisons)]
pub const fn api_version_compatible(v: u32) -> bool {
    (v >> 16) == FI_API_VERSION_MAJOR && (v & 0xFFFF) >= FI_API_VERSION_MINOR
}

// fi_code
pub const FI_OK: i32 = 0;
pub const FI_INVALID_ARGUMENT: i32 = 1;
pub const FI_NOT_FOUND: i32 = 2;
pub const FI_DATA_LOSS: i32 = 3;
pub const FI_UNIMPLEMENTED: i32 = 4;
pub const FI_IO_ERROR: i32 = 5;
pub const FI_OVERLOADED: i32 = 6;
pub const FI_DEADLINE_EXCEEDED: i32 = 7;
pub const FI_CANCELLED: i32 = 8;
pub const FI_INTERNAL: i32 = 9;
pub const FI_BUFFER_TOO_SMALL: i32 = 10;
pub const FI_SHUT_DOWN: i32 = 11;
pub const FI_OUT_OF_MEMORY: i32 = 12;

/// The longest text (bytes) a model classifies.
pub const FI_MAX_TEXT_BYTES: usize = 1_048_576;

// fi_model_kind
pub const FI_KIND_SOFTMAX: i32 = 0;
pub const FI_KIND_SIGMOID: i32 = 1;

// fi_precision
pub const FI_PRECISION_FLOAT32: i32 = 0;
pub const FI_PRECISION_INT8: i32 = 1;

// fi_priority
pub const FI_PRIORITY_CORE: i32 = 0;
pub const FI_PRIORITY_HIGH: i32 = 1;
pub const FI_PRIORITY_MEDIUM: i32 = 2;
pub const FI_PRIORITY_LOW: i32 = 3;

// fi_output
pub const FI_OUTPUT_LABELS: u32 = 1;
pub const FI_OUTPUT_PROBABILITIES: u32 = 2;
pub const FI_OUTPUT_ROUTE: u32 = 4;

// fi_shutdown_mode
pub const FI_SHUTDOWN_DRAIN: i32 = 0;
pub const FI_SHUTDOWN_CANCEL_QUEUED: i32 = 1;

/// Declares opaque handle types: only pointers to them exist (the Rustonomicon's pattern:
/// not constructible, `!Send`, `!Sync`, `!Unpin`).
macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
        }
    )*};
}
opaque!(fi_error, fi_model, fi_engine, fi_result, fi_cancel_token);

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct fi_label_score {
    pub label: u32,
    pub prob: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fi_routed_component {
    pub name: *const c_char,
    pub name_len: usize,
    pub component: u32,
    pub priority: i32,
    pub confidence: f32,
    pub memory_mb: i32,
    pub load_ms: i32,
    pub dependency: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fi_engine_options {
    pub workers: i32,
    pub max_batch: u32,
    pub max_wait_us: u32,
    pub queue_capacity: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fi_request_options {
    pub k: i32,
    pub threshold: f32,
    pub outputs: u32,
    pub reserved: u32,
    pub timeout_us: u64,
    pub cancel: *mut fi_cancel_token,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fi_engine_stats {
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    pub expired: u64,
    pub cancelled: u64,
    pub batches: u64,
    pub queue_depth: u64,
    pub model_version: u64,
    pub queue_wait_p50_ns: u64,
    pub queue_wait_p99_ns: u64,
    pub compute_p50_ns: u64,
    pub compute_p99_ns: u64,
    pub latency_p50_ns: u64,
    pub latency_p99_ns: u64,
    pub latency_max_ns: u64,
    pub mean_batch_size: f64,
}

/// `fi_completion_fn`: called exactly once per accepted request, on an engine worker thread.
pub type fi_completion_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, result: *mut fi_result, error: *mut fi_error),
>;

extern "C" {
    // Version
    pub fn fi_api_version() -> u32;
    pub fn fi_version_string() -> *const c_char;

    // Errors
    pub fn fi_error_code(error: *const fi_error) -> i32;
    pub fn fi_error_message(error: *const fi_error) -> *const c_char;
    pub fn fi_code_name(code: i32) -> *const c_char;
    pub fn fi_error_free(error: *mut fi_error);

    // Models
    pub fn fi_model_load(
        path: *const c_char,
        path_len: usize,
        out: *mut *mut fi_model,
    ) -> *mut fi_error;
    pub fn fi_model_load_from_buffer(
        data: *const c_void,
        size: usize,
        name: *const c_char,
        name_len: usize,
        out: *mut *mut fi_model,
    ) -> *mut fi_error;
    pub fn fi_model_free(model: *mut fi_model);
    pub fn fi_model_label_count(model: *const fi_model) -> usize;
    pub fn fi_model_label(model: *const fi_model, index: usize, len: *mut usize) -> *const c_char;
    pub fn fi_model_label_index(model: *const fi_model, name: *const c_char, len: usize) -> i64;
    pub fn fi_model_kind(model: *const fi_model) -> i32;
    pub fn fi_model_precision(model: *const fi_model) -> i32;
    pub fn fi_model_threshold(model: *const fi_model) -> f32;
    pub fn fi_model_oos_label(model: *const fi_model, len: *mut usize) -> *const c_char;
    pub fn fi_model_metadata(model: *const fi_model, len: *mut usize) -> *const c_char;
    pub fn fi_model_feature_count(model: *const fi_model) -> usize;
    pub fn fi_model_component_count(model: *const fi_model) -> usize;

    // Blocking inference
    pub fn fi_model_classify(
        model: *const fi_model,
        text: *const c_char,
        text_len: usize,
        k: i32,
        threshold: f32,
        out: *mut fi_label_score,
        out_cap: usize,
        out_count: *mut usize,
    ) -> *mut fi_error;
    pub fn fi_model_probabilities(
        model: *const fi_model,
        text: *const c_char,
        text_len: usize,
        out: *mut f32,
        out_cap: usize,
        out_count: *mut usize,
    ) -> *mut fi_error;
    pub fn fi_model_classify_batch(
        model: *const fi_model,
        data: *const c_char,
        offsets: *const usize,
        count: usize,
        k: i32,
        threshold: f32,
        out: *mut fi_label_score,
        out_cap: usize,
        out_count: *mut usize,
        label_counts: *mut u32,
        codes: *mut i32,
    ) -> *mut fi_error;
    pub fn fi_model_probabilities_batch(
        model: *const fi_model,
        data: *const c_char,
        offsets: *const usize,
        count: usize,
        out: *mut f32,
        out_cap: usize,
        out_count: *mut usize,
        codes: *mut i32,
    ) -> *mut fi_error;
    pub fn fi_model_route(
        model: *const fi_model,
        text: *const c_char,
        text_len: usize,
        threshold: f32,
        out: *mut fi_routed_component,
        out_cap: usize,
        out_count: *mut usize,
        total_memory_mb: *mut i32,
    ) -> *mut fi_error;
    pub fn fi_model_featurize(
        model: *const fi_model,
        text: *const c_char,
        text_len: usize,
        indices: *mut u32,
        weights: *mut f32,
        cap: usize,
        out_count: *mut usize,
    ) -> *mut fi_error;
    pub fn fi_model_quantize(model: *const fi_model, out: *mut *mut fi_model) -> *mut fi_error;
    pub fn fi_model_save(
        model: *const fi_model,
        path: *const c_char,
        path_len: usize,
    ) -> *mut fi_error;
    pub fn fi_model_serialize(
        model: *const fi_model,
        out: *mut c_void,
        out_cap: usize,
        out_size: *mut usize,
    ) -> *mut fi_error;

    // Asynchronous engine
    pub fn fi_engine_options_init(options: *mut fi_engine_options);
    pub fn fi_request_options_init(options: *mut fi_request_options);
    pub fn fi_engine_create(
        model: *const fi_model,
        options: *const fi_engine_options,
        out: *mut *mut fi_engine,
    ) -> *mut fi_error;
    pub fn fi_engine_submit(
        engine: *mut fi_engine,
        text: *const c_char,
        text_len: usize,
        options: *const fi_request_options,
        done: fi_completion_fn,
        user_data: *mut c_void,
    ) -> *mut fi_error;
    pub fn fi_engine_swap(
        engine: *mut fi_engine,
        model: *const fi_model,
        new_version: *mut u64,
    ) -> *mut fi_error;
    pub fn fi_engine_model_version(engine: *const fi_engine) -> u64;
    pub fn fi_engine_stats_get(
        engine: *const fi_engine,
        out: *mut fi_engine_stats,
    ) -> *mut fi_error;
    pub fn fi_engine_shutdown(engine: *mut fi_engine, mode: i32) -> *mut fi_error;
    pub fn fi_engine_free(engine: *mut fi_engine);

    // Results
    pub fn fi_result_free(result: *mut fi_result);
    pub fn fi_result_labels(result: *const fi_result, labels: *mut *const fi_label_score) -> usize;
    pub fn fi_result_label_name(
        result: *const fi_result,
        label: u32,
        len: *mut usize,
    ) -> *const c_char;
    pub fn fi_result_probabilities(result: *const fi_result, probs: *mut *const f32) -> usize;
    pub fn fi_result_components(
        result: *const fi_result,
        components: *mut *const fi_routed_component,
        total_memory_mb: *mut i32,
    ) -> usize;
    pub fn fi_result_model_version(result: *const fi_result) -> u64;
    pub fn fi_result_timings(result: *const fi_result, queue_ns: *mut u64, compute_ns: *mut u64);

    // Cancellation
    pub fn fi_cancel_token_create(out: *mut *mut fi_cancel_token) -> *mut fi_error;
    pub fn fi_cancel_token_cancel(token: *mut fi_cancel_token);
    pub fn fi_cancel_token_is_cancelled(token: *const fi_cancel_token) -> i32;
    pub fn fi_cancel_token_free(token: *mut fi_cancel_token);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn library_api_version_serves_these_declarations() {
        let v = unsafe { fi_api_version() };
        assert!(
            api_version_compatible(v),
            "library API {}.{}, declarations {}.{}",
            v >> 16,
            v & 0xFFFF,
            FI_API_VERSION_MAJOR,
            FI_API_VERSION_MINOR
        );
        // Written from header 1.0: the major must match exactly.
        assert_eq!(v >> 16, FI_API_VERSION_MAJOR);
        let s = unsafe { CStr::from_ptr(fi_version_string()) }.to_str().unwrap();
        let expected = format!("(C API {}.{})", v >> 16, v & 0xFFFF);
        assert!(s.starts_with("fastintent ") && s.ends_with(&expected), "{s}");
    }

    #[test]
    fn declarations_match_the_header_version() {
        // The header beside this crate in the repository (absent only in a copy of the crate
        // taken elsewhere): its version must be the one these declarations were written from.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/fastintent/fastintent.h");
        let Ok(header) = std::fs::read_to_string(path) else {
            eprintln!("{path} not found: header version not compared");
            return;
        };
        let define = |name: &str| -> u32 {
            let prefix = format!("#define {name} ");
            let line = header.lines().find(|l| l.starts_with(&prefix)).expect(name);
            line[prefix.len()..].trim().parse().expect(name)
        };
        assert_eq!(define("FI_API_VERSION_MAJOR"), FI_API_VERSION_MAJOR);
        assert_eq!(define("FI_API_VERSION_MINOR"), FI_API_VERSION_MINOR);
        assert_eq!(define("FI_MAX_TEXT_BYTES") as usize, FI_MAX_TEXT_BYTES);
    }

    #[test]
    fn compatibility_rule_is_the_headers() {
        assert!(api_version_compatible(1 << 16));
        assert!(api_version_compatible((1 << 16) | 7));
        assert!(!api_version_compatible(2 << 16));
        assert!(!api_version_compatible(0));
    }

    #[test]
    fn code_names_agree_with_the_library() {
        let name = |c| unsafe { CStr::from_ptr(fi_code_name(c)) }.to_str().unwrap().to_owned();
        assert_eq!(name(FI_INVALID_ARGUMENT), "invalid argument");
        assert_eq!(name(FI_BUFFER_TOO_SMALL), "buffer too small");
        assert_eq!(name(1000), "unknown");
    }

    #[test]
    fn struct_layouts_match_the_header() {
        // The header's structs on LP64 (x86-64, AArch64): sizes and field offsets.
        assert_eq!(size_of::<fi_label_score>(), 8);
        assert_eq!(size_of::<fi_routed_component>(), 40);
        assert_eq!(offset_of!(fi_routed_component, component), 16);
        assert_eq!(offset_of!(fi_routed_component, dependency), 36);
        assert_eq!(size_of::<fi_engine_options>(), 16);
        assert_eq!(size_of::<fi_request_options>(), 32);
        assert_eq!(offset_of!(fi_request_options, timeout_us), 16);
        assert_eq!(offset_of!(fi_request_options, cancel), 24);
        assert_eq!(size_of::<fi_engine_stats>(), 17 * 8);
        assert_eq!(offset_of!(fi_engine_stats, mean_batch_size), 16 * 8);
        assert_eq!(align_of::<fi_engine_stats>(), 8);
    }

    #[test]
    fn option_defaults_are_the_headers() {
        let mut e = fi_engine_options::default();
        unsafe { fi_engine_options_init(&mut e) };
        assert_eq!((e.workers, e.max_batch, e.max_wait_us, e.queue_capacity), (2, 64, 0, 65536));
        let mut r = fi_request_options {
            k: 0,
            threshold: 0.0,
            outputs: 0,
            reserved: 9,
            timeout_us: 9,
            cancel: std::ptr::null_mut(),
        };
        unsafe { fi_request_options_init(&mut r) };
        assert_eq!(
            (r.k, r.threshold, r.outputs, r.reserved, r.timeout_us),
            (1, -1.0, FI_OUTPUT_LABELS, 0, 0)
        );
        assert!(r.cancel.is_null());
    }
}
