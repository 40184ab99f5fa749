//! [`Model`]: a loaded classifier, shared by any number of threads, and what it answers.
use std::borrow::Cow;
use std::ffi::{c_char, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, Code, Error, Result};
use crate::sys;

/// The longest text (bytes) a model or engine classifies: longer ones are
/// [`Code::InvalidArgument`].
pub const MAX_TEXT_BYTES: usize = sys::FI_MAX_TEXT_BYTES;

/// A model's output kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Single-label: probabilities sum to 1; the best label wins.
    Softmax,
    /// Multi-label: an independent probability per label.
    Sigmoid,
}

/// A model's weight precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit float weights (what training produces).
    Float32,
    /// int8 weights, one scale per row ([`Model::quantize`]).
    Int8,
}

/// One reported label: its name, its index in the model's labels and its probability.
///
/// The name borrows from the model (or the engine [`Prediction`](crate::Prediction)) that
/// reported it. It is the label's bytes as stored in the model, which are UTF-8 for models
/// trained from JSON Lines; other bytes are shown with U+FFFD replacement characters.
#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    /// The label's name.
    pub name: Cow<'a, str>,
    /// Its index in [`Model::labels`] of the model that computed it.
    pub index: u32,
    /// Its probability in [0, 1].
    pub prob: f32,
}

/// A component's load priority, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Priority {
    /// Loaded first.
    Core,
    /// Loaded early.
    High,
    /// Loaded when needed.
    Medium,
    /// Loaded last.
    Low,
    /// A priority value this binding does not know (from a newer library).
    Other(i32),
}

impl Priority {
    fn from_raw(p: i32) -> Priority {
        match p {
            sys::FI_PRIORITY_CORE => Priority::Core,
            sys::FI_PRIORITY_HIGH => Priority::High,
            sys::FI_PRIORITY_MEDIUM => Priority::Medium,
            sys::FI_PRIORITY_LOW => Priority::Low,
            other => Priority::Other(other),
        }
    }
}

/// One assistant component a command needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// The component's name in the model's registry.
    pub name: String,
    /// Its index in the registry.
    pub index: u32,
    /// Its load priority.
    pub priority: Priority,
    /// The model's probability for it (for a dependency: its own).
    pub confidence: f32,
    /// Memory it needs, in MB.
    pub memory_mb: i32,
    /// Time it takes to load, in ms.
    pub load_ms: i32,
    /// Whether it was added because a routed component depends on it.
    pub dependency: bool,
}

/// The components a command needs, most urgent first (priority, then confidence).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Route {
    /// The routed components with their dependencies; empty when none is needed.
    pub components: Vec<Component>,
    /// The sum of their memory, in MB.
    pub total_memory_mb: i32,
}

impl Route {
    /// Copies routed components out of C memory.
    ///
    /// # Safety
    /// `raw` must point to `n` valid components whose names are valid for the call.
    pub(crate) unsafe fn from_raw(
        raw: *const sys::fi_routed_component,
        n: usize,
        total: i32,
    ) -> Route {
        let raw = if n == 0 { &[][..] } else { std::slice::from_raw_parts(raw, n) };
        let components = raw
            .iter()
            .map(|c| Component {
                name: String::from_utf8_lossy(bytes(c.name, c.name_len)).into_owned(),
                index: c.component,
                priority: Priority::from_raw(c.priority),
                confidence: c.confidence,
                memory_mb: c.memory_mb,
                load_ms: c.load_ms,
                dependency: c.dependency != 0,
            })
            .collect();
        Route { components, total_memory_mb: total }
    }
}

/// A text's sparse input to the network: `(indices[i], weights[i])` pairs, each index below
/// [`Model::feature_count`]. What an exported model (ONNX, Core ML) takes as its input where
/// this library does the text part.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    /// Feature indices.
    pub indices: Vec<u32>,
    /// Their weights (same length as `indices`).
    pub weights: Vec<f32>,
}

/// A loaded, fully verified model: immutable, `Send + Sync`, shared by any number of threads
/// (wrap it in an `Arc` to share it between tasks). Each thread that predicts keeps a small
/// per-thread scratch cache in the C library, so no session is managed here.
///
/// ```no_run
/// let model = fastintent::Model::load("assistant.fim")?;
/// let best = model.predict("can you see my screen")?;
/// println!("{:?}", best.first().map(|l| &l.name)); // Some("vision"), or None: out of scope
/// # Ok::<(), fastintent::Error>(())
/// ```
pub struct Model {
    raw: NonNull<sys::fi_model>,
    labels: Vec<String>,
    metadata: String,
    oos_label: String,
}

// SAFETY: fi_model is immutable; the header guarantees every fi_model_* call is safe from any
// number of threads at once on the same model, and fi_model_free from any thread.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: we own the handle. Engines and results keep their own references.
        unsafe { sys::fi_model_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("kind", &self.kind())
            .field("precision", &self.precision())
            .field("labels", &self.labels.len())
            .field("threshold", &self.threshold())
            .finish()
    }
}

/// The bytes of a C (pointer, length) string; empty for NULL.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive the returned slice.
pub(crate) unsafe fn bytes<'a>(p: *const c_char, len: usize) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p.cast::<u8>(), len)
    }
}

/// The C threshold argument: `None` is the model's calibrated one (-1).
pub(crate) fn threshold_arg(threshold: Option<f32>) -> Result<f32> {
    match threshold {
        None => Ok(-1.0),
        Some(t) if (0.0..=1.0).contains(&t) => Ok(t),
        Some(t) => {
            Err(Error::new(Code::InvalidArgument, format!("threshold {t} is outside [0, 1]")))
        }
    }
}

/// The C `k` argument (`k` = 0 is refused by the library with its own message).
pub(crate) fn k_arg(k: usize) -> i32 {
    i32::try_from(k).unwrap_or(i32::MAX)
}

/// Calls `f(capacity, &mut count)` until the buffer `f` sizes to `capacity` is large enough:
/// a call failing with `FI_BUFFER_TOO_SMALL` reports the count needed, and is made again with it.
fn fill_growing(
    mut cap: usize,
    mut f: impl FnMut(usize, &mut usize) -> *mut sys::fi_error,
) -> Result<usize> {
    loop {
        let mut count = 0usize;
        let err = f(cap, &mut count);
        if err.is_null() {
            return Ok(count);
        }
        // SAFETY: err is an fi_error* we own.
        if unsafe { sys::fi_error_code(err) } == sys::FI_BUFFER_TOO_SMALL && count > cap {
            unsafe { sys::fi_error_free(err) };
            cap = count;
            continue;
        }
        return Err(unsafe { Error::from_raw(err) });
    }
}

impl Model {
    /// Loads and fully verifies a model file (magic, version, every section's checksum, shapes).
    ///
    /// Errors name the file: [`Code::NotFound`], [`Code::IoError`], [`Code::DataLoss`] (corrupt
    /// or truncated), [`Code::Unimplemented`] (a newer format).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref().as_os_str().as_bytes();
        let mut raw = ptr::null_mut();
        // SAFETY: (path, len) is readable; raw is written only on success.
        unsafe { check(sys::fi_model_load(path.as_ptr().cast(), path.len(), &mut raw))? };
        Ok(Model::wrap(raw))
    }

    /// Loads a model from the bytes of a model file (e.g. `include_bytes!`); the bytes are
    /// copied. Errors as [`Model::load`], naming the buffer "buffer".
    pub fn from_bytes(data: &[u8]) -> Result<Model> {
        Model::from_bytes_named(data, "buffer")
    }

    /// As [`Model::from_bytes`], with the name error messages give the buffer.
    pub fn from_bytes_named(data: &[u8], name: &str) -> Result<Model> {
        let mut raw = ptr::null_mut();
        // SAFETY: both buffers are readable for the call and not retained.
        unsafe {
            check(sys::fi_model_load_from_buffer(
                data.as_ptr().cast(),
                data.len(),
                name.as_ptr().cast(),
                name.len(),
                &mut raw,
            ))?
        };
        Ok(Model::wrap(raw))
    }

    fn wrap(raw: *mut sys::fi_model) -> Model {
        let raw = NonNull::new(raw).expect("fi_model_load returned success without a model");
        let m = raw.as_ptr();
        // SAFETY: m is a live model; the strings it returns live as long as it does and are
        // copied here.
        unsafe {
            let labels = (0..sys::fi_model_label_count(m))
                .map(|i| {
                    let mut len = 0;
                    let p = sys::fi_model_label(m, i, &mut len);
                    String::from_utf8_lossy(bytes(p, len)).into_owned()
                })
                .collect();
            let mut len = 0;
            let metadata = String::from_utf8_lossy(bytes(sys::fi_model_metadata(m, &mut len), len))
                .into_owned();
            let mut len = 0;
            let oos_label =
                String::from_utf8_lossy(bytes(sys::fi_model_oos_label(m, &mut len), len))
                    .into_owned();
            Model { raw, labels, metadata, oos_label }
        }
    }

    pub(crate) fn as_ptr(&self) -> *const sys::fi_model {
        self.raw.as_ptr()
    }

    /// The label names, by index.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The index of the label called `name`.
    pub fn label_index(&self, name: &str) -> Option<usize> {
        // SAFETY: (name, len) is readable for the call.
        let i =
            unsafe { sys::fi_model_label_index(self.as_ptr(), name.as_ptr().cast(), name.len()) };
        usize::try_from(i).ok()
    }

    /// Softmax (single-label) or sigmoid (multi-label).
    pub fn kind(&self) -> Kind {
        // SAFETY: a live model.
        match unsafe { sys::fi_model_kind(self.as_ptr()) } {
            sys::FI_KIND_SIGMOID => Kind::Sigmoid,
            _ => Kind::Softmax,
        }
    }

    /// The precision of the weights.
    pub fn precision(&self) -> Precision {
        // SAFETY: a live model.
        match unsafe { sys::fi_model_precision(self.as_ptr()) } {
            sys::FI_PRECISION_INT8 => Precision::Int8,
            _ => Precision::Float32,
        }
    }

    /// The calibrated threshold (what a `None` threshold means): softmax models reject a text
    /// whose best probability is below it; sigmoid models report the labels at or above it.
    pub fn threshold(&self) -> f32 {
        // SAFETY: a live model.
        unsafe { sys::fi_model_threshold(self.as_ptr()) }
    }

    /// The label meaning "out of scope" in the training data, if any.
    pub fn oos_label(&self) -> Option<&str> {
        (!self.oos_label.is_empty()).then_some(self.oos_label.as_str())
    }

    /// The model file's metadata, a JSON object as text ("" when it has none): how the model
    /// was trained, and the component registry, if any.
    pub fn metadata(&self) -> &str {
        &self.metadata
    }

    /// The input dimension of the network: [`Features`] indices are below it.
    pub fn feature_count(&self) -> usize {
        // SAFETY: a live model.
        unsafe { sys::fi_model_feature_count(self.as_ptr()) }
    }

    /// The number of components in the model's registry (0: [`Model::route`] fails).
    pub fn component_count(&self) -> usize {
        // SAFETY: a live model.
        unsafe { sys::fi_model_component_count(self.as_ptr()) }
    }

    fn label(&self, s: sys::fi_label_score) -> Label<'_> {
        Label {
            name: Cow::Borrowed(self.labels[s.label as usize].as_str()),
            index: s.label,
            prob: s.prob,
        }
    }

    /// The best label of `text` with the calibrated threshold: one label, or none when the
    /// model rejects the text (out of scope). As `predict_with(text, 1, None)`.
    ///
    /// Errors: [`Code::InvalidArgument`] for an empty text, one with no known word or
    /// character, or one over [`MAX_TEXT_BYTES`]. Text is UTF-8; other bytes are replaced.
    pub fn predict(&self, text: impl AsRef<[u8]>) -> Result<Vec<Label<'_>>> {
        self.predict_with(text, 1, None)
    }

    /// The best labels of `text`, best first. `k` (>= 1): how many to report at most.
    /// `threshold`: `None` for the calibrated one, else in [0, 1]. Softmax models report the
    /// top `k`, or none when the top probability is below the threshold; sigmoid models report
    /// up to `k` labels whose probability is at or above it.
    pub fn predict_with(
        &self,
        text: impl AsRef<[u8]>,
        k: usize,
        threshold: Option<f32>,
    ) -> Result<Vec<Label<'_>>> {
        let text = text.as_ref();
        let threshold = threshold_arg(threshold)?;
        let mut out = vec![sys::fi_label_score::default(); k.min(self.labels.len())];
        let mut n = 0usize;
        // SAFETY: text is readable; out holds out.len() entries.
        unsafe {
            check(sys::fi_model_classify(
                self.as_ptr(),
                text.as_ptr().cast(),
                text.len(),
                k_arg(k),
                threshold,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            ))?
        };
        Ok(out[..n].iter().map(|&s| self.label(s)).collect())
    }

    /// Every label's probability for `text`, by label index (softmax: they sum to 1).
    /// Errors as [`Model::predict`].
    pub fn probabilities(&self, text: impl AsRef<[u8]>) -> Result<Vec<f32>> {
        let text = text.as_ref();
        let mut out = vec![0f32; self.labels.len()];
        let mut n = 0usize;
        // SAFETY: text is readable; out holds out.len() floats.
        unsafe {
            check(sys::fi_model_probabilities(
                self.as_ptr(),
                text.as_ptr().cast(),
                text.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            ))?
        };
        out.truncate(n);
        Ok(out)
    }

    /// The best label of each text (as [`Model::predict`]), in one call computed on this
    /// thread. A text that cannot be classified does not fail the batch: its entry is the
    /// error (with the code the library gave it).
    pub fn predict_batch<T: AsRef<[u8]>>(
        &self,
        texts: &[T],
    ) -> Result<Vec<Result<Vec<Label<'_>>>>> {
        self.predict_batch_with(texts, 1, None)
    }

    /// As [`Model::predict_batch`], with `k` and `threshold` as [`Model::predict_with`]. The
    /// whole call fails only for bad arguments (`k` = 0, a threshold outside [0, 1]).
    pub fn predict_batch_with<T: AsRef<[u8]>>(
        &self,
        texts: &[T],
        k: usize,
        threshold: Option<f32>,
    ) -> Result<Vec<Result<Vec<Label<'_>>>>> {
        let threshold = threshold_arg(threshold)?;
        let (data, offsets) = pack(texts);
        let count = texts.len();
        let stride = k.min(self.labels.len());
        // The library's stride is its k: the effective one (k = 0 stays 0 and is refused).
        let k = k_arg(stride);
        let mut out = vec![sys::fi_label_score::default(); count * stride];
        let mut label_counts = vec![0u32; count];
        let mut codes = vec![0i32; count];
        let mut n = 0usize;
        // SAFETY: data holds offsets[count] bytes; offsets count + 1 entries; out
        // count * stride entries (stride = the effective k, so the library needs no more);
        // label_counts and codes count entries each.
        unsafe {
            check(sys::fi_model_classify_batch(
                self.as_ptr(),
                data.as_ptr().cast(),
                offsets.as_ptr(),
                count,
                k,
                threshold,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                label_counts.as_mut_ptr(),
                codes.as_mut_ptr(),
            ))?
        };
        Ok((0..count)
            .map(|i| {
                if codes[i] != sys::FI_OK {
                    let code = Code::from_raw(codes[i]);
                    return Err(Error::new(code, format!("text {i} of the batch: {code}")));
                }
                let row = &out[i * stride..i * stride + label_counts[i] as usize];
                Ok(row.iter().map(|&s| self.label(s)).collect())
            })
            .collect())
    }

    /// Routes `text` to the components it needs, like `fastintent route`: the labels the model
    /// reports (threshold `None`: the calibrated one) that name components, plus their
    /// dependencies. [`Code::NotFound`] when the model has no component registry; otherwise
    /// the errors of [`Model::predict`]. No component needed is an empty route.
    pub fn route(&self, text: impl AsRef<[u8]>, threshold: Option<f32>) -> Result<Route> {
        let text = text.as_ref();
        let threshold = threshold_arg(threshold)?;
        let mut out: Vec<sys::fi_routed_component> = Vec::new();
        let mut total = 0i32;
        let n = fill_growing(self.component_count(), |cap, n| {
            out.reserve(cap);
            // SAFETY: text is readable; out has room for `cap` components, which the library
            // only writes (set_len below covers what it wrote).
            unsafe {
                sys::fi_model_route(
                    self.as_ptr(),
                    text.as_ptr().cast(),
                    text.len(),
                    threshold,
                    out.as_mut_ptr(),
                    cap,
                    n,
                    &mut total,
                )
            }
        })?;
        // SAFETY: the library initialised the first n components; their names are owned by
        // the model, which outlives this call.
        unsafe {
            out.set_len(n);
            Ok(Route::from_raw(out.as_ptr(), n, total))
        }
    }

    /// The model's sparse input for `text`. Unknown words are dropped, so an empty or
    /// all-unknown text gives no features. [`Code::InvalidArgument`] for a text over
    /// [`MAX_TEXT_BYTES`].
    pub fn featurize(&self, text: impl AsRef<[u8]>) -> Result<Features> {
        let text = text.as_ref();
        let Features { mut indices, mut weights } = Features::default();
        // A text of n bytes rarely has more than ~8n features; grown as the library asks.
        let n = fill_growing(text.len().saturating_mul(8).clamp(16, 4096), |cap, n| {
            indices.resize(cap, 0);
            weights.resize(cap, 0.0);
            // SAFETY: text is readable; both buffers hold `cap` entries.
            unsafe {
                sys::fi_model_featurize(
                    self.as_ptr(),
                    text.as_ptr().cast(),
                    text.len(),
                    indices.as_mut_ptr(),
                    weights.as_mut_ptr(),
                    cap,
                    n,
                )
            }
        })?;
        indices.truncate(n);
        weights.truncate(n);
        Ok(Features { indices, weights })
    }

    /// A new model with int8 weights (~4x smaller, same accuracy to ~0.1 point); labels,
    /// threshold, metadata and components are kept.
    pub fn quantize(&self) -> Result<Model> {
        let mut raw = ptr::null_mut();
        // SAFETY: a live model; raw is written only on success.
        unsafe { check(sys::fi_model_quantize(self.as_ptr(), &mut raw))? };
        Ok(Model::wrap(raw))
    }

    /// Writes the model (with its metadata) to `path`, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref().as_os_str().as_bytes();
        // SAFETY: (path, len) is readable for the call.
        unsafe { check(sys::fi_model_save(self.as_ptr(), path.as_ptr().cast(), path.len())) }
    }

    /// The model file's bytes (what [`Model::save`] writes, what [`Model::from_bytes`] reads).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let n = fill_growing(0, |cap, n| {
            out.resize(cap, 0u8);
            // SAFETY: out holds `cap` bytes.
            unsafe {
                sys::fi_model_serialize(self.as_ptr(), out.as_mut_ptr().cast::<c_void>(), cap, n)
            }
        })?;
        out.truncate(n);
        Ok(out)
    }
}

/// Lays `texts` out as one buffer and `len + 1` offsets (text i is data[offsets[i]..offsets[i+1]]).
fn pack<T: AsRef<[u8]>>(texts: &[T]) -> (Vec<u8>, Vec<usize>) {
    let total = texts.iter().map(|t| t.as_ref().len()).sum();
    let mut data = Vec::with_capacity(total);
    let mut offsets = Vec::with_capacity(texts.len() + 1);
    offsets.push(0);
    for t in texts {
        data.extend_from_slice(t.as_ref());
        offsets.push(data.len());
    }
    (data, offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_none_is_calibrated_and_others_are_checked() {
        assert_eq!(threshold_arg(None).unwrap(), -1.0);
        assert_eq!(threshold_arg(Some(0.0)).unwrap(), 0.0);
        assert_eq!(threshold_arg(Some(1.0)).unwrap(), 1.0);
        for bad in [-0.1, 1.5, f32::NAN] {
            assert_eq!(threshold_arg(Some(bad)).unwrap_err().code(), Code::InvalidArgument);
        }
    }

    #[test]
    fn k_saturates() {
        assert_eq!(k_arg(0), 0);
        assert_eq!(k_arg(3), 3);
        assert_eq!(k_arg(usize::MAX), i32::MAX);
    }

    #[test]
    fn pack_lays_out_offsets() {
        let (data, offsets) = pack(&["ab", "", "cde"]);
        assert_eq!(data, b"abcde");
        assert_eq!(offsets, [0, 2, 2, 5]);
        let (data, offsets) = pack::<&str>(&[]);
        assert!(data.is_empty());
        assert_eq!(offsets, [0]);
    }
}
