/* fastintent.h: the stable C API of fastintent (C99; also valid C++).
 *
 * This is the only header a C, Python (cffi) or Rust program needs to classify (training: the
 * separate fastintent_train.h and libfastintent_train.so). It is a thin layer over the
 * C++ library (include/fastintent/{model,model_io,engine}.h), compiled into libfastintent.so /
 * libfastintent.a. Documentation with an example per function: docs/c-api.md.
 *
 * ---------------------------------------------------------------------------------------------
 * CONVENTIONS (they hold for every function below unless its comment says otherwise)
 *
 * Handles. fi_model, fi_engine, fi_result, fi_error and fi_cancel_token are opaque: only
 *   pointers to them exist outside the library. Each is created by one function and released
 *   by its fi_*_free function (fi_cancel_token_free, ...).
 *
 * Strings in. Text is passed as (pointer, length in bytes), UTF-8, not NUL-terminated and
 *   possibly containing NUL bytes. A NULL pointer with length 0 is the empty string; a NULL
 *   pointer with a non-zero length is FI_INVALID_ARGUMENT. Bytes that are not valid UTF-8 are
 *   replaced by U+FFFD when a text is featurised (exactly as the C++ API does): a malformed
 *   text is classified, never refused, and never read past its length. Paths are bytes (as the
 *   OS takes them) and must not contain NUL.
 *
 * Strings out. Strings the library returns (labels, messages, metadata) are owned by the
 *   handle they come from and stay valid until that handle is freed. They are NUL-terminated,
 *   and where a `size_t* len` out-parameter is offered (non-NULL) it receives their length.
 *   Label names are the bytes stored in the model (UTF-8 when the model was trained by
 *   fastintent).
 *
 * Errors. Every call that can fail for a reason other than a NULL handle returns an fi_error*:
 *   NULL on success; otherwise an error object with a code (fi_code, below) and a message that
 *   names the input at fault, which the caller owns and releases with fi_error_free. On
 *   failure the call leaves its out-parameters untouched, with one stated exception: calls
 *   that fill a caller-provided buffer report FI_BUFFER_TOO_SMALL and then write the size
 *   needed to their count out-parameter (`*out_count`), so the caller can size the buffer and
 *   call again. Cheap accessors that can only fail on a NULL handle or an index out of range
 *   (fi_model_label, fi_result_labels, ...) return a value instead and document their answer
 *   for those cases (NULL, 0 or -1). Running out of memory is reported as FI_OUT_OF_MEMORY,
 *   whatever the call. No C++ exception ever crosses this API, and the library never calls
 *   exit() or abort().
 *
 * Ownership. An fi_* function that returns a handle through an `fi_xxx** out` parameter gives
 *   the caller ownership of it. Every fi_*_free function accepts NULL (and does nothing).
 *   Handles are independent: they may be freed in any order. An engine and every result keep
 *   what they need of a model alive themselves, so a model may be freed while an engine built
 *   on it, or a result it computed, is still in use. Buffers passed in (texts, model bytes,
 *   options) are only read during the call, never retained.
 *
 * Threads. fi_model is immutable: every fi_model_* call may be made from any number of
 *   threads at once on the same model, with no session for the caller to manage (see
 *   "Sessions" below). fi_engine calls are safe from any thread concurrently; completion
 *   callbacks run on the engine's worker threads. fi_result and fi_error objects are
 *   immutable too: read them from any thread, free each once. fi_cancel_token calls are safe
 *   from any thread. Version and name functions are pure.
 *
 * Sessions. A prediction needs per-thread scratch memory (the C++ fastintent::Session). This
 *   API has no session handle: each thread that calls fi_model_classify (or another
 *   fi_model_* inference call) keeps a small cache of sessions, one per model it used
 *   recently (at most 4; sessions of freed models are released on that thread's next call,
 *   all of them when the thread exits). So the hot path takes no lock and, once warm, does
 *   not allocate, exactly like the C++ API with one Session per thread, and callers (and
 *   bindings such as Python's and Rust's, whose callers move between threads) need no
 *   thread-affinity rules. The cost is ~1-2 MB of scratch per (thread, model) pair in use.
 *   This also avoids the `_with_state` twin of every call that a late session handle forced
 *   on other C APIs: the asynchronous engine (fi_engine) owns its workers' sessions.
 *
 * ABI and versions. FI_API_VERSION_MAJOR/MINOR below are the version of this header;
 *   fi_api_version() is the version of the library loaded at run time. A program built
 *   against header version (M, m) runs with any library of the same major M and a minor
 *   >= m (FI_API_VERSION_COMPATIBLE). Within a major version, functions and enum values are
 *   only added (a minor bump), never changed or removed, and the layout of every struct
 *   below is frozen; anything else is a new major version, which changes the shared
 *   library's SONAME (libfastintent.so.MAJOR). The set of exported symbols is pinned by a
 *   test (src/capi/exported_symbols.txt).
 * ---------------------------------------------------------------------------------------------
 */
#ifndef FASTINTENT_FASTINTENT_H_
#define FASTINTENT_FASTINTENT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(FI_BUILDING_LIBRARY) && defined(__GNUC__)
#define FI_EXPORT __attribute__((visibility("default")))
#else
#define FI_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ============================== Version ============================== */

#define FI_API_VERSION_MAJOR 1
#define FI_API_VERSION_MINOR 0
/* The header's version as one number: (major << 16) | minor. */
#define FI_API_VERSION ((FI_API_VERSION_MAJOR << 16) | FI_API_VERSION_MINOR)
/* Whether a library reporting fi_api_version() == v can serve a program built with this
 * header: same major, minor at least this header's. */
#define FI_API_VERSION_COMPATIBLE(v) \
  ((long)((v) >> 16) == FI_API_VERSION_MAJOR && (long)((v)&0xFFFF) >= FI_API_VERSION_MINOR)

/* The loaded library's API version, (major << 16) | minor. */
FI_EXPORT uint32_t fi_api_version(void);
/* The loaded library's version for humans, e.g. "fastintent 0.1.0 (C API 1.0)". Static. */
FI_EXPORT const char* fi_version_string(void);

/* ============================== Errors ============================== */

/* Error codes (fi_error_code). The values 1-9 are those of the C++ fastintent::StatusCode. */
enum fi_code {
  FI_OK = 0,
  FI_INVALID_ARGUMENT = 1,  /* bad input: NULL where a value is needed, k < 1, a threshold
                               outside [0, 1], a text over FI_MAX_TEXT_BYTES, an empty text or
                               one with no known word or character (nothing to classify) */
  FI_NOT_FOUND = 2,         /* a missing file; routing with a model that has no components */
  FI_DATA_LOSS = 3,         /* corrupt or truncated model bytes, checksum mismatch */
  FI_UNIMPLEMENTED = 4,     /* a model format version this library does not know */
  FI_IO_ERROR = 5,          /* the OS refused a read or write */
  FI_OVERLOADED = 6,        /* the engine's queue is full: retry later */
  FI_DEADLINE_EXCEEDED = 7, /* the request's timeout passed before it was computed */
  FI_CANCELLED = 8,         /* cancelled through its token, or by FI_SHUTDOWN_CANCEL_QUEUED */
  FI_INTERNAL = 9,          /* a bug in the library: please report it */
  FI_BUFFER_TOO_SMALL = 10, /* a caller buffer is too small: *out_count says what is needed */
  FI_SHUT_DOWN = 11,        /* the engine was shut down: it takes no more requests */
  FI_OUT_OF_MEMORY = 12     /* an allocation failed */
};

typedef struct fi_error fi_error;

/* The code of `error` (an fi_code); FI_OK for NULL. */
FI_EXPORT int32_t fi_error_code(const fi_error* error);
/* The message of `error` ("model.fim: checksum mismatch in section 'weights'"), owned by the
 * error; "" for NULL. */
FI_EXPORT const char* fi_error_message(const fi_error* error);
/* A static lower-case name for `code` ("invalid argument", "buffer too small", ...);
 * "unknown" for values not in fi_code. */
FI_EXPORT const char* fi_code_name(int32_t code);
FI_EXPORT void fi_error_free(fi_error* error);
/* A new error with `code` and the message (message, len) (NULL, 0 is ""), released with
 * fi_error_free like any other. For libraries layered on this one (libfastintent_train,
 * fastintent_train.h) and wrappers that report their own failures through the same type. When
 * even this allocation fails, the static FI_OUT_OF_MEMORY error (freeing it does nothing). */
FI_EXPORT fi_error* fi_error_create(int32_t code, const char* message, size_t len);

/* ============================== Models ============================== */

/* A loaded model: immutable, shared by any number of threads (see CONVENTIONS). It holds the
 * classifier, its labels and calibrated threshold, the file's metadata, and the component
 * registry embedded by `fastintent train --components` when the metadata has one. */
typedef struct fi_model fi_model;

/* The longest text (bytes) a model classifies: longer ones are FI_INVALID_ARGUMENT. */
#define FI_MAX_TEXT_BYTES 1048576

/* Output kinds (fi_model_kind). */
enum fi_model_kind {
  FI_KIND_SOFTMAX = 0, /* single-label: probabilities sum to 1; the best label wins */
  FI_KIND_SIGMOID = 1  /* multi-label: an independent probability per label */
};

/* Weight precisions (fi_model_precision). */
enum fi_precision { FI_PRECISION_FLOAT32 = 0, FI_PRECISION_INT8 = 1 };

/* Loads and fully verifies a model file (magic, version, every section's checksum, shapes).
 * Errors name the file: FI_NOT_FOUND, FI_IO_ERROR, FI_DATA_LOSS (corrupt, truncated),
 * FI_UNIMPLEMENTED (a newer format). Thread-safe. */
FI_EXPORT fi_error* fi_model_load(const char* path, size_t path_len, fi_model** out);

/* The same from `size` bytes holding a model file (e.g. embedded in the program); the bytes
 * are copied out, not retained. `name` (may be NULL, 0) is what error messages call the
 * buffer. Thread-safe. */
FI_EXPORT fi_error* fi_model_load_from_buffer(const void* data, size_t size, const char* name,
                                              size_t name_len, fi_model** out);

FI_EXPORT void fi_model_free(fi_model* model);

/* Number of labels; 0 for NULL. */
FI_EXPORT size_t fi_model_label_count(const fi_model* model);
/* The name of label `index` (owned by the model), its length in *len when len is non-NULL;
 * NULL when model is NULL or index >= fi_model_label_count. */
FI_EXPORT const char* fi_model_label(const fi_model* model, size_t index, size_t* len);
/* The index of the label called (name, len), or -1 when there is none. */
FI_EXPORT int64_t fi_model_label_index(const fi_model* model, const char* name, size_t len);
/* FI_KIND_SOFTMAX or FI_KIND_SIGMOID; -1 for NULL. */
FI_EXPORT int32_t fi_model_kind(const fi_model* model);
/* FI_PRECISION_FLOAT32 or FI_PRECISION_INT8; -1 for NULL. */
FI_EXPORT int32_t fi_model_precision(const fi_model* model);
/* The calibrated threshold (what a negative `threshold` argument means); -1 for NULL.
 * Softmax: the top label is rejected below it; sigmoid: labels at or above it are reported. */
FI_EXPORT float fi_model_threshold(const fi_model* model);
/* The label meaning "out of scope" in the training data ("" when none; NULL for NULL). */
FI_EXPORT const char* fi_model_oos_label(const fi_model* model, size_t* len);
/* The model file's metadata: a JSON object as text ("" when the file has none; NULL for
 * NULL). It holds how the model was trained and the component registry, if any. */
FI_EXPORT const char* fi_model_metadata(const fi_model* model, size_t* len);
/* Input dimension of the network: featurize's indices are below it. 0 for NULL. */
FI_EXPORT size_t fi_model_feature_count(const fi_model* model);
/* Components in the model's registry (0 when it has none, so fi_model_route would fail). */
FI_EXPORT size_t fi_model_component_count(const fi_model* model);

/* ============================== Blocking inference ============================== */
/* Every call here is thread-safe on a shared model and computes on the calling thread. */

/* One reported label: an index into the model's labels and its probability. */
typedef struct fi_label_score {
  uint32_t label;
  float prob;
} fi_label_score;

/* Classifies one text: the best labels, best first, into out[0 .. *out_count).
 *   k >= 1: how many labels to report at most. threshold: < 0 means the model's calibrated
 *   one; otherwise in [0, 1]. Softmax models report the top k labels, or none when the top
 *   probability is below the threshold (rejection: success with *out_count = 0); sigmoid
 *   models report up to k labels whose probability is >= threshold.
 *   A buffer of k entries always suffices; with fewer (out_cap < the labels to report) the
 *   call fails with FI_BUFFER_TOO_SMALL and *out_count = the entries needed (out may be NULL
 *   when out_cap is 0).
 * Fails with FI_INVALID_ARGUMENT for an empty text, one with no known word or character, one
 * over FI_MAX_TEXT_BYTES, k < 1 or a threshold above 1 or NaN. */
FI_EXPORT fi_error* fi_model_classify(const fi_model* model, const char* text, size_t text_len,
                                      int32_t k, float threshold, fi_label_score* out,
                                      size_t out_cap, size_t* out_count);

/* The probability of every label for one text into out[0 .. fi_model_label_count): softmax
 * probabilities sum to 1, sigmoid ones are independent. FI_BUFFER_TOO_SMALL (with
 * *out_count = the label count) when out_cap is smaller. Errors as fi_model_classify. */
FI_EXPORT fi_error* fi_model_probabilities(const fi_model* model, const char* text, size_t text_len,
                                           float* out, size_t out_cap, size_t* out_count);

/* Batches. `count` texts are given as one buffer and count + 1 offsets (as Apache Arrow lays
 * out strings): text i is data[offsets[i] .. offsets[i + 1]); offsets must not decrease.
 * A text that cannot be classified does not fail the batch: its code (an fi_code) goes to
 * codes[i] and its outputs are empty (zeros). When `codes` is NULL the batch is all or
 * nothing instead: the first such text fails the call with its error (naming the index), and
 * the rows before it may have been written (the one exception to "out-parameters untouched").
 * The texts are computed in order on the calling thread. */

/* Classifies `count` texts at once. Text i's labels go to out[i * k .. i * k + label_counts[i])
 * (a fixed stride of k entries, so out holds count * k entries: *out_count is set to count * k
 * on success, and FI_BUFFER_TOO_SMALL reports that size when out_cap is less). `label_counts`
 * (count entries) is required. k and threshold as fi_model_classify. */
FI_EXPORT fi_error* fi_model_classify_batch(const fi_model* model, const char* data,
                                            const size_t* offsets, size_t count, int32_t k,
                                            float threshold, fi_label_score* out, size_t out_cap,
                                            size_t* out_count, uint32_t* label_counts,
                                            int32_t* codes);

/* Every label's probability for `count` texts: row i (fi_model_label_count floats) at
 * out[i * labels]; *out_count = count * labels (and FI_BUFFER_TOO_SMALL reports it). The row
 * of a text that cannot be classified is all zeros. */
FI_EXPORT fi_error* fi_model_probabilities_batch(const fi_model* model, const char* data,
                                                 const size_t* offsets, size_t count, float* out,
                                                 size_t out_cap, size_t* out_count, int32_t* codes);

/* ------------------------------ Routing ------------------------------ */

/* Load priorities of components, most urgent first (the registry's "CORE".."LOW"). */
enum fi_priority {
  FI_PRIORITY_CORE = 0,
  FI_PRIORITY_HIGH = 1,
  FI_PRIORITY_MEDIUM = 2,
  FI_PRIORITY_LOW = 3
};

/* One assistant component a command needs. `name` is owned by the model (or, for an engine
 * result, by the result). */
typedef struct fi_routed_component {
  const char* name; /* NUL-terminated */
  size_t name_len;
  uint32_t component; /* its index in the model's registry (< fi_model_component_count) */
  int32_t priority;   /* an fi_priority */
  float confidence;   /* the model's probability for it (a dependency: its own) */
  int32_t memory_mb;
  int32_t load_ms;
  int32_t dependency; /* 1 when it was added because a routed component depends on it */
} fi_routed_component;

/* Routes one text to the components it needs, like `fastintent route`: the labels the model
 * reports (softmax: the best one if at or above the threshold; sigmoid: every one at or above
 * it) that name components, plus their dependencies, ordered by priority (CORE first), then
 * confidence. `threshold` < 0: the model's calibrated one. *total_memory_mb (may be NULL)
 * receives the sum of the routed components' memory. out and out_cap as fi_model_classify
 * (the number needed is at most fi_model_component_count). FI_NOT_FOUND when the model has no
 * component registry; otherwise the errors of fi_model_classify. No component needed is a
 * success with *out_count = 0. */
FI_EXPORT fi_error* fi_model_route(const fi_model* model, const char* text, size_t text_len,
                                   float threshold, fi_routed_component* out, size_t out_cap,
                                   size_t* out_count, int32_t* total_memory_mb);

/* ------------------------------ Features, quantisation, saving ------------------------------ */

/* The model's sparse input for a text: (index, weight) pairs, index < fi_model_feature_count,
 * in the order docs/model-format.md ("Feature weights") specifies. This is the input an
 * exported model (ONNX, Core ML) takes where this library does the text part. Unknown words
 * are dropped, so an empty or all-unknown text succeeds with *out_count = 0. `indices` and
 * `weights` hold `cap` entries each; FI_BUFFER_TOO_SMALL reports the pairs needed.
 * FI_INVALID_ARGUMENT for a text over FI_MAX_TEXT_BYTES. */
FI_EXPORT fi_error* fi_model_featurize(const fi_model* model, const char* text, size_t text_len,
                                       uint32_t* indices, float* weights, size_t cap,
                                       size_t* out_count);

/* A new model with int8 weights (every matrix row quantised symmetrically; ~4x smaller, same
 * accuracy to ~0.1 point); labels, threshold, metadata and components are kept. An int8
 * model is copied as it is. */
FI_EXPORT fi_error* fi_model_quantize(const fi_model* model, fi_model** out);

/* Writes the model (with its metadata) to `path` atomically (a temporary file renamed). */
FI_EXPORT fi_error* fi_model_save(const fi_model* model, const char* path, size_t path_len);

/* The model file's bytes (what fi_model_save writes, what fi_model_load_from_buffer reads)
 * into out[0 .. *out_size); FI_BUFFER_TOO_SMALL reports the size needed (out may be NULL
 * when out_cap is 0; asking first serialises twice). */
FI_EXPORT fi_error* fi_model_serialize(const fi_model* model, void* out, size_t out_cap,
                                       size_t* out_size);

/* ============================== Asynchronous engine ============================== */
/* An fi_engine is a pool of worker threads, each with its own session, that computes
 * submitted texts in micro-batches from a bounded queue and hands each result to a
 * completion callback. Submitting never blocks on computation: a full queue is refused at
 * once (FI_OVERLOADED), so memory stays bounded. This is the base of the asyncio (Python) and
 * Tokio (Rust) bindings: their callback completes a future (loop.call_soon_threadsafe, a
 * oneshot sender), so no thread of theirs waits. */

typedef struct fi_engine fi_engine;
typedef struct fi_result fi_result;
typedef struct fi_cancel_token fi_cancel_token;

typedef struct fi_engine_options {
  int32_t workers;         /* worker threads (default 2); values below 1 are taken as 1 */
  uint32_t max_batch;      /* most requests a worker takes at once (default 64; min 1) */
  uint32_t max_wait_us;    /* how long a worker holding < max_batch waits for more (default 0) */
  uint32_t queue_capacity; /* queued requests beyond this are refused FI_OVERLOADED
                              (default 65536; min 1) */
} fi_engine_options;

/* Fills *options with the defaults above. */
FI_EXPORT void fi_engine_options_init(fi_engine_options* options);

/* Outputs a request asks for (fi_request_options.outputs, OR-ed). Labels always come. */
enum fi_output {
  FI_OUTPUT_LABELS = 1,        /* top-k labels (fi_result_labels) */
  FI_OUTPUT_PROBABILITIES = 2, /* every label's probability (fi_result_probabilities) */
  FI_OUTPUT_ROUTE = 4          /* the routed components (fi_result_components); the model
                                  must have a component registry */
};

typedef struct fi_request_options {
  int32_t k;               /* labels to report, >= 1 (default 1) */
  float threshold;         /* < 0: the model's calibrated one (default -1); else in [0, 1] */
  uint32_t outputs;        /* fi_output flags (default FI_OUTPUT_LABELS) */
  uint32_t reserved;       /* must be 0 */
  uint64_t timeout_us;     /* answered FI_DEADLINE_EXCEEDED when not computed within this
                              many microseconds of submission; 0 = no timeout (default) */
  fi_cancel_token* cancel; /* optional (default NULL): cancels the request while queued */
} fi_request_options;

/* Fills *options with the defaults above. */
FI_EXPORT void fi_request_options_init(fi_request_options* options);

/* Called exactly once per accepted request (fi_engine_submit returned NULL), on an engine
 * worker thread, possibly before fi_engine_submit has returned. Exactly one of `result` and
 * `error` is non-NULL, and the callback owns it: free it with fi_result_free /
 * fi_error_free, now or later, on any thread. Errors: FI_INVALID_ARGUMENT (nothing to
 * classify in the text), FI_DEADLINE_EXCEEDED, FI_CANCELLED, FI_NOT_FOUND (route asked of a
 * model swapped in without components), FI_OUT_OF_MEMORY, FI_INTERNAL.
 * The callback must not block for long (it holds up a worker) and must not call
 * fi_engine_shutdown on its own engine (that is refused); it may submit more requests, and
 * may call fi_engine_free on its own engine (the engine is then freed once this callback
 * returns, on a thread of the library's). */
typedef void (*fi_completion_fn)(void* user_data, fi_result* result, fi_error* error);

/* Starts an engine serving `model` (the engine keeps its own reference). options may be NULL
 * (defaults). */
FI_EXPORT fi_error* fi_engine_create(const fi_model* model, const fi_engine_options* options,
                                     fi_engine** out);

/* Queues one text (copied) and returns at once. NULL means accepted: `done(user_data, ...)`
 * will be called exactly once. An error means refused, and then `done` is never called:
 * FI_OVERLOADED (queue full: retry later), FI_SHUT_DOWN, FI_INVALID_ARGUMENT (NULL done,
 * bad options, a text over FI_MAX_TEXT_BYTES), FI_NOT_FOUND (FI_OUTPUT_ROUTE with a model
 * that has no component registry), FI_DEADLINE_EXCEEDED (a timeout so short that it passed
 * before the request was queued). options may be NULL (defaults). Thread-safe. */
FI_EXPORT fi_error* fi_engine_submit(fi_engine* engine, const char* text, size_t text_len,
                                     const fi_request_options* options, fi_completion_fn done,
                                     void* user_data);

/* Replaces the engine's model atomically (the engine takes its own reference). A batch in
 * progress finishes on the model it started with, and each result reads labels from the
 * model that computed it. *new_version (may be NULL) receives the new model version (1 for
 * the engine's first model, +1 per swap). */
FI_EXPORT fi_error* fi_engine_swap(fi_engine* engine, const fi_model* model, uint64_t* new_version);

/* The current model version (see fi_engine_swap); 0 for NULL. */
FI_EXPORT uint64_t fi_engine_model_version(const fi_engine* engine);

/* Counters since creation, and latency percentiles (nanoseconds) of the requests computed. */
typedef struct fi_engine_stats {
  uint64_t submitted;   /* accepted or refused by a full queue / shut-down engine */
  uint64_t completed;   /* answered with a result */
  uint64_t failed;      /* answered FI_INVALID_ARGUMENT by the model */
  uint64_t rejected;    /* refused FI_OVERLOADED, or FI_SHUT_DOWN while shutting down (submits
                           after fi_engine_shutdown returned are refused uncounted) */
  uint64_t expired;     /* answered FI_DEADLINE_EXCEEDED */
  uint64_t cancelled;   /* answered FI_CANCELLED */
  uint64_t batches;     /* micro-batches taken by the workers */
  uint64_t queue_depth; /* requests waiting now */
  uint64_t model_version;
  uint64_t queue_wait_p50_ns, queue_wait_p99_ns; /* submit -> taken by a worker */
  uint64_t compute_p50_ns, compute_p99_ns;       /* per request */
  uint64_t latency_p50_ns, latency_p99_ns;       /* submit -> callback called */
  uint64_t latency_max_ns;
  double mean_batch_size;
} fi_engine_stats;

FI_EXPORT fi_error* fi_engine_stats_get(const fi_engine* engine, fi_engine_stats* out);

/* Shutdown modes. */
enum fi_shutdown_mode {
  FI_SHUTDOWN_DRAIN = 0,        /* compute every queued request, then stop */
  FI_SHUTDOWN_CANCEL_QUEUED = 1 /* answer queued requests FI_CANCELLED without computing */
};

/* Stops taking requests (later submits get FI_SHUT_DOWN), answers every queued request as
 * `mode` says, and returns when every callback has returned and the workers have stopped.
 * Idempotent (a second call returns at once). FI_INVALID_ARGUMENT when called from one of
 * this engine's own callbacks (it would wait for itself) or with an unknown mode. */
FI_EXPORT fi_error* fi_engine_shutdown(fi_engine* engine, int32_t mode);

/* fi_engine_shutdown(engine, FI_SHUTDOWN_DRAIN) if not done yet, then frees the engine. May
 * be called from one of its own callbacks (see fi_completion_fn). Results already handed out
 * stay valid. */
FI_EXPORT void fi_engine_free(fi_engine* engine);

/* ------------------------------ Results ------------------------------ */
/* What a completion callback receives. Immutable; keeps the model that computed it alive. */

FI_EXPORT void fi_result_free(fi_result* result);
/* The reported labels, best first (empty when rejected): *labels points into the result.
 * Returns their count (0 and *labels = NULL for a NULL result). labels may be NULL. */
FI_EXPORT size_t fi_result_labels(const fi_result* result, const fi_label_score** labels);
/* The name of label index `label` in the model that computed the result (after a swap it may
 * differ from the engine's current model); NULL when out of range. */
FI_EXPORT const char* fi_result_label_name(const fi_result* result, uint32_t label, size_t* len);
/* Every label's probability (FI_OUTPUT_PROBABILITIES; else 0 entries). Returns the count. */
FI_EXPORT size_t fi_result_probabilities(const fi_result* result, const float** probs);
/* The routed components (FI_OUTPUT_ROUTE; else 0 entries), names owned by the result;
 * *total_memory_mb (may be NULL) receives their memory sum. Returns the count. */
FI_EXPORT size_t fi_result_components(const fi_result* result,
                                      const fi_routed_component** components,
                                      int32_t* total_memory_mb);
/* The engine's model version that computed the result (0 for NULL). */
FI_EXPORT uint64_t fi_result_model_version(const fi_result* result);
/* Time spent queued and computing, in nanoseconds (either pointer may be NULL). */
FI_EXPORT void fi_result_timings(const fi_result* result, uint64_t* queue_ns, uint64_t* compute_ns);

/* ------------------------------ Cancellation ------------------------------ */
/* A flag shared by the caller and the requests it tags: cancelling makes every tagged request
 * that no worker has reached yet answer FI_CANCELLED without being computed (a request being
 * computed completes normally). Requests keep their own reference: the token may be freed
 * right after submitting. One token may tag any number of requests, on any engines. */

FI_EXPORT fi_error* fi_cancel_token_create(fi_cancel_token** out);
/* Idempotent; thread-safe. */
FI_EXPORT void fi_cancel_token_cancel(fi_cancel_token* token);
/* 1 when cancelled, 0 when not (or NULL). */
FI_EXPORT int32_t fi_cancel_token_is_cancelled(const fi_cancel_token* token);
FI_EXPORT void fi_cancel_token_free(fi_cancel_token* token);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTINTENT_FASTINTENT_H_ */
