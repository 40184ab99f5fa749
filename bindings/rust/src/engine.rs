//! [`Engine`]: the C API's asynchronous engine, awaited from Tokio without blocking a worker.
//!
//! How a request travels: [`Engine::predict`] submits the text through `fi_engine_submit` at
//! once, with a `tokio::sync::oneshot::Sender` boxed into the request's `user_data`, and
//! returns a [`Pending`] future holding the receiver. An engine worker thread computes the
//! request and its completion callback sends the result through the sender, which wakes the
//! awaiting task. No thread of the caller's waits, and no executor or `spawn_blocking` is
//! involved. Each request carries a C cancel token: dropping its [`Pending`] before it resolved
//! cancels the request (a request no worker has reached yet is then answered without being
//! computed, and the answer is discarded).
use std::cell::RefCell;
use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::{check, Code, Error, Result};
use crate::model::{bytes, k_arg, threshold_arg, Label, Model, Route};
use crate::sys;

/// How an engine is set up ([`Engine::new`]); `Default` is the C library's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Worker threads computing requests (default 2; at least 1).
    pub workers: usize,
    /// The most requests a worker takes at once (default 64; at least 1).
    pub max_batch: usize,
    /// How long a worker holding fewer than `max_batch` requests waits for more (default 0).
    pub max_wait: Duration,
    /// Queued requests beyond this are refused with [`Code::Overloaded`] (default 65536).
    pub queue_capacity: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let mut o = sys::fi_engine_options::default();
        // SAFETY: fills a plain struct.
        unsafe { sys::fi_engine_options_init(&mut o) };
        EngineOptions {
            workers: o.workers as usize,
            max_batch: o.max_batch as usize,
            max_wait: Duration::from_micros(o.max_wait_us.into()),
            queue_capacity: o.queue_capacity as usize,
        }
    }
}

/// What one request asks for ([`Engine::predict_with`]); `Default`: the best label with the
/// model's calibrated threshold, no timeout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestOptions {
    /// Labels to report at most; 0 means 1.
    pub k: usize,
    /// `None`: the model's calibrated threshold; else in [0, 1] (as [`Model::predict_with`]).
    pub threshold: Option<f32>,
    /// Also every label's probability ([`Prediction::probabilities`]).
    pub probabilities: bool,
    /// Also the routed components ([`Prediction::route`]); the model must have a registry.
    pub route: bool,
    /// Answered [`Code::DeadlineExceeded`] when not computed within this time of submission.
    pub timeout: Option<Duration>,
}

/// What [`Engine::shutdown`] does with the requests still queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownMode {
    /// Compute every queued request, then stop.
    Drain,
    /// Answer queued requests [`Code::Cancelled`] without computing them.
    CancelQueued,
}

/// Counters since the engine was created, and latency percentiles of the requests computed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// Requests accepted, or refused by a full queue or a shut-down engine.
    pub submitted: u64,
    /// Answered with a result.
    pub completed: u64,
    /// Answered [`Code::InvalidArgument`] by the model (nothing to classify).
    pub failed: u64,
    /// Refused [`Code::Overloaded`] or [`Code::ShutDown`].
    pub rejected: u64,
    /// Answered [`Code::DeadlineExceeded`].
    pub expired: u64,
    /// Answered [`Code::Cancelled`] (dropped futures, [`ShutdownMode::CancelQueued`]).
    pub cancelled: u64,
    /// Micro-batches taken by the workers.
    pub batches: u64,
    /// Requests waiting now.
    pub queue_depth: u64,
    /// The current model version (1, then +1 per [`Engine::swap`]).
    pub model_version: u64,
    /// Submission to being taken by a worker: median.
    pub queue_wait_p50: Duration,
    /// Submission to being taken by a worker: 99th percentile.
    pub queue_wait_p99: Duration,
    /// Computing one request: median.
    pub compute_p50: Duration,
    /// Computing one request: 99th percentile.
    pub compute_p99: Duration,
    /// Submission to the completion callback: median.
    pub latency_p50: Duration,
    /// Submission to the completion callback: 99th percentile.
    pub latency_p99: Duration,
    /// Submission to the completion callback: maximum.
    pub latency_max: Duration,
    /// Requests per micro-batch, on average.
    pub mean_batch_size: f64,
}

/// A pool of worker threads serving one model (swappable), each computing queued texts in
/// micro-batches from a bounded queue. `Send + Sync`: share it with an `Arc`, or by reference.
///
/// ```no_run
/// # async fn f() -> fastintent::Result<()> {
/// use fastintent::{Engine, EngineOptions, Model};
///
/// let model = Model::load("assistant.fim")?;
/// let engine = Engine::new(&model, &EngineOptions::default())?;
/// let answer = engine.predict("set an alarm for 7 am").await?;
/// if let Some(best) = answer.top() {
///     println!("{} {:.2}", best.name, best.prob);
/// }
/// # Ok(()) }
/// ```
///
/// Dropping the engine shuts it down as [`ShutdownMode::Drain`] (it waits until the queued
/// requests are computed); every [`Pending`] still held then resolves.
pub struct Engine {
    raw: NonNull<sys::fi_engine>,
}

// SAFETY: the header makes every fi_engine call safe from any thread concurrently.
unsafe impl Send for Engine {}
unsafe impl Sync for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: we own the handle; fi_engine_free drains, then frees.
        unsafe { sys::fi_engine_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("model_version", &self.model_version()).finish()
    }
}

impl Engine {
    /// Starts an engine serving `model`. The engine keeps its own reference to the model, so
    /// the `Model` may be dropped while the engine runs.
    pub fn new(model: &Model, options: &EngineOptions) -> Result<Engine> {
        let sat = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let o = sys::fi_engine_options {
            workers: i32::try_from(options.workers).unwrap_or(i32::MAX),
            max_batch: sat(options.max_batch),
            max_wait_us: u32::try_from(options.max_wait.as_micros()).unwrap_or(u32::MAX),
            queue_capacity: sat(options.queue_capacity),
        };
        let mut raw = ptr::null_mut();
        // SAFETY: a live model; raw is written only on success.
        unsafe { check(sys::fi_engine_create(model.as_ptr(), &o, &mut raw))? };
        Ok(Engine {
            raw: NonNull::new(raw).expect("fi_engine_create returned success without an engine"),
        })
    }

    /// Classifies `text` (the best label, with the calibrated threshold): submits it now and
    /// returns a future of the answer. Never blocks: a full queue resolves the future at once
    /// with [`Code::Overloaded`] (retry later), a shut-down engine with [`Code::ShutDown`], a
    /// text over [`MAX_TEXT_BYTES`](crate::MAX_TEXT_BYTES) with [`Code::InvalidArgument`]. An
    /// empty text, or one with nothing to classify, is answered [`Code::InvalidArgument`].
    ///
    /// The future is `'static` and `Send`: it may be awaited here or moved into a task. Dropping
    /// it before it resolved cancels the request.
    pub fn predict(&self, text: impl AsRef<[u8]>) -> Pending {
        self.submit(text.as_ref(), &RequestOptions::default())
    }

    /// As [`Engine::predict`], with the request's options (top-k, threshold, extra outputs,
    /// timeout).
    pub fn predict_with(&self, text: impl AsRef<[u8]>, options: &RequestOptions) -> Pending {
        self.submit(text.as_ref(), options)
    }

    /// Classifies `text` and routes it to components ([`Prediction::route`]), as
    /// [`Model::route`] with the calibrated threshold. [`Code::NotFound`] when the engine's
    /// model has no component registry.
    pub fn route(&self, text: impl AsRef<[u8]>) -> Pending {
        self.submit(text.as_ref(), &RequestOptions { route: true, ..RequestOptions::default() })
    }

    fn submit(&self, text: &[u8], options: &RequestOptions) -> Pending {
        match self.try_submit(text, options) {
            Ok(pending) => pending,
            Err(e) => Pending { state: State::Failed(Some(e)) },
        }
    }

    fn try_submit(&self, text: &[u8], options: &RequestOptions) -> Result<Pending> {
        let mut ro = sys::fi_request_options {
            k: k_arg(options.k.max(1)),
            threshold: threshold_arg(options.threshold)?,
            outputs: sys::FI_OUTPUT_LABELS,
            reserved: 0,
            timeout_us: 0,
            cancel: ptr::null_mut(),
        };
        if options.probabilities {
            ro.outputs |= sys::FI_OUTPUT_PROBABILITIES;
        }
        if options.route {
            ro.outputs |= sys::FI_OUTPUT_ROUTE;
        }
        if let Some(t) = options.timeout {
            // Rounded up, and at least 1 us: 0 would mean no timeout.
            ro.timeout_us = u64::try_from(t.as_nanos().div_ceil(1000)).unwrap_or(u64::MAX).max(1);
        }
        let token = CancelToken::take()?;
        ro.cancel = token.0.as_ptr();
        let (tx, rx) = oneshot::channel();
        let user_data = Box::into_raw(Box::new(tx));
        // SAFETY: the text and options are read during the call only. On success the callback
        // takes the boxed sender back exactly once; on refusal it is never called, and the box
        // is reclaimed here.
        let err = unsafe {
            sys::fi_engine_submit(
                self.raw.as_ptr(),
                text.as_ptr().cast(),
                text.len(),
                &ro,
                Some(on_done),
                user_data.cast::<c_void>(),
            )
        };
        if !err.is_null() {
            drop(unsafe { Box::from_raw(user_data) });
            return Err(unsafe { Error::from_raw(err) });
        }
        Ok(Pending { state: State::Waiting { rx, token } })
    }

    /// Replaces the engine's model atomically; returns the new model version (1 was the first
    /// model's). A batch in progress finishes on the old model, and each [`Prediction`] names
    /// labels from the model that computed it.
    pub fn swap(&self, model: &Model) -> Result<u64> {
        let mut version = 0u64;
        // SAFETY: live handles; version is written on success.
        unsafe { check(sys::fi_engine_swap(self.raw.as_ptr(), model.as_ptr(), &mut version))? };
        Ok(version)
    }

    /// The current model version (see [`Engine::swap`]).
    pub fn model_version(&self) -> u64 {
        // SAFETY: a live engine.
        unsafe { sys::fi_engine_model_version(self.raw.as_ptr()) }
    }

    /// Counters and latency percentiles since creation.
    pub fn stats(&self) -> Result<Stats> {
        let mut s = sys::fi_engine_stats::default();
        // SAFETY: a live engine; s is a plain struct.
        unsafe { check(sys::fi_engine_stats_get(self.raw.as_ptr(), &mut s))? };
        let ns = Duration::from_nanos;
        Ok(Stats {
            submitted: s.submitted,
            completed: s.completed,
            failed: s.failed,
            rejected: s.rejected,
            expired: s.expired,
            cancelled: s.cancelled,
            batches: s.batches,
            queue_depth: s.queue_depth,
            model_version: s.model_version,
            queue_wait_p50: ns(s.queue_wait_p50_ns),
            queue_wait_p99: ns(s.queue_wait_p99_ns),
            compute_p50: ns(s.compute_p50_ns),
            compute_p99: ns(s.compute_p99_ns),
            latency_p50: ns(s.latency_p50_ns),
            latency_p99: ns(s.latency_p99_ns),
            latency_max: ns(s.latency_max_ns),
            mean_batch_size: s.mean_batch_size,
        })
    }

    /// Stops taking requests (later ones resolve [`Code::ShutDown`]), answers the queued ones
    /// as `mode` says, and returns once every completion has been delivered and the workers
    /// have stopped. Idempotent. This call blocks the calling thread while the queue drains
    /// (with [`ShutdownMode::CancelQueued`], only for the batches in progress).
    pub fn shutdown(&self, mode: ShutdownMode) -> Result<()> {
        let mode = match mode {
            ShutdownMode::Drain => sys::FI_SHUTDOWN_DRAIN,
            ShutdownMode::CancelQueued => sys::FI_SHUTDOWN_CANCEL_QUEUED,
        };
        // SAFETY: a live engine; never called from our completion callback.
        unsafe { check(sys::fi_engine_shutdown(self.raw.as_ptr(), mode)) }
    }
}

type Sender = oneshot::Sender<Result<Prediction>>;

/// The completion callback: hands the answer to the awaiting future. Runs on an engine worker
/// thread; never blocks (a oneshot send is a store and a wake-up).
unsafe extern "C" fn on_done(
    user_data: *mut c_void,
    result: *mut sys::fi_result,
    error: *mut sys::fi_error,
) {
    // SAFETY: user_data is the Box<Sender> try_submit leaked, and this is its only callback.
    let tx = Box::from_raw(user_data.cast::<Sender>());
    let answer = if !error.is_null() {
        Err(Error::from_raw(error))
    } else {
        match NonNull::new(result) {
            Some(raw) => Ok(Prediction { raw }),
            None => Err(Error::new(Code::Internal, "engine callback without result or error")),
        }
    };
    // Fails only when the future was dropped: the answer is then dropped (freed) here.
    let _ = tx.send(answer);
}

/// A C cancel token, owned.
struct CancelToken(NonNull<sys::fi_cancel_token>);

// SAFETY: fi_cancel_token calls are safe from any thread.
unsafe impl Send for CancelToken {}
unsafe impl Sync for CancelToken {}

thread_local! {
    /// Tokens of requests that were answered without being cancelled, for reuse by this thread.
    static SPARE_TOKENS: RefCell<Vec<CancelToken>> = const { RefCell::new(Vec::new()) };
}

/// Spare tokens kept per thread (enough for a burst of submissions).
const MAX_SPARE_TOKENS: usize = 1024;

impl CancelToken {
    /// A token that was never cancelled: a spare one, or a new one. Reusing the token of an
    /// answered request is safe: cancelling only affects requests no worker has reached, and
    /// that request was already answered.
    fn take() -> Result<CancelToken> {
        match SPARE_TOKENS.try_with(|s| s.borrow_mut().pop()) {
            Ok(Some(token)) => Ok(token),
            _ => CancelToken::new(),
        }
    }

    /// Keeps a token whose request was answered (and which was never cancelled) for reuse.
    fn recycle(self) {
        let _ = SPARE_TOKENS.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < MAX_SPARE_TOKENS {
                s.push(self);
            }
        });
    }

    fn new() -> Result<CancelToken> {
        let mut raw = ptr::null_mut();
        // SAFETY: raw is written on success.
        unsafe { check(sys::fi_cancel_token_create(&mut raw))? };
        Ok(CancelToken(
            NonNull::new(raw).expect("fi_cancel_token_create returned success without a token"),
        ))
    }

    fn cancel(&self) {
        // SAFETY: a live token; idempotent.
        unsafe { sys::fi_cancel_token_cancel(self.0.as_ptr()) }
    }
}

impl Drop for CancelToken {
    fn drop(&mut self) {
        // SAFETY: we own it; requests keep their own reference.
        unsafe { sys::fi_cancel_token_free(self.0.as_ptr()) }
    }
}

enum State {
    Waiting { rx: oneshot::Receiver<Result<Prediction>>, token: CancelToken },
    Failed(Option<Error>),
    Done,
}

/// The answer to one submitted request, as a future ([`Engine::predict`]). `Send`, `'static`.
///
/// Dropping it before it resolved cancels the request through its C cancel token.
#[must_use = "a request is cancelled when its future is dropped"]
pub struct Pending {
    state: State,
}

impl Future for Pending {
    type Output = Result<Prediction>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let answer = match &mut this.state {
            State::Waiting { rx, .. } => match Pin::new(rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(answer)) => {
                    if let State::Waiting { token, .. } =
                        std::mem::replace(&mut this.state, State::Done)
                    {
                        token.recycle();
                    }
                    return Poll::Ready(answer);
                }
                // The sender is dropped unsent only if the library broke its promise to call
                // back exactly once.
                Poll::Ready(Err(_)) => {
                    Err(Error::new(Code::Internal, "request dropped without an answer"))
                }
            },
            State::Failed(e) => Err(e
                .take()
                .unwrap_or_else(|| Error::new(Code::Internal, "future polled after completion"))),
            State::Done => panic!("fastintent::Pending polled after completion"),
        };
        this.state = State::Done;
        Poll::Ready(answer)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let State::Waiting { token, .. } = &self.state {
            token.cancel();
        }
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Waiting { .. } => "waiting",
            State::Failed(_) => "refused",
            State::Done => "done",
        };
        f.debug_struct("Pending").field("state", &state).finish()
    }
}

/// An engine's answer to one request. Immutable; it keeps the model that computed it alive,
/// so its label names stay valid after a swap.
pub struct Prediction {
    raw: NonNull<sys::fi_result>,
}

// SAFETY: fi_result is immutable: read it from any thread, free it once (in Drop).
unsafe impl Send for Prediction {}
unsafe impl Sync for Prediction {}

impl Drop for Prediction {
    fn drop(&mut self) {
        // SAFETY: we own it.
        unsafe { sys::fi_result_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prediction")
            .field("labels", &self.labels())
            .field("model_version", &self.model_version())
            .finish()
    }
}

impl Prediction {
    fn scores(&self) -> &[sys::fi_label_score] {
        let mut p = ptr::null();
        // SAFETY: the labels live in the result, as long as self.
        let n = unsafe { sys::fi_result_labels(self.raw.as_ptr(), &mut p) };
        if n == 0 || p.is_null() {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(p, n) }
        }
    }

    fn label(&self, s: sys::fi_label_score) -> Label<'_> {
        let mut len = 0;
        // SAFETY: the name is owned by the result's model, kept alive by the result.
        let name =
            unsafe { bytes(sys::fi_result_label_name(self.raw.as_ptr(), s.label, &mut len), len) };
        Label { name: String::from_utf8_lossy(name), index: s.label, prob: s.prob }
    }

    /// The reported labels, best first; empty when the model rejected the text.
    pub fn labels(&self) -> Vec<Label<'_>> {
        self.scores().iter().map(|&s| self.label(s)).collect()
    }

    /// The best reported label; `None` when the model rejected the text.
    pub fn top(&self) -> Option<Label<'_>> {
        self.scores().first().map(|&s| self.label(s))
    }

    /// Every label's probability, by label index ([`RequestOptions::probabilities`] or
    /// `route`; otherwise empty).
    pub fn probabilities(&self) -> &[f32] {
        let mut p = ptr::null();
        // SAFETY: the probabilities live in the result.
        let n = unsafe { sys::fi_result_probabilities(self.raw.as_ptr(), &mut p) };
        if n == 0 || p.is_null() {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(p, n) }
        }
    }

    /// The routed components ([`RequestOptions::route`] or [`Engine::route`]; otherwise an
    /// empty route).
    pub fn route(&self) -> Route {
        let mut p = ptr::null();
        let mut total = 0;
        // SAFETY: the components and their names live in the result.
        unsafe {
            let n = sys::fi_result_components(self.raw.as_ptr(), &mut p, &mut total);
            Route::from_raw(p, n, total)
        }
    }

    /// The engine's model version that computed this answer.
    pub fn model_version(&self) -> u64 {
        // SAFETY: a live result.
        unsafe { sys::fi_result_model_version(self.raw.as_ptr()) }
    }

    /// Time spent queued, and computing.
    pub fn timings(&self) -> (Duration, Duration) {
        let (mut q, mut c) = (0u64, 0u64);
        // SAFETY: a live result.
        unsafe { sys::fi_result_timings(self.raw.as_ptr(), &mut q, &mut c) };
        (Duration::from_nanos(q), Duration::from_nanos(c))
    }
}
