/* fastintent_train.h: training through the C API (C99; also valid C++).
 *
 * These functions live in a second library, libfastintent_train.so.1 (link with
 * -lfastintent_train -lfastintent), so that programs that only classify never load the trainer
 * or its OpenMP runtime: libfastintent.so itself links neither. The library links
 * libfastintent.so, and a model it trains is an ordinary fi_model*, usable with every function
 * of fastintent.h (classify, quantize with fi_model_quantize, save with fi_model_save, serve
 * with an fi_engine) and released with fi_model_free.
 *
 * Every convention of fastintent.h holds here: strings in as (pointer, length) UTF-8, errors
 * as fi_error* (NULL on success; out-parameters untouched on failure), no C++ exception
 * crosses. Training is deterministic for a given seed and thread count. Calls are thread-safe
 * (each trains on its own data), and each uses `threads` OpenMP threads of its own.
 */
#ifndef FASTINTENT_FASTINTENT_TRAIN_H_
#define FASTINTENT_FASTINTENT_TRAIN_H_

#include "fastintent/fastintent.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called on the training thread after every epoch with the epoch (1-based), the epoch limit,
 * the mean training loss of that epoch and the accuracy on the validation split (multi-label:
 * exact match at 0.5). Returning non-zero cancels training: the call then fails with
 * FI_CANCELLED and produces no model. */
typedef int32_t (*fi_train_progress_fn)(uint32_t epoch, uint32_t max_epochs, double loss,
                                        double valid_accuracy, void* user_data);

/* The most hidden layers fi_train_params can describe. */
#define FI_TRAIN_MAX_HIDDEN 8

/* Training options. Always start from fi_train_default_params() and change the fields you
 * need: the defaults are those of `fastintent train`. */
typedef struct fi_train_params {
  uint32_t hidden[FI_TRAIN_MAX_HIDDEN]; /* hidden layer widths, first hidden_count used */
  uint32_t hidden_count;                /* 0 trains a linear model; default 1 layer of 256 */
  uint32_t max_epochs;                  /* default 30 */
  uint32_t patience;     /* epochs without validation improvement before stopping; 4 */
  uint32_t batch_size;   /* default 64 */
  float learning_rate;   /* AdamW, decaying linearly to 10% at max_epochs; 3e-3 */
  float dropout;         /* on every hidden activation; 0.3 */
  float valid_fraction;  /* carved from the training data (stratified) when no validation
                            data is given; 0.1 */
  uint64_t seed;         /* default 1 */
  uint32_t threads;      /* OpenMP threads; default 2 */
  int32_t quantize;      /* non-zero: return the int8 model (fi_model_quantize); default 0 */
  const char* oos_label; /* the label meaning "out of scope" (NULL: "oos") */
  size_t oos_label_len;
  fi_train_progress_fn progress; /* NULL: no progress reports */
  void* progress_user_data;      /* passed to progress */
} fi_train_params;

/* The default training options. */
FI_EXPORT fi_train_params fi_train_default_params(void);

/* Trains a model on the dataset file at `path` (JSON Lines, CSV or fastText format, as
 * `fastintent train` reads), early-stopping on the file at `valid_path` (NULL, 0: a split
 * carved from the training data), and returns it in *out. `params` NULL means the defaults.
 * Errors name the file and line at fault: FI_NOT_FOUND, FI_IO_ERROR, FI_INVALID_ARGUMENT (bad
 * rows, no examples, a validation label absent from the training data, bad params),
 * FI_CANCELLED (the progress callback asked). */
FI_EXPORT fi_error* fi_train_file(const char* path, size_t path_len, const char* valid_path,
                                  size_t valid_path_len, const fi_train_params* params,
                                  fi_model** out);

/* Trains a single-label model on in-memory examples: text i is
 * texts[text_offsets[i] .. text_offsets[i + 1]) for i < text_count, and its label
 * labels[label_offsets[i] .. label_offsets[i + 1]) (each offsets array has count + 1 entries,
 * non-decreasing), all UTF-8. text_count must equal label_count (two counts, so that a caller
 * whose arrays disagree gets an error instead of a misread). The validation split is carved
 * from the data (params->valid_fraction); `params` NULL means the defaults. Errors
 * (FI_INVALID_ARGUMENT, naming the example): no examples, counts that differ, NULL arrays,
 * decreasing offsets, an empty label, a text or label that is not valid UTF-8, a text over
 * FI_MAX_TEXT_BYTES, fewer than two distinct labels, bad params; FI_CANCELLED as above. */
FI_EXPORT fi_error* fi_train_arrays(const char* texts, const size_t* text_offsets,
                                    size_t text_count, const char* labels,
                                    const size_t* label_offsets, size_t label_count,
                                    const fi_train_params* params, fi_model** out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTINTENT_FASTINTENT_TRAIN_H_ */
